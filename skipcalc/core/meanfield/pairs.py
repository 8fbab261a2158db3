"""Two inputs through depth (``--input-corr C``): the correlation of x_k and x′_k, two inputs of
variance q_0 and correlation C pushed through the same wide random network.

Each unit's pair of pre-activations is Gaussian with variance q and covariance p, so one layer
of the block x_k = a x_{k-1} + b (W φ(x_{k-1}) + b_k) maps

    q -> a² q + b² (σ_w² E[φ(u)²] + σ_b²),    p -> a² p + b² (σ_w² E[φ(u)φ(u′)] + σ_b²),

(u, u′) of variance q and correlation c = p/q (Poole et al. 2016's correlation map, with the skip
adding a² p). LayerNorm before the branch (pre) shows it (u, u′) of variance 1; after the sum
(post) divides q and p by the new q. The post-act branch x + φ(W x + b) carries each unit's mean
m and second moment Q as the length map does, and the cross moment P: with m_φ = E[φ(u)],
P -> a² P + 2ab m m_φ + b² E[φ(u)φ(u′)], where (u, u′) have variance σ_w² Q + σ_b² and covariance
σ_w² P + σ_b²; the correlation shown is the cosine P/Q of the two representations.

The two-dimensional Gaussian integrals are trapezoid sums on a uniform grid in (z₁, z₂) (numpy,
float64), at step h and at 2h (every other node, no more work); the whole recursion runs at
both, and the correlations are shown to the decimals where the two agree (at most PAIR_DIGITS,
as c* is). relu, linear and erf use their closed forms (the arc-cosine kernel for relu)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..blocks import Block
from ..errors import InputError, arg
from .activations import Activation
from .correlation import PAIR_DIGITS
from .model import Setting

REACH = 8.5
"""The grid spans |z| <= REACH (the Gaussian beyond holds below 10^-16 of the mass)."""

SIDE = 200
"""The most grid nodes on each side of 0 in each of z₁ and z₂."""

WORK = 300_000_000
"""Grid points one call evaluates φ or a Gaussian at (about five seconds of numpy)."""


class _Kernel:
    """E[φ(u)], E[φ(u)²] and E[φ(u)φ(u′)] for (u, u′) of variance v and correlation c: closed
    forms for relu, linear and erf, else sums at steps h and 2h (a pair of values) on a uniform
    grid in z, or on nodes crowding near u = 0 where the Gaussian is wide."""

    def __init__(self, act: Activation, budget: list[int]) -> None:
        self.act, self.budget = act, budget
        if not act.closed and act.name != "erf":
            from .simulate import numpy_activation

            self.f = numpy_activation(act.name, act.text)[0]

    def at(self, v: float, c: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """((E[φ(u)], E[φ(u)²], E[φ(u)φ(u′)]) at step h, the same at 2h)."""
        name = self.act.name
        c = min(max(c, -1.0), 1.0)
        if name == "relu":
            angle = math.acos(c)
            cross = v / (2 * math.pi) * (math.sqrt(1 - c * c) + (math.pi - angle) * c)
            exact = (math.sqrt(v / (2 * math.pi)), v / 2, cross)
            return exact, exact
        if name == "linear":
            return (0.0, v, v * c), (0.0, v, v * c)
        if name == "erf":
            own = 2 / math.pi * math.asin(2 * v / (1 + 2 * v))
            cross = 2 / math.pi * math.asin(2 * v * c / (1 + 2 * v))
            return (0.0, own, cross), (0.0, own, cross)
        wanted = math.ceil(REACH * max(1.0, math.sqrt(v)) / 0.1)
        if wanted <= SIDE:
            return self._grid(v, c, wanted)
        # a wide Gaussian (the residual network's q grows): a uniform grid in z fine enough for
        # φ's features near u = 0 would be too large; nodes crowding there in u do better, unless
        # the pair is so correlated that its density is a ridge they cannot resolve: then the
        # coarser uniform grid too, and the pair whose steps h and 2h agree best is kept
        crowded = self._crowded(v, c)
        if _disagreement(crowded) < 1e-12:
            return crowded
        return min((crowded, self._grid(v, c, SIDE)), key=_disagreement)

    def _spend(self, points: int) -> None:
        self.budget[0] -= points
        if self.budget[0] < 0:
            raise InputError(
                f"{arg('input_corr')}: the correlations' two-dimensional integrals need more than {WORK:,} evaluations "
                f"(about five seconds); give fewer {arg('layers')}"
            )

    def _values(self, u: Any) -> Any:
        import numpy as np

        with np.errstate(all="ignore"):
            values = self.f(u)
        if not np.all(np.isfinite(values)):
            raise InputError(f"{arg('act')}: {self.act.name!r} is undefined or infinite on the correlations' grid")
        return values

    def _crowded(self, v: float, c: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """The same sums over nodes u = a sinh(t), t uniform (step 0.05): 0.025 apart near u = 0,
        spreading out to |u| = REACH √v, with the Gaussian densities as weights."""
        import numpy as np

        a, step = 0.5, 0.05
        n = math.ceil(math.asinh(REACH * math.sqrt(v) / a) / step)
        self._spend((2 * n + 1) ** 2 + 2 * n + 1)
        t = np.arange(-n, n + 1) * step
        u = a * np.sinh(t)
        w = a * np.cosh(t) * step
        w2 = np.where(np.arange(-n, n + 1) % 2 == 0, 2 * w, 0.0)
        f = self._values(u)
        one = np.exp(-u * u / (2 * v)) / math.sqrt(2 * math.pi * v)
        s2 = 1 - c * c
        if s2 < 1e-12:  # the pair is one value (c = 1) or its negative
            f2 = f if c > 0 else self._values(-u)
            cross = [float((weights * f * f2) @ one) for weights in (w, w2)]
        else:
            pair = np.exp(-(u[:, None] ** 2 - 2 * c * u[:, None] * u[None, :] + u[None, :] ** 2) / (2 * v * s2))
            pair /= 2 * math.pi * v * math.sqrt(s2)
            cross = [float((weights * f) @ pair @ (weights * f)) for weights in (w, w2)]
        return (
            (float((w * f) @ one), float((w * f * f) @ one), cross[0]),
            (float((w2 * f) @ one), float((w2 * f * f) @ one), cross[1]),
        )

    def _grid(self, v: float, c: float, n: int) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """Trapezoid sums on a uniform grid in (z₁, z₂), u = √v z, of n steps a side (a step of 0.1
        in u where that fits in SIDE; past it, coarser, and fewer decimals agree)."""
        import numpy as np

        root = math.sqrt(v)
        step = REACH / n
        self._spend((2 * n + 1) ** 2 + 2 * n + 1)
        z = np.arange(-n, n + 1) * step
        w = np.exp(-z * z / 2) * (step / math.sqrt(2 * math.pi))
        even = np.arange(-n, n + 1) % 2 == 0
        w2 = np.where(even, 2 * w, 0.0)
        f1 = self._values(root * z)
        s = math.sqrt(max(1 - c * c, 0.0))
        f2 = self._values(root * (c * z[:, None] + s * z[None, :]))
        fine = (float(w @ f1), float(w @ (f1 * f1)), float((w * f1) @ f2 @ w))
        coarse = (float(w2 @ f1), float(w2 @ (f1 * f1)), float((w2 * f1) @ f2 @ w2))
        return fine, coarse


def _disagreement(pair: tuple[tuple[float, float, float], tuple[float, float, float]]) -> float:
    """How far a kernel's sums at steps h and 2h differ (E[φ(u)²] and E[φ(u)φ(u′)])."""
    (_, e2, e12), (_, e2_coarse, e12_coarse) = pair
    return abs(e2 - e2_coarse) + abs(e12 - e12_coarse)


