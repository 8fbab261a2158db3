"""From parsed arguments to printed results: the call is read once by the declaration
(schema.read: every option given checked where it applies, the output format and --batch
included, each value read by its kind), its positional numbers (or stdin) added, and the read
call handed to the API (api.compute), whose result goes to the one renderer. A --batch line is a
call of its own, read as the API reads it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .. import api, options, schema
from ..core.errors import InputError
from ..core.exact import parse_numbers
from ..output.terminal import say
from ..output.view import View
from ..work import blocks_of, upstream_of
from .process import flags, refuse
from .reader import Parsed, is_number_like

MAX_STDIN = 64 * 2**20
"""Most bytes `-` reads from stdin (a million layers of 0.1 are 4 MiB)."""
MAX_LINE = 2**20
"""Longest --batch line, in bytes."""


class Call:
    """One command's parsed arguments, read and checked once (``values``), with the view they
    ask for."""

    def __init__(self, parsed: Parsed) -> None:
        command = parsed.command
        self.parsed = parsed
        self.command = command
        fmt = parsed.values.get("format", "table")
        self.format: str = command.by_dest("format").kind.read(fmt, "--format")
        self.keywords = {opt.api: parsed.values.get(opt.dest) for opt in command.options if opt.api}
        """The API's keyword arguments: the texts of its options (None: not given)."""
        keywords = dict(self.keywords)
        if command.arguments is not None and command.arguments.keyword:
            keywords[command.arguments.keyword] = list(parsed.arguments) or None
        self.values = schema.read(command, keywords, output=parsed.values, fmt=self.format)
        self.mode = self.values.mode
        digits = parsed.values.get("digits")
        self.view = View(
            format=self.format,
            exact=self.flag("exact"),
            digits=None if digits is None else options.DIGITS.read(digits, "--digits"),
            symbolic=self.flag("symbolic"),
            latex=self.flag("latex"),
            plot=parsed.values.get("plot"),
            save=parsed.values.get("save"),
            title=parsed.values.get("title"),
            force=self.flag("force"),
            all_rows=self.flag("all_rows"),
        )

    def flag(self, dest: str) -> bool:
        return bool(self.parsed.values.get(dest))

    @property
    def per_layer(self) -> bool:
        """Whether every layer's value is wanted: every format but value prints them, and a
        saved chart draws them."""
        return self.format != "value" or self.view.save is not None

    def result(self, **changes: Any) -> Any:
        """The API's result for the call read, with ``changes`` (its numbers, read from stdin)."""
        return api.compute(self.values.replace(**changes))


def execute(parsed: Parsed) -> None:
    call = Call(parsed)
    HANDLERS.get(call.command.name, answer)(call)


def emit(call: Call, result: Any) -> None:
    from ..output.render import render

    render(result, call.view)


# ---------------------------------------------------------------------------
# chain and backprop


def derivatives(call: Call, what: str = "local derivatives") -> Any:
    """The positional numbers (local derivatives; gradients) as the API takes them (the
    texts; a lone '-' reads them from stdin, counted before any is read); None when there are
    none."""
    texts = call.parsed.arguments
    if not texts:
        return None
    argument = call.command.arguments
    assert argument is not None
    if list(texts) == ["-"]:
        words = read_stdin().replace(",", " ").split()  # commas between numbers, as a list is written
        if not words:
            raise InputError(f"stdin: no {what} were read; expected numbers separated by spaces or newlines")
        argument.count(len(words), " on stdin")
        return parse_numbers(words, "stdin number ")
    if "-" in texts:
        raise InputError(f"-: reads all the {what} from stdin; give it alone, or give the numbers as arguments")
    return list(texts)


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
        say("skipcalc: reading derivatives from standard input; end with Ctrl-D")


def chain_or_backprop(call: Call) -> None:
    if call.mode.name == "batch":
        chain_batch(call)
        return
    from ..output import progress

    numbers = derivatives(call)  # read first: a person typing on stdin sees no spinner
    with progress.phase("computing exactly"):
        written = call.format in ("json", "csv")
        result = call.result(local=numbers, per_layer=call.per_layer, written=written)
    emit(call, result)


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


