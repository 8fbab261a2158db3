"""Depth sweeps: every layer has the same local derivative D, so the plain gradient is
G*D^n and the residual one G*(1+D)^n; and the depths where a float would give up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from .numbers import InputError

FLOAT32_MIN_NORMAL = Fraction(1, 2**126)
FLOAT64_MIN_NORMAL = Fraction(1, 2**1022)
FLOAT32_MAX = Fraction(2**24 - 1, 2**24) * 2**128  # (2 - 2^-23) * 2^127
FLOAT64_MAX = Fraction(2**53 - 1, 2**53) * 2**1024  # (2 - 2^-52) * 2^1023
DEFAULT_VANISH = Fraction(1, 10**6)

MAX_ROWS = 5000
"""Most depths one sweep lists (each row is exact)."""
MAX_LISTED_DEPTH = 100_000
"""Deepest depth a row may ask for (its value has up to ~100,000 digits per digit of D)."""

_LN = Context(prec=80)


@dataclass(frozen=True)
class DepthRow:
    depth: int
    plain: Fraction
    residual: Fraction

    @property
    def ratio(self) -> Fraction | None:
        return None if self.plain == 0 else self.residual / self.plain


@dataclass(frozen=True)
class DepthResult:
    local: Fraction
    loss_gradient: Fraction | None
    vanish: Fraction
    rows: tuple[DepthRow, ...]
    plain_below_float32_at: int | None
    plain_below_float64_at: int | None
    residual_above_float32_at: int | None
    residual_above_float64_at: int | None
    plain_below_vanish_at: int | None


def first_depth_below(base: Fraction, scale: Fraction, threshold: Fraction) -> int | None:
    """The least n >= 1 with |scale * base^n| < threshold (None if never), for any n.

    Found from logarithms at 80 digits, then settled exactly: n*ln|base| < ln(threshold/|scale|)."""
    b, s = abs(base), abs(scale)
    if s == 0 or b == 0:
        return 1
    if s * b < threshold:
        return 1
    if b >= 1:
        return None
    # n > ln(threshold/s) / ln(b), both logs negative-or-any; b < 1 so ln b < 0.
    bound = _ln(threshold / s) / _ln(b)
    n = max(1, int(bound) - 2)
    while not _power_below(b, n, threshold / s):
        n += 1
    return n


def first_depth_above(base: Fraction, scale: Fraction, threshold: Fraction) -> int | None:
    """The least n >= 1 with |scale * base^n| > threshold (None if never)."""
    b, s = abs(base), abs(scale)
    if s == 0 or b == 0:
        return None
    if s * b > threshold:
        return 1
    if b <= 1:
        return None
    bound = _ln(threshold / s) / _ln(b)
    n = max(1, int(bound) - 2)
    while not _power_above(b, n, threshold / s):
        n += 1
    return n


def _ln(value: Fraction) -> Decimal:
    return _LN.divide(Decimal(value.numerator), Decimal(value.denominator)).ln(_LN)


def _power_below(b: Fraction, n: int, limit: Fraction) -> bool:
    """b^n < limit, exactly when the numbers are small enough, else by 80-digit logs (a tie
    b^n == limit is then decided by the exact test, since it needs b a rational power)."""
    if n * (b.numerator.bit_length() + b.denominator.bit_length()) < 2_000_000:
        return b**n < limit
    return _LN.multiply(Decimal(n), _ln(b)) < _ln(limit)


def _power_above(b: Fraction, n: int, limit: Fraction) -> bool:
    if n * (b.numerator.bit_length() + b.denominator.bit_length()) < 2_000_000:
        return b**n > limit
    return _LN.multiply(Decimal(n), _ln(b)) > _ln(limit)


def depth_sweep(
    local: Fraction,
    depths: Sequence[int] = tuple(range(1, 51)),
    loss_gradient: Fraction | None = None,
    vanish: Fraction = DEFAULT_VANISH,
) -> DepthResult:
    if len(depths) > MAX_ROWS:
        raise InputError(f"--max/--depths: {len(depths)} depths are more than the {MAX_ROWS} one sweep lists")
    if any(not 1 <= n <= MAX_LISTED_DEPTH for n in depths):
        raise InputError(f"--max/--depths: depths must lie between 1 and {MAX_LISTED_DEPTH}")
    if vanish <= 0:
        raise InputError(f"--vanish: {vanish} is not accepted; expected a threshold > 0")
    g = Fraction(1) if loss_gradient is None else loss_gradient
    rows = []
    plain, residual, at = g, g, 0
    for n in sorted(set(depths)):
        # Step from the previous depth rather than powering from scratch.
        plain *= local ** (n - at)
        residual *= (1 + local) ** (n - at)
        at = n
        rows.append(DepthRow(n, plain, residual))
    order = {n: i for i, n in enumerate(depths)}
    rows.sort(key=lambda row: order[row.depth])
    return DepthResult(
        local,
        loss_gradient,
        vanish,
        tuple(rows),
        first_depth_below(local, g, FLOAT32_MIN_NORMAL),
        first_depth_below(local, g, FLOAT64_MIN_NORMAL),
        first_depth_above(1 + local, g, FLOAT32_MAX),
        first_depth_above(1 + local, g, FLOAT64_MAX),
        first_depth_below(local, g, vanish),
    )
