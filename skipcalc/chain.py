"""Plain and residual chains: products of local derivatives, and the gradient reaching
every layer.

A plain network x_i = F_i(x_{i-1}) has dx_n/dx_0 = D_n * ... * D_1 (D_i = F_i'(x_{i-1}));
a residual network x_i = x_{i-1} + F_i(x_{i-1}) has (1 + D_n) * ... * (1 + D_1).
The names follow the seed text (../shared/seed/residual-connections.txt).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context
from fractions import Fraction
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING

from .numbers import MAX_EXACT_DIGITS, InputError, Number, check_exact_size, per_object, to_decimal
from .numbers import coprime_fraction as _coprime

if TYPE_CHECKING:
    from .losses import LossResult

PLAIN = "plain"
RESIDUAL = "residual"
NETWORKS = (PLAIN, RESIDUAL)

EXACT_WRT_LAYERS = 2000
"""Up to this many layers every per-layer gradient is exact. Beyond it they are carried
with 60 significant digits (the exact suffix products grow quadratically in size);
the headline gradient, dL/dx_0, is always exact."""

_WIDE = Context(prec=60, Emin=-(10**15), Emax=10**15)


def selected(plain: bool, residual: bool) -> tuple[str, ...]:
    """The networks --plain/--residual ask for: one, or both when neither or both are given."""
    if plain == residual:
        return NETWORKS
    return (PLAIN,) if plain else (RESIDUAL,)


@dataclass(frozen=True)
class Network:
    """One network's backward pass.

    ``wrt[k]`` is the gradient of the output (chain) or of the loss (backprop) with
    respect to x_k, for k = 0..n; ``wrt[n]`` is the upstream gradient."""

    name: str
    factors: tuple[Fraction, ...]
    wrt: tuple[Number, ...]
    gradient: Fraction

    @property
    def wrt_exact(self) -> bool:
        return all(isinstance(v, Fraction) for v in self.wrt)


@dataclass(frozen=True)
class ChainResult:
    """The answer of ``chain`` (``loss_gradient`` is None) and ``backprop``."""

    local: tuple[Fraction, ...]
    networks: tuple[Network, ...]
    loss_gradient: Fraction | None = None
    loss: LossResult | None = None
    ratio: Fraction | None = None
    """residual / plain, when both are present and plain is not 0."""

    @property
    def command(self) -> str:
        return "chain" if self.loss_gradient is None else "backprop"

    def network(self, name: str) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)


def _ratio(networks: Sequence[Network], groups: Groups) -> Fraction | None:
    """residual / plain, when both are present and plain is not 0."""
    gradients = {net.name: net.gradient for net in networks}
    if len(gradients) < 2 or gradients[PLAIN] == 0:
        return None
    r, p = gradients[RESIDUAL], gradients[PLAIN]
    if _cheap_gcd(r.numerator, p.numerator) and _cheap_gcd(r.denominator, p.denominator):
        return r / p  # Fraction division: those two gcds, then products
    # Else prod (1 + D_i) / D_i, layer by layer: the gcds of two million-digit gradients are
    # quadratic in their size (9 s for a million layers). (n + d)/n is in lowest terms when n/d is.
    return product_of([(n + d if n > 0 else -(n + d), abs(n), c) for n, d, c in groups])


def _cheap_gcd(a: int, b: int) -> bool:
    """gcd(a, b) is linear in their size: one is small (a division, then small numbers), or they are equal."""
    return min(abs(a), abs(b)).bit_length() <= 64 or a == b


def plain_factors(local: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """A plain layer's factor in the chain rule is its local derivative D_i."""
    return tuple(local)


