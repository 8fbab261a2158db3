"""Skip-connection variants: each is a choice of a and b in the block

    x_k = a * x_{k-1} + b * F_k(x_{k-1}),

whose local factor in the chain rule is a + b * D_k (a * I + b * J_k for Jacobians). This
module is the one place that factor is written: :func:`factor` for numbers, then its matrix,
SymPy and text forms beside it.

| spec                  | a         | b       | source                                                  |
|-----------------------|-----------|---------|---------------------------------------------------------|
| plain                 | 0         | 1       | no skip                                                 |
| residual              | 1         | 1       | He et al. 2016, "Deep residual learning"                |
| scaled:λ              | λ         | 1       | He et al. 2016, "Identity mappings" (shortcut scaling)  |
| rezero:α              | 1         | α       | Bachlechner et al. 2020 (ReZero); De & Smith 2020       |
| highway:T             | 1 - T     | T       | Srivastava et al. 2015, with the gate fixed at T        |
| stochastic:p          | 1         | p       | Huang et al. 2016: the expected gradient, survival p    |
| stochastic:linear:p_L | 1         | p_l     | the same, p_l = 1 - (l/L)(1 - p_L) for block l of L     |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import kernels
from .errors import InputError, arg, suggest
from .exact import parse_number, quote

KINDS = ("plain", "residual", "scaled", "rezero", "highway", "stochastic")
SPECS = "plain, residual, scaled:λ, rezero:α, highway:T, stochastic:p or stochastic:linear:p_L"

ZERO, ONE = Fraction(0), Fraction(1)


# ---------------------------------------------------------------------------
# The factor a + b·D, in each of its forms


def factor(a: Any, b: Any, d: Any) -> Any:
    """A block a·x + b·F(x) passes the gradient on with a + b·D: the skip path's a plus the
    branch's b times its local derivative D (any numbers that add and multiply)."""
    branch = d if b == 1 else b * d
    return branch if a == 0 else a + branch


def factor_matrix(a: Fraction, b: Fraction, j: Sequence[Sequence[Fraction]]) -> tuple[tuple[Fraction, ...], ...]:
    """a·I + b·J: :func:`factor` for a vector layer whose Jacobian is J."""
    return tuple(tuple(factor(a if r == c else ZERO, b, x) for c, x in enumerate(row)) for r, row in enumerate(j))


def factor_sympy(a: Fraction, b: Fraction, d: Any) -> Any:
    """:func:`factor` as a SymPy expression, unevaluated so the skip term reads first (1 + F')."""
    import sympy as sp

    branch = d if b == 1 else sp.Mul(sp.Rational(b.numerator, b.denominator), d, evaluate=False)
    if a == 0:
        return branch
    return sp.Add(sp.Rational(a.numerator, a.denominator), branch, evaluate=False)


def factor_text(a: Fraction, b: Fraction, symbol: str = "D", compact: bool = False, parenthesised: bool = False) -> str:
    """:func:`factor` as a person writes it: D, 1 + D, 0.5 + D, 1 + 0.1·D (``compact``: 1+D;
    ``parenthesised``: (1 + F_1') when it is a sum)."""
    plus = "+" if compact else " + "
    branch = symbol if b == 1 else f"{_short(b)}·{symbol}"
    if b == 0:
        return _short(a)
    if a == 0:
        return branch
    text = f"{_short(a)}{plus}{branch}"
    return f"({text})" if parenthesised else text


def _short(value: Fraction) -> str:
    from .exact import show

    return show(value, digits=12, fraction=6).text


# ---------------------------------------------------------------------------
# Blocks


