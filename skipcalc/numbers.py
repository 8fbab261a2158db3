"""The one place that reads user numbers exactly and writes them back.

Every number a user types becomes a :class:`fractions.Fraction` (0.1 is 1/10).
Every number skipcalc prints goes through :func:`show`, which never produces float
noise and never underflows: a value is printed as a terminating decimal, a
fraction p/q, or - only when neither fits in 40 digits - correctly rounded to 40
significant digits and marked as rounded.

Values that cannot be exact (a logarithm in a loss, a transcendental layer) are
carried as :class:`decimal.Decimal` holding more digits than are printed; a
Decimal is always shown as rounded.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple, Union

Number = Union[Fraction, Decimal]
"""An exact value (Fraction) or an approximation carrying its own digits (Decimal)."""

SIGNIFICANT = 40
"""Digits kept when a value must be rounded (and the most a decimal/fraction may use)."""

MAX_TEXT = 1000
"""Longest number text accepted, in characters."""

MAX_EXPONENT = 100_000
"""Largest |exponent| accepted in scientific notation (1e-100000 is fine, 1e-100001 is not)."""

MAX_EXACT_DIGITS = 3_000_000
"""Largest exact value skipcalc builds (numerator and denominator digits together): a
million layers of 0.1 is 1,000,001 digits; beyond a few million, a single multiplication
or rounding of the result takes seconds."""

MAX_E = 10**15  # Decimal exponent range for carried approximations

ACCEPTED = "a decimal (0.1, -2.5, 1e-3, +4) or a fraction (1/3)"

# ASCII digits only: int() would also accept other scripts' digits, which we refuse.
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_RATIO = re.compile(r"([+-]?)([0-9]+)/([0-9]+)")


class InputError(ValueError):
    """A user-supplied value that skipcalc refuses; the message names the argument."""


def parse_number(text: str, name: str) -> Fraction:
    """Read ``text`` exactly. ``name`` is the argument it came from, for the error message."""
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    value = _parse(text, name)
    if len(_PARSED) < 4096:
        _PARSED[text] = value
    return value


_PARSED: dict[str, Fraction] = {}  # long chains repeat their texts; only accepted ones are kept


def parse_numbers(texts: Sequence[str], name: str) -> list[Fraction]:
    """parse_number of each text, the i-th named f"{name}{i}" (from 1) in an error. Each
    distinct text is read once: a long chain repeats a few."""
    known: dict[str, Fraction] = {}
    for text in dict.fromkeys(texts):
        try:
            known[text] = parse_number(text, name)
        except InputError:
            parse_number(text, f"{name}{texts.index(text) + 1}")  # raises, naming its first place
            raise
    return list(map(known.__getitem__, texts))


def _parse(text: str, name: str) -> Fraction:
    stripped = text.strip()
    if len(stripped) > MAX_TEXT:
        raise InputError(f"{name}: a number of {len(stripped)} characters is longer than the {MAX_TEXT} accepted")
    ratio = _RATIO.fullmatch(stripped)
    if ratio:
        sign, num, den = ratio.groups()
        if int(den) == 0:
            raise InputError(f"{name}: {text!r} divides by zero; expected {ACCEPTED}")
        value = Fraction(int(num), int(den))
        return -value if sign == "-" else value
    match = _DECIMAL.fullmatch(stripped)
    if not match or not (match.group(2) or match.group(3)):
        raise InputError(f"{name}: {_quote(text)} is not a number; expected {ACCEPTED}")
    sign, whole, frac, exp = match.groups()
    frac = frac or ""
    exponent = int(exp) if exp else 0
    if abs(exponent) > MAX_EXPONENT:
        raise InputError(f"{name}: exponent {exponent} is outside the accepted range -{MAX_EXPONENT}..{MAX_EXPONENT}")
    digits = int((whole or "0") + frac)
    scale = exponent - len(frac)
    if sign == "-":
        digits = -digits
    if scale >= 0:
        return coprime_fraction(digits * 10**scale, 1)
    power = 10**-scale
    common = math.gcd(digits, power)
    return coprime_fraction(digits // common, power // common)


INT_TEXT_DIGITS = 200_000
"""CPython refuses str() of ints over 4300 digits (a guard against quadratic work). An
input may be a 100,001-digit fraction (1e-100000) that SymPy prints in a closed form, so
the command line allows this much; skipcalc's own writer never calls str() on more."""


