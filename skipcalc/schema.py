"""How the interface is declared and read: the kinds of values an option takes, options,
modes and commands, and the two checks every call passes - that each option given applies
where it was given (:func:`check`), and that each value reads by its kind (:func:`read`).

The declaration itself is skipcalc/options.py; this module imports no Typer, Rich or SymPy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from .core import limits
from .core.errors import InputError, arg, python_spelling, spelled, suggest
from .core.exact import quote, to_number

# ---------------------------------------------------------------------------
# Kinds: how a value is read


class Kind:
    """How one value of an option is read, from a shell's text or a Python value."""

    metavar = "VALUE"

    def read(self, value: Any, name: str) -> Any:
        return value

    def choices(self) -> tuple[str, ...]:
        """The values shell completion offers (none: any text)."""
        return ()

    def describe(self, default: Any) -> str:
        """A default as the help prints it."""
        from .core.exact import show

        if isinstance(default, Fraction):
            return show(default, digits=12, fraction=6).text
        return str(default)


class Flag(Kind):
    """A flag: given or not."""

    def read(self, value: Any, name: str) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"{name}: {value!r} is not accepted; expected True or False")
        return value


@dataclass(frozen=True, eq=False)
class NumberKind(Kind):
    """An exact number (0.1 is 1/10), within an optional range."""

    low: Fraction | None = None
    high: Fraction | None = None
    open_low: bool = False  # low itself is refused
    expected: str = ""  # the range in words, for the refusal
    metavar: str = "X"

    def read(self, value: Any, name: str) -> Fraction:
        number = to_number(value, name)
        low_ok = self.low is None or (number > self.low if self.open_low else number >= self.low)
        if not low_ok or (self.high is not None and number > self.high):
            raise InputError(f"{name}: {_text(value)} is not accepted; expected {self.expected}")
        return number


@dataclass(frozen=True, eq=False)
class Whole(Kind):
    """A whole number from low to high."""

    low: int
    high: int
    metavar: str = "N"

    def read(self, value: Any, name: str) -> int:
        expected = f"expected a whole number from {self.low:,} to {self.high:,}"
        try:
            number = to_number(value, name)
        except InputError:
            raise InputError(f"{name}: {quote(str(value))} is not a whole number; {expected}") from None
        if number.denominator != 1 or not self.low <= number <= self.high:
            raise InputError(f"{name}: {_text(value)} is not accepted; {expected}")
        return int(number)


@dataclass(frozen=True, eq=False)
class Choice(Kind):
    """One of a set of names, read regardless of case and with the common aliases (fp16 for
    float16); ``values`` may be a function, so the module that owns the names is imported only
    when one is read."""

    values: tuple[str, ...] | Callable[[], Sequence[str]]
    what: str  # "a format", for the refusal
    aliases: Mapping[str, str] = field(default_factory=dict)
    metavar: str = "NAME"

    def choices(self) -> tuple[str, ...]:
        return tuple(self.values() if callable(self.values) else self.values)

    def read(self, value: Any, name: str) -> str:
        names = self.choices()
        if not isinstance(value, str):
            raise InputError(f"{name}: {value!r} is not {self.what}; expected one of {', '.join(names)}")
        if value in names:
            return value
        key = value.strip().lower()
        by_case = {n.lower(): n for n in names}
        if key in by_case:
            return by_case[key]
        if key in self.aliases:
            return self.aliases[key]
        raise InputError(
            f"{name}: {quote(value)} is not {self.what}; {suggest(key, [*names, *self.aliases])}"
            f"expected one of {', '.join(names)}"
        )


