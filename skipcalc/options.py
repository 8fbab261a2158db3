"""The command line, declared once: every command, its options, and where each applies.

This module imports no Typer. From it, cli.py builds the Typer app (help, completion) and
console.py the fast path for scripted calls; both read arguments with :func:`tokenize` and
check them with :func:`check`, so an unknown, repeated or misplaced option gets the same
one-line refusal, naming the fix, whichever path answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, suggest

FORMATS = ("table", "json", "csv", "value")
MACHINE = ("json", "csv", "value")


@dataclass(frozen=True)
class Opt:
    """One option. ``modes`` and ``formats`` say where it applies (empty: everywhere);
    ``requires`` names an option it needs, ``excludes`` options it cannot be given with."""

    name: str
    help: str
    kind: str = "value"  # "flag", "switch" (--plot/--no-plot), "value", "multi" (repeatable)
    metavar: str = ""
    modes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    requires: str = ""
    excludes: tuple[str, ...] = ()
    default: str = ""  # for the help text only: a given option is one the user typed

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")

    @property
    def off(self) -> str:
        """A switch's negative form: --no-plot."""
        return "--no-" + self.name[2:] if self.kind == "switch" else ""

    @property
    def takes_value(self) -> bool:
        return self.kind in ("value", "multi")


@dataclass(frozen=True)
class Mode:
    """A way a command runs, chosen by a trigger option (or by default, with no trigger)."""

    name: str
    trigger: str
    label: str  # how a message names it: "with --random-jacobians"


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    description: str
    options: tuple[Opt, ...]
    arguments: str = ""  # metavar of the positional arguments; "" for none
    argument_help: str = ""
    modes: tuple[Mode, ...] = (Mode("single", "", ""),)
    group: str = ""  # "init" for its subcommands

    @property
    def path(self) -> str:
        return f"skipcalc {self.group + ' ' if self.group else ''}{self.name}"

    def find(self, name: str) -> Opt | None:
        for opt in self.options:
            if name in (opt.name, opt.off):
                return opt
        return None

    @property
    def names(self) -> list[str]:
        return [n for opt in self.options for n in (opt.name, opt.off) if n]


# ---------------------------------------------------------------------------
# The declaration

CHAIN_MODES = (
    Mode("random", "--random-jacobians", "with --random-jacobians"),
    Mode("jacobian", "--jacobian", "with --jacobian"),
    Mode("formula", "--fn", "with --fn"),
    Mode("batch", "--batch", "with --batch"),
    Mode("numbers", "", "with numeric derivatives"),
)
LAYERED = ("numbers", "formula", "jacobian")
CHARTED = ("numbers", "formula", "jacobian", "random")


def _output(derivations: tuple[str, ...] = (), exact_modes: tuple[str, ...] = ()) -> tuple[Opt, ...]:
    """--format, --exact and --digits, which every command takes, and --symbolic/--latex where
    a derivation is shown."""
    opts = [
        Opt("--format", "table, json, csv or value.", metavar="FORMAT", default="table"),
        Opt("--exact", "Print every number whole, however long.", "flag", modes=exact_modes, excludes=("--digits",)),
        Opt(
            "--digits",
            "Significant digits of rounded values (1-40).",
            metavar="N",
            default="12 in tables, 40 otherwise",
        ),
    ]
    if derivations:
        opts += [
            Opt(
                "--symbolic",
                "Add the SymPy derivation (str and LaTeX) to the json.",
                "flag",
                modes=derivations,
                formats=("json",),
            ),
            Opt("--latex", "Print only the derivation, as LaTeX.", "flag", modes=derivations, formats=("table",)),
        ]
    return tuple(opts)


def _networks(modes: tuple[str, ...] = ()) -> tuple[Opt, ...]:
    return (
        Opt("--residual", "Show only the residual network.", "flag", modes=modes, excludes=("--plain", "--block")),
        Opt("--plain", "Show only the plain network.", "flag", modes=modes, excludes=("--block",)),
        Opt(
            "--block",
            "A skip-connection variant, a*x + b*F(x): plain, residual, scaled:L, rezero:A, highway:T (the gate at "
            "one operating point: a real gate depends on x), stochastic:P (the expected gradient) or "
            "stochastic:linear:P_L; repeat to compare, in order.",
            "multi",
            metavar="SPEC",
            modes=modes,
        ),
    )


