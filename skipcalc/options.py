"""The interface, declared once: every command, its options, and for each option its kind (how
a value is read), default, range, help and where it applies.

Three readers use this declaration and nothing else: the Python API (:mod:`skipcalc.api`),
which reads its keyword arguments with :func:`skipcalc.schema.read`; the command line's reader
(:mod:`skipcalc.cli.reader`), which splits argv by it and hands the texts to the API; and the
Typer app (:mod:`skipcalc.cli.app`), which builds help and shell completion from it. A value is
read by its option's kind in one place, whether it came as text from a shell or as a Python
number; a given option that does not apply where it was given is refused by name.

This module imports no Typer, Rich or SymPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from .common_options import _ALL_ROWS, FLAG, FORMAT, MACHINE, _charts
from .core import limits
from .core.errors import InputError, suggest
from .core.exact import quote, to_number
from .schema import (
    Argument,
    BlockKind,
    Choice,
    Command,
    Depths,
    FileKind,
    MatrixKind,
    Mode,
    Named,
    NumberKind,
    NumberList,
    NumberOrVector,
    Opt,
    Text,
    Whole,
)

NUMBER = NumberKind()
DIGITS = Whole(1, limits.MAX_DIGITS)


def _float_formats() -> tuple[str, ...]:
    from .core.float_formats import NAMES

    return (*NAMES, "all")


def _loss_kinds() -> tuple[str, ...]:
    from .core.losses import KINDS

    return KINDS


def _schemes() -> tuple[str, ...]:
    from .core.init import SCHEMES

    return SCHEMES


def _gains() -> tuple[str, ...]:
    from .core.init import GAIN_NAMES

    return GAIN_NAMES


FLOAT_FORMAT = Choice(
    _float_formats,
    "a float format",
    {
        "fp64": "float64",
        "double": "float64",
        "f64": "float64",
        "fp32": "float32",
        "single": "float32",
        "f32": "float32",
        "float": "float32",
        "bf16": "bfloat16",
        "fp16": "float16",
        "half": "float16",
        "f16": "float16",
        "e4m3": "float8_e4m3fn",
        "fp8_e4m3": "float8_e4m3fn",
        "float8_e4m3": "float8_e4m3fn",
        "e5m2": "float8_e5m2",
        "fp8_e5m2": "float8_e5m2",
    },
    metavar="FORMAT",
)
LOSS_KIND = Choice(_loss_kinds, "a loss", {"l2": "mse", "l1": "mae", "smooth_l1": "huber", "bce_loss": "bce"}, "KIND")


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


def _output(
    derivations: tuple[str, ...] = (), exact_modes: tuple[str, ...] = (), api_exact: bool = False
) -> tuple[Opt, ...]:
    """--format, --exact and --digits, which every command takes, and --symbolic/--latex where
    a derivation is shown. --exact is also an API keyword where it changes what is computed
    (chains refuse, rather than round, what is too large to build exactly)."""
    opts = [
        FORMAT,
        Opt(
            "--exact",
            FLAG,
            "Print every number whole, however long.",
            modes=exact_modes,
            excludes=("--digits",),
            keyword="exact" if api_exact else "",
        ),
        Opt(
            "--digits",
            DIGITS,
            "Significant digits of rounded values (1-40).",
            keyword="",
            default_text="12 in tables, 40 otherwise",
        ),
    ]
    if derivations:
        opts += [
            Opt(
                "--symbolic",
                FLAG,
                "Add the SymPy derivation (str and LaTeX) to the json.",
                modes=derivations,
                formats=("json",),
                keyword="",
            ),
            Opt(
                "--latex",
                FLAG,
                "Print only the derivation, as LaTeX (numbers to --digits, 40 by default, or whole with --exact).",
                modes=derivations,
                formats=("table",),
                keyword="",
                excludes=("--dtype", "--all-rows", "--plot", "--save"),
            ),
        ]
    return tuple(opts)


BLOCK_HELP = (
    "A skip-connection variant, a*x + b*F(x): plain, residual, scaled:L, rezero:A, highway:T (the gate at one "
    "operating point: a real gate depends on x), stochastic:P or stochastic:linear:P_L (survival P: the expected "
    "gradient with numeric derivatives, the test-time network x + P*F(x) with --fn); repeat to compare, in order."
)


MEANFIELD_BLOCK_HELP = (
    "A skip-connection variant, a*x + b*(W act(x) + b): plain, residual, scaled:L, rezero:A, highway:T, "
    "stochastic:P (its gate Bernoulli(P): E[b^2] = P) or stochastic:linear:P_L; repeat to compare, in order."
)


def _networks(modes: tuple[str, ...] = (), help: str = BLOCK_HELP) -> tuple[Opt, ...]:
    return (
        Opt("--residual", FLAG, "Show only the residual network.", modes=modes, excludes=("--plain", "--block")),
        Opt("--plain", FLAG, "Show only the plain network.", modes=modes, excludes=("--block",)),
        Opt("--block", BlockKind(), help, many=True, modes=modes, keyword="blocks"),
    )


_BATCH = Opt(
    "--batch", FLAG, "One case per stdin line; one result per line (json, csv or value).", formats=MACHINE, keyword=""
)
_KEEP_GOING = Opt("--keep-going", FLAG, "Report a bad line in-band and go on.", modes=("batch",), keyword="")
_KEYED_BATCH = (
    Opt(
        "--batch",
        FLAG,
        "One case per stdin line, as key=value pairs over the options given here (and the arguments as words); "
        "one result per line (json, csv or value).",
        formats=MACHINE,
        keyword="",
    ),
    Opt("--keep-going", FLAG, "Report a bad line in-band and go on.", requires="--batch", keyword=""),
)
_PER_LAYER = Opt(
    "--per-layer",
    FLAG,
    "With --batch --format csv or json: a row per layer of every case, or each case's per-layer values (else "
    "a row or object per case).",
    modes=("batch",),
    formats=("csv", "json"),
    keyword="",
)
_DTYPE = Opt(
    "--dtype",
    FLOAT_FORMAT,
    "Also show the gradients in FORMAT as a backward pass in it computes them (and each exact one rounded "
    "once, in the json), the loss scales that keep them and GradScaler's way to one: float64, float32, "
    "bfloat16, float16, float8_e4m3fn, float8_e5m2 or all; repeat for several.",
    many=True,
    modes=("numbers", "formula"),
    formats=("table", "json", "csv"),
)
_KINDS_OF_LAYERS = (
    Opt("--fn", Text("F"), "A layer F_i(x) as a formula, e.g. 'tanh(x)'; repeat, in forward order.", many=True),
    Opt("--at", NUMBER, "x_0, where the --fn forward pass starts.", modes=("formula",)),
    Opt(
        "--jacobian",
        MatrixKind(),
        "A layer's Jacobian, e.g. '[[0.1,0.2],[0,0.3]]'; repeat, in forward order.",
        many=True,
    ),
)


def _chain_tail(charted: tuple[str, ...]) -> tuple[Opt, ...]:
    """The options chain and backprop share after their own: formats, charts, output, --batch."""
    exact = ("numbers", "formula", "jacobian", "batch")
    return (
        _DTYPE,
        *_charts(charted),
        _ALL_ROWS,
        *_output(("numbers", "formula"), exact, api_exact=True),
        _BATCH,
        _KEEP_GOING,
        _PER_LAYER,
    )


def _derivatives(most: int, accepts: str) -> Argument:
    return Argument(
        "D",
        "Local derivatives D1 ... Dn in forward order (D1 = F1'(x0)); - reads them from stdin.",
        "local",
        most=most,
        accepts=accepts,
    )


CHAIN = Command(
    "chain",
    "dx_n/dx_k through a plain and a residual network, layer by layer.",
    "Plain: D1*...*Dn. Residual (x_i = x_{i-1} + F_i(x_{i-1})): (1+D1)*...*(1+Dn). "
    "With --fn, each layer is a formula that SymPy differentiates, run forward from --at. "
    "With --jacobian, each layer is a d x d matrix J_i and a residual block's derivative is I + J_i. "
    "With --batch, each stdin line holds one chain's derivatives.",
    (
        *_networks(),
        Opt(
            "--layers",
            Whole(1, limits.MAX_LAYERS),
            "Repeat the layers given to N layers (with --batch: each line's; with --random-jacobians: draw N, at "
            "most 1000).",
            modes=(*LAYERED, "random", "batch"),
        ),
        *_KINDS_OF_LAYERS,
        Opt("--random-jacobians", FLAG, "Gaussian d x d Jacobians (--dim, --layers, --scale, --seed)."),
        Opt("--dim", Whole(1, limits.RANDOM_DIM, "D"), "Their size d.", default=64, modes=("random",)),
        Opt(
            "--scale",
            NumberKind(Fraction(0), Fraction(limits.RANDOM_SCALE), expected="a scale from 0 to 100", metavar="S"),
            "Entries ~ N(0, s^2/d).",
            default=Fraction(1),
            modes=("random",),
        ),
        Opt("--seed", Whole(0, limits.MAX_SEED, "K"), "Random seed (0 to 2^63 - 1).", default=0, modes=("random",)),
        Opt(
            "--weights",
            Choice(("gaussian", "orthogonal"), "a weight distribution", metavar="KIND"),
            "gaussian, or orthogonal (s times a Haar matrix: every singular value of the product is s^L).",
            default="gaussian",
            modes=("random",),
        ),
        *_chain_tail(CHARTED),
    ),
    _derivatives(limits.MAX_LAYERS, "layers one chain accepts"),
    CHAIN_MODES,
    example="skipcalc chain 0.1 0.1 0.1 --residual",
)

BACKPROP = Command(
    "backprop",
    "dL/dx_k for every layer input: the loss gradient times the chain.",
    "dL/dx_n comes from --target and --pred (with --kind) or directly from --loss-grad. "
    "With --fn and --target alone, each network's prediction is its own output. "
    "With --jacobian, --loss-grad is a vector ('[1,-2]') and the result is the gradient vector reaching x_0, "
    "(dx_n/dx_0)^T dL/dx_n. With --batch, each stdin line holds one chain's derivatives; the loss options "
    "apply to all.",
    (
        Opt("--target", NUMBER, "Target T.", modes=("numbers", "formula", "batch"), excludes=("--loss-grad",)),
        Opt(
            "--pred",
            NUMBER,
            "Prediction P = x_n (with --fn: default, each network's own output).",
            modes=("numbers", "formula", "batch"),
            requires="--target",
        ),
        Opt("--loss-grad", NumberOrVector(), "dL/dx_n directly (a vector with --jacobian)."),
        Opt("--kind", LOSS_KIND, "The loss: mse, mae, huber or bce.", default="mse", requires="--target"),
        Opt(
            "--delta",
            NumberKind(Fraction(0), open_low=True, expected="a number > 0", metavar="D"),
            "Huber's threshold (--kind huber).",
            default_text="1",
            requires="--kind",
        ),
        Opt(
            "--lr",
            NumberKind(metavar="LR"),
            "Finish with the first layer's update in each network: new = W - LR * dL/dx_0 * X.",
            modes=("numbers",),
            requires="--weight",
        ),
        Opt(
            "--weight",
            NumberKind(metavar="W"),
            "The first layer's weight before the update.",
            modes=("numbers",),
            requires="--lr",
        ),
        Opt(
            "--input",
            NumberKind(metavar="X"),
            "The input the weight multiplies.",
            default=Fraction(1),
            modes=("numbers",),
            requires="--lr",
        ),
        *_networks(),
        Opt(
            "--layers",
            Whole(1, limits.MAX_LAYERS),
            "Repeat the layers given to N layers (with --batch: each line's).",
            modes=(*LAYERED, "batch"),
        ),
        *_KINDS_OF_LAYERS,
        *_chain_tail(LAYERED),
    ),
    _derivatives(limits.MAX_LAYERS, "layers one chain accepts"),
    CHAIN_MODES[1:],
    example="skipcalc backprop 0.1 0.1 0.1 --target 10 --pred 8",
)

_SINGLE_OR_BATCH = (Mode("batch", "--batch", "with --batch"), Mode("single", "", ""))

LOSS = Command(
    "loss",
    "The loss for one sample, dL/dpred, and which way the prediction must move.",
    "mse is L = (T - P)^2, the single-sample un-halved form, so dL/dP = -2(T - P). "
    "With --batch, each stdin line gives key=value pairs (target=10 pred=8 kind=mae delta=1) over the options "
    "given here.",
    (
        Opt("--target", NUMBER, "The true value T.", required="give --target T"),
        Opt("--pred", NUMBER, "The prediction P.", required="give --pred P"),
        Opt("--kind", LOSS_KIND, "mse: (T-P)^2 (one sample, not halved); mae; huber; bce (0 < P < 1).", default="mse"),
        Opt(
            "--delta",
            NumberKind(Fraction(0), open_low=True, expected="a number > 0", metavar="D"),
            "Huber's threshold (--kind huber).",
            default_text="1",
        ),
        *_output(("single",)),
        _BATCH,
        _KEEP_GOING,
    ),
    modes=_SINGLE_OR_BATCH,
    example="skipcalc loss --target 10 --pred 8",
)

UPDATE = Command(
    "update",
    "One gradient-descent step: new weight = W - LR * G * X.",
    "With --batch, each stdin line gives key=value pairs (weight=0.5 lr=0.1 grad=-4 input=1) over the options "
    "given here.",
    (
        Opt("--weight", NumberKind(metavar="W"), "The weight before the step.", required="give --weight W"),
        Opt("--lr", NumberKind(metavar="LR"), "Learning rate.", required="give --lr LR"),
        Opt("--grad", NumberKind(metavar="G"), "Gradient reaching the weight's layer.", required="give --grad G"),
        Opt("--input", NumberKind(metavar="X"), "The input the weight multiplies.", required="give --input X"),
        *_output(("single",)),
        _BATCH,
        _KEEP_GOING,
    ),
    modes=_SINGLE_OR_BATCH,
    example="skipcalc update --weight 0.5 --lr 0.1 --grad -5.324 --input 1",
)

DEPTH = Command(
    "depth",
    "How the gradient decays with depth: D^n (plain) against (1+D)^n (residual).",
    "The summary gives, exactly and for any depth, where each float format loses each network's gradient: the "
    "first depth where a decaying one turns subnormal (below the smallest normal number) and where it rounds to "
    "zero, and where a growing one overflows; and where plain falls below --vanish.",
    (
        Opt(
            "--local",
            NumberList(NumberKind(metavar="D"), most=limits.MAX_ROWS, metavar="D"),
            "Every layer's local derivative D; several (0.1,0.5 or a range 0.01:1:0.01) give the depth x "
            "derivative map.",
            required="give --local D, every layer's local derivative",
        ),
        Opt("--max", Whole(1, limits.MAX_ROWS), "Depths 1..N.", default=50, excludes=("--depths", "--layers")),
        Opt(
            "--layers",
            Whole(1, limits.MAX_ROWS),
            "Depths 1..N, as the other commands name a network's layers (the same as --max).",
            excludes=("--depths",),
        ),
        Opt("--depths", Depths(), "Depths to list: 1,2,5,... or a range 1:100:1."),
        Opt("--loss-grad", NumberKind(metavar="G"), "Scale every gradient by dL/dx_n = G."),
        Opt(
            "--vanish",
            NumberKind(Fraction(0), open_low=True, expected="a threshold > 0", metavar="T"),
            "The threshold for 'vanished' (the summary says where plain first falls below it).",
            default=Fraction(1, 10**6),
            formats=("table", "json", "csv"),
        ),
        *_networks(),
        *_charts(),
        _ALL_ROWS,
        *_output(),
        *_KEYED_BATCH,
    ),
    example="skipcalc depth --local 0.1 --depths 1,10,50,100",
)

PATHS = Command(
    "paths",
    "The residual gradient split by path length k: C(n,k) paths contributing e_k(D).",
    "A stack of n blocks is 2^n paths; the C(n,k) through exactly k branches together contribute e_k. The band "
    "is the shortest run of lengths carrying --mass of the magnitude (the heaviest, among equally short ones).",
    (
        Opt("--uniform", NumberKind(metavar="D"), "Every D_i = D (with --layers)."),
        Opt("--layers", Whole(1, limits.MAX_PATH_LAYERS), "n, with --uniform.", modes=("uniform",)),
        Opt(
            "--mass",
            NumberKind(Fraction(0), Fraction(1), open_low=True, expected="a share 0 < mass <= 1", metavar="M"),
            "The share of |gradient| the band carries.",
            default=Fraction(9, 10),
        ),
        Opt("--block", BlockKind(), "The skip-connection variant (see chain --help).", default_text="residual"),
        *_charts(),
        _ALL_ROWS,
        *_output(),
        *_KEYED_BATCH,
    ),
    _derivatives(limits.MAX_PATH_LAYERS, "layers paths splits by path length"),
    (Mode("uniform", "--uniform", "with --uniform"), Mode("numbers", "", "with numeric derivatives")),
    example="skipcalc paths --uniform 0.1 --layers 110",
)

PRECISION = Command(
    "precision",
    "Measured per-layer gradients in float formats: what turns subnormal or is lost, and the loss scale.",
    "Gradients G1 ... Gn, layer by layer from a PyTorch hook or a training log, read exactly, and for each "
    "format: the layers whose gradient it stores as a subnormal or loses (0, or beyond its largest finite "
    "value), the powers of two a loss scale may take to keep every one normal and finite, and what PyTorch's "
    "GradScaler does about it (2^16 to start, halved after an overflowing step, doubled after 2000 clean ones).",
    (
        Opt("--csv", FileKind(), "Read the gradients from a CSV file's --column (- for stdin)."),
        Opt("--column", Text("NAME"), "The CSV column holding the gradients.", modes=("csv",)),
        Opt(
            "--group",
            Text("COLUMN=VALUE"),
            "Only the CSV rows whose COLUMN holds VALUE: one network of a file that holds several.",
            modes=("csv",),
        ),
        Opt(
            "--elements",
            FLAG,
            "Each CSV row is one element of its layer's gradient (the layer column says which): the verdict is on "
            "the elements.",
            modes=("csv",),
        ),
        Opt(
            "--dtype",
            FLOAT_FORMAT,
            "A float format: float64, float32, bfloat16, float16, float8_e4m3fn, float8_e5m2 or all; repeat for "
            "several.",
            many=True,
            default=("float16", "bfloat16"),
            default_text="float16 and bfloat16",
        ),
        *_charts(),
        _ALL_ROWS,
        *_output(),
    ),
    Argument(
        "G",
        "Gradients G1 ... Gn, layer by layer (G1 reaches layer 1, nearest the input); - reads them from stdin.",
        "gradients",
        most=limits.MAX_LAYERS,
        accepts="gradients precision reads",
    ),
    (Mode("csv", "--csv", "with --csv"), Mode("numbers", "", "with gradients given")),
    example="skipcalc precision 3e-3 2e-5 4e-8 1e-9",
)


def _activations() -> tuple[str, ...]:
    from .core.meanfield import NAMES

    return NAMES


_VARIANCE = NumberKind(Fraction(0), open_low=True, expected="a variance > 0", metavar="V")
_MF_NETWORK = ("network",)

MEANFIELD = Command(
    "meanfield",
    "Where a wide network's local derivative comes from: mean-field signal propagation at initialization.",
    "Weights N(0, W/width), biases N(0, B), pre-activations x_k = W_k act(x_{k-1}) + b_k. The length map "
    "q_k = W E[act(sqrt(q_{k-1}) z)^2] + B has the fixed point q*; chi1 = W E[act'(sqrt(q*) z)^2] is the factor "
    "by which the mean squared gradient changes per layer (sqrt(chi1) is the note's local derivative): ordered "
    "below 1, chaotic above, critical at 1. c* and chi_c are the correlation map's fixed point and slope, "
    "xi_q and xi_c the depth scales. A block a*x + b*(W act(x) + b) changes it by a^2 + b^2 chi(q) per layer "
    "(Schoenholz et al. 2017; Yang and Schoenholz 2017). relu and linear are exact; the others certified "
    "(quadratures at steps h and 2h agree; a formula also checked by interval arithmetic). --critical gives "
    "the W with chi1 = 1 at each B; --simulate measures real random networks beside the prediction.",
    (
        Opt(
            "--act",
            Named(_activations),
            "The activation: linear, relu, tanh, erf, sigmoid, gelu, softplus, or a formula in x such as "
            "'x*sigmoid(x)'.",
            required="give --act NAME, e.g. --act tanh",
        ),
        Opt("--weight-var", _VARIANCE, "sigma_w^2, the weights' variance times the width.", modes=_MF_NETWORK),
        Opt(
            "--bias-var",
            NumberList(NumberKind(Fraction(0), expected="a variance >= 0", metavar="B"), most=limits.MAX_CRITICAL),
            "sigma_b^2, the biases' variance (with --critical also a list 0,0.05,0.1 or a range 0:0.3:0.05).",
            default_text="0",
        ),
        Opt("--input-var", _VARIANCE, "q_0, the variance of the input x_0.", default=Fraction(1), modes=_MF_NETWORK),
        Opt(
            "--input-corr",
            NumberKind(Fraction(-1), Fraction(1), expected="a correlation from -1 to 1", metavar="C"),
            "Also follow two inputs of correlation C through depth: the correlation of x_k and x'_k per layer "
            "(the forward side: ordered plain networks drive every pair together).",
            modes=_MF_NETWORK,
        ),
        Opt(
            "--layers",
            Whole(1, limits.MAX_MEANFIELD_LAYERS, "L"),
            "Layers L.",
            default=50,
            modes=_MF_NETWORK,
        ),
        *_networks(_MF_NETWORK, MEANFIELD_BLOCK_HELP),
        Opt("--critical", FLAG, "Give the sigma_w^2 of the critical line (chi1 = 1) at each --bias-var."),
        Opt("--simulate", FLAG, "Also measure random networks of --width units (numpy).", modes=_MF_NETWORK),
        Opt(
            "--width",
            Whole(2, limits.MAX_WIDTH),
            "Units per layer: of the simulated networks (default 1000), and fan_in for --init pytorch.",
            modes=_MF_NETWORK,
        ),
        Opt(
            "--init",
            Choice(_schemes, "an initialisation", metavar="SCHEME"),
            "sigma_w^2 and sigma_b^2 from a scheme: pytorch (nn.Linear's default: 1/3 and 1/(3 width), with "
            "--width), he (2, 0), xavier (1, 0, square layers), lecun (1, 0).",
            modes=_MF_NETWORK,
        ),
        Opt(
            "--branch",
            Choice(("pre-act", "post-act"), "a branch form", metavar="FORM"),
            "pre-act: the branch is W act(x) + b (the mean-field papers, pre-activation ResNets); post-act: "
            "act(W x + b), as x = x + act(linear(x)) (each unit's mean and second moment carried).",
            default="pre-act",
            modes=_MF_NETWORK,
        ),
        Opt(
            "--norm",
            Choice(("none", "pre", "post"), "a LayerNorm placement", metavar="WHERE"),
            "LayerNorm (no affine, wide limit x/sqrt(q)): none, pre (x + F(LN(x))) or post (LN(x + F(x))).",
            default="none",
            modes=_MF_NETWORK,
        ),
        Opt(
            "--trials",
            Whole(2, limits.MAX_TRIALS, "T"),
            "Networks simulated per block.",
            default=10,
            requires="--simulate",
        ),
        Opt("--seed", Whole(0, 2**63 - 1, "K"), "The simulation's random seed.", default=0, requires="--simulate"),
        Opt(
            "--weights",
            Choice(("gaussian", "orthogonal"), "a weight distribution", metavar="KIND"),
            "gaussian or orthogonal (scaled Haar) weights in the simulation.",
            default="gaussian",
            requires="--simulate",
        ),
        *[replace(opt, modes=_MF_NETWORK) if opt.name == "--plot" else opt for opt in _charts()],
        _ALL_ROWS,
        *[
            replace(
                opt,
                help="Significant digits certified and shown (1-40).",
                default=16,
                default_text="",
                keyword="digits",
            )
            if opt.name == "--digits"
            else opt
            for opt in _output()
        ],
        *_KEYED_BATCH,
    ),
    modes=(Mode("critical", "--critical", "with --critical"), Mode("network", "", "without --critical")),
    example="skipcalc meanfield --act tanh --weight-var 1.5 --bias-var 0.05 --layers 100",
)


_INIT_SOURCES = {
    "deepnorm": "Wang et al. 2022, 'DeepNet: Scaling Transformers to 1,000 Layers', table 1",
    "fixup": "Zhang, Dauphin and Ma 2019, 'Fixup Initialization', section 3",
    "gain": "PyTorch's torch.nn.init.calculate_gain; He et al. 2015 (Kaiming); Glorot and Bengio 2010 (Xavier)",
    "stochastic-depth": "Huang et al. 2016, 'Deep Networks with Stochastic Depth', eq. (4)",
}
_INIT_LAYERS = Whole(1, limits.MAX_INIT_LAYERS)

INIT = (
    Command(
        "deepnorm",
        "DeepNorm's alpha (skip scale) and beta (initialisation gain).",
        "x_{l+1} = LayerNorm(alpha x_l + G(x_l)), with the branch's weights initialised with gain beta. One stack "
        "of N layers: alpha = (2N)^(1/4), beta = (8N)^(-1/4). An encoder-decoder: encoder alpha = 0.81 (N^4 M)^(1/16), "
        "beta = 0.87 (N^4 M)^(-1/16); decoder alpha = (3M)^(1/4), beta = (12M)^(-1/4). The official code divides the "
        "encoder weights by (N^4 M)^(1/16)/1.15, a beta of 1.15 (N^4 M)^(-1/16): 1.32 times the paper's; both are "
        f"shown. Source: {_INIT_SOURCES['deepnorm']}.",
        (
            Opt("--layers", _INIT_LAYERS, "N, for one stack.", excludes=("--encoder-layers", "--decoder-layers")),
            Opt("--encoder-layers", _INIT_LAYERS, "N, the encoder's layers.", requires="--decoder-layers"),
            Opt(
                "--decoder-layers",
                Whole(1, limits.MAX_INIT_LAYERS, "M"),
                "M, the decoder's layers.",
                requires="--encoder-layers",
            ),
            *_output(),
            *_KEYED_BATCH,
        ),
        group="init",
        example="skipcalc init deepnorm --layers 18",
    ),
    Command(
        "fixup",
        "Fixup's scale for the weights inside each residual branch.",
        "With L residual branches of m layers each, the weights inside each branch are initialised with the "
        "standard method and scaled by L^(-1/(2m-2)), and the last layer of each branch starts at zero (so each "
        f"block starts as the identity). Source: {_INIT_SOURCES['fixup']}.",
        (
            Opt(
                "--branches",
                Whole(1, limits.MAX_INIT_LAYERS, "L"),
                "L, the residual branches.",
                required="give --branches L",
            ),
            Opt(
                "--branch-depth",
                Whole(2, 10**6, "M"),
                "m, layers per branch (at least 2).",
                required="give --branch-depth M (at least 2)",
            ),
            *_output(),
            *_KEYED_BATCH,
        ),
        group="init",
        example="skipcalc init fixup --branches 16 --branch-depth 2",
    ),
    Command(
        "gain",
        "PyTorch's recommended gain for a nonlinearity, and the init std it gives.",
        "linear, conv1d/2d/3d, conv_transpose1d/2d/3d and sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: "
        "sqrt(2/(1 + a^2)) (--param a, default 0.01); selu: 3/4. With --fan-in, the Kaiming std gain/sqrt(fan_in); "
        "with --fan-in and --fan-out, the Xavier std gain*sqrt(2/(fan_in + fan_out)). "
        f"Source: {_INIT_SOURCES['gain']}.",
        (
            Opt(
                "--param",
                NumberKind(metavar="A"),
                "leaky_relu's negative slope a.",
                default_text="0.01",
            ),
            Opt("--fan-in", Whole(1, limits.MAX_FAN), "Inputs per unit."),
            Opt("--fan-out", Whole(1, limits.MAX_FAN, "M"), "Outputs per unit.", requires="--fan-in"),
            *_output(),
            *_KEYED_BATCH,
        ),
        Argument(
            "NONLINEARITY",
            "linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, "
            "relu, leaky_relu or selu.",
            "nonlinearity",
            Choice(_gains, "a nonlinearity", {"leakyrelu": "leaky_relu", "leaky-relu": "leaky_relu"}),
        ),
        group="init",
        example="skipcalc init gain relu --fan-in 512",
    ),
    Command(
        "stochastic-depth",
        "Survival probabilities under stochastic depth's linear decay, and the expected depth.",
        "Block l of L survives with p_l = 1 - (l/L)(1 - p_L); the expected number of blocks that run is the sum of "
        f"the p_l, (3L - 1)/4 for p_L = 1/2. Source: {_INIT_SOURCES['stochastic-depth']}.",
        (
            Opt(
                "--layers",
                Whole(1, limits.MAX_STOCHASTIC_LAYERS, "L"),
                "L, the residual blocks.",
                required="give --layers L",
            ),
            Opt(
                "--last",
                NumberKind(Fraction(0), Fraction(1), expected="a probability 0 <= p_L <= 1", metavar="P"),
                "p_L, the last block's survival probability.",
                default=Fraction(1, 2),
            ),
            _ALL_ROWS,
            *_output(),
            *_KEYED_BATCH,
        ),
        group="init",
        example="skipcalc init stochastic-depth --layers 110 --last 0.5",
    ),
)


def _probe() -> Command:
    from .probe_options import PROBE

    return PROBE


COMMANDS = {c.name: c for c in (CHAIN, BACKPROP, LOSS, UPDATE, DEPTH, PATHS, PRECISION, MEANFIELD, _probe())}
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
    lowered = name.lower()
    if lowered in table:
        return table[lowered]
    choices = list(table) + ([] if prefix else ["init"])
    raise InputError(
        f"{prefix}{quote(name)[1:-1]}: no such command; {suggest(lowered, choices, prefix)}"
        f"expected one of {', '.join(choices)}"
    )


def owners(name: str) -> list[str]:
    """The commands that have an option of this name (for "an option of backprop and loss")."""
    return [c.words for c in (*COMMANDS.values(), *INIT_COMMANDS.values()) if c.find(name) is not None]


def is_number_text(text: str) -> bool:
    """Whether ``text`` reads as a number (for "did you mean --local 0.1?")."""
    try:
        to_number(text)
    except InputError:
        return False
    return True
