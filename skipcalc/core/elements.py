"""Per-layer gradients given element by element: what each float format does to them.

A layer's gradient is a tensor of many elements spread over many orders of magnitude, and a
format loses the small ones first; its norm is √n times an element's root mean square, so a
verdict on norms is off by that factor. Here each element is rounded once into the format (to
nearest, ties to even), by comparing |g| with the format's rounding thresholds, which are
powers of two or sums of two and so exact in float64 (every float32, float16 and bfloat16
element is a float64 exactly):

- 0 when |g| ≤ s/2 (s the smallest subnormal: the tie goes to the even 0),
- subnormal when s/2 < |g| < m − s/2 (m the smallest normal: the tie goes to m),
- beyond the largest finite value M when |g| ≥ M + u/2 (u the spacing at M: the tie goes to
  the even 2M; float8_e4m3fn saturates there instead, counted as overflow).

A loss scale 2^k multiplies every element exactly, so each threshold is divided by 2^k instead:
the window is the powers of two at which nothing overflows and the fewest elements become 0
(one sort per layer, then a binary search per threshold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from .errors import InputError
from .float_formats import BY_NAME, FloatFormat, floor_log2
from .precision import GRADSCALER_INIT, GRADSCALER_MOST
from .results import Elements, ElementsResult, LayerElements, Magnitudes, ScaleWindow

MOST_ELEMENTS = 50_000_000
"""Most elements one call reads (400 MB as float64; sorting them takes about ten seconds)."""
LOWEST, HIGHEST = -1100, 1100  # float64's whole range of exponents, and beyond


def _thresholds(fmt: FloatFormat) -> tuple[float, float, float]:
    """(zero at or below, subnormal below, overflow at or above), exactly, as float64s."""
    s = fmt.min_subnormal
    top_ulp = Fraction(2) ** (floor_log2(fmt.max_finite) - fmt.precision + 1)
    over = fmt.max_finite + top_ulp / 2  # inf beyond (float8_e4m3fn: saturated, PyTorch's cast)
    return float(s / 2), float(fmt.min_normal - s / 2), float(over)


def _array(values: Any, name: str) -> Any:
    """One layer's elements as a float64 numpy array (a tensor, array, sequence or number)."""
    import numpy as np

    if type(values).__module__.startswith("torch") and hasattr(values, "detach"):
        values = values.detach().cpu()
        values = values.double().numpy() if values.dtype.is_floating_point else values.numpy()
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(
            f"{name}: not numbers; expected a tensor, an array or a sequence of a layer's elements"
        ) from None
    if array.size == 0:
        raise InputError(f"{name}: empty; a layer's gradient needs at least one element")
    if not np.isfinite(array).all():
        raise InputError(
            f"{name}: holds inf or NaN; give the gradient's finite elements (a non-finite one is lost already)"
        )
    return array


def magnitudes(array: Any) -> Magnitudes | None:
    import numpy as np

    nonzero = np.abs(array[array != 0])
    if nonzero.size == 0:
        return None
    p1, p50, p99 = np.percentile(nonzero, [1, 50, 99])
    return Magnitudes(
        float(nonzero.min()),
        float(p1),
        float(p50),
        float(p99),
        float(nonzero.max()),
        int(nonzero.size),
        int(array.size),
    )


def _counts(sorted_abs: Any, fmt: FloatFormat, power: int) -> tuple[int, int, int]:
    """(zero, subnormal, overflow) among the nonzero |g| (sorted), scaled by 2^power."""
    import numpy as np

    zero_at, sub_below, over_at = (_scaled(t, -power) for t in _thresholds(fmt))
    zero = int(np.searchsorted(sorted_abs, zero_at, side="right"))
    below = int(np.searchsorted(sorted_abs, sub_below, side="left"))
    over = sorted_abs.size - int(np.searchsorted(sorted_abs, over_at, side="left"))
    return zero, below - zero, over


def _scaled(threshold: float, power: int) -> float:
    """threshold * 2^power (infinite beyond float64's range: every finite element is below it)."""
    import math

    try:
        return math.ldexp(threshold, power)
    except OverflowError:
        return math.inf


def _window(layers: Sequence[Any], fmt: FloatFormat) -> ScaleWindow:
    def state(power: int) -> tuple[bool, int]:
        counted = [_counts(a, fmt, power) for a in layers]
        return any(c[2] for c in counted), sum(c[0] for c in counted)

    return scale_window(state, sum(a.size for a in layers), LOWEST, HIGHEST)


def scale_window(state: Callable[[int], tuple[bool, int]], total: int, lowest: int, highest: int) -> ScaleWindow:
    """The powers of two 2^k, ``lowest`` <= k <= ``highest``, at which nothing overflows and the
    fewest of ``total`` elements are lost, by bisection: ``state(k)`` is (any overflow, how many
    lost) at 2^k; overflow only grows with k, and the elements lost only shrink."""
    if total == 0 or state(lowest)[0]:
        return ScaleWindow(None, None, None, None, 0)
    lo, hi = lowest, highest
    if not state(hi)[0]:
        top = hi
    else:
        while hi - lo > 1:  # lo: no overflow; hi: overflow
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if state(mid)[0] else (mid, hi)
        top = lo
    least = state(top)[1]
    if state(lowest)[1] == least:
        bottom = lowest
    else:
        lo, hi = lowest, top  # lo: loses more than the least; hi: the least
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if state(mid)[1] == least else (mid, hi)
        bottom = hi
    return ScaleWindow(bottom, top, Fraction(least, total), min(top, GRADSCALER_MOST), max(GRADSCALER_INIT - top, 0))


def element_verdict(
    layers: Sequence[Any], names: Sequence[str], formats: Sequence[str], source: str | None = None
) -> ElementsResult:
    """Each layer's elements (layer 1 nearest the input) in each format: the fractions of its
    nonzero elements that become 0, subnormal or overflow, its magnitudes, and per format the
    loss-scale window over every layer's elements."""
    import numpy as np

    arrays = []
    total = 0
    for i, values in enumerate(layers, start=1):
        numel = getattr(values, "numel", None)
        total += int(numel()) if callable(numel) else int(np.size(values))  # counted before it is copied
        if total > MOST_ELEMENTS:
            raise InputError(
                f"G: more than the {MOST_ELEMENTS:,} elements one call reads; give fewer layers or a sample of each"
            )
        arrays.append(_array(values, f"G{i}"))
    chosen = [BY_NAME[n] for n in formats if n != "float64"]
    nonzero = [np.sort(np.abs(a[a != 0])) for a in arrays]
    rows = []
    for name, array, sorted_abs in zip(names, arrays, nonzero, strict=True):
        count = sorted_abs.size
        stored = []
        for fmt in chosen:
            zero, sub, over = _counts(sorted_abs, fmt, 0) if count else (0, 0, 0)
            stored.append(
                (fmt.name, Elements(Fraction(zero, count or 1), Fraction(sub, count or 1), Fraction(over, count or 1)))
            )
        rows.append(LayerElements(name, magnitudes(array), tuple(stored)))
    windows = tuple((fmt.name, _window(nonzero, fmt)) for fmt in chosen)
    return ElementsResult(tuple(rows), tuple(f.name for f in chosen), windows, source)
