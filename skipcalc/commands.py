"""From parsed arguments to printed results: one function per command, no math, no Typer.

``run(parsed)`` checks that every option given applies (options.check), reads the values,
calls the core, and hands the result to the one renderer. The Typer app (cli.py) and the
fast path (console.py) both end here, so they answer alike.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import options
from .errors import InputError, refuse, suggest
from .exact import parse_number, parse_numbers, quote

MAX_STDIN = 64 * 2**20
"""Most bytes `-` reads from stdin (a million layers of 0.1 are 4 MiB)."""
MAX_LINE = 2**20
"""Longest --batch line, in bytes."""


@dataclass
class Call:
    """One command's parsed arguments, read by name."""

    parsed: options.Parsed
    mode: options.Mode
    format: str

    @property
    def name(self) -> str:
        return self.parsed.command.name

    @property
    def digits(self) -> int | None:
        """--digits N (1 to 40), or None for each format's own default."""
        return self.integer("--digits", 1, 40, default=0) or None

    @property
    def per_layer(self) -> bool:
        """Whether the values at every layer are wanted: every format but value prints them, and a
        saved chart draws them."""
        return self.format != "value" or self.given("--save")

    def text(self, name: str) -> str | None:
        return self.parsed.values.get(_dest(name))

    def texts(self, name: str) -> list[str]:
        return list(self.parsed.values.get(_dest(name)) or [])

    def flag(self, name: str) -> bool:
        return bool(self.parsed.values.get(_dest(name)))

    def switch(self, name: str, default: bool) -> bool:
        value = self.parsed.values.get(_dest(name))
        return default if value is None else bool(value)

    def given(self, name: str) -> bool:
        return _dest(name) in self.parsed.values

    def number(self, name: str, default: Fraction | None = None) -> Fraction | None:
        text = self.text(name)
        return default if text is None else parse_number(text, name)

    def required(self, name: str, why: str = "") -> str:
        text = self.text(name)
        if text is None:
            raise InputError(f"{name}: missing; {why or 'give ' + name}")
        return text

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int:
        text = self.text(name)
        if text is None:
            if default is None:
                raise InputError(f"{name}: missing; give {name} N")
            return default
        return whole(text, name, low, high)


def _dest(name: str) -> str:
    return name.lstrip("-").replace("-", "_")


def whole(text: str, name: str, low: int, high: int) -> int:
    """A whole number from low to high, refused by name otherwise."""
    try:
        value = parse_number(text, name)
    except InputError:
        raise InputError(f"{name}: {quote(text)} is not a whole number; expected {low:,} to {high:,}") from None
    if value.denominator != 1 or not low <= value <= high:
        raise InputError(
            f"{name}: {quote(text.strip())} is not accepted; expected a whole number from {low:,} to {high:,}"
        )
    return int(value)


def output_format(parsed: options.Parsed) -> str:
    fmt = parsed.values.get("format", "table")
    if fmt not in options.FORMATS:
        raise InputError(
            f"--format: {quote(fmt)} is not a format; {suggest(fmt, options.FORMATS)}"
            f"expected one of {', '.join(options.FORMATS)}"
        )
    return str(fmt)


def run(parsed: options.Parsed) -> None:
    fmt = output_format(parsed)
    mode = options.mode_of(parsed)
    options.check(parsed, mode, fmt)
    call = Call(parsed, mode, fmt)
    HANDLERS[parsed.command.name](call)


# ---------------------------------------------------------------------------
# Output


def render_options(call: Call, **extra: Any) -> Any:
    from .render import Options

    return Options(
        format=call.format,
        exact=call.flag("--exact"),
        digits=call.digits,
        symbolic=call.flag("--symbolic"),
        latex=call.flag("--latex"),
        plot=call.switch("--plot", default=extra.pop("plot_default", True)),
        save=call.text("--save"),
        force=call.flag("--force"),
        all_rows=call.flag("--all-rows"),
        **extra,
    )


