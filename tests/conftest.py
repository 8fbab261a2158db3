"""Shared helpers: run skipcalc in-process as the console script does, or as the installed script."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# No test asserts on wall-clock time (timings live in benchmarks/): Hypothesis's per-example
# deadline is one, and on a busy CI machine a first run that compiles or caches trips it.
# Derandomized: every machine runs the same examples, so a run's verdict does not depend on its
# luck (a new random search is `--hypothesis-seed=N`, or HYPOTHESIS_PROFILE=explore).
settings.register_profile("skipcalc", deadline=None, derandomize=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "skipcalc"))

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> str:
        assert (self.code, self.err) == (0, ""), (self.code, self.err)
        return self.out


def _run(args: list[str]) -> None:
    """The console script's own call (skipcalc.cli.console.run), without its Ctrl-C handler
    (pytest keeps its own)."""
    from skipcalc.cli.console import run

    run(args)


def _invoke(entry: Callable[[list[str]], None], args: Sequence[str], input: str, columns: int) -> Ran:
    """Run ``entry(args)`` inside skipcalc's own exit handling, with captured stdio."""
    from skipcalc.cli import process

    saved = sys.stdin, sys.stdout, sys.stderr, os.environ.get("COLUMNS"), os.environ.get("NO_COLOR")
    sys.stdin = io.TextIOWrapper(io.BytesIO(input.encode()), encoding="utf-8")
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    os.environ["COLUMNS"], os.environ["NO_COLOR"] = str(columns), "1"
    code = 0
    try:
        with process.guarded():
            entry(list(args))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()  # type: ignore[attr-defined]
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        for name, value in (("COLUMNS", saved[3]), ("NO_COLOR", saved[4])):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Ran(code, out, err)


def skipcalc(*args: str, input: str = "", columns: int = 80) -> Ran:
    return _invoke(_run, args, input, columns)


@pytest.fixture
def run() -> Callable[..., Ran]:
    return skipcalc


def run_script(
    command: str, input: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A shell command line with the installed console script first on PATH."""
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", COLUMNS="80", NO_COLOR="1")
    environment.pop("FORCE_COLOR", None)
    environment.update(env or {})
    return subprocess.run(
        ["bash", "-c", command], input=input, capture_output=True, text=True, env=environment, timeout=timeout
    )
