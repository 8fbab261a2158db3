"""Chains of layers: the chain rule's product of local factors, and the gradient reaching
every layer (the names follow the note on residual connections this project started from, "Residual
Connections").

A plain network x_k = F_k(x_{k-1}) has dx_n/dx_0 = D_n * ... * D_1, with D_k = F_k'(x_{k-1}).
A residual network x_k = x_{k-1} + F_k(x_{k-1}) has (1 + D_n) * ... * (1 + D_1): the 1 is the
path that skips the layer. Any block x_k = a * x_{k-1} + b * F_k(x_{k-1}) has a + b * D_k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from operator import mul
from typing import Any, TypeVar

from . import kernels
from .blocks import CLASSIC, PLAIN, RESIDUAL, Block
from .errors import InputError, arg
from .exact import Number
from .limits import MAX_LAYERS
from .results import ChainResult, LossResult, Network

T = TypeVar("T")


def repeat_layers(layers: Sequence[T], n: int | None) -> list[T]:
    """--layers N: the layers given, repeated to N (N a multiple of how many were given)."""
    if n is None:
        return list(layers)
    if not layers:
        raise InputError(f"{arg('layers')}: give the layers to repeat")
    if n % len(layers):
        count = len(layers)
        raise InputError(
            f"{arg('layers')}: {n:,} is not a multiple of the {count} layer{'s' if count != 1 else ''} given; "
            f"expected {count}, {2 * count}, {3 * count}, ..."
        )
    return list(layers) * (n // len(layers))


def backward(factors: Sequence[Any], upstream: Any, times: Callable[[Any, Any], Any] = mul) -> list[Any]:
    """The backward pass: wrt[k] = upstream * factors[k] * ... * factors[n-1] for k = 0..n,
    each layer's gradient is the one after it times that layer's factor (multiplied by
    ``times``: a formula network's own arithmetic, exact while it is small)."""
    wrt = [upstream]
    for factor in reversed(factors):
        wrt.append(times(wrt[-1], factor))
    wrt.reverse()
    return wrt


def backward_at(factors: Sequence[Fraction], upstream: Fraction, indices: Sequence[int]) -> dict[int, Fraction]:
    """The backward pass read off at chosen inputs only (a depth sweep's rows): {k: wrt[k]}."""
    out: dict[int, Fraction] = {}
    value, at = upstream, len(factors)
    for k in sorted(set(indices), reverse=True):
        value = kernels.multiply(value, kernels.product(factors[k:at]))
        out[k], at = value, k
    return out


# ---------------------------------------------------------------------------
# How much is computed exactly

EXACT_WRT_LAYERS = 2000
"""Up to this many layers every per-layer gradient is exact; beyond, they are carried with 60
significant digits (the exact suffix products grow quadratically in total size), and the
gradient reaching x_0 stays exact while it fits EXACT_DIGITS."""

SHORT_CHAIN_DIGITS = 450_000
"""Budget for chains of up to EXACT_WRT_LAYERS layers, whose every per-layer value is exact
and costs a gcd: their exact products may have this many digits (about two seconds)."""

EXACT_DIGITS = 3_000_000
"""Budget for the exact gradient of a longer chain (a million layers of 0.1 pass). Beyond a
budget, values are carried with 60 digits instead and printed correctly rounded."""


def exact_digits(local: Sequence[Fraction], upstream: Fraction, blocks: Sequence[Block]) -> int:
    """About how many digits (numerator and denominator) the widest exact product has."""
    bits = upstream.numerator.bit_length() + upstream.denominator.bit_length()
    widest = 0
    for block in blocks:
        extra = 0 if block is PLAIN else max(block.a.denominator.bit_length(), block.b.denominator.bit_length()) + 1
        if not block.uniform:
            extra = 2 * len(local).bit_length() + 1
        widest = max(widest, extra)
    bits += kernels.parts_bits(local) + len(local) * (widest + 1)
    return int(bits * 0.30103) + 1


def is_exact_affordable(local: Sequence[Fraction], upstream: Fraction, blocks: Sequence[Block]) -> tuple[bool, int]:
    """(whether the exact products fit their budget, about how many digits they have)."""
    digits = exact_digits(local, upstream, blocks)
    budget = SHORT_CHAIN_DIGITS if len(local) <= EXACT_WRT_LAYERS else EXACT_DIGITS
    return digits <= budget, digits


def network(block: Block, local: Sequence[Fraction], upstream: Fraction, per_layer: bool, exact: bool) -> Network:
    """One network's backward pass. ``per_layer`` False computes only the gradient at x_0 (and
    leaves ``wrt`` None, and for a short chain ``factors`` empty); ``exact`` False carries the
    products with 60 significant digits (see kernels.CARRIED)."""
    if exact and not per_layer and len(local) <= 64 and block in CLASSIC:  # a value line: the gradient alone
        return Network(
            block, tuple(local), (), kernels.short_product(local, block is RESIDUAL, upstream), None, upstream
        )
    fs = block.factors(local)
    wrt: list[Number] | None
    gradient: Number
    if exact and per_layer and len(fs) <= EXACT_WRT_LAYERS:
        wrt = backward(fs, upstream)
        gradient = wrt[0]
        wrt_exact = True
    elif exact:
        gradient = kernels.multiply(upstream, kernels.product(fs))
        wrt, wrt_exact = kernels.suffix_products(fs, upstream) if per_layer else (None, False)
        if wrt is not None:
            wrt[0] = gradient
    else:
        wrt, wrt_exact = kernels.suffix_products(fs, upstream) if per_layer else (None, False)
        gradient = wrt[0] if wrt is not None else kernels.carried_product(fs, upstream)
    wrt_tuple = None if wrt is None else tuple(wrt)
    return Network(block, tuple(local), tuple(fs), gradient, wrt_tuple, upstream, wrt_exact=wrt_exact)


def chain_result(
    local: Sequence[Fraction],
    blocks: Sequence[Block] = CLASSIC,
    upstream: Fraction | None = None,
    loss: LossResult | None = None,
    per_layer: bool = True,
    require_exact: bool = False,
    blocks_given: bool = False,
) -> ChainResult:
    """chain (``upstream`` None) or backprop: every network's backward pass, exact when the
    products fit their budget, else correctly rounded from 60 carried digits."""
    if not local:
        raise InputError("D: give at least one local derivative (or - to read them from stdin)")
    if len(local) > MAX_LAYERS:
        raise InputError(f"D: {len(local):,} layers are more than the {MAX_LAYERS:,} one chain accepts")
    g = Fraction(1) if upstream is None else upstream
    exact, digits = is_exact_affordable(local, g, blocks)
    if require_exact and not exact:
        budget = SHORT_CHAIN_DIGITS if len(local) <= EXACT_WRT_LAYERS else EXACT_DIGITS
        raise InputError(
            f"{arg('exact', True)}: the exact products of these {len(local):,} layers would have about "
            f"{digits:,} digits, "
            f"more than the {budget:,} skipcalc builds; without {arg('exact', True)} they are correctly "
            f"rounded to 40 digits"
        )
    nets = tuple(network(block, local, g, per_layer, exact) for block in blocks)
    # The ratio is printed with the per-layer values (json, csv, table), not on the value line.
    return ChainResult(tuple(local), nets, upstream, loss, ratio(nets, local) if per_layer else None, blocks_given)


def ratio(networks: Sequence[Network], local: Sequence[Fraction]) -> Number | None:
    """residual / plain, when both are present and plain is not 0."""
    by_name = {net.name: net.gradient for net in networks}
    if PLAIN.spec not in by_name or RESIDUAL.spec not in by_name or by_name[PLAIN.spec] == 0:
        return None
    r, p = by_name[RESIDUAL.spec], by_name[PLAIN.spec]
    if isinstance(r, Decimal) or isinstance(p, Decimal):
        return kernels.quotient(r, p)
    if _cheap_gcd(r.numerator, p.numerator) and _cheap_gcd(r.denominator, p.denominator):
        return kernels.multiply(r, kernels.reciprocal(p))  # two gcds, then products
    # Else prod((1 + D_i) / D_i), layer by layer: the gcds of two million-digit gradients are
    # quadratic in their size. (n + d)/n is in lowest terms when n/d is.
    return kernels.product_of([(n + d if n > 0 else -(n + d), abs(n), c) for n, d, c in kernels.groups(local)])


def _cheap_gcd(a: int, b: int) -> bool:
    """gcd(a, b) is linear in their size: one is small, or they are equal."""
    return min(abs(a), abs(b)).bit_length() <= 64 or a == b
