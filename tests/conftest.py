"""Shared helpers: run the CLI in-process (CliRunner) or as the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skipcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def cli():
    """cli("chain", "0.1") -> Result with .exit_code, .stdout, .stderr."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, env={"COLUMNS": "80", "NO_COLOR": "1"})

    return invoke


def run_script(command: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a shell command line with the installed console script first on PATH."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", COLUMNS="80", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        ["bash", "-c", command], input=input, capture_output=True, text=True, env=env, timeout=timeout
    )