def _charts(modes: tuple[str, ...] = ()) -> tuple[Opt, ...]:
    return (
        Opt("--plot", "Draw the chart under the table.", "switch", modes=modes, formats=("table",)),
        Opt("--save", "Also write the chart to FILE (.png, .svg or .pdf).", metavar="FILE", modes=modes),
        Opt("--force", "Let --save replace an existing file.", "flag", modes=modes, requires="--save"),
    )


_ALL_ROWS = Opt("--all-rows", "Print every row of a long table (else the first and last).", "flag", formats=("table",))
_BATCH = Opt("--batch", "One case per stdin line; one result per line (json, csv or value).", "flag", formats=MACHINE)
_KEEP_GOING = Opt("--keep-going", "Report a bad line in-band and go on.", "flag", modes=("batch",))
_DTYPE = Opt(
    "--dtype",
    "Also show the gradients as FORMAT stores them, and the loss scales that keep them: float64, float32, "
    "bfloat16, float16, float8_e4m3fn or float8_e5m2.",
    metavar="FORMAT",
    modes=("numbers", "formula"),
)
_KINDS_OF_LAYERS = (
    Opt("--fn", "A layer F_i(x) as a formula, e.g. 'tanh(x)'; repeat, in forward order.", "multi", metavar="F"),
    Opt("--at", "x_0, where the --fn forward pass starts.", metavar="X0", modes=("formula",)),
    Opt(
        "--jacobian", "A layer's Jacobian, e.g. '[[0.1,0.2],[0,0.3]]'; repeat, in forward order.", "multi", metavar="M"
    ),
)


def _chain_tail(charted: tuple[str, ...]) -> tuple[Opt, ...]:
    """The options chain and backprop share after their own: formats, charts, output, --batch."""
    exact = ("numbers", "formula", "jacobian", "batch")
    return (_DTYPE, *_charts(charted), _ALL_ROWS, *_output(("numbers", "formula"), exact), _BATCH, _KEEP_GOING)


_DERIVATIVES = "Local derivatives D1 ... Dn in forward order (D1 = F1'(x0)); - reads them from stdin."

CHAIN = Command(
    "chain",
    "dx_n/dx_k through a plain and a residual network, layer by layer.",
    "Plain: D1*...*Dn. Residual (x_i = x_{i-1} + F_i(x_{i-1})): (1+D1)*...*(1+Dn). "
    "With --fn, each layer is a formula that SymPy differentiates, run forward from --at. "
    "With --jacobian, each layer is a d x d matrix J_i and a residual block's derivative is I + J_i. "
    "With --batch, each stdin line holds one chain's derivatives.\n\n"
    "Example: skipcalc chain 0.1 0.1 0.1 --residual",
    (
        *_networks(),
        Opt(
            "--layers",
            "Repeat the layers given to N layers (with --random-jacobians: draw N).",
            metavar="N",
            modes=(*LAYERED, "random"),
        ),
        *_KINDS_OF_LAYERS,
        Opt("--random-jacobians", "Gaussian d x d Jacobians (--dim, --layers, --scale, --seed).", "flag"),
        Opt("--dim", "Their size d.", metavar="D", modes=("random",), default="64"),
        Opt("--scale", "Entries ~ N(0, s^2/d).", metavar="S", modes=("random",), default="1"),
        Opt("--seed", "Random seed (0 to 2^63 - 1).", metavar="K", modes=("random",), default="0"),
        *_chain_tail(CHARTED),
    ),
    "D",
    _DERIVATIVES,
    CHAIN_MODES,
)

