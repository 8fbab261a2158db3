"""Mean-field signal propagation at initialization: where a wide network's local derivative
comes from (Poole et al. 2016; Schoenholz et al. 2017; Yang and Schoenholz 2017).

A fully connected network of width N -> infinity, weights N(0, σ_w²/N), biases N(0, σ_b²), and
pre-activations x_k = W_k φ(x_{k-1}) + b_k (x_0 of variance q_0). Its units are Gaussian with
variance q_k, the length map

    q_k = σ_w² E[φ(√q_{k-1} z)²] + σ_b²,        z ~ N(0, 1),

and the mean squared gradient changes by χ(q_{k-1}) = σ_w² E[φ′(√q_{k-1} z)²] per layer, so
√χ plays the seed's "local derivative". A block x_k = a x_{k-1} + b (W φ(x_{k-1}) + b_k) has
q_k = a² q_{k-1} + b² (σ_w² E[φ²] + σ_b²) and factor a² + b² χ (stochastic depth's gate is
Bernoulli(p), so E[b²] = p).

Every Gaussian expectation is a double-exponential (exp-sinh) quadrature in gmpy2's MPFR
arithmetic with 10 guard digits, the activation's values cached at the nodes of each
power-of-two scale, checked against the same sum at twice the step; the whole computation runs
again at a finer step when a check fails (refused when none passes). relu and
linear have closed forms in q, so their answers are exact; erf's are closed forms with arcsin
and square roots. This module imports no SymPy unless ``--act`` is a formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

import gmpy2
from gmpy2 import mpfr

from .blocks import Block
from .errors import InputError

NAMES = ("linear", "relu", "tanh", "erf", "sigmoid", "gelu", "softplus")
CLOSED = ("linear", "relu")  # expectations rational in q: exact answers
MAX_Q = Fraction(10**30)  # a length beyond this: q grows without bound (reported, not computed)
WORK = 4_000_000  # node evaluations one call may make (about five seconds)
PAIR_LEVEL, PAIR_DPS, PAIR_DIGITS = 2, 20, 10  # the two-dimensional integrals of c* and χ_c


def precision(dps: int) -> AbstractContextManager[Any]:
    """gmpy2's working precision for ``dps`` decimal digits."""
    return gmpy2.context(gmpy2.get_context(), precision=int(dps * 3.33) + 16)  # type: ignore[no-any-return]


def big(value: Any) -> Any:
    """A Fraction (or int) as an mpfr at the working precision."""
    if isinstance(value, Fraction):
        return mpfr(value.numerator) / value.denominator
    return mpfr(value)


# ---------------------------------------------------------------------------
# Activations: φ, φ′ and φ″ at working precision


@dataclass(frozen=True)
class Activation:
    """An activation by name or formula; ``f``, ``df`` and ``d2f`` evaluate at an mpfr."""

    name: str
    f: Callable[[Any], Any]
    df: Callable[[Any], Any]
    d2f: Callable[[Any], Any]
    odd: bool = False  # φ(0) = 0 and φ odd: q = 0 is a fixed point when σ_b² = 0
    slope0: Fraction | None = None  # φ′(0), exactly, where known
    text: str = ""  # the formula, for the simulation's evaluator

    @property
    def closed(self) -> bool:
        return self.name in CLOSED


