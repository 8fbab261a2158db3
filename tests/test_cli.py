"""The command line: every option applies or is refused by name, on both ways in, alike."""

import io
import json
import os
from itertools import count
from pathlib import Path

import pytest
from conftest import skipcalc

from skipcalc import options
from skipcalc.cli.process import flags
from skipcalc.core.errors import InputError

TENTHS = ["0.1", "0.1", "0.1"]


def test_the_tour(run):
    assert run("chain", *TENTHS, "--plain", "--format", "value").ok == "0.001\n"
    assert run("chain", *TENTHS, "--residual", "--format", "value").ok == "1.331\n"
    assert run("chain", "0", "0", "0", "--format", "value").ok == "0\t1\n"
    assert run("backprop", *TENTHS, "--loss-grad", "-2", "--format", "value").ok == "-0.002\t-2.662\n"
    assert run("loss", "--target", "10", "--pred", "8", "--format", "value").ok == "4\t-4\n"
    assert run("backprop", *TENTHS, "--target", "10", "--pred", "8", "--format", "value").ok == "-0.004\t-5.324\n"
    assert (
        run("update", "--weight", "0.5", "--lr", "0.1", "--grad", "-5.324", "--input", "1", "--format", "value").ok
        == "1.0324\n"
    )


def test_json_keys_are_kept(run):
    data = json.loads(run("chain", "0.1", "0.1", "--format", "json").ok)
    assert data == {
        "command": "chain",
        "layers": 2,
        "local": ["0.1", "0.1"],
        "plain": {"gradient": "0.01", "float": 0.01, "log10": -2.0, "wrt": ["0.01", "0.1", "1"], "wrt_exact": True},
        "residual": {
            "gradient": "1.21",
            "float": 1.21,
            "log10": 0.08278537031645007,
            "wrt": ["1.21", "1.1", "1"],
            "wrt_exact": True,
        },
        "ratio": "121",
        "exact": True,
    }
    data = json.loads(run("backprop", *TENTHS, "--target", "10", "--pred", "8", "--format", "json").ok)
    assert (data["loss"], data["loss_gradient"], data["loss_kind"]) == ("4", "-4", "mse")
    assert data["plain"]["wrt"] == ["-0.004", "-0.04", "-0.4", "-4"]


def test_numbers_for_scripts_never_print_fractions(run):
    """awk and float() read every csv and value field; json keeps the exact p/q."""
    assert (
        run("chain", "1/3", "1/3", "--plain", "--format", "value").ok == "0.1111111111111111111111111111111111111111\n"
    )
    value = run("depth", "--local", "0.8", "--depths", "50", "--format", "value").ok.split("\t")[0]
    assert float(value) == pytest.approx(1.4272476927059598e-05)
    for line in run("depth", "--local", "0.8", "--max", "50", "--format", "csv").ok.splitlines()[1:]:
        [float(field) for field in line.split(",")]  # raises if any field is p/q
    assert json.loads(run("chain", "1/3", "--plain", "--format", "json").ok)["plain"]["gradient"] == "1/3"
    assert run("chain", "1/3", "1/3", "--plain", "--format", "value", "--exact").ok == "1/9\n"


def test_layers_repeats_the_derivatives(run):
    assert run("chain", "0.1", "--layers", "50", "--plain", "--format", "value").ok == "1e-50\n"
    assert run("chain", "0.1", "0.2", "--layers", "4", "--plain", "--format", "value").ok == "0.0004\n"
    result = run("chain", "0.1", "0.2", "--layers", "5")
    assert result.code == 2 and "--layers: 5 is not a multiple of the 2 layers given" in result.err


def test_negative_numbers_need_no_double_dash(run):
    assert run("chain", "-0.5", "0.1", "--plain", "--format", "value").ok == "-0.05\n"
    assert (
        run("chain", "--format", "value", "-1/3", "-1/3", "--plain").ok
        == "0.1111111111111111111111111111111111111111\n"
    )
    assert run("backprop", "0.1", "--loss-grad", "-2", "--format", "value").ok == "-0.2\t-2.2\n"


def test_stdin(run):
    assert run("chain", "-", "--format", "value", input="0.1 0.1\n0.1\n").ok == "0.001\t1.331\n"
    result = run("chain", "-", "--format", "value", input="0.1 0.1 zap")
    assert result.code == 2 and "stdin number 3" in result.err


