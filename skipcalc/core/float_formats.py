"""Float formats, by PyTorch's names: their limits as exact fractions, and exact rounding into them.

A binary format with p significand bits (the leading 1 included) and smallest normal exponent
e_min holds 0, the subnormals k * 2^(e_min - p + 1) for 0 < k < 2^(p-1), and the normals up to
its largest finite value. Rounding is to nearest, ties to even, with subnormals (IEEE 754's
default). Beyond the largest finite value a format gives infinity, except float8_e4m3fn, which
has no infinity: PyTorch's cast saturates there, to +-448 (measured with torch 2.13, which
does the same for inf), and skipcalc does too, marking the value "saturated". (PyTorch casts a
float64 to float16, bfloat16 and FP8 through float32, rounding twice; skipcalc rounds the
exact value once, so the two differ for values within 2^-29 of a tie: 1 + 2^-11 + 2^-40 is
1 in PyTorch's float16 and 1 + 2^-10 here.)

Sources: IEEE 754-2019 (binary64, binary32, binary16); bfloat16: Kalamkar et al. 2019, "A Study
of BFLOAT16 for Deep Learning Training" (float32's exponent, 8 significand bits); FP8:
Micikevicius et al. 2022, "FP8 Formats for Deep Learning", and the OCP 8-bit Floating Point
Specification (OFP8) 1.0, 2023 (E4M3: no infinities, largest 448; E5M2: IEEE-like, largest
57344). Each limit below agrees with torch.finfo (tests/test_float_formats.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class FloatFormat:
    name: str
    precision: int  # significand bits, the implicit leading 1 included
    min_exponent: int  # the smallest normal number is 2^min_exponent
    max_finite: Fraction
    overflow: str  # what a value rounding beyond max_finite becomes: "inf" or "saturate"

    @property
    def min_normal(self) -> Fraction:
        return _power_of_two(self.min_exponent)

    @property
    def min_subnormal(self) -> Fraction:
        return _power_of_two(self.min_exponent - self.precision + 1)


def _power_of_two(k: int) -> Fraction:
    return Fraction(2**k) if k >= 0 else Fraction(1, 2**-k)


def _largest(precision: int, max_exponent: int) -> Fraction:
    """(2 - 2^(1-p)) * 2^max_exponent: every significand bit set, at the top exponent."""
    return (2 - _power_of_two(1 - precision)) * _power_of_two(max_exponent)


FORMATS = (
    FloatFormat("float64", 53, -1022, _largest(53, 1023), "inf"),
    FloatFormat("float32", 24, -126, _largest(24, 127), "inf"),
    FloatFormat("bfloat16", 8, -126, _largest(8, 127), "inf"),
    FloatFormat("float16", 11, -14, _largest(11, 15), "inf"),
    # E4M3: exponent bits 1111 are normal numbers too; only S.1111.111 is NaN, so the top
    # significand is 1.110 at 2^8 = 448.
    FloatFormat("float8_e4m3fn", 4, -6, Fraction(448), "saturate"),
    FloatFormat("float8_e5m2", 3, -14, _largest(3, 15), "inf"),
)
BY_NAME = {f.name: f for f in FORMATS}
NAMES = tuple(BY_NAME)


def floor_log2(a: Fraction) -> int:
    """floor(log2(a)) for a > 0, exactly."""
    k = a.numerator.bit_length() - a.denominator.bit_length()
    at_least = a.numerator >= (a.denominator << k) if k >= 0 else (a.numerator << -k) >= a.denominator
    return k if at_least else k - 1


def round_into(fmt: FloatFormat, value: Fraction) -> tuple[Fraction | str, str]:
    """``value`` as ``fmt`` stores it: (the stored value, or "inf"/"-inf"; its status: normal,
    subnormal, zero, inf, or saturated for a value clamped to +-max_finite)."""
    if value == 0:
        return Fraction(0), "zero"
    magnitude = abs(value)
    exponent = max(floor_log2(magnitude), fmt.min_exponent)  # subnormals share e_min's spacing
    ulp = _power_of_two(exponent - fmt.precision + 1)
    steps = magnitude / ulp
    whole, rest = divmod(steps.numerator, steps.denominator)
    if 2 * rest > steps.denominator or (2 * rest == steps.denominator and whole % 2 == 1):
        whole += 1  # to nearest, ties to even
    stored = whole * ulp
    if stored > fmt.max_finite:
        if fmt.overflow == "saturate":
            return (fmt.max_finite if value > 0 else -fmt.max_finite), "saturated"
        return ("inf" if value > 0 else "-inf"), "inf"
    if stored == 0:
        return Fraction(0), "zero"
    return (stored if value > 0 else -stored), ("normal" if stored >= fmt.min_normal else "subnormal")
