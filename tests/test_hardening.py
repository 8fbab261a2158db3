"""Whatever a user types: exit 0 or 2, one line on stderr for 2, no traceback, bounded time."""

import contextlib
import io
import os
import signal
import subprocess
import sys
import time

from conftest import run_script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from skipcalc.cli import app
from skipcalc.console import fast

COMMANDS = ["chain", "backprop", "loss", "update", "depth", "paths", "nope", ""]
TOKENS = [
    # numbers, ordinary and extreme
    "0.1", "-0.5", "1/3", "0", "2", "1e-3", "+4", "-1e-5", "1e-100000", "1e100000", "1e999999999",
    "9" * 1001, "1" + "0" * 900, "1/0", "nan", "inf", "-inf", "0x10", "١", "½", "", " ", "\x00", "1_0",
    "--1", "-", "--", "ⅰ", "é", "💥", "1e", ".", "1/3/4", "-0",
    # options and their values
    "--format", "json", "csv", "value", "table", "xml", "--exact", "--digits", "0", "41", "3",
    "--residual", "--plain", "--target", "--pred", "--loss-grad", "--kind", "mse", "mae", "huber", "bce",
    "--delta", "--fn", "--at", "sin(x)", "x**100", "exp(exp(exp(x)))", "__import__('os').system('x')",
    "x.__class__", "lambda: 1", "[x for x in x]", "9**9**9", "(" * 200, "--symbolic", "--latex",
    "--local", "--max", "--depths", "1,2,5", "1000000000000", "1,0", "--vanish", "--no-plot",
    "--uniform", "--layers", "5000", "--mass", "2", "--batch", "--keep-going", "--weight", "--lr",
    "--grad", "--input", "--help", "--version", "--save", "/nonexistent/dir/x.svg",
]  # fmt: skip

runner = CliRunner()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(COMMANDS),
    st.lists(st.sampled_from(TOKENS), max_size=8),
    st.sampled_from(["", "0.1 0.2\n", "x\n", "target=1 pred=0\n", "1e-100000 " * 40, "\n\n", "0.1\nnan\n"]),
)
def test_any_arguments_exit_0_or_2_quickly(command, tokens, stdin):
    args = ([command] if command else []) + tokens
    start = time.monotonic()
    result = runner.invoke(app, args, input=stdin, env={"COLUMNS": "80", "NO_COLOR": "1"})
    elapsed = time.monotonic() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("skipcalc: error: "), args
        if "--batch" not in args:
            assert result.stdout == ""
    assert elapsed < 4, (args, elapsed)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8), st.sampled_from(["chain", "backprop"]))
def test_fast_path_never_raises(tokens, command):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), _stdin("0.1 2\n\nx 1\n"):
        try:
            assert fast([command, *tokens]) in (True, False)
        except SystemExit as stop:  # a refusal: exit 2 and one line, nothing else
            assert stop.code == 2 and err.getvalue().count("\n") == 1, err.getvalue()


@contextlib.contextmanager
def _stdin(text):
    real, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = real


def test_limits_are_named():
    for command, fragment in (
        ("chain $(printf '1e-100000 %.0s' $(seq 40)) --format value", "450,000"),
        ("paths 1e-100000 1e-100000 --format value", "150,000"),
        ("skipcalc depth --local 0.1 --max 1000000000000", "5000"),
        ("skipcalc paths --uniform 0.1 --layers 100000", "5000"),
        ("skipcalc chain 1e999999999", "-100000..100000"),
        ("skipcalc chain --fn 'x**1000' --at 1", "-100..100"),
    ):
        result = run_script(command if command.startswith("skipcalc") else "skipcalc " + command)
        assert result.returncode == 2 and fragment in result.stderr, (command, result.stderr)


def test_huge_stdin_is_refused_without_reading_it_all():
    result = run_script("head -c 80000000 /dev/zero | tr '\\0' '1' | skipcalc chain - --format value")
    assert result.returncode == 2 and "64 MiB" in result.stderr


def test_broken_pipe_is_quiet_on_every_path():
    for command in (
        "skipcalc depth --local 0.1 --max 5000 --format csv",  # Typer path
        "skipcalc chain $(printf '0.1 %.0s' $(seq 3000)) --format csv",  # fast path
    ):
        result = run_script(f'{command} | head -1; echo "status ${{PIPESTATUS[0]}}"')
        assert result.stderr == "", result.stderr
        assert result.stdout.splitlines()[-1] in ("status 141", "status 0")


def test_ctrl_c_ends_quietly_with_130():
    bin_dir = os.path.dirname(sys.executable)
    process = subprocess.Popen(
        [os.path.join(bin_dir, "skipcalc"), "chain", "-", "--format", "value"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)  # waiting on stdin
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130
    assert "Traceback" not in stderr


def test_internal_errors_are_one_line(monkeypatch, capsys):
    """A bug (simulated) still ends in one line, exit 70, no traceback."""
    import skipcalc.console as console

    monkeypatch.setattr(sys, "argv", ["skipcalc", "chain", "0.1", "--format", "value"])
    monkeypatch.setattr(console, "fast", lambda args: 1 / 0)
    try:
        console.main()
    except SystemExit as exit:
        assert exit.code == 70
    err = capsys.readouterr().err
    assert err.startswith("skipcalc: internal error: ZeroDivisionError") and len(err.splitlines()) == 1


def test_spinner_appears_only_after_a_second_and_goes():
    import io
    import time as clock

    from skipcalc.progress import DelayedStatus, for_table

    quick = io.StringIO()
    status = DelayedStatus("computing exactly...", delay=0.5, file=quick).start()
    status.stop()
    clock.sleep(0.7)
    assert quick.getvalue() == ""  # quick work: never shown

    slow = io.StringIO()
    status = DelayedStatus("computing exactly...", delay=0.1, file=slow).start()
    clock.sleep(0.5)
    status.stop()
    assert "computing exactly" in slow.getvalue()

    assert for_table(["chain", "0.1"]) is None  # stderr is not a terminal under pytest
