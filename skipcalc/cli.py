"""The command line: parse arguments, call the core, hand the result to the renderer.

No math lives here. Every number is read by :func:`skipcalc.numbers.parse_number`;
every error becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from typing import Annotated, Any, NoReturn, Optional

import typer
from typer import _click as click
from typer.core import TyperGroup
from typer.exceptions import Abort

from . import __version__, progress
from .console import quiet_broken_pipe, refuse
from .numbers import InputError, allow_long_int_text, parse_number
from .stdin import chain_batch, read_derivatives, run_batch

# The core modules are imported inside the commands that use them: a call loads only its own.


class SkipcalcGroup(TyperGroup):
    """Turns every usage error into one line on stderr with exit status 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        allow_long_int_text()
        global _spinner
        _spinner = progress.for_table(list(sys.argv[1:] if args is None else args))
        try:
            code = super().main(args=args, prog_name=prog_name or "skipcalc", standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            sys.stdout.write(error.ctx.get_help() + "\n")  # bare `skipcalc`: help, not an error
            code = 0
        except click.exceptions.ClickException as error:
            fail(_click_message(error))
        except Abort:
            sys.exit(130)
        except InputError as error:
            fail(str(error))
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:
            quiet_broken_pipe()
        except OSError as error:  # e.g. --save into a folder that does not exist
            fail(f"{getattr(error, 'filename', '') or 'output'}: {error.strerror or error}")
        finally:
            _stop_spinner()
        sys.exit(code if isinstance(code, int) else 0)


_spinner: Optional[progress.DelayedStatus] = None


def _stop_spinner() -> None:
    """The spinner goes before anything is printed (and before any error)."""
    global _spinner
    if _spinner is not None:
        _spinner.stop()
        _spinner = None


def _click_message(error: click.exceptions.ClickException) -> str:
    message = " ".join(error.format_message().split()).rstrip(".")
    if isinstance(error, click.exceptions.UsageError) and error.ctx is not None:
        return f"{message} (see {error.ctx.command_path} --help)"
    return message


def fail(message: str) -> NoReturn:
    """The one way skipcalc refuses input: one line on stderr, exit status 2."""
    _stop_spinner()
    refuse(message)


app = typer.Typer(
    cls=SkipcalcGroup,
    name="skipcalc",
    help="Exact gradients through plain and residual (skip-connection) networks.",
    add_completion=False,
    rich_markup_mode=None,  # plain help: Rich is not imported just to print --help
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Negative numbers (-0.5) are arguments, not options.
NUMBERS_FIRST = {"ignore_unknown_options": True}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"skipcalc {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    """Exact gradients through plain and residual (skip-connection) networks.

    Numbers are read exactly (0.1 is 1/10) and printed exactly: never float noise,
    never a false 0. Every command takes --format table|json|csv|value.
    """


# Options every command shares.
Format = Annotated[str, typer.Option("--format", help="table, json, csv or value.", metavar="FORMAT")]
Exact = Annotated[bool, typer.Option("--exact", help="Print every number whole, however long.")]
Digits = Annotated[int, typer.Option("--digits", help="Significant digits in the table (1-40).", metavar="N")]


Batch = Annotated[
    bool, typer.Option("--batch", help="One case per stdin line; one result per line (json, csv or value).")
]
KeepGoing = Annotated[bool, typer.Option("--keep-going", help="--batch: report a bad line in-band and go on.")]
Symbolic = Annotated[bool, typer.Option("--symbolic", help="json: add the SymPy derivation (str and LaTeX).")]
Latex = Annotated[bool, typer.Option("--latex", help="Print only the derivation, as LaTeX.")]


def _emit(
    result: object,
    format: str,
    exact: bool,
    digits: int,
    symbolic: bool = False,
    latex: bool = False,
    plot: bool = True,
    save: Optional[str] = None,
) -> None:
    """Validate the shared options, derive with SymPy only where the output shows it,
    and hand everything to the one renderer."""
    from .render import FORMATS, Options, render

    if format not in FORMATS:
        raise InputError(f"--format: {format!r} is not a format; expected one of {', '.join(FORMATS)}")
    if not 1 <= digits <= 40:
        raise InputError(f"--digits: {digits} is out of range; expected 1 to 40")
    if save is not None and not save.lower().endswith(".svg"):
        raise InputError(f"--save: {save!r} is not accepted; expected a file name ending in .svg")
    options = Options(format=format, exact=exact, digits=digits, symbolic=symbolic, latex=latex, plot=plot, save=save)
    derivation = None
    if format == "table" or symbolic or latex:
        from . import symbolic as sym  # SymPy: only on the paths that show a derivation

        derive = {
            "ChainResult": lambda r, digits: sym.chain_derivation(r, digits, full=symbolic or latex),
            "FormulaResult": lambda r, digits: sym.formula_derivation(r),
            "LossResult": sym.loss_derivation,
        }.get(type(result).__name__)
        if derive is not None:
            derivation = derive(result, digits)
    _stop_spinner()
    with _quiet_when_reader_leaves():
        render(result, options, derivation=derivation)


@contextmanager
def _quiet_when_reader_leaves() -> Iterator[None]:
    """Typer turns a broken pipe into exit 1; the shell convention is 141, silently."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()


def _emit_batch(case: Callable[[str], object], format: str, exact: bool, keep_going: bool) -> None:
    """--batch (see stdin.run_batch), with Typer's broken-pipe exit replaced by the shell's."""
    with _quiet_when_reader_leaves():
        run_batch(case, format, exact, keep_going)


def _line_values(text: str, defaults: dict[str, Optional[str]]) -> dict[str, Optional[str]]:
    """A --batch line for loss/update: `key=value` pairs (or `--key value`), over the
    command line's options."""
    values = dict(defaults)
    tokens = iter(text.split())
    for token in tokens:
        key, eq, value = token.lstrip("-").partition("=")
        if not eq:
            value = next(tokens, "")
        if key not in values:
            raise InputError(f"{token!r}: not a key of this command; expected {', '.join(k + '=' for k in values)}")
        values[key] = value
    return values


def _required(values: dict[str, Optional[str]], key: str) -> str:
    value = values[key]
    if value is None:
        raise InputError(f"--{key}: missing; give --{key} (or, with --batch, {key}= on each line)")
    return value


def _networks(plain: bool, residual: bool) -> tuple[str, ...]:
    from .chain import selected

    return selected(plain, residual)


Derivatives = Annotated[
    Optional[list[str]],
    typer.Argument(
        help="Local derivatives D1 ... Dn in forward order (D1 = F1'(x0)); - reads stdin.", show_default=False
    ),
]
OnlyPlain = Annotated[bool, typer.Option("--plain", help="Show only the plain network.")]
Fns = Annotated[
    Optional[list[str]],
    typer.Option("--fn", help="A layer F_i(x) as a formula, e.g. 'tanh(x)'; repeat, in forward order.", metavar="F"),
]
At = Annotated[Optional[str], typer.Option("--at", help="x_0, where the --fn forward pass starts.", metavar="X0")]
Jacobians = Annotated[
    Optional[list[str]],
    typer.Option(
        "--jacobian", help="A layer's Jacobian, e.g. '[[0.1,0.2],[0,0.3]]'; repeat, forward order.", metavar="M"
    ),
]
Plot = Annotated[bool, typer.Option("--plot/--no-plot", help="Draw the chart under the table.")]
Save = Annotated[Optional[str], typer.Option("--save", help="Also write the chart to FILE.svg.", metavar="FILE.svg")]


def _jacobian_chain(
    derivatives: Optional[list[str]],
    jacobians: list[str],
    networks: tuple[str, ...],
    loss_gradient: Optional[str] = None,
) -> object:
    from .jacobian import jacobian_chain, parse_matrix, parse_vector

    if derivatives:
        raise InputError("--jacobian: give either Jacobian layers or numeric derivatives, not both")
    matrices = [parse_matrix(text, f"--jacobian {i}") for i, text in enumerate(jacobians, start=1)]
    vector = None if loss_gradient is None else parse_vector(loss_gradient, "--loss-grad")
    return jacobian_chain(matrices, networks, vector)


def _chain_or_formula(
    derivatives: Optional[list[str]],
    fns: Optional[list[str]],
    at: Optional[str],
    networks: tuple[str, ...],
    loss_gradient: Optional[Fraction] = None,
    loss: Any = None,
) -> object:
    if fns:
        if derivatives:
            raise InputError("--fn: give either formula layers (--fn) or numeric derivatives, not both")
        if at is None:
            raise InputError("--at: formula layers need the input x_0, e.g. --at 0.5")
        from .symbolic import formula_chain

        return formula_chain(fns, parse_number(at, "--at"), networks, loss_gradient, loss)
    if at is not None:
        raise InputError("--at: only formula layers (--fn) take a starting point")
    from .chain import backward

    return backward(read_derivatives(derivatives), networks, loss_gradient, loss)


OnlyResidual = Annotated[bool, typer.Option("--residual", help="Show only the residual network.")]


@app.command(context_settings=NUMBERS_FIRST)
def chain(
    derivatives: Derivatives = None,
    residual: OnlyResidual = False,
    plain: OnlyPlain = False,
    fn: Fns = None,
    at: At = None,
    jacobian: Jacobians = None,
    random_jacobians: Annotated[
        bool, typer.Option("--random-jacobians", help="Gaussian d x d Jacobians (--dim, --layers, --scale, --seed).")
    ] = False,
    dim: Annotated[int, typer.Option("--dim", help="--random-jacobians: d.", metavar="D")] = 64,
    layers: Annotated[int, typer.Option("--layers", help="--random-jacobians: n.", metavar="N")] = 50,
    scale: Annotated[
        str, typer.Option("--scale", help="--random-jacobians: entries ~ N(0, s^2/d).", metavar="S")
    ] = "1",
    seed: Annotated[int, typer.Option("--seed", help="--random-jacobians: random seed.", metavar="K")] = 0,
    plot: Plot = True,
    save: Save = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
    symbolic: Symbolic = False,
    latex: Latex = False,
    batch: Batch = False,
    keep_going: KeepGoing = False,
) -> None:
    """dx_n/dx_k through a plain and a residual network, layer by layer.

    Plain: D1*...*Dn. Residual (x_i = x_{i-1} + F_i(x_{i-1})): (1+D1)*...*(1+Dn).
    With --fn, each layer is a formula that SymPy differentiates, run forward from --at.
    With --batch, each stdin line holds one chain's derivatives. With --jacobian, each
    layer is a d x d matrix J_i and a residual block's derivative is I + J_i.

    Example: skipcalc chain 0.1 0.1 0.1 --residual
    """
    networks = _networks(plain, residual)
    if random_jacobians:
        from .jacobian import random_jacobians as random_core

        if derivatives or jacobian or fn:
            raise InputError("--random-jacobians: draws its own layers; give no derivatives, --jacobian or --fn")
        result = random_core(dim, layers, parse_number(scale, "--scale"), seed, networks)
        _emit(result, format, exact, digits, plot=plot, save=save)
        return
    if jacobian:
        _emit(_jacobian_chain(derivatives, jacobian, networks), format, exact, digits)
        return
    if batch:
        _no_arguments_with_batch(derivatives, fn)
        with _quiet_when_reader_leaves():
            chain_batch(networks, None, None, format, exact, keep_going)
        return
    result = _chain_or_formula(derivatives, fn, at, networks)
    _emit(result, format, exact, digits, symbolic, latex)


def _no_arguments_with_batch(derivatives: Optional[list[str]], fn: Optional[list[str]]) -> None:
    if derivatives or fn:
        raise InputError("--batch: the derivatives come from stdin, one chain per line; give none as arguments")


@app.command(context_settings=NUMBERS_FIRST)
def backprop(
    derivatives: Derivatives = None,
    target: Annotated[Optional[str], typer.Option("--target", help="Target T (with --pred).", metavar="T")] = None,
    pred: Annotated[
        Optional[str], typer.Option("--pred", help="Prediction P = x_n (with --target).", metavar="P")
    ] = None,
    loss_grad: Annotated[
        Optional[str],
        typer.Option("--loss-grad", help="dL/dx_n directly, instead of --target/--pred.", metavar="G"),
    ] = None,
    kind: Annotated[str, typer.Option("--kind", help="Loss for --target/--pred: mse, mae, huber, bce.")] = "mse",
    delta: Annotated[Optional[str], typer.Option("--delta", help="Huber's threshold (default 1).", metavar="D")] = None,
    residual: OnlyResidual = False,
    plain: OnlyPlain = False,
    fn: Fns = None,
    at: At = None,
    jacobian: Jacobians = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
    symbolic: Symbolic = False,
    latex: Latex = False,
    batch: Batch = False,
    keep_going: KeepGoing = False,
) -> None:
    """dL/dx_k for every layer input: the loss gradient times the chain.

    With --batch, each stdin line holds one chain's derivatives; the loss options apply to all.

    With --jacobian, --loss-grad is a vector ('[1,-2]') and the result is the gradient
    vector reaching x_0, (dx_n/dx_0)^T dL/dx_n.

    Example: skipcalc backprop 0.1 0.1 0.1 --target 10 --pred 8
    """
    if jacobian:
        if loss_grad is None or target is not None or pred is not None:
            raise InputError("--loss-grad: Jacobian layers take the loss gradient as a vector, --loss-grad '[1,-2]'")
        _emit(_jacobian_chain(derivatives, jacobian, _networks(plain, residual), loss_grad), format, exact, digits)
        return
    if loss_grad is not None:
        if target is not None or pred is not None:
            raise InputError("--loss-grad: give either --loss-grad or --target with --pred, not both")
        loss, gradient = None, parse_number(loss_grad, "--loss-grad")
    else:
        if target is None or pred is None:
            raise InputError("--target/--pred: give both (or --loss-grad G instead)")
        loss = _loss(kind, target, pred, delta)
        gradient = loss.gradient
    networks = _networks(plain, residual)
    if batch:
        _no_arguments_with_batch(derivatives, fn)
        with _quiet_when_reader_leaves():
            chain_batch(networks, gradient, loss, format, exact, keep_going)
        return
    result = _chain_or_formula(derivatives, fn, at, networks, gradient, loss)
    _emit(result, format, exact, digits, symbolic, latex)


def _loss(kind: str, target: str, pred: str, delta: Optional[str], prefix: str = "--") -> Any:
    from .losses import loss as loss_core

    return loss_core(
        kind,
        parse_number(target, f"{prefix}target"),
        parse_number(pred, f"{prefix}pred"),
        None if delta is None else parse_number(delta, f"{prefix}delta"),
    )


@app.command()
def loss(
    target: Annotated[Optional[str], typer.Option("--target", help="The true value T.", metavar="T")] = None,
    pred: Annotated[Optional[str], typer.Option("--pred", help="The prediction P.", metavar="P")] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="mse: (T-P)^2 (single sample, not halved); mae; huber; bce (0<P<1).")
    ] = "mse",
    delta: Annotated[Optional[str], typer.Option("--delta", help="Huber's threshold (default 1).", metavar="D")] = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
    symbolic: Symbolic = False,
    latex: Latex = False,
    batch: Batch = False,
    keep_going: KeepGoing = False,
) -> None:
    """The loss for one sample, dL/dpred, and which way the prediction must move.

    mse is L = (T - P)^2, the single-sample un-halved form, so dL/dP = -2(T - P).
    With --batch, each stdin line gives key=value pairs (target=10 pred=8 kind=mae delta=1)
    over the options given here.

    Example: skipcalc loss --target 10 --pred 8
    """
    options = {"target": target, "pred": pred, "kind": kind, "delta": delta}

    def case(line: str = "") -> Any:
        values = _line_values(line, options)
        prefix = "" if line else "--"
        kind_value = values["kind"] or "mse"
        return _loss(kind_value, _required(values, "target"), _required(values, "pred"), values["delta"], prefix)

    if batch:
        _emit_batch(case, format, exact, keep_going)
        return
    _emit(case(), format, exact, digits, symbolic, latex)