# --- every option applies or is refused by name --------------------------------------------

SILENTLY_IGNORED_BEFORE = [
    (["chain", "0.1", "--keep-going", "--format", "json"], "--keep-going: applies only with --batch"),
    (["chain", "--jacobian", "[[0.1]]", "--batch", "--format", "json"], "--batch: cannot be combined with --jacobian"),
    (["chain", "--random-jacobians", "--latex"], "--latex: applies only"),
    (["backprop", "0.1", "--loss-grad", "1", "--kind", "huber", "--delta", "3"], "--kind: applies only with --target"),
    (["chain", "0.1", "--exact", "--digits", "3"], "--digits: cannot be combined with --exact"),
    (["chain", "0.1", "0.2", "--dim", "3"], "--dim: applies only with --random-jacobians"),
    (["chain", "0.1", "--seed", "3"], "--seed: applies only with --random-jacobians"),
    (["chain", "--jacobian", "[[0.1]]", "--at", "3"], "--at: applies only with --fn"),
    (["loss", "--target", "1", "--pred", "0.5", "--delta", "2"], "--delta: only the huber loss takes a delta"),
    (["chain", "0.1", "--symbolic"], "--symbolic: applies only with --format json"),
    (["chain", "0.1", "--format", "json", "--latex"], "--latex: applies only with --format table"),
    (["chain", "0.1", "--force"], "--force: applies only with --save"),
    (["loss", "--target", "1", "--pred", "0", "--batch", "--symbolic", "--format", "json"], "--symbolic: applies only"),
    (["chain", "0.1", "--fn", "x", "--at", "1"], "--fn: the layers come from --fn"),
    (["paths", "0.1", "--layers", "3"], "--layers: applies only with --uniform"),
    (["chain", "--batch"], "--batch: applies only with --format json"),
    (["depth", "--local", "0.1", "--max", "3", "--depths", "1"], "--depths: cannot be combined with --max"),
    (["chain", "0.1", "--format", "json", "--format", "csv"], "--format: given twice"),
    (["chain", "0.1", "--residual", "--block", "plain"], "--block: cannot be combined with --residual"),
]


@pytest.mark.parametrize("args, message", SILENTLY_IGNORED_BEFORE)
def test_an_option_that_does_not_apply_is_refused(args, message):
    result = skipcalc(*args)
    assert (result.code, result.out) == (2, ""), result
    assert result.err.startswith("skipcalc: error: ") and message in result.err and result.err.count("\n") == 1


TYPOS = [
    (["backprop", "0.1", "--loss-gard", "2"], "--loss-gard: no such option; did you mean --loss-grad?"),
    (["depth", "--loacl", "0.1", "--max", "5"], "--loacl: no such option; did you mean --local"),
    (["paths", "--unifrom", "0.1", "--layers", "3"], "--unifrom: no such option; did you mean --uniform?"),
    (["chain", "0.1", "--residul"], "--residul: no such option; did you mean --residual?"),
    (["chian", "0.1"], "chian: no such command; did you mean chain?"),
    (["init", "deepnrom"], "init deepnrom: no such command; did you mean init deepnorm?"),
    (["chain", "0.1", "--format", "jsn"], "did you mean json?"),
    (["chain", "0.1", "--block", "resdual"], "did you mean residual?"),
    (["chain", "0.1", "--dtype", "flaot16"], "did you mean float16"),
    (["loss", "--target", "1", "--pred", "0", "--kind", "mea"], "mae?"),
    (["ch", "0.1"], "ch: no such command; did you mean chain?"),
    (["chain", "0.1", "--resi", "--format", "value"], "--resi: no such option; did you mean --residual?"),
    (["depth", "--loc", "0.1"], "--loc: no such option; did you mean --local?"),
    (["depth", "0.1"], "depth takes no arguments, only options; did you mean --local 0.1?"),
    (["meanfield", "1.5", "--act", "tanh"], "did you mean --weight-var 1.5?"),
]


@pytest.mark.parametrize("args, message", TYPOS)
def test_typos_get_the_fix_before_any_other_check(args, message):
    result = skipcalc(*args)
    assert (result.code, result.out) == (2, "") and message in result.err and result.err.count("\n") == 1


