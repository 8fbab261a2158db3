"""paths: the split by path length, against brute force, and the band."""

import math
from fractions import Fraction as F

from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc import chain
from skipcalc.core.blocks import parse_block
from skipcalc.core.paths import mass_band, path_split, uniform_path_split


@settings(max_examples=30)
@given(st.fractions(min_value=-2, max_value=2, max_denominator=20), st.integers(min_value=1, max_value=40))
def test_uniform_binomial_identities(d, n):
    e = list(uniform_path_split(d, n).contributions)
    assert e == [math.comb(n, k) * d**k for k in range(n + 1)]
    assert sum(e, F(0)) == (1 + d) ** n


@settings(max_examples=30)
@given(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=20), min_size=1, max_size=9))
def test_against_enumerating_all_2n_paths(local):
    n = len(local)
    brute = [F(0)] * (n + 1)
    for mask in range(2**n):
        chosen = [i for i in range(n) if mask >> i & 1]
        brute[len(chosen)] += math.prod((local[i] for i in chosen), start=F(1))
    result = path_split(local)
    assert list(result.contributions) == brute
    assert result.total == chain(local).network("residual").gradient
    assert sum(result.shares, F(0)) == 1 if result.total else result.shares is None


def test_the_band_is_the_shortest_window():
    (a, b), share = mass_band([1, 5, 3, 1], F(8, 10))
    assert (a, b) == (1, 2) and share == F(8, 10)


def test_among_equally_short_bands_the_heaviest():
    """-0.9 six times: bands 0-4 (91.3%) and 1-5 (96.7%) are both five long; 1-5 carries more."""
    result = path_split([F(-9, 10)] * 6)
    assert result.band == (1, 5)
    assert abs(float(result.band_share) - 0.967) < 0.001


def test_veit_like_band_for_110_layers():
    result = path_split([F(1, 10)] * 110)
    assert result.band == (5, 14)


def test_big_numbers_stay_exact_where_they_are_affordable():
    tiny = F(1, 10**1000)
    result = path_split([tiny] * 20)
    assert result.contributions[20] == tiny**20 and result.band == (0, 0)


def test_a_uniform_split_too_large_to_hold_exactly_is_carried(monkeypatch):
    """Past the exact budget, one-signed terms are carried with 60 digits: each agrees with the
    exact e_k to 50 digits, and the shares, band and total with the exact split's."""
    from decimal import Decimal

    from skipcalc.core import paths

    exact = uniform_path_split(F(37, 100), 300)
    monkeypatch.setattr(paths, "UNIFORM_BITS", 0)
    carried = uniform_path_split(F(37, 100), 300)
    assert all(isinstance(e, Decimal) for e in carried.contributions)
    pairs = [
        *zip(exact.contributions, carried.contributions, strict=True),
        *zip(exact.shares, carried.shares, strict=True),
        (exact.total, carried.total),
    ]
    for want, got in pairs:
        assert abs(F(got) - want) <= abs(want) * F(1, 10**50)
    assert carried.band == exact.band == (69, 94)
    assert uniform_path_split(F(1, 10**1000), 2, block=parse_block("scaled:0.5")).band == (0, 0)


def test_a_split_of_mixed_signs_past_the_budget_is_refused_by_name(monkeypatch):
    import pytest

    from skipcalc.core import paths
    from skipcalc.core.errors import InputError

    monkeypatch.setattr(paths, "UNIFORM_BITS", 0)
    with pytest.raises(InputError, match="mixed sign"):
        uniform_path_split(F(-1, 10), 30)