BACKPROP = Command(
    "backprop",
    "dL/dx_k for every layer input: the loss gradient times the chain.",
    "dL/dx_n comes from --target and --pred (with --kind) or directly from --loss-grad. "
    "With --fn and --target alone, each network's prediction is its own output. "
    "With --jacobian, --loss-grad is a vector ('[1,-2]') and the result is the gradient vector reaching x_0, "
    "(dx_n/dx_0)^T dL/dx_n. With --batch, each stdin line holds one chain's derivatives; the loss options "
    "apply to all.\n\n"
    "Example: skipcalc backprop 0.1 0.1 0.1 --target 10 --pred 8",
    (
        Opt("--target", "Target T.", metavar="T", modes=("numbers", "formula", "batch"), excludes=("--loss-grad",)),
        Opt(
            "--pred",
            "Prediction P = x_n (with --fn: default, each network's own output).",
            metavar="P",
            modes=("numbers", "formula", "batch"),
            requires="--target",
        ),
        Opt("--loss-grad", "dL/dx_n directly (a vector with --jacobian).", metavar="G"),
        Opt("--kind", "The loss: mse, mae, huber or bce.", metavar="KIND", requires="--target", default="mse"),
        Opt("--delta", "Huber's threshold (--kind huber).", metavar="D", requires="--kind", default="1"),
        *_networks(),
        Opt("--layers", "Repeat the layers given to N layers.", metavar="N", modes=LAYERED),
        *_KINDS_OF_LAYERS,
        *_chain_tail(LAYERED),
    ),
    "D",
    _DERIVATIVES,
    CHAIN_MODES[1:],
)

_SINGLE_OR_BATCH = (Mode("batch", "--batch", "with --batch"), Mode("single", "", ""))

LOSS = Command(
    "loss",
    "The loss for one sample, dL/dpred, and which way the prediction must move.",
    "mse is L = (T - P)^2, the single-sample un-halved form, so dL/dP = -2(T - P). "
    "With --batch, each stdin line gives key=value pairs (target=10 pred=8 kind=mae delta=1) over the options "
    "given here.\n\n"
    "Example: skipcalc loss --target 10 --pred 8",
    (
        Opt("--target", "The true value T.", metavar="T"),
        Opt("--pred", "The prediction P.", metavar="P"),
        Opt(
            "--kind",
            "mse: (T-P)^2 (one sample, not halved); mae; huber; bce (0 < P < 1).",
            metavar="KIND",
            default="mse",
        ),
        Opt("--delta", "Huber's threshold (--kind huber).", metavar="D", default="1"),
        *_output(("single",)),
        _BATCH,
        _KEEP_GOING,
    ),
    modes=_SINGLE_OR_BATCH,
)

UPDATE = Command(
    "update",
    "One gradient-descent step: new weight = W - LR * G * X.",
    "With --batch, each stdin line gives key=value pairs (weight=0.5 lr=0.1 grad=-4 input=1) over the options "
    "given here.\n\n"
    "Example: skipcalc update --weight 0.5 --lr 0.1 --grad -5.324 --input 1",
    (
        Opt("--weight", "The weight before the step.", metavar="W"),
        Opt("--lr", "Learning rate.", metavar="LR"),
        Opt("--grad", "Gradient reaching the weight's layer.", metavar="G"),
        Opt("--input", "The input the weight multiplies.", metavar="X"),
        *_output(),
        _BATCH,
        _KEEP_GOING,
    ),
    modes=_SINGLE_OR_BATCH,
)

DEPTH = Command(
    "depth",
    "How the gradient decays with depth: D^n (plain) against (1+D)^n (residual).",
    "The summary gives, exactly and for any depth, where each float format loses the gradient: the first "
    "depth where the plain gradient turns subnormal (below the smallest normal number), where it rounds to zero, "
    "and where the residual one overflows; and where plain falls below --vanish.\n\n"
    "Example: skipcalc depth --local 0.1 --depths 1,10,50,100",
    (
        Opt("--local", "Every layer's local derivative D.", metavar="D"),
        Opt("--max", "Depths 1..N.", metavar="N", excludes=("--depths",), default="50"),
        Opt("--depths", "Depths to list: 1,2,5,...", metavar="LIST"),
        Opt("--loss-grad", "Scale every gradient by dL/dx_n = G.", metavar="G"),
        Opt("--vanish", "The threshold for 'vanished'.", metavar="T", default="1e-6"),
        *_networks(),
        *_charts(),
        _ALL_ROWS,
        *_output(),
    ),
)

