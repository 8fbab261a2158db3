"""Formula layers: the safe parser, the certified evaluator, and the derivations."""

import json
from fractions import Fraction as F

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc import chain
from skipcalc.core.blocks import CLASSIC, PLAIN, parse_block
from skipcalc.core.errors import InputError
from skipcalc.core.formula import formula_result, parse_formula
from skipcalc.core.losses import loss
from skipcalc.core.paths import path_contributions
from skipcalc.output.derive import chain_derivation, local_symbols, residual_expansion, sympy_loss_gradient


def test_exact_where_sympy_is():
    plain, residual = formula_result(["0.5*x"] * 3, F(1), CLASSIC).networks
    assert (plain.gradient, residual.gradient) == (F(1, 8), F(27, 8))
    assert plain.points == (1, F(1, 2), F(1, 4), F(1, 8)) and residual.points[-1] == F(27, 8)


def test_the_two_networks_visit_different_points():
    plain, residual = formula_result(["x**2"], F(3), CLASSIC).networks
    assert (plain.points, residual.points, plain.gradient, residual.gradient) == ((3, 9), (3, 12), 6, 7)


def test_relu_and_abs_at_zero():
    plain, residual = formula_result(["relu(x)"], F(0), CLASSIC).networks
    assert plain.local == (0,) and residual.gradient == 1
    assert formula_result(["abs(x)"], F(0), (PLAIN,)).networks[0].local == (0,)


FUNCTIONS = {
    "exp(x)": mpmath.exp,
    "log(x)": mpmath.log,
    "sqrt(x)": mpmath.sqrt,
    "sin(x)": mpmath.sin,
    "cos(x)": mpmath.cos,
    "tan(x)": mpmath.tan,
    "tanh(x)": mpmath.tanh,
    "sigmoid(x)": lambda x: 1 / (1 + mpmath.exp(-x)),
    "relu(x)": lambda x: max(x, 0),
    "softplus(x)": lambda x: mpmath.log(1 + mpmath.exp(x)),
    "gelu(x)": lambda x: x / 2 * (1 + mpmath.erf(x / mpmath.sqrt(2))),
    "erf(x)": mpmath.erf,
    "abs(x)": abs,
    "x**3/3 - x": lambda x: x**3 / 3 - x,
    "pi*x/e": lambda x: mpmath.pi * x / mpmath.e,
}


@pytest.mark.parametrize("text", list(FUNCTIONS))
@pytest.mark.parametrize("block", ["plain", "residual", "scaled:0.5"])
def test_gradients_match_central_differences(text, block):
    """Independent: the forward pass in mpmath at 60 digits, differentiated numerically."""
    b = parse_block(block)
    fns = [FUNCTIONS[text], FUNCTIONS["tanh(x)"]]
    x0 = F(7, 10)
    result = formula_result([text, "tanh(x)"], x0, (b,))
    with mpmath.workdps(60):
        h = mpmath.mpf(10) ** -25

        def forward(x):
            for f in fns:
                x = mpmath.mpf(b.a.numerator) / b.a.denominator * x + mpmath.mpf(b.b.numerator) / b.b.denominator * f(x)
            return x

        x = mpmath.mpf(7) / 10
        expected = (forward(x + h) - forward(x - h)) / (2 * h)
        assert abs(mpmath.mpf(str(result.networks[0].gradient)) - expected) <= abs(expected) * mpmath.mpf(10) ** -30


@pytest.mark.parametrize(
    "text, at, expected",
    [
        ("tanh(x)", "100", "5.5355861069469501225947"),  # sech(100)^2: 1 - tanh^2 would cancel to 0
        ("x - sin(x)", "1e-50", "5e-101"),  # 1 - cos(1e-50)
        ("gelu(x)", "700", "1"),
        ("erf(x)", "481", "1."),  # about 1e-100479: far below double range, fine for mpmath
    ],
)
def test_no_false_zeros_and_no_refusal_where_the_answer_is_finite(text, at, expected):
    from skipcalc.core.exact import show

    result = formula_result([text], F(at), (PLAIN,))
    value = result.networks[0].gradient
    assert show(value).text.startswith(expected) and value != 0


def test_erf_derivative_at_481_is_about_1e_minus_100479():
    value = formula_result(["erf(x)"], F(481), (PLAIN,)).networks[0].gradient
    with mpmath.workdps(60):
        truth = 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-(mpmath.mpf(481) ** 2))
        assert abs(mpmath.mpf(str(value)) / truth - 1) < mpmath.mpf(10) ** -45