def emit(call: Call, result: Any, plot_default: bool = True) -> None:
    """Derive with SymPy where the output shows a derivation, then render."""
    from . import progress
    from .render import render

    out = render_options(call, plot_default=plot_default)
    derivation = None
    if (call.format == "table" or out.symbolic or out.latex) and call.mode.name in ("numbers", "formula", "single"):
        with progress.phase("deriving with SymPy"):
            derivation = _derive(result, out)
    with progress.phase("writing the table" if call.format == "table" else "writing"):
        render(result, out, derivation=derivation)


def _derive(result: Any, out: Any) -> Any:
    from .results import ChainResult, FormulaResult, LossResult

    if not isinstance(result, (ChainResult, FormulaResult, LossResult)):
        return None
    from . import derive

    digits = out.digits or 12
    if isinstance(result, ChainResult):
        return derive.chain_derivation(result, digits, full=out.symbolic or out.latex)
    if isinstance(result, FormulaResult):
        return derive.formula_derivation(result)
    return derive.loss_derivation(result, digits)


# ---------------------------------------------------------------------------
# chain and backprop


def read_derivatives(texts: Sequence[str]) -> list[Fraction]:
    """The positional local derivatives; a lone '-' reads them from stdin."""
    if not texts:
        raise InputError("D: give at least one local derivative (or - to read them from stdin)")
    if list(texts) == ["-"]:
        words = read_stdin().split()
        if not words:
            raise InputError("stdin: no local derivatives were read; expected numbers separated by spaces or newlines")
        return parse_numbers(words, "stdin number ")
    if "-" in texts:
        raise InputError("-: reads every derivative from stdin; give it alone, or give the numbers as arguments")
    return parse_numbers(texts, "D")


def read_stdin() -> str:
    """All of stdin, up to MAX_STDIN bytes (refused beyond), with a hint on a terminal."""
    stream = sys.stdin
    hint_stdin()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        data = stream.read(MAX_STDIN + 1)
        size = len(data.encode("utf-8", "surrogatepass"))
    else:
        raw = buffer.read(MAX_STDIN + 1)
        size, data = len(raw), raw.decode("utf-8", "replace")
    if size > MAX_STDIN:
        raise InputError(f"stdin: more than the {MAX_STDIN // 2**20} MiB of derivatives skipcalc reads")
    return data


def hint_stdin() -> None:
    if sys.stdin is not None and sys.stdin.isatty():
        from .errors import say

        say("skipcalc: reading derivatives from standard input; end with Ctrl-D")