PATHS = Command(
    "paths",
    "The residual gradient split by path length k: C(n,k) paths contributing e_k(D).",
    "A stack of n blocks is 2^n paths; the C(n,k) through exactly k branches together contribute e_k. The band "
    "is the shortest run of lengths carrying --mass of the magnitude (the heaviest, among equally short ones).\n\n"
    "Example: skipcalc paths --uniform 0.1 --layers 110",
    (
        Opt("--uniform", "Every D_i = D (with --layers).", metavar="D"),
        Opt("--layers", "n, with --uniform.", metavar="N", modes=("uniform",)),
        Opt("--mass", "The share of |gradient| the band carries.", metavar="M", default="0.9"),
        Opt("--block", "The skip-connection variant (see chain --help).", metavar="SPEC", default="residual"),
        *_charts(),
        _ALL_ROWS,
        *_output(),
    ),
    "D",
    _DERIVATIVES,
    (Mode("uniform", "--uniform", "with --uniform"), Mode("numbers", "", "with numeric derivatives")),
)

_INIT_SOURCES = {
    "deepnorm": "Wang et al. 2022, 'DeepNet: Scaling Transformers to 1,000 Layers', table 1",
    "fixup": "Zhang, Dauphin and Ma 2019, 'Fixup Initialization', section 3",
    "gain": "PyTorch's torch.nn.init.calculate_gain; He et al. 2015 (Kaiming); Glorot and Bengio 2010 (Xavier)",
    "stochastic-depth": "Huang et al. 2016, 'Deep Networks with Stochastic Depth', eq. (4)",
}

INIT = (
    Command(
        "deepnorm",
        "DeepNorm's alpha (skip scale) and beta (initialisation gain).",
        "x_{l+1} = LayerNorm(alpha x_l + G(x_l)), with the branch's weights initialised with gain beta. One stack "
        "of N layers: alpha = (2N)^(1/4), beta = (8N)^(-1/4). An encoder-decoder: encoder alpha = 0.81 (N^4 M)^(1/16), "
        "beta = 0.87 (N^4 M)^(-1/16); decoder alpha = (3M)^(1/4), beta = (12M)^(-1/4). The official code divides the "
        "encoder weights by (N^4 M)^(1/16)/1.15, a beta of 1.15 (N^4 M)^(-1/16): 1.32 times the paper's; both are "
        f"shown. Source: {_INIT_SOURCES['deepnorm']}.\n\n"
        "Example: skipcalc init deepnorm --layers 18",
        (
            Opt("--layers", "N, for one stack.", metavar="N", excludes=("--encoder-layers", "--decoder-layers")),
            Opt("--encoder-layers", "N, the encoder's layers.", metavar="N", requires="--decoder-layers"),
            Opt("--decoder-layers", "M, the decoder's layers.", metavar="M", requires="--encoder-layers"),
            *_output(),
        ),
        group="init",
    ),
    Command(
        "fixup",
        "Fixup's scale for the weights inside each residual branch.",
        "With L residual branches of m layers each, the weights inside each branch are initialised with the "
        "standard method and scaled by L^(-1/(2m-2)), and the last layer of each branch starts at zero (so each "
        f"block starts as the identity). Source: {_INIT_SOURCES['fixup']}.\n\n"
        "Example: skipcalc init fixup --branches 16 --branch-depth 2",
        (
            Opt("--branches", "L, the residual branches.", metavar="L"),
            Opt("--branch-depth", "m, layers per branch (at least 2).", metavar="M"),
            *_output(),
        ),
        group="init",
    ),
    Command(
        "gain",
        "PyTorch's recommended gain for a nonlinearity, and the init std it gives.",
        "linear, conv1d/2d/3d, conv_transpose1d/2d/3d and sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: "
        "sqrt(2/(1 + a^2)) (--param a, default 0.01); selu: 3/4. With --fan-in, the Kaiming std gain/sqrt(fan_in); "
        "with --fan-in and --fan-out, the Xavier std gain*sqrt(2/(fan_in + fan_out)). "
        f"Source: {_INIT_SOURCES['gain']}.\n\n"
        "Example: skipcalc init gain relu --fan-in 512",
        (
            Opt("--param", "leaky_relu's negative slope a.", metavar="A", default="0.01"),
            Opt("--fan-in", "Inputs per unit.", metavar="N"),
            Opt("--fan-out", "Outputs per unit.", metavar="M", requires="--fan-in"),
            *_output(),
        ),
        "NONLINEARITY",
        "linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, "
        "leaky_relu or selu.",
        group="init",
    ),
    Command(
        "stochastic-depth",
        "Survival probabilities under stochastic depth's linear decay, and the expected depth.",
        "Block l of L survives with p_l = 1 - (l/L)(1 - p_L); the expected number of blocks that run is the sum of "
        f"the p_l, (3L - 1)/4 for p_L = 1/2. Source: {_INIT_SOURCES['stochastic-depth']}.\n\n"
        "Example: skipcalc init stochastic-depth --layers 110 --last 0.5",
        (
            Opt("--layers", "L, the residual blocks.", metavar="L"),
            Opt("--last", "p_L, the last block's survival probability.", metavar="P", default="0.5"),
            _ALL_ROWS,
            *_output(),
        ),
        group="init",
    ),
)

