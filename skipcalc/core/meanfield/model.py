"""One activation's length map at one (σ_w², σ_b²) and the network it gives: the layer-by-layer
variances q_k, each layer's factor a² + b²χ(q_{k-1}), and the mean squared gradient at each x_k."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from gmpy2 import mpfr

from ..blocks import Block
from ..errors import InputError, arg
from .activations import MAX_Q, NAMES, Activation, _mp
from .quadrature import expectations


@dataclass(frozen=True)
class MeanFieldNetwork:
    """One network's mean-field pass: the variance q_k of x_k (k = 0..L), each layer's factor
    (the mean squared local derivative a² + b²χ(q_{k-1}), k = 1..L), and the mean squared
    gradient at each x_k relative to the output's (k = 0..L)."""

    block: Block
    q: tuple[Any, ...]
    factors: tuple[Any, ...]
    wrt: tuple[Any, ...]
    local: tuple[Any, ...] = ()  # each layer's root mean square local derivative √(a² + b²χ)
    update: tuple[Any, ...] = ()  # ‖b F(x_{k-1})‖/‖x_{k-1}‖, k = 1..L (squared until certified)
    cos: tuple[Any, ...] = ()  # cos(x_k, x_0), k = 0..L (squared until certified)
    correlation: tuple[Any, ...] = ()  # two inputs' correlation at x_0 .. x_L (with --input-corr)


@dataclass(frozen=True)
class Setting:
    """One mean-field case: the activation, σ_w², σ_b² and q_0, the depth, the blocks compared,
    where a LayerNorm sits (none, pre, post) and the branch's form (pre-act W φ(x) + b, or
    post-act φ(W x + b)). The theory, the simulation and the pair correlations all take it."""

    act: Activation
    weight_var: Fraction
    bias_var: Fraction
    input_var: Fraction
    layers: int
    blocks: tuple[Block, ...]
    norm: str = "none"
    branch: str = "pre-act"


