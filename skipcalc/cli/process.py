"""How a command-line call ends: exit statuses, refusals, Ctrl-C, the standard streams, and the
one handler for everything else.

The console script calls :func:`guard_interrupts` before it imports anything else and runs the
command inside :func:`guarded`, which turns each way a call can end into its documented status:

    0    success
    2    bad input: one line on stderr naming the argument (``InputError`` / ``refuse``)
    70   a bug: one line on stderr (SKIPCALC_DEBUG=1 shows the traceback)
    74   the output could not be written (a full disk, a closed stdout): one line on stderr
    130  interrupted (Ctrl-C), at any moment, without a traceback
    141  the reader of stdout went away (``| head -1``): nothing is printed

It imports only the standard library, skipcalc's errors and the terminal's cleanups, so that it
is ready before anything slow is imported.
"""

from __future__ import annotations

import codecs
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from ..core.errors import InputError, OutputError
from ..output.terminal import run_cleanups, say

OK = 0
USAGE = 2
SOFTWARE = 70  # EX_SOFTWARE
IO = 74  # EX_IOERR
INTERRUPTED = 130  # 128 + SIGINT, as shells report it
PIPE = 141  # 128 + SIGPIPE


def refuse(message: str) -> NoReturn:
    """The one way skipcalc refuses input: one line on stderr, exit status 2, the arguments it
    names written as flags. What was already written to stdout (--batch results before a bad
    line) is flushed first."""
    try:
        finish_stdout()
    except OSError:
        _silence_stdout()
    say(f"skipcalc: error: {flags(message)}")
    raise SystemExit(USAGE)


def flags(message: str) -> str:
    """A message with the arguments it names (core.errors.arg) written as the command line's
    flags: ``--weight-var 1.5``, not ``weight_var=1.5``."""
    from .. import options, schema
    from ..core.errors import spelled

    commands = [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()]
    return spelled(message, schema.command_line_spelling(commands))


# ---------------------------------------------------------------------------
# Interrupts: installed before the imports, so Ctrl-C at any moment ends quietly with 130.


def _interrupted(signum: int, frame: object) -> None:
    run_cleanups()
    try:  # straight to the descriptor: a display thread may hold the stream's lock
        os.write(2, b"\n")
    except OSError:
        pass
    os._exit(INTERRUPTED)  # no unwinding: an import or a write half done cannot print a traceback


def guard_interrupts() -> None:
    signal.signal(signal.SIGINT, _interrupted)


# ---------------------------------------------------------------------------
# Standard streams


def prepare_streams() -> None:
    """Make skipcalc's output safe on any terminal or pipe: text that the stream's encoding
    cannot hold (``PYTHONIOENCODING=ascii``) is written in ASCII rather than failing, and a
    closed stdin reads as empty."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and not _is_utf(stream):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="skipcalc-ascii")
    if sys.stdin is None:
        sys.stdin = _ClosedStdin()


class _ClosedStdin:
    """Stands for a closed stdin (``<&-``): reading it is refused by name, not an internal error."""

    closed = True

    def isatty(self) -> bool:
        return False

    def read(self, size: int = -1) -> str:
        raise InputError("stdin: it is closed; pipe the input in (for example: printf '0.1 0.1' | skipcalc chain -)")

    readline = read

    def __iter__(self) -> Iterator[str]:
        return iter([self.read()])


def _is_utf(stream: object) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return encoding.startswith("utf")


ASCII = {
    "≈": "~",
    "×": "x",
    "±": "+-",
    "·": "*",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "﹣": "-",
    "－": "-",
    "…": "...",
    "→": "->",
    "←": "<-",
    "⋯": "...",
    "²": "^2",
    "³": "^3",
    "ⁿ": "^n",
    "≤": "<=",
    "≥": ">=",
    "σ": "sigma",
    "π": "pi",
    "Π": "prod",
    "‖": "||",
    "χ": "chi",
    "φ": "phi",
    "ξ": "xi",
    "₁": "1",
    "₂": "2",
    "′": "'",
    "″": "''",
    "ᵀ": "^T",
    "ĥ": "h^",
    "\u0302": "^",
    "δ": "delta",
    "∂": "d",
    "√": "sqrt",
    "┏": "+",
    "┓": "+",
    "┗": "+",
    "┛": "+",
    "┃": "|",
    "━": "-",
    "┳": "+",
    "┻": "+",
    "╇": "+",
    "╋": "+",
    "┡": "+",
    "┩": "+",
    "│": "|",
    "─": "-",
    "┤": "|",
    "├": "|",
    "└": "+",
    "┘": "+",
    "┌": "+",
    "┐": "+",
    "┼": "+",
    "┬": "+",
    "┴": "+",
    "█": "#",
    "░": ".",
    "⋮": ":",
    "λ": "lambda",
    "α": "alpha",
    "▌": "#",
    "▐": "#",
    "●": "o",
    "○": "o",
    "■": "#",
    "▲": "^",
    "◆": "*",
    "✕": "x",
    "★": "*",
}
"""What each non-ASCII character skipcalc prints becomes on a stream that cannot hold it."""


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(ASCII.get(ch, ch.encode("ascii", "backslashreplace").decode()) for ch in text), error.end


codecs.register_error("skipcalc-ascii", _ascii_fallback)


def finish_stdout() -> None:
    """Flush stdout, so a failing write is reported here rather than at interpreter exit."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    except OSError:
        pass


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command, turning each way it can end into the documented exit status."""
    try:
        if sys.stdout is None:  # `>&-`: nowhere to write the answer
            say("skipcalc: error: cannot write the output: standard output is closed")
            raise SystemExit(IO)
        yield
        finish_stdout()
    except InputError as error:
        refuse(error.message)
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(PIPE) from None
    except KeyboardInterrupt:
        say("")
        raise SystemExit(INTERRUPTED) from None
    except OutputError as error:
        say(f"skipcalc: error: {error}")
        raise SystemExit(IO) from None
    except OSError as error:
        if error.errno is None:
            raise
        _silence_stdout()
        say(f"skipcalc: error: cannot write the output: {error.strerror or error}")
        raise SystemExit(IO) from None
    except SystemExit:
        raise
    except BaseException as error:
        if os.environ.get("SKIPCALC_DEBUG"):
            raise
        text = " ".join(str(error).split())[:300]
        say(f"skipcalc: internal error: {type(error).__name__}: {text} (a bug; SKIPCALC_DEBUG=1 shows the traceback)")
        raise SystemExit(SOFTWARE) from None