COMMANDS = {c.name: c for c in (CHAIN, BACKPROP, LOSS, UPDATE, DEPTH, PATHS)}
INIT_COMMANDS = {c.name: c for c in INIT}
TOP_HELP = "Exact gradients through plain, residual and other skip-connection networks."
INIT_HELP = "The constants that make deep stacks train: DeepNorm, Fixup, init gains, stochastic depth."


def find_command(words: Sequence[str]) -> tuple[Command, list[str]]:
    """The command named by the first words, and the arguments after it; refused by name with
    the nearest command when there is none."""
    if not words:
        raise InputError("give a command: " + ", ".join([*COMMANDS, "init"]))
    name = words[0]
    if name == "init":
        if len(words) < 2:
            raise InputError("init: give a scheme: " + ", ".join(INIT_COMMANDS))
        return _lookup(INIT_COMMANDS, words[1], "init "), list(words[2:])
    return _lookup(COMMANDS, name, ""), list(words[1:])


def _lookup(table: dict[str, Command], name: str, prefix: str) -> Command:
    if name in table:
        return table[name]
    choices = list(table) + ([] if prefix else ["init"])
    raise InputError(
        f"{prefix}{name}: no such command; {suggest(name, choices, prefix)}expected one of {', '.join(choices)}"
    )


# ---------------------------------------------------------------------------
# Reading arguments


@dataclass
class Parsed:
    """What the user gave: option values by dest (only those given), and positional arguments."""

    command: Command
    values: dict[str, Any] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    help: bool = False

    def given(self, name: str) -> bool:
        opt = self.command.find(name)
        return opt is not None and opt.dest in self.values


def is_number_like(token: str) -> bool:
    """-0.5, -.5, -1e-3 and -1/3 are arguments, not options."""
    return len(token) > 1 and (token[1].isdigit() or token[1] == ".")


def tokenize(command: Command, args: Sequence[str]) -> Parsed:
    """Read ``args`` by the declaration: options (``--name value``, ``--name=value``), flags,
    and positional arguments (negative numbers included; everything after ``--``)."""
    parsed = Parsed(command)
    rest = list(args)
    i = 0
    while i < len(rest):
        token = rest[i]
        i += 1
        if token == "--":
            if rest[i:] and not command.arguments:
                raise InputError(
                    f"{rest[i]!r}: {command.path.removeprefix('skipcalc ')} takes no arguments, only options"
                )
            parsed.arguments.extend(rest[i:])
            break
        if token in ("-h", "--help"):
            parsed.help = True
            continue
        if not token.startswith("-") or token == "-" or is_number_like(token):
            if not command.arguments:
                raise InputError(
                    f"{token!r}: {command.path.removeprefix('skipcalc ')} takes no arguments, only options"
                )
            parsed.arguments.append(token)
            continue
        name, equals, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        opt = command.find(name)
        if opt is None:
            raise InputError(unknown(command, name))
        if not opt.takes_value:
            if equals:
                raise InputError(f"{name}: takes no value (a flag); remove ={inline}")
            value: Any = name != opt.off
            if opt.dest in parsed.values and parsed.values[opt.dest] != value:
                raise InputError(f"{opt.name}/{opt.off}: give one or the other")
            parsed.values[opt.dest] = value
            continue
        if equals:
            text = inline
        else:
            if i >= len(rest) or (command.find(rest[i].partition("=")[0]) is not None and not is_number_like(rest[i])):
                raise InputError(f"{name}: needs a value ({opt.metavar or 'a value'})")
            text = rest[i]
            i += 1
        if opt.kind == "multi":
            parsed.values.setdefault(opt.dest, []).append(text)
        elif opt.dest in parsed.values:
            raise InputError(f"{name}: given twice ({parsed.values[opt.dest]!r} and {text!r}); give it once")
        else:
            parsed.values[opt.dest] = text
    return parsed


