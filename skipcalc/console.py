"""The console script's entry point, and the fast path for shell loops.

Importing Typer costs about 80 ms, more than half of a call, and a shell loop pays it every
time. The commonest scripted calls - `chain` or `backprop` with numeric derivatives (as
arguments, `-` for stdin, or --batch) and a machine format - are answered here without
Typer. The fast path takes only a narrow grammar: anything else (another command, an
unknown or repeated option, the table view) goes to the Typer app. Errors in the numbers
come from the core (and stdin.py) as on the Typer path, in the same order, and are worded
by the same refuse(). Tests check both paths print the same, errors included.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .numbers import InputError

FLAGS = ("--residual", "--plain", "--exact", "--batch", "--keep-going")
VALUED = ("--format", "--loss-grad", "--target", "--pred")
MACHINE_FORMATS = ("json", "csv", "value")


def main() -> None:
    try:
        from .numbers import allow_long_int_text

        allow_long_int_text()
        if fast(sys.argv[1:]):
            sys.stdout.flush()
            return
        from .cli import run

        run()
    except BrokenPipeError:
        quiet_broken_pipe()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)  # 128 + SIGINT, as shells report it
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as error:  # noqa: BLE001 - the last resort: a bug, said in one line
        if os.environ.get("SKIPCALC_DEBUG"):
            raise
        sys.stdout.flush()
        sys.stderr.write(
            f"skipcalc: internal error: {type(error).__name__}: {error} (a bug; SKIPCALC_DEBUG=1 shows the traceback)\n"
        )
        sys.exit(70)  # EX_SOFTWARE


def fast(args: Sequence[str]) -> bool:
    """Answer ``args`` if they are in the fast path's grammar; False leaves them to Typer."""
    text = stored_help(args)
    if text is not None:
        sys.stdout.write(text)
        return True
    if not args or args[0] not in ("chain", "backprop"):
        return False
    flags: set[str] = set()
    options: dict[str, str] = {}
    texts: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg in FLAGS:
            flags.add(arg)
        elif arg in VALUED:
            value = next(rest, None)
            if value is None or arg in options:
                return False
            options[arg] = value
        elif arg.startswith("-") and arg != "-" and not arg[1:2].isdigit() and arg[1:2] != ".":
            return False  # an option the fast path does not know
        else:
            texts.append(arg)
    fmt = options.pop("--format", None)
    batch = "--batch" in flags
    if fmt not in MACHINE_FORMATS or bool(texts) == batch or ("--keep-going" in flags and not batch):
        return False
    if "-" in texts and texts != ["-"]:
        return False
    backprop = args[0] == "backprop"
    if backprop and set(options) not in ({"--loss-grad"}, {"--target", "--pred"}):
        return False
    if not backprop and options:
        return False
    try:
        answer(args[0], texts, options, flags, fmt)
    except InputError as error:
        refuse(str(error))  # the core's message, as the Typer app words it
    return True


def stored_help(args: Sequence[str]) -> str | None:
    """`skipcalc [COMMAND] --help` as Typer prints it, kept in help.json (helptexts.py), on
    a terminal of at least 80 columns (narrower ones wrap, and go to Typer)."""
    if list(args) in ([], ["--help"], ["-h"]):
        name = ""
    elif len(args) == 2 and args[1] in ("--help", "-h"):
        name = args[0]
    else:
        return None
    import shutil

    from .helptexts import WIDE, load

    if shutil.get_terminal_size().columns < WIDE:
        return None
    return load().get(name)


def answer(command: str, texts: list[str], options: dict[str, str], flags: set[str], fmt: str) -> None:
    """The fast path's work, in the Typer app's order (so the first error is the same)."""
    from .chain import backward, selected
    from .numbers import parse_number
    from .render import Options, render
    from .stdin import chain_batch, read_derivatives

    networks = selected("--plain" in flags, "--residual" in flags)
    loss = None
    if command == "chain":
        upstream = None
    elif "--loss-grad" in options:
        upstream = parse_number(options["--loss-grad"], "--loss-grad")
    else:
        from .losses import mse

        loss = mse(parse_number(options["--target"], "--target"), parse_number(options["--pred"], "--pred"))
        upstream = loss.gradient

    exact = "--exact" in flags
    if "--batch" in flags:
        chain_batch(networks, upstream, loss, fmt, exact, "--keep-going" in flags)
    else:
        render(backward(read_derivatives(texts), networks, upstream, loss), Options(format=fmt, exact=exact))


def refuse(message: str) -> NoReturn:
    """The one way skipcalc refuses input: one line on stderr, exit status 2."""
    sys.stderr.write(f"skipcalc: error: {message}\n")
    sys.exit(2)


def quiet_broken_pipe() -> NoReturn:
    """The reader went away (| head): exit quietly, as the shell expects (128 + SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(141)
