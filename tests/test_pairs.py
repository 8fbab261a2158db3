"""Two inputs through depth (--input-corr): the correlation recursions against composite
Gauss-Legendre sums made here (a different rule from skipcalc's trapezoid grid), one kernel value against
mpmath's two-dimensional quadrature, relu's arc-cosine kernel against mpmath, and the
prediction against wide random networks drawn with numpy."""

import json
import math

import mpmath
import numpy as np
import pytest
from conftest import skipcalc

import skipcalc as api
from skipcalc.core.meanfield.activations import activation
from skipcalc.core.meanfield.pairs import _Kernel

_X, _V = np.polynomial.legendre.leggauss(20)
_EDGES = np.linspace(-9, 9, 37)  # 36 panels of 20 Gauss-Legendre nodes over |z| <= 9
_PANELS = list(zip(_EDGES[:-1], _EDGES[1:], strict=True))
Z = np.concatenate([(a + b) / 2 + (b - a) / 2 * _X for a, b in _PANELS])
W = np.concatenate([(b - a) / 2 * _V for a, b in _PANELS]) * np.exp(-Z * Z / 2) / math.sqrt(2 * math.pi)


def _pair(f, v, c):
    """E[f(u)], E[f(u)^2], E[f(u) f(u')] for (u, u') of variance v and correlation c."""
    s = math.sqrt(max(1 - c * c, 0))
    u1 = math.sqrt(v) * Z
    u2 = math.sqrt(v) * (c * Z[:, None] + s * Z[None, :])
    return W @ f(u1), W @ f(u1) ** 2, (W * f(u1)) @ f(u2) @ W


def _reference(f, w, b, q0, corr, layers, skip, norm="none", branch="pre-act"):
    q, p, m = q0, corr * q0, 0.0
    out = [corr]
    a2 = 1.0 if skip else 0.0
    for _ in range(layers):
        if branch == "post-act":
            v = w * q + b
            mu, e2, e12 = _pair(f, v, (w * p + b) / v)
            m, q, p = (m if skip else 0.0) + mu, a2 * q + 2 * a2 * m * mu + e2, a2 * p + 2 * a2 * m * mu + e12
        else:
            _, e2, e12 = _pair(f, 1.0 if norm == "pre" else q, p / q)
            q, p = a2 * q + w * e2 + b, a2 * p + w * e12 + b
            if norm == "post":
                q, p = 1.0, p / q
        out.append(p / q)
    return out


@pytest.mark.parametrize(
    "options",
    [{}, {"norm": "pre"}, {"norm": "post"}, {"branch": "post-act"}],
    ids=["pre-act", "pre-LN", "post-LN", "post-act"],
)
def test_tanh_correlations_match_gauss_legendre(options):
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=8, input_corr=0.5, **options)
    for name, skip in (("plain", False), ("residual", True)):
        expected = _reference(np.tanh, 1.5, 0.05, 1.0, 0.5, 8, skip, **options)
        got = r.network(name).correlation
        assert len(got) == 9 and got[0] == 0.5
        for k, (g, e) in enumerate(zip(got, expected, strict=True)):
            decimals = -g.as_tuple().exponent
            assert decimals >= 6 or k == 0
            assert abs(float(g) - e) <= 0.6 * 10.0**-decimals + 1e-12, (name, k, g, e)


def test_one_kernel_value_matches_mpmaths_two_dimensional_quadrature():
    mpmath.mp.dps = 15
    v, c = 1.7, 0.3
    s = math.sqrt(1 - c * c)

    def density(z):
        return mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)

    def integrand(z1, z2):
        root = math.sqrt(v)
        return mpmath.tanh(root * z1) * mpmath.tanh(root * (c * z1 + s * z2)) * density(z1) * density(z2)

    expected = mpmath.quad(integrand, [-9, 0, 9], [-9, 0, 9])
    fine, coarse = _Kernel(activation("tanh"), [10**9]).at(v, c)
    assert abs(fine[2] - float(expected)) < 1e-12
    assert abs(coarse[2] - float(expected)) < 1e-6  # the step 2h is the check on h