def repeated(layers: list[Any], call: Call) -> list[Any]:
    """--layers N: the layers given, repeated to N (N a multiple of how many were given)."""
    if not call.given("--layers"):
        return layers
    from .chains import MAX_LAYERS

    n = call.integer("--layers", 1, MAX_LAYERS)
    if n % len(layers):
        raise InputError(
            f"--layers: {n:,} is not a multiple of the {len(layers)} layer{'s' if len(layers) != 1 else ''} given; "
            f"expected {len(layers)}, {2 * len(layers)}, {3 * len(layers)}, ..."
        )
    return layers * (n // len(layers))


def networks(call: Call) -> tuple[Any, ...]:
    from .blocks import selected

    return selected(call.flag("--plain"), call.flag("--residual"), call.texts("--block") or None)


def chain_or_backprop(call: Call) -> None:
    if call.given("--dtype"):
        from .formats import find

        find(call.required("--dtype"))  # a misspelt format is refused before any work
    blocks = networks(call)
    given_blocks = call.given("--block")
    backprop = call.name == "backprop"
    if call.mode.name == "random":
        from .jacobian import random_jacobians

        emit(
            call,
            random_jacobians(
                call.integer("--dim", 1, 512, 64),
                call.integer("--layers", 1, 1000, 50),
                call.number("--scale", Fraction(1)),  # type: ignore[arg-type]
                call.integer("--seed", 0, 2**63 - 1, 0),
                blocks,
                given_blocks,
            ),
        )
        return
    if call.mode.name == "jacobian":
        emit(call, jacobians(call, blocks, backprop), plot_default=False)
        return
    upstream, loss, own = loss_gradient(call) if backprop else (None, None, None)
    if call.mode.name == "batch":
        chain_batch(call, blocks, upstream, loss)
        return
    if call.mode.name == "formula":
        from .formula import formula_result

        at = call.number("--at")
        if at is None:
            raise InputError("--at: formula layers need the input x_0, e.g. --at 0.5")
        result: Any = formula_result(repeated(call.texts("--fn"), call), at, blocks, upstream, loss, own, given_blocks)
    else:
        from . import progress
        from .chains import chain_result

        local = repeated(read_derivatives(call.parsed.arguments), call)
        with progress.phase("computing exactly"):
            result = chain_result(
                local,
                blocks,
                upstream,
                loss,
                per_layer=call.per_layer or call.given("--dtype"),
                require_exact=call.flag("--exact"),
                blocks_given=given_blocks,
            )
    if call.given("--dtype"):
        from .formats import with_dtype

        result = with_dtype(result, call.required("--dtype"))
    emit(call, result, plot_default=False)


def loss_gradient(call: Call) -> tuple[Any, Any, Any]:
    """(dL/dx_n, its loss, or (kind, target, delta) for a loss at each network's own output)."""
    if call.given("--loss-grad"):
        if call.mode.name == "jacobian":
            return None, None, None
        return call.number("--loss-grad"), None, None
    if not call.given("--target"):
        raise InputError("--target/--pred: backprop needs dL/dx_n: give --target T with --pred P, or --loss-grad G")
    kind = call.text("--kind") or "mse"
    delta = call.number("--delta")
    target = call.number("--target")
    if call.given("--pred"):
        from .losses import loss

        result = loss(kind, target, call.number("--pred"), delta)  # type: ignore[arg-type]
        return result.gradient, result, None
    if call.mode.name != "formula":
        raise InputError("--pred: give the prediction P = x_n (only formula layers compute their own)")
    from .losses import check

    check(kind, target, Fraction(1, 2), delta)  # the kind and delta, before any work
    return None, None, (kind, target, delta)


def jacobians(call: Call, blocks: tuple[Any, ...], backprop: bool) -> Any:
    from .jacobian import jacobian_chain, parse_matrix, parse_vector

    matrices = [parse_matrix(text, f"--jacobian {i}") for i, text in enumerate(call.texts("--jacobian"), start=1)]
    vector = None
    if backprop:
        if not call.given("--loss-grad"):
            raise InputError(
                "--loss-grad: Jacobian layers take the loss gradient as a vector, e.g. --loss-grad '[1,-2]'"
            )
        vector = parse_vector(call.required("--loss-grad"), "--loss-grad")
    return jacobian_chain(
        repeated(matrices, call),
        blocks,
        vector,
        per_layer=call.per_layer,
        spectra=call.per_layer or not backprop,
        blocks_given=call.given("--block"),
    )


# ---------------------------------------------------------------------------
# --batch


def batch_lines() -> Iterator[tuple[int, str]]:
    """(line number, text) for each stdin line, refusing one longer than MAX_LINE bytes."""
    hint_stdin()
    buffer = getattr(sys.stdin, "buffer", None)
    number = 0
    while True:
        raw = buffer.readline(MAX_LINE + 1) if buffer is not None else sys.stdin.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE:
            refuse(f"stdin line {number}: longer than the {MAX_LINE // 2**20} MiB a --batch line may be")
        yield number, raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def run_batch(call: Call, case: Callable[[str], Any], quick: Callable[[str], str | None] | None = None) -> None:
    """--batch: ``case`` turns a stdin line into a result, written as it is computed (json
    lines, csv rows under one header with a `line` column, or value lines). A bad line stops
    the run with exit 2 after the results before it, unless --keep-going writes
    {"line": N, "error": ...} in its place and goes on (exit 2 at the end if any failed)."""
    import json

    from .render import Options, write

    keep_going = call.flag("--keep-going")
    exact = call.flag("--exact")
    failed = 0
    header = True
    out = sys.stdout.write
    for number, text in batch_lines():
        if quick is not None:
            answer = quick(text)
            if answer is not None:
                out(answer)
                continue
        if not text.strip():
            continue
        try:
            result = case(text)
        except InputError as error:
            message = f"stdin line {number}: {error}"
            if not keep_going:
                refuse(message)
            failed += 1
            out(json.dumps({"line": number, "error": message}) + "\n")
            continue
        write(result, Options(format=call.format, exact=exact, digits=call.digits, line=number, header=header))
        header = False
    if failed:
        refuse(f"--batch: {failed} line{'s' if failed != 1 else ''} failed (reported in-band)")


def chain_batch(call: Call, blocks: tuple[Any, ...], upstream: Fraction | None, loss: Any) -> None:
    from .blocks import CLASSIC
    from .chains import chain_result

    per_layer = call.per_layer
    exact = call.flag("--exact")

    def case(line: str) -> Any:
        words = line.split()
        if words == ["-"]:
            raise InputError("D1: '-' is not a number here; a --batch line holds the derivatives themselves")
        for word in words:
            if word.startswith("-") and len(word) > 1 and not options.is_number_like(word):
                raise InputError(f"{word}: options go on the command line, not on a --batch line")
        return chain_result(parse_numbers(words, "D"), blocks, upstream, loss, per_layer, exact)

    quick = None
    if call.format == "value" and set(blocks) <= set(CLASSIC):
        from . import _kernels
        from .exact import SIGNIFICANT, show_parts

        digits = call.digits or SIGNIFICANT  # the value format's rule, as render's
        quick = _kernels.ValueLines(
            [b is CLASSIC[1] for b in blocks],
            upstream or Fraction(1),
            lambda word: parse_number(word, "D"),
            lambda n, d: show_parts(n, d, exact, digits, 0).text,
        )
    run_batch(call, case, quick)


def key_values(line: str, keys: Sequence[str], name: str) -> dict[str, str]:
    """A --batch line of loss/update: key=value pairs (or --key value)."""
    values: dict[str, str] = {}
    tokens = iter(line.split())
    for token in tokens:
        key, equals, value = token.lstrip("-").partition("=")
        if not equals:
            value = next(tokens, "")
        if key not in keys:
            raise InputError(
                f"{token!r}: not a key of {name}; {suggest(key, keys, suffix='=')}"
                f"expected {', '.join(k + '=' for k in keys)}"
            )
        values[key] = value
    return values


# ---------------------------------------------------------------------------
# loss and update


def case_values(
    call: Call, keys: tuple[str, ...], required: tuple[str, ...], line: str | None
) -> dict[str, Fraction | str | None]:
    """loss and update: the options given, overridden by a --batch line's key=value pairs; the
    numbers read (named by where they came from), the rest as text."""
    texts = {k: call.text("--" + k) for k in keys}
    named = {k: "--" + k for k in keys}
    if line is not None:
        for key, value in key_values(line, keys, call.name).items():
            texts[key], named[key] = value, key
    for key in required:
        if texts[key] is None:
            where = f" (or {key}= on each line)" if line is not None else ""
            raise InputError(f"--{key}: missing; give --{key}{where}")
    return {k: v if v is None or k == "kind" else parse_number(v, named[k]) for k, v in texts.items()}


def loss_command(call: Call) -> None:
    from .losses import loss

    def case(line: str | None = None) -> Any:
        values = case_values(call, ("target", "pred", "kind", "delta"), ("target", "pred"), line)
        return loss(str(values["kind"] or "mse"), values["target"], values["pred"], values["delta"])  # type: ignore[arg-type]

    if call.mode.name == "batch":
        run_batch(call, case)
    else:
        emit(call, case())


def update_command(call: Call) -> None:
    from .step import update

    keys = ("weight", "lr", "grad", "input")

    def case(line: str | None = None) -> Any:
        values = case_values(call, keys, keys, line)
        return update(*(values[k] for k in keys))  # type: ignore[arg-type]

    if call.mode.name == "batch":
        run_batch(call, case)
    else:
        emit(call, case())


# ---------------------------------------------------------------------------
# depth and paths


def depth_command(call: Call) -> None:
    from .depth import MAX_LISTED_DEPTH, MAX_ROWS, depth_sweep

    local = parse_number(call.required("--local", "give --local D, every layer's local derivative"), "--local")
    if call.given("--depths"):
        listed = [whole(part, "--depths", 1, MAX_LISTED_DEPTH) for part in call.required("--depths").split(",")]
    else:
        listed = list(range(1, call.integer("--max", 1, MAX_ROWS, 50) + 1))
    result = depth_sweep(
        local,
        listed,
        call.number("--loss-grad"),
        call.number("--vanish", Fraction(1, 10**6)),  # type: ignore[arg-type]
        networks(call),
        call.given("--block"),
    )
    emit(call, result)


def paths_command(call: Call) -> None:
    from .blocks import RESIDUAL, parse_block
    from .paths import MAX_PATH_LAYERS, path_split, uniform_path_split

    mass = call.number("--mass", Fraction(9, 10))
    block = parse_block(call.required("--block")) if call.given("--block") else RESIDUAL
    if call.mode.name == "uniform":
        layers = call.integer("--layers", 1, MAX_PATH_LAYERS) if call.given("--layers") else None
        if layers is None:
            raise InputError("--layers: --uniform needs the number of layers, e.g. --layers 50")
        result = uniform_path_split(call.number("--uniform"), layers, mass, block)  # type: ignore[arg-type]
    else:
        result = path_split(read_derivatives(call.parsed.arguments), mass, block)  # type: ignore[arg-type]
    emit(call, result)


# ---------------------------------------------------------------------------
# init


def init_command(call: Call) -> None:
    from . import init

    name = call.name
    if name == "deepnorm":
        if call.given("--layers"):
            result = init.deepnorm(call.integer("--layers", 1, 10**9))
        elif call.given("--encoder-layers"):
            result = init.deepnorm_encoder_decoder(
                call.integer("--encoder-layers", 1, 10**9), call.integer("--decoder-layers", 1, 10**9)
            )
        else:
            raise InputError("--layers: give --layers N (one stack) or --encoder-layers N --decoder-layers M")
    elif name == "fixup":
        result = init.fixup(call.integer("--branches", 1, 10**9), call.integer("--branch-depth", 2, 10**6))
    elif name == "gain":
        if len(call.parsed.arguments) != 1:
            raise InputError(f"NONLINEARITY: give one, e.g. relu; expected {', '.join(init.GAINS)}")
        fan_in = call.integer("--fan-in", 1, 10**12) if call.given("--fan-in") else None
        fan_out = call.integer("--fan-out", 1, 10**12) if call.given("--fan-out") else None
        result = init.gain(call.parsed.arguments[0], call.number("--param"), fan_in, fan_out)
    else:
        result = init.stochastic_depth(call.integer("--layers", 1, 1_000_000), call.number("--last", Fraction(1, 2)))  # type: ignore[arg-type]
    emit(call, result)


HANDLERS: dict[str, Callable[[Call], None]] = {
    "chain": chain_or_backprop,
    "backprop": chain_or_backprop,
    "loss": loss_command,
    "update": update_command,
    "depth": depth_command,
    "paths": paths_command,
    "deepnorm": init_command,
    "fixup": init_command,
    "gain": init_command,
    "stochastic-depth": init_command,
}