@app.command()
def update(
    weight: Annotated[Optional[str], typer.Option("--weight", help="The weight before the step.", metavar="W")] = None,
    lr: Annotated[Optional[str], typer.Option("--lr", help="Learning rate.", metavar="LR")] = None,
    grad: Annotated[
        Optional[str], typer.Option("--grad", help="Gradient reaching the weight's layer.", metavar="G")
    ] = None,
    input: Annotated[
        Optional[str], typer.Option("--input", help="The input the weight multiplies.", metavar="X")
    ] = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
    batch: Batch = False,
    keep_going: KeepGoing = False,
) -> None:
    """One gradient-descent step: new weight = W - LR * G * X.

    With --batch, each stdin line gives key=value pairs (weight=0.5 lr=0.1 grad=-4 input=1)
    over the options given here.

    Example: skipcalc update --weight 0.5 --lr 0.1 --grad -5.324 --input 1
    """
    from .update import update as update_core

    options = {"weight": weight, "lr": lr, "grad": grad, "input": input}

    def case(line: str = "") -> Any:
        values = _line_values(line, options)
        prefix = "" if line else "--"
        return update_core(*(parse_number(_required(values, key), prefix + key) for key in options))

    if batch:
        _emit_batch(case, format, exact, keep_going)
        return
    _emit(case(), format, exact, digits)


