"""The shell-loop fast path (console.py) must print exactly what the Typer app prints."""

import contextlib
import io
import sys

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


def fast_output(args, input=""):
    """(answered, stdout, stderr, exit status) of the fast path, in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin(input):
        try:
            answered = fast(args)
        except SystemExit as stop:
            answered, code = True, stop.code
    return answered, out.getvalue(), err.getvalue(), code


@contextlib.contextmanager
def _stdin(text):
    real = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = real


def assert_same_as_typer(cli, args, input=""):
    answered, printed, errors, code = fast_output(args, input)
    if not answered:
        assert (printed, errors) == ("", "")  # left to Typer, untouched
        return False
    result = cli(*args, input=input)
    assert (code, printed, errors) == (result.exit_code, result.stdout, result.stderr)
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argument_lists())
def test_fast_path_prints_what_typer_prints(cli, args):
    assert_same_as_typer(cli, args)


def test_fast_path_answers_the_shell_loop_call():
    args = ["chain", "0.1", "0.1", "0.1", "--residual", "--format", "value"]
    assert fast_output(args) == (True, "1.331\n", "", 0)
    args = ["backprop", "0.1", "0.1", "0.1", "--target", "10", "--pred", "8", "--format", "value"]
    assert fast_output(args) == (True, "-0.004\t-5.324\n", "", 0)
    assert fast_output(["chain", "-", "--format", "value"], "0.1\n0.1 0.1\n") == (True, "0.001\t1.331\n", "", 0)
    assert fast_output(["chain", "--batch", "--format", "value"], "0.1 0.1\n\n1/3\n") == (
        True,
        "0.01\t1.21\n1/3\t4/3\n",
        "",
        0,
    )


def test_fast_path_leaves_everything_else_to_typer():
    for args in (
        ["chain", "0.1"],  # table
        ["chain", "0.1", "--format", "value", "--digits", "3"],
        ["chain", "--fn", "x", "--at", "1", "--format", "value"],
        ["chain", "0.1", "-", "--format", "value"],
        ["chain", "0.1", "--batch", "--format", "value"],
        ["chain", "0.1", "--keep-going", "--format", "value"],
        ["chain", "--batch", "--format", "table"],
        ["backprop", "0.1", "--target", "1", "--pred", "0", "--kind", "mae", "--format", "value"],
        ["loss", "--target", "1", "--pred", "0", "--format", "value"],
    ):
        assert fast_output(args) == (False, "", "", 0)


def test_fast_path_matches_typer_on_long_exact_and_refused_values(cli):
    long = ["1/99999999999999999989"] * 3
    for args in (
        ["chain", *long, "--format", "value"],
        ["chain", *long, "--format", "value", "--exact"],
        ["chain", *long, "--exact", "--format", "json", "--plain"],
        ["backprop", *long, "--loss-grad", "-1/3", "--format", "csv", "--exact"],
        ["backprop", "-0.5", "1e-3", "--target", "10", "--pred", "8", "--format", "json", "--residual"],
        ["chain", "x", "--format", "value"],
        ["backprop", "x", "--loss-grad", "y", "--format", "value"],  # the first error is the same one
        ["backprop", "x", "--target", "1", "--pred", "y", "--format", "json"],
        ["chain", "1e-100000", "1e-100000", "1e-100000", "1e-100000", "1e-100000", "--format", "value"],
    ):
        assert assert_same_as_typer(cli, args), args


def test_fast_path_matches_typer_on_stdin(cli):
    for data in ("0.1 0.1\n0.1", "", "0.1 x", "1e-3 " * 3000, "--x"):
        for args in (["chain", "-", "--format", "json"], ["backprop", "-", "--loss-grad", "2", "--format", "value"]):
            assert assert_same_as_typer(cli, args, data), (args, data)


LINES = st.one_of(
    st.lists(numbers, min_size=1, max_size=6).map(" ".join),
    st.sampled_from(["", "   ", "-", "--x", "0.1 " * 1200, "1e-300 1e300 7/3", "1/" + "7" * 30]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(LINES, max_size=8),
    st.sampled_from(["json", "csv", "value", "value"]),
    st.lists(st.sampled_from(["--residual", "--plain", "--exact", "--keep-going"]), max_size=2, unique=True),
    st.sampled_from([[], ["--loss-grad", "-4"], ["--target", "10", "--pred", "8"], ["--loss-grad", "1/" + "3" * 30]]),
)
def test_fast_batch_prints_what_typer_prints(cli, lines, fmt, flags, loss):
    command = "backprop" if loss else "chain"
    args = [command, "--batch", "--format", fmt, *flags, *loss]
    assert assert_same_as_typer(cli, args, "\n".join(lines) + "\n")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([*VALID, "1e-300", "123456789012345678901234567890", "-1/3", "2/7"]), max_size=7),
    st.sampled_from([("plain", "residual"), ("plain",), ("residual",)]),
    st.sampled_from(["1", "-4", "1/3", "0"]),
    st.booleans(),
)
def test_quick_chain_agrees_with_the_general_path(texts, networks, upstream, exact):
    """QuickChain's integer products against the core's Fractions and the report's writer."""
    from skipcalc.chain import backprop
    from skipcalc.numbers import parse_number
    from skipcalc.render import Options, render
    from skipcalc.stdin import QuickChain

    up = parse_number(upstream, "G")
    line = QuickChain(networks, up, exact)(" ".join(texts))
    if not texts:
        assert line is None
        return
    local = [parse_number(t, "D") for t in texts]
    out = io.StringIO()
    render(backprop(local, up, networks), Options(format="value", exact=exact), out)
    assert line is None or line == out.getvalue()
    assert line is not None or any(abs(x.numerator).bit_length() > 64 or x.denominator.bit_length() > 64 for x in local)


def test_stored_help_is_the_apps_own():
    """help.json is regenerated by `python -m skipcalc.helptexts`; this fails until it is."""
    from skipcalc.helptexts import generate, load

    assert load() == generate()


def test_help_is_printed_without_typer_on_wide_terminals(monkeypatch):
    from skipcalc.helptexts import load

    monkeypatch.setenv("COLUMNS", "120")
    texts = load()
    assert fast_output(["--help"]) == (True, texts[""], "", 0)
    assert fast_output([]) == (True, texts[""], "", 0)
    assert fast_output(["chain", "-h"]) == (True, texts["chain"], "", 0)
    assert fast_output(["nope", "--help"])[0] is False  # Typer's error, not ours
    assert fast_output(["chain", "0.1", "--help"])[0] is False
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal: Typer wraps to it
    assert fast_output(["--help"])[0] is False


def test_help_from_the_installed_script_matches_typer():
    """The script prints the stored text; Typer's own path (run(), which builds only the
    command asked for) prints the same at 80 columns."""
    from conftest import run_script

    from skipcalc.helptexts import load

    texts = load()
    for name in ("", "chain", "update"):
        stored = run_script(f"COLUMNS=100 skipcalc {name} --help")
        typer = run_script(
            f'COLUMNS=80 python -c \'import sys; sys.argv[1:] = "{name} --help".split(); '
            "from skipcalc.cli import run; run()'"
        )
        assert stored.returncode == typer.returncode == 0, typer.stderr
        assert stored.stdout == typer.stdout == texts[name]
