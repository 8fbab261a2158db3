"""Mean-field signal propagation: the checks anyone can make (tanh and relu criticality), every
Gaussian expectation against mpmath's own quadrature, c* against erf's closed form, the
simulation against the prediction and against networks whose matrices are drawn whole, and
the command's formats and refusals."""

import json
import math
from decimal import Context, Decimal
from fractions import Fraction as F

import gmpy2
import mpmath
import numpy as np
import pytest
from conftest import skipcalc

import skipcalc as api
from skipcalc.core import meanfield as mf
from skipcalc.core.blocks import PLAIN, RESIDUAL, parse_block
from skipcalc.core.meanfield.activations import big, working_precision
from skipcalc.core.meanfield.model import Setting
from skipcalc.core.meanfield.quadrature import Closed, Expectations
from skipcalc.core.meanfield.simulate import simulate


def test_tanh_at_zero_bias_is_critical_at_one():
    r = api.meanfield("tanh", weight_var=1, bias_var=0, layers=5)
    assert (r.q_star, r.chi1, r.phase) == (0, 1, "critical")
    assert api.meanfield("tanh", bias_var=0, critical=True).critical == (1,)


@pytest.mark.parametrize("w", ["0.5", "1", "2", "3"])
def test_relu_chi1_is_half_the_weight_variance_exactly(w):
    r = api.meanfield("relu", weight_var=w, bias_var=0, layers=4)
    assert r.chi1 == F(w) / 2
    assert r.phase == ("critical" if w == "2" else "ordered" if F(w) < 2 else "chaotic")
    plain = r.network("plain")
    assert plain.wrt[0] == (F(w) / 2) ** 4  # exact: relu's expectations are rational
    assert api.meanfield("relu", bias_var=0.3, critical=True).critical == (2,)


def test_relu_without_a_fixed_point_says_why_and_keeps_the_phase():
    r = api.meanfield("relu", weight_var=3, bias_var=0.1, layers=3)
    assert r.q_star is None and "grows without bound" in r.q_reason
    assert (r.chi1, r.phase) == (F(3, 2), "chaotic")
    data = r.to_dict()
    assert data["q_star"] is None and data["phase"] == "chaotic"
    assert api.meanfield("relu", weight_var=2, bias_var=0, layers=2).q_reason.startswith("every q")


def _reference_critical(bias_var, dps=40):
    """tanh's critical σ_w² at σ_b² by mpmath.quad and findroot, independent of skipcalc's nodes."""
    with mpmath.workdps(dps):

        def e(g, q):
            return mpmath.quad(lambda z: g(mpmath.sqrt(q) * z) * mpmath.npdf(z), [-mpmath.inf, -2, 0, 2, mpmath.inf])

        def gap(q):
            return e(lambda u: mpmath.tanh(u) ** 2, q) / e(lambda u: mpmath.sech(u) ** 4, q) + bias_var - q

        q = mpmath.findroot(gap, 0.5)
        return 1 / e(lambda u: mpmath.sech(u) ** 4, q)


def test_tanh_critical_line_near_the_papers_value_to_twenty_digits():
    """Schoenholz et al. 2017: about 1.76 at σ_b² = 0.05."""
    (found,) = api.meanfield("tanh", bias_var=0.05, critical=True, digits=20).critical
    assert str(found).startswith("1.76")
    with mpmath.workdps(40):
        reference = _reference_critical(mpmath.mpf("0.05"))
        assert abs(mpmath.mpf(str(found)) / reference - 1) < mpmath.mpf(10) ** -19


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu", "softplus", "x*sigmoid(x)"])
@pytest.mark.parametrize("q", ["0.003", "0.7", "2.5", "40", "123456"])
def test_expectations_agree_with_mpmath_quad(name, q):
    act = mf.activation(name)
    with working_precision(30):
        got = Expectations(act, 6, 30).at(big(F(q)))
    with mpmath.workdps(30):
        root = mpmath.sqrt(mpmath.mpf(q))

        def mp(u):
            return mpmath.mpf(gmpy2.mpfr(u).as_integer_ratio()[0]) / gmpy2.mpfr(u).as_integer_ratio()[1]

        def at(g):
            return mpmath.quad(
                lambda z: g(root * z) * mpmath.npdf(z), [-mpmath.inf, -3, -1 / root, 0, 1 / root, 3, mpmath.inf]
            )

        f = {
            "tanh": (mpmath.tanh, lambda u: mpmath.sech(u) ** 2),
            "sigmoid": (lambda u: 1 / (1 + mpmath.exp(-u)), lambda u: mpmath.exp(-u) / (1 + mpmath.exp(-u)) ** 2),
            "gelu": (lambda u: u * mpmath.ncdf(u), lambda u: mpmath.ncdf(u) + u * mpmath.npdf(u)),
            "softplus": (lambda u: mpmath.log1p(mpmath.exp(u)), lambda u: 1 / (1 + mpmath.exp(-u))),
            "x*sigmoid(x)": (
                lambda u: u / (1 + mpmath.exp(-u)),
                lambda u: 1 / (1 + mpmath.exp(-u)) + u * mpmath.exp(-u) / (1 + mpmath.exp(-u)) ** 2,
            ),
        }[name]
        expected = (at(lambda u: f[0](u) ** 2), at(lambda u: f[1](u) ** 2))
        for value, reference in zip(got[:2], expected, strict=True):
            assert abs(mpmath.mpf(str(value)) / reference - 1) < mpmath.mpf(10) ** -20, (value, reference)