def _named(name: str) -> Activation:
    from .compiled import gmpy2_functions  # the formula grammar's own functions, no SymPy

    fn = gmpy2_functions()
    _sigmoid, _npdf, _ncdf = fn["sigmoid"], fn["phi"], fn["Phi"]
    zero, one = (lambda x: mpfr(0)), (lambda x: mpfr(1))
    if name == "linear":
        return Activation(name, lambda x: x, one, zero, True, Fraction(1))
    if name == "relu":
        return Activation(name, lambda x: x if x > 0 else mpfr(0), lambda x: mpfr(x > 0), zero)
    if name == "tanh":

        def sech2(x: Any) -> Any:
            return 1 / gmpy2.cosh(x) ** 2

        return Activation(name, gmpy2.tanh, sech2, lambda x: -2 * gmpy2.tanh(x) * sech2(x), True, Fraction(1))
    if name == "erf":

        def derf(x: Any) -> Any:
            return 2 / gmpy2.sqrt(gmpy2.const_pi()) * gmpy2.exp(-x * x)

        return Activation(name, gmpy2.erf, derf, lambda x: -2 * x * derf(x), True)
    if name == "sigmoid":

        def d(x: Any) -> Any:
            s = _sigmoid(x)
            return s * (1 - s)

        return Activation(name, _sigmoid, d, lambda x: d(x) * (1 - 2 * _sigmoid(x)), False, Fraction(1, 4))
    if name == "gelu":
        return Activation(
            name,
            lambda x: x * _ncdf(x),
            lambda x: _ncdf(x) + x * _npdf(x),
            lambda x: (2 - x * x) * _npdf(x),
            False,
            Fraction(1, 2),
        )
    return Activation(  # softplus
        name,
        fn["softplus"],
        _sigmoid,
        lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
        False,
        Fraction(1, 2),
    )


def activation(text: str) -> Activation:
    """``--act``: a name (linear, relu, tanh, erf, sigmoid, gelu, softplus) or a formula of the
    --fn grammar in x (read by the safe parser, never evaluated as code)."""
    if not isinstance(text, str):
        raise TypeError(f"act: {text!r} is not text")
    name = text.strip().lower()
    if name in NAMES:
        return _named(name)
    if name.isidentifier() and name != "x":
        from .errors import suggest

        raise InputError(
            f"--act: {text.strip()[:40]!r} is not an activation; {suggest(name, list(NAMES))}"
            f"expected one of {', '.join(NAMES)} or a formula in x such as 'x*sigmoid(x)'"
        )
    return _formula(text.strip())


def _formula(text: str) -> Activation:
    import sympy as sp

    from .compiled import compile_formula
    from .formula import X, parse_layer

    layer = parse_layer(text, "--act")
    # a kink's delta in φ″ (abs, relu) is left out: φφ″ then counts only away from the kink,
    # exact where φ is 0 at the kink (abs, relu)
    d2 = sp.diff(layer.df, X).replace(sp.DiracDelta, lambda *args: sp.Integer(0))

    def checked(expr: Any) -> Callable[[Any], Any]:
        run = compile_formula(expr, "gmpy2")

        def value(x: Any) -> Any:
            v = run(x)
            if not gmpy2.is_finite(v):
                raise InputError(f"--act: {text!r} or its derivatives are undefined or infinite at x = {float(x):.6g}")
            return v

        return value

    odd = bool(layer.f.subs(X, 0) == 0 and sp.simplify(layer.f.subs(X, -X) + layer.f) == 0)
    slope = layer.df.subs(X, 0)
    exact_slope = Fraction(int(slope.p), int(slope.q)) if slope.is_Rational else None
    return Activation(text, checked(layer.f), checked(layer.df), checked(d2), odd, exact_slope, text)


# ---------------------------------------------------------------------------
# Gaussian expectations


@lru_cache(maxsize=8)
def _nodes(level: int, dps: int) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, ...]]:
    """exp-sinh nodes x > 0 and weights for a half line (step 2^-level), at ``dps`` digits:
    they crowd towards 0 as finely as towards infinity, so a feature of φ at any scale below
    the Gaussian's width is resolved. From x = 10^-(dps+10) (the part below is smaller than
    that) to x = e^16 (the Gaussian of width 1 to 2 is long gone). The nodes of even index are
    the next coarser level's (``even``), whose weights are twice these."""
    with precision(dps):
        h = mpfr(2) ** -level
        half_pi = gmpy2.const_pi() / 2
        low = math.asinh((dps + 10) * math.log(10) / (math.pi / 2))
        high = math.asinh(16 / (math.pi / 2))
        xs, ws, even = [], [], []
        for k in range(-2 * math.ceil(low * 2 ** (level - 1)), 2 * math.ceil(high * 2 ** (level - 1)) + 1):
            t = k * h
            x = gmpy2.exp(half_pi * gmpy2.sinh(t))
            xs.append(x)
            ws.append(x * half_pi * gmpy2.cosh(t) * h)
            even.append(k % 2 == 0)
        return tuple(xs), tuple(ws), tuple(even)


