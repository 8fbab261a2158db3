"""The console script. Ctrl-C is guarded before anything else is imported; then each call goes
one way: help and shell completion to the Typer app (app.py), every command to skipcalc's own
reader (reader.py), which hands the texts to the API (commands.py). No call is read twice.
"""

import gc
import os
import signal
import sys


def _quiet(signum: int, frame: object) -> None:
    os._exit(130)  # Ctrl-C before process.guard_interrupts takes over: quiet, no traceback


signal.signal(signal.SIGINT, _quiet)

HELP = ("-h", "--help")
TYPER_ONLY = ("--version", "--install-completion", "--show-completion")


def main() -> None:
    """The console script: Ctrl-C, the standard streams and every way the call ends taken care
    of (cli/process.py), then the call itself (:func:`run`)."""
    # One call is one short process that makes no garbage cycles worth collecting: the cyclic
    # collector only rescans the objects a long chain holds (a million layers' values), which
    # measured doubled the time of such calls. Reference counting still frees everything.
    gc.disable()
    from . import process

    process.guard_interrupts()
    with process.guarded():
        process.prepare_streams()
        run(sys.argv[1:])


def run(args: list[str]) -> None:
    """One call, its words after ``skipcalc``: help and completion through Typer, anything else
    read once (cli/reader.py), run (cli/commands.py) and written. The tests call this too."""
    from ..core.exact import allow_long_int_text

    allow_long_int_text()
    shown = for_typer(args)
    if shown is not None:
        from .app import help_or_completion

        help_or_completion(shown)
        return
    _progress_on(args)
    from .commands import execute
    from .reader import parse

    execute(parse(args))


def for_typer(args: list[str]) -> list[str] | None:
    """The arguments to hand the Typer app when the call asks for help, completion, the version
    or a completion installer; None for a command, which skipcalc's reader answers."""
    if "_SKIPCALC_COMPLETE" in os.environ:
        return args
    if not args or args[0] in HELP:
        return ["--help"]
    if args[0] in TYPER_ONLY:
        return args
    if args[0] == "help":  # skipcalc help [COMMAND]
        return [*_command_words(args[1:]), "--help"] if args[1:] else ["--help"]
    before = args[: args.index("--")] if "--" in args else args
    if args == ["init"] or any(word in HELP for word in before):
        return [*_command_words(args), "--help"]
    return None


def _command_words(args: list[str]) -> list[str]:
    """The words that name the command (chain; init gain), refused by name when there is none."""
    if args[0] == "init" and (len(args) == 1 or args[1].startswith("-")):
        return ["init"]
    from ..options import find_command

    command, _ = find_command(args)
    return command.path.split()[1:]


def _progress_on(args: list[str]) -> None:
    """The progress display, for calls a person watches: stderr a terminal, no --batch."""
    from ..output import progress

    progress.enabled = sys.stderr is not None and sys.stderr.isatty() and "--batch" not in args