def run_batch(
    call: Call,
    case: Callable[[str], Any],
    quick: Callable[[str], str | None] | None = None,
    writer: Any = None,
    cases: Callable[[int, str], str] | None = None,
) -> None:
    """--batch: each stdin line a case, its answer written as it is computed. ``case`` turns a
    line into a result, which the general writer (output.batch.Results) writes; chain and
    backprop hand their own ``writer`` and ``cases`` (a line to its row or object) instead, and
    ``quick`` answers the value lines their kernel takes straight away. A bad line stops the
    run with exit 2 after the answers before it, unless --keep-going has the writer report it
    in-band and goes on (exit 2 at the end if any failed)."""
    from ..output.batch import Results

    keep_going = call.flag("keep_going")
    if writer is None:
        writer = Results(call.view, keep_going)
        cases = lambda number, line: writer.result(number, case(line))  # noqa: E731
    assert cases is not None
    failed = 0
    out = sys.stdout
    out.write(writer.header())
    for number, text in batch_lines():
        if quick is not None:
            answer = quick(text)
            if answer is not None:
                out.write(answer)
                continue
        if not text.split("#", 1)[0].strip():
            continue  # a blank line, or a comment
        try:
            out.write(cases(number, text))
        except InputError as error:
            message = flags(f"stdin line {number}: {error.message}")
            if not keep_going:
                refuse(message)
            failed += 1
            out.write(writer.error(number, message))
    out.write(writer.footer())
    if failed:
        refuse(f"--batch: {failed} line{'s' if failed != 1 else ''} failed (reported in-band)")


def batch_words(line: str) -> tuple[list[str], int | None]:
    """A chain or backprop --batch line: its derivatives, and the --layers N it gives itself
    (--layers=N too); a comment, from # to the end of the line, is left out. Any other option
    belongs on the command line."""
    words = line.split("#", 1)[0].split()
    layers = None
    kept = []
    tokens = iter(words)
    for word in tokens:
        if word == "--layers" or word.startswith("--layers="):
            value = word.partition("=")[2] if "=" in word else next(tokens, "")
            layers = options.CHAIN.by_dest("layers").kind.read(value, "--layers")
        elif word.startswith("-") and len(word) > 1 and not is_number_like(word):
            raise InputError(f"{word}: options go on the command line, not on a --batch line (but --layers N)")
        else:
            kept.append(word)
    if words == ["-"]:
        raise InputError("D1: '-' is not a number here; a --batch line holds the derivatives themselves")
    return kept, layers


def chain_batch(call: Call) -> None:
    """chain and backprop --batch: the general way for every line, and the value-line kernel
    (plain and residual networks, short lines of small numbers) for the lines it takes."""
    from fractions import Fraction

    from ..core.blocks import CLASSIC
    from ..core.chains import repeat_layers

    command = call.command
    every = call.values.layers  # each line's derivatives repeated to this many layers
    values = call.values.replace(mode=schema.mode_of(command, {}), layers=None)
    blocks = blocks_of(values)
    upstream = upstream_of(values) if command is options.BACKPROP else None
    from ..output.batch import LayerRows, Objects, Rows

    writer: Rows | Objects | LayerRows | None = None
    if call.format == "csv" and not call.flag("per_layer"):
        writer = Rows(blocks, upstream, call.flag("keep_going"), call.view)
    elif call.format == "csv":
        writer = LayerRows(call.view)
    elif call.format == "json" and not call.flag("per_layer"):
        writer = Objects(command.name, blocks, upstream, call.view)
    per_layer = call.per_layer and (writer is None or isinstance(writer, LayerRows))

    def case(line: str) -> Any:
        words, own = batch_words(line)
        local = repeat_layers(parse_numbers(words, "D"), own or every)
        return api.compute(values.replace(local=local, per_layer=per_layer))

    kernel = None
    if set(blocks) <= set(CLASSIC) and (call.format == "value" or writer is not None):
        from ..core import kernels
        from ..core.exact import parse_number, show_parts

        kernel = kernels.ValueLines(
            [b is CLASSIC[1] for b in blocks],
            upstream if upstream is not None else Fraction(1),
            lambda word: parse_number(word, "D"),
            lambda n, d: show_parts(n, d, call.view.exact, call.view.machine_digits, 0).text,
        )

    def repeat(words: Sequence[str]) -> int | None:
        """How many times --layers repeats a line of these words (None: not a whole number of
        times, which the general way refuses with its message)."""
        if every is None or not words:
            return 1
        return None if every % len(words) else every // len(words)

    def quick(line: str) -> str | None:
        if "--" in line or "#" in line or kernel is None:  # an option or a comment: the general way
            return None
        times = repeat(line.split())
        return None if times is None else kernel(line, times)

    def cases(number: int, line: str) -> str:
        assert writer is not None
        words, own = batch_words(line)
        layers = own or every or len(words)
        if isinstance(writer, LayerRows):
            return writer.case(number, (tuple(words), layers), lambda: case(line))
        found: Sequence[Any] | None = None
        if kernel is not None and own is None and "#" not in line:
            times = repeat(words)
            if times is not None and isinstance(writer, Rows):  # the texts a value line writes, as csv writes them
                found = kernel.texts(line, times)
            elif times is not None:
                found = kernel.gradients(line, times)
        if found is None:
            found = case(line).headline
        return writer.case(number, words, layers if words else 0, found)

    if writer is None:
        run_batch(call, case, quick if call.format == "value" else None)
    else:
        run_batch(call, case, None, writer, cases)


