"""Vector layers: exact Jacobian products, singular values, random Jacobians."""

import json
import math
import xml.dom.minidom
from fractions import Fraction as F

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc.jacobian import (
    identity,
    jacobian_chain,
    matmul,
    parse_matrix,
    parse_vector,
    random_jacobians,
    rank,
    singular_values,
)
from skipcalc.numbers import InputError

J1 = parse_matrix("[[0.1,0.2],[0,0.3]]", "J")
J2 = parse_matrix("[[1,0],[0.5,-0.1]]", "J")


def test_products_by_hand():
    result = jacobian_chain([J1, J2], ["plain", "residual"])
    plain, residual = result.networks
    # J2 J1 = [[0.1, 0.2], [0.05 + 0, 0.1 - 0.03]]
    assert plain.gradient == ((F(1, 10), F(2, 10)), (F(5, 100), F(7, 100)))
    # (I + J2)(I + J1) = [[2, 0], [0.5, 0.9]] [[1.1, 0.2], [0, 1.3]]
    assert residual.gradient == ((F(22, 10), F(4, 10)), (F(55, 100), F(127, 100)))
    assert plain.running[1] == J2  # dx2/dx1


def test_backprop_vector():
    result = jacobian_chain([J1], ["plain", "residual"], parse_vector("[1,-2]", "g"))
    assert result.networks[0].vector == (F(1, 10), F(-4, 10))  # J1^T g
    assert result.networks[1].vector == (F(11, 10), F(-24, 10))


def _sympy_singular_values(m):
    """Independent: square roots of the eigenvalues of M^T M, exactly, then to 45 digits."""
    a = sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in m])
    eigen = (a.T * a).eigenvals()
    values = []
    for value, multiplicity in eigen.items():
        values += [sp.re(sp.sqrt(value).evalf(45))] * multiplicity  # cubic roots carry 0.e-54*I
    return sorted(values, reverse=True)


@pytest.mark.parametrize("m", [J1, J2, matmul(J2, J1), parse_matrix("[[1,2,0],[0,1,3],[4,0,1]]", "J")])
def test_singular_values_against_sympy(m):
    got = singular_values(m)
    for mine, theirs in zip(got, _sympy_singular_values(m), strict=True):
        assert abs(sp.Float(str(mine), 45) - theirs) <= abs(theirs) * sp.Float("1e-35")


def test_exact_zero_singular_values_from_rank():
    m = parse_matrix("[[1,1],[1,1]]", "J")
    assert rank(m) == 1
    assert singular_values(m)[1] == 0
    assert math.isclose(float(singular_values(m)[0]), 2.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=5))
def test_residual_product_of_zero_jacobians_is_the_identity(d, n):
    zero = tuple(tuple(F(0) for _ in range(d)) for _ in range(d))
    result = jacobian_chain([zero] * n, ["plain", "residual"])
    assert result.networks[1].gradient == identity(d)
    assert all(x == 0 for row in result.networks[0].gradient for x in row)
    assert result.networks[1].spectra[0].condition_number == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=9), min_size=1, max_size=6))
def test_one_by_one_jacobians_are_the_scalar_chain(local):
    from skipcalc import chain

    result = jacobian_chain([((d,),) for d in local], ["plain", "residual"])
    scalar = chain(local)
    for net in result.networks:
        assert net.gradient[0][0] == scalar.network(net.name).gradient


def test_random_jacobians_reproducible_and_isometric_for_small_scales():
    a = random_jacobians(16, 30, F(1, 20), 7, ["plain", "residual"])
    b = random_jacobians(16, 30, F(1, 20), 7, ["plain", "residual"])
    assert a == b
    assert a.plain[-1][0] < 1e-20  # the plain product collapses
    assert 0.3 < a.residual[-1][-1] <= a.residual[-1][0] < 3  # the residual one stays near 1


def test_random_64_by_64_by_50_is_fast():
    import time

    start = time.process_time()
    random_jacobians(64, 50, F(1), 0, ["plain", "residual"])
    assert time.process_time() - start < 2


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
        jacobian_chain([J1, parse_matrix("[[1]]", "J")], ["plain"])
    with pytest.raises(InputError, match="--loss-grad"):
        jacobian_chain([J1], ["plain"], parse_vector("[1,2,3]", "g"))


def test_cli_jacobian(cli):
    args = ["chain", "--jacobian", "[[0.1,0.2],[0,0.3]]", "--jacobian", "[[1,0],[0.5,-0.1]]"]
    data = json.loads(cli(*args, "--format", "json").stdout)
    assert data["plain"]["gradient"] == [["0.1", "0.2"], ["0.05", "0.07"]]
    assert data["residual"]["gradient"] == [["2.2", "0.4"], ["0.55", "1.27"]]
    assert len(data["plain"]["singular_values"]) == 2
    assert data["plain"]["spectral_norm"] == data["plain"]["singular_values"][0]
    assert len(data["plain"]["spectral_norm"].replace("0.", "", 1).lstrip("0")) >= 30
    table = cli(*args).stdout
    assert "condition number" in table and "[[2.2, 0.4], [0.55, 1.27]]" in table
    out = cli("backprop", "--jacobian", "[[0.1,0.2],[0,0.3]]", "--loss-grad", "[1,-2]", "--format", "value").stdout
    assert out == "[0.1,-0.4]\t[1.1,-2.4]\n"


def test_cli_random_jacobians(cli, tmp_path):
    svg = tmp_path / "sv.svg"
    result = cli("chain", "--random-jacobians", "--dim", "8", "--layers", "10", "--scale", "0.5", "--save", str(svg))
    assert result.exit_code == 0 and "log10 singular values" in result.stdout
    xml.dom.minidom.parse(str(svg))
    data = json.loads(cli("chain", "--random-jacobians", "--dim", "4", "--layers", "3", "--format", "json").stdout)
    assert len(data["rows"]) == 3 and data["seed"] == 0 and len(data["plain"]["singular_values"]) == 4


@pytest.mark.parametrize(
    "args, named",
    [
        (["chain", "--jacobian", "[[1,2],[3]]"], "--jacobian 1"),
        (["chain", "--jacobian", "[[1]]", "--jacobian", "[[1,0],[0,1]]"], "--jacobian 2"),
        (["chain", "0.1", "--jacobian", "[[1]]"], "--jacobian"),
        (["backprop", "--jacobian", "[[1]]", "--loss-grad", "2"], "--loss-grad"),
        (["backprop", "--jacobian", "[[1]]", "--target", "1", "--pred", "0"], "--loss-grad"),
        (["chain", "--random-jacobians", "--dim", "0"], "--dim"),
        (["chain", "--random-jacobians", "--layers", "100000"], "--layers"),
        (["chain", "--random-jacobians", "--scale", "-1"], "--scale"),
    ],
)
def test_cli_jacobian_errors(cli, args, named):
    result = cli(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and named in result.stderr
