"""The critical line: the σ_w² at which χ₁ = 1, for each σ_b²."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import gmpy2
from gmpy2 import mpfr

from ..errors import InputError, arg
from .activations import WORK, Activation, _mp, working_precision
from .certify import GUARD, certain, computed, error_bound
from .enclosure import confirm
from .quadrature import Closed, Expectations, Unsettled, _level, expectations, fresh_budget


def critical_weight_var(act: Activation, bias_var: Fraction, e: Expectations | Closed | None, dps: int) -> Any:
    """The σ_w² with χ₁ = 1 at this σ_b²: where q = σ_w² E[φ²] + σ_b² and σ_w² E[φ′²] = 1
    together, so q solves E[φ²]/E[φ′²] + σ_b² = q and σ_w² = 1/E[φ′²] there. relu: 2 and
    linear: 1 at any σ_b² (χ₁ does not depend on q); with φ(0) = 0 at σ_b² = 0, q* = 0 and
    σ_w² = 1/φ′(0)² (π/4 for erf). For a small σ_b² and φ(0) = 0, q* is small too and the two
    sides of the equation agree to about q*³: the search goes down decade by decade with the
    working precision raised to resolve them (σ_b² = 1e-300: q* about 1e-100, 230 digits)."""
    if act.name == "relu":
        return Fraction(2)
    if act.name == "linear":
        return Fraction(1)
    if bias_var == 0 and act.zero:
        if act.slope0:
            return 1 / act.slope0**2
        slope = act.df(mpfr(0))
        if not slope:
            raise InputError(f"{arg('critical', True)}: φ′(0) = 0 for {act.name}: no σ_w² makes χ₁ = 1 at σ_b² = 0")
        return 1 / (slope * slope)
    assert e is not None
    b = _mp(bias_var)

    def gap(q: Any, at: Expectations | Closed) -> Any:
        e2, d2, _ = at.at(q)
        return e2 / d2 + b - q

    low, high = None, None
    previous = mpfr(10) ** -3
    before = gap(previous, e)
    for k in range(-2, 13):
        q = mpfr(10) ** k
        now = gap(q, e)
        if (before > 0) != (now > 0):
            low, high = previous, q
            break
        previous, before = q, now
    if low is None and act.zero and before < 0:
        return _small_critical(act, b, dps, gap)
    if low is None:
        raise InputError(
            f"{arg('critical', True)}: no σ_w² makes χ₁ = 1 for {act.name} at σ_b² = {float(b):.6g} "
            "(E[φ²]/E[φ′²] + σ_b² = q has no root for 0.001 <= q <= 1e12)"
        )
    return _bracketed(e, low, high, gap, dps)


MAX_CRITICAL_DPS = 2000
"""The most working digits the search for a small σ_b²'s q* raises to (σ_b² down to about 1e-2500)."""


