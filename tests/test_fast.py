"""The shell-loop fast path (console.py) must print exactly what the Typer app prints."""

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skipcalc.console import fast

VALID = ["0.1", "-0.5", "1/3", "1/99999999999999999989", "7e-30", "0", "1e-3", "+4", "2.5e2", "-1/7"]
INVALID = ["x", "1/0", "nan", ""]
# Mostly valid numbers and machine formats, so that most cases reach the fast path.
numbers = st.one_of(st.sampled_from(VALID), st.sampled_from(VALID), st.sampled_from(VALID), st.sampled_from(INVALID))
flags = st.sampled_from(["--residual", "--plain", "--exact"])
formats = st.sampled_from(["json", "csv", "value", "json", "csv", "value", "table", "xml"])


@st.composite
def argument_lists(draw):
    command = draw(st.sampled_from(["chain", "backprop", "chain", "backprop", "loss"]))
    args = [command, *draw(st.lists(numbers, min_size=1, max_size=5))]
    args += draw(st.lists(flags, max_size=2))
    if draw(st.integers(0, 5)):
        args += ["--format", draw(formats)]
    if command == "backprop":
        choice = draw(st.sampled_from(["grad", "target", "none", "both"]))
        if choice in ("grad", "both"):
            args += ["--loss-grad", draw(numbers)]
        if choice in ("target", "both"):
            args += ["--target", draw(numbers), "--pred", draw(numbers)]
    if draw(st.booleans()):  # numbers after the options, too
        head = [a for a in args[1:] if a in ("--residual", "--plain", "--exact")]
        args = [args[0], *head, *(a for a in args[1:] if a not in head)]
    return args


def fast_output(args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        answered = fast(args)
    return answered, out.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argument_lists())
def test_fast_path_prints_what_typer_prints(cli, args):
    answered, printed = fast_output(args)
    if not answered:
        assert printed == ""  # left to Typer, untouched
        return
    result = cli(*args)
    assert result.exit_code == 0
    assert printed == result.stdout


def test_fast_path_answers_the_shell_loop_call():
    assert fast_output(["chain", "0.1", "0.1", "0.1", "--residual", "--format", "value"]) == (True, "1.331\n")
    assert fast_output(["backprop", "0.1", "0.1", "0.1", "--target", "10", "--pred", "8", "--format", "value"]) == (
        True,
        "-0.004\t-5.324\n",
    )


def test_fast_path_leaves_everything_else_to_typer():
    for args in (
        ["chain", "0.1"],  # table
        ["chain", "-", "--format", "value"],  # stdin
        ["chain", "0.1", "--format", "value", "--digits", "3"],
        ["chain", "x", "--format", "value"],  # an error: one wording, Typer's
        ["chain", "--fn", "x", "--at", "1", "--format", "value"],
        ["backprop", "0.1", "--target", "1", "--pred", "0", "--kind", "mae", "--format", "value"],
        ["loss", "--target", "1", "--pred", "0", "--format", "value"],
        ["--help"],
    ):
        assert fast_output(args) == (False, "")


def test_fast_path_matches_typer_on_long_and_exact_values(cli):
    long = ["1/99999999999999999989"] * 3
    for args in (
        ["chain", *long, "--format", "value"],
        ["chain", *long, "--format", "value", "--exact"],
        ["chain", *long, "--exact", "--format", "json", "--plain"],
        ["backprop", *long, "--loss-grad", "-1/3", "--format", "csv", "--exact"],
        ["backprop", "-0.5", "1e-3", "--target", "10", "--pred", "8", "--format", "json", "--residual"],
    ):
        answered, printed = fast_output(args)
        assert answered and printed == cli(*args).stdout
