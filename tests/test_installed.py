"""The installed console script, in a subprocess, as a shell script would call it."""

import re
import sys

import pytest
from conftest import ROOT, run_script


def test_console_script_main_job():
    result = run_script("skipcalc chain 0.1 0.1 0.1 --residual --format value")
    assert (result.returncode, result.stdout, result.stderr) == (0, "1.331\n", "")


def test_python_dash_m():
    result = run_script(f"{sys.executable} -m skipcalc chain 0.1 0.1 0.1 --format value")
    assert result.stdout == "0.001\t1.331\n"


def test_error_from_console_script_is_one_line():
    result = run_script("skipcalc chain 0.1 nope")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_no_color_and_no_escape_codes_when_piped():
    result = run_script("skipcalc chain 0.1 0.1 0.1 | cat")
    assert "\x1b[" not in result.stdout and "1.331" in result.stdout


def test_broken_pipe_is_quiet():
    result = run_script(
        "skipcalc chain $(printf '0.1 %.0s' $(seq 3000)) --format csv | head -1; echo \"${PIPESTATUS[0]}\""
    )
    assert result.stderr == ""
    assert result.stdout.splitlines()[0].startswith("layer,")


# --- README ------------------------------------------------------------------


def readme_examples():
    """(command, expected output) for every `$ ` line in the README's console blocks."""
    text = (ROOT / "README.md").read_text()
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
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
    assert got == expected.rstrip("\n")


def test_readme_fresh_machine_commands_are_what_ci_runs():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- ci:begin -->")[1].split("<!-- ci:end -->")[0]
    commands = [line for line in block.splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2
    assert commands[0].endswith("skipcalc chain 0.1 0.1 0.1 --residual")
    assert "'.[test]'" in commands[1] and "pytest" in commands[1]
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_readme_has_examples():
    assert len(readme_examples()) >= 10
