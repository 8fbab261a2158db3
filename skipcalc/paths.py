"""The residual gradient split by path length: a residual net of n blocks is 2^n paths,
and the C(n,k) paths through exactly k blocks together contribute e_k(D_1..D_n)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .chain import path_contributions
from .numbers import InputError, check_exact_size

MAX_PATH_LAYERS = 5000
"""Most layers the split accepts (the recurrence is O(n^2) on integers)."""


@dataclass(frozen=True)
class PathsResult:
    layers: int
    contributions: tuple[Fraction, ...]  # e_0 .. e_n
    mass: Fraction
    band: tuple[int, int]  # shortest run of lengths carrying `mass` of sum |e_k|
    band_share: Fraction

    @property
    def total(self) -> Fraction:
        return sum(self.contributions, Fraction(0))

    def paths(self, k: int) -> int:
        return math.comb(self.layers, k)


def uniform_contributions(local: Fraction, layers: int) -> list[Fraction]:
    """All D_i = D: e_k = C(n,k) D^k, built by stepping D^k."""
    out, power = [], Fraction(1)
    for k in range(layers + 1):
        out.append(math.comb(layers, k) * power)
        power *= local
    return out


def mass_band(contributions: Sequence[Fraction], mass: Fraction) -> tuple[tuple[int, int], Fraction]:
    """The shortest run of consecutive lengths [a, b] whose |e_k| sum to at least ``mass``
    of the total magnitude sum |e_k| (the earliest such run on ties). Exact: every
    |e_k| is scaled to one common denominator, and two pointers run over integers."""
    q = 1
    for c in contributions:
        q = q * c.denominator // math.gcd(q, c.denominator)
    weights = [abs(c.numerator) * (q // c.denominator) for c in contributions]
    total = sum(weights)
    if total == 0:
        return (0, len(contributions) - 1), Fraction(0)
    need = mass * total  # compare weights * mass.denominator with mass.numerator * total
    best: tuple[int, int] | None = None
    window, left = 0, 0
    for right, w in enumerate(weights):
        window += w
        while left < right and window - weights[left] >= need:
            window -= weights[left]
            left += 1
        if window >= need and (best is None or right - left < best[1] - best[0]):
            best = (left, right)
    assert best is not None
    share = Fraction(sum(weights[best[0] : best[1] + 1]), total)
    return best, share


def path_split(local: Sequence[Fraction], mass: Fraction = Fraction(9, 10)) -> PathsResult:
    _check(len(local), mass)
    contributions = path_contributions(local)
    band, share = mass_band(contributions, mass)
    return PathsResult(len(local), tuple(contributions), mass, band, share)


def uniform_path_split(local: Fraction, layers: int, mass: Fraction = Fraction(9, 10)) -> PathsResult:
    _check(layers, mass)
    bits = local.numerator.bit_length() + local.denominator.bit_length() + layers  # C(n,k) < 2^n
    check_exact_size(layers * bits, "--uniform", f"D^k up to k = {layers:,}")
    contributions = uniform_contributions(local, layers)
    band, share = mass_band(contributions, mass)
    return PathsResult(layers, tuple(contributions), mass, band, share)


def _check(layers: int, mass: Fraction) -> None:
    if not 1 <= layers <= MAX_PATH_LAYERS:
        raise InputError(f"--layers: {layers} is not accepted; expected 1 to {MAX_PATH_LAYERS} layers")
    if not 0 < mass <= 1:
        raise InputError(f"--mass: {mass} is not accepted; expected a share 0 < mass <= 1")
