"""An independent check on a formula activation's Gaussian expectations: interval arithmetic
encloses E[φ(√q z)²] and E[φ′(√q z)²] on cells of u, split where they widen the bounds most,
so a feature of φ narrower than the quadrature's nodes is found rather than sampled past
(``tanh(1e300*x)``, ``x+exp(-1e12*(x-0.7)**2)``).

On a cell [c - r, c + r] of Gaussian mass M, g (φ² or φ′²) is enclosed by Taylor's theorem,
g(c) + g′(c)(u - c) + g″(ξ)(u - c)²/2, integrated against the Gaussian: g(c)·M + g′(c)·m₁ +
g″(X)·[0, r²M]/2, where the first moment m₁ (the integral of (u - c) dN) is at most
(2/3) r³ max|n′| on the cell in size (n the density, whose odd part about c is what m₁ sees);
and, where φ or φ′ jumps inside the cell (sign, Heaviside), by g(X)·M. Both are second order or
better, so a few hundred cells bound a smooth activation's expectations to 10^-3 of their size,
while a narrow feature makes its cell wide until it is split small enough to see.

The arithmetic is floating point rounded outward: each result widened by one unit in the last
place, each library function (exp, tanh, erf, ...) by four (glibc documents at most a few for
them). Values beyond the double range make a cell unbounded. The Gaussian beyond 37 standard
deviations (mass below 10^-299) is left out, as the quadrature leaves it out."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import InputError, arg

TAIL = 37.0
"""Cells cover |u| <= TAIL·√q."""

CELLS = 3000
"""Cells one enclosure may split into (about a fifth of a second for a short formula)."""

LARGEST = 500
"""The most operations φ″ may have for its derivative to be made (SymPy differentiates a larger one slowly)."""

WORK = 1_500_000
"""Microseconds one enclosure may spend (about a second and a half): fewer cells for a larger
formula, each cell costing about 60 + 7 per operation of φ, φ′ and φ″."""

TOLERANCE = 1e-3
"""The relative width the enclosures are refined to; the quadrature's values must lie inside."""

CONFIRM = 0.1
"""The relative width past which an enclosure confirms no digit: the activation is refused as
one that cannot be bounded (a smooth one is far narrower; a feature many thousand times finer
than the Gaussian, as tanh at q = 10^20, stays between the two)."""

INF = math.inf


def _down(v: float) -> float:
    return math.nextafter(v, -INF)


def _up(v: float) -> float:
    return math.nextafter(v, INF)


class Unbounded(Exception):
    """A value the arithmetic cannot enclose on a cell (a log of a negative, a pole, overflow)."""