class Unsettled(Exception):
    """A quadrature whose two step sizes disagreed: the computation is run again, finer."""


class Expectations:
    """E[g(√q z)] for g = φ², φ′², φφ″ at one level and precision: a sum over the nodes x in
    u = s·x, with s the power of two at or below √q (so the Gaussian's width in x is 1 to 2,
    where the nodes converge fast) and the Gaussian density of variance q as weight; the
    activation's values at the nodes of each scale computed once.

    Every sum is also made at twice the step (the nodes of even index, no more work), and the
    two must agree to ``need`` digits, else Unsettled is raised: the error of a double
    exponential rule at step h is about the square of its difference from step 2h (the
    estimate mpmath's quad uses), so ``need`` is a little over half the digits kept."""

    def __init__(self, act: Activation, level: int, dps: int, need: float = 0.0) -> None:
        self.act, self.level, self.dps, self.need = act, level, dps, need
        with precision(dps):
            xs, ws, even = _nodes(level, dps + 10)
            limit = (dps + 12) * 2.303 * 8 + 100  # x² beyond this: the Gaussian is below 10^-(dps+12)
            kept = [(x, w, e) for x, w, e in zip(xs, ws, even, strict=True) if x * x <= limit]
            self.xs = [x for x, _, _ in kept]
            self.x2 = [x * x for x, _, _ in kept]
            self.ws = [w for _, w, _ in kept]
            self.even = [e for _, _, e in kept]
            self.root_2pi = gmpy2.sqrt(2 * gmpy2.const_pi())
            self.tolerance = mpfr(10) ** -need if need else None
        self.cache: dict[int, list[tuple[Any, Any, Any]]] = {}

    def scale(self, j: int) -> list[tuple[Any, Any, Any]]:
        """w·(φ², φ′², φφ″) summed over ±u at every node, u = 2^j x."""
        found = self.cache.get(j)
        if found is None:
            act = self.act
            found = []
            for x, w in zip(self.xs, self.ws, strict=True):
                total = [mpfr(0)] * 3
                for u in (gmpy2.mul_2exp(x, j), -gmpy2.mul_2exp(x, j)):
                    f, d, d2 = act.f(u), act.df(u), act.d2f(u)
                    total[0] += f * f
                    total[1] += d * d
                    total[2] += f * d2
                found.append((w * total[0], w * total[1], w * total[2]))
            self.cache[j] = found
        return found

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        """(E[φ²], E[φ′²], E[φφ″]) at variance q (an mpfr > 0)."""
        j = int(gmpy2.floor(gmpy2.log2(q) / 2))
        s2 = gmpy2.mul_2exp(mpfr(1), 2 * j)
        h = -s2 / (2 * q)  # the Gaussian in x: exp(h x²), h in (-1/2, -1/8]
        a = b = c = a2 = b2 = c2 = mpfr(0)
        exp = gmpy2.exp
        for x2, (g0, g1, g2), even in zip(self.x2, self.scale(j), self.even, strict=True):
            weight = exp(x2 * h)
            ta, tb, tc = weight * g0, weight * g1, weight * g2
            a += ta
            b += tb
            c += tc
            if even:
                a2 += ta
                b2 += tb
                c2 += tc
        if self.tolerance is not None:
            tol = self.tolerance
            if abs(2 * a2 - a) > tol * abs(a) or abs(2 * b2 - b) > tol * abs(b) or abs(2 * c2 - c) > tol * abs(b):
                raise Unsettled
        norm = gmpy2.mul_2exp(mpfr(1), j) / (self.root_2pi * gmpy2.sqrt(q))
        return a * norm, b * norm, c * norm


