"""The mean-field prediction beside real random networks: numpy draws networks of a finite
width, pushes an input forward and a gradient back, and measures the mean squared gradient
reaching each layer relative to the output's, with a 95% confidence interval over the trials.

Each weight matrix W_k meets one vector forward (W v) and one backward (W^T δ), so skipcalc
draws exactly those, in O(width) per layer instead of O(width²), and exactly as a whole matrix
would give them (the joint law is the same):

- Gaussian W (entries N(0, σ_w²/N)): W v ~ N(0, σ_w²|v|²/N · I); given W v = h, W = h vᵀ/|v|²
  + W′(I - P_v) with W′ fresh, so Wᵀδ = v (h·δ)/|v|² + (I - P_v) ξ, ξ ~ N(0, σ_w²|δ|²/N · I).
- Orthogonal W = σ_w Q, Q Haar: Q v is a uniformly random direction of length |v|; given it,
  Q maps v's complement to h's uniformly, so Qᵀδ = (δ·ĥ) v̂ + |δ - (δ·ĥ)ĥ| u, u uniform on
  the unit sphere of v's complement.

A test compares both with networks whose matrices are drawn whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .blocks import Block
from .errors import InputError

WEIGHTS = ("gaussian", "orthogonal")
WORK = 400_000_000  # width x layers x trials x networks one call draws (about ten seconds)
_T975: tuple[float, ...] = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179)
_T975 += (2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052)
_T975 += (2.048, 2.045, 2.042)


@dataclass(frozen=True)
class Measured:
    """One network's measured mean squared gradient at x_0 .. x_L relative to the output's
    (the mean over the trials) and its 95% confidence interval (Student's t)."""

    block: Block
    measured: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class Simulation:
    width: int
    trials: int
    seed: int
    weights: str
    networks: tuple[Measured, ...]


def t975(df: int) -> float:
    """Student's t quantile at 0.975 (a table to 30 degrees of freedom, then Cornish-Fisher)."""
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def numpy_activation(name: str, text: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """φ and φ′ on numpy arrays, for the named activations and formulas."""
    import numpy as np

    if name == "linear":
        return (lambda x: x), (lambda x: np.ones_like(x))
    if name == "relu":
        return (lambda x: np.maximum(x, 0)), (lambda x: (x > 0).astype(float))
    if name == "tanh":
        return np.tanh, (lambda x: 1 / np.cosh(x) ** 2)
    formula = {
        "erf": "erf(x)",
        "sigmoid": "sigmoid(x)",
        "gelu": "x*Phi(x)",
        "softplus": "softplus(x)",
    }.get(name, text)
    import sympy as sp

    from .compiled import compile_formula
    from .formula import X, parse_formula

    expr = parse_formula(formula, "--act")
    return compile_formula(expr, "numpy"), compile_formula(sp.diff(expr, X), "numpy")


def simulate(
    act: Any,
    weight_var: Fraction,
    bias_var: Fraction,
    input_var: Fraction,
    layers: int,
    blocks: Sequence[Block],
    width: int,
    trials: int,
    seed: int,
    weights: str,
) -> Simulation:
    """``trials`` random networks of ``width`` units per block, one input each."""
    import numpy as np

    cost = width * layers * trials * len(blocks)
    if cost > WORK:
        raise InputError(
            f"--width: {width:,} units x {layers:,} layers x {trials:,} trials x {len(blocks)} networks is "
            f"{cost:,} draws, more than the {WORK:,} one call makes; give a smaller --width or fewer --trials"
        )
    f, df = numpy_activation(act.name, act.text)
    rng = np.random.default_rng(seed)
    sw, sb, sq = math.sqrt(weight_var), math.sqrt(bias_var), math.sqrt(input_var)
    measured = []
    with np.errstate(all="ignore"):
        for block in blocks:
            ratios = _network(rng, f, df, block, layers, width, trials, sw, sb, sq, weights)
            if not np.all(np.isfinite(ratios)):
                raise InputError(
                    f"--simulate: the {block.spec} network's signal or gradient left float64's range; "
                    "give fewer --layers or a smaller --weight-var"
                )
            mean = ratios.mean(axis=0)
            half = t975(trials - 1) * ratios.std(axis=0, ddof=1) / math.sqrt(trials)
            measured.append(
                Measured(block, tuple(mean.tolist()), tuple((mean - half).tolist()), tuple((mean + half).tolist()))
            )
    return Simulation(width, trials, seed, weights, tuple(measured))


def _network(
    rng: Any,
    f: Callable[[Any], Any],
    df: Callable[[Any], Any],
    block: Block,
    layers: int,
    width: int,
    trials: int,
    sw: float,
    sb: float,
    sq: float,
    weights: str,
) -> Any:
    """|δ_k|²/|δ_L|² for k = 0..L, one row per trial (all trials at once, a row each)."""
    import numpy as np

    n = width
    x = rng.standard_normal((trials, n)) * sq
    saved = []
    gates = []
    for a, b in block.coefficients(layers):
        v = f(x)
        norm = np.sqrt((v * v).sum(axis=1, keepdims=True))
        xi = rng.standard_normal((trials, n))
        if weights == "gaussian":
            h = xi * (sw * norm / math.sqrt(n))
        else:
            h = xi * (sw * norm / np.sqrt((xi * xi).sum(axis=1, keepdims=True)))
        bias = rng.standard_normal((trials, n)) * sb
        gate = float(b)
        if block.kind == "stochastic":  # each block survives with probability p
            gate = (rng.random((trials, 1)) < float(b)).astype(float)
        saved.append((x, v, norm, h))
        gates.append(gate)
        x = float(a) * x + gate * (h + bias)
    delta = rng.standard_normal((trials, n))
    norms = [(delta * delta).sum(axis=1)]
    for (a, _), (x, v, norm, h), gate in zip(
        reversed(block.coefficients(layers)), reversed(saved), reversed(gates), strict=True
    ):
        back = _transpose(rng, v, norm, h, delta, weights, sw, n)
        delta = float(a) * delta + gate * df(x) * back
        norms.append((delta * delta).sum(axis=1))
    squares = np.stack(norms[::-1], axis=1)  # k = 0..L
    return squares / squares[:, -1:]


def _transpose(rng: Any, v: Any, norm: Any, h: Any, delta: Any, weights: str, sw: float, n: int) -> Any:
    """Wᵀδ drawn given W v = h (see the module's docstring)."""
    import numpy as np

    safe = np.where(norm > 0, norm, 1.0)
    v_hat = np.where(norm > 0, v / safe, 0.0)
    fresh = rng.standard_normal(delta.shape)
    if weights == "gaussian":
        along = (h * delta).sum(axis=1, keepdims=True) / (safe * safe)
        rest = fresh * (sw * np.sqrt((delta * delta).sum(axis=1, keepdims=True)) / math.sqrt(n))
        rest -= v_hat * (v_hat * rest).sum(axis=1, keepdims=True)
        return np.where(norm > 0, v * along, 0.0) + rest
    h_norm = np.sqrt((h * h).sum(axis=1, keepdims=True))
    h_hat = np.where(h_norm > 0, h / np.where(h_norm > 0, h_norm, 1.0), 0.0)
    along = (delta * h_hat).sum(axis=1, keepdims=True)
    across = np.sqrt(np.maximum((delta * delta).sum(axis=1, keepdims=True) - along * along, 0.0))
    fresh -= v_hat * (v_hat * fresh).sum(axis=1, keepdims=True)
    fresh /= np.sqrt((fresh * fresh).sum(axis=1, keepdims=True))
    return sw * (along * v_hat + across * fresh)
