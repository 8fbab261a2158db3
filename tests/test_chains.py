"""The pure core: chains, backprop, losses and the update step, without the command line."""

import math
from decimal import Decimal
from fractions import Fraction as F
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc import backprop, chain, update
from skipcalc.core.blocks import PLAIN, RESIDUAL, factor
from skipcalc.core.chains import EXACT_WRT_LAYERS, backward, backward_at, chain_result
from skipcalc.core.errors import InputError
from skipcalc.core.losses import loss

TENTH = F(1, 10)
fractions = st.fractions(min_value=-3, max_value=3, max_denominator=1000)


def test_seed_plain_and_residual():
    result = chain([TENTH] * 3)
    assert result.network("plain").gradient == F(1, 1000)
    assert result.network("residual").gradient == F(1331, 1000)
    assert result.ratio == 1331


def test_the_residual_factor_is_one_plus_d():
    assert factor(1, 1, TENTH) == RESIDUAL.factor(TENTH) == F(11, 10)
    assert RESIDUAL.factors([TENTH, F(-1, 2)]) == [F(11, 10), F(1, 2)]
    assert PLAIN.factors([TENTH, F(-1, 2)]) == [TENTH, F(-1, 2)]


def test_gradient_reaching_each_layer():
    result = chain([TENTH] * 3)
    assert result.network("plain").wrt == (F(1, 1000), F(1, 100), F(1, 10), 1)
    assert result.network("residual").wrt == (F(1331, 1000), F(121, 100), F(11, 10), 1)


def test_dead_layers_still_pass_the_gradient_through_the_skips():
    result = chain([F(0)] * 3)
    assert (result.network("plain").gradient, result.network("residual").gradient, result.ratio) == (0, 1, None)


def test_seed_backprop():
    mse = loss("mse", F(10), F(8))
    assert (mse.value, mse.gradient) == (4, -4)  # -2(T - P), not the note's 2(T - P)
    result = backprop([TENTH] * 3, target=10, pred=8)
    assert result.network("plain").gradient == F(-4, 1000)
    assert result.network("residual").gradient == F(-5324, 1000)
    assert result.network("residual").wrt[-1] == -4  # x_3 gets the full signal


def test_no_underflow():
    assert chain([TENTH] * 1000).network("plain").gradient == F(1, 10**1000)


def test_forward_order_matters_only_for_wrt():
    plain = chain([F(2), F(3)]).network("plain")
    assert plain.gradient == 6 and plain.wrt == (6, 3, 1)  # dx2/dx1 = D2 = 3


@given(st.lists(fractions, min_size=1, max_size=30))
def test_chain_is_the_product(local):
    result = chain(local)
    assert result.network("plain").gradient == math.prod(local, start=F(1))
    assert result.network("residual").gradient == math.prod((1 + d for d in local), start=F(1))


@given(st.lists(fractions, min_size=1, max_size=10))
def test_residual_is_the_sum_over_all_2n_paths(local):
    n = len(local)
    paths = sum(
        (math.prod((local[i] for i in s), start=F(1)) for k in range(n + 1) for s in combinations(range(n), k)),
        start=F(0),
    )
    assert chain(local).network("residual").gradient == paths


@given(st.lists(fractions, min_size=1, max_size=20), fractions)
def test_backprop_is_the_loss_gradient_times_the_chain(local, g):
    assert backprop(local, loss_grad=g).network("plain").wrt == tuple(g * w for w in chain(local).network("plain").wrt)


@given(st.lists(fractions, min_size=1, max_size=20), st.sets(st.integers(0, 20), max_size=6), fractions)
def test_backward_at_reads_the_backward_pass(local, indices, g):
    picked = [k for k in indices if k <= len(local)]
    full = backward(local, g)
    assert backward_at(local, g, picked) == {k: full[k] for k in picked}


