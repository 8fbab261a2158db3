"""SymPy derivations and formula layers, checked against independent computations."""

import json
import subprocess
import sys
import time
from fractions import Fraction as F

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skipcalc import backprop, chain, loss
from skipcalc.chain import path_contributions
from skipcalc.numbers import InputError
from skipcalc.symbolic import (
    chain_derivation,
    formula_chain,
    local_symbols,
    parse_formula,
    residual_expansion,
    sympy_loss_gradient,
)

fractions = st.fractions(min_value=-3, max_value=3, max_denominator=100)


def test_seed_derivation_reads_one_plus_point_three():
    lines = "\n".join(chain_derivation(chain([F(1, 10)] * 3)).lines)
    assert "= 1 + 0.3 + 0.03 + 0.001" in lines
    assert "= 1.331" in lines and "the path that skips every layer" in lines


def test_backprop_derivation_starts_from_the_loss_gradient():
    lines = chain_derivation(backprop([F(1, 10)] * 3, F(-4))).lines
    assert lines[1].strip() == "dL/dx0 = dL/dx3 * dx3/dx0, with dL/dx3 = -4"
    assert any("= -4 * 1.331 = -5.324" in line for line in lines)


@settings(deadline=None, max_examples=40)
@given(st.lists(fractions, min_size=0, max_size=6))
def test_sympy_expansion_equals_the_numeric_core(local):
    """SymPy's expansion of prod(1 + F_i'), grouped by degree and substituted, equals the
    integer recurrence for e_k, and the groups sum to the residual product."""
    groups = residual_expansion(len(local))
    subs = dict(zip(local_symbols(len(local)), local, strict=True))
    by_length = [F(str(groups.get(k, 0).subs(subs))) for k in range(len(local) + 1)]
    assert by_length == path_contributions(local)
    assert sum(by_length, F(0)) == chain(local).network("residual").gradient


@pytest.mark.parametrize("n", range(11))
def test_ring_expansion_is_sympy_expand_grouped_by_degree(n):
    """The table's expansion (SymPy's polynomial ring, written back unevaluated) against
    sp.expand of the product: the same groups, printed the same."""
    ds = local_symbols(n)
    expanded = sp.expand(sp.Mul(*[1 + d for d in ds]))
    expected: dict[int, sp.Expr] = {}
    for term in sp.Add.make_args(expanded):
        degree = sum(1 for factor in sp.Mul.make_args(term) if factor in ds)
        expected[degree] = expected.get(degree, sp.Integer(0)) + term
    groups = residual_expansion(n)
    assert sorted(groups) == list(range(n + 1))
    for k, group in groups.items():
        assert sp.expand(group - expected[k]) == 0
        assert str(group) == str(expected[k])
        assert sp.latex(group) == sp.latex(expected[k])


def test_table_derivation_does_not_load_sympy_tensor():
    """The first evaluated Add imports sympy.tensor (60 ms); the table view avoids it."""
    code = (
        "import sys; from fractions import Fraction as F; from skipcalc import chain;"
        "from skipcalc.symbolic import chain_derivation;"
        "lines = chain_derivation(chain([F(1, 10)] * 3), full=False).lines;"
        "assert '1.331' in ' '.join(lines); print('sympy.tensor.tensor' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(deadline=None, max_examples=60)
@given(
    st.sampled_from(["mse", "mae", "huber", "bce"]),
    st.fractions(min_value=0, max_value=1, max_denominator=50),
    st.fractions(min_value=F(1, 100), max_value=F(99, 100), max_denominator=100),
    st.fractions(min_value=F(1, 10), max_value=3, max_denominator=10),
)
def test_sympy_loss_derivative_equals_the_core(kind, target, pred, delta):
    d = delta if kind == "huber" else None
    assert sympy_loss_gradient(kind, target, pred, d) == loss(kind, target, pred, d).gradient


def test_formula_layers_stay_exact_where_sympy_does():
    result = formula_chain(["0.5*x"] * 3, F(1), ["plain", "residual"])
    plain, residual = result.networks
    assert (plain.gradient, residual.gradient) == (F(1, 8), F(27, 8))
    assert plain.points == (1, F(1, 2), F(1, 4), F(1, 8))
    assert residual.points[-1] == F(27, 8)


def test_the_two_networks_visit_different_points():
    plain, residual = formula_chain(["x**2"], F(3), ["plain", "residual"]).networks
    assert plain.points == (3, 9) and residual.points == (3, 12)
    assert plain.gradient == 6 and residual.gradient == 7


def test_relu_and_abs_at_zero():
    plain, residual = formula_chain(["relu(x)"], F(0), ["plain", "residual"]).networks
    assert plain.local == (0,) and residual.gradient == 1
    plain, _ = formula_chain(["abs(x)"], F(0), ["plain", "residual"]).networks
    assert plain.local == (0,)


# Central finite differences with mpmath at 50 digits: an independent check of both the
# symbolic derivative and the evaluator, for every supported function.
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


def _finite_difference_gradient(fns, x0, residual):
    with mpmath.workdps(50):
        h = mpmath.mpf(10) ** -20

        def forward(x):
            for f in fns:
                x = x + f(x) if residual else f(x)
            return x

        x0 = mpmath.mpf(x0.numerator) / x0.denominator
        return (forward(x0 + h) - forward(x0 - h)) / (2 * h)


@pytest.mark.parametrize("text", list(FUNCTIONS))
@pytest.mark.parametrize("network", ["plain", "residual"])
def test_formula_gradient_matches_finite_differences(text, network):
    fns = [FUNCTIONS[text], FUNCTIONS["tanh(x)"]]
    x0 = F(7, 10)
    result = formula_chain([text, "tanh(x)"], x0, [network])
    expected = _finite_difference_gradient(fns, x0, network == "residual")
    with mpmath.workdps(50):
        got = mpmath.mpf(str(result.networks[0].gradient))
        assert abs(got - expected) <= abs(expected) * mpmath.mpf(10) ** -20


# --- safety ---------------------------------------------------------------------


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
        ("sin(x)", "1e20"),
        ("x**100", "1e5000"),
        ("x**x", "1000000"),
    ],
)
def test_evaluation_is_bounded_and_refused_clearly(text, at):
    start = time.monotonic()
    with pytest.raises(InputError):
        formula_chain([text] * 3, F(at), ["plain", "residual"])
    assert time.monotonic() - start < 2