class I:  # noqa: E742  # an interval
    """A closed interval [lo, hi] of floats holding every value an expression takes."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float | None = None) -> None:
        self.lo, self.hi = lo, lo if hi is None else hi
        if not (-INF < self.lo <= self.hi < INF):
            raise Unbounded

    @staticmethod
    def out(lo: float, hi: float, ulps: int = 1) -> I:
        for _ in range(ulps):
            lo, hi = _down(lo), _up(hi)
        return I(lo, hi)

    def __add__(self, other: I) -> I:
        return I.out(self.lo + other.lo, self.hi + other.hi)

    def __neg__(self) -> I:
        return I(-self.hi, -self.lo)

    def __sub__(self, other: I) -> I:
        return I.out(self.lo - other.hi, self.hi - other.lo)

    def __mul__(self, other: I) -> I:
        products = (self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi)
        if any(math.isnan(p) for p in products):
            raise Unbounded
        return I.out(min(products), max(products))

    def inverse(self) -> I:
        if self.lo <= 0 <= self.hi:
            raise Unbounded
        return I.out(1 / self.hi, 1 / self.lo)

    def power(self, n: int) -> I:
        """self**n for an integer n >= 0, the even powers never below 0."""
        if n == 0:
            return I(1.0)
        ends = sorted((abs(self.lo), abs(self.hi))) if n % 2 == 0 else (self.lo, self.hi)
        low, high = (0.0 if n % 2 == 0 and self.lo <= 0 <= self.hi else ends[0]), ends[1]
        try:
            lo, hi = (math.copysign(abs(v) ** n, v) if n % 2 else v**n for v in (low, high))
        except OverflowError:
            raise Unbounded from None
        return I.out(lo, hi, 2)

    @property
    def width(self) -> float:
        return self.hi - self.lo


def _library(fn: Callable[[float], float], low: float, high: float) -> I:
    """A nondecreasing library function on [low, high]: its ends, widened by four ulps."""
    try:
        return I.out(fn(low), fn(high), 4)
    except (OverflowError, ValueError):
        raise Unbounded from None


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x)) if x <= 0 else x + math.log1p(math.exp(-x))


_RISING: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "tanh": math.tanh,
    "erf": math.erf,
    "Phi": lambda x: math.erfc(-x / math.sqrt(2)) / 2,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "relu": lambda x: max(x, 0.0),
    "sinh": math.sinh,
    "atan": math.atan,
    "asinh": math.asinh,
}
_JUMPS = ("sign", "Heaviside", "DiracDelta")


def _sech(x: float) -> float:
    e = math.exp(-abs(x))
    return 2 * e / (1 + e * e)


def _phi(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _periodic(a: I, peak: float, trough: float, fn: Callable[[float], float]) -> I:
    """sin or cos on an interval: its ends, and ±1 wherever a peak or trough (at peak + 2kπ,
    trough + 2kπ) may lie inside (included when in doubt)."""
    if a.width >= 2 * math.pi:
        return I(-1.0, 1.0)
    ends = I.out(min(fn(a.lo), fn(a.hi)), max(fn(a.lo), fn(a.hi)), 4)
    lo, hi = max(ends.lo, -1.0), min(ends.hi, 1.0)

    def inside(at: float) -> bool:
        k = math.ceil((a.lo - at) / (2 * math.pi) - 1e-9)
        return at + 2 * math.pi * k <= a.hi + 1e-9 * (1 + abs(a.hi))

    return I(-1.0 if inside(trough) else lo, 1.0 if inside(peak) else hi)


class Expression:
    """A SymPy expression in x, compiled once into a function of an interval."""

    def __init__(self, expr: Any) -> None:
        import sympy as sp

        self.sp = sp
        self.jumped = False  # whether the last call met a jump of sign or Heaviside
        self.run = self.build(expr)

    def __call__(self, cell: I) -> I:
        self.jumped = False
        try:
            return self.run(cell)
        except (OverflowError, ValueError, ZeroDivisionError):
            raise Unbounded from None

    def build(self, node: Any) -> Callable[[I], I]:
        sp = self.sp
        if node.is_Symbol:
            return (lambda cell: cell) if node.name == "x" else _beyond_range
        if node.is_number:
            value = float(node.evalf(30))
            if not math.isfinite(value):
                return _beyond_range
            number = I.out(value, value)  # within an ulp of the number
            return lambda cell: number
        if isinstance(node, (sp.Add, sp.Mul)):
            parts = [self.build(arg) for arg in node.args]
            add = isinstance(node, sp.Add)

            def combined(cell: I) -> I:
                total = parts[0](cell)
                for part in parts[1:]:
                    total = total + part(cell) if add else total * part(cell)
                return total

            return combined
        if isinstance(node, sp.Pow):
            return self.power(node)
        name, inner = type(node).__name__, self.build(node.args[0])
        return lambda cell: self.function(name, inner(cell))

    def power(self, node: Any) -> Callable[[I], I]:
        base, exponent = self.build(node.args[0]), node.args[1]
        if exponent.is_Integer:
            n = int(exponent)
            return (lambda cell: base(cell).power(n)) if n >= 0 else (lambda cell: base(cell).power(-n).inverse())
        if exponent == self.sp.Rational(1, 2):
            return lambda cell: self.function("sqrt", base(cell))
        power = self.build(exponent)

        def general(cell: I) -> I:
            b = base(cell)
            if b.lo <= 0:
                raise Unbounded
            return self.function("exp", power(cell) * self.function("log", b))

        return general

    def function(self, name: str, a: I) -> I:
        if name in _JUMPS and a.lo <= 0 <= a.hi:
            self.jumped = True  # a jump inside: the derivative (a delta there) is left out
        if name in _RISING:
            return _library(_RISING[name], a.lo, a.hi)
        if name == "log":
            if a.lo <= 0:
                raise Unbounded
            return _library(math.log, a.lo, a.hi)
        if name == "sqrt":
            if a.lo < 0:
                raise Unbounded
            return _library(math.sqrt, a.lo, a.hi)
        if name == "sin":
            return _periodic(a, math.pi / 2, -math.pi / 2, math.sin)
        if name == "cos":
            return _periodic(a, 0.0, math.pi, math.cos)
        if name == "tan":
            turns = ((a.lo - math.pi / 2) / math.pi, (a.hi - math.pi / 2) / math.pi)
            if math.floor(turns[0] - 1e-9) != math.floor(turns[1] + 1e-9):
                raise Unbounded  # a pole inside, or too near to tell
            return _library(math.tan, a.lo, a.hi)
        if name in ("cosh", "sech", "phi"):
            near = 0.0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi))
            far = max(abs(a.lo), abs(a.hi))
            if name == "cosh":
                return _library(math.cosh, near, far)
            if name == "sech":  # 2 e^-|x| / (1 + e^-2|x|), never overflowing
                return I.out(_sech(far), _sech(near), 4)
            return I.out(_phi(far), _phi(near), 4)
        if name == "Abs":
            return I(0.0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi)), max(abs(a.lo), abs(a.hi)))
        if name in ("sign", "Heaviside"):
            if name == "sign":
                return I(float((a.lo > 0) - (a.lo < 0)), float((a.hi > 0) - (a.hi < 0)))
            return I(float(a.lo > 0), float(a.hi > 0))
        if name == "DiracDelta":
            return I(0.0)  # its weight sits at a kink, which φ″ leaves out (as the quadrature does)
        raise Unbounded  # a function without an enclosure here


def _beyond_range(cell: I) -> I:
    raise Unbounded


def _density(u: float, q: float) -> float:
    return math.exp(-u * u / (2 * q)) / math.sqrt(2 * math.pi * q)


def _mass(a: float, b: float, q: float) -> I:
    """The mass of N(0, q) on [a, b]: from erfc in the nearer tail, intersected with the cell's
    width times the density's range on it (tighter for a narrow cell)."""
    sd = math.sqrt(2 * q)
    x, y = (-b, -a) if a >= 0 else (a, b)
    high, low = math.erfc(-y / sd) / 2, math.erfc(-x / sd) / 2
    slack = 1e-14 * (high + low) + 1e-300
    near = 0.0 if a <= 0 <= b else min(abs(a), abs(b))
    far = max(abs(a), abs(b))
    width = I.out(b - a, b - a)
    by_density = I.out(width.lo * _density(far, q) * (1 - 1e-14), width.hi * _density(near, q) * (1 + 1e-14))
    return I(max(high - low - slack, by_density.lo, 0.0), min(high - low + slack, by_density.hi))


