"""The CLI, in-process through Typer's CliRunner: every format and every error path."""

import csv
import io
import json
from fractions import Fraction as F

import pytest

TENTHS = ["0.1", "0.1", "0.1"]


def ok(result):
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# --- chain -----------------------------------------------------------------


def test_chain_residual_value(cli):
    assert ok(cli("chain", *TENTHS, "--residual", "--format", "value")) == "1.331\n"


def test_chain_plain_value(cli):
    assert ok(cli("chain", *TENTHS, "--plain", "--format", "value")) == "0.001\n"


def test_chain_both_value_is_tab_separated(cli):
    assert ok(cli("chain", *TENTHS, "--format", "value")) == "0.001\t1.331\n"


def test_chain_dead_layers(cli):
    assert ok(cli("chain", "0", "0", "0", "--format", "value")) == "0\t1\n"


def test_chain_table_shows_both_side_by_side(cli):
    out = ok(cli("chain", *TENTHS))
    assert "0.001" in out and "1.331" in out and "1331" in out
    assert "\x1b[" not in out  # no escape codes when stdout is not a terminal
    layer_rows = [line for line in out.splitlines() if line.startswith("│ ")]
    assert len(layer_rows) == 3


def test_chain_table_residual_only(cli):
    out = ok(cli("chain", *TENTHS, "--residual"))
    assert "1.331" in out and "plain" not in out


def test_chain_json(cli):
    data = json.loads(ok(cli("chain", *TENTHS, "--format", "json")))
    assert data["command"] == "chain" and data["layers"] == 3
    assert data["plain"]["gradient"] == "0.001" and data["plain"]["float"] == 0.001
    assert data["residual"]["wrt"] == ["1.331", "1.21", "1.1", "1"]
    assert data["residual"]["gradient"] == data["residual"]["wrt"][0]
    assert data["plain"]["log10"] == pytest.approx(-3)
    assert data["ratio"] == "1331" and data["exact"] is True


def test_chain_json_absent_network(cli):
    data = json.loads(ok(cli("chain", *TENTHS, "--residual", "--format", "json")))
    assert "plain" not in data and "ratio" not in data


def test_chain_json_tiny_value_has_null_float(cli):
    data = json.loads(ok(cli("chain", *["0.1"] * 1000, "--plain", "--format", "json")))
    assert data["plain"]["gradient"] == "1e-1000"
    assert data["plain"]["float"] is None
    assert data["plain"]["log10"] == -1000
    assert F(data["plain"]["gradient"]) == F(1, 10**1000)


def test_chain_json_zero_has_null_log10(cli):
    data = json.loads(ok(cli("chain", "0", "--format", "json")))
    assert data["plain"]["float"] == 0 and data["plain"]["log10"] is None


def test_chain_json_rounded_value_is_flagged_and_parses(cli):
    data = json.loads(ok(cli("chain", *["1/3"] * 100, "--plain", "--format", "json")))
    assert data["exact"] is False
    value = F(data["plain"]["gradient"])
    assert abs(value - F(1, 3**100)) < F(1, 3**100) / 10**39


def test_chain_csv(cli):
    rows = list(csv.reader(io.StringIO(ok(cli("chain", *TENTHS, "--format", "csv")))))
    assert rows[0] == [
        "layer",
        "local",
        "plain_factor",
        "plain_gradient",
        "residual_factor",
        "residual_gradient",
    ]
    assert rows[1] == ["1", "0.1", "0.1", "0.001", "1.1", "1.331"]
    assert len(rows) == 4


def test_negative_numbers_need_no_double_dash(cli):
    assert ok(cli("chain", "-0.5", "0.1", "--plain", "--format", "value")) == "-0.05\n"
    assert ok(cli("chain", "-1e-3", "--plain", "--format", "value")) == "-0.001\n"
    assert ok(cli("chain", "--format", "value", "-1/3", "-1/3", "--plain")) == "1/9\n"


def test_stdin(cli):
    assert ok(cli("chain", "-", "--format", "value", input="0.1 0.1\n0.1\n")) == "0.001\t1.331\n"


def test_exact_flag(cli):
    out = ok(cli("chain", *["1/3"] * 100, "--plain", "--format", "value", "--exact"))
    assert out == f"1/{3**100}\n"


def test_table_marks_rounded_values(cli):
    out = ok(cli("chain", "1/3", "1/3", "1/3", "--plain", "--digits", "5"))
    assert "1/27" in out
    out = ok(cli("chain", *["1/3"] * 50, "--plain", "--digits", "5"))
    assert "≈1.393e-24" in out and "5 significant digits" in out


# --- backprop --------------------------------------------------------------


def test_backprop_seed(cli):
    assert ok(cli("backprop", *TENTHS, "--target", "10", "--pred", "8", "--format", "value")) == "-0.004\t-5.324\n"
    assert ok(cli("backprop", *TENTHS, "--loss-grad", "-2", "--format", "value")) == "-0.002\t-2.662\n"


def test_backprop_json(cli):
    data = json.loads(ok(cli("backprop", *TENTHS, "--target", "10", "--pred", "8", "--format", "json")))
    assert data["command"] == "backprop"
    assert (data["loss"], data["loss_gradient"], data["loss_kind"]) == ("4", "-4", "mse")
    assert data["plain"]["wrt"] == ["-0.004", "-0.04", "-0.4", "-4"]
    assert data["residual"]["gradient"] == "-5.324"


