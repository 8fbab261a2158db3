"""Every result skipcalc computes: small frozen dataclasses holding raw numbers.

The core builds them; :mod:`skipcalc.output` writes them. Each is a :class:`Result`: data
only. The ways a person or a program reads one - a one-line repr, its table (print() and
Rich), an HTML table in Jupyter, the command line's JSON (``to_dict()``) and its chart
(``plot()``) - are attached to these classes by :mod:`skipcalc.output.display`, which the
public API imports: nothing here imports the output layer, SymPy, Rich or Typer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar, Union

from .errors import InputError, suggest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from decimal import Decimal

    from .blocks import Block
    from .exact import Number


class Result:
    """What every result can do. ``headline`` holds the values a ``--format value`` line
    prints, in order: the one place that choice is made."""

    __slots__ = ()

    @property
    def headline(self) -> list[Any]:
        raise NotImplementedError

    if TYPE_CHECKING:  # attached by skipcalc.output.display, which the API imports

        def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]: ...

        def _repr_html_(self) -> str: ...

        def to_dict(self, digits: int | None = None, exact: bool = False, symbolic: bool = False) -> dict[str, Any]: ...

        def plot(self, title: str | None = None) -> Any: ...

        def to_frame(self) -> Any: ...


Matrix = tuple[tuple[Fraction, ...], ...]
Vector = tuple[Fraction, ...]


@dataclass(frozen=True, eq=False)
class Window:
    """The loss scales that work: the powers of two 2^lowest .. 2^highest (none when lowest >
    highest: the values then span ``short`` powers of two more than the format's normal range,
    and ``holders`` are the formats whose range would hold them)."""

    lowest: int
    highest: int
    holders: tuple[str, ...] = ()

    @property
    def works(self) -> bool:
        return self.lowest <= self.highest

    @property
    def short(self) -> int:
        return max(self.lowest - self.highest, 0)


@dataclass(frozen=True, eq=False)
class GradScaler:
    """What torch.amp.GradScaler's defaults (2^16 to start, halved after an overflowing step,
    which is skipped; doubled after 2000 clean ones) do with a window of scales: ``settles``,
    the power of two it ends at (the window's top: it keeps trying the next one up every 2000
    steps); the steps it skips halving down to it; the clean steps it takes to grow into the
    window from below; and whether the window works (a scale there keeps every gradient
    normal). ``blind``: the format clamps rather than overflowing (float8_e4m3fn), so
    GradScaler never sees an overflow and never settles: ``works`` then says whether 2^16
    keeps every gradient."""

    settles: int
    skipped: int
    growth_steps: int
    works: bool
    blind: bool = False


@dataclass(frozen=True, eq=False)
class InFormat:
    """A network's gradients in one float format: ``stored``, each exact gradient rounded once
    into it; ``computed``, what a backward pass in the format computes (None for measured
    gradients, which are only stored); each value a float (+-inf, nan included) with a status
    (normal, subnormal, zero, inf, nan, saturated); the exact gradients (the computed ones'
    relative errors are made from them only when asked for: core.precision.relative_errors);
    the loss scales that keep every stored (``loss_scale``) and computed
    (``computed_loss_scale``) gradient normal and finite; GradScaler's way to a scale; and the
    dL/dx_n the pass started from."""

    format: str
    stored: tuple[float, ...]
    status: tuple[str, ...]
    loss_scale: Window | None
    upstream: Number | None  # None for measured gradients
    computed: tuple[float, ...] | None = None
    computed_status: tuple[str, ...] | None = None
    exact: Sequence[Number] = ()  # the exact gradients the relative errors are of
    doubles: Sequence[float] = ()  # and their correctly rounded doubles (+-inf beyond range)
    computed_loss_scale: Window | None = None
    gradscaler: GradScaler | None = None


@dataclass(frozen=True, repr=False, eq=False)
class PrecisionResult(Result):
    """Measured gradients G_1 .. G_n (layer 1 nearest the input), each as it is, read exactly,
    and as each float format stores it: where they turn subnormal or are lost, the loss scales
    that keep every one normal and finite, and GradScaler's way to one."""

    gradients: tuple[Number, ...]
    formats: tuple[InFormat, ...]
    source: str | None = None  # the --csv column they came from

    @property
    def headline(self) -> list[Any]:
        """For each format, the lowest and highest power of two of the loss-scale window
        ("none" for both when no scale keeps every gradient normal and finite)."""
        out: list[Any] = []
        for d in self.formats:
            window = d.loss_scale
            works = window is not None and window.works
            out += [window.lowest, window.highest] if works else ["none", "none"]  # type: ignore[union-attr]
        return out

    def format(self, name: str) -> InFormat:
        """The gradients in the format named (float16, bfloat16, ...)."""
        for d in self.formats:
            if d.format == name:
                return d
        names = [d.format for d in self.formats]
        raise InputError(
            f"format: {name!r} is not one of these; {suggest(name, names)}expected one of {', '.join(names)}"
        )

    def lost(self, name: str) -> list[int]:
        """The layers (1..n) whose gradient the format named loses: 0 where it is not, or
        beyond the largest finite value."""
        d = self.format(name)
        return [
            k + 1
            for k, (state, g) in enumerate(zip(d.status, self.gradients, strict=True))
            if state in ("inf", "nan", "saturated") or (state == "zero" and g != 0)
        ]

    def subnormal(self, name: str) -> list[int]:
        """The layers (1..n) whose gradient the format named stores as a subnormal."""
        return [k + 1 for k, state in enumerate(self.format(name).status) if state == "subnormal"]


