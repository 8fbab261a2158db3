"""Formula activations are checked by interval arithmetic: the enclosures hold the true
expectations (mpmath's quadrature, split at the features, in the test), and a feature narrower
than the quadrature's nodes is refused rather than answered from the nodes."""

import mpmath
import pytest
from conftest import skipcalc

import skipcalc as api
from skipcalc.core.errors import InputError
from skipcalc.core.meanfield.activations import activation
from skipcalc.core.meanfield.enclosure import TOLERANCE, enclose

CASES = [
    ("x*sigmoid(x)", 1.0, []),
    ("tanh(x)", 0.3, []),
    ("tanh(x)", 1e-20, []),
    ("tanh(x)", 1e20, [0]),  # a feature 10^10 times finer than the Gaussian: 3,000 cells reach 1e-2
    ("sin(x)", 2.0, []),
    ("abs(x)", 1.0, [0]),
    ("relu(x)**2", 2.0, [0]),
    ("x**3", 3.0, []),
    ("softplus(x) - log(2)", 0.7, []),
    ("erf(2*x) + x/3", 1.5, []),
]


def _mp_expectations(text: str, q: float, breaks: list[float]) -> tuple[mpmath.mpf, mpmath.mpf]:
    """E[φ²] and E[φ′²] under N(0, q) by mpmath's own quadrature (φ and φ′ by mpmath's numerical
    derivative of the formula evaluated in mpmath), the line split at the kinks."""
    import sympy as sp

    from skipcalc.core.formula import X, parse_layer

    layer = parse_layer(text, "--act")
    f = sp.lambdify(
        X,
        layer.f,
        modules=[
            {
                "relu": lambda v: max(v, 0),
                "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)),
                "softplus": lambda v: mpmath.log1p(mpmath.exp(v)),
                "erf": mpmath.erf,
            },
            "mpmath",
        ],
    )
    mpmath.mp.dps = 30
    sd = mpmath.sqrt(q)

    def density(u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.exp(-u * u / (2 * q)) / (sd * mpmath.sqrt(2 * mpmath.pi))

    points = sorted({-40 * sd, *[mpmath.mpf(b) for b in breaks], 40 * sd, *[k * sd for k in range(-8, 9)]})
    e2 = mpmath.quad(lambda u: f(u) ** 2 * density(u), points)
    d2 = mpmath.quad(lambda u: mpmath.diff(f, u) ** 2 * density(u), points)
    return e2, d2


@pytest.mark.parametrize(("text", "q", "breaks"), CASES)
def test_enclosures_hold_mpmaths_values_and_are_narrow(text, q, breaks):
    (e_low, e_high), (d_low, d_high) = enclose(activation(text).exprs, q)
    e2, d2 = _mp_expectations(text, q, breaks)
    assert e_low <= e2 <= e_high
    assert d_low <= d2 <= d_high
    tolerance = TOLERANCE if q < 1e10 else 10 * TOLERANCE
    assert e_high - e_low <= tolerance * abs(e_high)
    assert d_high - d_low <= tolerance * abs(d_high)


def test_a_narrow_bump_the_nodes_miss_is_refused():
    # the first factor is about 587,030 (the bump's slope squared, weighted by its mass);
    # the quadrature's nodes step over the bump and would print 1.5
    text = "x+exp(-1e12*(x-0.7)**2)"
    ran = skipcalc(
        "meanfield", "--act", text, "--weight-var", "1.5", "--bias-var", "0.05", "--layers", "1", "--format", "value"
    )
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith("skipcalc: error: --act:") and "narrower than the quadrature's nodes" in ran.err
    assert ran.err.count("\n") == 1
    # the enclosure holds the bump's contribution, which mpmath finds when told where it is
    (_, _), (d_low, d_high) = enclose(activation(text).exprs, 1.0)
    _, d2 = _mp_expectations(text, 1.0, [0.7 - 1e-5, 0.7, 0.7 + 1e-5])
    assert d_low <= d2 <= d_high and d2 > 1e5
    with pytest.raises(InputError, match="^act:"):
        api.meanfield(text, weight_var=1.5, bias_var=0.05, layers=1)


def test_a_step_narrower_than_the_double_range_cannot_be_bounded():
    ran = skipcalc("meanfield", "--act", "tanh(1e300*x)", "--weight-var", "1.5", "--bias-var", "0.05", "--layers", "1")
    assert (ran.code, ran.out) == (2, "")
    assert "cannot be bounded" in ran.err and ran.err.startswith("skipcalc: error: --act:")
    ran = skipcalc("meanfield", "--act", "tanh(1e300*x)", "--bias-var", "0.05", "--critical")
    assert (ran.code, ran.out) == (2, "") and "cannot be bounded" in ran.err


def test_ordinary_formulas_still_answer():
    r = api.meanfield("x*sigmoid(x)", weight_var=2, bias_var=0.05, layers=3)
    assert r.phase in ("ordered", "chaotic")
    assert skipcalc("meanfield", "--act", "abs(x)", "--weight-var", "1.5", "--layers", "1", "--format", "value").ok


def test_a_formulas_quadrature_work_is_budgeted_by_its_size(monkeypatch):
    """A formula costs about 1.3 microseconds per operation at each node: its evaluations are
    counted in time, not in nodes, and refused by name past the budget (here made tiny)."""
    from skipcalc.core.meanfield import quadrature

    assert activation("x*sigmoid(x)").cost > activation("tanh").cost  # 28 operations against a named one
    monkeypatch.setattr(quadrature, "NODE_WORK", 50_000)
    with pytest.raises(InputError, match="microseconds at each quadrature node"):
        api.meanfield("x*sigmoid(x)", weight_var=2, bias_var=0.05, layers=3)
    api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=1, digits=4)  # a small named case still fits


def test_a_long_formula_gets_fewer_cells_not_more_time():
    from skipcalc.core.meanfield.enclosure import Derivatives

    short, long = (Derivatives(activation(t).exprs) for t in ("tanh(x)", "+".join(f"sin({k}*x)" for k in range(1, 30))))
    assert long.cost > 15 * short.cost  # 29 sines against one tanh