def test_erf_closed_forms_and_its_correlation_fixed_point():
    """erf's E[φ²] and E[φ′²] in closed form against quadrature; its c* and χ_c (chaotic at
    σ_w² = 2, σ_b² = 0.1) against the arcsine kernel solved with mpmath, independently."""
    act = mf.activation("erf")
    with working_precision(30):
        closed = Closed(act).at(big(F(3, 2)))
    with mpmath.workdps(30):
        r = mpmath.sqrt(mpmath.mpf(1.5))
        e2 = mpmath.quad(lambda z: mpmath.erf(r * z) ** 2 * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
        assert abs(mpmath.mpf(str(closed[0])) - e2) < mpmath.mpf(10) ** -25
    r = api.meanfield("erf", weight_var=2, bias_var=0.1, layers=2)
    assert r.phase == "chaotic"
    with mpmath.workdps(30):
        q = mpmath.mpf(str(r.q_star))
        c = mpmath.findroot(lambda c: (2 * 2 / mpmath.pi * mpmath.asin(2 * q * c / (1 + 2 * q)) + 0.1) / q - c, 0.6)
        chi_c = 2 * 4 / mpmath.pi / mpmath.sqrt((1 + 2 * q) ** 2 - (2 * q * c) ** 2)
    assert abs(mpmath.mpf(str(r.c_star)) - c) < 1e-9 and abs(mpmath.mpf(str(r.chi_c)) - chi_c) < 1e-9


def test_certified_digits_are_earned():
    """The same network at 16 and at 30 digits: what the 16-digit call shows is the 30-digit
    value rounded once to 16 digits (never a rounding of a rounded text)."""
    low = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=20, digits=16)
    high = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=20, digits=30)
    pairs = [(low.chi1, high.chi1), (low.network("residual").wrt[0], high.network("residual").wrt[0])]
    pairs += [(low.sqrt_chi1, high.sqrt_chi1), (low.xi_q, high.xi_q)]
    for a, b in pairs:
        shown = Decimal(str(a))
        assert len(shown.as_tuple().digits) <= 16
        assert shown == Context(prec=len(shown.as_tuple().digits)).plus(Decimal(b))


def test_a_block_is_a_squared_plus_b_squared_chi():
    r = api.meanfield("relu", weight_var=1, bias_var=0, layers=3, blocks=["plain", "residual", "scaled:0.5"])
    scaled = r.network("scaled:0.5")
    assert scaled.factors == (F(1, 4) + F(1, 2),) * 3  # a² + b²·σ_w²/2
    assert r.network("residual").factors == (F(3, 2),) * 3


@pytest.mark.parametrize(
    "act, w, b", [("tanh", "1.5", "0.05"), ("tanh", "4", "0.05"), ("relu", "1.5", "0.1"), ("relu", "2", "0")]
)
@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_the_simulation_agrees_with_the_prediction(act, w, b, weights):
    """Width 1,000, 40 layers, 10 trials (the defaults but the depth): the prediction is inside
    the 95% interval at the first, middle and last layers (a fixed seed: the test cannot flake).
    With hundreds of trials the interval is narrow enough to show the finite-width correction
    (measured a few percent above the prediction at 40 layers)."""
    r = api.meanfield(act, weight_var=w, bias_var=b, layers=40, simulate=True, width=1000, seed=1, weights=weights)
    for net, measured in zip(r.networks, r.simulation.networks, strict=True):
        for k in (0, 20, 39):
            assert float(measured.low[k]) <= float(net.wrt[k]) <= float(measured.high[k]), (net.block.spec, k)