def test_backprop_with_other_loss(cli):
    out = ok(cli("backprop", "0.5", "--target", "10", "--pred", "8", "--kind", "mae", "--format", "value"))
    assert out == "-0.5\t-1.5\n"


def test_backprop_table(cli):
    out = ok(cli("backprop", *TENTHS, "--target", "10", "--pred", "8"))
    assert "-5.324" in out and "-0.004" in out and "loss (mse, T=10, P=8)" in out


# --- loss and update -------------------------------------------------------


def test_loss_value_and_json(cli):
    assert ok(cli("loss", "--target", "10", "--pred", "8", "--format", "value")) == "4\t-4\n"
    data = json.loads(ok(cli("loss", "--target", "10", "--pred", "8", "--format", "json")))
    keys = ("command", "kind", "target", "pred", "loss", "gradient", "float")
    assert [data[k] for k in keys] == ["loss", "mse", "10", "8", "4", "-4", -4.0]


def test_loss_table_explains_direction(cli):
    out = ok(cli("loss", "--target", "10", "--pred", "8"))
    assert "dL/dP = -2(T - P)" in out and "moves the prediction up" in out


@pytest.mark.parametrize(
    "kind, extra, expected",
    [
        ("mae", [], "2\t-1\n"),
        ("huber", [], "1.5\t-1\n"),
        ("huber", ["--delta", "5"], "2\t-2\n"),
    ],
)
def test_loss_kinds(cli, kind, extra, expected):
    assert ok(cli("loss", "--target", "10", "--pred", "8", "--kind", kind, *extra, "--format", "value")) == expected


def test_loss_bce_json_is_marked_rounded(cli):
    data = json.loads(ok(cli("loss", "--target", "1", "--pred", "0.9", "--kind", "bce", "--format", "json")))
    assert data["gradient"] == "-10/9" and data["exact"] is False
    assert data["loss"].startswith("0.10536051565782630122750098083931279830")


def test_loss_csv_one_row(cli):
    rows = list(csv.reader(io.StringIO(ok(cli("loss", "--target", "10", "--pred", "8", "--format", "csv")))))
    assert rows == [["kind", "target", "pred", "loss", "gradient"], ["mse", "10", "8", "4", "-4"]]


def test_mae_at_kink_says_which_subgradient(cli):
    out = ok(cli("loss", "--target", "3", "--pred", "3", "--kind", "mae"))
    assert "subgradient 0" in out


def test_update(cli):
    args = ["update", "--weight", "0.5", "--lr", "0.1", "--grad", "-5.324", "--input", "1"]
    assert ok(cli(*args, "--format", "value")) == "1.0324\n"
    data = json.loads(ok(cli(*args, "--format", "json")))
    assert [data[k] for k in ("command", "weight", "lr", "grad", "input", "new_weight", "step")] == [
        "update", "0.5", "0.1", "-5.324", "1", "1.0324", "0.5324",
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(ok(cli(*args, "--format", "csv")))))
    assert rows[0] == ["weight", "lr", "grad", "input", "new_weight", "step"] and rows[1][4] == "1.0324"
    assert "1.0324" in ok(cli(*args))


def test_version_and_help(cli):
    assert ok(cli("--version")).startswith("skipcalc ")
    for command in ("chain", "backprop", "loss", "update"):
        assert "Example: skipcalc " + command in ok(cli(command, "--help"))


# --- errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args, named",
    [
        (["chain", "0.1", "abc"], "D2"),
        (["chain", "nan"], "D1"),
        (["chain", "inf"], "D1"),
        (["chain", "1/0"], "D1"),
        (["chain", "0x1F"], "D1"),
        (["chain", ""], "D1"),
        (["chain"], "D"),
        (["chain", "1e999999999"], "D1"),
        (["chain", "--residul", "0.1"], "--residul"),
        (["chain", "0.1", "--format", "xml"], "--format"),
        (["chain", "0.1", "--digits", "0"], "--digits"),
        (["chain", "0.1", "--digits", "many"], "--digits"),
        (["backprop", "0.1"], "--target"),
        (["backprop", "0.1", "--target", "1"], "--target"),
        (["backprop", "0.1", "--loss-grad", "1", "--target", "1", "--pred", "2"], "--loss-grad"),
        (["backprop", "0.1", "--loss-grad", "x"], "--loss-grad"),
        (["loss", "--target", "1"], "--pred"),
        (["loss", "--target", "ten", "--pred", "1"], "--target"),
        (["loss", "--target", "1", "--pred", "1", "--kind", "log"], "--kind"),
        (["loss", "--target", "1", "--pred", "0", "--kind", "bce"], "--pred"),
        (["loss", "--target", "2", "--pred", "0.5", "--kind", "bce"], "--target"),
        (["loss", "--target", "1", "--pred", "0", "--kind", "huber", "--delta", "-1"], "--delta"),
        (["loss", "--target", "1", "--pred", "0", "--delta", "1"], "--delta"),
        (["update", "--weight", "1", "--lr", "0.1", "--grad", "1"], "--input"),
        (["update", "--weight", "1", "--lr", "0.1", "--grad", "1", "--input", "1e"], "--input"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, args, named):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skipcalc: error: ") and named in lines[0]
    assert "Traceback" not in result.stderr


def test_empty_stdin(cli):
    result = cli("chain", "-", input="")
    assert result.exit_code == 2 and "stdin" in result.stderr


def test_bad_stdin_number_names_its_position(cli):
    result = cli("chain", "-", input="0.1 0.1 zap")
    assert result.exit_code == 2 and "stdin number 3" in result.stderr
