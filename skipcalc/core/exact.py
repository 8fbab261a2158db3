"""The one place that reads user numbers exactly and writes numbers back.

Every number a user types becomes a :class:`fractions.Fraction` (0.1 is 1/10). Every number
skipcalc prints goes through :func:`show`, which never produces float noise and never
underflows: a value prints as a terminating decimal, as a short fraction p/q where the
output allows one, or correctly rounded to the digits asked for, and says which.

Values that cannot be exact (a logarithm in a loss, a transcendental layer, a product too
large to build) are carried as :class:`decimal.Decimal` with at least 50 correct significant
digits (relative error below 1e-50); they are always shown rounded, and correctly so.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple, Union

from . import kernels
from .errors import InputError

Number = Union[Fraction, Decimal]
"""An exact value (Fraction) or a carried approximation (Decimal, 50 correct digits)."""

SIGNIFICANT = 40
"""Digits of a rounded value in json, csv and value output (--digits changes it)."""

TABLE_DIGITS = 12
"""Digits of a rounded value in a table (--digits changes it)."""

TABLE_FRACTION = 6
"""In a table, a value that does not terminate prints as p/q when p and q have at most this
many digits (1/3, 250/429); json keeps p/q up to --digits digits; csv and value never."""

MAX_TEXT = 1000
"""Longest number text accepted, in characters."""

MAX_EXPONENT = 100_000
"""Largest |exponent| accepted in scientific notation (1e-100000 is fine, 1e-100001 is not)."""

ACCEPTED = "a decimal (0.1, -2.5, 1e-3, +4) or a fraction (1/3)"

# ASCII digits only: int() would also accept other scripts' digits, which we refuse.
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_RATIO = re.compile(r"([+-]?)([0-9]+)/([0-9]+)")


def parse_number(text: str, name: str = "number") -> Fraction:
    """Read ``text`` exactly: a decimal (0.1 is 1/10) or a fraction (1/3). ``name`` is the
    argument it came from, for the error message. The same text gives the same object, so
    long chains share their work per distinct value.

    >>> parse_number("0.1")
    Fraction(1, 10)
    >>> parse_number("−2.5e-3")  # a minus sign pasted from a PDF reads as one
    Fraction(-1, 400)
    """
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    value = _parse(text, name)
    if len(_PARSED) < 100_000:
        _PARSED[text] = value
    return value


_PARSED: dict[str, Fraction] = {}  # only accepted texts are kept


def parse_numbers(texts: Sequence[str], name: str) -> list[Fraction]:
    """parse_number of each text; an error names the first bad one f"{name}{i}" (from 1)."""
    if len(texts) > 1000 and all(map(str.isdigit, texts)) and all(map(str.isascii, texts)):
        if max(map(len, texts)) <= MAX_TEXT:  # integers (seq 1 1000000): no patterns to try
            distinct = set(texts)
            if len(distinct) > len(texts) // 2:
                return [kernels.coprime(int(text), 1) for text in texts]
            made = {text: kernels.coprime(int(text), 1) for text in distinct}  # one object per text
            return list(map(made.__getitem__, texts))
    try:
        return [parse_number(text, name) for text in texts]
    except InputError:
        for i, text in enumerate(texts, start=1):
            parse_number(text, f"{name}{i}")  # raises, naming its place
        raise


def _parse(text: str, name: str) -> Fraction:
    if text.isdigit() and text.isascii() and len(text) <= MAX_TEXT:  # an integer: no patterns to try
        return kernels.coprime(int(text), 1)
    stripped = text.strip().replace("\u2212", "-")  # U+2212, the minus sign of typeset text
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
        raise InputError(f"{name}: {quote(text)} is not a number; {_look_alike(stripped)}expected {ACCEPTED}")
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
        return kernels.coprime(digits * 10**scale, 1)
    power = 10**-scale
    common = math.gcd(digits, power)
    return kernels.coprime(digits // common, power // common)


def _look_alike(text: str) -> str:
    """What a text that is almost a number has instead: the hint an error message gives."""
    import unicodedata

    if any(not ch.isascii() and unicodedata.category(ch) == "Nd" for ch in text):
        return "it has digits that are not ASCII 0-9 (a full-width or other script's digit); "
    if any(ch in "\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d" for ch in text):
        return "it has a dash that is not a minus sign (type -); "
    if text.endswith("%"):
        return "a percent is not read; write 10% as 0.1; "
    if "," in text:
        return "a comma is neither a decimal point nor a separator (0.5, not 0,5; numbers apart: 0.1 0.1); "
    return ""


def to_number(value: Any, name: str = "number") -> Fraction:
    """An ordinary Python number, read exactly: a str in the command line's syntax, an int, a
    Fraction or Decimal as they are, and a float from its shortest repr, so 0.1 means 1/10, as
    it was typed (``Fraction(0.1)`` gives the binary value to anyone who wants it). numpy's
    scalars read the same way. nan, infinities, bools, None and complex numbers are refused.

    >>> to_number(0.1), to_number("1/3"), to_number(2)
    (Fraction(1, 10), Fraction(1, 3), Fraction(2, 1))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        return parse_number(value, name)
    if isinstance(value, bool) or value is None:
        raise InputError(f"{name}: {value!r} is not a number; expected {ACCEPTED}, as a str, int, float or Fraction")
    if isinstance(value, int):
        if value.bit_length() > 3 * MAX_TEXT:
            raise InputError(
                f"{name}: an integer of {value.bit_length():,} bits is longer than the {MAX_TEXT} digits accepted"
            )
        return kernels.coprime(value, 1)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"{name}: {value} is not a finite number; expected {ACCEPTED}")
        return parse_number(format(value, "e").replace("e+", "e"), name)
    if type(value).__module__.startswith("torch") and hasattr(value, "numel"):
        return _tensor_number(value, name)
    numpy_scalar = type(value).__module__ == "numpy"
    if isinstance(value, float) and not numpy_scalar:
        if not math.isfinite(value):
            raise InputError(f"{name}: {value!r} is not a finite number; expected {ACCEPTED}")
        return parse_number(repr(value), name)
    import numbers

    if isinstance(value, numbers.Integral):
        return to_number(int(value), name)
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Real):  # numpy's floats: str() is the shortest repr at their own precision
        if not math.isfinite(float(value)):
            raise InputError(f"{name}: {value!r} is not a finite number; expected {ACCEPTED}")
        return parse_number(str(value) if numpy_scalar else repr(float(value)), name)
    if isinstance(value, numbers.Complex):
        raise InputError(f"{name}: {value!r} is complex; gradients here are real numbers")
    raise InputError(f"{name}: {quote(repr(value))} is not a number; expected {ACCEPTED}")


