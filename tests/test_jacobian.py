"""Vector layers: exact Jacobian products, certified singular values, random Jacobians."""

import json
import math
from fractions import Fraction as F

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc import chain
from skipcalc.core.blocks import CLASSIC, parse_block
from skipcalc.core.errors import InputError
from skipcalc.core.jacobian import (
    identity,
    jacobian_chain,
    matmul,
    parse_matrix,
    parse_vector,
    random_jacobians,
    rank,
    spectrum,
)

J1 = parse_matrix("[[0.1,0.2],[0,0.3]]", "J")
J2 = parse_matrix("[[1,0],[0.5,-0.1]]", "J")


def test_products_by_hand():
    plain, residual = jacobian_chain([J1, J2], CLASSIC).networks
    # J2 J1 = [[0.1, 0.2], [0.05, 0.1 - 0.03]]; (I + J2)(I + J1) = [[2, 0], [0.5, 0.9]] [[1.1, 0.2], [0, 1.3]]
    assert plain.gradient == ((F(1, 10), F(2, 10)), (F(5, 100), F(7, 100)))
    assert residual.gradient == ((F(22, 10), F(4, 10)), (F(55, 100), F(127, 100)))
    assert plain.running[1] == J2


def test_a_block_multiplies_a_I_plus_b_J():
    (net,) = jacobian_chain([J1], (parse_block("scaled:0.5"),)).networks
    assert net.gradient == ((F(6, 10), F(2, 10)), (F(0), F(8, 10)))


def test_backprop_vector():
    result = jacobian_chain([J1], CLASSIC, parse_vector("[1,-2]", "g"))
    assert result.networks[0].vector == (F(1, 10), F(-4, 10))  # J1^T g
    assert result.networks[1].vector == (F(11, 10), F(-24, 10))


def _sympy_singular_values(m):
    """Independent: square roots of the eigenvalues of M^T M, exactly, then to 60 digits."""
    a = sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in m])
    values = []
    for value, multiplicity in (a.T * a).eigenvals().items():
        values += [sp.re(sp.sqrt(value).evalf(60))] * multiplicity
    return sorted(values, reverse=True)


@pytest.mark.parametrize("m", [J1, J2, matmul(J2, J1), parse_matrix("[[1,2,0],[0,1,3],[4,0,1]]", "J")])
def test_singular_values_are_certified_to_50_digits(m):
    for mine, theirs in zip(spectrum(m).singular_values, _sympy_singular_values(m), strict=True):
        assert abs(sp.Float(str(mine), 60) - theirs) <= abs(theirs) * sp.Float("1e-50")


def test_exact_zero_singular_values_from_rank():
    m = parse_matrix("[[1,1],[1,1]]", "J")
    assert rank(m) == 1 and spectrum(m).singular_values[1] == 0 and spectrum(m).condition_number is None
    assert math.isclose(float(spectrum(m).singular_values[0]), 2.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=5))
def test_zero_jacobians_leave_the_residual_product_the_identity(d, n):
    zero = tuple(tuple(F(0) for _ in range(d)) for _ in range(d))
    plain, residual = jacobian_chain([zero] * n, CLASSIC).networks
    assert residual.gradient == identity(d) and all(x == 0 for row in plain.gradient for x in row)
    assert residual.spectra[0].condition_number == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=9), min_size=1, max_size=6))
def test_one_by_one_jacobians_are_the_scalar_chain(local):
    result = jacobian_chain([((d,),) for d in local], CLASSIC)
    for net in result.networks:
        assert net.gradient[0][0] == chain(local).network(net.name).gradient