class Closed:
    """The same expectations in closed form: relu (q/2, 1/2, 0) and linear (q, 1, 0) exactly;
    erf with arcsin and a square root."""

    def __init__(self, act: Activation) -> None:
        self.act = act

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        name = self.act.name
        if name == "relu":
            return q / 2, Fraction(1, 2), Fraction(0)
        if name == "linear":
            return q, Fraction(1), Fraction(0)
        # erf: E[erf²] = (2/π) asin(2q/(1+2q)); E[erf′²] = (4/π)/√(1+4q); and
        # E[φ′² + φφ″] = d/dq E[φ²] = (2/π) / ((1+2q) √(1+4q))
        q = big(q)
        pi = gmpy2.const_pi()
        root = gmpy2.sqrt(1 + 4 * q)
        e2 = 2 / pi * gmpy2.asin(2 * q / (1 + 2 * q))
        d2 = 4 / pi / root
        slope = 2 / pi / ((1 + 2 * q) * root)
        return e2, d2, slope - d2


def expectations(act: Activation, level: int, dps: int) -> Expectations | Closed:
    """Closed forms where they exist, else the quadrature, checked to a little over half the
    digits kept (dps is the digits kept + 10)."""
    if act.name in ("relu", "linear", "erf"):
        return Closed(act)
    return Expectations(act, level, dps, (dps - 10) / 2 + 4)


# ---------------------------------------------------------------------------
# The maps, their fixed points and the network passes


@dataclass(frozen=True)
class Network:
    """One network's mean-field pass: the variance q_k of x_k (k = 0..L), each layer's factor
    (the mean squared local derivative a² + b²χ(q_{k-1}), k = 1..L), and the mean squared
    gradient at each x_k relative to the output's (k = 0..L)."""

    block: Block
    q: tuple[Any, ...]
    factors: tuple[Any, ...]
    wrt: tuple[Any, ...]

    def local(self, digits: int) -> list[Any]:
        """Each layer's root mean square local derivative √(a² + b²χ), to ``digits``."""
        return [sqrt_of(f, digits) for f in self.factors]


@dataclass(frozen=True)
class Theory:
    """The fixed-point quantities (None where they do not exist, with the reason)."""

    q_star: Any
    q_reason: str | None
    chi1: Any
    c_star: Any
    chi_c: Any
    xi_q: Any
    xi_c: Any
    phase: str | None  # None: no fixed point, and χ changes with q
    chi_q: Any


def _mp(value: Any) -> Any:
    if isinstance(value, Decimal):
        return mpfr(str(value))
    return big(value) if isinstance(value, Fraction) else value


