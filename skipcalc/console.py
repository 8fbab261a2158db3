"""The console script: Ctrl-C guarded before anything is imported, then one of two ways in.

Scripted calls - chain or backprop in a machine format (json, csv, value) - are read with the
declaration's own reader and answered without importing Typer (about 50 ms of every call in a
shell loop). Everything else goes to the Typer app: tables, help, completion and the other
commands. Both read the arguments with options.tokenize and run commands.run, so they accept,
refuse and print alike (tests/test_cli.py walks every declared option through both).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .options import Parsed


def main() -> None:
    from . import errors

    errors.guard_interrupts()
    with errors.guarded():
        errors.prepare_streams()
        from .exact import allow_long_int_text

        allow_long_int_text()
        args = sys.argv[1:]
        parsed = scripted(args)
        if parsed is not None:
            from .commands import run

            run(parsed)
        else:
            _progress_on(args)
            from .cli import run as run_app

            run_app(args)


def scripted(args: list[str]) -> Parsed | None:
    """The parsed call when it is a scripted chain/backprop call, else None (for Typer)."""
    if not args or args[0] not in ("chain", "backprop") or "_SKIPCALC_COMPLETE" in os.environ:
        return None
    from .options import MACHINE, find_command, tokenize

    command, rest = find_command(args)
    parsed = tokenize(command, rest)  # an unknown option is refused here as Typer would
    if parsed.help or parsed.values.get("format") not in MACHINE:
        return None
    return parsed


def _progress_on(args: list[str]) -> None:
    """The progress display, for calls a person watches: stderr a terminal, no --batch."""
    from . import progress

    progress.enabled = sys.stderr is not None and sys.stderr.isatty() and "--batch" not in args
