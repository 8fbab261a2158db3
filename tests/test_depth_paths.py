"""depth and paths: thresholds computed independently, binomial identities, brute force."""

import json
import math
import xml.dom.minidom
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc import chain
from skipcalc.depth import FLOAT32_MAX, FLOAT32_MIN_NORMAL, FLOAT64_MIN_NORMAL, depth_sweep, first_depth_below
from skipcalc.paths import mass_band, path_split, uniform_contributions


def _scan_below(d, threshold, limit=100000):
    """Independent: step exact powers until one falls below."""
    value = F(1)
    for n in range(1, limit):
        value *= abs(d)
        if value < threshold:
            return n
    return None


def test_ieee_constants():
    import struct

    assert float(FLOAT32_MIN_NORMAL) == struct.unpack("<f", struct.pack("<I", 0x00800000))[0]
    assert float(FLOAT32_MAX) == struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0]
    assert float(FLOAT64_MIN_NORMAL) == 2.2250738585072014e-308


@pytest.mark.parametrize("d", [F(1, 10), F(1, 2), F(-1, 3), F(9, 10)])
def test_thresholds_against_a_scan(d):
    result = depth_sweep(d, [1, 2, 3])
    assert result.plain_below_float32_at == _scan_below(d, FLOAT32_MIN_NORMAL)
    assert result.plain_below_float64_at == _scan_below(d, FLOAT64_MIN_NORMAL, 100000)
    assert result.plain_below_vanish_at == _scan_below(d, F(1, 10**6))


def test_seed_depths():
    result = depth_sweep(F(1, 10))
    assert result.plain_below_float32_at == 38  # 1e-38 < 2^-126 ~ 1.18e-38 < 1e-37
    assert result.plain_below_float64_at == 308
    assert result.plain_below_vanish_at == 7  # 1e-7 < 1e-6; 1e-6 is not below
    assert result.residual_above_float32_at == 931
    assert result.rows[2].plain == F(1, 1000) and result.rows[2].residual == F(1331, 1000)


def test_exact_power_of_two_tie():
    assert depth_sweep(F(1, 2), [1]).plain_below_float32_at == 127  # 2^-126 is not below 2^-126


def test_never():
    result = depth_sweep(F(-2), [1])
    assert result.plain_below_float32_at is None and result.residual_above_float32_at is None
    assert depth_sweep(F(0), [1]).plain_below_float64_at == 1


def test_far_depths_without_scanning():
    d = F(999999, 1000000)
    n = first_depth_below(d, F(1), FLOAT64_MIN_NORMAL)
    # n*ln(d) < ln(2^-1022) <= (n-1)*ln(d), by 50-digit logs
    import mpmath

    with mpmath.workdps(50):
        ln_d = mpmath.log(mpmath.mpf(d.numerator) / d.denominator)
        bound = -1022 * mpmath.log(2)
        assert n * ln_d < bound <= (n - 1) * ln_d


def test_depth_rows_match_chain():
    result = depth_sweep(F(3, 10), [1, 4, 7], loss_gradient=F(-2))
    for row in result.rows:
        c = chain([F(3, 10)] * row.depth)
        assert row.plain == -2 * c.network("plain").gradient
        assert row.residual == -2 * c.network("residual").gradient
        assert row.ratio == c.ratio


@settings(max_examples=30)
@given(st.fractions(min_value=-2, max_value=2, max_denominator=20), st.integers(min_value=1, max_value=40))
def test_uniform_binomial_identities(d, n):
    e = uniform_contributions(d, n)
    assert e == [math.comb(n, k) * d**k for k in range(n + 1)]
    assert sum(e, F(0)) == (1 + d) ** n
    assert path_split([d] * n).contributions == tuple(e)