def unknown(command: Command, name: str) -> str:
    """The refusal for an option ``command`` does not have, with the nearest real ones."""
    hint = suggest(name, command.names)
    if hint:
        return f"{name}: no such option; {hint}(see {command.path} --help)"
    return f"{name}: no such option of {command.path.removeprefix('skipcalc ')} (see {command.path} --help)"


# ---------------------------------------------------------------------------
# Where options apply


def mode_of(parsed: Parsed) -> Mode:
    """The mode the triggers choose; two triggers, or arguments where a trigger takes none,
    are refused by name."""
    command = parsed.command
    triggered = [m for m in command.modes if m.trigger and parsed.given(m.trigger)]
    if len(triggered) > 1:
        a, b = triggered[0].trigger, triggered[1].trigger
        raise InputError(f"{b}: cannot be combined with {a}; give one kind of layers")
    if triggered:
        mode = triggered[0]
        if parsed.arguments and command.arguments == "D":
            what = "stdin, one chain per line" if mode.name == "batch" else mode.trigger
            raise InputError(
                f"{mode.trigger}: the layers come from {what}; give no numeric derivatives as arguments "
                f"(got {parsed.arguments[0]!r})"
            )
        return mode
    return next(m for m in command.modes if not m.trigger)


def check(parsed: Parsed, mode: Mode, fmt: str) -> None:
    """Every option given applies here, or is refused by name with where it applies."""
    command = parsed.command
    for opt in command.options:
        if opt.dest not in parsed.values:
            continue
        shown = opt.off if parsed.values[opt.dest] is False and opt.off else opt.name
        if opt.modes and mode.name not in opt.modes:
            where = " or ".join(_mode_label(command, m) for m in opt.modes)
            here = f" (this is {command.name} {mode.label})" if mode.label else ""
            raise InputError(f"{shown}: applies only {where}{here}")
        if opt.formats and fmt not in opt.formats:
            formats = " or ".join(f"--format {f}" for f in opt.formats)
            raise InputError(
                f"{shown}: applies only with {formats}" + (" (the default)" if opt.formats == ("table",) else "")
            )
        if opt.requires and not parsed.given(opt.requires):
            raise InputError(f"{shown}: applies only with {opt.requires}")
        for other in opt.excludes:
            if parsed.given(other):
                raise InputError(f"{other}: cannot be combined with {shown}{_why(opt.name, other)}")


def _why(name: str, other: str) -> str:
    reasons = {
        ("--exact", "--digits"): " (--exact prints every digit)",
        ("--max", "--depths"): "; give one or the other",
        ("--target", "--loss-grad"): "; give --loss-grad, or --target with --pred",
    }
    return reasons.get((name, other), "")


def _mode_label(command: Command, name: str) -> str:
    for mode in command.modes:
        if mode.name == name:
            return mode.label or "without --batch"
    return name


def applies_text(command: Command, opt: Opt) -> str:
    """Where an option applies, for its help: "[with --fn]"."""
    parts = []
    if opt.modes and len(opt.modes) < len(command.modes):
        parts.append(" or ".join(_mode_label(command, m) for m in opt.modes))
    if opt.formats:
        parts.append(" or ".join(f"--format {f}" for f in opt.formats))
    if opt.requires:
        parts.append(f"with {opt.requires}")
    return f" [{'; '.join(parts)}]" if parts else ""