def _tensor_number(value: Any, name: str) -> Fraction:
    """A one-element PyTorch tensor, read as its own format's shortest repr (float64 as a
    float, the narrower floats as float32's, which holds them exactly)."""
    if value.numel() != 1:
        raise InputError(f"{name}: a tensor of {value.numel():,} elements is not one number; give one per layer")
    if value.is_complex():
        raise InputError(f"{name}: {value!r} is complex; expected {ACCEPTED}")
    item = value.detach().cpu().reshape(()).item()
    if not value.dtype.is_floating_point:
        return to_number(int(item), name)
    if str(value.dtype) == "torch.float64":
        return to_number(float(item), name)
    import numpy

    return to_number(numpy.float32(value.detach().cpu().float().reshape(()).item()), name)


def to_numbers(values: Any, name: str) -> list[Fraction]:
    """A sequence of ordinary numbers (a list, tuple, generator or numpy array; or one number
    alone), each read by :func:`to_number`; an error names the first bad one f"{name}{i}"."""
    if isinstance(values, (str, int, float, Fraction, Decimal)) or not hasattr(values, "__iter__"):
        values = [values]
    elif getattr(values, "ndim", None) == 0 and not hasattr(values, "dim"):
        values = [values[()]]  # a 0-d numpy array: its one number, a numpy scalar
    elif hasattr(values, "dim") and callable(values.dim) and values.dim() == 0:
        values = [values]  # a 0-d tensor: one number
    from .limits import MAX_LAYERS

    out: list[Fraction] = []
    iterator = iter(values)
    i = 0
    while True:
        try:
            value = next(iterator)
        except StopIteration:
            return out
        except Exception as error:  # noqa: BLE001 - the caller's generator: its error, named, as bad input
            raise InputError(f"{name}: reading the numbers raised {type(error).__name__}: {error}") from None
        i += 1
        if i > MAX_LAYERS:  # counted while reading: an endless generator is refused, not exhausted
            raise InputError(f"{name}: more than the {MAX_LAYERS:,} numbers one call reads")
        out.append(to_number(value, f"{name}{i}"))