def test_relus_arc_cosine_kernel_matches_mpmath():
    mpmath.mp.dps = 20
    v, c = 2.5, -0.4
    cov = mpmath.matrix([[v, c * v], [c * v, v]])
    expected = mpmath.quad(
        lambda x, y: (
            x
            * y
            * mpmath.exp(-(x * x - 2 * c * x * y + y * y) / (2 * v * (1 - c * c)))
            / (2 * mpmath.pi * v * mpmath.sqrt(1 - c * c))
        ),
        [0, mpmath.inf],
        [0, mpmath.inf],
    )
    assert mpmath.det(cov) > 0
    fine, coarse = _Kernel(activation("relu"), [0]).at(v, c)
    assert fine == coarse and abs(fine[2] - float(expected)) < 1e-13


def test_wide_random_networks_measure_the_predicted_correlation():
    """Two inputs of correlation 0.5 through 10 tanh layers of width 100,000. A layer's weight
    matrix meets only the two vectors a = tanh(x), b = tanh(y): its rows give (W a, W b) jointly
    Gaussian with covariance (1.5/n) times their Gram matrix, drawn here exactly so."""
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=10, input_corr=0.5)
    rng = np.random.default_rng(1)
    n = 100_000
    for name, skip in (("plain", False), ("residual", True)):
        x = rng.standard_normal(n)
        y = 0.5 * x + math.sqrt(0.75) * rng.standard_normal(n)
        for _ in range(10):
            a, b = np.tanh(x), np.tanh(y)
            gram = np.array([[a @ a, a @ b], [a @ b, b @ b]]) * 1.5 / n
            wa, wb = np.linalg.cholesky(gram) @ rng.standard_normal((2, n))
            bias = rng.standard_normal(n) * math.sqrt(0.05)
            x, y = (x if skip else 0) + wa + bias, (y if skip else 0) + wb + bias
        measured = x @ y / math.sqrt((x @ x) * (y @ y))
        predicted = float(r.network(name).correlation[-1])
        assert abs(measured - predicted) < 0.01, (name, measured, predicted)


def test_the_command_line_shows_and_refuses():
    assert "corr(" not in skipcalc("meanfield", "--act", "tanh", "--weight-var", "1.5", "--layers", "4").ok
    case = ("--act", "tanh", "--weight-var", "1.5", "--bias-var", "0.05", "--layers", "4")
    ran = skipcalc("meanfield", *case, "--input-corr", "0.5")
    assert "two inputs at correlation 0.5" in ran.ok and "Two inputs at correlation 0.5: after 4 layers" in ran.out
    assert "In the ordered phase a plain network drives every pair of inputs towards one point" in " ".join(
        ran.out.split()
    )
    chaotic = skipcalc(
        "meanfield", "--act", "tanh", "--weight-var", "3", "--bias-var", "0.05", "--layers", "3", "--input-corr", "0.5"
    ).ok
    assert "In the chaotic phase a plain network drives every pair towards c* ≈ 0.2" in " ".join(chaotic.split())
    data = json.loads(
        skipcalc(
            "meanfield", "--act", "relu", "--weight-var", "2", "--layers", "4", "--input-corr", "-0.25", "--format=json"
        ).ok
    )
    assert data["input_corr"] == "-0.25"
    for name in ("plain", "residual"):
        assert len(data[name]["correlation"]) == 5 and data[name]["correlation"][0] == "-0.25"
        assert all(-1 <= float(c) <= 1 for c in data[name]["correlation"])
    for bad in ("1.5", "-2", "x"):
        ran = skipcalc("meanfield", "--act", "tanh", "--weight-var", "1.5", "--input-corr", bad)
        assert (ran.code, ran.out) == (2, "") and ran.err.startswith("skipcalc: error: --input-corr:")
    ran = skipcalc("meanfield", "--act", "tanh", "--input-corr", "0.5", "--critical")
    assert (ran.code, ran.out) == (2, "") and "--input-corr" in ran.err


def test_a_wide_residual_network_keeps_its_decimals():
    """By layer 40 the residual network's q is 50: a uniform grid fine enough for tanh near 0
    would pass 401 x 401, so the sums run on nodes crowding there; still 10 decimals, matching
    the Gauss-Legendre reference."""
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=40, input_corr=0.5)
    residual = r.network("residual")
    assert float(residual.q[-1]) > 50
    expected = _reference(np.tanh, 1.5, 0.05, 1.0, 0.5, 40, True)
    for got, e in zip(residual.correlation[1:], expected[1:], strict=True):
        assert -got.as_tuple().exponent == 10 and abs(float(got) - e) < 1e-10