@dataclass(frozen=True, repr=False, eq=False)
class LossResult(Result):
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
    def headline(self) -> list[Any]:
        """The loss, then dL/dpred."""
        return [self.value, self.gradient]

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


@dataclass(frozen=True, repr=False, eq=False)
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
    dtypes: tuple[InFormat, ...] = ()  # --dtype, in the order given
    wrt_exact: bool = True  # every wrt value is exact (formula layers: whether all are Fractions)

    @property
    def name(self) -> str:
        return self.block.spec

    @property
    def exact(self) -> bool:
        return isinstance(self.gradient, Fraction)

    @property
    def stored(self) -> InFormat | None:
        """The first --dtype format's gradients (None without --dtype)."""
        return self.dtypes[0] if self.dtypes else None


@dataclass(frozen=True, repr=False, eq=False)
class ChainResult(Result):
    """chain (``upstream`` None) or backprop with numeric local derivatives."""

    local: tuple[Fraction, ...]
    networks: tuple[Network, ...]
    upstream: Fraction | None = None
    loss: LossResult | None = None
    ratio: Number | None = None  # residual / plain, when both are shown and plain is not 0
    blocks_given: bool = False  # --block was used: json adds "blocks"
    updates: tuple[UpdateResult, ...] = ()  # backprop --lr: each network's first-layer update

    @property
    def command(self) -> str:
        return "chain" if self.upstream is None else "backprop"

    def network(self, name: str) -> Network:
        """A network by its spec ("rezero:0.1") or kind ("rezero")."""
        return find_network(self.networks, name)

    @property
    def headline(self) -> list[Any]:
        return [net.gradient for net in self.networks] + [u.new_weight for u in self.updates]


@dataclass(frozen=True, repr=False, eq=False)
class FormulaResult(Result):
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

    def network(self, name: str) -> Network:
        """A network by its spec ("rezero:0.1") or kind ("rezero")."""
        return find_network(self.networks, name)

    @property
    def headline(self) -> list[Any]:
        return [net.gradient for net in self.networks]


@dataclass(frozen=True, repr=False, eq=False)
class UpdateResult(Result):
    weight: Fraction
    lr: Fraction
    grad: Fraction
    input: Fraction
    step: Fraction
    new_weight: Fraction

    @property
    def headline(self) -> list[Any]:
        return [self.new_weight]


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


@dataclass(frozen=True, repr=False, eq=False)
class DepthResult(Result):
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

    @property
    def headline(self) -> list[Any]:
        """Each network's gradient at the last depth listed."""
        return list(self.rows[-1].values)

    def limits(self, format: str, block: str | None = None) -> FormatLimits:
        """Where ``format`` loses the gradient: for the plain network (below, zero) and the
        residual one (above), or for the block named."""
        if block is not None:
            index = self.blocks.index(find_network(self.blocks, block, key=lambda b: b))
            return next(fl for fl in self.block_limits[index] if fl.format == format)
        plain = next((fl for fl in self.plain_limits if fl.format == format), None)
        if plain is None:
            names = [fl.format for fl in self.plain_limits]
            raise InputError(
                f"format: {format!r} is not one; {suggest(format, names)}expected one of {', '.join(names)}"
            )
        above = next(fl.above for fl in self.residual_limits if fl.format == format)
        return FormatLimits(format, plain.below, plain.zero, above)


