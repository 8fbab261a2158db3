"""The command line's one reader: argv, split by the declaration (skipcalc.options) into the
command, the texts of the options given and the positional arguments. Nothing is converted
here: each text goes to the API function, which reads it by its option's kind.

An unknown option is refused before anything else, with the nearest real one (or the command
it belongs to); a repeated one, a flag given a value, or a value missing, by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import options, schema
from ..core.errors import InputError, suggest
from ..core.exact import quote


@dataclass
class Parsed:
    """What the user typed: option texts by dest (only those given; flags True, switches
    True/False, repeatable options lists), and the positional arguments."""

    command: schema.Command
    values: dict[str, Any] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)

    def given(self, name: str) -> bool:
        opt = self.command.find(name)
        return opt is not None and opt.dest in self.values


def is_number_like(token: str) -> bool:
    """-0.5, -.5, -1e-3, -1/3 and −0.5 (a typeset minus) are arguments, not options."""
    if token.startswith("\u2212"):
        return len(token) > 1
    return len(token) > 1 and (token[1].isdigit() or token[1] == ".")


def parse(args: Sequence[str]) -> Parsed:
    """The command and its arguments, read by the declaration."""
    command, rest = options.find_command(args)
    return tokenize(command, rest)


def tokenize(command: schema.Command, args: Sequence[str]) -> Parsed:
    """Read ``args`` by the declaration: options (``--name value``, ``--name=value``), flags,
    and positional arguments (negative numbers included; everything after ``--``)."""
    parsed = Parsed(command)
    rest = list(args)
    i = 0
    while i < len(rest):
        token = rest[i]
        i += 1
        if token == "--":
            for word in rest[i:]:
                _argument(parsed, word)
            break
        if not token.startswith("-") or token == "-" or is_number_like(token):
            _argument(parsed, token)
            continue
        name, equals, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        opt = command.find(name)
        if opt is None:
            raise InputError(unknown(command, name))
        if not opt.takes_value:
            if equals:
                raise InputError(f"{name}: takes no value (a flag); remove ={quote(inline)[1:-1]}")
            value: Any = name != opt.off
            if opt.dest in parsed.values and parsed.values[opt.dest] != value:
                raise InputError(f"{opt.name}/{opt.off}: give one or the other")
            parsed.values[opt.dest] = value
            continue
        if equals:
            text = inline
        else:
            if i >= len(rest) or (command.find(rest[i].partition("=")[0]) is not None and not is_number_like(rest[i])):
                raise InputError(f"{name}: needs a value ({opt.metavar})")
            text = rest[i]
            i += 1
        if opt.many:
            parsed.values.setdefault(opt.dest, []).append(text)
        elif opt.dest in parsed.values:
            raise InputError(f"{name}: given twice ({quote(parsed.values[opt.dest])} and {quote(text)}); give it once")
        else:
            parsed.values[opt.dest] = text
    return parsed


def _argument(parsed: Parsed, word: str) -> None:
    command = parsed.command
    if command.arguments is None:
        hint = ""
        value_options = [
            opt
            for opt in command.options
            if opt.takes_value and isinstance(opt.kind, (schema.NumberKind, schema.NumberList))
        ]
        if value_options and options.is_number_text(word):
            hint = f"; did you mean {value_options[0].name} {word}?"
        raise InputError(f"{quote(word)}: {command.words} takes no arguments, only options{hint}")
    parsed.arguments.append(word)


def unknown(command: schema.Command, name: str) -> str:
    """The refusal for an option ``command`` does not have: the nearest real one, or the
    commands it belongs to."""
    shown = quote(name)[1:-1]
    owners = [c for c in options.owners(name) if c != command.words]
    if owners:
        listed = ", ".join(owners[:-1]) + " and " + owners[-1] if len(owners) > 1 else owners[0]
        return f"{shown}: an option of {listed}, not of {command.words} (see {command.path} --help)"
    if name.lstrip("-") in options.COMMANDS:
        word = name.lstrip("-")
        return f"{shown}: no such option; {word} is a command of its own (see skipcalc {word} --help)"
    hint = suggest(name.lower(), command.names)
    if hint:
        return f"{shown}: no such option; {hint}(see {command.path} --help)"
    return f"{shown}: no such option of {command.words} (see {command.path} --help)"