BAD = [
    (["chain", "0.1", "abc"], "D2"),
    (["chain", "nan"], "D1"),
    (["chain", "1/0"], "D1"),
    (["chain"], "D:"),
    (["chain", "1e999999999"], "D1"),
    (["chain", "0.1", "--digits", "0"], "--digits"),
    (["chain", "0.1", "--digits", "many"], "--digits"),
    (["backprop", "0.1"], "--target/--pred"),
    (["backprop", "0.1", "--target", "1"], "--pred"),
    (["backprop", "0.1", "--loss-grad", "1", "--target", "1"], "--loss-grad"),
    (["backprop", "0.1", "--loss-grad", "x"], "--loss-grad"),
    (["loss", "--target", "1"], "--pred"),
    (["loss", "--target", "ten", "--pred", "1"], "--target"),
    (["loss", "--target", "1", "--pred", "0", "--kind", "bce"], "--pred"),
    (["update", "--weight", "1", "--lr", "0.1", "--grad", "1"], "--input"),
    (["backprop", "0.1", "--loss-grad"], "--loss-grad: needs a value"),
    (["backprop", "0.1", "--loss-grad", "--residual"], "--loss-grad: needs a value"),
    (["chain", "--residual=yes", "0.1"], "takes no value"),
    (["depth", "--local", "0.1", "--depths", "1,0"], "--depths"),
    (["paths", "--uniform", "0.1"], "--layers"),
    (["chain", "--fn", "x.__class__", "--at", "1"], "--fn 1"),
    (["chain", "--fn", "x"], "--at"),
    (["init", "gain", "relu", "--param", "0.2"], "--param: only leaky_relu"),
    (["init", "fixup", "--branches", "4", "--branch-depth", "1"], "--branch-depth"),
    (["loss", "5"], "takes no arguments"),
]


@pytest.mark.parametrize("args, named", BAD)
def test_bad_input_is_one_line_exit_2(args, named):
    result = skipcalc(*args)
    assert (result.code, result.out) == (2, ""), result
    assert result.err.startswith("skipcalc: error: ") and named in result.err and result.err.count("\n") == 1


# --- every declared option, walked through the one reader ------------------------------

EXAMPLE = {
    "--format": "json",
    "--digits": "5",
    "--block": "scaled:0.5",
    "--fn": "tanh(x)",
    "--at": "0.5",
    "--jacobian": "[[0.5,0.1],[0,0.2]]",
    "--dim": "4",
    "--layers": "6",
    "--scale": "0.5",
    "--seed": "3",
    "--dtype": "float16",
    "--target": "1",
    "--pred": "0.5",
    "--loss-grad": "2",
    "--kind": "mae",
    "--delta": "2",
    "--local": "0.5",
    "--max": "4",
    "--depths": "1,3",
    "--vanish": "0.01",
    "--uniform": "0.2",
    "--mass": "0.8",
    "--weight": "1",
    "--lr": "0.1",
    "--grad": "3",
    "--input": "2",
    "--encoder-layers": "6",
    "--decoder-layers": "6",
    "--branches": "4",
    "--branch-depth": "3",
    "--csv": str(Path(__file__).parent / "expected" / "grads.csv"),
    "--column": "grad_norm",
    "--param": "0.2",
    "--fan-in": "16",
    "--fan-out": "32",
    "--last": "0.5",
    "--title": "A title",
    "--act": "tanh",
    "--weight-var": "1.5",
    "--bias-var": "0.05",
    "--input-var": "2",
    "--input-corr": "0.5",
    "--width": "50",
    "--trials": "3",
    "--weights": "orthogonal",
    "--init": "he",
    "--branch": "post-act",
    "--norm": "pre",
    "--size": "tiny",
    "--tokens": "4",
    "--image-size": "32",
    "--heads": "2",
    "--blocks": "blocks.*",
    "--model": "mine.py:build",
    "--group": "step=1",
    "--samples": "2",
    "--probes": "2",
    "--mode": "autocast",
}

