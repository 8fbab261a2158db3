"""What the user sees: tables rendered at fixed widths against stored text (as Rich's own tests
do), and the machine formats read back by the programs that read them."""

import csv
import io
import json
import math
import os
import subprocess
from pathlib import Path

import pytest
from conftest import skipcalc

EXPECTED = Path(__file__).parent / "expected"

CASES = {
    "chain-3-50": (["chain", "0.1", "0.1", "0.1"], 50),
    "chain-3-80": (["chain", "0.1", "0.1", "0.1"], 80),
    "chain-3-120": (["chain", "0.1", "0.1", "0.1"], 120),
    "chain-60-80": (["chain", "0.37", "--layers", "60"], 80),
    "chain-60-50": (["chain", "0.37", "--layers", "60", "--plain"], 50),
    "depth-50": (["depth", "--local", "0.1", "--depths", "1,10,50,100", "--no-plot"], 50),
    "depth-80": (["depth", "--local", "0.5", "--max", "8"], 80),
    "paths-50": (["paths", "0.1", "0.2", "-0.3", "0.4", "0.5", "0.6", "--no-plot"], 50),
    "paths-110-80": (["paths", "--uniform", "0.1", "--layers", "110"], 80),
    "backprop-dtype-80": (["backprop", "0.1", "--layers", "8", "--loss-grad", "1", "--dtype", "float16"], 80),
    "blocks-80": (
        [
            "chain",
            "0.1",
            "--layers",
            "20",
            "--block",
            "plain",
            "--block",
            "residual",
            "--block",
            "scaled:0.5",
            "--block",
            "rezero:0.1",
        ],
        80,
    ),
    "formula-80": (["backprop", "--fn", "tanh(x)", "--fn", "sigmoid(x)", "--at", "0.5", "--target", "1"], 80),
    "stacked-40": (["chain", "0.1", "-0.2"], 40),
    "loss-50": (["loss", "--target", "1", "--pred", "0.9", "--kind", "bce"], 50),
    "init-80": (["init", "deepnorm", "--encoder-layers", "6", "--decoder-layers", "6"], 80),
    "meanfield-50": (["meanfield", "--act", "tanh", "--weight-var", "1.5", "--bias-var", "0.05", "--layers", "6"], 50),
    "meanfield-80": (["meanfield", "--act", "relu", "--weight-var", "1.5", "--bias-var", "0.1", "--layers", "30"], 80),
    "meanfield-120": (["meanfield", "--act", "erf", "--weight-var", "2", "--bias-var", "0.1", "--layers", "8"], 120),
    "critical-80": (["meanfield", "--act", "tanh", "--bias-var", "0:0.2:0.05", "--critical"], 80),
    "depth-map-80": (["depth", "--local", "0.5,0.9", "--depths", "1:3:1"], 80),
}


@pytest.mark.parametrize("name", list(CASES))
def test_table_at_a_fixed_width(name):
    """SKIPCALC_REGENERATE=1 rewrites the stored text (then read the diff before committing)."""
    args, width = CASES[name]
    text = skipcalc(*args, columns=width).ok
    path = EXPECTED / f"{name}.txt"
    if os.environ.get("SKIPCALC_REGENERATE"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("name", list(CASES))
def test_no_line_is_wider_than_the_terminal(name):
    args, width = CASES[name]
    assert max(len(line) for line in skipcalc(*args, columns=width).ok.splitlines()) <= width


@pytest.mark.parametrize("width", [50, 64, 80, 100, 120, 200])
def test_numbers_are_never_cut_and_keep_their_exponent(width):
    """At every width the plain gradient at layer 1 of 60 layers of 0.37 shows its exponent."""
    text = skipcalc("chain", "0.37", "--layers", "60", "--no-plot", columns=width).ok
    first = next(line for line in text.splitlines() if line.startswith(("│ 1 ", "layer 1", "1 ")))
    assert "e-26" in first or "e-26" in text.split("layer 2")[0]
    assert "…" not in text


def test_long_chains_show_their_first_and_last_layers():
    text = skipcalc("chain", "0.1", "--layers", "10000", "--plain").ok
    rows = [line for line in text.splitlines() if line.startswith("│ ")]
    assert len(rows) == 41 and "⋮" in rows[20] and "layers 21-9980 (9,960) elided: --all-rows shows them" in text
    assert (
        len(
            [
                line
                for line in skipcalc("chain", "0.1", "--layers", "60", "--plain", "--all-rows").ok.splitlines()
                if line.startswith("│ ")
            ]
        )
        == 60
    )


def test_rounded_values_are_marked_and_exact_ones_never():
    text = skipcalc("chain", "1/3", "--layers", "50", "--plain", "--digits", "5").ok
    assert "≈1.393e-24" in text and "5 significant digits" in text
    exact = skipcalc("chain", "0.1", "0.1").ok
    assert "≈" not in exact


def test_no_colour_words_in_captions():
    text = skipcalc("paths", "--uniform", "0.1", "--layers", "12").ok
    assert "green" not in text and "█" in text


def test_terminal_bar_charts_group_100_lengths():
    text = skipcalc("paths", "--uniform", "0.3", "--layers", "400").ok
    bars = [line for line in text.splitlines() if "%" in line and ("█" in line or "░" in line)]
    assert 10 <= len(bars) <= 41 and "grouped" in text


# --- machine formats: read back by the programs that read them -------------------------


def test_value_and_csv_fields_are_read_by_python_float():
    for args in (
        ["depth", "--local", "0.8", "--max", "50"],
        ["chain", "1/3", "--layers", "7"],
        ["paths", "--uniform", "0.1", "--layers", "12"],
    ):
        rows = [row for row in csv.reader(io.StringIO(skipcalc(*args, "--format", "csv").ok)) if not row[0].isalpha()]
        read = [float(field) for row in rows for field in row]
        assert rows and len(read) == sum(map(len, rows)) and all(math.isfinite(x) for x in read)
        values = [float(field) for field in skipcalc(*args, "--format", "value").ok.split()]
        assert values and all(math.isfinite(x) for x in values)


@pytest.mark.skipif(subprocess.run(["which", "awk"], capture_output=True).returncode != 0, reason="no awk")
def test_awk_reads_the_value_field():
    from conftest import run_script

    result = run_script("skipcalc depth --local 0.8 --depths 50 --format value | awk '{printf \"%.6g\\n\", $1+0}'")
    assert result.stdout == "1.42725e-05\n"


def test_json_is_exact_text_with_its_float():
    data = json.loads(skipcalc("chain", "1/3", "--layers", "100", "--plain", "--format", "json").ok)
    assert data["exact"] is False and data["plain"]["gradient"].startswith("1.94032521748263283758850602880465038121")
    assert data["plain"]["float"] == pytest.approx(1.9403252174826328e-48)