@dataclass(frozen=True, repr=False, eq=False)
class DepthMapResult(Result):
    """The depth x derivative grid of ``depth`` with several --local values: ``values[b][i][j]``
    is block b's gradient at derivative ``local[i]`` and depth ``depths[j]`` (times the loss
    gradient, when given)."""

    local: tuple[Fraction, ...]
    depths: tuple[int, ...]
    loss_gradient: Fraction | None
    blocks: tuple[Block, ...]
    values: tuple[tuple[tuple[Number, ...], ...], ...]

    @property
    def headline(self) -> list[Any]:
        """Each block's gradient at the last derivative and the deepest depth listed."""
        return [block[-1][-1] for block in self.values]

    def at(self, local: Any, depth: int, block: str = "residual") -> Number:
        """The gradient of ``block`` at derivative ``local`` (read exactly) and ``depth``."""
        from .exact import to_number

        d = to_number(local, "local")
        if d not in self.local or depth not in self.depths:
            raise InputError(f"at: ({local}, {depth}) is not a point of this map")
        index = self.blocks.index(find_network(self.blocks, block, key=lambda b: b))
        return self.values[index][self.local.index(d)][self.depths.index(depth)]


@dataclass(frozen=True, repr=False, eq=False)
class PathsResult(Result):
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
    band: tuple[int, int] | None  # shortest run of lengths carrying `mass` of sum |e_k| (None: all 0)
    band_share: Number
    magnitude_shares: tuple[Number, ...] | None = None  # |e_k| / sum |e_j|: what the band and the chart use

    @property
    def headline(self) -> list[Any]:
        """The total, then the band's first and last length (empty when there is no band)."""
        if self.band is None:
            return [self.total, None, None]
        return [self.total, Fraction(self.band[0]), Fraction(self.band[1])]


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Singular values, largest first, with ``exact_zeros`` of them exactly 0."""

    singular_values: tuple[Number, ...]
    condition_number: Number | None  # None when singular


@dataclass(frozen=True, eq=False)
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


@dataclass(frozen=True, repr=False, eq=False)
class JacobianResult(Result):
    jacobians: tuple[Matrix, ...]
    networks: tuple[JacobianNetwork, ...]
    loss_gradient: Vector | None = None
    blocks_given: bool = False

    @property
    def command(self) -> str:
        return "chain" if self.loss_gradient is None else "backprop"

    def network(self, name: str) -> JacobianNetwork:
        """A network by its spec ("rezero:0.1") or kind ("rezero")."""
        return find_network(self.networks, name)

    @property
    def headline(self) -> list[Any]:
        """Each network's gradient vector reaching x_0 (backprop), else its spectral norm."""
        return [net.vector if net.vector is not None else net.spectra[0].singular_values[0] for net in self.networks]


@dataclass(frozen=True, eq=False)
class Earned:
    """A float64 result with the significant digits it has earned against the round-off
    ``bound`` of the computation that produced it; 0 digits: it is below that bound."""

    value: float
    digits: int
    bound: float = 0.0


def earned(value: float, bound: float) -> Earned:
    """``value`` with the decimal digits that its absolute error ``bound`` leaves right."""
    import math

    if not math.isfinite(value):
        return Earned(value, 0, bound)
    if bound <= 0:
        return Earned(value, 15, bound)
    if value <= bound:
        return Earned(value, 0, bound)
    return Earned(value, max(1, min(15, int(math.floor(math.log10(value / bound))))), bound)


@dataclass(frozen=True, eq=False)
class RandomNetwork:
    block: Block
    singular_values: tuple[tuple[float, ...], ...]  # per depth k = 1..n, largest first
    theory: tuple[Fraction, Fraction | None] | None = None  # mean and variance of sigma^2 at full depth, wide limit

    @property
    def name(self) -> str:
        return self.block.spec

    def earned(self, depth: int, dim: int) -> tuple[Earned, Earned]:
        """The largest and smallest singular values at ``depth`` with the digits they earned:
        the products' round-off is about depth x d x 2^-52 of the largest (absolute)."""
        values = self.singular_values[depth - 1]
        bound = depth * dim * 2.0**-52 * values[0]
        return earned(values[0], bound), earned(values[-1], bound)


@dataclass(frozen=True, repr=False, eq=False)
class RandomJacobianResult(Result):
    dim: int
    layers: int
    scale: Fraction
    seed: int
    networks: tuple[RandomNetwork, ...]
    blocks_given: bool = False
    weights: str = "gaussian"

    def network(self, name: str) -> RandomNetwork:
        """A network by its spec ("rezero:0.1") or kind ("rezero")."""
        return find_network(self.networks, name)

    @property
    def headline(self) -> list[Any]:
        """Each network's largest singular value at the last depth, with the digits it earned."""
        return [net.earned(self.layers, self.dim)[0] for net in self.networks]