def test_ten_layers_of_gelu_from_1_5_pass_741():
    result = formula_result(["gelu(x)"] * 10, F(3, 2), CLASSIC)
    assert result.networks[1].points[-1] > 741


LEAVES = st.sampled_from(["x", "2", "0.5", "pi", "e", "(x + 1)", "(2*x)"])
FUNCTIONS_OF = st.sampled_from(
    ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "softplus", "gelu", "erf", "abs"]
)


@st.composite
def formulas(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(LEAVES)
    kind = draw(st.sampled_from(["f", "+", "-", "*", "/"]))
    if kind == "f":
        return f"{draw(FUNCTIONS_OF)}({draw(formulas(depth - 1))})"
    return f"({draw(formulas(depth - 1))} {kind} {draw(formulas(depth - 1))})"


@settings(max_examples=60, deadline=None)
@given(formulas(), st.sampled_from(["0.3", "1.7", "-0.4", "12", "1e-20"]))
def test_every_digit_is_earned(text, at):
    """Random formulas and points, against the same evaluation at 3x the precision: where
    skipcalc answers, its 40 printed digits are those of the far more precise value."""
    from skipcalc.core.exact import show
    from skipcalc.core.formula import Evaluator, parse_layer

    try:
        result = formula_result([text], F(at), (PLAIN,))
    except InputError:
        return  # undefined here (log of a negative...): refused, not printed
    layer = parse_layer(text, "--fn 1")
    with mpmath.workdps(3 * 80 * 4):
        reference = Evaluator("check")(layer.df, mpmath.mpf(F(at).numerator) / F(at).denominator)
    got = result.networks[0].gradient
    if isinstance(got, F):
        with mpmath.workdps(3 * 80 * 4):
            if got == 0:  # exactly 0 ((x+1)/(2x+2) is 1/2): the reference keeps only its rounding residue
                assert isinstance(reference, F) and reference == 0 or abs(reference) <= mpmath.mpf(10) ** -900
                return
            assert (
                abs(mpmath.mpf(got.numerator) / got.denominator - reference) <= abs(reference) * mpmath.mpf(10) ** -900
            )
        return
    from decimal import Decimal

    assert show(got).text == show(Decimal(mpmath.nstr(reference, 70, min_fixed=1, max_fixed=0))).text


# --- safety ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("x.real", "attribute access"),
        ("x[0]", "subscripts"),
        ("(lambda: x)()", "not a function"),
        ("lambda: 1", "lambdas"),
        ("[x for x in (1,)]", "comprehensions"),
        ("'x'", "only numbers"),
        ("sin(x=1)", "keyword"),
        ("y", "unknown name"),
        ("__import__('os')", "not a function"),
        ("os.system('true')", "not a function"),
        ("sin(x, x)", "exactly one argument"),
        ("x**1000", "exponents"),
        ("9**9**9", "exponents"),
        ("x if x else 1", "conditionals"),
        ("x < 1", "comparisons"),
        ("1j", "only numbers"),
        ("x @ x", "operator"),
        ("x +", "not a formula"),
        ("", "empty"),
        ("x" * 301, "longer than"),
        ("sin(" * 40 + "x" + ")" * 40, "nests deeper"),
        ("-" * 40 + "x", "nests deeper"),
        ("1/0", "division by zero"),
    ],
)
def test_refused_formulas(text, fragment):
    with pytest.raises(InputError) as error:
        parse_formula(text, "--fn 1")
    assert fragment in str(error.value) and str(error.value).startswith("--fn 1")


@pytest.mark.parametrize(
    "text, at",
    [
        ("exp(exp(exp(x)))", "10"),
        ("log(x)", "-1"),
        ("sqrt(x)", "-4"),
        ("1/x", "0"),
        ("sin(x)", "1e2000"),
        ("x**x", "1000000"),
    ],
)
def test_undefined_or_unaffordable_values_are_refused_by_name(text, at):
    with pytest.raises(InputError) as error:
        formula_result([text] * 3, F(at), CLASSIC)
    assert str(error.value).startswith("fn")


def test_exact_values_too_large_continue_as_certified_ones():
    """x**100 three times from 1.0001: the exact fractions would have millions of digits."""
    result = formula_result(["x**100"] * 3, F(10001, 10000), (PLAIN,))
    with mpmath.workdps(80):
        truth = mpmath.mpf(100) ** 3 * (mpmath.mpf("1.0001") ** (100**3 - 1))
        assert abs(mpmath.mpf(str(result.networks[0].gradient)) / truth - 1) < mpmath.mpf(10) ** -45


