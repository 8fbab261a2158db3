"""depth: threshold depths computed exactly, against exact scans and interval-free checks."""

from decimal import Decimal
from fractions import Fraction as F

import pytest

from skipcalc import chain
from skipcalc.core.depth import depth_sweep, first_depth
from skipcalc.core.float_formats import BY_NAME, FORMATS


def _scan(base, scale, threshold, relation, limit=20_000):
    """Independent: step exact powers until the relation holds."""
    value = abs(scale)
    for n in range(1, limit):
        value *= abs(base)
        if (
            (value < threshold)
            if relation == "<"
            else (value <= threshold)
            if relation == "<="
            else (value > threshold)
        ):
            return n
    return None


@pytest.mark.parametrize("d", [F(1, 10), F(1, 2), F(-1, 3), F(9, 10), F(3, 7), F(1, 1000)])
@pytest.mark.parametrize("fmt", FORMATS[1:], ids=lambda f: f.name)
def test_every_format_against_an_exact_scan(d, fmt):
    assert first_depth(d, F(1), fmt.min_normal, "<") == _scan(d, 1, fmt.min_normal, "<")
    assert first_depth(d, F(-4), fmt.min_subnormal / 2, "<=") == _scan(d, -4, fmt.min_subnormal / 2, "<=")
    scanned = _scan(1 + d, 1, fmt.max_finite, ">")
    computed = first_depth(1 + d, F(1), fmt.max_finite, ">")
    assert computed == scanned if scanned is not None else computed is None or computed >= 20_000


def test_the_issues_figures():
    """D = 0.1, G = 1: float16 turns subnormal at 5 and is zero at 8; bfloat16 at 38 and 41;
    float32 below normal at 38, zero at 46."""
    result = depth_sweep(F(1, 10), [1])
    by = {fl.format: fl for fl in result.plain_limits}
    assert (by["float16"].below, by["float16"].zero) == (5, 8)
    assert (by["bfloat16"].below, by["bfloat16"].zero) == (38, 41)
    assert (by["float32"].below, by["float32"].zero) == (38, 46)
    over = {fl.format: fl.above for fl in result.residual_limits}
    assert (over["float32"], over["float64"]) == (931, 7448)
    assert result.vanish_at == 7


def test_exact_power_of_two_ties():
    assert first_depth(F(1, 2), F(1), F(1, 2**126), "<") == 127  # 2^-126 is not below 2^-126
    assert first_depth(F(1, 2), F(1), F(1, 2**126), "<=") == 126


def test_never():
    assert first_depth(F(-2), F(1), BY_NAME["float32"].min_normal, "<") is None
    assert first_depth(F(1, 2), F(1), BY_NAME["float32"].max_finite, ">") is None
    assert first_depth(F(0), F(1), BY_NAME["float64"].min_normal, "<") == 1


@pytest.mark.parametrize("exponent", [27, 34, 35, 70, 100])
def test_tiny_d_depths_are_exact_integers(exponent):
    """(1 + D)^n first exceeds float64's largest at n = floor(ln M / ln(1 + D)) + 1: checked
    here with mpmath at 400 digits, independently of the interval arithmetic."""
    import mpmath

    d = F(1, 10**exponent)
    got = first_depth(1 + d, F(1), BY_NAME["float64"].max_finite, ">")
    with mpmath.workdps(400):
        q = mpmath.log(mpmath.mpf(BY_NAME["float64"].max_finite.numerator)) / mpmath.log1p(
            mpmath.mpf(d.numerator) / d.denominator
        )
        assert got == int(mpmath.floor(q)) + 1


def test_the_issues_tiny_d_figure():
    assert str(first_depth(1 + F(1, 10**27), F(1), BY_NAME["float64"].max_finite, ">")).endswith("390266")


def test_depths_beyond_10000_digits_are_correctly_rounded():
    value = first_depth(1 + F(1, 10**100000), F(1), BY_NAME["float64"].max_finite, ">")
    assert isinstance(value, Decimal) and str(value).startswith("7.097827128933839967322233899106571455040E+100002")


def test_rows_match_chain():
    result = depth_sweep(F(3, 10), [1, 4, 7], loss_gradient=F(-2))
    for row in result.rows:
        c = chain([F(3, 10)] * row.depth)
        assert row.values == (-2 * c.network("plain").gradient, -2 * c.network("residual").gradient)
        assert row.ratio == c.ratio


def test_a_range_of_derivatives_is_the_depth_map():
    """0.01:1:0.01 is 100 exact values; at depth 50 the csv has a header and 100 rows that read
    with float(), each the exact power."""
    from fractions import Fraction as F

    from conftest import skipcalc

    rows = skipcalc("depth", "--local", "0.01:1:0.01", "--depths", "50", "--format", "csv").ok.splitlines()
    assert rows[0] == "local,depth,plain,plain_log10,residual,residual_log10" and len(rows) == 101
    for k, row in enumerate(rows[1:], start=1):
        local, depth, plain, _, residual, _ = row.split(",")
        assert F(local) == F(k, 100) and depth == "50"
        assert float(plain) == pytest.approx(float(F(k, 100) ** 50)) and float(residual) == pytest.approx(
            float((1 + F(k, 100)) ** 50)
        )
    import skipcalc as api

    r = api.depth("0.5:1:0.25", depths="10:30:10", blocks=["plain", "residual", "scaled:0.5"])
    assert r.at(0.75, 20, "plain") == F(3, 4) ** 20 and r.at("1", 30, "scaled:0.5") == F(3, 2) ** 30
    assert len(r.to_dict()["rows"]) == 9


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--local", "0.1,0.2", "--format", "value"], "--format: a depth map"),
        (["--local", "0.1,0.2", "--plot"], "--plot: a depth map"),
        (["--local", "0.1,0.2", "--vanish", "0.01"], "--vanish: applies only with one --local"),
        (["--local", "0:1:0"], "the step of '0:1:0' is not positive"),
        (["--local", "0.0001:1:0.0001", "--depths", "1:100:1"], "more than the"),
    ],
)
def test_a_map_refuses_what_does_not_apply(args, fragment):
    from conftest import skipcalc

    result = skipcalc("depth", *args)
    assert result.code == 2 and fragment in result.err and result.out == "", result.err
