"""Certified values: a computation at a working precision, each value then held with a bound on
its relative error and rounded once, when shown (an Approx)."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

import gmpy2
from gmpy2 import mpfr

from ..errors import InputError, arg
from ..kernels import approx
from .activations import _mp, big, working_precision
from .quadrature import Unsettled, _level

GUARD = 10
"""Guard digits beyond those certified; more for deep networks (errors add up layer by layer)."""


def computed(compute: Callable[[int, int], list[Any]], dps: int) -> list[Any]:
    """``compute(level, dps)`` at ``dps`` working digits, at a finer step each time one of its
    quadratures is Unsettled (its steps h and 2h disagree); the raw values (mpfr, or exact
    Fractions from the closed forms)."""
    level = _level(dps)
    for _ in range(4):
        try:
            with working_precision(dps):
                return compute(level, dps)
        except Unsettled:
            level += 1
    raise InputError(f"{arg('digits')}: the mean-field quantities could not be certified to {dps - GUARD} digits here")


def error_bound(dps: int, layers: int = 0) -> Decimal:
    """A bound on the relative error of a value computed at ``dps`` working digits: each
    quadrature's (its steps h and 2h agree to over half the digits, so its error, about the
    square of their difference, is below 10^-(dps - 3)), times the 4L + 8 of them a value
    through L layers can gather."""
    return Decimal(4 * layers + 8) * Decimal(10) ** -(dps - 3)


def certain(value: Any, error: Decimal, digits: int) -> Any:
    """A raw value as the result holds it: exact as it is (a Fraction, or None); an mpfr as an
    Approx, its error bound with it, shown to at most ``digits`` digits."""
    if value is None or isinstance(value, (Fraction, str)):
        return value
    if not value:
        return Fraction(0)  # every term was 0: exactly 0 (a constant activation's slope)
    return approx(format(value, f".{max(int(value.precision * 0.30103) + 2, digits + 5)}e"), error, digits)


def agreed_digits(a: Any, b: Any) -> float:
    """The significant digits two evaluations share (inf when equal)."""
    if a == b:
        return math.inf
    if a is None or b is None:
        return -math.inf
    a, b = _mp(a), _mp(b)
    scale = max(abs(a), abs(b))
    return float(-gmpy2.log10(abs(a - b) / scale)) if scale else math.inf


def _closeness(chi: Any) -> Any:
    """|ln χ| (for a depth scale -1/ln χ, and the phase, near χ = 1), at working precision."""
    return abs(gmpy2.log1p(big(chi - 1) if isinstance(chi, Fraction) else _mp(chi) - 1))


def _more_digits(chi1: Any, chi_q: Any, error: Decimal, digits: int) -> int:
    """The working digits to add so that the phase (the sign of χ₁ - 1) is decided and the depth
    scales ξ = -1/ln χ keep ``digits`` digits: ln χ loses as many as χ is close to 1."""
    more = 0
    for chi in (chi1, chi_q):
        if chi is None or isinstance(chi, Fraction) or chi <= 0:
            continue  # exact, or a χ_q at or below 0 (φφ″ can outweigh φ′²): no depth scale to earn
        if not gmpy2.is_finite(_mp(chi)):
            raise InputError(
                f"{arg('act')}: its mean squared derivative overflows (is infinite) at this fixed point; "
                "no finite answer can be certified"
            )
        near = _closeness(chi)
        if not near:
            return 60
        if gmpy2.is_infinite(near):  # χ = 0: ξ = -1/ln 0 = 0 exactly, no digits at stake
            continue
        lost = float(gmpy2.log10(mpfr(str(error)) / near)) + digits + 3  # ξ's relative error, in digits
        more = max(more, math.ceil(lost))
    return more


def _phase(chi1: Any, error: Decimal) -> str:
    """ordered (χ₁ < 1), critical (= 1) or chaotic (> 1), from the sign of χ₁ - 1 where it is
    certain; a χ₁ within its error bound of 1 even at the most working digits is critical."""
    if isinstance(chi1, Fraction):
        return "critical" if chi1 == 1 else "ordered" if chi1 < 1 else "chaotic"
    if _closeness(chi1) <= 2 * mpfr(str(error)):
        return "critical"
    return "ordered" if chi1 < 1 else "chaotic"


def _depth_scale(chi: Any, error: Decimal, digits: int) -> Any:
    """ξ = -1/ln χ (None where χ >= 1: no exponential decay), with the error ln χ carries:
    relative error / |ln χ| (ξ near χ = 1 keeps only the digits it earns)."""
    if chi is None or chi >= 1 or chi <= 0:
        return None
    with working_precision(max(digits + 20, int(_mp(chi).precision * 0.30103) if not isinstance(chi, Fraction) else 0)):
        near = _closeness(chi)
        xi = 1 / near
        own = error if not isinstance(chi, Fraction) else Decimal(10) ** -(digits + 15)
        bound = Decimal(str(mpfr(str(own)) / near)) * 2 + own
        return certain(xi, bound, digits)


def _root(value: Any, error: Decimal, digits: int) -> Any:
    """√value from the raw value (never from a rounded one): exact when it is a rational
    square, else with half the value's relative error."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return sqrt_of(value, digits)
    return certain(gmpy2.sqrt(value), error / 2 + Decimal(10) ** -(digits + 15), digits)


def sqrt_of(value: Fraction, digits: int) -> Any:
    """√value of an exact value: exact when it is a rational square, else to ``digits``
    significant digits (from 60, rounded once when shown)."""
    n, d = math.isqrt(value.numerator), math.isqrt(value.denominator)
    if n * n == value.numerator and d * d == value.denominator:
        return Fraction(n, d)
    context = Context(prec=70)
    root = Context(prec=60).sqrt(context.divide(Decimal(value.numerator), Decimal(value.denominator)))
    return approx(root, Decimal(10) ** -58, digits)
