"""Low precision as training computes it: a network's gradients as a float format stores them,
as a backward pass in that format computes them, the loss scales that keep them, and what
PyTorch's GradScaler does about it.

- stored: each exact gradient rounded once into F (the best F can hold).
- computed: the backward pass in F, as autograd runs it from the output down. The upstream
  gradient and every local derivative (and a block's a and b) are stored in F; a block
  y = a*x + b*F(x) gives x the gradient RN(RN(g*a) + RN(RN(g*b)*D)) - the skip's term and the
  branch's, each product rounded, then the sum (a = 1 and b = 1 drop their products: the
  residual block's g + RN(g*D)). For float64, float32, float16 and bfloat16 every operation
  is rounded to F, which is what PyTorch computes on the CPU (its float32 arithmetic for the
  16-bit formats rounds once more to F, and a product or sum of two 16-bit values is exact in
  float32, so the two roundings are the one: Figueroa 1995). FP8 has no arithmetic of its own:
  as FP8 training recipes do (Micikevicius et al. 2022), the operands are stored in FP8, the
  layer's products and sum are computed in float32, and each layer's gradient is stored in FP8.
- loss scale: the powers of two S for which every nonzero S*g, as F stores it, is normal and
  finite (``loss_scale``); and for which the backward pass in F started from S*dL/dx_n keeps
  every gradient and every product it forms normal and finite, so that its gradients are exactly
  S times the unscaled pass's (``computed_loss_scale``).
- GradScaler (torch.amp.GradScaler's defaults): starts at 2^16, halves after a step whose
  gradients overflow (the step is skipped), doubles after 2000 clean steps.

Every value is a Python float (each format's values are doubles exactly); the exact gradients
are read as doubles correctly rounded, and rounded again only where that double is a tie of F,
in which case the exact value decides (Fraction arithmetic).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import partial
from itertools import accumulate, compress, count, repeat
from operator import eq, is_, mul, ne, not_
from typing import TYPE_CHECKING, Any, TypeVar

from .float_formats import BY_NAME, FORMATS, FloatFormat, floor_log2, round_into
from .results import GradScaler, InFormat, Window

if TYPE_CHECKING:
    from .results import ChainResult, FormulaResult, PrecisionResult

R = TypeVar("R", "ChainResult", "FormulaResult")

GRADSCALER_INIT = 16
"""GradScaler's initial scale, 2^16 = 65536 (torch.amp.GradScaler: init_scale)."""
GRADSCALER_GROWTH_INTERVAL = 2000
"""Clean steps before GradScaler doubles its scale (growth_interval); it halves after an
overflowing step (backoff_factor 0.5) and skips that step."""
GRADSCALER_MOST = 127
"""GradScaler keeps its scale in a float32 tensor: 2^127 is the highest power of two it can hold."""
GRADSCALER_LEAST = -149
"""And 2^-149, the smallest float32 (a subnormal), the lowest: halved once more it is 0."""
FP8 = ("float8_e4m3fn", "float8_e5m2")


# ---------------------------------------------------------------------------
# Rounding a double into a format


def rounder(fmt: FloatFormat) -> Callable[[float], float]:
    """RN_F on doubles: to nearest, ties to even, with subnormals; beyond the largest finite
    value +-inf (float8_e4m3fn, which has none, clamps to +-448, as PyTorch's cast does)."""
    if fmt.name == "float64":
        return float
    if fmt.name == "float32":
        return _packed("f")
    if fmt.name == "float16":
        return _packed("e")
    p, emin = fmt.precision, fmt.min_exponent
    largest = float(fmt.max_finite)
    saturate = fmt.overflow == "saturate"

    def round_to(x: float) -> float:
        if x == 0 or x != x or x in (math.inf, -math.inf):
            return x
        m, e = math.frexp(abs(x))  # |x| = m 2^e, 1/2 <= m < 1: the leading bit is 2^(e-1)
        ulp = math.ldexp(1.0, max(e - 1, emin) - p + 1)  # subnormals share e_min's spacing
        magnitude = round(abs(x) / ulp) * ulp  # exact: ulp is a power of two; round() ties to even
        if magnitude > largest:
            magnitude = largest if saturate else math.inf
        return math.copysign(magnitude, x)

    return round_to