BASES = {
    "chain": [
        ["0.1", "0.2"],
        ["--fn", "sin(x)", "--at", "1"],
        ["--jacobian", "[[0.5]]"],
        ["--random-jacobians", "--dim", "3", "--layers", "3"],
        ["--batch", "--format", "value"],
    ],
    "backprop": [
        ["0.1", "--loss-grad", "2"],
        ["--fn", "sin(x)", "--at", "1", "--target", "1"],
        ["--jacobian", "[[0.5]]", "--loss-grad", "[2]"],
        ["--batch", "--format", "value", "--loss-grad", "2"],
    ],
    "loss": [["--target", "1", "--pred", "0.5"], ["--batch", "--format", "value"]],
    "update": [["--weight", "1", "--lr", "0.1", "--grad", "3", "--input", "2"], ["--batch", "--format", "value"]],
    "depth": [["--local", "0.1"]],
    "paths": [["0.1", "0.3"], ["--uniform", "0.1", "--layers", "4"]],
    "precision": [
        ["0.1", "1e-9"],
        ["--csv", str(Path(__file__).parent / "expected" / "grads.csv"), "--column", "grad_norm"],
    ],
    "meanfield": [
        ["--act", "tanh", "--weight-var", "1.5", "--layers", "3"],
        ["--act", "relu", "--bias-var", "0.1", "--critical"],
    ],
    "probe": [["mlp", "--layers", "2", "--width", "4", "--samples", "2", "--probes", "2"]],
    "deepnorm": [["--layers", "18"]],
    "fixup": [["--branches", "16", "--branch-depth", "2"]],
    "gain": [["tanh"]],
    "stochastic-depth": [["--layers", "6"]],
}

_names = count()


def _cases():
    for command in [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()]:
        words = [command.group, command.name] if command.group else [command.name]
        for base in BASES[command.name]:
            yield [*words, *base]
            for opt in command.options:
                if opt.name in base:
                    continue
                value = [EXAMPLE.get(opt.name, "SAVE.svg")] if opt.takes_value else []
                yield [*words, *base, opt.name, *value]


def _expected(args: list[str]) -> tuple[str, ...] | None:
    """What the declaration says of one case: None (answered, exit 0), or the options one of
    which the one-line refusal must name first (exit 2): the first option given that does not
    apply in the mode, with the format, without what it requires, or beside what it excludes."""
    from skipcalc import schema
    from skipcalc.cli.reader import parse

    parsed = parse(args)
    command = parsed.command
    fmt = parsed.values.get("format", "table")
    given = [command.find(a) for a in args if a.startswith("--") and command.find(a) is not None]
    triggered = [m for m in command.modes if m.trigger and m.trigger in args]
    if len(triggered) > 1:
        return (triggered[1].trigger,)
    try:
        mode = schema.mode_of(command, parsed.values, bool(parsed.arguments))
    except InputError as error:  # a trigger whose layers come from elsewhere, beside numbers given
        return (flags(error.message).split(":")[0],)
    for opt in given:
        assert opt is not None
        if (opt.modes and mode.name not in opt.modes) or (opt.formats and fmt not in opt.formats):
            return (opt.name,)
        if opt.requires and command.find(opt.requires).dest not in parsed.values:  # type: ignore[union-attr]
            return (opt.name,)
        clash = [o for o in given if o is not None and (o.name in opt.excludes or opt.name in o.excludes)]
        if clash:
            return (opt.name, *(o.name for o in clash))  # type: ignore[union-attr]
    return None


CSV = str(Path(__file__).parent / "expected" / "grads.csv")
MLP = "probe mlp --layers 2 --width 4 --samples 2 --probes 2"
REFUSED = {
    # Cases the declaration allows and the call refuses, each for its own reason, by name.
    "loss --target 1 --pred 0.5 --delta 2": "--delta: only the huber loss takes a delta",
    "loss --batch --format value --delta 2": "stdin line 1: --delta: only the huber loss takes a delta",
    "init gain tanh --param 0.2": "--param: only leaky_relu takes a parameter",
    f"precision 0.1 1e-9 --csv {CSV}": "--csv: the gradients come from the file",
    f"precision --csv {CSV} --column grad_norm --elements": "--elements: ",
    "meanfield --act tanh --weight-var 1.5 --layers 3 --width 50": "--width: applies only with --simulate or --init",
    "meanfield --act tanh --weight-var 1.5 --layers 3 --init he": "--init: gives sigma_w^2 and sigma_b^2 itself",
    f"{MLP} --model mine.py:build": "--model: probes your own model; give it or a preset, not both",
    f"{MLP} --block scaled:0.5": "--block: 'scaled:0.5' is not a block; expected one of plain, residual",
    f"{MLP} --heads 2": "--heads: applies only to the transformer preset",
    f"{MLP} --norm pre": "--norm: applies only to the transformer preset",
    f"{MLP} --size tiny": "--size: applies only to the gpt2 preset",
    f"{MLP} --zero-init-residual": "--zero-init-residual: applies only to the resnet18 and resnet50 presets",
    f"{MLP} --tokens 4": "--tokens: applies only to the transformer and gpt2 presets",
    f"{MLP} --image-size 32": "--image-size: applies only to the resnet18 and resnet50 presets",
}