def _whole_matrices(act, w, b, layers, width, trials, seed, block):
    """The same networks with every matrix drawn whole (the plain statement of the simulation)."""
    rng = np.random.default_rng(seed)
    f, df = (
        (np.tanh, lambda x: 1 / np.cosh(x) ** 2)
        if act == "tanh"
        else (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0)
    )
    out = []
    for _ in range(trials):
        x = rng.standard_normal(width)
        saved = []
        for _ in range(layers):
            W = rng.standard_normal((width, width)) * np.sqrt(w / width)
            saved.append((x, W))
            x = float(block.a) * x + float(block.b) * (W @ f(x) + rng.standard_normal(width) * np.sqrt(b))
        g = rng.standard_normal(width)
        last = g @ g
        for x, W in reversed(saved):
            g = float(block.a) * g + float(block.b) * df(x) * (W.T @ g)
        out.append(g @ g / last)
    return np.array(out)


@pytest.mark.parametrize("block", [PLAIN, RESIDUAL])
def test_drawing_two_products_is_drawing_the_whole_matrix(block):
    """Width 64, 6 layers, 300 trials each: the measured g² at x_0 of the O(width) draws and of
    whole matrices agree within their combined 99.9% interval."""
    act = mf.activation("tanh")
    sim = simulate(Setting(act, F(3, 2), F(1, 20), F(1), 6, (block,)), 64, 300, 7, "gaussian")
    fast = sim.networks[0]
    whole = _whole_matrices("tanh", 1.5, 0.05, 6, 64, 300, 8, block)
    fast_half = float(fast.high[0] - fast.low[0]) / 2 / 1.968  # the standard error
    whole_se = whole.std(ddof=1) / np.sqrt(len(whole))
    assert abs(float(fast.measured[0]) - whole.mean()) < 3.3 * np.hypot(fast_half, whole_se)


def test_the_command_writes_every_format():
    args = ["meanfield", "--act", "tanh", "--weight-var", "1.5", "--bias-var", "0.05", "--layers", "4"]
    data = json.loads(skipcalc(*args, "--format", "json").ok)
    for key in ("q_star", "chi1", "c_star", "chi_c", "xi_q", "xi_c", "phase", "plain", "residual"):
        assert key in data
    assert data["exact"] is False and len(data["plain"]["wrt"]) == 5 and data["plain"]["wrt"][-1] == "1"
    plain, residual = skipcalc(*args, "--format", "value").ok.split("\t")
    assert float(plain) == float(data["plain"]["gradient"]) and float(residual) == float(data["residual"]["gradient"])
    csv = skipcalc(*args, "--format", "csv").ok.splitlines()
    assert csv[0].startswith("layer,plain_q_in,plain_rms_local,plain_g2_ratio") and len(csv) == 5
    table = skipcalc(*args).ok
    assert "sqrt(chi1)" in table and "ordered" in table
    critical = json.loads(
        skipcalc("meanfield", "--act", "tanh", "--bias-var", "0,0.05", "--critical", "--format", "json").ok
    )
    assert critical["critical"][0] == {"bias_var": "0", "critical_weight_var": "1"}
    simulated = json.loads(skipcalc(*args, "--simulate", "--width", "200", "--trials", "5", "--format", "json").ok)
    assert set(simulated["simulation"]) >= {"width", "trials", "weights", "plain", "residual"}
    assert len(simulated["simulation"]["plain"]["measured"]) == 5 and simulated["exact"] is False


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--act", "tanh", "--weight-var", "0"], "--weight-var: '0' is not accepted; expected a variance > 0"),
        (["--act", "tahn", "--weight-var", "1"], "did you mean tanh?"),
        (
            ["--act", "tanh", "--weight-var", "1", "--bias-var", "0,0.1"],
            "--bias-var: a list or range applies only with --critical",
        ),
        (["--act", "tanh", "--bias-var", "0.1", "--critical", "--plot"], "--plot"),
        (["--act", "tanh", "--weight-var", "1", "--width", "10"], "--width"),
        (["--act", "tanh"], "--weight-var"),
        (["--weight-var", "1"], "--act"),
        (["--act", "__import__('os')", "--weight-var", "1"], "--act"),
        (["--act", "tanh", "--bias-var", "1:0:0.1", "--critical"], "runs backwards"),
        (["--act", "tanh", "--weight-var", "1", "--layers", "100000"], "--layers"),
    ],
)
def test_refusals_name_the_option(args, fragment):
    result = skipcalc("meanfield", *args)
    assert result.code == 2 and result.out == "" and fragment in result.err, result.err
    assert result.err.count("\n") == 1