def input_correlations(setting: Setting, corr: Fraction, digits: int) -> list[tuple[Decimal, ...]]:
    """For each block, the correlation of two inputs at x_0 .. x_L (L + 1 values, C first),
    each rounded to the decimals the steps h and 2h agree on there (at most PAIR_DIGITS and
    ``digits``; refused where not one decimal is certain)."""
    act, layers = setting.act, setting.layers
    budget = [WORK]
    kernel = _Kernel(act, budget)
    out = []
    start = Decimal(corr.numerator) / Decimal(corr.denominator)
    for block in setting.blocks:
        fine, coarse = (_recursion(kernel, which, block, setting, corr) for which in (0, 1))
        values = [start]
        for k in range(1, layers + 1):
            error = abs(fine[k] - coarse[k]) + 1e-13 * k  # and float64's rounding, layer by layer
            decimals = min(PAIR_DIGITS, digits, math.floor(-math.log10(error)) - 1)
            if decimals < 1:
                raise InputError(
                    f"{arg('input_corr')}: the correlation at layer {k} of the {block.spec} network could "
                    f"not be certified "
                    f"for {act.name!r} (its grids at steps h and 2h differ by {error:.2g}); give fewer {arg('layers')}"
                )
            values.append(Decimal(repr(fine[k])).quantize(Decimal(10) ** -decimals))
        out.append(tuple(values))
    return out


def _recursion(kernel: _Kernel, which: int, block: Block, setting: Setting, corr: Fraction) -> list[float]:
    """The correlations at x_0 .. x_L, with the integrals at step h (which = 0) or 2h (1)."""
    sw, sb = float(setting.weight_var), float(setting.bias_var)
    norm, branch = setting.norm, setting.branch
    gate = block.kind == "stochastic"
    q = float(setting.input_var)
    p = float(corr) * q
    m = 0.0
    out = [p / q if q else float(corr)]
    for a, b in block.coefficients(setting.layers):
        a1, b1 = float(a), float(b)
        a2, b2, ab = a1 * a1, (b1 if gate else b1 * b1), (b1 if gate else a1 * b1)
        if branch == "post-act":
            v = sw * q + sb
            c = (sw * p + sb) / v if v else 1.0
            mu, e2, e12 = kernel.at(v, c)[which]
            m, q, p = (
                a1 * m + (b1 if gate else b1) * mu,
                a2 * q + 2 * ab * m * mu + b2 * e2,
                a2 * p + 2 * ab * m * mu + b2 * e12,
            )
        else:
            seen = 1.0 if norm == "pre" else q
            _, e2, e12 = kernel.at(seen, p / q if q else 1.0)[which]
            q, p = a2 * q + b2 * (sw * e2 + sb), a2 * p + b2 * (sw * e12 + sb)
            if norm == "post":
                q, p = 1.0, p / q
        if not (math.isfinite(q) and math.isfinite(p)) or q > 1e30:
            raise InputError(
                f"{arg('layers')}: the length passes 1e30 at layer {len(out)} of the {block.spec} network; "
                f"give fewer layers"
            )
        out.append(p / q if q else 1.0)
    return out
