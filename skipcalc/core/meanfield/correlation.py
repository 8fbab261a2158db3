"""The correlation map of two inputs: its fixed point c* and slope χ_c, by a two-dimensional
trapezoid grid at two steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import gmpy2
from gmpy2 import mpfr

from ..errors import InputError, arg
from .activations import WORK, _mp

PAIR_LEVEL, PAIR_DPS, PAIR_DIGITS = 2, 20, 10  # the two-dimensional integrals of c* and χ_c

if TYPE_CHECKING:
    from .model import Model


def correlation(
    model: Model, q: Any, chi1: Any, digits: int, start: Any = 0, budget: list[int] | None = None
) -> tuple[Any, Any]:
    """(c*, χ_c): in the ordered and critical phases c* = 1 and χ_c = χ₁; in the chaotic
    phase the stable fixed point below 1 of c -> (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q*, and the
    slope σ_w² E[φ′(u₁)φ′(u₂)] there (u₁, u₂ of variance q*, correlation c)."""
    if chi1 <= 1:
        return Fraction(1) if model.exact else mpfr(1), chi1
    if model.act.closed:  # relu and linear are chaotic only where q has no fixed point
        return Fraction(1), chi1
    pair = _pair_expectation(model, q, budget)
    if pair is None:
        raise InputError(f"{arg('act')}: c* needs a two-dimensional integral this activation makes too costly here")
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
    raise InputError(f"{arg('weight_var')}: the correlation map did not settle in 200 steps")


class TooCostly(Exception):
    """The two-dimensional integral of c* passed its budget of evaluations."""


def _pair_expectation(model: Model, q: Any, budget: list[int] | None = None) -> Callable[[Any], tuple[Any, Any]] | None:
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
        if budget is not None:  # a formula's closures cost about three times a named function's
            budget[0] -= len(zs) ** 2 * (3 if act.text else 1)
            if budget[0] < 0:
                raise TooCostly
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