def test_the_result_shows_itself():
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=3)
    assert repr(r).startswith("MeanFieldResult(tanh, 3 layers: chi1 ≈0.938636268199 (ordered), plain ≈0.4995")
    assert "<table" in r._repr_html_() and "sqrt(chi1)" in str(r)
    figure = r.plot()
    assert figure.axes[0].get_lines()
    assert parse_block("residual") in [net.block for net in r.networks]


# ---------------------------------------------------------------------------
# LayerNorm placements and the forward side (cos_input, relative_update), --init


def test_pre_ln_relu_is_polynomial_exactly():
    """x + F(LN(x)) with F = W relu(.): q_k = q_0 + k sigma_w^2/2 (the branch sees unit variance), and
    the gradient factor 1 + (sigma_w^2/2)/q_{k-1}: the product telescopes to q_L/q_0."""
    r = api.meanfield("relu", weight_var=2, layers=50, norm="pre", residual=True)
    (net,) = r.networks
    assert list(net.q) == [F(1 + k) for k in range(51)]
    assert net.wrt[0] == F(51)
    assert net.cos[-1] == F(1, 51) ** 0.5 or abs(float(net.cos[-1]) - (1 / 51) ** 0.5) < 1e-15


def _mp_e(g, q):
    root = mpmath.sqrt(q)
    return mpmath.quad(lambda z: g(root * z) * mpmath.npdf(z), [-mpmath.inf, -3, 0, 3, mpmath.inf])


def test_post_ln_tanh_against_mpmath():
    """LN(x + F(x)): S = Q + sigma_w^2 E[tanh(sqrt(Q) z)^2] + sigma_b^2, Q -> 1, factor (1 + chi(Q))/S,
    cos^2 shrinking by Q/S per layer; computed here by mpmath quadrature."""
    layers = 6
    r = api.meanfield(
        "tanh", weight_var=F(3, 2), bias_var=F(1, 20), layers=layers, norm="post", residual=True, digits=20
    )
    (net,) = r.networks
    with mpmath.workdps(40):
        q, cos2, factors = mpmath.mpf(1), mpmath.mpf(1), []
        for _ in range(layers):
            w, b = mpmath.mpf(3) / 2, mpmath.mpf(1) / 20
            s = q + w * _mp_e(lambda u: mpmath.tanh(u) ** 2, q) + b
            chi = w * _mp_e(lambda u: mpmath.sech(u) ** 4, q)
            factors.append((1 + chi) / s)
            cos2 *= q / s
            q = mpmath.mpf(1)
        gradient = mpmath.fprod(factors)
        assert abs(mpmath.mpf(str(net.wrt[0])) / gradient - 1) < mpmath.mpf(10) ** -18
        assert abs(mpmath.mpf(str(net.cos[-1])) / mpmath.sqrt(cos2) - 1) < mpmath.mpf(10) ** -18


def test_forward_side_against_a_simulated_wide_network():
    """cos(x_L, x_0) and |F(x)|/|x| of a real random residual tanh network of width 4000 (numpy),
    against the wide-limit prediction; the plain network keeps none of x_0's direction."""
    w, b, layers, width = 1.5, 0.05, 10, 4000
    r = api.meanfield("tanh", weight_var=w, bias_var=b, layers=layers)
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(width)
    for net in r.networks:
        x = x0.copy()
        updates = []
        for _ in range(layers):
            f = rng.standard_normal((width, width)) * np.sqrt(w / width) @ np.tanh(x) + rng.standard_normal(
                width
            ) * np.sqrt(b)
            updates.append(np.linalg.norm(f) / np.linalg.norm(x))
            x = x + f if net.block.spec == "residual" else f
        cos = x @ x0 / np.linalg.norm(x) / np.linalg.norm(x0)
        if net.block.spec == "plain":
            assert net.cos[1:] == tuple([0] * layers) or all(float(c) == 0 for c in net.cos[1:])
            assert abs(cos) < 0.05
        else:
            assert abs(cos - float(net.cos[-1])) < 0.03
            assert all(abs(u - float(p)) < 0.05 * float(p) for u, p in zip(updates, net.update, strict=True))