@pytest.mark.parametrize("args", list(_cases()), ids=" ".join)
def test_every_declared_option_has_its_expected_outcome(args, tmp_path):
    """Every declared option of every command and mode, through the one reader: answered where
    the declaration says it applies (exit 0), else refused in one line that names it (exit 2);
    never a traceback or an internal error."""
    keyed = {"loss": "target=1 pred=0.5\n", "update": "weight=1 lr=0.1 grad=3 input=2\n"}
    stdin = keyed.get(args[0], "1 0.5\n") if "--batch" in args else ""
    here = [a.replace("SAVE.svg", str(tmp_path / f"chart{next(_names)}.svg")) for a in args]
    result = skipcalc(*here, input=stdin)
    assert "Traceback" not in result.err and "internal error" not in result.err
    refused = REFUSED.get(" ".join(args))
    expected = (refused,) if refused is not None else _expected(args)
    if expected is None:
        wrote = "--save" in args and result.err.startswith("skipcalc: wrote ")
        assert result.code == 0 and (result.err == "" or wrote), result
    else:
        assert result.code == 2 and result.out == "", result
        assert result.err.count("\n") == 1 and any(
            result.err.startswith(f"skipcalc: error: {name}") for name in expected
        ), (expected, result)


# --- --batch ------------------------------------------------------------------------------


def test_batch_value_json_csv(run):
    assert run("chain", "--batch", "--format", "value", input="0.1 0.1 0.1\n\n0 0\n-0.5 1/3\n").ok == (
        "0.001\t1.331\n0\t1\n-0.1666666666666666666666666666666666666667\t0.6666666666666666666666666666666666666667\n"
    )
    rows = [
        json.loads(line)
        for line in run("chain", "--batch", "--format", "json", "--residual", input="0.1\n\n0.5\n").ok.splitlines()
    ]
    assert [(r["line"], r["residual"]["gradient"]) for r in rows] == [(1, "1.1"), (3, "1.5")]
    assert run("chain", "--batch", "--format", "csv", "--plain", input="0.1 0.1\n0.5\n").ok.splitlines() == [
        "line,layers,local,plain_gradient",
        "1,2,0.1 0.1,0.01",
        "2,1,0.5,0.5",
    ]
    per_layer = run("chain", "--batch", "--format", "csv", "--plain", "--per-layer", input="0.1 0.1\n0.5\n")
    assert per_layer.ok.splitlines() == [
        "line,layer,local,plain_factor,plain_gradient",
        "1,1,0.1,0.1,0.01",
        "1,2,0.1,0.1,0.1",
        "2,1,0.5,0.5,0.5",
    ]


def test_a_bad_batch_line_stops_after_the_results_before_it(run):
    result = run("backprop", "--batch", "--loss-grad", "-2", "--format", "value", input="0.1\nx 1\n0.2\n")
    assert (result.code, result.out) == (2, "-0.2\t-2.2\n")
    assert (
        result.err == "skipcalc: error: stdin line 2: D1: 'x' is not a number; "
        "expected a decimal (0.1, -2.5, 1e-3, +4) or a fraction (1/3)\n"
    )
    result = run("chain", "--batch", "--keep-going", "--format", "value", input="0.1\nx\n0.2\n")
    lines = result.out.splitlines()
    assert lines[0] == "0.1\t1.1" and lines[2] == "0.2\t1.2" and json.loads(lines[1])["line"] == 2
    assert result.code == 2 and "1 line failed" in result.err


def test_loss_and_update_batch_lines_over_options(run):
    text = "target=10 pred=8\ntarget=1 pred=0.5 kind=mae\n--target 3 --pred 1\n"
    assert (
        run("loss", "--batch", "--kind", "huber", "--format", "value", input=text).ok == "1.5\t-1\n0.5\t-1\n1.5\t-1\n"
    )
    result = run(
        "update",
        "--batch",
        "--lr",
        "0.1",
        "--input",
        "1",
        "--format",
        "value",
        input="weight=0.5 grad=-5.324\nweight=1 grad=2 input=0\n",
    )
    assert result.ok == "1.0324\n1\n"
    assert "did you mean grad=?" in run("update", "--batch", "--format", "value", input="weight=1 gard=2\n").err


