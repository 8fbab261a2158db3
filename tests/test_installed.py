"""The installed console script, as a shell calls it: the README, stdio faults, signals, completion."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from conftest import BIN, ROOT, run_script


def test_console_script_main_job():
    result = run_script("skipcalc chain 0.1 0.1 0.1 --residual --format value")
    assert (result.returncode, result.stdout, result.stderr) == (0, "1.331\n", "")


def test_python_dash_m():
    assert run_script(f"{sys.executable} -m skipcalc chain 0.1 0.1 0.1 --format value").stdout == "0.001\t1.331\n"


def test_an_error_is_one_line():
    result = run_script("skipcalc chain 0.1 nope")
    assert (result.returncode, result.stdout) == (2, "") and result.stderr.count("\n") == 1


def test_no_escape_codes_when_piped():
    result = run_script("skipcalc chain 0.1 0.1 0.1 | cat")
    assert "\x1b[" not in result.stdout and "1.331" in result.stdout


# --- the README ---------------------------------------------------------------------


def readme_examples():
    """(command, expected output) for every `$ ` line in the README's console blocks."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command:
            examples.append((command, "\n".join(output)))
    return examples


@pytest.mark.parametrize("command, expected", readme_examples())
def test_readme_example(command, expected):
    result = run_script(command)
    assert result.returncode == 0, result.stderr
    got = "\n".join(line.rstrip() for line in result.stdout.rstrip("\n").splitlines())
    assert got == "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())