def test_long_chains_round_per_layer_values_not_the_total():
    n = EXACT_WRT_LAYERS + 5
    plain = chain([F(1, 3)] * n, blocks=(PLAIN,)).network("plain")
    assert plain.gradient == F(1, 3**n) and not plain.wrt_exact
    for k in (0, 7, n - 1, n):
        assert abs(F(plain.wrt[k]) - F(1, 3 ** (n - k))) <= F(1, 3 ** (n - k)) / 10**50


def test_beyond_the_exact_budget_values_are_carried_not_refused():
    """Two layers of 1e-100000 fit the exact budget (450,000 digits); more are correctly rounded."""
    tiny = F(1, 10**100000)
    assert chain([tiny] * 2).network("plain").gradient == tiny**2
    result = chain([tiny, F(3, 7), tiny, F(5, 11), tiny, tiny, tiny])
    plain = result.network("plain").gradient
    assert isinstance(plain, Decimal)
    truth = tiny**5 * F(15, 77)
    assert abs(F(plain) - truth) <= truth / 10**50
    with pytest.raises(InputError, match="^exact"):
        chain_result([tiny] * 7, require_exact=True)


def test_value_format_computes_only_the_gradient():
    result = chain_result([TENTH] * 5, per_layer=False)
    assert result.network("residual").wrt is None and result.network("residual").gradient == F(161051, 100000)


@given(st.lists(st.fractions(max_denominator=50).filter(bool), min_size=1, max_size=90), st.sampled_from([None, F(-4)]))
def test_ratio_equals_the_quotient_of_the_gradients(local, upstream):
    result = chain(local) if upstream is None else backprop(local, loss_grad=upstream)
    assert result.ratio == result.network("residual").gradient / result.network("plain").gradient


# --- losses and the update --------------------------------------------------------


@pytest.mark.parametrize(
    "kind, target, pred, delta, value, gradient",
    [
        ("mse", 10, 8, None, 4, -4),
        ("mse", 1, 3, None, 4, 4),
        ("mae", 10, 8, None, 2, -1),
        ("mae", 3, 3, None, 0, 0),
        ("huber", 10, F(19, 2), 1, F(1, 8), F(-1, 2)),
        ("huber", 10, 8, 1, F(3, 2), -1),
        ("huber", 10, 8, 5, 2, -2),
    ],
)
def test_losses_by_hand(kind, target, pred, delta, value, gradient):
    result = loss(kind, F(target), F(pred), None if delta is None else F(delta))
    assert (result.value, result.gradient) == (value, gradient)


def test_direction_in_words():
    assert "up" in loss("mse", F(10), F(8)).direction and "down" in loss("mse", F(1), F(3)).direction
    assert "subgradient 0" in loss("mae", F(3), F(3)).note


def test_bce_is_certified_even_where_one_minus_p_rounds_to_one():
    assert loss("bce", F(1), F(9, 10)).gradient == F(-10, 9)
    tiny = loss("bce", F(0), F(1, 10**70)).value  # -ln(1 - 1e-70) = 1e-70 + 5e-141 + ...
    assert abs(F(tiny) - F(1, 10**70)) <= F(1, 10**139)


@pytest.mark.parametrize(
    "kind, target, pred, delta, argument",
    [
        ("bce", 1, 0, None, "pred"),
        ("bce", 1, 1, None, "pred"),
        ("bce", 2, F(1, 2), None, "target"),
        ("huber", 1, 0, 0, "delta"),
        ("mse", 1, 0, 1, "delta"),
        ("log", 1, 0, None, "kind"),
    ],
)
def test_loss_refusals_name_the_argument(kind, target, pred, delta, argument):
    with pytest.raises(InputError, match=f"^{argument}"):
        loss(kind, F(target), F(pred), None if delta is None else F(delta))


@given(fractions, fractions, fractions, fractions)
def test_update_is_gradient_descent(w, lr, g, x):
    result = update(w, lr, g, x)
    assert result.new_weight == w - lr * g * x and result.new_weight - result.weight == result.step