def test_help_lists_where_each_option_applies(run):
    text = run("chain", "--help").ok
    assert "--seed" in text and "[with --random-jacobians]" in text and "Example: skipcalc chain" in text
    assert run("--help").ok.startswith("Usage: skipcalc")
    assert "deepnorm" in run("init", "--help").ok
    assert run("--version").ok.startswith("skipcalc ")


def test_no_stored_help_remains():
    import skipcalc

    folder = os.path.dirname(skipcalc.__file__)
    assert not os.path.exists(os.path.join(folder, "help.json"))


def test_batch_lines_take_layers_comments_and_their_own_layers(run):
    text = "# a sweep\n0.5\n\n0.1 0.2 --layers 4  # two layers, twice\n0.3 --layers=3\n"
    rows = run("chain", "--batch", "--layers", "2", "--format", "csv", input=text).ok.splitlines()
    assert rows == [
        "line,layers,local,plain_gradient,residual_gradient",
        "2,2,0.5,0.25,2.25",
        "4,4,0.1 0.2,0.0004,1.7424",
        "5,3,0.3,0.027,2.197",
    ]
    assert (
        run("chain", "--batch", "--layers", "2", "--format", "value", input=text).ok
        == "0.25\t2.25\n0.0004\t1.7424\n0.027\t2.197\n"
    )
    refused = run("chain", "--batch", "--layers", "3", "--format", "csv", input="0.1 0.2\n")
    assert refused.code == 2 and "stdin line 1: --layers: 3 is not a multiple of the 2 layers" in refused.err
    option = run("chain", "--batch", "--format", "csv", input="0.1 --plain\n")
    assert option.code == 2 and "--plain: options go on the command line" in option.err


def test_batch_csv_per_case_agrees_with_the_general_way_and_reports_bad_lines_as_rows(run):
    """The fast kernel (plain and residual) and the general way (any block) give the same rows;
    under --keep-going a bad line is a csv row, quoted as csv quotes."""
    import csv
    import io

    text = "0.1 0.2\nx\n1/3 -0.5\n0.7\n"
    fast = run(
        "backprop", "--batch", "--loss-grad", "-2", "--layers", "4", "--format", "csv", "--keep-going", input=text
    )
    general = run(
        "backprop",
        "--batch",
        "--loss-grad",
        "-2",
        "--layers",
        "4",
        "--block",
        "plain",
        "--block",
        "residual",
        "--block",
        "rezero:1",
        "--format",
        "csv",
        "--keep-going",
        input=text,
    )
    assert fast.code == general.code == 2
    fast_rows = list(csv.reader(io.StringIO(fast.out)))
    general_rows = list(csv.reader(io.StringIO(general.out)))
    assert fast_rows[0] == ["line", "layers", "local", "loss_gradient", "plain_gradient", "residual_gradient", "error"]
    assert [r[:6] for r in fast_rows[1:]] == [r[:6] for r in general_rows[1:]]
    assert [r[6] for r in general_rows[1:]] == [r[5] for r in general_rows[1:]]  # rezero:1 is residual
    bad = fast_rows[2]
    assert bad[0] == "2" and bad[-1].startswith("stdin line 2: D1: 'x' is not a number")
    assert [float(r[4]) for r in fast_rows[1:] if not r[-1]] == pytest.approx([-0.0008, -1 / 18, -2 * 0.7**4])


@pytest.mark.parametrize(
    "args, text, expected",
    [
        (
            ["depth", "--batch", "--format", "value"],
            "local=0.5 depths=10\n# a comment\n\nlocal=1/2 --depths 10\n",
            "0.0009765625\t57.6650390625\n" * 2,
        ),
        (
            ["paths", "--batch", "--format", "value"],
            "0.1 0.2 0.3\nuniform=0.1 layers=110\n",
            "1.716\t0\t1\n35743.35935197503226412197580625705154978\t5\t14\n",
        ),
        (
            ["init", "gain", "--batch", "--format", "value"],
            "relu\nleaky_relu param=0.2\n",
            "1.41421356237309504880168872420969807857\n1.386750490563072805045854333642498440866\n",
        ),
        (
            ["meanfield", "--act", "relu", "--layers", "3", "--batch", "--format", "value"],
            "weight_var=2\nweight-var=1\n",
            "1\t8\n0.125\t3.375\n",
        ),
    ],
)
def test_batch_on_depth_paths_init_and_meanfield(run, args, text, expected):
    """Each line key=value pairs over the options given (the arguments as words); the same
    answers as one call each."""
    assert run(*args, input=text).ok == expected


