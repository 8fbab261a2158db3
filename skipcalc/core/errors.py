"""The errors skipcalc's layers raise: InputError (a value the user gave, refused by name) and
OutputError (a file that could not be written), and the "did you mean" every refusal offers.

This module imports nothing of skipcalc, so every layer may use it. How a call ends (exit
statuses, signals, the standard streams) is the command line's: skipcalc/cli/process.py.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """A value the user gave that skipcalc refuses; the message starts with the argument's name,
    and is the line the command line prints.

    >>> from skipcalc import chain
    >>> chain([0.1, "x"])
    Traceback (most recent call last):
    ...
    skipcalc.InputError: D2: 'x' is not a number; expected a decimal (0.1, -2.5, 1e-3, +4) or a fraction (1/3)
    """


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
