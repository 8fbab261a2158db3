"""The console script's entry point, and the fast path for shell loops.

Importing Typer costs about 80 ms, more than half of a call, and a shell loop pays it every
time. The commonest scripted call - `chain` or `backprop` with numeric derivatives and a
machine format - is answered here without Typer. The fast path accepts only a narrow
grammar and *no* errors: anything else (another command, an unknown or repeated option,
stdin, a number skipcalc refuses, the table view) goes to the Typer app, so every error
message and every other feature has one source. Tests check both paths print the same.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

FLAGS = ("--residual", "--plain", "--exact")
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
        elif arg.startswith("-") and not arg[1:2].isdigit() and arg[1:2] != ".":
            return False  # an option the fast path does not know (or stdin's "-")
        else:
            texts.append(arg)
    fmt = options.pop("--format", None)
    if fmt not in MACHINE_FORMATS or not texts:
        return False
    backprop = args[0] == "backprop"
    if backprop and set(options) not in ({"--loss-grad"}, {"--target", "--pred"}):
        return False
    if not backprop and options:
        return False

    from .chain import backprop as backprop_core
    from .chain import chain as chain_core
    from .chain import selected
    from .numbers import InputError, parse_number
    from .render import Options, render

    networks = selected("--plain" in flags, "--residual" in flags)
    try:
        local = [parse_number(t, f"D{i}") for i, t in enumerate(texts, start=1)]
        if not backprop:
            result = chain_core(local, networks)
        elif "--loss-grad" in options:
            result = backprop_core(local, parse_number(options["--loss-grad"], "--loss-grad"), networks)
        else:
            from .losses import mse

            loss = mse(parse_number(options["--target"], "--target"), parse_number(options["--pred"], "--pred"))
            result = backprop_core(local, loss.gradient, networks, loss)
    except InputError:
        return False  # the Typer path reports it, in the one wording
    render(result, Options(format=fmt, exact="--exact" in flags))
    return True


def quiet_broken_pipe() -> NoReturn:
    """The reader went away (| head): exit quietly, as the shell expects (128 + SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(141)