def round_all(fmt: FloatFormat, values: Sequence[float]) -> list[float]:
    """rounder(fmt) of each double, in bulk: float32 and float16 converted by C (array and
    struct round to nearest, ties to even), the others one by one."""
    if fmt.name == "float32":
        from array import array

        return array("f", values).tolist()  # beyond float32's range: inf
    if fmt.name == "float16":  # struct refuses what rounds past 65504 (from 65520, a tie to even): inf
        inf = math.inf
        held = [x if not abs(x) >= 65520.0 else math.copysign(inf, x) for x in values]
        return list(struct.unpack(f"{len(held)}e", struct.pack(f"{len(held)}e", *held)))
    return list(map(rounder(fmt), values))


def _packed(code: str) -> Callable[[float], float]:
    """RN into IEEE binary32 ("f") or binary16 ("e") by struct, which rounds to nearest, ties to
    even, and refuses only an overflow, which is an infinity."""
    pack, unpack = struct.Struct(code).pack, struct.Struct(code).unpack

    def round_to(x: float) -> float:
        try:
            return float(unpack(pack(x))[0])
        except OverflowError:
            return math.copysign(math.inf, x)

    return round_to


def status(fmt: FloatFormat, x: float) -> str:
    """normal, subnormal, zero, inf or nan (a clamped e4m3fn value is marked where it is made)."""
    return statuses(fmt, [x])[0]


def statuses(fmt: FloatFormat, values: Sequence[float]) -> list[str]:
    """The status of each value of ``fmt``, in bulk."""
    normal, largest = float(fmt.min_normal), float(fmt.max_finite)
    return [
        "normal"
        if normal <= m <= largest
        else "zero"
        if m == 0
        else "subnormal"
        if m < normal
        else "nan"
        if m != m
        else "inf"
        for m in map(abs, values)
    ]


def store(
    fmt: FloatFormat, values: Sequence[Any], doubles: Sequence[float] | None = None
) -> tuple[list[float], list[str]]:
    """Each exact value (Fraction or carried Decimal) rounded once into ``fmt``, and its status.
    The correctly rounded double is rounded into F; where that double is a tie of F (the one
    case the exact value and its double can round apart) the exact value is rounded instead.
    A double x rounding to r is a tie exactly when its mirror 2x - r is in F too."""
    to_f = rounder(fmt)
    if doubles is None:
        doubles = _doubles(values)
    if fmt.name == "float64":
        return list(doubles), statuses(fmt, doubles)
    stored = round_all(fmt, doubles)
    mirrors = [2 * x - r if r != x and -math.inf < r < math.inf else r for x, r in zip(doubles, stored, strict=True)]
    for k in compress(count(), map(ne, mirrors, stored)):  # a mirror in F: the double is a tie of F
        if to_f(mirrors[k]) == mirrors[k]:
            exact = values[k] if isinstance(values[k], Fraction) else Fraction(values[k])
            stored[k] = float(round_into(fmt, exact)[0])
    if fmt.overflow == "saturate":  # e4m3fn clamps what rounds past 448 (beyond 464)
        beyond = float(fmt.max_finite + _top_ulp(fmt) / 2)
        clamped = [k for k, x in enumerate(doubles) if abs(x) > beyond]
        for k in clamped:  # a value beyond double range too: its double is inf
            stored[k] = math.copysign(float(fmt.max_finite), doubles[k])
        states = statuses(fmt, stored)
        for k in clamped:
            states[k] = "saturated"
        return stored, states
    return stored, statuses(fmt, stored)


def _doubles(values: Sequence[Any]) -> list[float]:
    """_double of each value, at C speed unless some leave double range."""
    try:
        return list(map(float, values))
    except OverflowError:
        return [_double(v) for v in values]


