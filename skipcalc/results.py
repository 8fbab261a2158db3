"""Every result skipcalc computes: small frozen dataclasses holding raw numbers.

The core builds them; :mod:`skipcalc.render` writes them (chosen by class); nothing here
imports SymPy, Rich or Typer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from decimal import Decimal

    from .blocks import Block
    from .exact import Number

Matrix = tuple[tuple[Fraction, ...], ...]
Vector = tuple[Fraction, ...]


@dataclass(frozen=True)
class LossScale:
    """The power-of-two loss scales S that keep every nonzero per-layer gradient g within
    [smallest normal, largest finite] of a format once multiplied: S from ``lowest`` to
    ``highest``, or (both None) no single S, the gradients spanning ``short`` powers of two
    more than the format's normal range; ``holders`` are formats whose range would hold them."""

    lowest: Fraction | None
    highest: Fraction | None
    short: int = 0
    holders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stored:
    """A network's per-layer gradients as a float format would store them (rounded exactly,
    to nearest, ties to even): each a Fraction, or "inf", "-inf", "nan"; with a status."""

    format: str
    values: tuple[Union[Fraction, str], ...]
    status: tuple[str, ...]  # normal, subnormal, zero, inf, nan
    loss_scale: LossScale | None


@dataclass(frozen=True)
class LossResult:
    kind: str
    target: Fraction
    pred: Number
    value: Number
    gradient: Number
    formula: str
    derivative: str
    delta: Fraction | None = None
    note: str | None = None

    @property
    def direction(self) -> str:
        """In words: which way the prediction must move, and why the sign says so."""
        if self.gradient < 0:
            return (
                "dL/dpred is negative: the loss falls as the prediction rises, so gradient descent "
                "(pred - lr * dL/dpred) moves the prediction up, towards the target."
            )
        if self.gradient > 0:
            return (
                "dL/dpred is positive: the loss falls as the prediction falls, so gradient descent "
                "(pred - lr * dL/dpred) moves the prediction down, towards the target."
            )
        return "dL/dpred is 0: the prediction sits at the loss's minimum; nothing moves."


@dataclass(frozen=True)
class Network:
    """One network's backward pass through n layers.

    ``factors[k-1]`` is layer k's factor a_k + b_k * D_k; ``wrt[k]`` is the gradient of the
    output (chain) or of the loss (backprop) with respect to x_k, for k = 0..n, so
    ``wrt[0] == gradient`` and ``wrt[n] == upstream``. ``wrt`` is None when the output asked
    for prints only the gradient."""

    block: Block
    local: tuple[Number, ...]
    factors: tuple[Number, ...]
    gradient: Number
    wrt: tuple[Number, ...] | None
    upstream: Number = Fraction(1)
    points: tuple[Number, ...] | None = None  # formula layers: x_0..x_n
    closed_form: str | None = None  # formula layers: the product with the points named
    closed_form_latex: str | None = None
    loss: LossResult | None = None  # formula layers with --target: the loss at this network's own output
    stored: Stored | None = None  # --dtype
    wrt_exact: bool = True  # every wrt value is exact (formula layers: whether all are Fractions)

    @property
    def name(self) -> str:
        return self.block.spec

    @property
    def exact(self) -> bool:
        return isinstance(self.gradient, Fraction)


@dataclass(frozen=True)
class ChainResult:
    """chain (``upstream`` None) or backprop with numeric local derivatives."""

    local: tuple[Fraction, ...]
    networks: tuple[Network, ...]
    upstream: Fraction | None = None
    loss: LossResult | None = None
    ratio: Number | None = None  # residual / plain, when both are shown and plain is not 0
    blocks_given: bool = False  # --block was used: json adds "blocks"

    @property
    def command(self) -> str:
        return "chain" if self.upstream is None else "backprop"

    def network(self, name: str) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)


@dataclass(frozen=True)
class FormulaResult:
    """chain or backprop through layers written as formulas, run forward from ``at``."""

    command: str
    texts: tuple[str, ...]
    derivatives: tuple[str, ...]  # F_i'(x), as SymPy prints it
    at: Fraction
    networks: tuple[Network, ...]
    upstream: Number | None = None  # the shared dL/dx_n (--loss-grad, or --pred)
    loss: LossResult | None = None  # the shared loss (--pred given)
    own_prediction: bool = False  # --target without --pred: each network's loss at its own output
    blocks_given: bool = False

    def network(self, name: str) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)


@dataclass(frozen=True)
class UpdateResult:
    weight: Fraction
    lr: Fraction
    grad: Fraction
    input: Fraction
    step: Fraction
    new_weight: Fraction