@settings(max_examples=30)
@given(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=20), min_size=1, max_size=9))
def test_paths_against_brute_force_enumeration(local):
    n = len(local)
    brute = [F(0)] * (n + 1)
    for mask in range(2**n):  # every one of the 2^n paths
        chosen = [i for i in range(n) if mask >> i & 1]
        brute[len(chosen)] += math.prod((local[i] for i in chosen), start=F(1))
    result = path_split(local)
    assert list(result.contributions) == brute
    assert result.total == chain(local).network("residual").gradient


def test_band_is_the_shortest_window():
    contributions = [F(1), F(5), F(3), F(1)]
    (a, b), share = mass_band(contributions, F(8, 10))
    assert (a, b) == (1, 2) and share == F(8, 10)
    for width in range(b - a):
        for start in range(len(contributions) - width):
            window = sum(abs(c) for c in contributions[start : start + width + 1])
            assert window < F(8, 10) * sum(contributions)


def test_thousand_layers_fast():
    import time

    start = time.process_time()
    result = path_split([F(1, 10), F(1, 3), F(2, 7)] * 334)
    assert time.process_time() - start < 3
    assert result.total == chain([F(1, 10), F(1, 3), F(2, 7)] * 334).network("residual").gradient


def test_cli_depth_json(cli):
    data = json.loads(cli("depth", "--local", "0.1", "--depths", "1,3", "--format", "json").stdout)
    assert data["rows"] == [
        {"depth": 1, "plain": "0.1", "residual": "1.1", "ratio": "11"},
        {"depth": 3, "plain": "0.001", "residual": "1.331", "ratio": "1331"},
    ]
    assert data["summary"]["plain_below_float32_at"] == 38
    assert data["summary"]["residual_above_float64_at"] == 7448


def test_cli_depth_default_and_chart(cli, tmp_path):
    svg = tmp_path / "d.svg"
    result = cli("depth", "--local", "0.1", "--save", str(svg))
    assert result.exit_code == 0 and "log10 |gradient| against depth" in result.stdout
    assert result.stdout.count("\n│") >= 50 or "50" in result.stdout
    xml.dom.minidom.parse(str(svg))
    assert "polyline" in svg.read_text()
    assert "against depth" not in cli("depth", "--local", "0.1", "--no-plot").stdout


def test_cli_paths(cli, tmp_path):
    data = json.loads(cli("paths", "0.1", "0.1", "0.1", "--format", "json").stdout)
    assert data["total"] == "1.331"
    assert [row["contribution"] for row in data["by_length"]] == ["1", "0.3", "0.03", "0.001"]
    assert [row["paths"] for row in data["by_length"]] == [1, 3, 3, 1]
    assert data["band"]["from"] == 0 and data["band"]["to"] == 1
    svg = tmp_path / "p.svg"
    out = cli("paths", "--uniform", "0.1", "--layers", "110", "--save", str(svg)).stdout
    assert "share of |gradient| by path length" in out
    xml.dom.minidom.parse(str(svg))
    assert cli("paths", "--uniform", "0.1", "--layers", "3", "--format", "value").stdout == "1.331\t0\t1\n"


@pytest.mark.parametrize(
    "args, named",
    [
        (["depth", "--local", "x"], "--local"),
        (["depth", "--local", "0.1", "--max", "1000000000000"], "--max"),
        (["depth", "--local", "0.1", "--depths", "1,0"], "--depths"),
        (["depth", "--local", "0.1", "--depths", "1,2.5"], "--depths"),
        (["depth", "--local", "0.1", "--max", "3", "--depths", "1"], "--max"),
        (["depth", "--local", "0.1", "--vanish", "0"], "--vanish"),
        (["depth", "--local", "0.1", "--save", "chart.png"], "--save"),
        (["paths", "--uniform", "0.1"], "--layers"),
        (["paths", "--uniform", "0.1", "--layers", "0"], "--layers"),
        (["paths", "0.1", "--mass", "2"], "--mass"),
        (["paths"], "D"),
    ],
)
def test_cli_depth_paths_errors(cli, args, named):
    result = cli(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and named in result.stderr