def test_init_schemes_give_exact_variances():
    data = json.loads(
        skipcalc("meanfield", "--act", "tanh", "--init", "pytorch", "--width", "256", "--format", "json").ok
    )
    assert (data["weight_var"], data["bias_var"], data["init"]) == ("1/3", "1/768", "pytorch")
    assert "gradient independence" in data["assumptions"]
    he = api.meanfield("relu", init="he", layers=3)
    assert (he.weight_var, he.bias_var) == (F(2), (F(0),)) and he.phase == "critical"
    ran = skipcalc("meanfield", "--act", "tanh", "--init", "pytorch")
    assert ran.code == 2 and "--width" in ran.err
    ran = skipcalc("meanfield", "--act", "tanh", "--init", "he", "--weight-var", "2")
    assert ran.code == 2 and "--init" in ran.err


@pytest.mark.parametrize(
    "act, w, b",
    [
        ("tanh", "1.5", "0.05"),
        ("erf", "3.5", "0.072"),
        ("erf", "2", "0.1"),
        ("sigmoid", "4", "0.1"),
        ("gelu", "1.5", "0.2"),
        ("softplus", "0.8", "0.3"),
        ("tanh", "3.44", "0.24"),
    ],
)
def test_xi_q_is_the_length_maps_own_slope(act, w, b):
    """xi_q = -1/log(d map/dq at q*), with the slope taken by mpmath's numerical derivative of
    the length map q -> w E[act(sqrt(q) z)^2] + b (mpmath quadrature), independent of the closed
    forms and of the code's chi_q; sqrt(chi1) from the unrounded chi1."""
    r = api.meanfield(act, weight_var=w, bias_var=b, layers=2, digits=12)
    phi = {
        "tanh": mpmath.tanh,
        "erf": mpmath.erf,
        "sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)),
        "gelu": lambda u: u * mpmath.ncdf(u),
        "softplus": lambda u: mpmath.log1p(mpmath.exp(u)),
    }[act]
    with mpmath.workdps(30):
        wm, bm = mpmath.mpf(w), mpmath.mpf(b)

        def length(q):
            return wm * _mp_e(lambda u: phi(u) ** 2, q) + bm

        q_star = mpmath.findroot(lambda q: length(q) - q, mpmath.mpf(str(r.q_star)))
        slope = mpmath.diff(length, q_star)
        xi = -1 / mpmath.log(slope)
        assert abs(mpmath.mpf(str(r.xi_q)) / xi - 1) < mpmath.mpf(10) ** -10
        chi1 = wm * _mp_e(lambda u: mpmath.diff(phi, u) ** 2, q_star)
        assert abs(mpmath.mpf(str(r.sqrt_chi1)) / mpmath.sqrt(chi1) - 1) < mpmath.mpf(10) ** -10


def test_post_act_recursion_against_mpmath():
    """x_k = x_{k-1} + tanh(W x_{k-1} + b): the mean m and second moment Q carried, computed here
    with mpmath quadrature: u ~ N(0, w Q + b), m += E[tanh u], Q += 2 m E[tanh u] + E[tanh(u)^2],
    factor 1 + w E[tanh'(u)^2]."""
    layers = 5
    r = api.meanfield("tanh", weight_var=F(3, 2), bias_var=F(1, 10), layers=layers, branch="post-act", digits=20)
    residual = r.network("residual")
    plain = r.network("plain")
    with mpmath.workdps(40):
        w, b = mpmath.mpf(3) / 2, mpmath.mpf(1) / 10
        q, m, factors = mpmath.mpf(1), mpmath.mpf(0), []
        for _ in range(layers):
            v = w * q + b
            e1 = _mp_e(mpmath.tanh, v)
            e2 = _mp_e(lambda u: mpmath.tanh(u) ** 2, v)
            factors.append(1 + w * _mp_e(lambda u: mpmath.sech(u) ** 4, v))
            q, m = q + 2 * m * e1 + e2, m + e1
        assert abs(mpmath.mpf(str(residual.wrt[0])) / mpmath.fprod(factors) - 1) < mpmath.mpf(10) ** -18
        assert abs(mpmath.mpf(str(residual.q[-1])) / q - 1) < mpmath.mpf(10) ** -18
        q = mpmath.mpf(1)
        for _ in range(layers):
            q = _mp_e(lambda u: mpmath.tanh(u) ** 2, w * q + b)
        assert abs(mpmath.mpf(str(plain.q[-1])) / q - 1) < mpmath.mpf(10) ** -18