def test_keyed_batch_reports_bad_lines_in_the_format_written(run):
    import csv
    import io

    csv_out = run("depth", "--batch", "--format", "csv", "--keep-going", input="local=0.5 max=2\nlocal=x\n")
    assert csv_out.code == 2
    rows = list(csv.reader(io.StringIO(csv_out.out)))
    assert rows[0] == ["line", "depth", "plain", "residual", "ratio", "error"] and rows[-1][0] == "2"
    assert rows[-1][-1].startswith("stdin line 2: --local: 'x' is not a number") and len(rows[-1]) == 6
    flag = run("meanfield", "--act", "tanh", "--batch", "--format", "json", input="plain=1\n")
    assert flag.code == 2 and "'plain=1': not a key of meanfield" in flag.err and flag.out == ""
    arguments = run("paths", "0.1", "--batch", "--format", "value")
    assert arguments.code == 2 and "give no arguments" in arguments.err


@pytest.mark.parametrize("extra", [[], ["--block", "plain", "--block", "rezero:0.1"], ["--plain"]])
def test_batch_json_objects_are_what_json_dumps_writes(run, extra):
    """The per-case objects are written by hand for speed: each line is exactly json.dumps of
    what it reads back as (floats, nulls, exactness and the ratio included)."""
    text = "0.5\n1e-400 --layers 3\n1/3 0.2\n0 1\n123456789 --layers 3\n"
    for command in (["chain"], ["backprop", "--loss-grad", "-2"]):
        out = run(*command, "--batch", "--layers", "2", "--format", "json", *extra, input=text)
        lines = out.ok.splitlines()
        assert len(lines) == 5
        for line in lines:
            assert json.dumps(json.loads(line)) == line
        first = json.loads(lines[0])
        assert first["line"] == 1 and first["layers"] == 2 and first["local"] == ["0.5"]
        tiny = json.loads(lines[1])  # (1e-400)^3 is outside double range: no float, and a log10
        network = "rezero:0.1" if extra[1:] else "plain"
        assert tiny["exact"] in (True, False) and tiny["layers"] == 3 and network in tiny


def test_per_layer_csv_reuses_a_repeated_line_and_heads_its_rows(run):
    """A line seen before gives the same rows under its own number; a bad line before the
    first good one comes after the header."""
    out = run("chain", "--batch", "--format", "csv", "--per-layer", "--keep-going", input="x\n0.5 1/3\n0.5 1/3\n")
    lines = out.out.splitlines()
    assert (
        out.code == 2 and lines[0] == "line,layer,local,plain_factor,plain_gradient,residual_factor,residual_gradient"
    )
    assert lines[1].startswith('1,"stdin line 1: D1:')
    assert [row.split(",", 1)[1] for row in lines[2:4]] == [row.split(",", 1)[1] for row in lines[4:6]]
    assert [row[0] for row in lines[2:]] == ["2", "2", "3", "3"]


def test_a_flag_that_asks_for_less_never_aborts_a_script():
    """--no-plot with a machine format or --save: accepted, and nothing more happens."""
    assert skipcalc("chain", "0.1", "--format", "json", "--no-plot").code == 0
    assert skipcalc("depth", "--local", "0.1", "--max", "3", "--format", "value", "--no-plot").ok == "0.001\t1.331\n"


def test_stdin_numbers_may_be_separated_by_commas():
    assert skipcalc("chain", "-", "--format", "value", input="0.1, 0.2,0.3\n").ok == "0.006\t1.716\n"


