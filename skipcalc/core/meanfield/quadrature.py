"""Gaussian expectations E[g(√q z)] of φ², φ′² and φφ″: a double-exponential (exp-sinh)
quadrature in MPFR, checked against the same sum at twice the step; closed forms for relu,
linear and erf."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from itertools import compress, repeat
from operator import add, mul
from typing import Any

import gmpy2
from gmpy2 import mpfr

from ..errors import InputError, arg
from .activations import Activation, big, working_precision


@lru_cache(maxsize=8)
def _nodes(level: int, dps: int) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, ...]]:
    """exp-sinh nodes x > 0 and weights for a half line (step 2^-level), at ``dps`` digits:
    they crowd towards 0 as finely as towards infinity, so a feature of φ at any scale below
    the Gaussian's width is resolved. From x = 10^-(dps+10) (the part below is smaller than
    that) to x = e^16 (the Gaussian of width 1 to 2 is long gone). The nodes of even index are
    the next coarser level's (``even``), whose weights are twice these."""
    with working_precision(dps):
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


NODE_WORK = 6_000_000
"""Microseconds of activation evaluations one call may spend at the quadrature's nodes (about six
seconds, the rest of the call beside them): a formula of hundreds of operations reaches it long
before its node count would."""

_spent = [0.0]


def fresh_budget() -> None:
    """A new call's budget of NODE_WORK (the theory and the critical line start one)."""
    _spent[0] = 0.0


