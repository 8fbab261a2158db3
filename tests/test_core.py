"""The pure core: chain, backprop, losses and update, without the CLI."""

from fractions import Fraction as F
from itertools import combinations
from math import gcd, prod

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc import backprop, chain, loss, update
from skipcalc.chain import EXACT_WRT_LAYERS, gradients_wrt_inputs, product
from skipcalc.numbers import InputError, show

TENTH = F(1, 10)
fractions = st.fractions(min_value=-3, max_value=3, max_denominator=1000)


def test_seed_plain_and_residual():
    result = chain([TENTH] * 3)
    assert result.network("plain").gradient == F(1, 1000)
    assert result.network("residual").gradient == F(1331, 1000)
    assert result.ratio == 1331


def test_gradient_reaching_each_layer():
    result = chain([TENTH] * 3)
    assert result.network("plain").wrt == (F(1, 1000), F(1, 100), F(1, 10), 1)
    assert result.network("residual").wrt == (F(1331, 1000), F(121, 100), F(11, 10), 1)


def test_dead_layers_still_pass_gradient_through_skips():
    result = chain([F(0)] * 3)
    assert result.network("plain").gradient == 0
    assert result.network("residual").gradient == 1
    assert result.ratio is None


def test_seed_backprop_from_target_and_pred():
    mse = loss("mse", F(10), F(8))
    assert (mse.value, mse.gradient) == (4, -4)
    result = backprop([TENTH] * 3, mse.gradient, loss=mse)
    assert result.network("plain").gradient == F(-4, 1000)
    assert result.network("residual").gradient == F(-5324, 1000)
    assert result.network("residual").wrt[-1] == -4  # x_3 gets the full signal


def test_seed_backprop_from_loss_gradient():
    result = backprop([TENTH] * 3, F(-2))
    assert show(result.network("plain").gradient).text == "-0.002"
    assert show(result.network("residual").gradient).text == "-2.662"


def test_no_underflow():
    result = chain([TENTH] * 1000)
    assert result.network("plain").gradient == F(1, 10**1000)
    assert show(result.network("plain").gradient).text == "1e-1000"


def test_forward_order_matters_only_for_wrt():
    result = chain([F(2), F(3)])
    plain = result.network("plain")
    assert plain.gradient == 6
    assert plain.wrt == (6, 3, 1)  # dx2/dx1 = D2 = 3


def test_long_chain_rounds_per_layer_gradients_but_not_the_total():
    n = EXACT_WRT_LAYERS + 5
    result = chain([F(1, 3)] * n, networks=("plain",))
    plain = result.network("plain")
    assert plain.gradient == F(1, 3**n)
    assert not plain.wrt_exact
    assert plain.wrt[0] == plain.gradient and plain.wrt[-1] == 1
    # entry k is (1/3)^(n-k) to far more than 40 digits
    k = 7
    assert abs(F(plain.wrt[k]) - F(1, 3 ** (n - k))) <= F(1, 3 ** (n - k)) / 10**50


@given(st.lists(fractions, max_size=30))
def test_chain_is_the_product(local):
    result = chain(local)
    assert result.network("plain").gradient == prod(local, start=F(1))
    assert result.network("residual").gradient == prod((1 + d for d in local), start=F(1))


@given(st.lists(fractions, max_size=10))
def test_residual_is_the_sum_over_all_paths(local):
    """(1+D1)...(1+Dn) = sum over subsets S of prod_{i in S} D_i: 2^n paths."""
    n = len(local)
    paths = sum(
        (prod((local[i] for i in subset), start=F(1)) for k in range(n + 1) for subset in combinations(range(n), k)),
        start=F(0),
    )
    assert chain(local).network("residual").gradient == paths


@given(st.lists(fractions, max_size=20), fractions)
def test_backprop_is_loss_gradient_times_chain(local, g):
    plain_chain = chain(local).network("plain")
    plain_back = backprop(local, g).network("plain")
    assert plain_back.wrt == tuple(g * w for w in plain_chain.wrt)


@given(st.lists(fractions, min_size=1, max_size=200))
def test_product_tree_equals_left_fold(values):
    folded = F(1)
    for v in values:
        folded *= v
    assert product(values) == folded