class Model:
    """The length map and its derivatives for one activation and (σ_w², σ_b²), at one level and
    precision (exact Fractions for relu and linear)."""

    def __init__(self, act: Activation, weight_var: Fraction, bias_var: Fraction, level: int, dps: int) -> None:
        self.act, self.level, self.dps = act, level, dps
        self.exact = act.closed
        self.w = weight_var if self.exact else _mp(weight_var)
        self.b = bias_var if self.exact else _mp(bias_var)
        self.e = expectations(act, level, dps)

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        """(the next length σ_w² E[φ²] + σ_b², χ(q) = σ_w² E[φ′²], χ_q(q) = σ_w² E[φ′² + φφ″])."""
        if not self.exact:
            q = _mp(q)
        e2, d2, fd2 = self.e.at(q) if q else self._at_zero()
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
        """(q*, why there is none, χ₁, χ_q) reached from q_0 by iterating the length map."""
        if self.exact:
            return self._closed_fixed_point()
        q = _mp(q0)
        tol = mpfr(10) ** (-self.dps + 3)
        zero_fixed = self.b == 0 and self.act.odd
        if zero_fixed and self.act.name in NAMES and self.act.slope0 is not None:
            if _mp(self.w) * _mp(self.act.slope0) ** 2 <= 1:  # tanh: E[φ²] < q, so q falls to 0
                q = mpfr(0)
                _, chi, chi_q = self.at(q)
                return q, None, chi, chi_q
        for _ in range(2000):
            nxt, chi, chi_q = self.at(q)
            if nxt > _mp(MAX_Q):
                return None, "q grows without bound (no finite fixed point)", None, None
            if zero_fixed and nxt < mpfr(10) ** -30:
                q = mpfr(0)
                break
            if chi_q < 1 and q > 0:  # Newton's step on q = map(q), then check it
                step = (nxt - q) / (1 - chi_q)
                trial = q + step
                if trial > 0 and abs(step) <= tol * max(q, 1):
                    q = trial
                    break
                if trial > 0:
                    after = self.at(trial)[0]
                    if abs(after - trial) < abs(nxt - q):
                        q = trial
                        continue
            if abs(nxt - q) <= tol * max(q, 1):
                q = nxt
                break
            q = nxt
        else:
            raise InputError("--weight-var: the length map did not settle in 2,000 steps from --input-var")
        _, chi, chi_q = self.at(q)
        return q, None, chi, chi_q

    def _closed_fixed_point(self) -> tuple[Any, str | None, Any, Any]:
        """relu: q* = σ_b²/(1 - σ_w²/2) for σ_w² < 2; linear: σ_b²/(1 - σ_w²) for σ_w² < 1."""
        slope = self.w / 2 if self.act.name == "relu" else self.w  # q_k = slope q_{k-1} + σ_b²
        if slope < 1:
            q = self.b / (1 - slope)
            return q, None, slope, slope
        if slope == 1 and self.b == 0:
            return None, "every q is a fixed point (q_k = q_0)", slope, slope
        return None, "q grows without bound (no finite fixed point)", slope, slope

    def network(self, block: Block, q0: Fraction, layers: int) -> Network:
        """The pass through ``layers`` blocks from q_0."""
        coefficients = block.coefficients(layers)
        gate = block.kind == "stochastic"
        q = q0 if self.exact else _mp(q0)
        qs, factors = [q0], []  # q_0 as given, exactly
        memo: dict[Any, tuple[Any, Any, Any]] = {}
        settled = None if self.exact else mpfr(10) ** -(self.dps + 2)
        for a, b in coefficients:
            a2 = a * a if self.exact else _mp(a * a)
            b2 = (b if gate else b * b) if self.exact else _mp(b if gate else b * b)
            if q > (MAX_Q if self.exact else _mp(MAX_Q)):
                raise InputError(
                    f"--layers: the length q passes 1e30 at layer {len(qs)} of the {block.spec} network; "
                    "give fewer layers, or smaller --weight-var, --bias-var or --input-var"
                )
            found = memo.get(q)
            if found is None:
                found = memo[q] = self.at(q)
            nxt, chi, _ = found
            new = a2 * q + b2 * nxt if a2 else b2 * nxt
            if not self.exact and abs(new - q) <= settled * abs(q):
                new = q  # the map has settled to the working precision: the same layer again
            q = new
            qs.append(q)
            factors.append(a2 + b2 * chi if a2 else b2 * chi)
        wrt = [Fraction(1) if self.exact else mpfr(1)]
        for f in reversed(factors):
            wrt.append(wrt[-1] * f)
        return Network(block, tuple(qs), tuple(factors), tuple(reversed(wrt)))


# ---------------------------------------------------------------------------
# The correlation map (two inputs): c* and χ_c