Depth = Union[int, "Decimal", None]
"""A threshold depth: an exact integer, a Decimal correctly rounded beyond 10,000 digits, or
None where it never happens."""


@dataclass(frozen=True)
class FormatLimits:
    """Where a float format loses a network's gradient G * f^n, for f = a + b*D: the first depth
    where it falls below the smallest normal (turns subnormal), where it rounds to zero, and
    where it exceeds the largest finite value."""

    format: str
    below: Depth
    zero: Depth
    above: Depth


@dataclass(frozen=True)
class DepthRow:
    depth: int
    values: tuple[Number, ...]  # per block, in the order shown
    ratio: Number | None  # residual / plain, when both are shown


@dataclass(frozen=True)
class DepthResult:
    local: Fraction
    loss_gradient: Fraction | None
    vanish: Fraction
    blocks: tuple[Block, ...]
    rows: tuple[DepthRow, ...]
    plain_limits: tuple[FormatLimits, ...]  # G * D^n: below and zero
    residual_limits: tuple[FormatLimits, ...]  # G * (1 + D)^n: above
    block_limits: tuple[tuple[FormatLimits, ...], ...]  # per block shown
    vanish_at: Depth  # first depth where |G * D^n| < vanish
    blocks_given: bool = False


@dataclass(frozen=True)
class PathsResult:
    """The gradient of a block stack split by path length k: e_k sums, over the C(n,k) paths
    through exactly k branches, the product of b_i D_i over those branches and of a_i over the
    skips."""

    block: Block
    layers: int
    contributions: tuple[Number, ...]  # e_0 .. e_n (carried when too large to hold exactly)
    total: Number
    shares: tuple[Number, ...] | None  # e_k / total (None when the total is 0)
    cumulative: tuple[Number, ...] | None
    mass: Fraction
    band: tuple[int, int]  # shortest run of lengths carrying `mass` of sum |e_k|
    band_share: Number


@dataclass(frozen=True)
class Spectrum:
    """Singular values, largest first, with ``exact_zeros`` of them exactly 0."""

    singular_values: tuple[Number, ...]
    condition_number: Number | None  # None when singular


@dataclass(frozen=True)
class JacobianNetwork:
    """running[k] = dx_n/dx_k (k = 0..n-1); gradient is running[0]; vector is the gradient
    vector reaching x_0 (backprop)."""

    block: Block
    running: tuple[Matrix, ...]
    spectra: tuple[Spectrum, ...]
    vector: Vector | None = None

    @property
    def name(self) -> str:
        return self.block.spec

    @property
    def gradient(self) -> Matrix:
        return self.running[0]


@dataclass(frozen=True)
class JacobianResult:
    jacobians: tuple[Matrix, ...]
    networks: tuple[JacobianNetwork, ...]
    loss_gradient: Vector | None = None
    blocks_given: bool = False

    @property
    def command(self) -> str:
        return "chain" if self.loss_gradient is None else "backprop"


@dataclass(frozen=True)
class RandomNetwork:
    block: Block
    singular_values: tuple[tuple[float, ...], ...]  # per depth k = 1..n, largest first

    @property
    def name(self) -> str:
        return self.block.spec


@dataclass(frozen=True)
class RandomJacobianResult:
    dim: int
    layers: int
    scale: Fraction
    seed: int
    networks: tuple[RandomNetwork, ...]
    blocks_given: bool = False


@dataclass(frozen=True)
class Constant:
    """One constant of an initialisation scheme: its closed form, and its value."""

    name: str
    meaning: str
    value: Number
    closed_form: str


@dataclass(frozen=True)
class InitResult:
    scheme: str
    title: str
    constants: tuple[Constant, ...]
    notes: tuple[str, ...] = ()
    table: tuple[tuple[str, tuple[Number, ...]], ...] = ()  # extra per-layer columns (stochastic depth)
    table_headers: tuple[str, ...] = ()
    source: str = ""
    parameters: dict[str, Number] = field(default_factory=dict)
    label: str = ""  # gain: the nonlinearity


@dataclass(frozen=True)
class Equation:
    """One line of a derivation: ``head`` (e.g. "  plain     dx3/dx0 = ") then terms, each
    after the first carrying its operator ("+ 0.3", "- 0.4", "* 0.1"); the renderer wraps
    between terms, continuing under the first. A line without terms is plain text."""

    head: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derivation:
    lines: tuple[Equation, ...]  # under the table
    data: dict[str, object]  # --format json --symbolic
    latex: str  # --latex
