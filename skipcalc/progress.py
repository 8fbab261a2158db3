"""A spinner on stderr for table-mode work that takes longer than about a second.

Never in machine formats, never when stderr is not a terminal, and gone before the
table is printed. Rich is imported only if the spinner actually starts.
"""

from __future__ import annotations

import sys
import threading
from typing import IO, Any

DELAY = 1.0  # seconds of quiet work before the spinner appears


class DelayedStatus:
    def __init__(self, message: str, delay: float = DELAY, file: IO[str] | None = None) -> None:
        self.message = message
        self.file = file
        self._lock = threading.Lock()
        self._status: Any = None
        self._stopped = False
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True

    def start(self) -> DelayedStatus:
        self._timer.start()
        return self

    def _start(self) -> None:
        with self._lock:
            if self._stopped:
                return
            from rich.console import Console

            # Only started for a terminal (for_table checks) or a file a caller chose.
            console = Console(file=self.file or sys.stderr, force_terminal=True)
            self._status = console.status(self.message)
            self._status.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._timer.cancel()
            if self._status is not None:
                self._status.stop()
                self._status = None


def for_table(args: list[str]) -> DelayedStatus | None:
    """A started spinner when this call renders a table to a terminal user, else None."""
    if not sys.stderr.isatty() or "--batch" in args:
        return None
    formats = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--format"]
    formats += [a.split("=", 1)[1] for a in args if a.startswith("--format=")]
    if formats and formats[-1] != "table":
        return None
    if "--latex" in args:
        return None
    return DelayedStatus("computing exactly...").start()
