"""Skip-connection variants: each block against a hand-built forward and backward pass."""

import math
import re
from fractions import Fraction as F
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc.core.blocks import parse_block
from skipcalc.core.chains import chain_result
from skipcalc.core.errors import InputError
from skipcalc.core.paths import path_contributions, path_split, uniform_path_split

fractions = st.fractions(min_value=-2, max_value=2, max_denominator=20)
SPECS = [
    "plain",
    "residual",
    "scaled:0.5",
    "rezero:0.1",
    "rezero:0",
    "highway:0.7",
    "stochastic:0.8",
    "stochastic:linear:0.5",
    "scaled:-1/3",
]


@pytest.mark.parametrize(
    "spec, a, b",
    [
        ("plain", 0, 1),
        ("residual", 1, 1),
        ("scaled:0.5", F(1, 2), 1),
        ("rezero:0.1", 1, F(1, 10)),
        ("highway:0.7", F(3, 10), F(7, 10)),
        ("stochastic:0.8", 1, F(4, 5)),
    ],
)
def test_each_block_is_a_choice_of_a_and_b(spec, a, b):
    block = parse_block(spec)
    assert (block.a, block.b) == (a, b)


def test_stochastic_linear_decay_is_the_papers():
    """Huang et al. 2016: p_l = 1 - (l/L)(1 - p_L); block L survives with p_L."""
    block = parse_block("stochastic:linear:0.5")
    assert [b for _, b in block.coefficients(4)] == [F(7, 8), F(3, 4), F(5, 8), F(1, 2)]


def _forward_backward(spec, local):
    """By hand, on a linear stack F_k(x) = D_k x: x_k = a x + b D_k x; the gradient is dx_n/dx_0
    found by perturbing x_0 (the output is linear in x_0, so the slope is exact)."""
    block = parse_block(spec)
    coefficients = block.coefficients(len(local))

    def forward(x0):
        x = x0
        for (a, b), d in zip(coefficients, local, strict=True):
            x = a * x + b * (d * x)
        return x

    return forward(F(1)) - forward(F(0))


@given(st.lists(fractions, min_size=1, max_size=12), st.sampled_from(SPECS))
def test_each_block_against_a_hand_built_pass(local, spec):
    result = chain_result(local, (parse_block(spec),))
    assert result.networks[0].gradient == _forward_backward(spec, local)


@given(st.lists(fractions, min_size=1, max_size=9), st.sampled_from(SPECS))
def test_paths_sum_to_the_product_for_any_block(local, spec):
    block = parse_block(spec)
    e = path_contributions(local, block)
    assert sum(e, F(0)) == chain_result(local, (block,)).networks[0].gradient
    n = len(local)
    coefficients = block.coefficients(n)
    for k in range(n + 1):  # every k-subset of branches, the rest skips
        brute = sum(
            (
                math.prod(
                    (coefficients[i][1] * local[i] if i in chosen else coefficients[i][0] for i in range(n)), start=F(1)
                )
                for chosen in map(set, combinations(range(n), k))
            ),
            start=F(0),
        )
        assert e[k] == brute


@given(fractions, st.integers(min_value=1, max_value=40), st.sampled_from(SPECS))
def test_uniform_split_is_the_general_one(d, n, spec):
    block = parse_block(spec)
    assert uniform_path_split(d, n, block=block).contributions == path_split([d] * n, block=block).contributions


def test_rezero_zero_is_the_identity_at_any_depth():
    result = chain_result([F(7)] * 500, (parse_block("rezero:0"),))
    assert result.networks[0].gradient == 1


def test_scaled_shortcut_brings_back_vanishing():
    """He et al. 2016 ("Identity mappings"): a shortcut scaled by 0.5 multiplies the skip path by 0.5^n."""
    result = chain_result([F(0)] * 20, (parse_block("scaled:0.5"),))
    assert result.networks[0].gradient == F(1, 2**20)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("resdual", "did you mean residual"),
        ("scaled", "needs a value"),
        ("highway:1.5", "not in [0, 1]"),
        ("stochastic:-0.1", "not in [0, 1]"),
        ("plain:2", "takes no value"),
        ("scaled:x", "not a number"),
    ],
)
def test_bad_blocks_are_refused_by_name(spec, fragment):
    with pytest.raises(InputError, match=re.escape(fragment)) as error:
        parse_block(spec)
    assert str(error.value).startswith("blocks")