@app.command(context_settings=NUMBERS_FIRST)
def depth(
    local: Annotated[str, typer.Option("--local", help="Every layer's local derivative D.", metavar="D")],
    max: Annotated[Optional[int], typer.Option("--max", help="Depths 1..N (default 50).", metavar="N")] = None,
    depths: Annotated[Optional[str], typer.Option("--depths", help="Depths to list: 1,2,5,...", metavar="LIST")] = None,
    loss_grad: Annotated[
        Optional[str], typer.Option("--loss-grad", help="Scale both by dL/dx_n = G.", metavar="G")
    ] = None,
    vanish: Annotated[str, typer.Option("--vanish", help="Threshold for 'vanished'.", metavar="T")] = "1e-6",
    plot: Plot = True,
    save: Save = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
) -> None:
    """How the gradient decays with depth: D^n (plain) against (1+D)^n (residual).

    The summary gives, exactly, the first depths where a float32/float64 gradient would
    underflow (plain) or overflow (residual), and where plain falls below --vanish.

    Example: skipcalc depth --local 0.1 --depths 1,10,50,100
    """
    from .depth import depth_sweep

    if max is not None and depths is not None:
        raise InputError("--max/--depths: give one or the other")
    if depths is not None:
        listed = [_whole(part, "--depths") for part in depths.split(",")]
    else:
        n = 50 if max is None else max
        from .depth import MAX_ROWS

        if not 1 <= n <= MAX_ROWS:
            raise InputError(f"--max: {n} is not accepted; expected 1 to {MAX_ROWS} (use --depths for deeper ones)")
        listed = list(range(1, n + 1))
    result = depth_sweep(
        parse_number(local, "--local"),
        listed,
        None if loss_grad is None else parse_number(loss_grad, "--loss-grad"),
        parse_number(vanish, "--vanish"),
    )
    _emit(result, format, exact, digits, plot=plot, save=save)