def _double(value: Any) -> float:
    """The double nearest to an exact value (correctly rounded), +-inf beyond double range."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


# ---------------------------------------------------------------------------
# The backward pass in F


@dataclass(frozen=True, eq=False)
class Pass:
    """One backward pass in F: the gradients dL/dx_k (k = 0..n), and the smallest and largest
    nonzero magnitude among them and every product and sum it formed from the upstream gradient;
    ``under`` when one of those fell below the smallest normal (a subnormal, or a 0 made of
    nonzero factors), ``over`` when one passed the largest finite value. A pass that is neither
    is clean: a power-of-two scale that keeps its extremes normal and finite scales every one of
    its roundings exactly."""

    values: tuple[float, ...]
    smallest: float
    largest: float
    under: bool
    over: bool
    clamped: frozenset[int] = frozenset()  # gradients float8_e4m3fn clamped to +-448 (indices k of dL/dx_k)

    @property
    def clean(self) -> bool:
        return not self.under and not self.over


def backward_pass(
    fmt: FloatFormat,
    local: Sequence[Any],
    coefficients: Sequence[tuple[Fraction, Fraction]],
    upstream: Any,
    scale: float = 1.0,
) -> Pass:
    """The backward pass in ``fmt`` from ``upstream`` (times ``scale``, a power of two) through
    layers with these local derivatives and block coefficients (a_k, b_k), in forward order."""
    to_f = rounder(fmt)
    fp8 = fmt.name in FP8
    op = _packed("f") if fp8 else to_f  # FP8: the layer's arithmetic in float32
    stored_d = _stored_each(to_f, local)[::-1]  # from the output down
    beyond = float(fmt.max_finite + _top_ulp(fmt) / 2) if fmt.overflow == "saturate" else math.inf
    start = _double(upstream) * scale
    g = to_f(start)
    values = [g]
    clamped = [0] if abs(start) > beyond else []  # counted from the output: made into indices below
    formed: list[float] = []  # the products the pass forms
    uniform = bool(coefficients) and all(map(is_, coefficients, repeat(coefficients[0])))  # one (a, b)
    a, b = coefficients[0] if coefficients else (Fraction(0), Fraction(1))
    # Once a plain or residual pass reaches 0 (or inf, with every D ahead positive) it stays
    # there, and its products are exact: the rest runs without rounding (a million layers of 0.1),
    # keeping the sign of each zero as IEEE arithmetic does.
    settle = all(map(math.isfinite, stored_d))
    positive = settle and all(d > 0 for d in stored_d)
    lost = bool(start) and not g  # a product of nonzero factors rounded to 0: it fell below the subnormals
    if uniform and not fp8 and a == 0 and b == 1:  # plain: each gradient is the product itself
        for k, d in enumerate(stored_d):
            if (g == 0 and settle) or (g == math.inf and positive):
                values.extend(_settled(g, stored_d[k:], residual=False)[0])
                break
            product = to_f(g * d)
            lost = lost or bool(not product and g and d)
            g = product
            values.append(g)
    elif uniform and not fp8 and a == 1 and b == 1:  # residual: g + RN(g * D)
        for k, d in enumerate(stored_d):
            if (g == 0 and settle) or (g == math.inf and positive):
                rest, products = _settled(g, stored_d[k:], residual=True)
                values.extend(rest)
                formed.extend(products)
                break
            t = to_f(g * d)
            lost = lost or bool(not t and g and d)
            formed.append(t)
            g = to_f(g + t)
            values.append(g)
    else:
        stored_b = {b: to_f(float(b)) for _, b in coefficients}
        stored_a = {a: to_f(float(a)) for a, _ in coefficients}
        for (a, b), d in zip(reversed(coefficients), stored_d, strict=True):
            if b == 1:
                branch = op(g * d)
                lost = lost or bool(not branch and g and d)
            else:
                gb = op(g * stored_b[b])  # the scaled gradient times the branch's weight, rounded first
                branch = op(gb * d)
                formed.append(gb)
                lost = lost or bool(not gb and g and b) or bool(not branch and gb and d)
            formed.append(branch)
            if a == 0:
                total = branch
            else:
                skip = g if a == 1 else op(g * stored_a[a])
                if a != 1:
                    formed.append(skip)
                    lost = lost or bool(not skip and g)
                total = op(skip + branch)
            g = to_f(total)
            if abs(total) > beyond:
                clamped.append(len(values))
            values.append(g)
    values.reverse()
    n = len(values) - 1
    # FP8's products and sums are float32 values: only the gradients it stores are held to FP8's range
    seen = values if fp8 else [*values, *formed]
    smallest, largest, under, over = _extent(fmt, seen, bool(lost))
    return Pass(tuple(values), smallest, largest, under, over or bool(clamped), frozenset(n - k for k in clamped))


def _settled(g: float, rest: Sequence[float], residual: bool) -> tuple[list[float], list[float]]:
    """A plain or residual pass on from a gradient of 0 or inf: every product and sum is exact
    there (a signed 0, or inf), so no rounding is needed."""
    if math.isinf(g):  # inf times a positive D is inf, and inf + inf is inf
        return [g] * len(rest), [g] * len(rest)
    if not residual:  # a signed 0, its sign flipped by each negative D
        values = list(accumulate(rest, mul, initial=g))[1:]
        return values, values
    values, products = [], []
    for k, d in enumerate(rest):
        t = g * d
        g = g + t
        products.append(t)
        values.append(g)
        if g == 0 and math.copysign(1, g) > 0:  # +0 + (+-0) is +0: it stays +0 from here
            rest_len = len(rest) - k - 1
            values.extend([0.0] * rest_len)
            products.extend(map(mul, repeat(0.0, rest_len), rest[k + 1 :]))
            break
    return values, products


def _extent(fmt: FloatFormat, seen: Sequence[float], lost: bool) -> tuple[float, float, bool, bool]:
    """(smallest and largest nonzero magnitude, under, over): under when one is below the
    smallest normal or ``lost`` (a 0 made of nonzero factors); over when one is beyond the
    largest finite value, or not a number."""
    magnitudes = list(map(abs, seen))
    nonzero = list(filter(None, magnitudes))
    if not nonzero:
        return 0.0, 0.0, lost, False
    smallest, largest = min(nonzero), max(nonzero)
    under = lost or smallest < float(fmt.min_normal)
    over = largest > float(fmt.max_finite) or any(map(math.isnan, magnitudes))
    return smallest, largest, under, over


def _stored_each(to_f: Callable[[float], float], values: Sequence[Any]) -> list[float]:
    """Each local derivative in F (each distinct object once: --layers repeats a few)."""
    from .kernels import map_distinct

    return map_distinct(lambda v: to_f(_double(v)), list(values))


# ---------------------------------------------------------------------------
# Loss scales


def extremes(values: Sequence[Any], doubles: Sequence[float]) -> tuple[Fraction, Fraction] | None:
    """The smallest and largest nonzero |value|, exactly (None when every value is 0), found
    among the values whose correctly rounded doubles are smallest and largest (rounding keeps
    order), the exact ones compared only there (and where a double left double range)."""
    from .kernels import to_carried

    magnitudes = list(map(abs, doubles))
    finite = [m for m in magnitudes if 0 < m < math.inf]
    ends = []
    for pick, beyond, other in ((min, 0.0, math.inf), (max, math.inf, 0.0)):
        chosen: list[Any] = []
        if beyond in magnitudes:  # beyond double range: decided exactly among those (at C speed)
            chosen = list(filter(None, compress(values, map(eq, magnitudes, repeat(beyond)))))
        if not chosen and finite:
            chosen = list(compress(values, map(eq, magnitudes, repeat(pick(finite)))))
        if not chosen and other in magnitudes:  # every nonzero value is beyond double range, the other way
            chosen = list(filter(None, compress(values, map(eq, magnitudes, repeat(other)))))
        if not chosen:
            return None
        candidates = list(map(abs, chosen))
        kinds = list(map(isinstance, candidates, repeat(Decimal)))
        decimals = list(compress(candidates, kinds))  # compared at C speed
        others = _near_extreme(list(compress(candidates, map(not_, kinds))), pick)
        # and each side's best as carried Decimals: a Decimal compared with a Fraction of 3,000
        # digits would build it
        best = [pick(side, key=to_carried) if side is others else pick(side) for side in (decimals, others) if side]
        ends.append(Fraction(pick(best, key=to_carried)))
    return ends[0], ends[1]


def _near_extreme(candidates: list[Any], pick: Callable[..., Any]) -> list[Any]:
    """The few candidates within a factor of 16 of the smallest (``pick`` min) or largest
    (max), by a rough log2 from bit lengths, so that only those are compared exactly (a
    million Fractions beyond double range, each a different power)."""
    if len(candidates) <= 64:
        return candidates
    logs = [float(v.numerator.bit_length() - v.denominator.bit_length()) for v in candidates]
    end = pick(logs)
    return [v for v, log in zip(candidates, logs, strict=True) if abs(log - end) <= 4]


def stored_window(fmt: FloatFormat, extent: tuple[Fraction, Fraction] | None) -> Window | None:
    """The powers of two S for which every nonzero |g| between these extremes, times S and
    rounded into F, is normal and finite (None when every g is 0). Decided on the rounded
    values: S*g rounds up to the smallest normal from half a subnormal step below it, and stays
    finite up to half a step above the largest (a tie there goes to the even neighbour:
    infinity, or e4m3fn's 448)."""
    if extent is None:
        return None
    small, large = extent
    sub_ulp = fmt.min_subnormal
    low_threshold = fmt.min_normal - sub_ulp / 2
    high_threshold = fmt.max_finite + _top_ulp(fmt) / 2
    lowest = _ceil_log2(low_threshold / small)
    # At the tie above the largest, inf formats round up (their largest significand is odd);
    # float8_e4m3fn's 448 is even, so the tie stays at 448.
    highest = _floor_log2_below(high_threshold / large, inclusive=fmt.overflow == "saturate")
    return Window(lowest, highest)


def _top_ulp(fmt: FloatFormat) -> Fraction:
    exponent = math.frexp(float(fmt.max_finite))[1] - 1
    return Fraction(2) ** (exponent - fmt.precision + 1)


def _ceil_log2(a: Fraction) -> int:
    k = floor_log2(a)
    return k if a == Fraction(2) ** k else k + 1


def _floor_log2_below(a: Fraction, inclusive: bool) -> int:
    """The greatest k with 2^k <= a (``inclusive``) or 2^k < a."""
    k = floor_log2(a)
    return k if inclusive or a != Fraction(2) ** k else k - 1


def computed_window(
    fmt: FloatFormat, run: Callable[[float], Pass], unscaled: Pass, hint: Window | None
) -> Window | None:
    """The powers of two S for which the backward pass in F from S*dL/dx_n (``run(S)``) forms
    every product and sum normal and finite: a clean pass. The local derivatives are stored in F
    once, at every S alike (1e-6 is a float16 subnormal whatever the scale), so they are not
    among the quantities S moves. Within the window every rounding scales exactly, so each
    gradient is S times the same value, and GradScaler's division by S gives it back. From one
    clean pass the window follows from its extremes; None when no scale gives one: the gradients
    span more than F's normal range (``hint``, the exact gradients' window, says so first), or
    every scale loses some product."""
    if hint is not None and not hint.works:
        return None
    made = {0: unscaled}

    def at(k: int) -> Pass:
        if k not in made:
            made[k] = run(math.ldexp(1.0, k))
        return made[k]

    ref = _clean_scale(fmt, at, hint)
    if ref is None:
        return None
    reference = at(ref)
    if not reference.largest:
        return None
    # smallest * 2^j >= 2^e_min  <=>  j >= e_min - (e - 1), for smallest in [2^(e-1), 2^e)
    lowest = ref + fmt.min_exponent - math.frexp(reference.smallest)[1] + 1
    highest = ref + floor_log2(fmt.max_finite / Fraction(reference.largest))
    return Window(lowest, highest)


SCALES = (-1074, 1023)
"""The powers of two a scale may be: a double (a pass starts from S times dL/dx_n in doubles)."""


def _clean_scale(fmt: FloatFormat, at: Callable[[int], Pass], hint: Window | None) -> int | None:
    """A power of two whose pass is clean: 0, the middle of the exact gradients' window, then a
    halving search (a pass that falls below the normals asks for a larger scale, one that
    overflows for a smaller; both: none can)."""
    if at(0).clean:
        return 0
    low, high = SCALES
    k = (hint.lowest + hint.highest) // 2 if hint is not None else 0
    for _ in range(64):
        found = at(k)
        if found.clean:
            return k
        if found.under and found.over:
            return None
        if found.under:
            low = k
        else:
            high = k
        if high - low <= 1:
            return None
        k = (low + high) // 2
    return None


def formula_pass(
    fmt: FloatFormat,
    texts: Sequence[str],
    at: Fraction,
    coefficients: Sequence[tuple[Fraction, Fraction]],
    upstream: Any,
) -> Callable[[float], Pass]:
    """Formula layers' backward pass in ``fmt`` (core.autograd: forward and backward operation
    by operation, as PyTorch runs them), as a function of the loss scale."""
    from .autograd import backward_through, forward

    to_f = rounder(fmt)
    fp8 = fmt.name in FP8
    tensor = _packed("f") if fp8 else to_f  # FP8 runs the formula in float32
    beyond = float(fmt.max_finite + _top_ulp(fmt) / 2) if fmt.overflow == "saturate" else math.inf
    made = forward(
        "float32" if fp8 else fmt.name,
        tensor,
        _packed("f") if fmt.precision < 24 else tensor,
        to_f,
        texts,
        _double(at),
        coefficients,
    )

    def run(scale: float) -> Pass:
        calls: list[bool] = []

        def stored(v: float) -> float:
            calls.append(abs(v) > beyond)
            return to_f(v)

        values, formed, lost = backward_through(made, stored, _double(upstream) * scale)
        n = len(values) - 1
        clamped = frozenset(n - j for j, c in enumerate(calls) if c)
        seen = values if fp8 else [*values, *formed]
        smallest, largest, under, over = _extent(fmt, seen, lost)
        return Pass(tuple(values), smallest, largest, under, over or bool(clamped), clamped)

    return run


# ---------------------------------------------------------------------------
# GradScaler


def gradscaler(window: Window | None, fmt: FloatFormat) -> GradScaler | None:
    """What GradScaler does with this window of scales. It never stops growing: every 2000
    clean steps it doubles, and a step that overflows is skipped and halves it, so it ends at
    the window's top (trying the next power every 2000 steps and skipping that step). From
    2^16 above the top it halves down to it, one skipped step each; from below the window's
    bottom it takes 2000 clean steps per doubling to reach it (gradients below normal until
    then). In float8_e4m3fn, which clamps to 448 and has no infinity, it never sees an
    overflow: it doubles without end (``blind``), through the window and past it."""
    if window is None:
        return None
    top = min(window.highest, GRADSCALER_MOST)
    if fmt.overflow == "saturate":
        return GradScaler(GRADSCALER_INIT, 0, 0, window.works and window.lowest <= GRADSCALER_INIT <= top, blind=True)
    if GRADSCALER_INIT > top:  # halving down to the top, but not past its float32 scale's smallest
        settles = max(top, GRADSCALER_LEAST)
        return GradScaler(settles, GRADSCALER_INIT - settles, 0, window.works and window.lowest <= settles <= top)
    growth = max(min(window.lowest, top) - GRADSCALER_INIT, 0) * GRADSCALER_GROWTH_INTERVAL
    return GradScaler(top, 0, growth, window.works and window.lowest <= top)


# ---------------------------------------------------------------------------
# A result's networks in formats


def in_format(
    fmt: FloatFormat,
    exact: Sequence[Any],
    doubles: Sequence[float] | None = None,
    run: Callable[[float], Pass] | None = None,
    upstream: Any = 1,
    extent: tuple[Fraction, Fraction] | None = None,
) -> InFormat:
    """A network's gradients ``exact`` (dL/dx_0 .. dL/dx_n) in ``fmt``: stored, and with its
    backward pass in F (``run``, a function of the loss scale) also computed."""
    if doubles is None:
        doubles = _doubles(exact)
    stored, states = store(fmt, exact, doubles)
    extent = extremes(exact, doubles) if extent is None else extent
    window = _with_holders(stored_window(fmt, extent), extent)
    if run is None:
        return InFormat(fmt.name, tuple(stored), tuple(states), window, upstream, gradscaler=gradscaler(window, fmt))
    computed = run(1.0)
    computed_scale = computed_window(fmt, run, computed, window)
    computed_states = statuses(fmt, computed.values)
    for k in computed.clamped:
        computed_states[k] = "saturated"
    return InFormat(
        fmt.name,
        tuple(stored),
        tuple(states),
        window,
        upstream,
        computed.values,
        tuple(computed_states),
        exact,
        doubles,
        computed_scale,
        gradscaler(computed_scale, fmt),
    )


def _with_holders(window: Window | None, extent: tuple[Fraction, Fraction] | None) -> Window | None:
    """A window that does not work, with the formats whose range would hold these values."""
    if window is None or window.works:
        return window
    holders = tuple(f.name for f in FORMATS if (w := stored_window(f, extent)) is not None and w.works)
    return Window(window.lowest, window.highest, holders)


def relative_errors(computed: Sequence[float], exact: Sequence[Any]) -> tuple[Any, ...]:
    """|computed - exact| / |exact| per layer, as a decimal: exact where it terminates, else
    carried (60 digits, shown correctly rounded); None where the exact gradient is 0 (then there is no relative
    error) or the computed one is not finite."""
    from . import kernels

    out: list[Any] = []
    for c, e in zip(computed, exact, strict=True):
        if not e or c != c or abs(c) == math.inf:
            out.append(None)
        elif isinstance(e, Fraction):
            error = abs(Fraction(c) - e) / abs(e)
            out.append(error if _terminates(error) else kernels.to_carried(error))  # a decimal, not p/q
        else:
            carried = kernels.to_carried(e)
            out.append(kernels.CARRIED.divide(abs(kernels.CARRIED.subtract(Decimal(c), carried)), abs(carried)))
    return tuple(out)


def _terminates(x: Fraction) -> bool:
    from .kernels import five_power

    odd = x.denominator >> ((x.denominator & -x.denominator).bit_length() - 1)
    return odd == 1 or five_power(odd) is not None


def largest_relative_error(
    computed: Sequence[float], exact: Sequence[Any], doubles: Sequence[float] = ()
) -> tuple[Any, int] | None:
    """The largest relative error and its index: found in double arithmetic (``doubles``, the
    exact gradients' correctly rounded doubles, made here when not given), then made exactly at
    the few candidates."""
    from . import kernels

    def below(c: float, e: Any) -> float:  # a finite nonzero c for a gradient below double range
        carried = kernels.to_carried(e)
        return float(abs(kernels.CARRIED.subtract(Decimal(c), carried)) / abs(carried))

    inf, near_one = math.inf, math.nextafter(1.0, 0.0)
    errors = [
        abs(c - d) / abs(d)
        if 0 < abs(d) < inf and -inf < c < inf
        else -1.0  # no error: an exact 0, or nan or inf computed
        if not e or c != c or abs(c) == inf
        else 1.0  # lost: exactly 1
        if c == 0
        else near_one  # a finite c for a gradient beyond double range: just below 1
        if abs(d) == inf
        else below(c, e)
        for c, d, e in zip(computed, doubles or _doubles(exact), exact, strict=True)
    ]
    top = max(errors, default=-1.0)
    if top < 0:
        return None
    near = [k for k, x in enumerate(errors) if x >= top * (1 - 1e-9)]
    candidates = sorted(near, key=errors.__getitem__, reverse=True)[:8]  # all but equal: a few decide
    exact_errors = {k: relative_errors([computed[k]], [exact[k]])[0] for k in candidates}
    k = max(exact_errors, key=lambda index: kernels.to_carried(exact_errors[index]))
    return exact_errors[k], k


def formats_named(names: Sequence[str]) -> list[FloatFormat]:
    """The formats of --dtype, in the order given; "all" is every format."""
    chosen: list[FloatFormat] = []
    for name in names:
        for fmt in FORMATS if name == "all" else [BY_NAME[name]]:
            if fmt not in chosen:
                chosen.append(fmt)
    return chosen


WORK = 3_000_000
"""Most backward steps in low precision one call runs (layers x networks x formats): about ten
seconds here. A million layers in one format through plain and residual pass."""


WRITTEN = 400_000
"""Most per-layer values in low precision one call writes as json or csv (layers x networks x
formats; each is five lists: stored, computed, their statuses, relative errors): about ten
seconds here."""


def check_work(layers: int, networks: int, formats: int, written: bool = False) -> None:
    """Refuse, before any work, a --dtype call of more steps than WORK (or, ``written`` out per
    layer as json or csv, than WRITTEN), naming the way around."""
    steps = layers * networks * formats
    if written and steps > WRITTEN:
        from .errors import InputError, arg

        raise InputError(
            f"{arg('dtype')}: {layers:,} layers x {networks} network{'s' if networks != 1 else ''} x {formats} "
            f"format{'s' if formats != 1 else ''} is {steps:,} values of every layer to write in low precision, "
            f"more than the {WRITTEN:,} one call writes as json or csv (about ten seconds); the table's verdict "
            "(--format table) takes up to 3,000,000, or give fewer layers, formats or networks"
        )
    if steps > WORK:
        from .errors import InputError, arg

        raise InputError(
            f"{arg('dtype')}: {layers:,} layers x {networks} network{'s' if networks != 1 else ''} x {formats} "
            f"format{'s' if formats != 1 else ''} is {steps:,} backward steps in low precision, more than the "
            f"{WORK:,} one call runs (about ten seconds); give fewer layers, formats or networks "
            f"({arg('plain', True)}, {arg('residual', True)})"
        )


def with_dtypes(result: R, names: Sequence[str]) -> R:
    """The result (chain or formula layers) with each network's gradients in the formats named:
    stored and computed by the backward pass in each, from the network's own dL/dx_n."""
    from dataclasses import replace

    formats = formats_named(names)
    texts = getattr(result, "texts", None)  # formula layers: their forward pass runs in F too
    networks = []
    for net in result.networks:
        assert net.wrt is not None, "dtype needs every layer's gradient"
        coefficients = net.block.coefficients(len(net.local))
        doubles = _doubles(net.wrt)  # each exact gradient's double, once for every format
        extent = extremes(net.wrt, doubles)
        dtypes = []
        for fmt in formats:
            run: Callable[[float], Pass]
            if texts is None:
                run = partial(backward_pass, fmt, net.local, coefficients, net.upstream)
            else:
                run = formula_pass(fmt, texts, result.at, coefficients, net.upstream)  # type: ignore[attr-defined]
            dtypes.append(in_format(fmt, net.wrt, doubles, run, net.upstream, extent))
        networks.append(replace(net, dtypes=tuple(dtypes)))
    return replace(result, networks=tuple(networks))


def measured(gradients: Sequence[Any], names: Sequence[str], source: str | None = None) -> PrecisionResult:
    """Measured per-layer gradients G_1 .. G_n (exact numbers) as each format named stores
    them, with their loss-scale windows and GradScaler's way to one."""
    from .results import PrecisionResult

    formats_wanted = formats_named(names)
    if len(gradients) * len(formats_wanted) > WORK:
        from .errors import InputError, arg

        raise InputError(
            f"{arg('dtype')}: {len(gradients):,} gradients x {len(formats_wanted)} formats is more than the {WORK:,} "
            "values one call rounds (about ten seconds); give fewer gradients or formats"
        )
    doubles = _doubles(gradients)
    extent = extremes(gradients, doubles)
    formats = tuple(in_format(fmt, gradients, doubles, upstream=None, extent=extent) for fmt in formats_wanted)
    return PrecisionResult(tuple(gradients), formats, source)