def test_post_act_relu_mean_term_and_a_simulated_network():
    """relu's mean E[relu(u)] = sqrt(v / 2 pi) enters Q; real width-1000 networks x + relu(W x + b)
    (numpy) have, on average, the predicted second moment and gradient ratio."""
    layers, width = 4, 1000
    r = api.meanfield("relu", weight_var=1, bias_var=F(1, 20), layers=layers, branch="post-act", residual=True)
    (net,) = r.networks
    q, m = 1.0, 0.0
    for _ in range(layers):
        v = q + 0.05
        e1, e2 = math.sqrt(v / (2 * math.pi)), v / 2
        q, m = q + 2 * m * e1 + e2, m + e1
    assert abs(float(net.q[-1]) / q - 1) < 1e-12
    rng = np.random.default_rng(3)
    second, ratio = [], []
    for _ in range(12):  # the theory is the mean over random networks: 12 of them
        x = rng.standard_normal(width)
        x *= math.sqrt(width) / np.linalg.norm(x)  # Q_0 = 1 exactly, as the theory starts
        jac = np.eye(width)
        for _ in range(layers):
            weights = rng.standard_normal((width, width)) / np.sqrt(width)
            pre = weights @ x + rng.standard_normal(width) * np.sqrt(0.05)
            jac = (np.eye(width) + (pre > 0)[:, None] * weights) @ jac
            x = x + np.maximum(pre, 0)
        second.append(np.mean(x * x))
        ratio.append(np.sum(jac * jac) / width)
    assert abs(np.mean(second) / q - 1) < 0.05
    assert abs(np.mean(ratio) / float(net.wrt[0]) - 1) < 0.05


def test_the_post_act_simulation_agrees_with_its_theory_for_tanh():
    """x + tanh(W x + b): 60 random networks of width 1000 put the theory inside their interval
    (the simulation meets each W once forward, at x, and once backward, at tanh'(u) * delta)."""
    r = api.meanfield(
        "tanh", weight_var=1.5, bias_var=0.1, layers=20, branch="post-act", simulate=True, width=1000, trials=60
    )
    for theory, measured in zip(r.networks, r.simulation.networks, strict=True):
        assert float(measured.low[0]) <= float(theory.wrt[0]) <= float(measured.high[0]), theory.block.spec


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_the_layer_norm_simulation_agrees_with_its_theory(norm):
    """x + F(LN(x)) and LN(x + F(x)) with real LayerNorms (eps 1e-5): 60 random networks of
    width 1000 put the theory's mean squared gradient inside their interval."""
    r = api.meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=20, norm=norm, simulate=True, width=1000, trials=60)
    for theory, measured in zip(r.networks, r.simulation.networks, strict=True):
        for k in (0, 10):
            assert float(measured.low[k]) <= float(theory.wrt[k]) <= float(measured.high[k]), (theory.block.spec, k)


def test_the_simulations_layer_norm_and_its_backward_pass_are_pytorchs():
    torch = pytest.importorskip("torch")
    from skipcalc.core.meanfield.simulate import _layer_norm, _layer_norm_back

    rng = np.random.default_rng(5)
    x, delta = rng.standard_normal((3, 50)) * 3 + 1, rng.standard_normal((3, 50))
    tx = torch.tensor(x, requires_grad=True)
    y = torch.nn.functional.layer_norm(tx, (50,), eps=1e-5)
    (y * torch.tensor(delta)).sum().backward()
    assert np.allclose(_layer_norm(x), y.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert np.allclose(_layer_norm_back(x, delta), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_negative_chi_q_has_no_depth_scale_and_no_crash():
    """cos(3x): E[cos(3u)^2] = (1 + e^(-18q))/2 falls with q, so chi_q < 0 (it crashed with a NaN
    before). q* and chi1 against their closed forms, solved by mpmath."""
    r = api.meanfield("cos(3*x)", weight_var=0.5, bias_var=0.05, layers=2)
    mpmath.mp.dps = 30
    q = mpmath.findroot(lambda q: 0.5 * (1 + mpmath.exp(-18 * q)) / 2 + mpmath.mpf("0.05") - q, 0.3)
    chi1 = mpmath.mpf(0.5) * 9 * (1 - mpmath.exp(-18 * q)) / 2
    assert abs(float(r.q_star) / float(q) - 1) < 1e-13 and abs(float(r.chi1) / float(chi1) - 1) < 1e-13
    assert r.xi_q is None and r.phase == "chaotic"
