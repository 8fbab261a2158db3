"""Depth sweeps: every layer has the same local derivative D, so a block stack of depth n has
gradient G * f^n with f = a + b*D (plain D^n, residual (1 + D)^n); and the depths where a
float format loses it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import kernels
from .blocks import CLASSIC, PLAIN, RESIDUAL, Block
from .chains import backward_at
from .errors import InputError, arg
from .exact import Number
from .float_formats import FORMATS
from .limits import MAX_ROWS
from .results import Depth, DepthMapResult, DepthResult, DepthRow, FormatLimits

DEFAULT_VANISH = Fraction(1, 10**6)

ROW_DIGITS = 20_000_000
"""Budget for the exact values of all rows together (digits, about 2 s of work); beyond,
rows are carried with 60 digits and printed correctly rounded."""
LINEAR_LAYERS = 2_000_000
"""stochastic:linear has a different p_l at every depth: the listed depths may add up to this."""


def depth_sweep(
    local: Fraction,
    depths: Sequence[int],
    loss_gradient: Fraction | None = None,
    vanish: Fraction = DEFAULT_VANISH,
    blocks: Sequence[Block] = CLASSIC,
    blocks_given: bool = False,
) -> DepthResult:
    if len(depths) > MAX_ROWS:
        raise InputError(
            f"{arg('max')}/{arg('depths')}: {len(depths):,} depths are more than the {MAX_ROWS:,} one sweep lists"
        )
    g = Fraction(1) if loss_gradient is None else loss_gradient
    columns = [_column(block, local, g, depths) for block in blocks]
    plain_at = {block.spec: i for i, block in enumerate(blocks)}
    rows = []
    for i, n in enumerate(depths):
        values = tuple(column[i] for column in columns)
        ratio = None
        if PLAIN.spec in plain_at and RESIDUAL.spec in plain_at:
            p, r = values[plain_at[PLAIN.spec]], values[plain_at[RESIDUAL.spec]]
            ratio = kernels.quotient(r, p) if p else None
        rows.append(DepthRow(n, values, ratio))
    return DepthResult(
        local,
        loss_gradient,
        vanish,
        tuple(blocks),
        tuple(rows),
        tuple(FormatLimits(f.name, *_plain_limits(local, g, f.min_normal, f.min_subnormal), None) for f in FORMATS),
        tuple(
            FormatLimits(f.name, None, None, first_depth(RESIDUAL.factor(local), g, f.max_finite, ">")) for f in FORMATS
        ),
        tuple(block_limits(block, local, g) for block in blocks),
        first_depth(local, g, vanish, "<"),
        blocks_given,
    )


def _plain_limits(d: Fraction, g: Fraction, normal: Fraction, subnormal: Fraction) -> tuple[Depth, Depth]:
    # Below the smallest normal, a value is stored as a subnormal (fewer bits; flush-to-zero
    # hardware gives 0). At half the smallest subnormal or below, it rounds to zero (a tie
    # goes to the even neighbour, 0).
    return first_depth(d, g, normal, "<"), first_depth(d, g, subnormal / 2, "<=")


def block_limits(block: Block, d: Fraction, g: Fraction) -> tuple[FormatLimits, ...]:
    """For each format: where G * (a + b*D)^n turns subnormal, rounds to zero, overflows (a
    stochastic:linear stack changes with depth, so it has none)."""
    if not block.uniform:
        return tuple(FormatLimits(f.name, None, None, None) for f in FORMATS)
    f = block.factor(d)
    return tuple(
        FormatLimits(
            fmt.name, *_plain_limits(f, g, fmt.min_normal, fmt.min_subnormal), first_depth(f, g, fmt.max_finite, ">")
        )
        for fmt in FORMATS
    )


def _column(block: Block, d: Fraction, g: Fraction, depths: Sequence[int]) -> list[Number]:
    """G times the product of the first n factors of this block, for each listed n."""
    deepest = max(depths)
    if block.uniform:
        f = block.factor(d)
        bits = f.numerator.bit_length() + f.denominator.bit_length()
        if sum(depths) * bits * 0.30103 <= ROW_DIGITS or f in (0, 1, -1):
            at = backward_at([f] * deepest, g, [deepest - n for n in depths])
            return [at[deepest - n] for n in depths]
        carried = kernels.to_carried(f)
        return [kernels.CARRIED.multiply(kernels.to_carried(g), kernels.CARRIED.power(carried, n)) for n in depths]
    if sum(depths) > LINEAR_LAYERS:
        raise InputError(
            f"{arg('depths')}: {block.spec} has a different survival probability at every depth; the depths listed add "
            f"up to {sum(depths):,} layers, more than the {LINEAR_LAYERS:,} computed; list fewer or shallower depths"
        )
    out: list[Number] = []
    for n in depths:
        fs = block.factors([d] * n)
        out.append(g * kernels.product(fs) if n <= 5000 else kernels.carried_product(fs, g))
    return out


# ---------------------------------------------------------------------------
# Threshold depths, exactly, for any depth


EXACT_DEPTH_DIGITS = 10_000
"""A threshold depth is an exact integer up to this many digits (deciding it takes logarithms
to as many digits, about 0.1 s); a deeper one (D within 1e-10000 of 0 or -1) is given
correctly rounded to 40 significant digits."""


def first_depth(base: Fraction, scale: Fraction, threshold: Fraction, relation: str) -> Depth:
    """The least n >= 1 with |scale * base^n| < threshold ("<"), <= threshold ("<=") or
    > threshold (">"); None if there is none.

    |base|^n crosses r = threshold/|scale| where n = q = ln(r) / ln|base|. q is enclosed in an
    interval (mpmath.iv, outward rounding) at rising precision until the integer the relation
    asks for (floor(q) + 1, or ceil(q) for "<=") is the same at both ends; an exact crossing
    (|base|^k == r, possible only for k up to r's size in bits) is settled by exact powers."""
    b, s = abs(base), abs(scale)

    def holds(v: Fraction) -> bool:
        return v < threshold if relation == "<" else v <= threshold if relation == "<=" else v > threshold

    if s == 0 or b == 0:
        return 1 if holds(Fraction(0)) else None
    if holds(s * b):
        return 1
    if (relation == ">" and b <= 1) or (relation != ">" and b >= 1):
        return None  # |base|^n never moves towards the threshold
    r = threshold / s
    ties = max(r.numerator.bit_length(), r.denominator.bit_length())
    import mpmath
    from mpmath import iv

    def pick(x: Any) -> Any:  # the integer the relation asks for
        return mpmath.ceil(x) if relation == "<=" else mpmath.floor(x) + 1

    digits, saved = 30, iv.prec
    try:
        while True:
            iv.dps = digits
            q = _ln(iv, r) / _ln(iv, b)
            with mpmath.mp.workprec(iv.prec + 10):  # the ends, as they are
                low, high = mpmath.mpf(q.a), mpmath.mpf(q.b)
                exact_size = high < mpmath.mpf(10) ** EXACT_DEPTH_DIGITS
                n_low, n_high = (int(pick(low)), int(pick(high))) if exact_size else (0, 1)
            if exact_size:
                if n_low == n_high:
                    return max(n_low, 1)
                candidate = int(mpmath.floor(high))
                if 1 <= candidate <= ties and _power_is(b, candidate, r):  # an exact crossing at k = candidate
                    return candidate + 1 if relation != "<=" else candidate
            else:  # rounded to 40 digits: +1 and ceil cannot move a value this large at its 40th digit
                with mpmath.mp.workprec(iv.prec + 10):
                    ends = [kernels.rounding_context(40).plus(Decimal(mpmath.nstr(x, 60))) for x in (low, high)]
                if ends[0] == ends[1]:
                    return ends[0]
            digits *= 2
    finally:
        iv.prec = saved


def _power_is(b: Fraction, k: int, r: Fraction) -> bool:
    """b^k == r, compared by size before any power is built: lowest terms stay lowest under
    powers, so the parts of b^k have about k times b's bits (0.5 + 1e-99999 to the 14th would
    be 4.6 million bits, to compare with a 15-bit r)."""
    for part, target in ((b.numerator, r.numerator), (b.denominator, r.denominator)):
        if abs(k * part.bit_length() - target.bit_length()) > k:
            return False
    return b**k == r


def _ln(iv: Any, x: Fraction) -> Any:
    """ln(x) as an interval at iv's precision, kept for the next threshold of the same base (a
    depth sweep asks 18 thresholds of one base, each at up to 100,000 digits for 1e-99999)."""
    key = (x, iv.prec)
    if key not in _LOGS:
        if len(_LOGS) > 64:
            _LOGS.clear()
        _LOGS[key] = _ln_interval(iv, x)
    return _LOGS[key]


_LOGS: dict[tuple[Fraction, int], Any] = {}


def _ln_interval(iv: Any, x: Fraction) -> Any:
    """ln(x) as an interval, with every digit it keeps: near 1 from its series, since forming
    1 + y would lose y."""
    y = x - 1
    if y and abs(y) < Fraction(1, 10**15):
        # ln(1 + y) = y - y^2/2 + y^3/3 - R, |R| <= |y|^4 for |y| < 1/2
        t = iv.mpf(y.numerator) / iv.mpf(y.denominator)
        bound = (abs(t) ** 4).b
        return t - t * t / 2 + t * t * t / 3 + iv.mpf([-bound, bound])
    if Fraction(1, 2) < x < 2:
        return iv.log1p(iv.mpf(y.numerator) / iv.mpf(y.denominator))
    return iv.log(iv.mpf(x.numerator)) - iv.log(iv.mpf(x.denominator))


MAP_CELLS = 200_000
"""Cells (derivatives x depths x blocks) one depth map computes."""


def depth_map(
    locals_: Sequence[Fraction],
    depths: Sequence[int],
    loss_gradient: Fraction | None,
    blocks: Sequence[Block],
) -> DepthMapResult:
    """The depth x derivative grid: for each D and each depth n, each block's gradient G times
    the product of its first n factors (exact where affordable, as depth_sweep's columns)."""
    cells = len(locals_) * len(depths) * len(blocks)
    if cells > MAP_CELLS:
        raise InputError(
            f"{arg('local')}/{arg('depths')}: {len(locals_):,} derivatives x {len(depths):,} depths x "
            f"{len(blocks)} networks is "
            f"{cells:,} cells, more than the {MAP_CELLS:,} one map computes; give fewer"
        )
    g = Fraction(1) if loss_gradient is None else loss_gradient
    grid = tuple(tuple(tuple(_column(block, d, g, depths)) for d in locals_) for block in blocks)
    return DepthMapResult(tuple(locals_), tuple(depths), loss_gradient, tuple(blocks), grid)
