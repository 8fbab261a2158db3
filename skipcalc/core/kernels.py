"""The exact big-integer and Decimal kernels: speed tricks, kept apart from the math they speed up.

Each function here computes something stated plainly elsewhere, only faster; the tests
check each against its plain statement (tests/test_kernels.py):

- :func:`coprime` builds a Fraction from parts known to be in lowest terms, skipping the gcd
  (quadratic in the size of million-digit parts): ``Fraction(n, d)``.
- :func:`map_distinct` calls a function once per distinct object of a long list, with the
  lookups at C speed: ``[f(v) for v in values]``.
- :func:`product` multiplies as a balanced tree, repeated factors as one power, cancelling
  small primes at the leaves: ``math.prod(values)``.
- :func:`suffix_products` and :func:`carried_product` carry long chains' products with 60
  significant digits: ``[upstream * prod(values[k:]) for k in range(n + 1)]``.
- :func:`round_carried` and :func:`decimal_texts` round and write a million carried Decimals at
  once: ``[show(v).text for v in values]``.
- :func:`pow10` derives 10**k from a nearby power already made: ``10**k``.

Nothing here imports the rest of skipcalc, except core/errors.py for one refusal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from fractions import Fraction
from functools import cache, lru_cache, reduce
from itertools import accumulate, compress, repeat
from operator import add, and_, attrgetter, eq, gt, is_, itemgetter, lt, methodcaller, ne
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def coprime(numerator: int, denominator: int) -> Fraction:
    """Fraction(numerator, denominator) for parts already in lowest terms (denominator > 0)."""
    value = object.__new__(Fraction)
    value._numerator, value._denominator = numerator, denominator  # type: ignore[attr-defined]
    return value


def plus_one(value: Fraction) -> Fraction:
    """1 + value, without a gcd: (n + d)/d is in lowest terms when n/d is."""
    return coprime(value.numerator + value.denominator, value.denominator)


def map_distinct(function: Callable[[T], U], values: Sequence[T]) -> list[U]:
    """[function(v) for v in values], calling ``function`` once per distinct object: a long
    chain repeats a few (the number reader hands out one object per text)."""
    if values and all(map(is_, values, repeat(values[0]))):  # stops at the first other object
        return [function(values[0])] * len(values)  # one value repeated (--layers): no lookups at all
    distinct = dict(zip(map(id, values), values, strict=True))
    if len(distinct) > len(values) // 2:  # mostly distinct: the lookups would cost more than they save
        return list(map(function, values))
    made = {key: function(value) for key, value in distinct.items()}
    return list(map(made.__getitem__, map(id, values)))


# ---------------------------------------------------------------------------
# Products

Groups = list[tuple[int, int, int]]
"""(numerator, denominator, count) per distinct factor, each in lowest terms."""


def groups(values: Sequence[Fraction]) -> Groups:
    counts = Counter(map(id, values))
    first = dict(zip(map(id, values), values, strict=True))
    return [(first[key].numerator, first[key].denominator, count) for key, count in counts.items()]


def product(values: Sequence[Fraction]) -> Fraction:
    """math.prod(values, start=Fraction(1)), as a balanced tree of integers (a repeated factor
    is one power), so a million factors cost a few big multiplications, not a million growing
    ones. The final gcd would be quadratic in the result's size (30 s for a million factors of
    0.1); when every denominator is made of primes below 1000 - decimals are 2s and 5s - the
    common factors are cancelled at the leaves instead, by counting each prime on both sides."""
    if len(values) <= 16:  # a short chain: one gcd at the end
        return Fraction(math.prod([v.numerator for v in values]), math.prod([v.denominator for v in values]))
    return product_of(groups(values))


def short_product(values: Sequence[Fraction], skip: bool, upstream: Fraction) -> Fraction:
    """upstream * math.prod(1 + v if skip else v for v in values) for a short list (a --batch
    line): the numerators (n + d when skip: 1 + n/d = (n + d)/d, still in lowest terms) and the
    denominators multiplied as integers, one gcd at the end, no Fraction per factor."""
    nums = [v._numerator for v in values]  # type: ignore[attr-defined]
    dens = [v._denominator for v in values]  # type: ignore[attr-defined]
    if skip:
        nums = list(map(add, nums, dens))
    return Fraction(math.prod(nums, start=upstream._numerator), math.prod(dens, start=upstream._denominator))  # type: ignore[attr-defined]


class ValueLines:
    """--batch --format value lines of chain/backprop through plain and residual networks,
    straight from integers: for each number text (read once, by the one number reader) its
    numerator n, denominator d and n + d; a network's gradient is then
    upstream * prod(n) / prod(d) (plain) or upstream * prod(n + d) / prod(d) (residual), one
    gcd, written by the one writer (exact.show_parts, what exact.show calls). A line it does not
    take (more than 64 layers,
    a number above 64 bits, anything that is not a number) returns None and goes the general
    way, errors included; tests/test_kernels.py checks the two agree line by line."""

    LAYERS = 64
    REPEATED = 4096  # layers after --layers repeats a line (powers of at most 64 numbers)
    BITS = 64
    KEPT = 100_000
    """Most number texts remembered at once."""

    def __init__(
        self,
        skips: Sequence[bool],
        upstream: Fraction,
        read: Callable[[str], Fraction],
        text: Callable[[int, int], str],
    ) -> None:
        self.skips = skips  # per network: residual (True) or plain
        self.upstream = upstream
        self.read = read  # the one number reader: raises for a text that is not a number
        self.text = text
        self.parts: dict[str, tuple[int, int, int]] = {}

    def __call__(self, line: str, repeat: int = 1) -> str | None:
        """The value line of ``line``'s derivatives (repeated ``repeat`` times: --layers)."""
        found = self.texts(line, repeat)
        return None if found is None else "\t".join(found) + "\n"

    def texts(self, line: str, repeat: int = 1) -> list[str] | None:
        """Each network's gradient as the one writer writes it (a csv row's cells)."""
        found = self.pairs(line, repeat)
        return None if found is None else [self.text(n, d) for n, d in found]

    def gradients(self, line: str, repeat: int = 1) -> list[Fraction] | None:
        """Each network's gradient as a Fraction (None: a line the general way takes)."""
        found = self.pairs(line, repeat)
        return None if found is None else [coprime(n, d) for n, d in found]

    def pairs(self, line: str, repeat: int = 1) -> list[tuple[int, int]] | None:
        """Each network's gradient as (numerator, denominator) in lowest terms, or None for a
        line the general way takes."""
        words = line.split()
        if not words or len(words) > self.LAYERS or len(words) * repeat > self.REPEATED:
            return None
        try:
            parts = list(map(self.parts.__getitem__, words))
        except KeyError:
            if not self._learn(words):
                return None
            parts = list(map(self.parts.__getitem__, words))
        dens = math.prod([p[1] for p in parts]) ** repeat * self.upstream.denominator
        out = []
        for skip in self.skips:
            nums = math.prod([p[2] if skip else p[0] for p in parts]) ** repeat * self.upstream.numerator
            common = math.gcd(nums, dens)
            out.append((nums // common, dens // common))
        return out

    def _learn(self, words: list[str]) -> bool:
        from .errors import InputError

        if len(self.parts) + len(words) > self.KEPT:  # a bound on memory, not a limit on input:
            self.parts.clear()  # cleared before a line, so every word of the line stays known
        for word in words:
            if word in self.parts:
                continue
            try:
                value = self.read(word)
            except InputError:
                return False  # the general way words the error
            n, d = value.numerator, value.denominator
            if max(abs(n).bit_length(), d.bit_length()) > self.BITS:
                return False
            self.parts[word] = (n, d, n + d)
        return True


def parts_bits(values: Sequence[Fraction]) -> int:
    """sum(v.numerator.bit_length() + 2 * v.denominator.bit_length()), at C speed."""
    numerators: list[int] = [v._numerator for v in values]  # type: ignore[attr-defined]
    denominators: list[int] = [v._denominator for v in values]  # type: ignore[attr-defined]
    return sum(map(int.bit_length, map(abs, numerators))) + 2 * sum(map(int.bit_length, denominators))


def product_of(parts: Groups) -> Fraction:
    if any(n == 0 for n, _, _ in parts):
        return Fraction(0)
    if sum(c for _, _, c in parts) <= 64:
        return reduced(_tree([n**c for n, _, c in parts]), _tree([d**c for _, d, c in parts]))
    primes = _small_prime_support([d for _, d, _ in parts])
    if primes is None:
        return reduced(_tree([n**c for n, _, c in parts]), _tree([d**c for _, d, c in parts]))
    nums = [(n, c) for n, _, c in parts]
    dens = [(d, c) for _, d, c in parts]
    for p in primes:
        cancel = min(_total_valuation(nums, p), _total_valuation(dens, p))
        if cancel:
            nums = _divide_out(nums, p, cancel)
            dens = _divide_out(dens, p, cancel)
    return coprime(_tree([n**c for n, c in nums]), _tree([d**c for d, c in dens]))


def _tree(values: list[int]) -> int:
    if not values:
        return 1
    while len(values) > 1:
        paired = [a * b for a, b in zip(values[::2], values[1::2], strict=False)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


BIG = 20_000
"""Bits from which gcd and exact division go to GMP (gmpy2): CPython's are quadratic (5 s for
the gcd of two million-digit numbers, against 0.16 s)."""


def gcd(a: int, b: int) -> int:
    """math.gcd(a, b), by GMP for big numbers."""
    if max(a.bit_length(), b.bit_length()) < BIG:
        return math.gcd(a, b)
    import gmpy2

    return int(gmpy2.gcd(a, b))


def quotient(a: Any, b: Any) -> Fraction | Decimal:
    """a / b: exact for Fractions, else with CARRIED precision (b not 0)."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return multiply(a, reciprocal(b))
    return CARRIED.divide(to_carried(a), to_carried(b))


def reduced(numerator: int, denominator: int) -> Fraction:
    """Fraction(numerator, denominator) (denominator > 0), the gcd by GMP when they are big."""
    common = gcd(numerator, denominator)
    if common == 1:
        return coprime(numerator, denominator)
    if max(numerator.bit_length(), denominator.bit_length()) >= BIG:
        import gmpy2

        return coprime(int(gmpy2.mpz(numerator) // common), int(gmpy2.mpz(denominator) // common))
    return coprime(numerator // common, denominator // common)


def multiply(a: Fraction, b: Fraction) -> Fraction:
    """a * b, cross-reducing as Fraction does, the gcds by GMP when the parts are big."""
    g1, g2 = gcd(a.numerator, b.denominator), gcd(b.numerator, a.denominator)
    return coprime((a.numerator // g1) * (b.numerator // g2), (a.denominator // g2) * (b.denominator // g1))


def reciprocal(a: Fraction) -> Fraction:
    """1 / a (a != 0), without a gcd: the parts stay coprime."""
    return coprime(a.denominator, a.numerator) if a.numerator > 0 else coprime(-a.denominator, -a.numerator)


def fraction(numerator: int, denominator: int) -> Fraction:
    """Fraction(numerator, denominator) (denominator > 0), reduced without a gcd of big parts
    when the denominator is made of primes below 1000 (decimal inputs give 2s and 5s): a gcd
    is quadratic in the parts' size (0.08 s at 100,000 digits)."""
    if denominator.bit_length() < 4000:
        return Fraction(numerator, denominator)
    primes = _small_prime_support([denominator]) if denominator.bit_length() < 10**7 else None
    if primes is None or not numerator:
        return reduced(numerator, denominator)
    for p in primes:
        k = min(valuation(numerator, p), valuation(denominator, p))
        if k:
            power = p**k
            numerator, denominator = numerator // power, denominator // power
    return coprime(numerator, denominator)


def rounded_ratio(a: int, b: int, bits: int) -> Any:
    """a / b: an exact Fraction while both have at most ``bits`` bits, else carried (60 digits)."""
    if max(abs(a).bit_length(), abs(b).bit_length()) <= bits:
        return Fraction(a, b)
    return _carried_ratio(a, b)


def _carried_ratio(a: int, b: int) -> Decimal:
    """a / b with CARRIED precision, from the leading 256 bits of each (relative error below
    2^-250) and a power of two: converting million-digit integers to Decimal is slow."""
    sa, sb = max(abs(a).bit_length() - 256, 0), max(abs(b).bit_length() - 256, 0)
    quotient = CARRIED.divide(Decimal(_shift(a, sa)), Decimal(_shift(b, sb)))
    return quotient if sa == sb else CARRIED.multiply(quotient, CARRIED.power(Decimal(2), sa - sb))


def _shift(n: int, bits: int) -> int:
    return n >> bits if n >= 0 else -(-n >> bits)


@cache
def _small_primes() -> list[int]:
    """The primes below 1000 (made on first use)."""
    return [p for p in range(2, 1000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def _small_prime_support(values: Sequence[int]) -> list[int] | None:
    """The primes dividing any of ``values`` if all are below 1000, else None."""
    support: set[int] = set()
    for value in set(values):
        for p in _small_primes():
            if value == 1:
                break
            if value % p == 0:
                support.add(p)
                value //= p ** valuation(value, p)
        if value != 1:
            return None
    return sorted(support)


def _small_valuation(n: int, p: int) -> int:
    n, count = abs(n), 0
    while n and n % p == 0:
        n //= p
        count += 1
    return count


def _total_valuation(powers: list[tuple[int, int]], p: int) -> int:
    return sum(count * _small_valuation(base, p) for base, count in powers)


def _divide_out(powers: list[tuple[int, int]], p: int, cancel: int) -> list[tuple[int, int]]:
    """Remove ``cancel`` factors p from base**count leaves: whole copies of a base at a time
    (base / p^v, as a power of its own), and one partial copy."""
    out = []
    for base, count in powers:
        v = _small_valuation(base, p) if cancel else 0
        if not v:
            out.append((base, count))
            continue
        whole = min(count, cancel // v)
        if whole:
            out.append((base // p**v, whole))
            cancel -= whole * v
        rest = count - whole
        if rest and cancel:
            out.append((base // p**cancel, 1))  # cancel < v here
            cancel = 0
            rest -= 1
        if rest:
            out.append((base, rest))
    return out


CARRIED = Context(prec=60, rounding=ROUND_HALF_EVEN, Emin=-(10**17), Emax=10**17)
"""Long chains carry per-layer values with 60 significant digits: n <= 2,000,000 roundings of
relative size 5e-60 each leave a relative error below 1e-53, so at least 50 digits are right."""


_CARRIED_INT = 10**60


class Terminating(Decimal):
    """A carried value that never rounded: an exact decimal (0.1^k carries exactly), so it is
    shown as exact, and marked rounded only where the digits shown round it."""

    __slots__ = ()


class Approx(Decimal):
    """A certified approximation (a mean-field quantity): the value as computed, at working
    precision, with ``error``, a bound on its relative error, and ``cap``, the most significant
    digits it may show (the digits it was certified to). It is rounded once, when shown
    (:func:`approx_rounded`), never from an already rounded text."""

    __slots__ = ("error", "cap")
    error: Decimal
    cap: int

    def __str__(self) -> str:
        """The value as it is shown: rounded once to the digits it was certified to."""
        return str(approx_rounded(self, self.cap))

    def __repr__(self) -> str:
        return f"Approx('{self!s}')"


def approx(value: Any, error: Any, cap: int) -> Approx:
    """An Approx of ``value`` (a Decimal, or anything whose str() is a decimal: an mpfr)."""
    made = Approx(value if isinstance(value, Decimal) else str(value))
    made.error, made.cap = Decimal(error), cap
    return made


def approx_rounded(value: Approx, digits: int) -> Decimal:
    """``value`` correctly rounded to ``digits`` (at most its cap) significant digits: both ends
    of its error interval round to the same digits there, or it is shown with fewer, the most at
    which they do (a value certified to 16 digits is never shown as a rounding of its 16-digit
    text)."""
    wide = _WIDE
    low = wide.multiply(value, wide.subtract(1, value.error))
    high = wide.multiply(value, wide.add(1, value.error))
    for k in range(min(digits, value.cap), 0, -1):
        context = rounding_context(k)
        rounded = context.plus(low)
        if rounded == context.plus(high):
            return context.normalize(rounded)
    return rounding_context(1).normalize(value)


def suffix_products(factors: Sequence[Any], upstream: Any) -> tuple[list[Any], bool]:
    """([upstream * prod(factors[k:]) for k in 0..n], all exact) as Decimals with CARRIED
    precision (both ends as given). The values from the output side that never round (decimal
    factors whose products fit 60 digits: 0.1^k) are kept as Terminating: accumulated in chunks
    at C speed while the context's Inexact flag stays clear, the chunk where it is raised redone
    step by step to find the first rounding; from there one accumulate carries the rest."""
    steps = _carried_steps(factors[::-1])
    start, exact = _carried_and_exact(upstream)
    values = [start]
    if exact:
        context = CARRIED.copy()
        exact_steps = list(map(itemgetter(1), steps))
        stop = exact_steps.index(False) if False in exact_steps else len(steps)
        plain = list(map(itemgetter(0), steps[:stop]))
        for begin in range(0, stop, 4096):
            chunk = plain[begin : begin + 4096]
            context.clear_flags()
            products = list(accumulate(chunk, context.multiply, initial=values[-1]))[1:]
            if not context.flags[Inexact]:
                values.extend(products)
                continue
            for step in chunk:  # the first rounding is in this chunk: find it
                context.clear_flags()
                product = context.multiply(values[-1], step)
                if context.flags[Inexact]:
                    break
                values.append(product)
            break
    exact_count = len(values) if exact else 0
    rest = list(map(itemgetter(0), steps[len(values) - 1 :]))
    values.extend(list(accumulate(rest, CARRIED.multiply, initial=values[-1]))[1:])
    values[:exact_count] = map(Terminating, values[:exact_count])
    values[0] = upstream
    values.reverse()
    return values, exact_count == len(values)


def _carried_steps(values: Sequence[Any]) -> list[tuple[Decimal, bool]]:
    """_carried_and_exact of each value; integers of at most 60 digits in bulk, at C speed."""
    if set(map(type, values)) == {Fraction} and all(map(eq, map(attrgetter("denominator"), values), repeat(1))):
        numerators = list(map(attrgetter("numerator"), values))
        if max(map(abs, numerators), default=0) < _CARRIED_INT:
            return list(zip(map(Decimal, numerators), repeat(True)))
    return map_distinct(_carried_and_exact, values)


def _carried_and_exact(value: Any) -> tuple[Decimal, bool]:
    """``value`` with CARRIED precision, and whether that is exact."""
    if isinstance(value, Decimal):
        return CARRIED.plus(value), isinstance(value, Terminating)
    if value.denominator == 1 and -_CARRIED_INT < value.numerator < _CARRIED_INT:
        return Decimal(value.numerator), True  # an integer of at most 60 digits: exact as it is
    if value.denominator.bit_length() > 400 or value.numerator.bit_length() > 400:
        return to_carried(value), False
    context = CARRIED.copy()
    context.clear_flags()  # a copy keeps the flags CARRIED has gathered
    carried = context.divide(Decimal(value.numerator), Decimal(value.denominator))
    return carried, not context.flags[Inexact]


def carried_product(factors: Sequence[Any], upstream: Any) -> Decimal:
    """upstream * prod(factors) with CARRIED precision: a repeated factor as one power (error
    below 1 ulp, plus count times its conversion's), the rest a balanced tree; at most about
    2n roundings of 5e-60 each, so the relative error stays below 1e-53."""
    counts = Counter(map(id, factors))
    if len(counts) > len(factors) // 4:  # mostly distinct: one product along the chain, at C speed
        return reduce(CARRIED.multiply, map(to_carried, factors), to_carried(upstream))
    first = dict(zip(map(id, factors), factors, strict=True))
    values = [CARRIED.power(to_carried(first[key]), count) for key, count in counts.items()]
    values.append(to_carried(upstream))
    while len(values) > 1:
        paired = [CARRIED.multiply(a, b) for a, b in zip(values[::2], values[1::2], strict=False)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


def to_carried(value: Any) -> Decimal:
    """A Fraction (or Decimal) with CARRIED precision."""
    if isinstance(value, Decimal):
        return CARRIED.plus(value)
    n, d = value.numerator, value.denominator
    if d == 1 and -_CARRIED_INT < n < _CARRIED_INT:
        return Decimal(n)  # an integer of at most 60 digits: exact as it is
    return _carried_ratio(n, d)


# ---------------------------------------------------------------------------
# Text


@lru_cache(maxsize=64)
def rounding_context(digits: int) -> Context:
    return Context(prec=digits, rounding=ROUND_HALF_EVEN, Emin=-(10**17), Emax=10**17)


_LOWER_E = Context(capitals=0)
_WIDE = Context(prec=64, Emin=-(10**17), Emax=10**17)
_BELOW, _ABOVE = _WIDE.subtract(1, Decimal("1e-50")), _WIDE.add(1, Decimal("1e-50"))


def round_carried(values: Sequence[Decimal], digits: int) -> list[Decimal]:
    """Each carried Decimal (relative error below 1e-50) correctly rounded to ``digits``
    significant digits, or to one digit fewer when its error bound straddles a tie at
    ``digits`` (then the rounding at ``digits - 1`` is decided). In bulk, at C speed: the two
    ends of each value's error interval are rounded, and only where they differ is anything redone."""
    context = rounding_context(digits)
    low = list(map(context.normalize, map(_WIDE.multiply, values, repeat(_BELOW))))
    high = map(context.normalize, map(_WIDE.multiply, values, repeat(_ABOVE)))
    for i in compress(range(len(low)), map(ne, low, high)):
        low[i] = rounding_context(max(digits - 1, 1)).normalize(values[i])
    return low


def decimal_texts(values: Sequence[Decimal], digits: int) -> list[str]:
    """show(v, digits).text for Decimals, in bulk (see decimal_shown)."""
    return decimal_shown(values, digits)[0]


def decimal_shown(values: Sequence[Decimal], digits: int) -> tuple[list[str], list[bool]]:
    """(texts, exact) as show() gives them, for a million Decimals at once: carried ones correctly
    rounded (round_carried) and never exact; Terminating ones exact where they fit ``digits``.
    Rounding and str() are mapped over them at C speed; the few texts str() writes otherwise
    are fixed one by one."""
    approximate = list(map(isinstance, values, repeat(Approx)))
    if any(approximate):  # each rounded once, within its own error bound
        values = [approx_rounded(v, digits) if isinstance(v, Approx) else v for v in values]
    context = rounding_context(digits)
    terminating = list(map(isinstance, values, repeat(Terminating)))
    if all(terminating):  # exact values: their correct rounding, no error bound to widen
        rounded = list(map(context.normalize, values))
    else:
        rounded = round_carried(values, digits)
        for i in compress(range(len(values)), terminating):
            rounded[i] = context.normalize(values[i])
    same = list(map(eq, rounded, values))  # nothing rounded off
    exact = same if all(terminating) else [t and e for t, e in zip(terminating, same, strict=True)]
    with localcontext(_LOWER_E):
        texts = list(map(str, rounded))
    adjusted = list(map(Decimal.adjusted, rounded))
    # str() of a normalized Decimal is scientific below 1e-6, as show() is. From there on show()
    # writes plain digits while every integer digit is significant (below 10**digits, and
    # 1e21), else scientific - rounded digits are never padded with zeros - and 0 for -0.
    # A normalized value of at most 60 digits from 1e61 on is written by str() as show() writes
    # it (1.2e+70, but for the +); below that, the texts may differ and are checked one by one.
    near = map(and_, map(gt, adjusted, repeat(-7)), map(lt, adjusted, repeat(61)))
    for i in compress(range(len(adjusted)), near):
        value = rounded[i]
        if not value:
            texts[i] = "0"
        elif adjusted[i] >= (21 if exact[i] else min(digits, 21)):
            texts[i] = format(value, "e")
        elif "e" in texts[i]:
            texts[i] = format(value, "f")
    if max(adjusted, default=0) > 0:
        texts = list(map(methodcaller("replace", "e+", "e"), texts))
    return texts, exact


_POWERS: dict[int, int] = {}


def pow10(k: int) -> int:
    """10**k, derived from the nearest power already made when k is large: printing a chain's
    per-layer values (1e-300000, 1e-299000, ...) then costs a multiplication or an exact
    division by a small power each, instead of a fresh power of 300,000 digits."""
    if k < 2000:
        return int(10**k)
    value: int | None = _POWERS.get(k)
    if value is None:
        near = min(_POWERS, key=lambda j: abs(j - k), default=None)
        if near is None or abs(near - k) > k // 2:
            value = 10**k
        elif near < k:
            value = _POWERS[near] * 10 ** (k - near)
        else:
            value = _POWERS[near] // 10 ** (near - k)  # exact
        if len(_POWERS) >= 64:
            _POWERS.pop(next(iter(_POWERS)))
        _POWERS[k] = value
    return value


def five_power(n: int) -> int | None:
    """b when n == 5**b, else None; found from the bit length, not by dividing."""
    guess = int((n.bit_length() - 1) / 2.321928094887362)  # log2(5)
    for b in (guess - 1, guess, guess + 1):
        if b >= 0 and 5**b == n:
            return b
    return None


def valuation(n: int, p: int) -> int:
    """The exponent of ``p`` in ``n`` (n != 0), in O(log) big divisions."""
    if n == 0:
        return 0
    if p == 2:
        return (n & -n).bit_length() - 1
    if n % p:
        return 0
    count = 0
    powers = [p]
    while n % powers[-1] == 0:
        n //= powers[-1]
        count += 1 << (len(powers) - 1)
        powers.append(powers[-1] * powers[-1])
    for i in range(len(powers) - 2, -1, -1):
        if n % powers[i] == 0:
            n //= powers[i]
            count += 1 << i
    return count


_STR_LIMIT = 10**4000


def int_text(n: int) -> str:
    """str(n), also beyond CPython's 4300-digit limit (--exact on huge values)."""
    if -_STR_LIMIT < n < _STR_LIMIT:
        return str(n)
    return format(Decimal(n), "f")


def log10_fraction(value: Fraction) -> float:
    """log10 of a positive Fraction of any size (math.log10 takes big ints whole)."""
    return math.log10(value.numerator) - math.log10(value.denominator)
