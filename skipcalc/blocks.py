"""Skip-connection variants: each is a choice of a and b in the block

    x_k = a * x_{k-1} + b * F_k(x_{k-1}),

whose local factor in the chain rule is a + b * D_k (a * I + b * J_k for Jacobians).

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

from dataclasses import dataclass
from fractions import Fraction

from .errors import InputError, suggest
from .exact import parse_number, quote

KINDS = ("plain", "residual", "scaled", "rezero", "highway", "stochastic")
SPECS = "plain, residual, scaled:λ, rezero:α, highway:T, stochastic:p or stochastic:linear:p_L"

ZERO, ONE = Fraction(0), Fraction(1)


@dataclass(frozen=True)
class Block:
    """One skip-connection variant. ``a`` and ``b`` are the same for every layer, except for
    stochastic:linear, whose b falls linearly with depth (``last`` is p_L)."""

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
        # Huang et al. 2016, eq. (4): p_l = 1 - (l / L)(1 - p_L)
        return [(ONE, 1 - Fraction(k, n) * (1 - self.last)) for k in range(1, n + 1)]

    def factor_text(self, compact: bool = False) -> str:
        """The local factor, as a person writes it: D, 1 + D, 0.5 + D, 1 + 0.1·D (1+D compact)."""
        plus = "+" if compact else " + "
        if self.last is not None:
            return f"1{plus}p_l·D"
        a, b = self.a, self.b
        branch = "D" if b == 1 else f"{_short(b)}·D"
        if a == 0:
            return branch if b != 0 else "0"
        if b == 0:
            return _short(a)
        return f"{_short(a)}{plus}{branch}"


def _short(value: Fraction) -> str:
    from .exact import show

    return show(value, digits=12, fraction=6).text


PLAIN = Block("plain", "plain", ZERO, ONE)
RESIDUAL = Block("residual", "residual", ONE, ONE)
CLASSIC = (PLAIN, RESIDUAL)


def parse_block(spec: str, name: str = "--block") -> Block:
    """A --block SPEC, refused by name with the accepted forms (and the nearest kind)."""
    text = spec.strip()
    kind, _, rest = text.partition(":")
    if kind == "plain" and not rest:
        return PLAIN
    if kind == "residual" and not rest:
        return RESIDUAL
    if kind in ("plain", "residual"):
        raise InputError(f"{name}: {quote(spec)}: {kind} takes no value; expected {SPECS}")
    if kind not in KINDS:
        raise InputError(f"{name}: {quote(spec)} is not a block; {suggest(kind, KINDS)}expected {SPECS}")
    if not rest:
        example = {"scaled": "scaled:0.5", "rezero": "rezero:0.1", "highway": "highway:0.7"}.get(kind, "stochastic:0.8")
        raise InputError(f"{name}: {quote(spec)} needs a value, e.g. {example}; expected {SPECS}")
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


def selected(plain: bool, residual: bool, specs: list[str] | None) -> tuple[Block, ...]:
    """The networks a command shows: the --block specs in the order given; else --plain or
    --residual alone; else both."""
    if specs:
        return tuple(parse_block(spec) for spec in specs)
    if plain == residual:
        return CLASSIC
    return (PLAIN,) if plain else (RESIDUAL,)
