"""Depth sweeps: every layer has the same local derivative D, so the plain gradient is
G*D^n and the residual one G*(1+D)^n; and the depths where a float would give up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from .numbers import InputError, check_exact_size, to_decimal

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
    """The least n >= 1 with |scale * base^n| < threshold (None if never), for any n."""
    return _first_depth(base, scale, threshold, below=True)


def first_depth_above(base: Fraction, scale: Fraction, threshold: Fraction) -> int | None:
    """The least n >= 1 with |scale * base^n| > threshold (None if never), for any n."""
    return _first_depth(base, scale, threshold, below=False)


def _first_depth(base: Fraction, scale: Fraction, threshold: Fraction, below: bool) -> int | None:
    """Found from logarithms at 80 digits (n crosses ln(threshold/|scale|) / ln|base|), then
    settled by testing the crossing itself, exactly where the powers are small enough."""
    b, limit = abs(base), threshold / abs(scale) if scale else None
    if limit is None or b == 0:
        return 1 if below else None  # the gradient is 0 from depth 1 on
    if _crosses(b, 1, limit, below):
        return 1
    if (b >= 1) if below else (b <= 1):
        return None  # |base^n| never moves towards the threshold
    n = max(1, int(_ln(limit) / _ln(b)) - 2)
    while not _crosses(b, n, limit, below):
        n += 1
    return n


def _ln(value: Fraction) -> Decimal:
    return to_decimal(value, _LN).ln(_LN)


def _crosses(b: Fraction, n: int, limit: Fraction, below: bool) -> bool:
    """b^n < limit (below) or b^n > limit: exactly when b^n is small enough to build, else
    by 80-digit logs. A tie b^n == limit needs b a rational root of limit, and those are
    small powers, so the exact branch decides every tie."""
    if n * (b.numerator.bit_length() + b.denominator.bit_length()) < 2_000_000:
        power = b**n
        return power < limit if below else power > limit
    log_power, log_limit = _LN.multiply(Decimal(n), _ln(b)), _ln(limit)
    return log_power < log_limit if below else log_power > log_limit


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
    bits = sum(v.numerator.bit_length() + v.denominator.bit_length() for v in (local, 1 + local))
    check_exact_size(max(depths, default=1) * bits, "--local", f"D^n and (1+D)^n at depth {max(depths, default=1):,}")
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