def test_chained_powers_do_not_run_away():
    start = time.monotonic()
    with pytest.raises(InputError):
        formula_chain(["x**100"] * 20, F(3, 2), ["plain", "residual"])
    assert time.monotonic() - start < 2


def test_parser_never_calls_eval(monkeypatch):
    import builtins

    def trap(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)
    formula_chain(["tanh(x) + sigmoid(x)*2"], F(1, 2), ["plain", "residual"])


# --- CLI ------------------------------------------------------------------------


def test_cli_formula_chain(cli):
    result = cli("chain", "--fn", "0.5*x", "--fn", "0.5*x", "--fn", "0.5*x", "--at", "1", "--format", "value")
    assert result.stdout == "0.125\t3.375\n"


def test_cli_formula_json_has_30_digits_and_closed_form(cli):
    args = ["chain", "--fn", "tanh(x)", "--fn", "sin(x)", "--fn", "x**2/2", "--at", "0.5", "--format", "json"]
    data = json.loads(cli(*args).stdout)
    gradient = data["plain"]["gradient"]
    assert len(gradient.replace("0.", "", 1).lstrip("0")) >= 30
    assert data["plain"]["symbolic"] == "x_2*(1 - tanh(x_0)**2)*cos(x_1)"
    assert data["exact"] is False


def test_cli_backprop_formula(cli):
    result = cli("backprop", "--fn", "2*x", "--at", "1", "--target", "10", "--pred", "8", "--format", "value")
    assert result.stdout == "-8\t-12\n"


def test_cli_symbolic_and_latex(cli):
    data = json.loads(cli("chain", "0.1", "0.1", "0.1", "--format", "json", "--symbolic").stdout)
    assert data["derivation"]["residual"]["by_length"] == ["1", "0.3", "0.03", "0.001"]  # written like every number
    assert "latex" in data["derivation"]["plain"]
    latex = cli("chain", "0.1", "0.1", "--latex").stdout
    assert "\\frac{\\partial x_{2}}{\\partial x_0}" in latex
    assert "L = \\left(- P + T\\right)^{2}" in cli("loss", "--target", "10", "--pred", "8", "--latex").stdout


def test_cli_loss_table_shows_sympy_derivative(cli):
    out = cli("loss", "--target", "10", "--pred", "8").stdout
    assert "dL/dP = 2*P - 2*T" in out and "at T = 10, P = 8: dL/dP = -4" in out


@pytest.mark.parametrize(
    "args, named",
    [
        (["chain", "--fn", "x.__class__", "--at", "1"], "--fn 1"),
        (["chain", "--fn", "x", "--fn", "open('f')", "--at", "1"], "--fn 2"),
        (["chain", "--fn", "x"], "--at"),
        (["chain", "0.1", "--fn", "x", "--at", "1"], "--fn"),
        (["chain", "0.1", "--at", "1"], "--at"),
        (["chain", "--fn", "log(x)", "--at", "-1"], "--fn 1"),
    ],
)
def test_cli_formula_errors(cli, args, named):
    result = cli(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and named in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["chain", "0.1", "0.1", "--format", "json"],
        ["chain", "0.1", "--format", "value"],
        ["chain", "0.1", "--format", "csv"],
        ["backprop", "0.1", "--target", "1", "--pred", "0", "--format", "json"],
        ["loss", "--target", "1", "--pred", "0", "--format", "value"],
        ["update", "--weight", "1", "--lr", "1", "--grad", "1", "--input", "1", "--format", "json"],
        ["--help"],
    ],
)
def test_machine_formats_do_not_import_sympy_or_rich(args):
    code = (
        "import sys\nfrom skipcalc.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('LOADED', 'sympy' in sys.modules, 'rich' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "LOADED False False" in result.stderr, result.stderr