def key_values(line: str, keys: Sequence[str], name: str) -> dict[str, str]:
    """A --batch line of loss/update: key=value pairs (or --key value)."""
    from ..core.errors import suggest

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
        if key in values:
            raise InputError(f"{key}=: given twice on one line ({values[key]!r} and {value!r}); give it once")
        values[key] = value
    return values


# ---------------------------------------------------------------------------
# Every other command: the call read, its positional argument added; or --batch, a call a line


def answer(call: Call) -> None:
    """A command's answer: the call read, with its positional argument (numbers, or stdin's;
    one word) and a --csv - file read from stdin; or with --batch, each stdin line a call."""
    if keyed_batch(call, _public(call.command)):
        return
    changes: dict[str, Any] = {}
    argument = call.command.arguments
    if argument is not None and argument.most > 1:  # numbers: gradients, derivatives
        changes[argument.keyword] = derivatives(
            call, "gradients" if argument.keyword == "gradients" else "local derivatives"
        )
    elif argument is not None:  # one word: init gain's nonlinearity
        if len(call.parsed.arguments) != 1:
            raise InputError(f"{argument.metavar}: give one, e.g. relu; expected {argument.help}")
        changes[argument.keyword] = call.parsed.arguments[0]
    for opt in call.command.options:
        if isinstance(opt.kind, schema.FileKind) and getattr(call.values, opt.dest, None) == "-":
            import io

            stream = io.StringIO(read_stdin())
            stream.name = "stdin"
            changes[opt.dest] = stream
    emit(call, call.result(**changes))


def _public(command: schema.Command) -> Callable[..., Any]:
    """The API function of a command (``init gain``: skipcalc.init.gain), which a --batch line
    calls with its keywords."""
    if command.group == "init":
        from .. import init

        return getattr(init, command.name.replace("-", "_"))  # type: ignore[no-any-return]
    return getattr(api, command.name)  # type: ignore[no-any-return]


def keyed_batch(call: Call, function: Callable[..., Any]) -> bool:
    """--batch: each line's key=value pairs (or --key value) over the options given on the
    command line, and its other words the positional arguments (paths' derivatives, init gain's
    nonlinearity); True when it ran."""
    if not call.flag("batch"):
        return False
    if call.parsed.arguments:
        raise InputError("--batch: the cases come from stdin, a line each; give no arguments")
    valued = [opt for opt in call.command.options if opt.api and opt.takes_value]  # flags go on the command line
    names = {key: opt.api for opt in valued for key in (opt.dest, opt.api)}

    argument = call.command.arguments

    def case(line: str) -> Any:
        words = line.split("#", 1)[0].split()
        arguments = [w for w in words if "=" not in w and not w.startswith("--")] if argument is not None else []
        keyed = " ".join(_underscored(w) for w in words if w not in arguments)
        given = key_values(keyed, sorted(names), call.command.words) if keyed else {}
        keywords = {**call.keywords, **{names[key]: value for key, value in given.items()}}
        for opt in valued:
            if opt.required and keywords.get(opt.api) is None:
                raise InputError(f"{opt.name}: missing; give {opt.name} (or {opt.api}= on each line)")
        if not arguments or argument is None:
            return function(**keywords)
        if argument.most > 1:  # a list (paths' derivatives), counted before it is read
            argument.count(len(arguments))
            return function(arguments, **keywords)
        if len(arguments) > 1:
            raise InputError(f"{arguments[1]}: one argument per line")
        return function(*arguments, **keywords)

    run_batch(call, case)
    return True