def test_gradients_wrt_inputs_upstream():
    wrt, gradient = gradients_wrt_inputs([F(1, 2), F(1, 2)], F(4))
    assert wrt == (1, 2, 4) and gradient == 1


# --- losses ---------------------------------------------------------------


def test_mse():
    result = loss("mse", F(10), F(8))
    assert (result.value, result.gradient) == (4, -4)
    assert "up" in result.direction


def test_mse_positive_gradient_moves_down():
    result = loss("mse", F(1), F(3))
    assert result.gradient == 4 and "down" in result.direction


def test_mae_and_its_subgradient_at_the_kink():
    assert loss("mae", F(10), F(8)).gradient == -1
    assert loss("mae", F(8), F(10)).gradient == 1
    at_kink = loss("mae", F(3), F(3))
    assert at_kink.gradient == 0 and "subgradient 0" in at_kink.note


def test_huber_inside_and_outside_delta():
    inside = loss("huber", F(10), F(9.5), F(1))
    assert (inside.value, inside.gradient) == (F(1, 8), F(-1, 2))
    outside = loss("huber", F(10), F(8), F(1))
    assert (outside.value, outside.gradient) == (F(3, 2), -1)
    assert loss("huber", F(10), F(8)).gradient == -1  # delta defaults to 1
    wide = loss("huber", F(10), F(8), F(5))
    assert (wide.value, wide.gradient) == (2, -2)


def test_bce():
    result = loss("bce", F(1), F(9, 10))
    assert result.gradient == F(-10, 9)  # (P - T)/(P(1-P)) = -0.1/0.09
    assert show(result.value).text.startswith("0.105360515657826301227500980839312798")  # -ln 0.9
    assert not show(result.value).exact


@pytest.mark.parametrize(
    "kind, target, pred, delta, argument",
    [
        ("bce", F(1), F(0), None, "--pred"),
        ("bce", F(1), F(1), None, "--pred"),
        ("bce", F(2), F(1, 2), None, "--target"),
        ("huber", F(1), F(0), F(0), "--delta"),
        ("mse", F(1), F(0), F(1), "--delta"),
        ("log", F(1), F(0), None, "--kind"),
    ],
)
def test_loss_refusals(kind, target, pred, delta, argument):
    with pytest.raises(InputError, match=f"^{argument}"):
        loss(kind, target, pred, delta)


# --- update ---------------------------------------------------------------


def test_update_rule():
    result = update(F(1, 2), TENTH, F(-5324, 1000), F(1))
    assert result.new_weight == F(10324, 10000)
    assert result.step == F(5324, 10000)


def test_zero_input_does_not_move_the_weight():
    assert update(F(1, 2), TENTH, F(-4), F(0)).new_weight == F(1, 2)


@given(fractions, fractions, fractions, fractions)
def test_update_is_gradient_descent(w, lr, g, x):
    result = update(w, lr, g, x)
    assert result.new_weight == w - lr * g * x
    assert result.new_weight - result.weight == result.step


POOL = [F(n, d) for n in range(-12, 13) for d in (1, 2, 3, 4, 6, 8, 10, 12, 25, 49, 60)]


@given(st.lists(st.sampled_from(POOL), min_size=65, max_size=300))
def test_product_with_leaf_cancellation_is_reduced_and_exact(values):
    folded = F(1)
    for v in values:
        folded *= v
    result = product(values)
    assert result == folded
    assert (result.numerator, result.denominator) == (folded.numerator, folded.denominator)


@given(
    st.lists(
        st.one_of(st.fractions(max_denominator=50), st.sampled_from([F(1, 1009), F(-7, 1013)])).filter(bool),
        min_size=1,
        max_size=90,
    ),
    st.sampled_from([None, F(-4), F(1, 3)]),
)
def test_ratio_layer_by_layer_equals_the_quotient_of_the_gradients(local, upstream):
    result = chain(local) if upstream is None else backprop(local, upstream)
    quotient = result.network("residual").gradient / result.network("plain").gradient
    assert result.ratio == quotient
    assert result.ratio.denominator > 0 and gcd(result.ratio.numerator, result.ratio.denominator) == 1