def correlation(model: Model, q: Any, chi1: Any, digits: int, start: Any = 0) -> tuple[Any, Any]:
    """(c*, χ_c): in the ordered and critical phases c* = 1 and χ_c = χ₁; in the chaotic
    phase the stable fixed point below 1 of c -> (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q*, and the
    slope σ_w² E[φ′(u₁)φ′(u₂)] there (u₁, u₂ of variance q*, correlation c)."""
    if chi1 <= 1:
        return Fraction(1) if model.exact else mpfr(1), chi1
    if model.act.closed:  # relu and linear are chaotic only where q has no fixed point
        return Fraction(1), chi1
    pair = _pair_expectation(model, q)
    if pair is None:
        raise InputError("--act: c* needs a two-dimensional integral this activation makes too costly here")
    if model.b == 0 and model.act.odd:  # c = 0 is the fixed point: E[φ(u₁)φ(u₂)] = 0 there
        return Fraction(0), model.w * pair(mpfr(0))[1]
    c = _mp(start) if start else mpfr(0)
    for _ in range(200):  # the map is a contraction at c*: iterate from 0 (or a first answer), Newton
        e, slope = pair(c)
        nxt = (model.w * e + model.b) / q
        chi_c = model.w * slope
        if chi_c < 1:
            step = (nxt - c) / (1 - chi_c)
            c_new = c + step
        else:
            c_new = nxt
        c_new = min(max(c_new, mpfr(-1)), mpfr(1) - mpfr(10) ** -(model.dps - 5))
        if abs(c_new - c) < mpfr(10) ** -(digits + 4):
            return c_new, chi_c  # the slope a step of 10^-(digits+4) away: the same to digits
        c = c_new
    raise InputError("--weight-var: the correlation map did not settle in 200 steps")


def _pair_expectation(model: Model, q: Any) -> Callable[[Any], tuple[Any, Any]] | None:
    """c -> (E[φ(u₁)φ(u₂)], E[φ′(u₁)φ′(u₂)]) by the trapezoid rule on a uniform grid in
    (z₁, z₂) (exponentially convergent for a smooth φ times the Gaussian, wherever φ's features
    fall), step 2^-level / max(1, √q); None when the grid would pass the work limit."""
    root = gmpy2.sqrt(q)
    step = mpfr(2) ** -model.level / max(mpfr(1), root)
    reach = math.sqrt(2 * (PAIR_DPS + 5) * math.log(10))
    n = math.ceil(reach / float(step))
    if (2 * n + 1) ** 2 * 2 > WORK:
        return None
    zs = [k * step for k in range(-n, n + 1)]
    norm = step / gmpy2.sqrt(2 * gmpy2.const_pi())
    weights = [norm * gmpy2.exp(-z * z / 2) for z in zs]
    act = model.act
    first = [(w * act.f(root * z), w * act.df(root * z)) for z, w in zip(zs, weights, strict=True)]

    def at(c: Any) -> tuple[Any, Any]:
        s = gmpy2.sqrt(1 - c * c)
        total_f, total_d = mpfr(0), mpfr(0)
        f, df = act.f, act.df
        for (f1, d1), z1 in zip(first, zs, strict=True):
            shift = c * z1
            inner_f, inner_d = mpfr(0), mpfr(0)
            for z2, w2 in zip(zs, weights, strict=True):
                u2 = root * (shift + s * z2)
                inner_f += w2 * f(u2)
                inner_d += w2 * df(u2)
            total_f += f1 * inner_f
            total_d += d1 * inner_d
        return total_f, total_d

    return at


# ---------------------------------------------------------------------------
# The critical line


