"""A progress display on stderr for work that takes longer than a second.

Only on a terminal, and gone (it clears itself) before anything is written to stdout. Each
phase of a call (computing exactly, deriving with SymPy, writing the table) names itself;
one display, started after a second of quiet work, shows the current phase, a spinner and
the time taken. Rich is imported only if the display actually starts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .terminal import on_interrupt

DELAY = 1.0  # seconds of quiet work before the display appears


def _delay() -> float:
    """DELAY, or the seconds SKIPCALC_PROGRESS_DELAY gives (0 shows the display at once: a
    screen recording, or a test that must see the display before it acts)."""
    import os

    try:
        seconds = float(os.environ.get("SKIPCALC_PROGRESS_DELAY", DELAY))
    except ValueError:
        return DELAY
    return seconds if 0 <= seconds < 3600 else DELAY


class Display:
    def __init__(self, file: Any = None, delay: float | None = None) -> None:
        self.file = file
        self.phase = ""
        self.lock = threading.Lock()
        self.progress: Any = None
        self.task: Any = None
        self.stopped = False
        self.timer = threading.Timer(_delay() if delay is None else delay, self._start)
        self.timer.daemon = True
        self.forget = on_interrupt(self._restore_cursor)

    def begin(self) -> Display:
        self.timer.start()
        return self

    def _start(self) -> None:
        with self.lock:
            if self.stopped:
                return
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            console = Console(file=self.file or sys.stderr, force_terminal=self.file is None or None)
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("skipcalc: {task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                redirect_stdout=False,  # Rich would otherwise send stdout to the display's stream
                redirect_stderr=False,
            )
            self.task = self.progress.add_task(self.phase or "working", total=None)
            self.progress.start()

    def name(self, phase: str) -> None:
        with self.lock:
            self.phase = phase
            if self.progress is not None:
                self.progress.update(self.task, description=phase)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.timer.cancel()
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
            self.forget()

    def _restore_cursor(self) -> None:
        if self.progress is not None:  # straight to the descriptor: Rich's thread may hold the stream's lock
            import os

            try:
                os.write(2, b"\x1b[?25h")
            except OSError:
                pass


_display: Display | None = None
enabled = False
"""Set by the console script when stderr is a terminal (and not for --batch)."""


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Name the work inside as the current phase (starting the display's clock the first time)."""
    global _display
    if not enabled:
        yield
        return
    if _display is None:
        _display = Display().begin()
    _display.name(name)
    yield


def stop() -> None:
    """Clear the display for good: output is about to be written."""
    if _display is not None:
        _display.stop()