def test_nested_tanh_stays_quick():
    """Ten nested tanh: SymPy re-evaluating a substitution with changed assumptions took 17 s."""
    text = "tanh(" * 10 + "x" + ")" * 10
    result = formula_result([text], F(1, 2), CLASSIC)
    assert "sech" in result.networks[0].closed_form


def test_the_parser_never_calls_eval(monkeypatch):
    import builtins

    def trap(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)
    formula_result(["tanh(x) + sigmoid(x)*2"], F(1, 2), CLASSIC)


# --- backprop through formulas -------------------------------------------------------------


def test_each_network_takes_the_loss_at_its_own_output():
    result = formula_result(["tanh(x)", "sigmoid(x)"], F(1, 2), CLASSIC, own_loss=("mse", F(1), None))
    plain, residual = result.networks
    assert plain.loss.pred == plain.points[-1] and residual.loss.pred == residual.points[-1]
    assert plain.upstream != residual.upstream
    for net in (plain, residual):  # dL/dx_n = -2(T - x_n)
        assert abs(F(net.upstream) - (-2 * (1 - F(net.points[-1])))) < F(1, 10**45)


# --- derivations ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=100), min_size=1, max_size=6))
def test_sympys_expansion_equals_the_core(local):
    groups = residual_expansion(len(local))
    subs = dict(zip(local_symbols(len(local)), [sp.Rational(d.numerator, d.denominator) for d in local], strict=True))
    by_length = [F(str(groups.get(k, sp.Integer(0)).xreplace(subs))) for k in range(len(local) + 1)]
    assert by_length == path_contributions(local)
    assert sum(by_length, F(0)) == chain(local).network("residual").gradient


@pytest.mark.parametrize("n", range(1, 9))
def test_ring_expansion_is_sympy_expand(n):
    ds = local_symbols(n)
    expanded = sp.expand(sp.Mul(*[1 + d for d in ds]))
    for k, group in residual_expansion(n).items():
        degree_k = [t for t in sp.Add.make_args(expanded) if sum(1 for f in sp.Mul.make_args(t) if f in ds) == k]
        assert sp.expand(group - sp.Add(*degree_k)) == 0


def test_derivation_numbers_follow_layer_order():
    from skipcalc.output.table import wrap_equation

    lines = [
        " ".join(wrap_equation(line, 200))
        for line in chain_derivation(chain([F(1, 10), F(2, 10), F(3, 10), F(4, 10)])).lines
    ]
    text = "\n".join(lines)
    assert "F_1' * F_2' * F_3' * F_4'" in text and "0.1 * 0.2 * 0.3 * 0.4" in text
    negative = "\n".join(" ".join(wrap_equation(x, 200)) for x in chain_derivation(chain([F(-1, 2), F(1, 10)])).lines)
    assert "= 1 - 0.4 - 0.05" in negative


def test_latex_is_aligned_with_primes_and_numbers():
    derivation = chain_derivation(chain([F(1, 10)] * 3))
    assert derivation.latex.startswith("\\begin{aligned}") and "F'_{1}" in derivation.latex
    assert "1.331" in derivation.latex and "0.001" in derivation.latex


def test_relu_derivative_reads_as_an_indicator(run):
    latex = run("chain", "--fn", "relu(x)", "--at", "1", "--latex").ok
    assert "\\left[x > 0\\right]" in latex and "theta" not in latex.lower()
    assert "[x > 0]" in run("chain", "--fn", "relu(x)", "--at", "1").ok


@settings(deadline=None, max_examples=40)
@given(
    st.sampled_from(["mse", "mae", "huber", "bce"]),
    st.fractions(min_value=0, max_value=1, max_denominator=50),
    st.fractions(min_value=F(1, 100), max_value=F(99, 100), max_denominator=100),
    st.fractions(min_value=F(1, 10), max_value=3, max_denominator=10),
)
def test_sympys_loss_derivative_equals_the_core(kind, target, pred, delta):
    d = delta if kind == "huber" else None
    assert sympy_loss_gradient(kind, target, pred, d) == loss(kind, target, pred, d).gradient


def test_cli_formula_json(run):
    args = ["chain", "--fn", "tanh(x)", "--fn", "sin(x)", "--fn", "x**2/2", "--at", "0.5", "--format", "json"]
    data = json.loads(run(*args).ok)
    assert data["plain"]["symbolic"] == "x_2 * cos(x_1) * sech(x_0)**2" and data["exact"] is False
    assert data["plain"]["gradient"].startswith("0.31385544846780158980640770210383118242")