@pytest.mark.parametrize(
    "args, stdin",
    [
        (["paths", "--batch", "--keep-going", "--format", "csv"], "x\n0.1 0.2\n"),
        (["loss", "--batch", "--keep-going", "--format", "csv"], "target=1 pred=0.5\ntarget=x\n"),
        (["depth", "--batch", "--keep-going", "--format", "csv"], "local=x\nlocal=0.5 depths=3\n"),
        (["loss", "--batch", "--keep-going", "--format", "csv"], "x\n"),
    ],
)
def test_keep_going_csv_rows_are_all_one_width_under_the_header(args, stdin):
    import csv as csv_module

    ran = skipcalc(*args, input=stdin)
    rows = list(csv_module.reader(io.StringIO(ran.out)))
    assert ran.code == 2 and rows[0][0] == "line" and rows[0][-1] == "error"
    assert len({len(row) for row in rows}) == 1 and any(row[-1].startswith("stdin line") for row in rows[1:])


def test_a_call_is_read_and_checked_once(monkeypatch):
    """argv is read once into the command's typed call, checked once, and handed to the API:
    no layer reads or checks it again."""
    from collections import Counter

    from skipcalc import schema

    counts: Counter[str] = Counter()
    for name in ("read", "check", "mode_of"):

        def counting(*args, _original=getattr(schema, name), _name=name, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(schema, name, counting)
    assert skipcalc("chain", "0.1", "0.1", "0.1", "--residual", "--format", "value").out == "1.331\n"
    assert counts == {"read": 1, "check": 1, "mode_of": 1}
    counts.clear()
    assert skipcalc("meanfield", "--act", "relu", "--weight-var", "2", "--layers", "2", "--format", "json").code == 0
    assert counts == {"read": 1, "check": 1, "mode_of": 1}


def test_the_read_call_is_a_frozen_dataclass_generated_from_the_declaration():
    import dataclasses
    from fractions import Fraction

    from skipcalc import schema

    call = schema.read(options.LOSS, {"target": "10", "pred": 8, "kind": None, "delta": None})
    assert type(call).__name__ == "LossValues" and dataclasses.is_dataclass(call)
    assert (call.target, call.pred, call.kind, call.delta) == (Fraction(10), Fraction(8), "mse", None)
    assert call.given == {"target", "pred"} and call.mode.name == "single"
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.target = 1  # type: ignore[misc]
    declared = {opt.dest for opt in options.MEANFIELD.options if opt.api}
    fields = {f.name for f in dataclasses.fields(schema.values_type(options.MEANFIELD))}
    assert fields == declared | {"command", "mode", "given", "per_layer", "written"}


@pytest.mark.parametrize(
    "args, said",
    [
        (["init", "deepnorm"], "--layers: give --layers N (one stack) or --encoder-layers N --decoder-layers M"),
        (
            ["meanfield", "--act", "tanh", "--init", "pytorch"],
            "--width: the pytorch scheme's bias variance is 1/(3 fan_in); give --width N, the fan_in",
        ),
        (
            ["meanfield", "--act", "tanh", "--init", "he", "--width", "8"],
            "--width: the he scheme does not depend on the width; give it with --init pytorch only",
        ),
        (
            ["chain", "0.1", "--random-jacobians"],
            "--random-jacobians: the layers come from --random-jacobians; give no numeric derivatives as arguments",
        ),
        (
            ["backprop", "0.1"],
            "--target/--pred: backprop needs dL/dx_n: give --target T with --pred P, or --loss-grad G",
        ),
        (
            ["precision", "--csv", CSV],
            "--column: give the CSV column that holds the gradients, e.g. --column grad_norm",
        ),
    ],
)
def test_refusals_name_flags_with_their_values(args, said):
    """Whole refusal lines: each argument a message names is written as its flag, with the value
    the message shows after it."""
    ran = skipcalc(*args)
    assert (ran.code, ran.out, ran.err) == (2, "", f"skipcalc: error: {said}\n")


def test_python_refusals_name_arguments_with_their_values():
    from skipcalc import chain, init, meanfield

    cases = [
        (lambda: init.deepnorm(), "layers: give layers=N (one stack) or encoder_layers=N decoder_layers=M"),
        (lambda: meanfield("tanh", init="pytorch"), "width: the pytorch scheme's bias variance is 1/(3 fan_in); give"),
        (lambda: chain([0.1], random_jacobians=True), "random_jacobians: the layers come from random_jacobians=True;"),
        (lambda: chain([0.1], dim=3), "dim: applies only with random_jacobians=True (this is chain with numeric"),
    ]
    for call, said in cases:
        with pytest.raises(InputError) as raised:
            call()
        assert str(raised.value).startswith(said), str(raised.value)
