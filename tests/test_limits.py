"""Every promise holds: the heavy and hostile cases a red-team pass found, each answered or
refused by name within seconds, and a fuzz over every command's options and hostile atoms."""

import os
import signal
import time

import pytest
from conftest import run_script, skipcalc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skipcalc import options

HEAVY = [
    # (command, exit status, text the output or the error must hold)
    ("skipcalc chain --fn 'x**100' --fn 'x**100' --fn 'x**100' --at 1.0001 --plain --format value", 0, "e"),
    ("skipcalc chain --fn '" + "tanh(" * 10 + "x" + ")" * 10 + "' --at 0.5 --format value", 0, "0."),
    ("skipcalc chain --fn '" + "tanh(" * 12 + "x" + ")" * 12 + "' --at 0.5 --format value", 0, "0."),
    ("skipcalc depth --local 1e-35 --depths 1 --format value", 0, "1e-35"),
    ("skipcalc depth --local 1e-70 --depths 1 --format json", 0, "residual_above_float64_at"),
    ("skipcalc depth --local 1e-100 --format value", 0, "1e-5000"),
    ("skipcalc depth --local 1e-27 --depths 1 --format json", 0, "709782712893383996732223390266"),
    ("skipcalc depth --local 9e-34 --depths 1 --format json", 0, "788647458770426663035803766567397184"),
    ("skipcalc paths --uniform 1e-1000 --layers 100 --format value", 0, "\t0\t0"),
    ("skipcalc paths --uniform 1e-1000 --layers 100 --plot", 0, "lengths 1-100 left out"),
    ("skipcalc paths --uniform 1e-1000 --layers 5000 --format json", 0, '"1e-5000000"'),
    ("skipcalc chain --random-jacobians --dim 128 --layers 200 --format value", 0, "\t"),
    ("skipcalc chain --random-jacobians --seed -1", 2, "--seed"),
    ("skipcalc chain $(printf -- '--jacobian [[0.5]] %.0s' $(seq 20000)) --format value", 2, "chain D1 ... Dn"),
    ("skipcalc chain --fn 'x-sin(x)' --at 1e-50 --plain --format value", 0, "5e-101"),
    ("skipcalc loss --kind bce --target 0 --pred 1e-70 --format value", 0, "1e-70"),
    ("skipcalc chain --fn 'tanh(x)' --at 100 --plain --format value", 0, "5.535586106946950122594"),
    ("skipcalc chain --fn 'gelu(x)' --at 700 --plain --format value", 0, "1"),
    ("skipcalc chain --fn 'erf(x)' --at 481 --plain --format value", 0, "e-100479"),
    ("skipcalc chain --fn 'gelu(x)' --layers 10 --at 1.5 --format value", 0, "\t"),
    ("skipcalc chain --fn 'exp(exp(exp(x)))' --at 10", 2, "--fn 1"),
    ("skipcalc chain --fn 'x**x' --fn 'x**x' --at 1000000", 2, "2^(2^62)"),
    ("head -c 67108000 /dev/zero | tr '\\0' 'a' | sed 's/a/é/g' | skipcalc chain - --format value", 2, "64 MiB"),
    ("skipcalc chain 1e-100000 --layers 40 --plain --format value", 0, "1e-4000000"),
]


@pytest.mark.parametrize("command, status, fragment", HEAVY, ids=[c[:70] for c, _, _ in HEAVY])
def test_heavy_cases_end_within_seconds(command, status, fragment):
    """Each answers or is refused by name; the timeout only stops a hang (timings: benchmarks/)."""
    result = run_script(command, timeout=60)
    assert result.returncode == status, (result.returncode, result.stderr[-300:])
    assert fragment in (result.stdout if status == 0 else result.stderr), (result.stdout[-300:], result.stderr[-300:])
    if status == 2:
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_million_mixed_layers_are_correctly_rounded_not_refused(tmp_path):
    """0.1 and 1.05 alternating: the exact products would have 3.6 million digits."""
    data = tmp_path / "layers"
    data.write_text("0.1\n1.05\n" * 500_000)
    result = run_script(f"skipcalc chain - --format json < {data}", timeout=120)
    assert result.returncode == 0 and '"exact": false' in result.stdout[-40:]
    assert result.stdout.count("e-489406") >= 1  # the plain gradient, 4.46e-489406


def test_a_batch_of_100000_distinct_numbers(tmp_path):
    """More distinct numbers than the value lines' cache holds: it is cleared, not corrupted."""
    data = tmp_path / "lines"
    data.write_text("".join(f"{i}e-9 1\n" for i in range(100_005)))
    result = run_script(f"skipcalc chain --batch --format value < {data}", timeout=120)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 100_005 and lines[-1] == "0.000100004\t2.000200008"


# --- fuzz: random argument lists from every command's options and hostile atoms ----------------