def allow_long_int_text() -> None:
    """Called by the command line (not on import: library users keep their own setting)."""
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(INT_TEXT_DIGITS)


def check_exact_size(bits: int, name: str, what: str, limit: int = MAX_EXACT_DIGITS) -> None:
    """Refuse, naming the limit, an exact computation whose result would have ``bits`` bits."""
    digits = int(bits * 0.30102999566398120)
    if digits > limit:
        raise InputError(
            f"{name}: {what} would have about {digits:,} digits, more than the {limit:,} "
            "skipcalc computes exactly; use fewer layers or numbers with smaller exponents"
        )


def _quote(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return repr(shown)


def coprime_fraction(numerator: int, denominator: int) -> Fraction:
    """A Fraction from parts known to be coprime (denominator > 0), skipping the gcd, which
    is quadratic in their size: a million-layer product has million-digit parts."""
    value = object.__new__(Fraction)
    value._numerator, value._denominator = numerator, denominator  # type: ignore[attr-defined]
    return value


# ---------------------------------------------------------------------------
# Writing numbers back


class Shown(NamedTuple):
    """A printed number: its text, and whether that text is the exact value."""

    text: str
    exact: bool


def show(value: Number, exact: bool = False, digits: int = SIGNIFICANT) -> Shown:
    """The text for ``value``.

    A terminating decimal with at most ``digits`` significant digits prints as such
    (1.331, 1e-1000); otherwise a fraction p/q whose parts have at most ``digits``
    digits (1/3); otherwise the value correctly rounded (half to even) to ``digits``
    significant digits in scientific notation, with ``exact=False``.
    ``exact=True`` prints any Fraction whole (as a decimal when it terminates).
    """
    if isinstance(value, Decimal):
        return Shown(_decimal_approximation(value, digits), False)
    # Cached on the integer parts (hashing a Fraction costs a modular inverse): long chains
    # repeat their values, 0.1 a million times.
    return show_parts(value.numerator, value.denominator, exact, digits)


@lru_cache(maxsize=4096)
def show_parts(numerator: int, denominator: int, exact: bool = False, digits: int = SIGNIFICANT) -> Shown:
    """show() of numerator/denominator, given in lowest terms (denominator > 0)."""
    if not numerator:
        return Shown("0", True)
    # With --exact, or when both parts fit in ``digits`` (most values: no rounding needed),
    # the text is the terminating decimal if there is one, else p/q.
    limit = 10**digits
    if exact or (denominator < limit and -limit < numerator < limit):
        decimal = terminating(numerator, denominator)
        if decimal is None:
            return Shown(f"{_int_text(numerator)}/{_int_text(denominator)}", True)
        if exact or decimal[1] < limit:
            return Shown(_decimal_text(*decimal), True)
    # Rounding is exact precisely when the value is a decimal of <= digits digits; the
    # division behind it has a short quotient, so this is cheap even for 10**-1000000.
    value = coprime_fraction(numerator, denominator)
    sign, coefficient, exponent, was_exact = round_significant(value, digits)
    if not was_exact and _at_most_digits(abs(numerator), digits) and _at_most_digits(denominator, digits):
        return Shown(f"{numerator}/{denominator}", True)
    return Shown(_decimal_text(sign, coefficient, exponent), was_exact)


def to_decimal(value: Fraction, context: Context) -> Decimal:
    """``value`` as a Decimal carrying ``context.prec`` significant digits (correctly rounded)."""
    return context.divide(Decimal(value.numerator), Decimal(value.denominator))


def _decimal_approximation(value: Decimal, digits: int) -> str:
    """A carried approximation rounded to ``digits`` (or the digits it has), in the same
    notation as exact values, using Decimal's own C formatting: a Fraction of 1e-15000
    would build a 15000-digit integer, and long chains print a million of these."""
    return decimal_texts((value,), digits)[0]


def decimal_texts(values: Sequence[Decimal], digits: int = SIGNIFICANT) -> list[str]:
    """The text of each carried Decimal, for a million per-layer values at a time: the
    same rule as show(), in bulk (rounding by the context and str() mapped over
    them at C speed), fixing one by one only the texts str() writes otherwise."""
    rounded = list(map(_context(digits).normalize, values))
    with localcontext(_LOWER_E):
        texts = list(map(str, rounded))
    adjusted = list(map(Decimal.adjusted, rounded))
    # str() of a normalized Decimal is scientific (1.2e-7, 1.2e+21) where show() is, and
    # plain from 1e-6 to 1e20, except: 1.2e+2 (a positive exponent: show() writes 120),
    # plain digits from 1e21 on (at most ``digits`` of them: show() writes 1.2e21), -0.
    top = max(digits, 21)
    for i in [i for i, a in enumerate(adjusted) if -7 < a < top]:
        value, text = rounded[i], texts[i]
        if not value:
            texts[i] = "0"
        elif adjusted[i] < 21:
            if "e" in text:
                texts[i] = format(value, "f")
        elif "e" not in text:
            texts[i] = format(value, "e")
    if max(adjusted, default=0) > 0:  # some are 1.2e+21: show() writes 1.2e21
        texts = [text.replace("e+", "e") for text in texts]  # a text without e+ is kept, not copied
    return texts


_LOWER_E = Context(capitals=0)


def per_object(values: Sequence[Any], function: Callable[[Any], Any]) -> list[Any]:
    """[function(v) for v in values], called once per distinct object: a long chain repeats
    a few (the parser hands out one object per text), and the lookups run at C speed."""
    distinct = dict(zip(map(id, values), values, strict=True))
    made = {key: function(value) for key, value in distinct.items()}
    return list(map(made.__getitem__, map(id, values)))


@lru_cache(maxsize=64)
def _context(precision: int) -> Context:
    return Context(prec=precision, rounding=ROUND_HALF_EVEN, Emin=-MAX_E, Emax=MAX_E)


def terminating(numerator: int, q: int) -> tuple[int, int, int] | None:
    """(sign, coefficient, exponent) with numerator/q = sign * coefficient * 10**exponent
    and no trailing zeros in coefficient, or None if the decimal expansion does not end
    (numerator/q in lowest terms, q > 0)."""
    twos = (q & -q).bit_length() - 1
    rest = q >> twos
    fives = 0 if rest == 1 else _five_power(rest)
    if fives is None:
        return None
    k = max(twos, fives)
    coefficient = abs(numerator)
    if k > twos:
        coefficient <<= k - twos
    if k > fives:
        coefficient *= 5 ** (k - fives)
    # numerator is coprime to q, so trailing zeros can only appear when q == 1.
    zeros = valuation(coefficient, 10) if q == 1 else 0
    return (-1 if numerator < 0 else 1, coefficient // 10**zeros if zeros else coefficient, zeros - k)


def _five_power(n: int) -> int | None:
    """b when n == 5**b, else None; found from the bit length, not by dividing."""
    guess = int((n.bit_length() - 1) / 2.321928094887362)  # log2(5)
    for b in (guess - 1, guess, guess + 1):
        if b >= 0 and 5**b == n:
            return b
    return None


def valuation(n: int, p: int) -> int:
    """The exponent of ``p`` (2, 5 or 10) in ``n`` (n != 0), in O(log) big divisions."""
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


def _at_most_digits(n: int, digits: int) -> bool:
    return n.bit_length() <= 4 * digits and n < 10**digits  # the bit test spares 10**huge


def round_significant(value: Fraction, digits: int) -> tuple[int, int, int, bool]:
    """(sign, coefficient, exponent, exact): value correctly rounded (half to even) to
    ``digits`` significant digits, coefficient without trailing zeros; ``exact`` says
    the rounding lost nothing."""
    if value == 0:
        return (1, 0, 0, True)
    sign = -1 if value < 0 else 1
    p, q = abs(value.numerator), value.denominator
    # e = floor(log10(p/q)) from the logs of the exact integers (accurate to ~1e-10 even for
    # million-digit parts), taken low by at most one: one power of ten, one division, and
    # an extra digit, if any, rounded off exactly below.
    e = math.floor(math.log10(p) - math.log10(q) - 1e-6)
    shift = digits - 1 - e  # value * 10**shift has `digits` or `digits + 1` integer digits
    scale = pow10(abs(shift))
    num, den = (p * scale, q) if shift >= 0 else (p, q * scale)
    coefficient, remainder = divmod(num, den)
    if coefficient >= 10**digits:  # e was one low: drop the extra digit, keeping the rest exact
        coefficient, last = divmod(coefficient, 10)
        shift -= 1
        above, tie = last > 5 or (last == 5 and remainder > 0), last == 5 and remainder == 0
        remainder = last * den + remainder  # nonzero exactly when anything was dropped
    else:
        twice = 2 * remainder
        above, tie = twice > den, twice == den
    if above or (tie and coefficient % 2 == 1):
        coefficient += 1
    zeros = valuation(coefficient, 10)
    return (sign, coefficient // 10**zeros, zeros - shift, remainder == 0)


_POWERS: dict[int, int] = {}


def pow10(k: int) -> int:
    """10**k, derived from the nearest power already made when k is large: printing a
    chain's per-layer values (1e-300000, 1e-299000, ...) then costs a multiplication or an
    exact division by a small power each, instead of a fresh power of 300,000 digits."""
    if k < 2000:
        return 10**k
    value = _POWERS.get(k)
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


def _decimal_text(sign: int, coefficient: int, exponent: int) -> str:
    """Plain notation while the leading digit is between 1e-6 and 1e20, else scientific."""
    return _digits_text("-" if sign < 0 and coefficient else "", _int_text(coefficient), exponent)


def _digits_text(minus: str, text: str, exponent: int) -> str:
    """_decimal_text of the coefficient's digits ``text``."""
    adjusted = exponent + len(text) - 1
    if -7 < adjusted < 21:
        if exponent >= 0:
            return minus + text + "0" * exponent
        point = len(text) + exponent
        if point > 0:
            return minus + text[:point] + "." + text[point:]
        return minus + "0." + "0" * -point + text
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}e{adjusted}"


def show_scaled(mantissa: int, scale: int, exact: bool = False, digits: int = SIGNIFICANT) -> str:
    """show(mantissa / 10**scale).text (scale >= 0), from the digits of ``mantissa``: the
    product of decimals is a decimal, printed without a gcd when it has few digits."""
    if not mantissa:
        return "0"
    if mantissa.bit_length() < 13000:  # under CPython's str() limit
        text = str(abs(mantissa))
        stripped = text.rstrip("0")
        if exact or len(stripped) <= digits:
            return _digits_text("-" if mantissa < 0 else "", stripped, len(text) - len(stripped) - scale)
    power = pow10(scale)
    common = math.gcd(mantissa, power)
    return show_parts(mantissa // common, power // common, exact, digits).text


_STR_LIMIT = 10**4000


def _int_text(n: int) -> str:
    """str() that also works beyond CPython's 4300-digit limit (--exact on huge values)."""
    if -_STR_LIMIT < n < _STR_LIMIT:
        return str(n)
    return format(Decimal(n), "f")


def to_float(value: Number) -> float | None:
    """The nearest double, or None when the value is outside double range
    (an overflow, or a nonzero value that would underflow to 0)."""
    try:
        result = float(value)
    except OverflowError:
        return None
    if math.isinf(result) or (result == 0 and value != 0):
        return None
    return result


def log10_abs(value: Number) -> float | None:
    """log10 of |value|, computed from the exact parts so 1e-1000 gives -1000; None for 0."""
    if value == 0:
        return None
    near = to_float(value)
    if near is not None and abs(near) >= sys.float_info.min:
        return math.log10(abs(near))  # a normal double: as accurate as log10 gets
    exact = Fraction(value)
    return math.log10(abs(exact.numerator)) - math.log10(exact.denominator)