def _spend(act: Activation, nodes: int) -> None:
    _spent[0] += nodes * act.cost
    if _spent[0] > NODE_WORK:
        raise InputError(
            f"{arg('act')}: {act.name[:40]!r} costs about {act.cost:,.0f} microseconds at each quadrature "
            f"node; certifying "
            f"its expectations here needs more than the {NODE_WORK / 1e6:.0f} seconds of them one call spends; give "
            f"a shorter formula, fewer {arg('layers')} or fewer {arg('digits')}"
        )


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
        self.finer: Expectations | None = None
        self.used: dict[int, Expectations] = {}
        with working_precision(dps):
            xs, ws, even = _nodes(level, dps + 10)
            limit = (dps + 12) * 2.303 * 8 + 100  # x² beyond this: the Gaussian is below 10^-(dps+12)
            kept = [(x, w, e) for x, w, e in zip(xs, ws, even, strict=True) if x * x <= limit]
            self.xs = [x for x, _, _ in kept]
            self.x2 = [x * x for x, _, _ in kept]
            self.ws = [w for _, w, _ in kept]
            self.even = [e for _, _, e in kept]
            self.root_2pi = gmpy2.sqrt(2 * gmpy2.const_pi())
            self.one = mpfr(1)
            # |y| = |h| x² <= x²/2 <= 10^-(dps/2 + 6): exp(y) - (1 + y) < y² < 10^-(dps + 12)
            small = 2 * mpfr(10) ** -(dps // 2 + 6)
            self.near = sum(1 for x2 in self.x2 if x2 <= small)
            assert all(x2 <= small for x2 in self.x2[: self.near])  # the nodes rise from 0
            self.tolerance = mpfr(10) ** -need if need else None
        self.cache: dict[int, tuple[list[Any], list[Any], list[Any]]] = {}
        self.first_cache: dict[int, list[Any]] = {}
        self._last: tuple[Any, int, list[Any]] | None = None

    def scale(self, j: int) -> tuple[list[Any], list[Any], list[Any]]:
        """w·(φ², φ′², φφ″) summed over ±u at every node, u = 2^j x: three lists."""
        found = self.cache.get(j)
        if found is None:
            act = self.act
            _spend(act, 2 * len(self.xs))
            columns: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
            for x, w in zip(self.xs, self.ws, strict=True):
                total = [mpfr(0)] * 3
                for u in (gmpy2.mul_2exp(x, j), -gmpy2.mul_2exp(x, j)):
                    f, d, d2 = act.f(u), act.df(u), act.d2f(u)
                    total[0] += f * f
                    total[1] += d * d
                    total[2] += f * d2
                for column, value in zip(columns, total, strict=True):
                    column.append(w * value)
            found = self.cache[j] = columns
        return found

    def mean(self, q: Any) -> Any:
        """E[φ(√q z)] (the post-activation branch's mean), checked at steps h and 2h as the
        others are, from a finer level where they disagree."""
        j = int(gmpy2.floor(gmpy2.log2(q) / 2))
        level: Expectations = self
        while True:
            found = level._first(q, j)
            if found is not None:
                return found
            if level.level >= self.level + 3:
                raise Unsettled
            if level.finer is None:
                level.finer = Expectations(self.act, level.level + 1, self.dps, self.need)
            level = level.finer

    def _weights(self, q: Any, j: int) -> list[Any]:
        """The Gaussian's weight exp(h x²) at every node, for variance q at scale 2^j (the last
        one kept: E[φ] and E[φ²] at one q share it)."""
        if self._last is not None and self._last[0] == q and self._last[1] == j:
            return self._last[2]
        s2 = gmpy2.mul_2exp(mpfr(1), 2 * j)
        h = -s2 / (2 * q)  # the Gaussian in x: exp(h x²), h in (-1/2, -1/8]
        exponents = list(map(mul, self.x2, repeat(h)))
        near = self.near  # nodes so close to 0 that exp(y) = 1 + y to the working precision
        weights = [*map(add, repeat(self.one, near), exponents[:near]), *map(gmpy2.exp, exponents[near:])]
        self._last = (q, j, weights)
        return weights

    def _first(self, q: Any, j: int) -> Any:
        column = self.first_cache.get(j)
        if column is None:
            _spend(self.act, len(self.xs))
            column = []
            for x, w in zip(self.xs, self.ws, strict=True):
                u = gmpy2.mul_2exp(x, j)
                column.append(w * (self.act.f(u) + self.act.f(-u)))
            self.first_cache[j] = column
        terms = list(map(mul, self._weights(q, j), column))
        a = sum(terms, mpfr(0))
        if self.tolerance is not None:
            a2 = sum(compress(terms, self.even), mpfr(0))
            if abs(2 * a2 - a) > self.tolerance * sum(map(abs, terms), mpfr(0)):  # E[φ] may be near 0
                return None
        return a * gmpy2.mul_2exp(mpfr(1), j) / (self.root_2pi * gmpy2.sqrt(q))

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        """(E[φ²], E[φ′²], E[φφ″]) at variance q (an mpfr > 0); where the steps h and 2h
        disagree, from the next finer level (its nodes are these and those between), up to
        three levels finer, else Unsettled."""
        j = int(gmpy2.floor(gmpy2.log2(q) / 2))
        level = self.used.get(j, self)  # the level this scale last needed: a neighbouring q needs the same
        found = level._sums(q, j)
        while found is None:
            if level.level >= self.level + 3:
                raise Unsettled
            if level.finer is None:
                level.finer = Expectations(self.act, level.level + 1, self.dps, self.need)
            level = self.used[j] = level.finer
            found = level._sums(q, j)
        return found

    def _sums(self, q: Any, j: int) -> tuple[Any, Any, Any] | None:
        """The three sums at this level, at scale 2^j <= √q (None when steps h and 2h disagree)."""
        g0, g1, g2 = self.scale(j)
        weights = self._weights(q, j)
        terms = [list(map(mul, weights, g)) for g in (g0, g1, g2)]
        a, b, c = (sum(t, mpfr(0)) for t in terms)
        if self.tolerance is not None:
            a2, b2, c2 = (sum(compress(t, self.even), mpfr(0)) for t in terms)
            tol = self.tolerance
            if abs(2 * a2 - a) > tol * abs(a) or abs(2 * b2 - b) > tol * abs(b) or abs(2 * c2 - c) > tol * abs(b):
                return None
        norm = gmpy2.mul_2exp(mpfr(1), j) / (self.root_2pi * gmpy2.sqrt(q))
        return a * norm, b * norm, c * norm


class Closed:
    """The same expectations in closed form: relu (q/2, 1/2, 0) and linear (q, 1, 0) exactly;
    erf with arcsin and a square root."""

    def __init__(self, act: Activation) -> None:
        self.act = act

    def mean(self, q: Any) -> Any:
        """E[φ(√q z)]: relu √(q/(2π)); linear and erf, odd, 0."""
        if self.act.name == "relu":
            return gmpy2.sqrt(big(q) / (2 * gmpy2.const_pi()))
        return mpfr(0)

    def at(self, q: Any) -> tuple[Any, Any, Any]:
        name = self.act.name
        if name == "relu":
            return q / 2, Fraction(1, 2), Fraction(0)
        if name == "linear":
            return q, Fraction(1), Fraction(0)
        # erf: E[erf²] = (2/π) asin(2q/(1+2q)); E[erf′²] = (4/π)/√(1+4q); and
        # E[φ′² + φφ″] = d/dq E[φ²] = (2/π) · 2/((1+2q) √(1+4q)) (the arcsine's derivative
        # 1/√(1 - u²) at u = 2q/(1+2q) is (1+2q)/√(1+4q), times du/dq = 2/(1+2q)²)
        q = big(q)
        pi = gmpy2.const_pi()
        root = gmpy2.sqrt(1 + 4 * q)
        e2 = 2 / pi * gmpy2.asin(2 * q / (1 + 2 * q))
        d2 = 4 / pi / root
        slope = 4 / pi / ((1 + 2 * q) * root)
        return e2, d2, slope - d2


def expectations(act: Activation, level: int, dps: int) -> Expectations | Closed:
    """Closed forms where they exist, else the quadrature, checked to a little over half the
    digits kept (dps is the digits kept + 10)."""
    if act.name in ("relu", "linear", "erf"):
        return Closed(act)
    return Expectations(act, level, dps, (dps - 10) / 2 + 4)


def _level(dps: int) -> int:
    """The quadrature's first step, 2^-level: finer for more digits."""
    return 4 if dps <= 22 else 5 if dps <= 46 else 6 if dps <= 75 else 7 if dps <= 110 else 8