class Derivatives:
    """φ and its first three derivatives, of a formula, on intervals."""

    def __init__(self, exprs: tuple[Any, ...]) -> None:
        import sympy as sp

        from ..formula import X

        f, df, d2f = exprs
        self.operations = sum(int(sp.count_ops(e)) for e in exprs)
        if int(sp.count_ops(d2f)) <= LARGEST:
            d3f = sp.diff(d2f, X).replace(sp.DiracDelta, lambda *args: sp.Integer(0))
        else:  # too large to differentiate again: φ′² is enclosed cell by cell without Taylor's form
            d3f = sp.Symbol("unbounded")
        self.d = [Expression(e) for e in (f, df, d2f, d3f)]
        self.cost = 60 + 7 * self.operations  # microseconds a cell takes (measured)

    def on(self, cell: I, count: int) -> tuple[list[I | None], list[bool]]:
        """The first ``count`` of φ and its derivatives on the cell (None where unbounded), and whether
        each is continuous there (no jump of sign or Heaviside inside)."""
        values: list[I | None] = []
        continuous = []
        for d in self.d[:count]:
            try:
                values.append(d(cell))
            except Unbounded:
                values.append(None)
            continuous.append(not d.jumped)
        return values, continuous


def _cell(act: Derivatives, a: float, b: float, q: float) -> tuple[I, I]:
    """The two expectations' parts on the cell [a, b]."""
    c = (a + b) / 2
    r = _up(max(c - a, b - c))
    mass = _mass(a, b, q)
    near = 0.0 if a <= 0 <= b else min(abs(a), abs(b))
    top = _density(near, q) * (1 + 1e-14)
    # (2/3) r³ max|n′| (|n′(u)| = |u| n(u)/q) for the cell symmetric about c, and the sliver a
    # rounded midpoint leaves
    m1 = _up(_up(2 / 3 * r**3 * max(abs(a), abs(b)) / q * top) + r * top * (abs((b - c) - (c - a)) + 2 * math.ulp(c)))
    first, second = I(-m1, m1), I(0.0, _up(r * r * mass.hi / 2))
    whole, continuous = act.on(I(a, b), 4)
    centre, _ = act.on(I(c), 3)
    out = []
    for k in range(2):  # g = h² for h = φ (k = 0) and φ′ (k = 1): g′ = 2 h h′, g″ = 2 (h′² + h h″)
        h, dh, d2h = whole[k : k + 3]
        hc, dhc = centre[k], centre[k + 1]
        value = h.power(2) * mass if h is not None else None
        # Taylor's form needs g′ continuous (h and h′ without jumps); g″ may jump
        if None not in (dh, d2h, hc, dhc) and h is not None and continuous[k] and continuous[k + 1]:
            assert dh is not None and d2h is not None and hc is not None and dhc is not None
            taylor = hc.power(2) * mass + I(2.0) * hc * dhc * first + I(2.0) * (dh.power(2) + h * d2h) * second
            value = taylor if value is None else I(max(value.lo, taylor.lo), min(value.hi, taylor.hi))
        if value is None:
            raise Unbounded
        out.append(value)
    return out[0], out[1]


