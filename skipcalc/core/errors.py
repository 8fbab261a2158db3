"""The errors skipcalc's layers raise: InputError (a value the user gave, refused by name) and
OutputError (a file that could not be written), and the "did you mean" every refusal offers.

A refusal names the quantity it refuses by its Python name, marked with :func:`arg`
(``arg("weight_var")``); each interface spells the marked names its own way: ``str(error)``
as the Python API's arguments (``weight_var``), the command line as its flags
(``--weight-var``, cli/process.py). The core never writes a flag.

This module imports nothing of skipcalc, so every layer may use it. How a call ends (exit
statuses, signals, the standard streams) is the command line's: skipcalc/cli/process.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

MARK = "\x1f"
"""Brackets an argument's name inside a message (ASCII unit separator: never typed in argv)."""

_MARKED = re.compile(f"{MARK}([^{MARK}=]*)(?:=([^{MARK}]*))?{MARK}")

Spelling = Callable[[str, "str | None"], str]
"""How an interface writes a marked argument: (name, value or None) to its text."""


def arg(name: str, value: object = None) -> str:
    """The argument ``name`` (its Python name) named inside a message, with the ``value`` it
    was given, if the message shows it; ``True`` marks a flag. The command line writes
    ``arg("weight_var", "1.5")`` as "--weight-var 1.5" and Python as "weight_var=1.5";
    ``arg("critical", True)`` as "--critical" and "critical=True"; ``arg("layers")`` as
    "--layers" and "layers"."""
    return f"{MARK}{name}{'' if value is None else '=' + str(value)}{MARK}"


def python_spelling(name: str, value: str | None) -> str:
    """An argument as Python code writes it: ``weight_var=1.5``, ``critical=True``, ``layers``."""
    return name if value is None else f"{name}={value}"


def spelled(text: str, spelling: Spelling) -> str:
    """``text`` with every marked argument written by ``spelling``."""
    return _MARKED.sub(lambda match: spelling(match.group(1), match.group(2)), text)


class InputError(ValueError):
    """A value the user gave that skipcalc refuses; the message starts with the argument's name,
    and is the line the command line prints (with its flags' names).

    >>> from skipcalc import chain
    >>> chain([0.1, "x"])
    Traceback (most recent call last):
    ...
    skipcalc.InputError: D2: 'x' is not a number; expected a decimal (0.1, -2.5, 1e-3, +4) or a fraction (1/3)
    >>> chain([0.1], layers=0)
    Traceback (most recent call last):
    ...
    skipcalc.InputError: layers: '0' is not accepted; expected a whole number from 1 to 2,000,000
    """

    @property
    def message(self) -> str:
        """The message with its arguments marked, for a message that quotes it."""
        return str(self.args[0]) if self.args else ""

    def spelled(self, spelling: Spelling) -> str:
        """The message with its arguments written as an interface writes them."""
        return spelled(self.message, spelling)

    def __str__(self) -> str:
        return self.spelled(python_spelling)


InputError.__module__ = "skipcalc"  # where users catch it: skipcalc.InputError


class OutputError(OSError):
    """A file skipcalc was asked to write (--save) could not be written; the message names it."""


def suggest(word: str, choices: Sequence[str], prefix: str = "", suffix: str = "") -> str:
    """ "did you mean X? " (or "X or Y? ") for the choices ``word`` begins (``ch``: chain) or, when
    it begins none, the nearest by spelling; "" when none is near."""
    import difflib

    starts = [c for c in choices if len(word.lstrip("-")) >= 2 and c.startswith(word)]
    near = starts[:2] if starts else difflib.get_close_matches(word, list(choices), n=2, cutoff=0.6)
    return f"did you mean {' or '.join(prefix + n + suffix for n in near)}? " if near else ""
