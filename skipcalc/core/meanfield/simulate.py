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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from ..blocks import Block
from ..errors import InputError, arg
from .model import Setting

WEIGHTS = ("gaussian", "orthogonal")
WORK = 80_000_000  # width x layers x trials x networks one call draws (about ten seconds here: 9 million a second)
_T975: tuple[float, ...] = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179)
_T975 += (2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052)
_T975 += (2.048, 2.045, 2.042)


@dataclass(frozen=True)
class Measured:
    """One network's measured mean squared gradient at x_0 .. x_L relative to the output's
    (the mean over the trials) and its 95% confidence interval (Student's t), as Decimals to 4
    significant digits: the ratios are taken from logarithms, so one far below float64's range
    (4e-401) is still measured, never 0. ``clipped``: the layers whose interval's lower end
    came out below 0 (the t interval assumes a normal mean; a mean of squares is not below 0),
    shown from 0."""

    block: Block
    measured: tuple[Decimal, ...]
    low: tuple[Decimal, ...]
    high: tuple[Decimal, ...]
    clipped: tuple[int, ...] = ()


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
        "gelu": "gelu(x)",
        "softplus": "softplus(x)",
    }.get(name, text)
    import sympy as sp

    from ..compiled import compile_formula
    from ..formula import X, parse_formula

    expr = parse_formula(formula, arg("act"))
    return compile_formula(expr, "numpy"), compile_formula(sp.diff(expr, X), "numpy")


MEMORY = 1536 * 2**20
"""Bytes the simulation may hold at once: two float64 arrays per layer and trial, kept for the
backward pass, of ``width`` values each (trials run in chunks that fit)."""


