"""The note on residual connections, end to end: the loss, the gradients through both networks,
and the first layer's update, in every format."""

import json

from conftest import skipcalc

NOTE = ["backprop", "0.1", "0.1", "0.1", "--target", "10", "--pred", "8"]


def test_backprop_finishes_with_the_first_layers_update():
    value = skipcalc(*NOTE, "--lr", "0.1", "--weight", "0.5", "--input", "1", "--format", "value").ok
    assert value == "-0.004\t-5.324\t0.5004\t1.0324\n"
    data = json.loads(skipcalc(*NOTE, "--lr", "0.1", "--weight", "0.5", "--format", "json").ok)
    assert data["updates"]["plain"]["new_weight"] == "0.5004" and data["updates"]["residual"]["step"] == "0.5324"
    table = skipcalc(*NOTE, "--lr", "0.1", "--weight", "0.5").ok
    assert "0.5 - 0.1 * (-5.324) * 1 = 1.0324" in table.replace("\n", " ")


def test_the_latex_derivation_finishes():
    latex = skipcalc(*NOTE, "--lr", "0.1", "--weight", "0.5", "--latex").ok
    for piece in ("= 4", "= -4", "= -0.004", "1 + 0.3 + 0.03 + 0.001", "= -5.324", "= 0.5004", "= 1.0324"):
        assert piece in latex, piece
    assert latex.count("{") == latex.count("}") and latex.startswith("\\begin{aligned}")
    assert "1 + 0.3 + 0.03 + 0.001" in skipcalc("chain", "0.1", "0.1", "0.1", "--latex").ok
    update = skipcalc("update", "--weight", "0.5", "--lr", "0.1", "--grad", "-5.324", "--input", "1", "--latex").ok
    assert update == "w' = w - \\eta \\, g \\, x = 0.5 - 0.1 \\cdot \\left(-5.324\\right) \\cdot 1 = 1.0324\n"


def test_update_shows_its_arithmetic_and_a_negative_rate_ascends():
    text = skipcalc("update", "--weight", "0.5", "--lr", "0.1", "--grad", "-5.324", "--input", "1").ok
    assert "0.5 - 0.1 * (-5.324) * 1 = 1.0324" in text
    ascending = skipcalc("update", "--weight", "0.5", "--lr", "-0.1", "--grad", "-5.324", "--input", "1").ok
    assert "ascends the loss" in ascending


def test_lr_without_weight_is_refused_by_name():
    ran = skipcalc(*NOTE, "--lr", "0.1")
    assert ran.code == 2 and ran.err.startswith("skipcalc: error: --lr: ")