class Text(Kind):
    """Text taken as it is (a formula, a file name), refused when it is not a str."""

    def __init__(self, metavar: str = "TEXT") -> None:
        self.metavar = metavar

    def read(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise InputError(f"{name}: {value!r} is not text")
        return value


class Named(Text):
    """Text that may be one of some names (completed by the shell) or anything else the reader
    takes (meanfield's --act: a name, or a formula)."""

    def __init__(self, names: Callable[[], Sequence[str]], metavar: str = "NAME") -> None:
        super().__init__(metavar)
        self.names = names

    def choices(self) -> tuple[str, ...]:
        return tuple(self.names())


class FileKind(Kind):
    """A file to read: a path (text or os.PathLike) or, from Python, an open text file."""

    metavar = "FILE"

    def read(self, value: Any, name: str) -> Any:
        import os

        if isinstance(value, (str, os.PathLike)) or hasattr(value, "read"):
            return value
        raise InputError(f"{name}: {value!r} is not a file name or an open file")


class BlockKind(Kind):
    metavar = "SPEC"

    def read(self, value: Any, name: str) -> Any:
        from .core.blocks import parse_block

        return parse_block(value, name)

    def choices(self) -> tuple[str, ...]:
        return ("plain", "residual", "scaled:", "rezero:", "highway:", "stochastic:", "stochastic:linear:")


class MatrixKind(Kind):
    """A square matrix of exact numbers: '[[0.1,0.2],[0,0.3]]', or nested lists of numbers."""

    metavar = "M"

    def read(self, value: Any, name: str) -> Any:
        from .core.jacobian import parse_matrix, to_matrix

        return parse_matrix(value, name) if isinstance(value, str) else to_matrix(value, name)


class VectorKind(Kind):
    """A vector of exact numbers: '[1,-2]', or a list of numbers."""

    metavar = "V"

    def read(self, value: Any, name: str) -> Any:
        from .core.jacobian import parse_vector

        if isinstance(value, str):
            return parse_vector(value, name)
        from .core.exact import to_numbers

        return tuple(to_numbers(value, f"{name} entry "))


class NumberOrVector(Kind):
    """--loss-grad: a number, or a vector ('[1,-2]', a list) for Jacobian layers."""

    metavar = "G"

    def read(self, value: Any, name: str) -> Any:
        if (isinstance(value, str) and value.strip().startswith("[")) or isinstance(value, (list, tuple)):
            return VectorKind().read(value, name)
        if hasattr(value, "__iter__") and not isinstance(value, str):  # a numpy array
            return VectorKind().read(list(value), name)
        return to_number(value, name)


class Depths(Kind):
    """A list of depths: '1,2,5', a range '1:100:1', or a list of whole numbers."""

    metavar = "LIST"

    def read(self, value: Any, name: str) -> list[int]:
        whole = Whole(1, limits.MAX_LISTED_DEPTH)
        if isinstance(value, str) and ":" in value:  # a range START:STOP:STEP
            from .core.exact import number_range

            return [whole.read(depth, name) for depth in number_range(value, name, limits.MAX_ROWS)]
        parts = value.split(",") if isinstance(value, str) else list(value) if hasattr(value, "__iter__") else [value]
        if not parts or parts == [""]:
            raise InputError(f"{name}: no depths; give some, e.g. 1,10,50")
        return [whole.read(part, name) for part in parts]


@dataclass(frozen=True, eq=False)
class NumberList(Kind):
    """Numbers: one, a list ('0,0.05,0.1'), a range START:STOP:STEP (inclusive, exact), or a
    Python sequence; each within the range of ``number``."""

    number: NumberKind
    most: int = 1000
    metavar: str = "LIST"

    def read(self, value: Any, name: str) -> list[Fraction]:
        from .core.exact import number_range

        if isinstance(value, str) and ":" in value:
            values: list[Any] = number_range(value, name, self.most)
        elif isinstance(value, str):
            values = [part for part in value.split(",")]
        elif hasattr(value, "__iter__"):
            values = list(value)
        else:
            values = [value]
        if not values or values == [""]:
            raise InputError(f"{name}: no values; give one, a list such as 0,0.05,0.1, or a range such as 0:0.3:0.05")
        if len(values) > self.most:
            raise InputError(f"{name}: {len(values):,} values are more than the {self.most:,} accepted")
        return [self.number.read(v, name) for v in values]


def _text(value: Any) -> str:
    """A value inside a refusal, the same whether it came as text or as a Python number."""
    return quote(str(value).strip())


# ---------------------------------------------------------------------------
# Options, modes and commands


@dataclass(frozen=True, eq=False)
class Opt:
    """One option. ``modes`` and ``formats`` say where it applies (empty: everywhere);
    ``requires`` names an option it needs, ``excludes`` options it cannot be given with.
    ``keyword`` is its name in the Python API ("" for the command line's own options, which
    only choose how a result is written); ``switch`` options also have --no-NAME."""

    name: str
    kind: Kind
    help: str
    default: Any = None
    many: bool = False  # repeatable: a list
    modes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    requires: str = ""
    excludes: tuple[str, ...] = ()
    keyword: str | None = None  # None: the dest; "": not an API keyword
    switch: bool = False
    default_text: str = ""  # the default in the help, when it is not one value
    required: str = ""  # the refusal when it is missing ("" : it may be left out)

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")

    @property
    def api(self) -> str:
        """The keyword argument of the API function ("" for the command line's own)."""
        return self.dest if self.keyword is None else self.keyword

    @property
    def key(self) -> str:
        """How a message names it (core.errors.arg): its API name, or for the command line's own
        options its dest."""
        return self.api or self.dest

    def named(self, value: object = None) -> str:
        """This option inside a message: each interface spells it its own way (core.errors)."""
        return arg(self.key, value)

    @property
    def off(self) -> str:
        """A switch's negative form: --no-plot."""
        return "--no-" + self.name[2:] if self.switch else ""

    @property
    def takes_value(self) -> bool:
        return not isinstance(self.kind, Flag)

    @property
    def metavar(self) -> str:
        return self.kind.metavar


@dataclass(frozen=True, eq=False)
class Mode:
    """A way a command runs, chosen by a trigger option (or by default, with no trigger)."""

    name: str
    trigger: str
    label: str  # how a message names it: "with --random-jacobians"


@dataclass(frozen=True, eq=False)
class Argument:
    """A command's positional arguments."""

    metavar: str
    help: str
    keyword: str  # its name in the API
    kind: Kind = field(default_factory=lambda: NumberKind())
    most: int = 1  # how many it takes: counted before any is read
    accepts: str = ""  # the limit in words: "layers one chain accepts"

    def count(self, given: int, where: str = "") -> None:
        """Refuse, before reading any, more arguments than the command takes."""
        if given > self.most:
            raise InputError(f"{self.metavar}: {given:,} numbers{where} are more than the {self.most:,} {self.accepts}")


@dataclass(frozen=True, eq=False)
class Command:
    name: str
    summary: str
    description: str
    options: tuple[Opt, ...]
    arguments: Argument | None = None
    modes: tuple[Mode, ...] = (Mode("single", "", ""),)
    group: str = ""  # "init" for its subcommands
    example: str = ""

    @property
    def path(self) -> str:
        return f"skipcalc {self.group + ' ' if self.group else ''}{self.name}"

    @property
    def words(self) -> str:
        """How a message names the command: "chain", "init gain"."""
        return self.path.removeprefix("skipcalc ")

    def find(self, name: str) -> Opt | None:
        for opt in self.options:
            if name in (opt.name, opt.off):
                return opt
        return None

    def by_dest(self, dest: str) -> Opt:
        return next(opt for opt in self.options if opt.dest == dest)

    @property
    def names(self) -> list[str]:
        return [n for opt in self.options for n in (opt.name, opt.off) if n]


# ---------------------------------------------------------------------------
# Where options apply, and reading their values


def mode_of(command: Command, given: Mapping[str, Any], arguments: bool = False) -> Mode:
    """The mode the triggers given choose (``given``: values by dest); two triggers, or
    arguments where a trigger takes none, are refused by name."""
    triggered = [m for m in command.modes if m.trigger and _option(command, m.trigger).dest in given]
    if len(triggered) > 1:
        a, b = (_option(command, m.trigger).named() for m in triggered[:2])
        raise InputError(f"{b}: cannot be combined with {a}; give one kind of layers")
    if triggered:
        mode = triggered[0]
        if arguments and command.arguments is not None and command.arguments.metavar == "D":
            opt = _option(command, mode.trigger)
            trigger = opt.named()
            what = "stdin, one chain per line" if mode.name == "batch" else opt.named(not opt.takes_value or None)
            raise InputError(f"{trigger}: the layers come from {what}; give no numeric derivatives as arguments")
        return mode
    return next(m for m in command.modes if not m.trigger)


def check(command: Command, given: Mapping[str, Any], mode: Mode, fmt: str | None) -> None:
    """Every option given (by dest: the API's, and the command line's own when it reads) applies
    here, or is refused by name with where it applies; ``fmt`` None skips the output formats
    (the API has none)."""
    for opt in command.options:
        if opt.dest not in given:
            continue
        if given[opt.dest] is False and opt.off:
            continue  # --no-plot asks for less: accepted wherever it is given, and does nothing more
        shown = opt.named(False) if given[opt.dest] is False and opt.off else opt.named()
        if opt.modes and mode.name not in opt.modes:
            where = marked(" or ".join(_mode_label(command, m) for m in opt.modes), [command])
            here = f" (this is {command.words} {marked(mode.label, [command])})" if mode.label else ""
            raise InputError(f"{shown}: applies only {where}{here}")
        if fmt is not None and opt.formats and fmt not in opt.formats:
            formats = " or ".join(arg("format", f) for f in opt.formats)
            raise InputError(
                f"{shown}: applies only with {formats}" + (" (the default)" if opt.formats == ("table",) else "")
            )
        if opt.requires and _option(command, opt.requires).dest not in given:
            raise InputError(f"{shown}: applies only with {_option(command, opt.requires).named(True)}")
        for other in opt.excludes:
            found = command.find(other)  # an option some commands have: --latex excludes --dtype
            if found is not None and found.dest in given:
                why = marked(_why(opt.name, other), [command])
                raise InputError(f"{found.named()}: cannot be combined with {shown}{why}")


def _why(name: str, other: str) -> str:
    reasons = {
        ("--exact", "--digits"): " (--exact prints every digit)",
        ("--max", "--depths"): "; give one or the other",
        ("--target", "--loss-grad"): "; give --loss-grad, or --target with --pred",
    }
    return reasons.get((name, other), "")


def _option(command: Command, name: str) -> Opt:
    """The option a declaration names by its flag (a mode's trigger, what an option requires)."""
    found = command.find(name)
    assert found is not None, f"{command.words} declares no {name}"
    return found


def _mode_label(command: Command, name: str) -> str:
    """How the help names a mode: "with --fn"."""
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


def help_text(command: Command, opt: Opt) -> str:
    """An option's help: what it does, its default, and where it applies."""
    default = opt.default_text or ("" if opt.default is None else opt.kind.describe(opt.default))
    return opt.help + (f" [default: {default}]" if default else "") + applies_text(command, opt)


def parameters_doc(command: Command) -> str:
    """The Parameters section of an API function's docstring, written from the declaration in
    Python's words (``layers=``, not ``--layers``; nothing of stdin or output formats)."""
    lines = ["", "", "    Parameters (as ``" + command.path + "``'s options, declared in skipcalc.options):"]
    if command.arguments is not None:
        help = command.arguments.help.split("; - reads")[0].split(" (- reads")[0]
        lines.append(f"        {command.arguments.keyword}: {python_words(help, [command])}")
    for opt in command.options:
        if opt.api:
            default = opt.default_text or ("" if opt.default is None else opt.kind.describe(opt.default))
            text = opt.help + (f" [default: {default}]" if default else "")
            lines.append(f"        {opt.api}: {python_words(text, [command])}")
    return "\n".join(lines) + "\n"


def marked(text: str, commands: Sequence[Command]) -> str:
    """The declaration's text (written in the command line's words, as its help shows it) with
    each API option it names marked as core.errors.arg marks it: ``--weight-var 1.5`` as the
    argument weight_var given 1.5, a flag ``--critical`` as given True, a leading ``--act:`` as
    the argument act; the command line's own options (``--format``) are left as they are."""
    import re

    known: dict[str, Opt] = {}
    for c in commands:
        for opt in c.options:
            if opt.api:
                known.setdefault(opt.name, opt)

    def name(match: re.Match[str]) -> str:
        opt = known.get(match.group(1))
        if opt is None:
            return match.group(0)
        if match.group(2) == ":":
            return opt.named() + ":"
        if isinstance(opt.kind, Flag):
            return opt.named(True) + match.group(2)
        value = match.group(3) or ""
        return opt.named(value) if value else opt.named() + match.group(2)

    value = r"(?:(?<= )([-'\"0-9][^ ,;)\]]*|[A-Z][A-Z0-9_]*\b))?"
    return re.sub(r"(--[a-z][a-z0-9-]*)(:| ?)" + value, name, text)


def python_words(text: str, commands: Sequence[Command]) -> str:
    """The declaration's text in the API's words (its help, as a docstring shows it):
    ``--weight-var 1.5`` becomes ``weight_var=1.5``, ``--critical`` ``critical=True``."""
    return spelled(marked(text, commands), python_spelling)


def command_line_spelling(commands: Sequence[Command]) -> Callable[[str, str | None], str]:
    """How the command line writes an argument a message names (core.errors.arg): as its flag,
    with its value after a space (``--weight-var 1.5``), a flag given True alone, False as its
    --no- form."""
    flags: dict[str, Opt] = {}
    for c in commands:
        for opt in c.options:
            flags.setdefault(opt.key, opt)
            flags.setdefault(opt.dest, opt)

    def spell(name: str, value: str | None) -> str:
        opt = flags.get(name)
        flag = opt.name if opt is not None else "--" + name.replace("_", "-")
        if value == "False" and opt is not None and opt.off:
            return opt.off
        return flag if value is None or value == "True" else f"{flag} {value}"

    return spell


class Values:
    """A call, read and checked once: a frozen dataclass per command, generated from its
    declaration (:func:`values_type`), with a field per API option (by dest, each read by its
    kind, the declared default where it was not given) and the positional argument (by its
    API keyword, as given: counted and read by the work that takes it). ``mode`` is the mode
    its triggers chose, ``given`` the dests given. ``per_layer`` and ``written`` say what the
    command line will write (every layer's values; json or csv), which bounds some work; from
    Python, every layer and nothing written."""

    command: Command
    mode: Mode
    given: frozenset[str]
    per_layer: bool
    written: bool

    def replace(self, **changes: Any) -> Values:
        """The same call with ``changes`` (the command line adds the numbers it read)."""
        import dataclasses

        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    if TYPE_CHECKING:

        def __getattr__(self, dest: str) -> Any: ...  # the generated fields


_TYPES: dict[Command, type[Values]] = {}


def values_type(command: Command) -> type[Values]:
    """The frozen dataclass of ``command``'s read values (``chain``: ChainValues), generated
    from its declaration once."""
    found = _TYPES.get(command)
    if found is None:
        from dataclasses import make_dataclass

        fields: list[Any] = [(opt.dest, _annotation(opt)) for opt in command.options if opt.api]
        if command.arguments is not None and command.arguments.keyword:
            fields.append((command.arguments.keyword, Any))
        fields += [("command", Command, field(repr=False)), ("mode", Mode), ("given", frozenset)]
        fields += [("per_layer", bool, field(repr=False)), ("written", bool, field(repr=False))]
        name = "".join(part.capitalize() for part in command.words.replace("-", " ").split()) + "Values"
        found = make_dataclass(name, fields, bases=(Values,), frozen=True, eq=False)
        found.__module__ = __name__
        _TYPES[command] = found
    return found


def _annotation(opt: Opt) -> Any:
    """A field's type, as the kind reads it (documentation: the fields are read, not cast)."""
    one: Any = {Flag: bool, NumberKind: Fraction, Whole: int, Choice: str, Text: str, Named: str}.get(
        type(opt.kind), Any
    )
    return list[one] if opt.many else one if isinstance(opt.kind, Flag) else Union[one, None]


def read(
    command: Command,
    keywords: Mapping[str, Any],
    *,
    output: Mapping[str, Any] | None = None,
    fmt: str | None = None,
) -> Values:
    """A call's arguments, checked once and read: ``keywords`` by API name, every one the
    command declares (None or False: not given; the positional argument under its keyword).
    The command line also hands its own options (``output``, by dest) and its output format,
    checked in the same pass."""
    declared = {opt.api for opt in command.options if opt.api}
    argument = command.arguments.keyword if command.arguments is not None else ""
    missing = declared - set(keywords)
    assert not missing, f"{command.words}: the call passes no {', '.join(sorted(missing))}"
    given: dict[str, Any] = {}
    for opt in command.options:
        if not opt.api:
            if output is not None and opt.dest in output:
                given[opt.dest] = output[opt.dest]
            continue
        value = keywords[opt.api]
        if value is None or value is False:
            continue
        if opt.many and (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")):
            value = [value]
        if opt.many and not value:
            raise InputError(f"{opt.named()}: an empty list; give at least one, or leave it out")
        given[opt.dest] = value
    positional = keywords.get(argument) if argument else None
    mode = mode_of(command, given, positional is not None)
    check(command, given, mode, fmt)
    fields: dict[str, Any] = {}
    for opt in command.options:
        if not opt.api:
            continue
        if opt.dest not in given and opt.required and "batch" not in given:  # a --batch line may give it
            raise InputError(f"{opt.named()}: missing; {marked(opt.required, [command])}")
        if opt.dest in given:
            value = given[opt.dest]
            fields[opt.dest] = (
                [opt.kind.read(v, f"{opt.named()} {i}") for i, v in enumerate(value, 1)]
                if opt.many
                else opt.kind.read(value, opt.named())
            )
        else:
            fields[opt.dest] = False if isinstance(opt.kind, Flag) else opt.default
    if argument:
        fields[argument] = positional
    api_given = frozenset(dest for dest in given if command.by_dest(dest).api)
    fields.update(command=command, mode=mode, given=api_given, per_layer=True, written=False)
    return values_type(command)(**fields)