@dataclass(frozen=True, eq=False)
class Constant:
    """One constant of an initialisation scheme: its closed form, and its value."""

    name: str
    meaning: str
    value: Number
    closed_form: str


@dataclass(frozen=True, repr=False, eq=False)
class InitResult(Result):
    scheme: str
    title: str
    constants: tuple[Constant, ...]
    notes: tuple[str, ...] = ()
    table: tuple[tuple[str, tuple[Number, ...]], ...] = ()  # extra per-layer columns (stochastic depth)
    table_headers: tuple[str, ...] = ()
    source: str = ""
    parameters: dict[str, Number] = field(default_factory=dict)
    label: str = ""  # gain: the nonlinearity

    @property
    def headline(self) -> list[Any]:
        return [c.value for c in self.constants]


N = TypeVar("N")


@dataclass(frozen=True, repr=False, eq=False)
class MeanFieldResult(Result):
    """Mean-field signal propagation at initialization for one activation and (σ_w², σ_b²):
    the fixed point q* of the length map and χ₁ (the mean squared local derivative there;
    √χ₁ is the note's "local derivative"), the correlation fixed point c* and its slope χ_c,
    the depth scales ξ_q and ξ_c, the phase, and for each network the variance q_k and the mean
    squared gradient at each x_k relative to the output's (``networks``, core.meanfield.MeanFieldNetwork);
    numbers exact (Fractions) for relu and linear, else certified to ``digits`` (Decimals). With
    ``critical``, the critical σ_w² at each σ_b² instead; with ``simulation``, measured networks."""

    act: str
    weight_var: Fraction | None
    bias_var: tuple[Fraction, ...]
    input_var: Fraction
    layers: int
    digits: int
    q_star: Number | None = None
    q_reason: str | None = None
    chi1: Number | None = None
    sqrt_chi1: Number | None = None
    c_star: Number | None = None
    chi_c: Number | None = None
    xi_q: Number | None = None
    xi_c: Number | None = None
    phase: str | None = None
    networks: tuple[Any, ...] = ()
    critical: tuple[Any, ...] | None = None  # σ_w² on the critical line at each bias_var
    simulation: Any = None  # core.meanfield.simulate.Simulation
    c_reason: str | None = None  # why c* and χ_c were not computed
    norm: str = "none"  # LayerNorm: none, pre (x + F(LN(x))) or post (LN(x + F(x)))
    init: str | None = None  # the initialisation scheme that gave σ_w², σ_b²
    branch: str = "pre-act"  # the branch: W act(x) + b (pre-act) or act(W x + b) (post-act)
    input_corr: Fraction | None = None  # two inputs' correlation at x_0, followed through depth

    @property
    def headline(self) -> list[Any]:
        """The critical σ_w² at each σ_b² (--critical), else each network's mean squared
        gradient at x_0 relative to the output's."""
        if self.critical is not None:
            return list(self.critical)
        return [net.wrt[0] for net in self.networks]

    def network(self, name: str) -> Any:
        """The network of this block ("plain", "residual", "rezero:0.1" or its kind)."""
        return find_network(self.networks, name)


def find_network(networks: Sequence[N], name: str, key: Callable[[N], Block] | None = None) -> N:
    """The network (or block) whose spec is ``name`` ("rezero:0.1"), or the one of that kind
    ("rezero"); an unknown or ambiguous name is refused, naming the choices."""
    if not isinstance(name, str):
        raise TypeError(f"network: {name!r} is not a name; expected a block spec such as 'residual'")
    spec: Callable[[Any], Block] = key or (lambda net: net.block)
    blocks = [spec(net) for net in networks]
    specs = [b.spec for b in blocks]
    if name in specs:
        return networks[specs.index(name)]
    kinds = [i for i, b in enumerate(blocks) if name in (b.kind, b.kind.split("-")[0])]
    if len(kinds) == 1:
        return networks[kinds[0]]
    if kinds:
        raise InputError(f"network: {name!r} is ambiguous; give one of {', '.join(specs[i] for i in kinds)}")
    raise InputError(f"network: {name!r} is not one here; {suggest(name, specs)}expected one of {', '.join(specs)}")


# ---------------------------------------------------------------------------
# probe: measurements on a real PyTorch model (skipcalc/probe/ makes them)