def _whole(text: str, name: str) -> int:
    value = parse_number(text, name)
    if value.denominator != 1 or value < 1:
        raise InputError(f"{name}: {text.strip()!r} is not accepted; expected whole numbers >= 1")
    return int(value)


@app.command(context_settings=NUMBERS_FIRST)
def paths(
    derivatives: Derivatives = None,
    uniform: Annotated[
        Optional[str], typer.Option("--uniform", help="Every D_i = D (with --layers).", metavar="D")
    ] = None,
    layers: Annotated[Optional[int], typer.Option("--layers", help="n, with --uniform.", metavar="N")] = None,
    mass: Annotated[str, typer.Option("--mass", help="Share of |gradient| the band carries.", metavar="M")] = "0.9",
    plot: Plot = True,
    save: Save = None,
    format: Format = "table",
    exact: Exact = False,
    digits: Digits = 12,
) -> None:
    """The residual gradient split by path length k: C(n,k) paths contributing e_k(D).

    Example: skipcalc paths --uniform 0.1 --layers 110
    """
    from .paths import path_split, uniform_path_split

    share = parse_number(mass, "--mass")
    if uniform is not None:
        if derivatives:
            raise InputError("--uniform: give either --uniform D --layers N or the derivatives, not both")
        if layers is None:
            raise InputError("--layers: --uniform needs the number of layers, e.g. --layers 50")
        result = uniform_path_split(parse_number(uniform, "--uniform"), layers, share)
    else:
        if layers is not None:
            raise InputError("--layers: only --uniform takes --layers")
        result = path_split(read_derivatives(derivatives), share)
    _emit(result, format, exact, digits, plot=plot, save=save)


def run() -> None:
    """The Typer app, for every call the fast path (console.py) leaves to it. Typer
    inspects the signature of every registered command when it builds the parser (about
    7 ms each), so a call builds only the command it runs;
    `skipcalc --help` and unknown names get the whole app."""
    import copy

    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    only = [info for info in app.registered_commands if (info.name or info.callback.__name__) == wanted]
    if not only:
        app()
        return
    single = copy.copy(app)
    single.registered_commands = only
    single()