ATOMS = [
    "0.1",
    "-0.5",
    "1/3",
    "0",
    "2",
    "1e-3",
    "+4",
    "1e-100000",
    "1e100000",
    "1e999999999",
    "9" * 1001,
    "1/0",
    "nan",
    "inf",
    "0x10",
    "١",
    "½",
    "",
    " ",
    "\x00",
    "1_0",
    "--1",
    "-",
    "--",
    "é",
    "💥",
    "1e",
    ".",
    "-0",
    "json",
    "csv",
    "value",
    "table",
    "xml",
    "0",
    "41",
    "3",
    "mse",
    "bce",
    "huber",
    "sin(x)",
    "x**100",
    "exp(exp(exp(x)))",
    "__import__('os').system('x')",
    "x.__class__",
    "lambda: 1",
    "9**9**9",
    "(" * 200,
    "1,2,5",
    "1000000000000",
    "[[0.5]]",
    "[[1,2],[3]]",
    "[1,-2]",
    "float16",
    "scaled:0.5",
    "rezero:0",
    "stochastic:linear:2",
    "/nonexistent/x.svg",
    "relu",
    "tanh",
    "SAVE.png",
    "grad_norm",
    str(__import__("pathlib").Path(__file__).parent / "expected" / "grads.csv"),
]


@st.composite
def calls(draw):
    commands = [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()]
    command = draw(st.sampled_from(commands))
    words = [command.group, command.name] if command.group else [command.name]
    names = [n for opt in command.options for n in (opt.name, opt.off) if n] + ["--help", "--nope", "-x"]
    tokens = draw(st.lists(st.one_of(st.sampled_from(ATOMS), st.sampled_from(names)), max_size=8))
    return [*words, *tokens]


class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(calls(), st.sampled_from(["", "0.1 0.2\n", "x\n", "target=1 pred=0\n", "1e-100000 " * 40, "\n\n"]))
def test_any_arguments_end_with_a_documented_status_quickly(tmp_path, args, stdin):
    args = [a.replace("SAVE.png", str(tmp_path / f"c{time.monotonic_ns()}.png")) for a in args]
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 600)  # a hang detector, not a speed test: no call comes near
    try:
        result = skipcalc(*args, input=stdin)
    except Slow:
        pytest.fail(f"hung: {args}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert result.code in (0, 2), (args, result)
    assert "Traceback" not in result.out + result.err
    if result.code == 2:
        assert result.err.count("\n") == 1 and result.err.startswith("skipcalc: error: "), (args, result.err)
        if "--batch" not in args:
            assert result.out == "", args


def test_the_fuzz_reaches_every_command():
    assert len(options.COMMANDS) + len(options.INIT_COMMANDS) == 13
    assert os.path.exists(__file__)


def test_big_gcds_are_quick(tmp_path):
    """Denominators without small primes leave one gcd of million-digit numbers (24 s in Python)."""
    data = tmp_path / "layers"
    data.write_text("1009/1013 1013/1011 " * 150_000)
    result = run_script(f"skipcalc chain - --format value < {data}", timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("1.003683735198744772830840153397846294315e-129")


def test_an_endless_generator_is_counted_while_it_is_read():
    import itertools

    import skipcalc as api
    from skipcalc import InputError

    with pytest.raises(InputError, match="more than the 2,000,000 numbers"):
        api.chain(itertools.count())


def test_a_generator_that_raises_is_bad_input_named():
    import skipcalc as api
    from skipcalc import InputError

    def numbers():
        yield 0.1
        raise RuntimeError("boom")

    with pytest.raises(InputError, match="reading the numbers raised RuntimeError: boom"):
        api.chain(numbers())


def test_a_zero_dimensional_array_is_one_number():
    import numpy as np

    import skipcalc as api

    assert api.chain(np.array(0.1)).network("residual").gradient == api.chain(0.1).network("residual").gradient


def test_a_key_twice_on_a_batch_line_is_refused():
    ran = skipcalc("loss", "--batch", "--format", "value", input="target=1 target=2 pred=0.5\n")
    assert ran.code == 2 and "target=: given twice on one line" in ran.err


def test_csv_headers_are_escaped_and_utf16_is_named(tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("layer,g\x01x\n1,0.5\n")
    ran = skipcalc("precision", "--csv", str(odd), "--column", "g")
    assert ran.code == 2 and "'g\\x01x'" in ran.err and "\x01" not in ran.err
    wide = tmp_path / "wide.csv"
    wide.write_text("layer,g\n1,0.5\n", encoding="utf-16")
    ran = skipcalc("precision", "--csv", str(wide), "--column", "g")
    assert ran.code == 2 and "not UTF-8 text (it looks like UTF-16)" in ran.err


def test_a_huge_range_count_is_said_in_a_short_line():
    ran = skipcalc("depth", "--local", "0:1:1e-100000", "--depths", "3")
    assert ran.code == 2 and "about 10^100000 values" in ran.err and len(ran.err) < 300