Bounds = tuple[tuple[float, float], tuple[float, float]]


def enclose(exprs: tuple[Any, ...], q: float, cells: int = CELLS) -> Bounds:
    """Lower and upper bounds of E[φ(√q z)²] and E[φ′(√q z)²] over |u| <= TAIL·√q (``exprs``
    φ, φ′, φ″ as SymPy expressions in x), refined until both are within TOLERANCE of their size
    or ``cells`` are used; (-inf, inf) where a cell stays unbounded (a pole, or overflow)."""
    act = Derivatives(exprs)
    cells = min(cells, max(int(WORK / act.cost), 128))
    span = TAIL * math.sqrt(q)
    heap: list[tuple[float, int, float, float, I | None, I | None]] = []
    scale = [0.0, 0.0]

    def parts(a: float, b: float) -> tuple[I | None, I | None]:
        try:
            return _cell(act, a, b, q)
        except Unbounded:
            return None, None

    def priority(e: I | None, d: I | None) -> float:
        if e is None or d is None:
            return -INF
        return -sum(p.width / s if s else p.width for p, s in zip((e, d), scale, strict=True))

    first = [(a, b, *parts(a, b)) for a, b in _edges(-span, span, 64)]
    for k in range(2):
        known = [p[2] if k == 0 else p[3] for p in first]
        scale[k] = sum(abs(p.lo) + abs(p.hi) for p in known if p is not None) / 2
    for n, (a, b, e, d) in enumerate(first):
        heapq.heappush(heap, (priority(e, d), n, a, b, e, d))
    count = len(first)
    totals = _totals(heap)
    while count < cells and not all(_settled(t) for t in totals):
        _, _, a, b, e, d = heapq.heappop(heap)
        c = (a + b) / 2
        if not a < c < b:  # as narrow as floats go: kept as it is
            heapq.heappush(heap, (0.0, count, a, b, e, d))
            break
        for left, right in ((a, c), (c, b)):
            pe, pd = parts(left, right)
            heapq.heappush(heap, (priority(pe, pd), count, left, right, pe, pd))
            count += 1
        if count % 64 < 2:
            totals = _totals(heap)
    totals = _totals(heap)
    return totals[0], totals[1]


