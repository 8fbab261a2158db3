"""What skipcalc writes to the terminal beside its results: a line on stderr, and the cleanups
Ctrl-C must run on the way out (a progress display's hidden cursor). Standard library only."""

from __future__ import annotations

import sys
from collections.abc import Callable

_cleanups: list[Callable[[], None]] = []


def say(line: str) -> None:
    """One line on stderr, if there is a stderr (``2>&-`` closes it)."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass  # stderr itself is broken: the exit status still tells


def on_interrupt(cleanup: Callable[[], None]) -> Callable[[], None]:
    """Run ``cleanup`` (e.g. restore the cursor a progress bar hid) if Ctrl-C ends the call;
    returns a function that unregisters it."""
    _cleanups.append(cleanup)
    return lambda: _cleanups.remove(cleanup) if cleanup in _cleanups else None


def run_cleanups() -> None:
    """Every registered cleanup, each allowed to fail (on the way out nothing may stop the exit)."""
    for cleanup in list(_cleanups):
        try:
            cleanup()
        except Exception:  # noqa: BLE001, S110 - on the way out, nothing may stop the exit
            pass