def test_random_jacobians_reproducible_and_isometric_for_small_scales():
    a = random_jacobians(16, 30, F(1, 20), 7, CLASSIC)
    again = random_jacobians(16, 30, F(1, 20), 7, CLASSIC)
    assert [n.singular_values for n in a.networks] == [n.singular_values for n in again.networks]
    plain, residual = a.networks
    assert plain.singular_values[-1][0] < 1e-20  # the plain product collapses
    assert 0.3 < residual.singular_values[-1][-1] <= residual.singular_values[-1][0] < 3  # the residual stays near 1


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[[1,2],[3]]", "different lengths"),
        ("[[1,2,3],[4,5,6]]", "not square"),
        ("[1,2]", "not a matrix"),
        ("[[1,x],[0,1]]", "not a number"),
        ("[[1,2],[3,4]]]", "not a matrix"),
        ("", "not a matrix"),
    ],
)
def test_bad_matrices(text, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_matrix(text, "--jacobian 1")


def test_mismatched_shapes():
    with pytest.raises(InputError, match="does not match"):
        jacobian_chain([J1, parse_matrix("[[1]]", "J")], CLASSIC)
    with pytest.raises(InputError, match="^loss_grad"):
        jacobian_chain([J1], CLASSIC, parse_vector("[1,2,3]", "g"))


def test_work_is_bounded_before_it_is_done():
    """20,000 one-by-one Jacobians: refused by the work they would cost, pointing at chain."""
    with pytest.raises(InputError, match="chain D1 ... Dn"):
        jacobian_chain([((F(1, 2),),)] * 20_000, CLASSIC)
    big = tuple(tuple(F(i == j) for j in range(32)) for i in range(32))
    with pytest.raises(InputError, match="--format value"):
        jacobian_chain([big] * 10, CLASSIC)


def test_cli_jacobian(run):
    args = ["chain", "--jacobian", "[[0.1,0.2],[0,0.3]]", "--jacobian", "[[1,0],[0.5,-0.1]]"]
    data = json.loads(run(*args, "--format", "json").ok)
    assert data["plain"]["gradient"] == [["0.1", "0.2"], ["0.05", "0.07"]]
    assert data["residual"]["gradient"] == [["2.2", "0.4"], ["0.55", "1.27"]]
    assert data["plain"]["spectral_norm"] == data["plain"]["singular_values"][0]
    table = run(*args).ok
    assert "condition number" in table and "[[2.2, 0.4], [0.55, 1.27]]" in table
    out = run("backprop", "--jacobian", "[[0.1,0.2],[0,0.3]]", "--loss-grad", "[1,-2]", "--format", "value").ok
    assert out == "[0.1,-0.4]\t[1.1,-2.4]\n"


def test_random_jacobians_are_honest_about_floats(run):
    data = json.loads(run("chain", "--random-jacobians", "--dim", "8", "--layers", "40", "--format", "json").ok)
    assert data["exact"] is False
    plain = data["plain"]
    assert plain["condition_number"] is None and plain["condition_number_at_least"] > 1e10  # sigma_min is round-off
    table = run("chain", "--random-jacobians", "--dim", "8", "--layers", "40").ok
    assert "(round-off)" in table and "below float64 round-off" in table


@pytest.mark.parametrize(
    "args, named",
    [
        (["chain", "--jacobian", "[[1,2],[3]]"], "--jacobian 1"),
        (["chain", "--jacobian", "[[1]]", "--jacobian", "[[1,0],[0,1]]"], "--jacobian 2"),
        (["backprop", "--jacobian", "[[1]]", "--loss-grad", "2"], "--loss-grad"),
        (["backprop", "--jacobian", "[[1]]", "--target", "1"], "--target"),
        (["chain", "--random-jacobians", "--dim", "0"], "--dim"),
        (["chain", "--random-jacobians", "--layers", "100000"], "--layers"),
        (["chain", "--random-jacobians", "--scale", "-1"], "--scale"),
        (["chain", "--random-jacobians", "--seed", "-1"], "--seed"),
    ],
)
def test_cli_jacobian_errors(run, args, named):
    result = run(*args)
    assert (result.code, result.out) == (2, "") and result.err.count("\n") == 1 and named in result.err


def test_orthogonal_products_have_every_singular_value_at_the_scales_power():
    import skipcalc as api

    r = api.chain(random_jacobians=True, dim=16, layers=7, scale=0.8, weights="orthogonal", plain=True)
    (net,) = r.networks
    assert all(abs(v / 0.8**7 - 1) < 1e-12 for v in net.singular_values[-1])
    assert net.theory == (F(8, 10) ** 14, F(0))


def test_spectrum_theory_beside_the_measurement():
    """Mean of sigma^2 of the product: s^(2L) (plain) and (1 + s^2)^L (residual), exact; the
    measured mean over seeds (numpy, independent of the formula) agrees in expectation."""
    import numpy as np

    import skipcalc as api

    means = {"plain": [], "residual": []}
    for seed in range(30):
        r = api.chain(random_jacobians=True, dim=32, layers=3, scale=0.5, seed=seed)
        for net in r.networks:
            means[net.name].append(np.mean(np.square(net.singular_values[-1])))
    theory = {net.name: net.theory for net in r.networks}
    assert theory["plain"] == (F(1, 64), F(3, 4096)) and theory["residual"][0] == F(125, 64)
    assert abs(np.mean(means["plain"]) / float(theory["plain"][0]) - 1) < 0.1
    assert abs(np.mean(means["residual"]) / float(theory["residual"][0]) - 1) < 0.05