@dataclass(frozen=True, eq=False)
class Estimate:
    """A root mean square singular value estimated from random probes: √(mean of the per-probe
    ratios ‖Jᵀv‖²/‖v‖²), with the 95 % interval of that mean (Student's t), square-rooted."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True, eq=False)
class Elements:
    """One gradient tensor (or a block's parameters pooled) element by element in one float
    format, as fractions of the elements nonzero in float32: those that become 0, that are
    stored subnormal, that become ±inf or NaN."""

    zero: Fraction
    subnormal: Fraction
    overflow: Fraction


@dataclass(frozen=True, eq=False)
class Magnitudes:
    """|g| over a gradient's nonzero float32 elements: smallest, 1st, 50th and 99th percentile
    (numpy's linear interpolation), largest; ``count`` nonzero of ``size``."""

    smallest: float
    p1: float
    p50: float
    p99: float
    largest: float
    count: int
    size: int


@dataclass(frozen=True, eq=False)
class LowPrecision:
    """One block in one format: its input gradient and its parameters' gradients, rounded once
    from float32 (``stored``) and computed by PyTorch in the format (``computed``)."""

    stored: Elements
    computed: Elements | None
    parameters_stored: Elements | None
    parameters_computed: Elements | None


@dataclass(frozen=True, eq=False)
class ScaleWindow:
    """The loss scales 2^lowest .. 2^highest at which the pass overflows nowhere and loses the
    least (``lost``, a fraction of the nonzero elements); GradScaler, from 2^16, settles at the
    top, 2^settles: after ``skipped`` overflowing steps when the top is below 2^16, else after
    2000 clean steps per doubling. None where no scale avoids overflow."""

    lowest: int | None
    highest: int | None
    lost: Fraction | None
    settles: int | None
    skipped: int


@dataclass(frozen=True, eq=False)
class BlockProbe:
    """One block measured at the actual activations (see skipcalc.probe)."""

    name: str
    skip: str  # identity, normalized, projection or none
    shortcut: str | None  # the projection's module name
    shape_in: tuple[int, ...]
    shape_out: tuple[int, ...]
    branch_gain: Estimate
    branch_sigma_max: float | None
    block_gain: Estimate
    relative_update: float
    cos_input: float | None
    token_cosine: float | None
    gain_residual: Estimate | None
    gain_plain: Estimate | None
    gradient: float | None  # ‖actual gradient‖ at the block's input
    predicted: float | None = None  # mean-field's gain (the mlp preset)
    magnitudes: Magnitudes | None = None
    dtypes: tuple[tuple[str, LowPrecision], ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class ProbeResult(Result):
    """``skipcalc.probe``: every block of a model measured, and the note's chain on them."""

    model: str
    blocks: tuple[BlockProbe, ...]
    chosen: str  # which blocks were probed, and why
    probes: int
    seed: int
    samples: int
    upstream: str  # where the gradient at the output came from
    batchnorm: str | None  # "train" or "eval" when the model has BatchNorm
    gain_reason: str | None  # why the gains through the network were not measured
    sigma_reason: str | None  # why some σ_max were not measured
    mode: str = "cast"  # how the low-precision pass was run: cast (model.to(dtype)) or autocast
    windows: tuple[tuple[str, ScaleWindow], ...] = ()
    predicted_from: str | None = None  # the mean-field setting of ``predicted``

    @property
    def headline(self) -> list[Any]:
        first = self.blocks[0]
        if first.gain_residual is None or first.gain_plain is None:
            return [first.branch_gain.estimate]
        return [first.gain_residual.estimate, first.gain_plain.estimate]


@dataclass(frozen=True, eq=False)
class LayerElements:
    """One layer's gradient element by element: its magnitudes, and per format the fractions of
    its nonzero elements rounded once to 0, to a subnormal, beyond the largest finite value."""

    name: str
    magnitudes: Magnitudes | None
    stored: tuple[tuple[str, Elements], ...]


@dataclass(frozen=True, eq=False, repr=False)
class ElementsResult(Result):
    """``skipcalc.precision`` of gradients given element by element (tensors, arrays, a
    recording): each layer's verdict per format, and each format's loss-scale window."""

    layers: tuple[LayerElements, ...]
    formats: tuple[str, ...]
    windows: tuple[tuple[str, ScaleWindow], ...]
    source: str | None = None

    @property
    def headline(self) -> list[Any]:
        return [end if end is not None else "none" for _, w in self.windows for end in (w.lowest, w.highest)]