class Model:
    """The length map and its derivatives for one activation and (σ_w², σ_b²), at one level and
    precision (exact Fractions for relu and linear)."""

    def __init__(
        self, act: Activation, weight_var: Fraction, bias_var: Fraction, level: int, dps: int, exact: bool = True
    ) -> None:
        self.act, self.level, self.dps = act, level, dps
        self.exact = act.closed and exact  # relu and linear carried at dps digits when too large to hold
        self.w = weight_var if self.exact else _mp(weight_var)
        self.b = bias_var if self.exact else _mp(bias_var)
        self.e = expectations(act, level, dps)

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        """(the next length σ_w² E[φ²] + σ_b², χ(q) = σ_w² E[φ′²], χ_q(q) = σ_w² E[φ′² + φφ″])."""
        if not self.exact:
            q = _mp(q)
        e2, d2, fd2 = self.e.at(q) if q else self._at_zero()
        if not self.exact:
            e2, d2, fd2 = _mp(e2), _mp(d2), _mp(fd2)
        return self.w * e2 + self.b, self.w * d2, self.w * (d2 + fd2)

    def _at_zero(self) -> tuple[Any, Any, Any]:
        """q = 0: every unit is 0 (φ(0)², φ′(0)², φ(0)φ″(0))."""
        zero = mpfr(0)
        if self.act.name == "relu":
            return Fraction(0), Fraction(1, 2), Fraction(0)  # the limit q -> 0+
        f, d, d2 = self.act.f(zero), self.act.df(zero), self.act.d2f(zero)
        if self.exact:
            return Fraction(0), Fraction(1), Fraction(0)
        return f * f, d * d, f * d2

    def fixed_point(self, q0: Fraction) -> tuple[Any, str | None, Any, Any]:
        """(q*, why there is none, χ₁, χ_q) reached from q_0 by iterating the length map.

        With σ_b² = 0 and φ(0) = 0, q = 0 is a fixed point. It is the one reached (q* = 0, exactly)
        when σ_w² φ′(0)² < 1, so that the map near 0 is q -> σ_w² φ′(0)² q + O(q²), a contraction,
        and the iterates fall below 10^-(dps + 20) (for tanh, erf and linear, whose |φ(u)| never
        exceeds φ′(0)|u|, at once from any q_0 when σ_w² φ′(0)² <= 1). Else the iterates settle
        where the length map's step is below the working precision, relative to q."""
        if self.act.closed:
            return self._closed_fixed_point()
        q = _mp(q0)
        tol = mpfr(10) ** (-self.dps + 3)
        zero_fixed = self.b == 0 and self.act.zero
        contracts = zero_fixed and self.w * self._at_zero()[1] < 1  # σ_w² φ′(0)² < 1
        if zero_fixed and self.act.odd and self.act.name in NAMES and self.act.slope0 is not None:
            if _mp(self.w) * _mp(self.act.slope0) ** 2 <= 1:  # E[φ²] < φ′(0)² q: q falls to 0
                return self._zero()
        tiny = mpfr(10) ** -(self.dps + 20)
        for _ in range(2000):
            nxt, chi, chi_q = self.at(q)
            if nxt > _mp(MAX_Q):
                return None, "q grows without bound (no finite fixed point)", None, None
            if contracts and nxt < tiny and nxt < q:
                return self._zero()
            if chi_q < 1 and q > 0:  # Newton's step on q = map(q), then check it
                step = (nxt - q) / (1 - chi_q)
                trial = q + step
                if trial > 0 and abs(step) <= tol * q:
                    q = trial
                    break
                if trial > 0:
                    after = self.at(trial)[0]
                    if abs(after - trial) < abs(nxt - q):
                        q = trial
                        continue
            if abs(nxt - q) <= tol * q:
                q = nxt
                break
            q = nxt
        else:
            raise InputError(
                f"{arg('weight_var')}: the length map did not settle in 2,000 steps from {arg('input_var')}"
            )
        _, chi, chi_q = self.at(q)
        return q, None, chi, chi_q

    def _zero(self) -> tuple[Any, str | None, Any, Any]:
        """q* = 0, with χ₁ = χ_q = σ_w² φ′(0)² there."""
        _, chi, chi_q = self.at(mpfr(0))
        return mpfr(0), None, chi, chi_q

    def _closed_fixed_point(self) -> tuple[Any, str | None, Any, Any]:
        """relu: q* = σ_b²/(1 - σ_w²/2) for σ_w² < 2; linear: σ_b²/(1 - σ_w²) for σ_w² < 1."""
        slope = self.w / 2 if self.act.name == "relu" else self.w  # q_k = slope q_{k-1} + σ_b²
        if slope < 1:
            q = self.b / (1 - slope)
            return q, None, slope, slope
        if slope == 1 and self.b == 0:
            return None, "every q is a fixed point (q_k = q_0)", slope, slope
        return None, "q grows without bound (no finite fixed point)", slope, slope

    def post_act(self, block: Block, q0: Fraction, layers: int) -> MeanFieldNetwork:
        """The block most code writes, x_k = a x_{k-1} + b φ(W x_{k-1} + b_k): its state is not
        Gaussian, so each unit's mean m and second moment Q are carried: u ~ N(0, σ_w² Q + σ_b²),
        m_k = a m + b E[φ(u)], Q_k = a² Q + 2ab m E[φ(u)] + b² E[φ(u)²], factor a² + b² σ_w² E[φ′(u)²]
        (plain: Q_k = E[φ(u)²]). ``q`` holds Q_k; the forward side uses E[x_k x_0] = a E[x_{k-1} x_0]
        (x_0 has mean 0)."""
        gate = block.kind == "stochastic"
        q, m, c = _mp(q0), mpfr(0), _mp(q0)  # Q, the mean, E[x_k x_0]
        qs, factors, updates, cosines = [q0], [], [], [mpfr(1)]
        for a, b in block.coefficients(layers):
            a1, b1 = _mp(a), _mp(b)
            a2, b2 = a1 * a1, (b1 if gate else b1 * b1)
            if q > _mp(MAX_Q):
                raise InputError(
                    f"{arg('layers')}: Q passes 1e30 at layer {len(qs)} of the {block.spec} network; give fewer layers"
                )
            v = self.w * q + self.b  # the branch's pre-activation variance
            if v > 0:
                e2, d2, _ = self.e.at(v)
                e1 = self.e.mean(v)
            else:
                e2, d2, _ = self._at_zero()
                e1 = self.act.f(mpfr(0))
            e1, e2, d2 = _mp(e1), _mp(e2), _mp(d2)
            updates.append(b2 * e2 / q if q else mpfr(0))
            new_q = a2 * q + 2 * (a1 * b1 if not gate else b1) * m * e1 + b2 * e2
            m = a1 * m + (b1 if not gate else b1) * e1
            c = a1 * c
            cosines.append(c * c / (new_q * _mp(q0)) if new_q else mpfr(0))
            factors.append(a2 + b2 * self.w * d2)
            q = new_q
            qs.append(q)
        wrt = [mpfr(1)]
        for f in reversed(factors):
            wrt.append(wrt[-1] * f)
        return MeanFieldNetwork(
            block, tuple(qs), tuple(factors), tuple(reversed(wrt)), (), tuple(updates), tuple(cosines)
        )

    def network(self, block: Block, q0: Fraction, layers: int, norm: str = "none") -> MeanFieldNetwork:
        """The pass through ``layers`` blocks from q_0. ``norm``: none; pre (x + F(LN(x)): the
        branch sees unit variance, q_k = a² q + b² (σ_w² E[φ(z)²] + σ_b²), factor a² + b² χ(1)/q);
        post (LN(a x + b F(x)): S = a² Q + b² (σ_w² E[φ(√Q z)²] + σ_b²), then Q = 1, factor
        (a² + b² χ(Q))/S). LayerNorm without its affine, in the wide limit x/√q.

        The forward side, with random weights (the branch's output is uncorrelated with x_0):
        cos(x_k, x_0)² = cos(x_{k-1}, x_0)² a² q_{k-1}/S_k (S_k the variance before a post-LN),
        and the update's size ‖b F‖²/‖x_{k-1}‖² = b² (σ_w² E[φ²] + σ_b²)/q_{k-1}."""
        coefficients = block.coefficients(layers)
        gate = block.kind == "stochastic"
        one = Fraction(1) if self.exact else mpfr(1)
        q = q0 if self.exact else _mp(q0)
        qs, factors, updates, cosines = [q0], [], [], [one]  # q_0 as given, exactly
        memo: dict[Any, tuple[Any, Any, Any]] = {}
        settled = None if self.exact else mpfr(10) ** -(self.dps + 2)
        cos2 = one
        for a, b in coefficients:
            a2 = a * a if self.exact else _mp(a * a)
            b2 = (b if gate else b * b) if self.exact else _mp(b if gate else b * b)
            if q > (MAX_Q if self.exact else _mp(MAX_Q)):
                raise InputError(
                    f"{arg('layers')}: the length q passes 1e30 at layer {len(qs)} of the {block.spec} network; "
                    f"give fewer layers, or smaller {arg('weight_var')}, {arg('bias_var')} or {arg('input_var')}"
                )
            seen = one if norm == "pre" else q  # the variance the branch's input has
            found = memo.get(seen)
            if found is None:
                found = memo[seen] = self.at(seen)
            nxt, chi, _ = found
            new = a2 * q + b2 * nxt if a2 else b2 * nxt
            if norm == "pre":
                factor = a2 + b2 * chi / q if q else None
            elif norm == "post":
                factor = (a2 + b2 * chi) / new if new else None
            else:
                factor = a2 + b2 * chi if a2 else b2 * chi
            if factor is None:
                raise InputError(f"{arg('norm')}: the variance is 0 at layer {len(qs)}: LayerNorm divides by it")
            updates.append(b2 * nxt / q if q else one * 0)
            cos2 = cos2 * a2 * q / new if new else cos2 * 0
            cosines.append(cos2)
            if norm == "post":
                new = one
            elif not self.exact and abs(new - q) <= settled * abs(q):
                new = q  # the map has settled to the working precision: the same layer again
            q = new
            qs.append(q)
            factors.append(factor)
        wrt = [one]
        for f in reversed(factors):
            wrt.append(wrt[-1] * f)
        return MeanFieldNetwork(
            block, tuple(qs), tuple(factors), tuple(reversed(wrt)), (), tuple(updates), tuple(cosines)
        )