def quote(text: str) -> str:
    """A user's text in an error message: repr'd, and shortened when long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


INT_TEXT_DIGITS = 200_000
"""CPython refuses str() of ints over 4300 digits (a guard against quadratic work). SymPy
prints an input such as 1e-100000 in closed form, so the command line allows this much."""


def allow_long_int_text() -> None:
    """Called by the command line (not on import: library users keep their own setting)."""
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(INT_TEXT_DIGITS)


# ---------------------------------------------------------------------------
# Writing numbers back


class Shown(NamedTuple):
    """A printed number: its text, and whether that text is the exact value."""

    text: str
    exact: bool


def show(value: Number, exact: bool = False, digits: int = SIGNIFICANT, fraction: int | None = None) -> Shown:
    """The text for ``value``: the one display rule.

    - A value that terminates within ``digits`` significant digits prints as a decimal
      (1.331, 1e-1000).
    - Otherwise, when p and q of p/q have at most ``fraction`` digits each (default:
      ``digits``; 0: never), as the fraction (1/3).
    - Otherwise correctly rounded (half to even) to ``digits`` significant digits, and the
      Shown says it is not exact. Rounded digits are never padded with zeros: 6.7e20, not
      670000000000000000000.

    ``exact=True`` prints any Fraction whole: the decimal if it terminates, else p/q.
    A Decimal is a carried approximation, always rounded (to at most 40 digits), unless it
    is a Terminating one: an exact decimal.

    >>> show(Fraction(1331, 1000))
    Shown(text='1.331', exact=True)
    >>> show(Fraction(1, 3), digits=12, fraction=6), show(Fraction(1, 3), digits=5, fraction=0)
    (Shown(text='1/3', exact=True), Shown(text='0.33333', exact=False))
    """
    if isinstance(value, kernels.Terminating) and exact:
        return Shown(decimal_text(*terminating(*Fraction(value).as_integer_ratio())), True)  # type: ignore[misc]
    if isinstance(value, Decimal):
        texts, exact_flags = kernels.decimal_shown([value], min(digits, SIGNIFICANT))
        return Shown(texts[0], exact_flags[0])
    return show_parts(value.numerator, value.denominator, exact, digits, digits if fraction is None else fraction)


@lru_cache(maxsize=16384)
def show_parts(numerator: int, denominator: int, exact: bool, digits: int, fraction: int) -> Shown:
    """show() of numerator/denominator in lowest terms (cached on the integer parts: hashing a
    Fraction costs a modular inverse, and long chains repeat their values)."""
    if not numerator:
        return Shown("0", True)
    limit = 10**digits
    if exact or (denominator < limit and -limit < numerator < limit):
        decimal = terminating(numerator, denominator)
        if decimal is None:
            if exact or (_at_most(abs(numerator), fraction) and _at_most(denominator, fraction)):
                return Shown(f"{kernels.int_text(numerator)}/{kernels.int_text(denominator)}", True)
        elif exact or decimal[1] < limit:
            return Shown(decimal_text(*decimal), True)
    elif fraction and _at_most(abs(numerator), fraction) and _at_most(denominator, fraction):
        if terminating(numerator, denominator) is None:
            return Shown(f"{numerator}/{denominator}", True)
    sign, coefficient, exponent, was_exact = round_significant(kernels.coprime(numerator, denominator), digits)
    return Shown(decimal_text(sign, coefficient, exponent, None if was_exact else digits), was_exact)


def _at_most(n: int, digits: int) -> bool:
    return n.bit_length() <= 4 * digits and n < 10**digits  # the bit test spares 10**huge


def terminating(numerator: int, q: int) -> tuple[int, int, int] | None:
    """(sign, coefficient, exponent) with numerator/q = sign * coefficient * 10**exponent and
    no trailing zeros in coefficient, or None if the decimal expansion does not end
    (numerator/q in lowest terms, q > 0)."""
    twos = (q & -q).bit_length() - 1
    rest = q >> twos
    fives = 0 if rest == 1 else kernels.five_power(rest)
    if fives is None:
        return None
    k = max(twos, fives)
    coefficient = abs(numerator)
    if k > twos:
        coefficient <<= k - twos
    if k > fives:
        coefficient *= 5 ** (k - fives)
    # numerator is coprime to q, so trailing zeros can only appear when q == 1.
    zeros = kernels.valuation(coefficient, 10) if q == 1 else 0
    return (-1 if numerator < 0 else 1, coefficient // 10**zeros if zeros else coefficient, zeros - k)


def round_significant(value: Fraction, digits: int) -> tuple[int, int, int, bool]:
    """(sign, coefficient, exponent, exact): value correctly rounded (half to even) to
    ``digits`` significant digits, coefficient without trailing zeros; ``exact`` says the
    rounding lost nothing."""
    if value == 0:
        return (1, 0, 0, True)
    sign = -1 if value < 0 else 1
    p, q = abs(value.numerator), value.denominator
    # e = floor(log10(p/q)), taken low by at most one: one power of ten, one division, and an
    # extra digit, if any, rounded off exactly below.
    e = math.floor(kernels.log10_fraction(kernels.coprime(p, q)) - 1e-6)
    shift = digits - 1 - e  # value * 10**shift has `digits` or `digits + 1` integer digits
    scale = kernels.pow10(abs(shift))
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
    zeros = kernels.valuation(coefficient, 10)
    return (sign, coefficient // 10**zeros, zeros - shift, remainder == 0)


def decimal_text(sign: int, coefficient: int, exponent: int, rounded_to: int | None = None) -> str:
    """sign * coefficient * 10**exponent as text: plain digits while the leading digit is
    between 1e-6 and 1e20, else scientific (1e-1000, 1.2e21). A rounded value (``rounded_to``
    digits) is scientific as soon as plain digits would pad it with zeros."""
    text = kernels.int_text(coefficient)
    adjusted = exponent + len(text) - 1
    top = 21 if rounded_to is None else min(21, rounded_to)
    minus = "-" if sign < 0 and coefficient else ""
    if -7 < adjusted < top:
        if exponent >= 0:
            return minus + text + "0" * exponent
        point = len(text) + exponent
        if point > 0:
            return minus + text[:point] + "." + text[point:]
        return minus + "0." + "0" * -point + text
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}e{adjusted}"


def to_float(value: Number) -> float | None:
    """The nearest double, or None when the value is outside double range (an overflow, or
    a nonzero value that would underflow to 0)."""
    try:  # a Fraction's parts divided directly (correctly rounded): its __float__ in one step
        result = value.numerator / value.denominator if type(value) is Fraction else float(value)
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
    if isinstance(value, Decimal):  # mantissa and exponent apart: 1e-100000 is outside double range
        exponent = value.adjusted()
        return math.log10(abs(float(kernels.CARRIED.scaleb(value, -exponent)))) + exponent
    return kernels.log10_fraction(abs(value))


def to_decimal(value: Number, digits: int = 60) -> Decimal:
    """``value`` as a Decimal of ``digits`` significant digits (correctly rounded)."""
    context = kernels.rounding_context(digits)
    if isinstance(value, Decimal):
        return context.plus(value)
    return context.divide(Decimal(value.numerator), Decimal(value.denominator))


# ---------------------------------------------------------------------------
# Earned digits: values that cannot be exact

CERTIFIED = 50
"""Correct significant digits every carried value has (at most 40 are ever printed)."""


def certify_all(
    evaluate: Callable[[int], Sequence[Any]], where: str, start: int = 80, most: int = 20_480
) -> list[Number]:
    """The values ``evaluate(working_digits)`` converges to, each with CERTIFIED correct digits.

    Evaluated at working precisions start, 2*start, 4*start, ... until two successive
    evaluations agree value by value to CERTIFIED + 5 significant digits; an inexact 0 never
    counts as agreement (a cancellation can make one). Fractions are exact and pass through.
    ``evaluate`` raises InputError itself when the next precision would cost too much work."""
    previous: Sequence[Any] | None = None
    digits = start
    while digits <= most:
        values = evaluate(digits)
        if previous is not None and all(_agree(a, b) for a, b in zip(previous, values, strict=True)):
            return [_carried(v) for v in values]
        previous, digits = values, 2 * digits
    raise InputError(
        f"{where}: could not be determined to {SIGNIFICANT} digits with {most:,}-digit arithmetic "
        "(a value is too close to 0 to tell, perhaps exactly 0)"
    )


def certify(evaluate: Callable[[int], Any], where: str) -> Number:
    """certify_all() of one value."""
    return certify_all(lambda digits: [evaluate(digits)], where)[0]


def _agree(a: Any, b: Any) -> bool:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    a, b = _to_decimal_any(a), _to_decimal_any(b)
    if not a or not b:
        return False
    context = kernels.rounding_context(CERTIFIED + 10)
    return context.abs(context.subtract(a, b)) <= context.multiply(context.abs(b), Decimal(10) ** -(CERTIFIED + 5))


def _to_decimal_any(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Fraction):
        return to_decimal(value, CERTIFIED + 20)
    import mpmath  # an mpf from a formula layer

    return Decimal(mpmath.nstr(value, CERTIFIED + 15, min_fixed=1, max_fixed=0))


def _carried(value: Any) -> Number:
    return value if isinstance(value, Fraction) else to_decimal(_to_decimal_any(value), 60)


def fraction_of(value: Number) -> Fraction:
    """A Fraction equal to ``value`` (a Decimal converts exactly)."""
    return value if isinstance(value, Fraction) else Fraction(value)


def number_range(text: str, name: str, most: int) -> list[Fraction]:
    """START:STOP:STEP, inclusive and exact ("0.01:1:0.01" is the 100 values 1/100 .. 1,
    exactly 1/100 apart); at most ``most`` values, counted before any is made.

    >>> [str(x) for x in number_range("0:1/2:1/8", "--bias-var", 10)]
    ['0', '1/8', '1/4', '3/8', '1/2']
    """
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(f"{name}: {quote(text)} is not a range; expected START:STOP:STEP, e.g. 0:0.3:0.05")
    start, stop, step = (parse_number(part.strip(), name) for part in parts)
    if step <= 0:
        raise InputError(f"{name}: the step of {quote(text)} is not positive; expected START:STOP:STEP with STEP > 0")
    if stop < start:
        raise InputError(f"{name}: {quote(text)} runs backwards; expected START <= STOP")
    count = (stop - start) // step + 1
    if count > most:
        import math

        digits = int((count.bit_length() - 1) * math.log10(2))  # no str() of a 100,000-digit count
        shown = f"{count:,}" if count < 10**30 else f"about 10^{digits + (10 ** (digits + 1) <= count)}"
        raise InputError(f"{name}: {quote(text)} is {shown} values, more than the {most:,} accepted")
    return [start + k * step for k in range(int(count))]