def test_readme_fresh_machine_commands_are_what_ci_runs():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- ci:begin -->")[1].split("<!-- ci:end -->")[0]
    commands = [line for line in block.splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2 and commands[0].endswith("skipcalc chain 0.1 0.1 0.1 --residual")
    assert "'.[test]'" in commands[1] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and "mypy --strict skipcalc" in ci and "ruff check" in ci


def test_readme_tour_works_straight_after_the_set_up_lines(tmp_path):
    """The README says to activate the venv (or call .venv/bin/skipcalc): both work."""
    result = subprocess.run(
        ["bash", "-c", f". {BIN}/activate && skipcalc chain 0.1 --format value"], capture_output=True, text=True
    )
    assert result.stdout == "0.1\t1.1\n"
    assert "activate" in (ROOT / "README.md").read_text().split("## A tour")[0]


# --- stdio faults: every way a call can end has its status ------------------------------


def test_closed_or_full_stdout_is_74():
    assert run_script("skipcalc chain 0.1 --format value >&-").returncode == 74
    for fmt in ("value", "table", "json"):
        result = run_script(f"skipcalc chain 0.1 --format {fmt} >/dev/full")
        assert result.returncode == 74 and result.stderr.count("\n") == 1 and "No space left" in result.stderr


def test_closed_stdin_is_refused_by_name():
    result = run_script("skipcalc chain - --format value <&-")
    assert result.returncode == 2 and "stdin: it is closed" in result.stderr


def test_closed_stderr_keeps_the_status():
    assert run_script("skipcalc chain 0.1 --format value 2>&-").returncode == 0
    assert run_script("skipcalc chain x 2>&-").returncode == 2


@pytest.mark.parametrize("fmt", ["table --all-rows", "json", "csv", "value --batch"])
def test_a_reader_that_goes_away_is_141_quietly(fmt):
    feed = "yes '0.1 0.1' | head -100000 | " if "batch" in fmt else ""
    layers = "" if "batch" in fmt else "0.1 --layers 5000"
    result = run_script(
        f'{feed}skipcalc chain {layers} --format {fmt} | head -c 100 >/dev/null; echo "${{PIPESTATUS[-2]}}"'
    )
    assert result.stdout.strip() == "141" and result.stderr == "", result


def test_ascii_streams_get_ascii():
    result = run_script("skipcalc chain 1/3 --layers 50 --plain", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and result.stdout.isascii() and "~" in result.stdout and "+---" in result.stdout
    assert "\\u" not in result.stdout and "| :" in result.stdout  # the elided rows' mark too, not an escape


def test_columns_zero_is_treated_as_unset():
    result = run_script("skipcalc chain 0.1 0.1", env={"COLUMNS": "0"})
    assert result.returncode == 0 and "1.21" in result.stdout


def _pty_process(
    args: list[str], *, stdin_pty: bool = False, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """skipcalc with stderr (and stdin) a terminal, as a person runs it; the terminal's end."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "skipcalc"), *args],
        stdin=follower if stdin_pty else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=dict(os.environ, COLUMNS="80", NO_COLOR="1", **(env or {})),
    )
    os.close(follower)
    return process, leader


def _wait_for(leader: int, text: bytes) -> bytes:
    """Read the terminal until ``text`` appears: the readiness signal (no sleeps)."""
    seen = b""
    while text not in seen:
        chunk = os.read(leader, 4096)
        assert chunk, seen
        seen += chunk
    return seen


def _interrupt(process: subprocess.Popen[bytes], leader: int) -> bytes:
    """Send Ctrl-C's signal and wait for the end, reading the terminal meanwhile (an unread
    terminal fills, and a process writing to it would block): all it wrote after the signal."""
    import threading

    seen: list[bytes] = []
    reader = threading.Thread(target=lambda: seen.append(_drain(leader)), daemon=True)
    reader.start()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=60)
    os.close(leader)
    return b"".join(seen)


def _drain(leader: int) -> bytes:
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end is closed: all read
            return seen
        if not chunk:
            return seen
        seen += chunk


def test_ctrl_c_while_waiting_on_stdin_is_130_without_a_traceback():
    """skipcalc says it is reading stdin; Ctrl-C then ends it quietly with 130."""
    process, leader = _pty_process(["chain", "-", "--format", "value"], stdin_pty=True)
    _wait_for(leader, b"end with Ctrl-D")
    after = _interrupt(process, leader)
    assert process.returncode == 130 and b"Traceback" not in after


def test_ctrl_c_during_work_is_130_without_a_traceback():
    """The progress display names the work under way; Ctrl-C then ends it quietly with 130.

    The display is told to appear at once (SKIPCALC_PROGRESS_DELAY=0), so seeing it is the signal
    that work is under way, and the work is long for certain: 3,000 tanh layers at 40 digits take
    about nine seconds of quadrature on an idle core, against the microseconds between reading
    the display and sending the signal."""
    work = ["meanfield", "--act", "tanh", "--weight-var", "1.5", "--layers", "3000", "--digits", "40"]
    process, leader = _pty_process(work, env={"SKIPCALC_PROGRESS_DELAY": "0"})
    _wait_for(leader, b"skipcalc: ")
    after = _interrupt(process, leader)
    assert process.returncode == 130 and b"Traceback" not in after


def test_ctrl_c_is_guarded_from_the_console_scripts_first_import():
    """The handler is installed as the console module is imported, before anything of skipcalc
    runs: a SIGINT right then ends the call with 130, no traceback."""
    code = "import os, signal\nimport skipcalc.cli.console\nos.kill(os.getpid(), signal.SIGINT)\nsignal.pause()\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (130, "")


def test_internal_errors_are_one_line(monkeypatch, capsys):
    """A bug (simulated) ends in one line, exit 70, no traceback."""
    from skipcalc.cli import commands, console

    monkeypatch.setattr(sys, "argv", ["skipcalc", "chain", "0.1", "--format", "value"])
    monkeypatch.setattr(console, "_progress_on", lambda args: None)
    monkeypatch.setattr(commands, "execute", lambda parsed: 1 / 0)
    monkeypatch.setattr("skipcalc.cli.process.guard_interrupts", lambda: None)
    with pytest.raises(SystemExit) as stop:
        console.main()
    err = capsys.readouterr().err
    assert (
        stop.value.code == 70 and err.startswith("skipcalc: internal error: ZeroDivisionError") and err.count("\n") == 1
    )


# --- --save ---------------------------------------------------------------------------


def test_save_writes_each_format_and_refuses_to_clobber(tmp_path):
    for name in ("c.png", "c.svg", "c.pdf"):
        result = run_script(f"cd {tmp_path} && skipcalc chain 0.1 0.1 --save {name} --format value")
        assert result.returncode == 0 and (tmp_path / name).stat().st_size > 1000
    again = run_script(f"cd {tmp_path} && skipcalc chain 0.1 0.1 --save c.png --format value")
    assert again.returncode == 2 and "c.png already exists; add --force" in again.stderr and again.stdout == ""
    assert run_script(f"cd {tmp_path} && skipcalc chain 0.1 0.1 --save c.png --force --format value").returncode == 0
    os.symlink(tmp_path / "c.svg", tmp_path / "link.svg")
    linked = run_script(f"cd {tmp_path} && skipcalc chain 0.1 --save link.svg --force --format value")
    assert linked.returncode == 2 and "symbolic link" in linked.stderr
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".skipcalc-")]  # no temporary left behind
    missing = run_script("skipcalc chain 0.1 --save /nonexistent/dir/x.svg")
    assert missing.returncode == 2 and "/nonexistent/dir/x.svg" in missing.stderr


@pytest.mark.parametrize(
    "command",
    [
        "chain 0.1 0.1",
        "backprop 0.1 --layers 8 --loss-grad 1",
        "chain --jacobian '[[0.1,0],[0,0.2]]' --layers 3",
        "chain --fn 'tanh(x)' --layers 3 --at 1",
        "chain 0.37 --layers 12 --block scaled:0.5 --block rezero:0.1",
    ],
)
def test_a_saved_chart_draws_the_gradients_in_every_format(tmp_path, command):
    """The value format computes only the totals; a chart saved beside it still gets every layer."""
    for fmt in ("value", "table"):
        chart = tmp_path / f"{fmt}.svg"
        result = run_script(f"skipcalc {command} --save {chart} --format {fmt}")
        assert result.returncode == 0 and result.stderr == f"skipcalc: wrote {chart} (1600×900 SVG)\n", result.stderr
        assert 'id="legend_1"' in chart.read_text()  # drawn only around plotted lines


def test_a_chart_with_nothing_to_draw_is_refused(tmp_path):
    result = run_script(f"skipcalc backprop 0.1 0.2 --loss-grad 0 --save {tmp_path}/z.png --format value")
    assert (result.returncode, result.stdout) == (2, "") and "nothing to draw" in result.stderr
    assert not os.listdir(tmp_path)


def test_save_on_a_full_disk_names_the_file():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    result = run_script("skipcalc chain 0.1 --save /dev/full/x.png")
    assert result.returncode == 2 and "/dev/full/x.png" in result.stderr


# --- completion, through Typer's own mechanism ----------------------------------------


def test_completion_offers_commands_and_options():
    def complete(words: str, index: int) -> str:
        env = {"_SKIPCALC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        return run_script("skipcalc", env=env).stdout

    assert complete("skipcalc ch", 1).split() == ["chain"]
    assert complete("skipcalc chain 0.1 --resi", 3).split() == ["--residual"]
    assert complete("skipcalc chain -0.5 --pl", 3).split() == ["--plain", "--plot"]
    # option values: formats, float formats, loss kinds, blocks, gain nonlinearities, activations
    assert complete("skipcalc chain 0.1 --format ", 4).split() == ["table", "json", "csv", "value"]
    assert "float16" in complete("skipcalc chain 0.1 --dtype f", 4).split()
    assert complete("skipcalc loss --kind h", 3).split() == ["huber"]
    assert "residual" in complete("skipcalc chain 0.1 --block r", 4).split()
    assert "leaky_relu" in complete("skipcalc init gain l", 3).split()
    assert complete("skipcalc meanfield --act ta", 3).split() == ["tanh"]
    fish = run_script(
        "skipcalc",
        env={
            "_SKIPCALC_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": "skipcalc ini",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        },
    )
    assert fish.stdout.startswith("init")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_install_and_show_completion(shell, tmp_path):
    """Typer detects the shell it runs under; its own test switch names one instead."""
    named = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = run_script(f"skipcalc --show-completion {shell}", env=named)
    assert shown.returncode == 0 and "_SKIPCALC_COMPLETE" in shown.stdout and f"complete_{shell}" in shown.stdout
    installed = run_script(f"HOME={tmp_path} skipcalc --install-completion {shell}", env=named)
    assert installed.returncode == 0 and f"{shell} completion installed" in installed.stdout


# --- the machine formats start quickly ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["chain", "0.1", "0.1", "--format", "json"],
        ["chain", "0.1", "--format", "value"],
        ["chain", "0.1", "--format", "csv"],
        ["backprop", "0.1", "--target", "1", "--pred", "0", "--format", "json"],
        ["chain", "--batch", "--format", "value"],
    ],
)
def test_scripted_calls_import_neither_typer_nor_sympy_nor_rich(args):
    code = (
        "import sys\nsys.argv = ['skipcalc', *" + repr(args) + "]\nfrom skipcalc.cli.console import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', *[m in sys.modules for m in ('typer', 'sympy', 'rich', 'numpy', 'matplotlib')],"
        " file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, input="0.1\n")
    assert "LOADED False False False False False" in result.stderr, result.stderr


def test_value_json_reads_back():
    data = json.loads(run_script("skipcalc chain 1/3 --layers 100 --plain --format json").stdout)
    assert data["exact"] is False


# --- the progress display ---------------------------------------------------------------


def test_progress_on_a_terminal_leaves_stdout_to_the_output():
    """With stderr a terminal and stdout a file, the display (started at once here) writes only to
    stderr and the table only to stdout: Rich's display would otherwise redirect stdout to itself."""
    import pty

    leader, follower = pty.openpty()
    code = (
        "import sys; from skipcalc.output import progress; progress.DELAY = 0; "
        "from skipcalc.cli.console import main; main()"
    )
    environment = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    with subprocess.Popen(
        [sys.executable, "-c", code, "chain", "0.1", "--layers", "50"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=environment,
    ) as process:
        os.close(follower)
        out, _ = process.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.returncode == 0 and b"skipcalc: " in seen  # the display ran
    assert b"chain: 50 layers" in out and b"chain: 50 layers" not in seen and b"residual" not in seen


# --- the README's Python examples --------------------------------------------------------


def test_readme_python_examples():
    """Every ```pycon block of the README runs as a doctest."""
    import doctest

    blocks = re.findall(r"```pycon\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    session: dict[str, object] = {}  # one Python session, as a reader types the blocks in order
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, session, f"README block {i + 1}", "README.md", 0)
        runner.run(test, clear_globs=False)
        session = test.globs
    assert runner.failures == 0 and runner.tries > 10
