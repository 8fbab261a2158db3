"""The gradient of a block stack split by path length.

A stack of n blocks x_k = a_k x_{k-1} + b_k F_k(x_{k-1}) is 2^n paths: at each block the
gradient either takes the skip (a factor a_k) or goes through the branch (b_k D_k). Grouped
by how many branches they pass, the C(n,k) paths through exactly k branches contribute

    e_k = sum over the k-subsets S of prod_{i in S} b_i D_i * prod_{i not in S} a_i,

and the e_k sum to the product of (a_i + b_i D_i). For the residual block (a = b = 1) e_k
is the k-th elementary symmetric polynomial of the D_i and e_0 = 1 is the path that skips
every layer (Veit et al. 2016: a residual net of n blocks is 2^n paths).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import accumulate
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .exact import Number

from . import kernels
from .blocks import RESIDUAL, Block
from .errors import InputError, arg
from .limits import MAX_PATH_LAYERS
from .results import PathsResult

T = TypeVar("T", int, Fraction)
Weights = Sequence[Any]
"""The e_k as integers over one common denominator, or carried (Decimals)."""


WORK_LIMIT = 4 * 10**10
"""Bound on the recurrence's work, n^3 times the bits per layer: about two seconds here
(2,000 layers of 0.1 pass; 3,000 do not)."""

REDUCE_LIMIT = 10**11
"""Bound on n^3 * bits(Q)^2 for Q, the common denominator, above 64 bits: 20 layers of 1e-1000
(about a second) pass, 100 (a minute) do not."""

UNIFORM_BITS = 2 * 10**8
"""Bound on the total size of the exact e_k of a uniform split, in bits: about two seconds (5,000
layers of 0.1 pass). Larger splits whose terms share one sign are carried instead."""

SHARE_BITS = 4_000
"""Shares of contributions up to this size are exact fractions; larger ones are carried with
60 digits (an exact share costs a gcd, quadratic in its size)."""


def path_contributions(local: Sequence[Fraction], block: Block = RESIDUAL) -> list[Fraction]:
    """e_0 .. e_n (see the module's docstring)."""
    numerators, denominator = _path_sums(local, block)
    return [kernels.fraction(e, denominator) for e in numerators]


def _path_sums(local: Sequence[Fraction], block: Block) -> tuple[list[int], int]:
    """(E_0 .. E_n, Q^n) with e_k = E_k / Q^n, by the recurrence e_k <- a_i e_k + b_i D_i e_(k-1)
    on integers over one common denominator Q (a_i = alpha_i / Q, b_i D_i = gamma_i / Q)."""
    n = len(local)
    pairs = [(a, b * d) for (a, b), d in zip(block.coefficients(n), local, strict=True)]
    q = 1
    for a, c in pairs:
        q = math.lcm(q, a.denominator, c.denominator)
    alpha = [a.numerator * (q // a.denominator) for a, _ in pairs]
    gamma = [c.numerator * (q // c.denominator) for _, c in pairs]
    widest = max((max(abs(x).bit_length(), abs(y).bit_length()) for x, y in zip(alpha, gamma, strict=True)), default=0)
    # The recurrence does n^2/2 multiply-adds of numbers up to n * widest bits; writing each e_k
    # in lowest terms costs about (n * bits(Q))^2 when Q is large (1e-1000 has 3,322 bits).
    reduce = n**3 * q.bit_length() ** 2 if q.bit_length() > 64 else 0
    if n**3 * max(widest, 1) > WORK_LIMIT or reduce > REDUCE_LIMIT:
        raise InputError(
            f"D: splitting {n:,} layers of {widest}-bit numbers by path length would take minutes; use fewer "
            f"layers or shorter numbers (paths {arg('uniform', 'D')} {arg('layers', 'N')} is quick when "
            f"every D is the same)"
        )
    e = [1] + [0] * n
    for i, (x, y) in enumerate(zip(alpha, gamma, strict=True), start=1):
        for k in range(i, 0, -1):
            e[k] = x * e[k] + y * e[k - 1]
        e[0] *= x
    return e, q**n


def _uniform_sums(
    d: Fraction, layers: int, block: Block
) -> tuple[list[Fraction], list[int]] | tuple[list[Decimal], list[Decimal]]:
    """Every D_i = D and a uniform block: e_k = C(n,k) a^(n-k) (bD)^k, as Fractions and as
    integers over one common denominator (both by powers: no gcd of big numbers); carried when
    they would be too large (see _carried_uniform)."""
    a, c = block.a, block.b * d
    # e_k has about n bits of C(n,k), (n - k) times a's bits and k times bD's: n^2 (1 + mean) in all
    size = a.numerator.bit_length() + a.denominator.bit_length() + c.numerator.bit_length() + c.denominator.bit_length()
    bits = layers**2 * (2 + size) // 2
    if bits > UNIFORM_BITS:
        if a >= 0 and c >= 0:
            return _carried_uniform(a, c, layers)
        raise InputError(
            f"{arg('uniform')}: the {layers + 1:,} exact path sums of {layers:,} layers of this D would have about "
            f"{int(bits * 0.30103):,} digits in all, more than the {int(UNIFORM_BITS * 0.30103):,} computed; "
            "use fewer layers or a D with a smaller exponent (terms of mixed sign cancel, so they are not carried)"
        )
    n = layers
    q = math.lcm(a.denominator, c.denominator)
    alpha, gamma = a.numerator * (q // a.denominator), c.numerator * (q // c.denominator)
    # Powers by stepping: each step multiplies by a small number (a fresh power each time
    # would cost a big multiplication).
    a_powers, c_powers = _powers(a, n), _powers(c, n)
    alpha_powers, gamma_powers = _powers(alpha, n), _powers(gamma, n)
    fractions = [math.comb(n, k) * a_powers[n - k] * c_powers[k] for k in range(n + 1)]
    scaled = [math.comb(n, k) * alpha_powers[n - k] * gamma_powers[k] for k in range(n + 1)]
    return fractions, scaled


def _carried_uniform(a: Fraction, c: Fraction, n: int) -> tuple[list[Decimal], list[Decimal]]:
    """The e_k = C(n,k) a^(n-k) c^k of a uniform split too large to hold exactly, for a, c >= 0,
    carried with 60 digits: e_0 = a^n, then e_k = e_(k-1) (n-k+1)/k c/a. Each step rounds three
    times, so after 5,000 steps the relative error is below 1e-55 (the bound carried values
    promise is 1e-50); with every term of one sign no sum cancels."""
    with localcontext(kernels.CARRIED):
        if not a or not c:  # one nonzero term: a^n at k = 0, or c^n at k = n
            terms = [Decimal(0)] * (n + 1)
            terms[0 if c == 0 else n] = kernels.to_carried(a or c) ** n
            return terms, terms
        step = kernels.to_carried(c / a)
        terms = [kernels.to_carried(a) ** n]
        for k in range(1, n + 1):
            terms.append(terms[-1] * (n - k + 1) / k * step)
    return terms, terms


def _powers(x: T, n: int) -> list[T]:
    out: list[T] = [x**0]
    for _ in range(n):
        out.append(out[-1] * x)
    return out


def mass_band(weights: Weights, mass: Fraction) -> tuple[tuple[int, int] | None, Number]:
    """The shortest run of consecutive lengths [lo, hi] whose weights |e_k| (integers over one
    common denominator, or carried e_k) sum to at least ``mass`` of their total; among equally
    short runs, the one carrying the most (then the first). None when every weight is 0: there
    is no gradient to split."""
    total = sum(weights)
    if total == 0:
        return None, Fraction(0)
    need_num, need_den = mass.numerator * total, mass.denominator  # window * den >= num
    width, window, left = None, 0, 0
    for right, w in enumerate(weights):  # the shortest width, by two pointers
        window += w
        while left < right and (window - weights[left]) * need_den >= need_num:
            window -= weights[left]
            left += 1
        if window * need_den >= need_num and (width is None or right - left < width):
            width = right - left
    assert width is not None
    best, best_sum = 0, -1
    window = sum(weights[: width + 1])
    for start in range(len(weights) - width):  # every run of that width: the heaviest
        if start:
            window += weights[start + width] - weights[start - 1]
        if window > best_sum:
            best, best_sum = start, window
    return (best, best + width), _share(best_sum, total)


def _share(part: Any, whole: Any) -> Number:
    """part / whole: exact for integers (carried when they are large), carried for carried ones."""
    if isinstance(part, Decimal) or isinstance(whole, Decimal):
        return kernels.CARRIED.divide(part, whole)
    share: Number = kernels.rounded_ratio(part, whole, SHARE_BITS)
    return share


def _split(
    block: Block,
    layers: int,
    contributions: Sequence[Number],
    scaled: Weights,
    total: Number,
    mass: Fraction,
) -> PathsResult:
    """The result, from the e_k, the same e_k as integers over one common denominator (or as
    the carried e_k themselves), and their sum, the product of the factors (built as a product:
    a sum of big fractions would cost a gcd per term)."""
    with localcontext(kernels.CARRIED):  # sums of carried terms keep their 60 digits
        whole = sum(scaled)
        shares = cumulative = None
        if whole:
            shares = tuple(_share(e, whole) for e in scaled)
            cumulative = tuple(_share(e, whole) for e in accumulate(scaled))
        magnitudes = [abs(e) for e in scaled]
        mass_whole = sum(magnitudes)
        magnitude_shares = tuple(_share(e, mass_whole) for e in magnitudes) if mass_whole else None
        band, share = mass_band(magnitudes, mass)
    return PathsResult(
        block, layers, tuple(contributions), total, shares, cumulative, mass, band, share, magnitude_shares
    )


def path_split(local: Sequence[Fraction], mass: Fraction = Fraction(9, 10), block: Block = RESIDUAL) -> PathsResult:
    _check(len(local))
    numerators, denominator = _path_sums(local, block)
    contributions = [kernels.fraction(e, denominator) for e in numerators]
    total = kernels.product(block.factors(local))
    return _split(block, len(local), contributions, numerators, total, mass)


def uniform_path_split(
    d: Fraction, layers: int, mass: Fraction = Fraction(9, 10), block: Block = RESIDUAL
) -> PathsResult:
    _check(layers)
    if not block.uniform:
        return path_split([d] * layers, mass, block)
    contributions, scaled = _uniform_sums(d, layers, block)
    factor = block.factor(d)
    if isinstance(contributions[0], Decimal) and factor:
        with localcontext(kernels.CARRIED):
            return _split(block, layers, contributions, scaled, kernels.to_carried(factor) ** layers, mass)
    return _split(block, layers, contributions, scaled, factor**layers, mass)


def _check(layers: int) -> None:
    if not 1 <= layers <= MAX_PATH_LAYERS:
        raise InputError(f"D: {layers:,} layers are not accepted; expected 1 to {MAX_PATH_LAYERS:,} layers")