def residual_factors(local: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """A residual block x + F(x) has derivative 1 + D_i: the 1 is the skip path.
    (n + q)/q is in lowest terms when n/q is, so no gcd is needed; a repeated input (the
    same object, as the parser hands out for the same text) gets the same factor."""
    return tuple(per_object(local, lambda d: _coprime(d.numerator + d.denominator, d.denominator)))


Groups = list[tuple[int, int, int]]


def _groups(values: Sequence[Fraction]) -> Groups:
    """(numerator, denominator, count) per distinct object: a long chain repeats a few."""
    counts = Counter(map(id, values))
    first = dict(zip(map(id, values), values, strict=True))
    return [(first[key].numerator, first[key].denominator, count) for key, count in counts.items()]


def product(values: Sequence[Fraction], groups: Groups | None = None) -> Fraction:
    """Exact product, multiplied as a balanced tree of integers (repeated factors as one
    power), so a million factors cost a few big multiplications instead of a million
    growing ones.

    The one gcd at the end would be quadratic in the size of the result (30 s for a
    million factors of 0.1). When every denominator is made of small primes - decimals
    are 2s and 5s - the common factors are cancelled at the leaves instead, by counting
    each prime on both sides, and the result is coprime by construction."""
    return product_of(_groups(values) if groups is None else groups)


def product_of(groups: Groups) -> Fraction:
    """product() of numerator**count / denominator**count over (numerator, denominator,
    count) groups, each in lowest terms with a positive denominator."""
    if any(n == 0 for n, _, _ in groups):
        return Fraction(0)
    if sum(c for _, _, c in groups) <= 64:
        return Fraction(_int_product([n**c for n, _, c in groups]), _int_product([d**c for _, d, c in groups]))
    primes = _small_prime_support([d for _, d, _ in groups])
    if primes is None:
        return Fraction(_int_product([n**c for n, _, c in groups]), _int_product([d**c for _, d, c in groups]))
    nums = [(n, c) for n, _, c in groups]
    dens = [(d, c) for _, d, c in groups]
    for p in primes:
        cancel = min(_total_valuation(nums, p), _total_valuation(dens, p))
        if cancel:
            nums = _divide_out(nums, p, cancel)
            dens = _divide_out(dens, p, cancel)
    return _coprime(_int_product([n**c for n, c in nums]), _int_product([d**c for d, c in dens]))


@cache
def _small_primes() -> list[int]:
    """The primes below 1000 (made on first use: a start-up costs 2 ms otherwise)."""
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
                while value % p == 0:
                    value //= p
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
    """Remove ``cancel`` factors p from base**count leaves: whole copies of a base at a
    time (base / p^v, as a power of its own), and one partial copy."""
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


def _int_product(values: list[int]) -> int:
    if not values:
        return 1
    while len(values) > 1:
        paired = [a * b for a, b in zip(values[::2], values[1::2], strict=False)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


def gradients_wrt_inputs(
    factors: Sequence[Fraction], upstream: Fraction = Fraction(1), groups: Groups | None = None
) -> tuple[tuple[Number, ...], Fraction]:
    """(wrt, gradient): wrt[k] = upstream * factors[k] * ... * factors[n-1] for k = 0..n,
    the backward pass; gradient = wrt[0], always exact. ``groups``: _groups(factors), if known."""
    if len(factors) <= EXACT_WRT_LAYERS:
        wrt: list[Number] = [upstream]
        for factor in reversed(factors):
            wrt.append(wrt[-1] * factor)
        gradient = wrt[-1]
    else:
        # Long chain: the total by a product tree (exact); per layer 60 significant digits
        # per step, since n roundings of relative size 1e-60 leave the 40 printed digits.
        gradient = upstream * product(factors, groups)
        steps = per_object(factors[::-1], lambda factor: to_decimal(factor, _WIDE))
        wrt = list(accumulate(steps, _WIDE.multiply, initial=to_decimal(upstream, _WIDE)))
        wrt[0] = upstream
        wrt[-1] = gradient
    wrt.reverse()
    return tuple(wrt), gradient


PATH_DIGITS = 150_000
"""Exact-size bound for the path-length split (100 layers of 1e-1000 pass, two of 1e-100000 do not)."""

PATH_GCD_LIMIT = 10**11
"""Bound on n^3 * bits(Q)^2 for Q, the common denominator, above 64 bits: 20 layers of
1e-1000 (about a second) pass, 100 (a minute) do not."""

PATH_WORK_LIMIT = 4 * 10**10
"""Bound on n^3 * (bits per layer) for the path-length recurrence: about a second here
(2,000 layers of 0.1 are 4e10, about 2 s; 3,000 are refused)."""


def path_contributions(local: Sequence[Fraction]) -> list[Fraction]:
    """e_k(D_1..D_n) for k = 0..n: the summed gradient of the C(n,k) paths through exactly
    k residual branches (and n - k skips). Their sum is (1+D_1)...(1+D_n).

    Computed on integers: with a common denominator Q, D_i = b_i/Q and
    e_k(D) = e_k(b) / Q**k, so the O(n^2) recurrence never builds a Fraction."""
    q = 1
    for d in local:
        q = q * d.denominator // math.gcd(q, d.denominator)
    b = [d.numerator * (q // d.denominator) for d in local]
    widest = max((abs(x).bit_length() for x in b), default=0) + q.bit_length()
    # Their shares are Fractions divided by the total, a gcd each: bounded like a short chain.
    check_exact_size(len(b) * widest, "D", f"the path sums of these {len(b):,} layers", PATH_DIGITS)
    # The recurrence does n^2/2 additions of numbers up to n * widest bits, and each e_k/Q^k
    # is reduced by a gcd, quadratic in k * bits(Q) (fast while Q is small, like 10).
    gcd_work = len(b) ** 3 * q.bit_length() ** 2 if q.bit_length() > 64 else 0
    if len(b) ** 3 * widest > PATH_WORK_LIMIT or gcd_work > PATH_GCD_LIMIT:
        raise InputError(
            f"D: splitting {len(b):,} layers with {q.bit_length()}-bit denominators by path length "
            f"would take minutes; use fewer layers or simpler numbers (paths --uniform is instant)"
        )
    e = [1] + [0] * len(b)
    for i, bi in enumerate(b, start=1):
        for k in range(i, 0, -1):  # e_k <- e_k + b_i * e_{k-1}
            e[k] += bi * e[k - 1]
    return [Fraction(ek, q**k) for k, ek in enumerate(e)]


def network(
    name: str, local: Sequence[Fraction], upstream: Fraction = Fraction(1), groups: Groups | None = None
) -> Network:
    """One network's backward pass; ``groups`` is _groups(local), if known (once per chain)."""
    if name == RESIDUAL:
        factors = residual_factors(local)  # one factor object per local object, hence:
        groups = None if groups is None else [(n + d, d, count) for n, d, count in groups]
    else:
        factors = plain_factors(local)
    wrt, gradient = gradients_wrt_inputs(factors, upstream, groups)
    return Network(name, factors, wrt, gradient)


SHORT_CHAIN_DIGITS = 450_000
"""Exact-size bound for chains of up to EXACT_WRT_LAYERS layers (two layers of 1e-100000
pass, four do not); longer chains have MAX_EXACT_DIGITS."""

MAX_LAYERS = 2_000_000
"""Most layers one chain accepts."""


def check_chain(local: Sequence[Fraction], upstream: Fraction = Fraction(1)) -> Groups:
    """Refuse, before any work, a chain whose exact products would be too large; return
    its _groups for the work."""
    if len(local) > MAX_LAYERS:
        raise InputError(f"D: {len(local):,} layers are more than the {MAX_LAYERS:,} one chain accepts")
    bits = upstream.numerator.bit_length() + upstream.denominator.bit_length()
    # 1 + D too, hence twice the denominator
    groups = _groups(local)
    bits += sum(c * (n.bit_length() + 2 * d.bit_length()) for n, d, c in groups)
    # A short chain keeps every per-layer value exact, and their Fraction products cost a
    # gcd each, quadratic in size: a tighter bound keeps it within a couple of seconds.
    limit = MAX_EXACT_DIGITS if len(local) > EXACT_WRT_LAYERS else SHORT_CHAIN_DIGITS
    check_exact_size(bits, "D", f"the exact products of these {len(local):,} layers", limit)
    return groups


def chain(local: Sequence[Fraction], networks: Sequence[str] = NETWORKS) -> ChainResult:
    """dx_n/dx_k for every k, in each requested network."""
    return backward(local, networks)


def backprop(
    local: Sequence[Fraction],
    loss_gradient: Fraction,
    networks: Sequence[str] = NETWORKS,
    loss: LossResult | None = None,
) -> ChainResult:
    """dL/dx_k = dL/dx_n * dx_n/dx_k for every k, in each requested network."""
    return backward(local, networks, loss_gradient, loss)


def backward(
    local: Sequence[Fraction],
    networks: Sequence[str] = NETWORKS,
    loss_gradient: Fraction | None = None,
    loss: LossResult | None = None,
) -> ChainResult:
    """chain() when ``loss_gradient`` is None, else backprop()."""
    upstream = Fraction(1) if loss_gradient is None else loss_gradient
    groups = check_chain(local, upstream)
    nets = tuple(network(name, local, upstream, groups) for name in networks)
    return ChainResult(tuple(local), nets, loss_gradient, loss, _ratio(nets, groups))