def simulate(setting: Setting, width: int, trials: int, seed: int, weights: str) -> Simulation:
    """``trials`` random networks of ``width`` units per block of the setting, one input each;
    its branch post-act: the block a x + b act(W x + bias) instead of a x + b (W act(x) + bias);
    its norm pre or post: a LayerNorm without affine (PyTorch's, eps 1e-5) before the branch or
    after the sum (pre-act branch)."""
    import numpy as np

    layers, blocks = setting.layers, setting.blocks

    cost = width * layers * trials * len(blocks)
    if cost > WORK:
        raise InputError(
            f"{arg('width')}: {width:,} units x {layers:,} layers x {trials:,} trials x {len(blocks)} networks is "
            f"{cost:,} draws, more than the {WORK:,} one call makes (about ten seconds); give a smaller {arg('width')} "
            f"or fewer {arg('trials')}"
        )
    per_trial = 2 * layers * width * 8 + 8 * width * 8  # the kept arrays, and the working ones
    if per_trial > MEMORY:
        raise InputError(
            f"{arg('width')}: one network of {width:,} units x {layers:,} layers keeps "
            f"{per_trial / 2**30:.1f} GiB for its "
            f"backward pass, more than the {MEMORY // 2**20:,} MiB one call holds; give a smaller "
            f"{arg('width')} or fewer "
            f"{arg('layers')}"
        )
    chunk = max(1, min(trials, MEMORY // per_trial))
    f, df = numpy_activation(setting.act.name, setting.act.text)
    rng = np.random.default_rng(seed)
    sw, sb, sq = (math.sqrt(v) for v in (setting.weight_var, setting.bias_var, setting.input_var))
    measured = []
    with np.errstate(all="ignore"):
        for block in blocks:
            logs = np.concatenate(
                [
                    _network(
                        rng,
                        f,
                        df,
                        block,
                        layers,
                        width,
                        min(chunk, trials - done),
                        (sw, sb, sq),
                        weights,
                        setting.branch,
                        setting.norm,
                    )
                    for done in range(0, trials, chunk)
                ]
            )
            if np.any(np.isnan(logs)) or np.any(logs == np.inf):
                raise InputError(
                    f"{arg('simulate', True)}: the {block.spec} network's signal left float64's range (an "
                    f"input or a layer's "
                    f"output overflowed); give fewer {arg('layers')} or a smaller {arg('weight_var')}"
                )
            measured.append(_statistics(block, logs, trials))
    return Simulation(width, trials, seed, weights, tuple(measured))


def _statistics(block: Block, logs: Any, trials: int) -> Measured:
    """The mean of exp(logs) over the trials (rows) at each layer, with Student's t interval,
    computed at each layer's own scale (its largest ratio) so nothing under- or overflows."""
    import numpy as np

    top = logs.max(axis=0)
    top = np.where(np.isfinite(top), top, 0.0)  # every trial's gradient 0 at that layer: ratios 0
    scaled = np.exp(logs - top)  # in [0, 1]
    mean = scaled.mean(axis=0)
    half = t975(trials - 1) * scaled.std(axis=0, ddof=1) / math.sqrt(trials)
    out: tuple[list[Decimal], list[Decimal], list[Decimal]] = ([], [], [])
    clipped = []
    for k in range(logs.shape[1]):
        low = mean[k] - half[k]
        if low < 0:
            clipped.append(k)
        for column, value in zip(out, (mean[k], max(low, 0.0), mean[k] + half[k]), strict=True):
            column.append(_scaled(float(value), float(top[k])))
    return Measured(block, tuple(out[0]), tuple(out[1]), tuple(out[2]), tuple(clipped))


_FOUR = Context(prec=4, Emin=-(10**9), Emax=10**9)


def _scaled(value: float, log: float) -> Decimal:
    """value * e^log as a Decimal of 4 significant digits (e^log may be far beyond float64)."""
    if value <= 0:
        return Decimal(0)
    exponent = (math.log(value) + log) / math.log(10)
    whole = math.floor(exponent)
    return _FOUR.create_decimal(repr(10 ** (exponent - whole))).scaleb(whole, _FOUR)


def _network(
    rng: Any,
    f: Callable[[Any], Any],
    df: Callable[[Any], Any],
    block: Block,
    layers: int,
    width: int,
    trials: int,
    scales: tuple[float, float, float],
    weights: str,
    branch: str = "pre-act",
    layer_norm: str = "none",
) -> Any:
    """ln(|δ_k|²/|δ_L|²) for k = 0..L, one row per trial (all trials at once, a row each). The
    gradient is renormalised at every layer and its logarithm carried, so a ratio far below
    float64's smallest number is still measured. Post-act: W meets x forward and
    act′(W x + bias) * δ backward. Pre-LN: the branch sees LN(x), and its gradient goes back
    through LN's Jacobian; post-LN: the sum goes through LN, and δ through its Jacobian first."""
    post = branch == "post-act"
    sw, sb, sq = scales  # σ_w, σ_b and √q_0
    import numpy as np

    n = width
    x = rng.standard_normal((trials, n)) * sq
    saved: list[tuple[Any, ...]] = []
    gates = []
    for k, (a, b) in enumerate(block.coefficients(layers), start=1):
        seen = _layer_norm(x) if layer_norm == "pre" else x  # what the branch sees
        v = x if post else f(seen)
        norm = _norm(v)
        xi = rng.standard_normal((trials, n))
        if weights == "gaussian":
            h = xi * (sw * norm / math.sqrt(n))
        else:
            h = xi * (sw * norm / np.sqrt((xi * xi).sum(axis=1, keepdims=True)))
        bias = rng.standard_normal((trials, n)) * sb
        gate = float(b)
        if block.kind == "stochastic":  # each block survives with probability p
            gate = (rng.random((trials, 1)) < float(b)).astype(float)
        saved.append((x, h, bias))
        gates.append(gate)
        x = float(a) * x + gate * (f(h + bias) if post else h + bias)
        if layer_norm == "post":
            saved[-1] = (*saved[-1], x)  # the sum, whose LayerNorm the backward pass goes through
            x = _layer_norm(x)
        largest = np.abs(x).max()
        if not 1e-290 < largest < 1e290:
            raise InputError(
                f"{arg('simulate', True)}: the {block.spec} network's signal left float64's range at layer "
                f"{k} (its largest unit "
                f"is {largest:.3g}), where the theory's exact arithmetic goes on; give fewer {arg('layers')}"
            )
    delta = rng.standard_normal((trials, n))
    scale = (delta * delta).sum(axis=1)
    logs = [np.zeros(trials)]
    carried = np.zeros(trials)  # ln of the factor δ has been divided by
    for (a, _), (x, h, bias, *summed), gate in zip(
        reversed(block.coefficients(layers)), reversed(saved), reversed(gates), strict=True
    ):
        if summed:  # post-LN: back through LN(sum) first
            delta = _layer_norm_back(summed[0], delta)
        if post:  # δ_{k-1} = a δ + gate Wᵀ(act′(W x + bias) * δ), Wᵀ drawn given W x = h
            back = _transpose(rng, x, _norm(x), h, df(h + bias) * delta, weights, sw, n)
            delta = float(a) * delta + gate * back
        else:
            seen = _layer_norm(x) if layer_norm == "pre" else x
            v = f(seen)
            norm = _norm(v)
            back = df(seen) * _transpose(rng, v, norm, h, delta, weights, sw, n)
            if layer_norm == "pre":
                back = _layer_norm_back(x, back)
            delta = float(a) * delta + gate * back
        size = (delta * delta).sum(axis=1)
        positive = np.where(size > 0, size, 1.0)
        logs.append(np.where(size > 0, np.log(positive) + carried - np.log(scale), -np.inf))
        delta = delta / np.sqrt(positive)[:, None]
        carried = carried + np.log(positive)
    return np.stack(logs[::-1], axis=1)  # k = 0..L


EPS = 1e-5
"""torch.nn.LayerNorm's default eps."""


def _layer_norm(x: Any) -> Any:
    """Each row to mean 0 and variance 1 (biased, as PyTorch's LayerNorm), no affine."""
    centred = x - x.mean(axis=1, keepdims=True)
    return centred / (centred * centred).mean(axis=1, keepdims=True).__add__(EPS) ** 0.5


def _layer_norm_back(x: Any, delta: Any) -> Any:
    """The gradient at LayerNorm's input x from the gradient δ at its output y:
    (δ - mean(δ) - y mean(δ y)) / σ."""
    centred = x - x.mean(axis=1, keepdims=True)
    sigma = ((centred * centred).mean(axis=1, keepdims=True) + EPS) ** 0.5
    y = centred / sigma
    return (delta - delta.mean(axis=1, keepdims=True) - y * (delta * y).mean(axis=1, keepdims=True)) / sigma


def _norm(v: Any) -> Any:
    """Each row's Euclidean length, scaled by its largest entry first (v·v of 1e-200 underflows)."""
    import numpy as np

    top = np.abs(v).max(axis=1, keepdims=True)
    safe = np.where(top > 0, top, 1.0)
    return top * np.sqrt(((v / safe) ** 2).sum(axis=1, keepdims=True))


def _transpose(rng: Any, v: Any, norm: Any, h: Any, delta: Any, weights: str, sw: float, n: int) -> Any:
    """Wᵀδ drawn given W v = h (see the module's docstring)."""
    import numpy as np

    safe = np.where(norm > 0, norm, 1.0)
    v_hat = np.where(norm > 0, v / safe, 0.0)
    fresh = rng.standard_normal(delta.shape)
    if weights == "gaussian":
        along = ((h / safe) * delta).sum(axis=1, keepdims=True) / safe  # |v|² may underflow; this does not
        rest = fresh * (sw * np.sqrt((delta * delta).sum(axis=1, keepdims=True)) / math.sqrt(n))
        rest -= v_hat * (v_hat * rest).sum(axis=1, keepdims=True)
        return np.where(norm > 0, v * along, 0.0) + rest
    h_norm = _norm(h)
    h_hat = np.where(h_norm > 0, h / np.where(h_norm > 0, h_norm, 1.0), 0.0)
    along = (delta * h_hat).sum(axis=1, keepdims=True)
    across = np.sqrt(np.maximum((delta * delta).sum(axis=1, keepdims=True) - along * along, 0.0))
    fresh -= v_hat * (v_hat * fresh).sum(axis=1, keepdims=True)
    fresh /= np.sqrt((fresh * fresh).sum(axis=1, keepdims=True))
    return sw * (along * v_hat + across * fresh)