def _small_critical(act: Activation, b: Any, dps: int, gap: Callable[[Any, Any], Any]) -> Any:
    """The critical σ_w² where q* is below 1e-3 (a small σ_b², φ(0) = 0): the gap is negative
    at q = 1e-3 and tends to σ_b² > 0 as q -> 0, where E[φ²]/E[φ′²] - q falls like -c q^m. That
    power, read off at 1e-3 and 1e-5, says in which decade the root lies; the decade is then
    checked (gap > 0 at its lower end, < 0 at its upper), each gap at 2|k| + 10 more digits than
    kept (the two sides agree to about q^m there). Where q* < 10^-(dps + 5), σ_w² = 1/E[φ′²]
    changes by less than the working precision across the decade, so its upper end gives it;
    else the root is found inside it."""

    def settled(digits: int, run: Callable[[Expectations | Closed], Any]) -> Any:
        if digits > MAX_CRITICAL_DPS:
            raise InputError(
                f"{arg('critical', True)}: at σ_b² = {gmpy2.mpfr(b):.3g}, q* is so small that it would need more than "
                f"{MAX_CRITICAL_DPS:,} working digits; give a larger {arg('bias_var')}"
            )
        for level in range(_level(digits), _level(digits) + 4):
            try:
                with working_precision(digits):
                    return run(expectations(act, level, digits))
            except Unsettled:
                continue
        raise InputError(
            f"{arg('critical', True)}: the quadrature at σ_b² = {gmpy2.mpfr(b):.3g} could not be certified here"
        )

    def digits_at(k: int) -> int:
        return dps + 2 * abs(k) + 10

    def sign_at(k: int) -> bool:
        return bool(settled(digits_at(k), lambda e: gap(mpfr(10) ** k, e) > 0))

    def fall(k: int) -> Any:  # E[φ²]/E[φ′²] - q at 10^k (negative)
        return settled(digits_at(k), lambda e: +(gap(mpfr(10) ** k, e) - b))

    with working_precision(dps + 30):
        h3, h5 = fall(-3), fall(-5)
        if h3 >= 0 or h5 >= 0:
            raise InputError(
                f"{arg('critical', True)}: no σ_w² makes χ₁ = 1 for {act.name} at σ_b² = {gmpy2.mpfr(b):.6g}"
            )
        power = gmpy2.log(h3 / h5) / gmpy2.log(mpfr(100))
        estimate = gmpy2.log10(b / -h3) / power - 3 if power > 0 else mpfr(-4)
    low_k = min(int(gmpy2.floor(estimate)), -4)
    while not sign_at(low_k):
        low_k -= max(1, abs(low_k) // 8)
    high_k = low_k + 1
    while high_k < -3 and sign_at(high_k):
        low_k, high_k = high_k, high_k + 1
    if high_k < -(dps + 5):
        return settled(dps, lambda e: +(1 / e.at(mpfr(10) ** high_k)[1]))
    digits = digits_at(low_k)
    return settled(digits, lambda e: +_bracketed(e, mpfr(10) ** low_k, mpfr(10) ** high_k, gap, dps))


def _bracketed(e: Any, low: Any, high: Any, gap: Callable[[Any, Any], Any], dps: int) -> Any:
    """σ_w² = 1/E[φ′²] at the root of ``gap`` between low and high (where it changes sign)."""
    tol = mpfr(10) ** (-dps + 4)
    g_low, g_high = gap(low, e), gap(high, e)
    for step in range(1000):  # the secant's point inside the bracket, every other step its middle
        mid = (low + high) / 2 if step % 2 else high - g_high * (high - low) / (g_high - g_low)
        if not low < mid < high:
            mid = (low + high) / 2
        g_mid = gap(mid, e)
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


def critical_line(act: Activation, bias_vars: Sequence[Fraction], digits: int) -> list[Any]:
    """σ_w² on the critical line at each σ_b², certified to ``digits`` (one set of quadrature
    caches for them all)."""
    if not act.closed and len(bias_vars) * CRITICAL_COST * (digits + GUARD) > WORK:
        raise InputError(
            f"{arg('bias_var')}: {len(bias_vars):,} values at {digits} digits need about "
            f"{len(bias_vars) * CRITICAL_COST * (digits + GUARD):,} quadrature terms, more than the {WORK:,} one call "
            f"makes (about ten seconds); give fewer values or {arg('digits')}"
        )
    dps = digits + GUARD
    fresh_budget()
    confirm(act, [1])  # the activation's features at unit scale, by interval arithmetic

    def compute(level: int, dps: int) -> list[Any]:
        e = expectations(act, level, dps) if not act.closed else None
        return [critical_weight_var(act, b, e, dps) for b in bias_vars]

    values = computed(compute, dps)
    return [certain(v, error_bound(dps), digits) for v in values]


CRITICAL_COST = 1000
"""About the quadrature terms, per working digit, one critical σ_w² costs once the scales' nodes
are made (measured: 0.02 s at 16 digits)."""