@dataclass(frozen=True)
class Block:
    """One skip-connection variant. ``a`` and ``b`` are the same for every layer, except for
    stochastic:linear, whose b falls linearly with depth (``last`` is p_L).

    >>> parse_block("rezero:0.1").factors([Fraction(1, 2)])
    [Fraction(21, 20)]
    """

    spec: str
    kind: str
    a: Fraction
    b: Fraction
    last: Fraction | None = None

    @property
    def uniform(self) -> bool:
        """Whether every layer has the same (a, b)."""
        return self.last is None

    def coefficients(self, n: int) -> list[tuple[Fraction, Fraction]]:
        """(a_l, b_l) for layers l = 1..n of an n-layer stack."""
        if self.last is None:
            return [(self.a, self.b)] * n
        return [self.coefficient(k, n) for k in range(1, n + 1)]

    def coefficient(self, k: int, n: int) -> tuple[Fraction, Fraction]:
        """(a_k, b_k) of layer k of an n-layer stack."""
        if self.last is None:
            return self.a, self.b
        # Huang et al. 2016, eq. (4): p_l = 1 - (l / L)(1 - p_L)
        return ONE, 1 - Fraction(k, n) * (1 - self.last)

    def factor(self, d: Any) -> Any:
        """This block's factor a + b·D (a uniform block)."""
        return factor(self.a, self.b, d)

    def factors(self, local: Sequence[Fraction]) -> list[Fraction]:
        """Each layer's factor a_k + b_k·D_k, in forward order; computed once per distinct number
        object (a long chain repeats a few: the number reader hands out one object per text)."""
        if self.a == 0 and self.b == 1 and self.uniform:
            return list(local)
        if self.uniform:
            # 1 + D for the residual block by its parts (a Fraction's addition costs a gcd)
            one = kernels.plus_one if self.a == 1 and self.b == 1 else self.factor
            if len(local) <= 64:
                return [one(d) for d in local]
            return kernels.map_distinct(one, local)
        return [factor(a, b, d) for (a, b), d in zip(self.coefficients(len(local)), local, strict=True)]

    def factor_text(self, symbol: str = "D", compact: bool = False) -> str:
        """The factor in text: D, 1 + D, 0.5 + D, 1 + 0.1·D; 1 + p_l·D for stochastic:linear."""
        if self.last is not None:
            return f"1{'+' if compact else ' + '}p_l·{symbol}"
        return factor_text(self.a, self.b, symbol, compact)

    @property
    def label(self) -> str:
        """The block in words, for legends: "ReZero, α = 0.1", "scaled shortcut, λ = 0.5"."""
        if self.kind == "plain":
            return "plain (no skip)"
        if self.kind == "residual":
            return "residual"
        if self.kind == "scaled":
            return f"scaled shortcut, λ = {_short(self.a)}"
        if self.kind == "rezero":
            return f"ReZero, α = {_short(self.b)}"
        if self.kind == "highway":
            return f"highway, gate T = {_short(self.b)}"
        if self.kind == "stochastic":
            return f"stochastic depth, p = {_short(self.b)}"
        return f"stochastic depth, linear to p_L = {_short(self.last or ONE)}"


PLAIN = Block("plain", "plain", ZERO, ONE)
RESIDUAL = Block("residual", "residual", ONE, ONE)
CLASSIC = (PLAIN, RESIDUAL)


def parse_block(spec: str | Block, name: str = arg("blocks")) -> Block:
    """A --block SPEC (or a Block, as it is), refused by name with the accepted forms (and the
    nearest kind).

    >>> parse_block("scaled:0.5").factor_text()
    '0.5 + D'
    """
    if isinstance(spec, Block):
        return spec
    if not isinstance(spec, str):
        raise InputError(f"{name}: {spec!r} is not a block; expected {SPECS}")
    text = spec.strip()
    kind, _, rest = text.partition(":")
    lowered = kind.lower()
    if lowered == "plain" and not rest:
        return PLAIN
    if lowered == "residual" and not rest:
        return RESIDUAL
    if lowered in ("plain", "residual"):
        raise InputError(f"{name}: {quote(spec)}: {lowered} takes no value; expected {SPECS}")
    if lowered not in KINDS:
        raise InputError(f"{name}: {quote(spec)} is not a block; {suggest(kind, KINDS)}expected {SPECS}")
    kind = lowered
    if not rest:
        example = {"scaled": "scaled:0.5", "rezero": "rezero:0.1", "highway": "highway:0.7"}.get(kind, "stochastic:0.8")
        raise InputError(f"{name}: {quote(spec)} needs a value, e.g. {example}; expected {SPECS}")
    text = f"{kind}:{rest}"
    if kind == "stochastic" and rest.startswith("linear:"):
        p = _probability(rest[len("linear:") :], name, spec, "p_L")
        return Block(text, "stochastic-linear", ONE, ONE, last=p)
    if kind == "scaled":
        return Block(text, kind, parse_number(rest, f"{name} {kind}"), ONE)
    if kind == "rezero":
        return Block(text, kind, ONE, parse_number(rest, f"{name} {kind}"))
    value = _probability(rest, name, spec, "T" if kind == "highway" else "p")
    if kind == "highway":
        return Block(text, kind, 1 - value, value)
    return Block(text, kind, ONE, value)


def _probability(text: str, name: str, spec: str, symbol: str) -> Fraction:
    value = parse_number(text, f"{name} {spec.split(':')[0]}")
    if not 0 <= value <= 1:
        raise InputError(f"{name}: {quote(spec)}: {symbol} = {text.strip()} is not in [0, 1]")
    return value


def selected(plain: bool, residual: bool, blocks: Sequence[Block] | None) -> tuple[Block, ...]:
    """The networks a command shows: the blocks in the order given; else plain or residual
    alone; else both."""
    if blocks:
        return tuple(blocks)
    if plain == residual:
        return CLASSIC
    return (PLAIN,) if plain else (RESIDUAL,)
