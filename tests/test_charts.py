"""What the charts show, read back from the drawn figures and the terminal text: the last values
and the formats' limits on a depth chart, a depth map on the values given with its colour scale
centred on 'kept', evenly spaced decades in the terminal, the forward side beside the gradient."""

import re

import numpy as np
import pytest
from conftest import ROOT, skipcalc

import skipcalc as api


def test_a_depth_chart_writes_its_last_values_and_the_limits_it_crosses():
    figure = api.depth(0.1, layers=20).plot()
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "≈6.727 at n = 20" in texts and "1e-20 at n = 20" in texts  # 1.1^20 = 6.7275, 0.1^20 exactly
    assert "float16 smallest normal, 6.1e-05" in texts  # the one limit between 1e-20 and 6.7
    levels = [line.get_ydata()[0] for line in figure.axes[0].lines if len(set(line.get_ydata())) == 1]
    assert any(abs(level - np.log10(2.0**-14)) < 1e-12 for level in levels)


def test_float32_and_bfloat16_share_one_line_and_one_label():
    texts = [t.get_text() for t in api.depth(0.1, layers=200).plot().axes[0].texts]
    assert "bfloat16 and float32 smallest normal, 1.18e-38" in texts
    assert not any(t.startswith("bfloat16 smallest") or t.startswith("float32 smallest") for t in texts)


def test_a_sparse_depth_map_draws_the_values_given_as_cells():
    figure = api.depth([0.1, 0.3, 0.5, 0.9, 1], depths=[1, 10, 30, 60]).plot()
    plain = figure.axes[0]
    assert [t.get_text() for t in plain.get_xticklabels()] == ["1", "10", "30", "60"]
    assert [t.get_text() for t in plain.get_yticklabels()] == ["0.1", "0.3", "0.5", "0.9", "1"]
    assert plain.get_xlim() == (-0.5, 3.5)  # no block past the data
    cells = {t.get_text() for t in plain.texts}
    assert {"-60", "-1", "0"} <= cells  # log10 0.1^60, 0.1^1, 1^n
    image = plain.collections[0]
    assert image.norm(0.0) == 0.5  # the colour scale's middle is log10 = 0: the gradient kept


def test_a_dense_depth_map_is_clipped_to_its_data():
    figure = api.depth("0.01:1:0.01", depths="1:100:1").plot()
    plain = figure.axes[0]
    assert plain.get_xlim() == (1, 100) and plain.get_ylim() == (0.01, 1)
    assert figure.legends  # the contours named below the panels


def test_terminal_decades_are_evenly_spaced():
    out = skipcalc("depth", "--local", "0.5", "--depths", "1:8:1").ok
    chart = out[out.index("|gradient| against depth") :].splitlines()
    rows = [i for i, line in enumerate(chart) if re.match(r"\s+\S+ ┤", line)]
    assert len(rows) >= 4 and len({b - a for a, b in zip(rows, rows[1:], strict=False)}) == 1
    labels = [chart[i].split()[0] for i in rows]
    assert labels[0] == "1e2" and labels[-1] == "1e-3"


def test_meanfield_draws_the_forward_side_beside_the_gradient():
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=10, input_corr=0.5)
    figure = r.plot()
    gradient, forward = figure.axes[:2]
    assert forward.get_ylabel() == "cosine" and forward.get_ylim()[1] <= 1.1
    names = [t.get_text() for t in forward.get_legend().get_texts()]
    assert any("corr" in n for n in names) and any("cos" in n for n in names)
    lines = {line.get_label(): line for line in forward.lines}
    residual = next(line for label, line in lines.items() if label.startswith("residual") and "corr" in label)
    assert np.allclose(residual.get_ydata(), [float(c) for c in r.network("residual").correlation])


def test_a_chain_chart_names_its_case_and_its_headline_numbers_in_math():
    figure = api.backprop([0.1, 0.1, 0.1], target=10, pred=8).plot()
    axes = figure.axes[0]
    title = axes.get_title(loc="left")
    assert "every layer's D = 0.1" in title and r"$|\partial L/\partial x_k|$" in title
    assert {t.get_text() for t in axes.texts} == {"-0.004 at $x_0$", "-5.324 at $x_0$"}
    assert axes.get_ylim()[1] >= 1  # a tick above 5.324: 10
    assert axes.get_xlabel() == "layer input k ($x_k$)"


def test_a_chain_in_a_float_format_draws_that_formats_limits():
    texts = {t.get_text() for t in api.chain(0.3, layers=48, dtype="float16").plot().axes[0].texts}
    assert {
        "float16 largest, 6.55e+04",
        "float16 smallest normal, 6.1e-05",
        "float16 smallest subnormal, 5.96e-08",
    } <= texts
    assert not any(
        t.startswith("float16") for t in {x.get_text() for x in api.chain(0.3, layers=48).plot().axes[0].texts}
    )


def test_a_terminal_chart_within_half_a_decade_labels_its_values():
    """1.1^n against 1 + 0.1 * 0.1 per layer over 5 layers: the rows are labelled with values
    (1.01 ... 1.611), not with one decade that leaves every point on a few rows."""
    out = skipcalc("depth", "--local", "0.1", "--block", "residual", "--block", "rezero:0.1", "--max", "5").ok
    chart = out[out.index("|gradient| against depth") :].splitlines()
    labels = [line.split()[0] for line in chart if re.match(r"\s+\S+ ┤", line)]
    assert labels[0] == "1.611" and labels[-1] == "1.01" and len(labels) == 5  # 1.1^5 = 1.61051, 1.001
    marks = [line for line in chart if "■" in line and ("│" in line or "┤" in line)]
    assert len(marks) == 5  # the five residual points on five rows


README_CHARTS = re.findall(r"\(`skipcalc ([^`]*) --save docs/([\w.-]+\.png)`\)", (ROOT / "README.md").read_text())


def test_the_readme_names_its_charts():
    assert {name for _, name in README_CHARTS} == {p.name for p in (ROOT / "docs").glob("*.png")}


@pytest.mark.parametrize(("command", "name"), README_CHARTS, ids=[name for _, name in README_CHARTS])
def test_every_readme_chart_is_drawn_by_the_command_under_it(tmp_path, command, name):
    """Each chart in the README is drawn again by the command written under it, and the
    committed picture stays small."""
    path = tmp_path / name
    ran = skipcalc(*command.split(), "--save", str(path))
    assert ran.code == 0 and path.stat().st_size > 20_000, ran.err
    assert (ROOT / "docs" / name).stat().st_size < 200_000