def _edges(low: float, high: float, n: int) -> Iterator[tuple[float, float]]:
    points = [low + (high - low) * k / n for k in range(n + 1)]
    return zip(points, points[1:], strict=False)


def _totals(heap: list[tuple[float, int, float, float, I | None, I | None]]) -> list[tuple[float, float]]:
    """The two expectations' bounds, the cells' parts added up (rounded outward)."""
    out = []
    for k in range(2):
        parts = [cell[4] if k == 0 else cell[5] for cell in heap]
        if any(p is None for p in parts):
            out.append((-INF, INF))
            continue
        low = math.fsum(p.lo for p in parts if p is not None)
        high = math.fsum(p.hi for p in parts if p is not None)
        out.append((_down(_down(low)), _up(_up(high))))
    return out


def _settled(total: tuple[float, float], tolerance: float = TOLERANCE) -> bool:
    low, high = total
    return math.isfinite(low) and math.isfinite(high) and high - low <= tolerance * max(abs(low), abs(high))


def check(act: Any, q: Any, quadrature: tuple[Any, Any], say: Callable[[Any], str]) -> None:
    """Refuse (InputError naming --act) when the quadrature's E[φ²] and E[φ′²] at variance q
    lie outside their interval enclosures, or when the enclosures stay wider than CONFIRM: the
    activation varies on a scale the quadrature's nodes do not resolve."""
    bounds = enclose(act.exprs, float(q))
    names = ("E[phi(sqrt(q) z)^2]", "E[phi'(sqrt(q) z)^2]")
    for name, (low, high), value in zip(names, bounds, quadrature, strict=True):
        v = float(value)
        if not low - 1e-12 * abs(v) <= v <= high + 1e-12 * abs(v):
            raise InputError(
                f"{arg('act')}: {act.text!r} has a feature narrower than the quadrature's nodes: at q = {say(q)}, "
                f"interval arithmetic puts {name} between {low:.4g} and {high:.4g}, the nodes give {v:.4g}; "
                "its expectations cannot be certified"
            )
        if not _settled((low, high), CONFIRM):
            raise InputError(
                f"{arg('act')}: {act.text!r} cannot be bounded: at q = {say(q)}, interval arithmetic puts {name} only "
                f"between {low:.4g} and {high:.4g} (a pole, a singularity, a value beyond the double range, a feature "
                "too narrow to enclose, or a formula too long to enclose finely here); its expectations cannot be "
                "certified"
            )


def confirm(act: Any, variances: list[Any]) -> None:
    """A formula activation's E[φ²] and E[φ′²] from the quadrature (as the theory computes
    them) checked against their enclosures at each variance given (those > 0 and finite)."""
    if not act.exprs:
        return
    import gmpy2

    from .activations import working_precision
    from .quadrature import Unsettled, _level, expectations

    dps = 30
    for q in dict.fromkeys(float(v) for v in variances if v is not None):
        if not (0 < q < INF):
            continue
        with working_precision(dps):
            try:
                e2, d2, _ = expectations(act, _level(dps), dps).at(gmpy2.mpfr(q))
            except Unsettled:
                continue  # the theory itself refines or refuses this one
        check(act, q, (e2, d2), lambda v: f"{float(v):.6g}")