def critical_weight_var(act: Activation, bias_var: Fraction, level: int, dps: int) -> Any:
    """The σ_w² with χ₁ = 1 at this σ_b²: where q = σ_w² E[φ²] + σ_b² and σ_w² E[φ′²] = 1
    together, so q solves E[φ²]/E[φ′²] + σ_b² = q and σ_w² = 1/E[φ′²] there. relu: 2 and
    linear: 1 at any σ_b² (χ₁ does not depend on q); an odd φ at σ_b² = 0: 1/φ′(0)²."""
    if act.name == "relu":
        return Fraction(2)
    if act.name == "linear":
        return Fraction(1)
    if bias_var == 0 and act.odd and act.slope0:
        return 1 / act.slope0**2
    e = expectations(act, level, dps)
    b = _mp(bias_var)

    def gap(q: Any) -> Any:
        e2, d2, _ = e.at(q)
        return e2 / d2 + b - q

    low, high = None, None
    previous = mpfr(10) ** -3
    before = gap(previous)
    for k in range(-2, 13):
        q = mpfr(10) ** k
        now = gap(q)
        if (before > 0) != (now > 0):
            low, high = previous, q
            break
        previous, before = q, now
    if low is None:
        raise InputError(
            f"--critical: no σ_w² makes χ₁ = 1 for {act.name} at σ_b² = {float(b):.6g} "
            "(E[φ²]/E[φ′²] + σ_b² = q has no root for 0.001 <= q <= 1e12)"
        )
    tol = mpfr(10) ** (-dps + 4)
    g_low, g_high = gap(low), gap(high)
    for step in range(1000):  # the secant's point inside the bracket, every other step its middle
        mid = (low + high) / 2 if step % 2 else high - g_high * (high - low) / (g_high - g_low)
        if not low < mid < high:
            mid = (low + high) / 2
        g_mid = gap(mid)
        if g_mid == 0:
            low = high = mid
            break
        if (g_mid > 0) == (g_low > 0):
            low, g_low = mid, g_mid
        else:
            high, g_high = mid, g_mid
        if high - low <= tol * high:
            break
    q = (low + high) / 2
    return 1 / e.at(q)[1]


# ---------------------------------------------------------------------------
# Certified: the whole computation twice


def agreed_digits(a: Any, b: Any) -> float:
    """The significant digits two evaluations share (inf when equal)."""
    if a == b:
        return math.inf
    if a is None or b is None:
        return -math.inf
    a, b = _mp(a), _mp(b)
    scale = max(abs(a), abs(b))
    return float(-gmpy2.log10(abs(a - b) / scale)) if scale else math.inf


def to_decimal(value: Any, digits: int) -> Any:
    """An mpf kept to ``digits`` significant digits (a carried Decimal); Fractions as they are."""
    if not isinstance(value, type(mpfr(0))):
        return value  # exact (Fraction), absent (None) or a reason
    if not value:
        return Fraction(0)  # every term was 0: exactly 0 (a constant activation's slope)
    return Context(prec=digits).create_decimal(f"{value:.{digits + 2}e}")


def certified(compute: Callable[[int, int], list[Any]], digits: int) -> list[Any]:
    """Run ``compute(level, dps)`` with 10 guard digits, at a finer step each time one of its
    quadratures is Unsettled (its steps h and 2h disagree); the values kept to ``digits``."""
    level = 4 if digits <= 12 else 5 if digits <= 34 else 6
    dps = digits + 10
    for _ in range(4):
        try:
            with precision(dps):
                values = compute(level, dps)
        except Unsettled:
            level += 1
            continue
        if all(isinstance(v, Fraction) or v is None for v in _flat(values)):
            return values  # exact: closed forms in rational arithmetic
        return _rounded(values, digits)
    raise InputError(f"--digits: the mean-field quantities could not be certified to {digits} digits here")


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(_flat(list(v)))
        else:
            out.append(v)
    return out


def _rounded(values: list[Any], digits: int) -> list[Any]:
    return [
        type(v)(_rounded(list(v), digits)) if isinstance(v, (list, tuple)) else to_decimal(v, digits) for v in values
    ]


# ---------------------------------------------------------------------------
# The whole answer