def _underscored(word: str) -> str:
    """weight-var=2 (or --weight-var) as weight_var=2: a line's keys spelled either way."""
    key, equals, value = word.lstrip("-").partition("=")
    return key.replace("-", "_") + equals + value


def depth_command(call: Call) -> None:
    def shown(result: Any) -> Any:
        if type(result).__name__ == "DepthMapResult" and call.format == "value":  # a line as the command line
            raise InputError("--format: a depth map is a row per (D, depth); give --format csv, json or table")
        return result

    if keyed_batch(call, lambda **keywords: shown(api.depth(**keywords))):
        return
    result = shown(call.result())
    if type(result).__name__ == "DepthMapResult":
        if call.parsed.values.get("plot"):
            raise InputError("--plot: a depth map is drawn only as a heat map, with --save FILE.png")
    emit(call, result)


def probe_command(call: Call) -> None:
    """Build the preset (or run the user's file), probe it, render."""
    values = call.parsed.values
    command = call.command

    def read(dest: str) -> Any:
        opt = command.by_dest(dest)
        value = values[dest]
        if opt.many:
            return [opt.kind.read(v, opt.name) for v in value]
        return value if isinstance(opt.kind, schema.Flag) else opt.kind.read(value, opt.name)

    arguments = call.parsed.arguments
    model_file = values.get("model")
    if len(arguments) > 1:
        raise InputError(f"PRESET: give one, e.g. mlp; expected {command.arguments.help}")  # type: ignore[union-attr]
    if arguments and model_file is not None:
        raise InputError("--model: probes your own model; give it or a preset, not both")
    if not arguments and model_file is None:
        raise InputError(
            "PRESET: give a preset (mlp, transformer, gpt2, resnet18, resnet50) or --model FILE.py:FUNCTION"
        )
    preset = command.arguments.kind.read(arguments[0], "PRESET") if arguments else None  # type: ignore[union-attr]
    from ..probing.presets import PRESETS, settings_of

    settings_by_preset = {name: settings_of(name) for name in PRESETS}
    allowed = settings_by_preset.get(preset or "", ())
    preset_dests = {dest for dests in settings_by_preset.values() for dest in dests}
    for dest in values:
        if dest in preset_dests and dest not in allowed:
            owners = [name for name, dests in settings_by_preset.items() if dest in dests]
            where = "the " + " and ".join(owners) + " preset" + ("s" if len(owners) > 1 else "")
            raise InputError(f"{command.by_dest(dest).name}: applies only to {where}")
    settings = {dest: read(dest) for dest in allowed if dest in values}
    if preset == "transformer" and "heads" not in settings:
        settings["heads"] = read("heads") if "heads" in values else 4
    from ..output import progress

    api.probe_available()
    with progress.phase("building the model"):
        built = api.preset(preset, seed=read("seed") if "seed" in values else 0, **settings) if preset else None
        if built is None:
            from ..probing.presets import from_file

            built = from_file(str(model_file))
    keywords: dict[str, Any] = {}
    for dest, keyword in (
        ("blocks", "blocks"),
        ("probes", "probes"),
        ("seed", "seed"),
        ("dtype", "dtypes"),
        ("mode", "mode"),
    ):
        if dest in values:
            keywords[keyword] = read(dest)
    with progress.phase("probing the model"):
        result = api.probe(built, **keywords) if preset else api.probe(built.model, built.inputs, **keywords)
    emit(call, result)


HANDLERS: dict[str, Callable[[Call], None]] = {
    "probe": probe_command,
    "chain": chain_or_backprop,
    "backprop": chain_or_backprop,
    "depth": depth_command,
}
"""The commands with more to do than :func:`answer` (the batch kernel, a depth map's formats,
building a model); every other command is answered by it."""