def theory_and_networks(
    act: Activation,
    weight_var: Fraction,
    bias_var: Fraction,
    input_var: Fraction,
    layers: int,
    blocks: Sequence[Block],
    digits: int,
) -> tuple[Theory, list[Network]]:
    """The fixed-point quantities and each block's pass, certified to ``digits``."""
    if not act.closed and layers * len(blocks) * 600 > WORK:
        raise InputError(
            f"--layers: {layers:,} layers of {len(blocks)} networks need about {layers * len(blocks) * 600:,} "
            f"quadrature terms, more than the {WORK:,} one call makes; give fewer layers or blocks"
        )

    def compute(level: int, dps: int) -> list[Any]:
        model = Model(act, weight_var, bias_var, level, dps)
        q_star, reason, chi1, chi_q = model.fixed_point(input_var)
        nets = [model.network(block, input_var, layers) for block in blocks]
        return [q_star, chi1, chi_q, *[(n.q, n.factors, n.wrt) for n in nets], reason]

    *values, reason = certified(compute, digits)
    q_star, chi1, chi_q, *passes = values
    networks = [Network(block, *p) for block, p in zip(blocks, passes, strict=True)]
    if q_star == 0 and act.slope0 is not None:  # every unit at 0: χ₁ = χ_q = σ_w² φ′(0)², exactly
        chi1 = chi_q = weight_var * act.slope0**2
    if chi1 is None:  # no fixed point, and χ depends on q (relu and linear's do not: they have one)
        return Theory(None, reason, None, None, None, None, None, None, None), networks
    phase = _phase(chi1, digits)
    c_star: Any = Fraction(1)
    chi_c: Any = chi1
    if phase == "chaotic" and q_star is not None:
        with precision(PAIR_DPS):
            runs: list[tuple[Any, Any]] = []
            for level in (PAIR_LEVEL, PAIR_LEVEL + 1):  # the finer grid starts from the coarser's c*
                model = Model(act, weight_var, bias_var, level, PAIR_DPS)
                start = runs[0][0] if runs else 0
                runs.append(correlation(model, _mp(q_star), _mp(chi1), PAIR_DIGITS, start))
        (c1, x1), (c2, x2) = runs
        if abs(_mp(c1) - _mp(c2)) > mpfr(10) ** -(PAIR_DIGITS + 1) or agreed_digits(x1, x2) < PAIR_DIGITS + 1:
            raise InputError("--weight-var: c* could not be certified here (the two-dimensional integral)")
        c_star, chi_c = (to_decimal(v, PAIR_DIGITS) for v in runs[1])
        if isinstance(c_star, Decimal):  # a correlation: its digits are absolute ones
            c_star = c_star.quantize(Decimal(10) ** -PAIR_DIGITS)
    elif phase == "critical":
        chi_c = Fraction(1)
    xi_q = _depth_scale(chi_q) if q_star is not None else None
    xi_c = _depth_scale(chi_c)
    return Theory(q_star, reason, chi1, c_star, chi_c, xi_q, xi_c, phase, chi_q), networks


def _phase(chi1: Any, digits: int) -> str:
    if isinstance(chi1, Fraction) or not isinstance(chi1, Decimal):
        return "critical" if chi1 == 1 else "ordered" if chi1 < 1 else "chaotic"
    if abs(chi1 - 1) < Decimal(10) ** -(digits - 1):
        return "critical"
    return "ordered" if chi1 < 1 else "chaotic"


def _depth_scale(chi: Any) -> Any:
    """ξ = -1/ln χ (None where χ >= 1: no exponential decay)."""
    if chi is None or chi >= 1 or chi <= 0:
        return None
    digits = 40 if isinstance(chi, Fraction) else max(len(chi.as_tuple().digits) - 2, 4)
    context = Context(prec=digits + 5)
    value = Decimal(chi.numerator) / chi.denominator if isinstance(chi, Fraction) else chi
    return Context(prec=digits).plus(context.divide(-1, context.ln(context.plus(value))))


def critical_line(act: Activation, bias_vars: Sequence[Fraction], digits: int) -> list[Any]:
    """σ_w² on the critical line at each σ_b², certified to ``digits``."""

    def compute(level: int, dps: int) -> list[Any]:
        return [critical_weight_var(act, b, level, dps) for b in bias_vars]

    return certified(compute, digits)


def sqrt_of(value: Any, digits: int) -> Any:
    """√value: exact when it is a rational square, else a Decimal to ``digits`` (40 for an
    exact value) significant digits, correctly rounded by Decimal's sqrt."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        n, d = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if n * n == value.numerator and d * d == value.denominator:
            return Fraction(n, d)
        context = Context(prec=50)
        return Context(prec=40).sqrt(context.divide(Decimal(value.numerator), Decimal(value.denominator)))
    return Context(prec=digits).sqrt(value)
