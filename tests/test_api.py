"""The Python API: ordinary numbers in, results that print, repr in a line, show in Jupyter,
convert to the command line's JSON; bad input raises InputError with the command line's line."""

import json
from decimal import Decimal
from fractions import Fraction as F

import numpy as np
import pytest
from conftest import skipcalc as cli

import skipcalc
from skipcalc import InputError, backprop, chain, depth, init, loss, paths, update


@pytest.mark.parametrize(
    "local",
    [
        [0.1, 0.1, 0.1],
        ["0.1", "0.1", "0.1"],
        (F(1, 10),) * 3,
        [Decimal("0.1")] * 3,
        (x for x in [0.1, 0.1, 0.1]),
        np.array([0.1, 0.1, 0.1]),
        np.array([0.1, 0.1, 0.1], dtype=np.float32),
        ["1/10", 0.1, Decimal("0.10")],
    ],
)
def test_ordinary_numbers_are_read_as_typed(local):
    result = chain(local)
    assert result.network("plain").gradient == F(1, 1000)
    assert result.network("residual").gradient == F(1331, 1000)


def test_integers_and_one_number_alone():
    assert chain([1, 1]).network("residual").gradient == 4
    assert chain(0.5, layers=3, plain=True).network("plain").gradient == F(1, 8)


def test_blocks_by_name_or_as_objects():
    rezero = skipcalc.parse_block("rezero:0.1")
    by_name = chain([0.5], blocks=["residual", "rezero:0.1"])
    by_object = chain([0.5], blocks=[skipcalc.parse_block("residual"), rezero])
    assert [n.gradient for n in by_name.networks] == [n.gradient for n in by_object.networks] == [F(3, 2), F(21, 20)]
    assert chain([0.5], blocks="scaled:0.5").network("scaled").gradient == 1


def test_a_network_is_found_by_spec_or_kind_and_a_wrong_name_is_refused():
    result = chain([0.1], blocks=["plain", "rezero:0.1", "rezero:0.2"])
    assert result.network("rezero:0.2").gradient == F(102, 100)
    assert result.network("plain").gradient == F(1, 10)
    with pytest.raises(InputError, match="ambiguous; give one of rezero:0.1, rezero:0.2"):
        result.network("rezero")
    with pytest.raises(InputError, match="not one here"):
        result.network("highway")


@pytest.mark.parametrize(
    "call, args",
    [
        (lambda: chain([0.1, "x"]), ["chain", "0.1", "x"]),
        (lambda: chain([0.1], layers=5, blocks=["resdual"]), ["chain", "0.1", "--layers", "5", "--block", "resdual"]),
        (lambda: chain([0.1, 0.2], layers=5), ["chain", "0.1", "0.2", "--layers", "5"]),
        (lambda: chain([0.1], at=1), ["chain", "0.1", "--at", "1"]),
        (lambda: backprop([0.1]), ["backprop", "0.1"]),
        (lambda: loss(1, 0, kind="bce"), ["loss", "--target", "1", "--pred", "0", "--kind", "bce"]),
        (lambda: depth(0.1, max=0), ["depth", "--local", "0.1", "--max", "0"]),
        (lambda: paths(uniform=0.1), ["paths", "--uniform", "0.1"]),
        (lambda: init.fixup(branches=4, branch_depth=1), ["init", "fixup", "--branches", "4", "--branch-depth", "1"]),
        (lambda: chain([0.1], dtype="fp17"), ["chain", "0.1", "--dtype", "fp17", "--format", "json"]),
    ],
)
def test_bad_input_raises_the_command_lines_message_in_pythons_words(call, args):
    """The same refusal, naming the argument (``layers=``) where the command line names the
    flag (``--layers``)."""
    from skipcalc import options
    from skipcalc.cli.process import flags

    with pytest.raises(InputError) as raised:
        call()
    said = cli(*args).err.removeprefix("skipcalc: error: ").rstrip("\n")
    assert flags(raised.value.message) == said  # one message, the names spelled by each interface
    commands = [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()]
    assert not any(f"--{opt.name[2:]}" in str(raised.value) for c in commands for opt in c.options if opt.api)
    assert "\x1f" not in str(raised.value)


def test_a_refusal_names_the_argument_in_python_and_the_flag_on_the_command_line():
    with pytest.raises(InputError) as raised:
        chain([0.1, 0.2], layers=5)
    assert str(raised.value).startswith("layers: 5 is not a multiple of the 2 layers given")
    assert cli("chain", "0.1", "0.2", "--layers", "5").err.startswith("skipcalc: error: --layers: 5 is not a multiple")
    with pytest.raises(InputError, match=r"^weight_var: give sigma_w\^2, e.g. weight_var=1.5 \(or critical=True"):
        skipcalc.meanfield("tanh")
    said = cli("meanfield", "--act", "tanh").err
    assert said.startswith("skipcalc: error: --weight-var: give sigma_w^2, e.g. --weight-var 1.5 (or --critical to")
    with pytest.raises(InputError, match=r"^fn 2: 'sin\(\(' is not a formula"):
        chain(fn=["x", "sin(("], at=1)


@pytest.mark.parametrize(
    "hostile",
    [None, 1j, float("nan"), float("inf"), True, object(), [[0.1]], Decimal("NaN"), pytest.param(10**5000, id="huge")],
)
def test_hostile_numbers_raise_input_error(hostile):
    with pytest.raises(InputError):
        chain([0.1, hostile])


@pytest.mark.parametrize(
    "call",
    [
        lambda: chain([0.1], blocks=[]),
        lambda: chain([0.1], blocks=[None]),
        lambda: chain([0.1], layers=2**64),
        lambda: chain([0.1], layers=1.5),
        lambda: chain([0.1], dtype=3),
        lambda: chain([]),
        lambda: chain(),
        lambda: depth(0.1, depths=[0]),
        lambda: loss(1, 0.5, kind=None, delta=-1),
        lambda: update(1, 2, 3),
        lambda: init.gain("ReLU6"),
    ],
)
def test_hostile_arguments_raise_input_error_never_attribute_or_key_errors(call):
    with pytest.raises(InputError):
        call()


def test_a_result_repr_is_one_line():
    assert repr(chain([0.1] * 3)) == "ChainResult(3 layers: plain 0.001, residual 1.331)"
    assert repr(loss(10, 8)) == "LossResult(mse: L = 4, dL/dpred = -4)"
    assert repr(update(0.5, 0.1, -5.324, 1)) == "UpdateResult(new weight 1.0324, step 0.5324)"
    long = chain(0.37, layers=100_000)
    assert "\n" not in repr(long) and len(repr(long)) < 120
    for result in (depth(0.1), paths([0.1, 0.2]), init.deepnorm(layers=18), chain(fn="tanh(x)", at=1)):
        assert "\n" not in repr(result) and len(repr(result)) < 200


@pytest.mark.parametrize(
    "result, args",
    [
        (lambda: chain([0.1, 0.1]), ["chain", "0.1", "0.1"]),
        (
            lambda: backprop([0.1] * 3, target=10, pred=8),
            ["backprop", "0.1", "0.1", "0.1", "--target", "10", "--pred", "8"],
        ),
        (lambda: chain(1 / 3, layers=3), ["chain", "1/3", "--layers", "3"]),  # 1/3 the float: its shortest repr
        (lambda: loss(10, 8, kind="huber"), ["loss", "--target", "10", "--pred", "8", "--kind", "huber"]),
        (lambda: depth(0.5, max=8), ["depth", "--local", "0.5", "--max", "8"]),
        (lambda: paths([0.1, -0.2, 0.3]), ["paths", "0.1", "-0.2", "0.3"]),
        (lambda: init.gain("relu", fan_in=512), ["init", "gain", "relu", "--fan-in", "512"]),
        (
            lambda: chain(0.1, layers=8, plain=True, dtype="float16"),
            ["chain", "0.1", "--layers", "8", "--plain", "--dtype", "float16"],
        ),
    ],
)
def test_to_dict_is_the_command_lines_json(result, args):
    expected = json.loads(cli(*args, "--format", "json").ok) if "1/3" not in args else None
    made = result().to_dict()
    if expected is None:  # 1/3 as a float is 0.3333333333333333: its own exact value
        assert made["local"] == ["0.3333333333333333"] * 3
    else:
        assert made == expected


def test_a_result_prints_as_its_table_and_shows_as_html():
    result = chain([0.1] * 3)
    assert str(result) == cli("chain", "0.1", "0.1", "0.1", "--no-plot").ok.rstrip("\n")
    html = result._repr_html_()
    assert html.count("<table") == 2 and "1.331" in html and "Derivation (SymPy)" in html


def test_rich_lays_a_result_out_for_its_console(tmp_path):
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=50, color_system=None).print(chain([0.1] * 3))
    text = buffer.getvalue()
    assert "1.331" in text and max(len(line) for line in text.splitlines()) <= 50


def test_plot_returns_the_figure_save_writes(tmp_path):
    figure = depth(0.1, max=20).plot(title="Twenty layers of 0.1")
    assert figure.axes[0].get_title(loc="left") == "Twenty layers of 0.1"
    assert [line.get_label() for line in figure.axes[0].get_lines()][:2] == ["plain (no skip)", "residual"]
    with pytest.raises(InputError, match="no chart"):
        loss(10, 8).plot()


def test_every_public_name_is_documented_with_an_example():
    for name in skipcalc.__all__:
        if name == "__version__":
            continue
        value = getattr(skipcalc, name)
        assert value.__doc__ and ">>>" in value.__doc__, name
    for name in ("deepnorm", "fixup", "gain", "stochastic_depth"):
        assert ">>>" in getattr(init, name).__doc__


def test_api_docstrings_list_every_keyword_from_the_declaration():
    assert "layers: Repeat the layers given to N layers" in chain.__doc__
    assert (
        "vanish: The threshold for 'vanished' (the summary says where plain first falls below it). [default: 0.000001]"
        in depth.__doc__
    )


HOSTILE = [
    lambda: chain(None),
    lambda: chain([1j]),
    lambda: chain([float("nan")]),
    lambda: chain([0.1], blocks=[]),
    lambda: chain([0.1]).to_dict(digits=2**64),
    lambda: chain([0.1]).to_dict(digits=0),
    lambda: chain([0.1]).to_dict(digits=True),
    lambda: chain(0.1, layers=2**64),
    lambda: chain([0.1], dtype=[]),
    lambda: chain([0.1], dtype="nope"),
    lambda: chain([0.1], dtype=3),
    lambda: chain("0.1 0.2"),
    lambda: chain([[0.1]]),
    lambda: chain({"a": 1}),
    lambda: chain([0.1], fn="x", at=1),
    lambda: chain(fn=[], at=1),
    lambda: chain([0.1]).plot(title=3),
    lambda: chain([0.1]).network(None),
    lambda: loss(None, 1),
    lambda: loss(1j, 1),
    lambda: update(weight=float("inf"), lr=1, grad=1, input=1),
    lambda: backprop([0.1], loss_grad=float("inf")),
    lambda: depth(float("nan")),
    lambda: depth(0.1, depths=[]),
    lambda: depth(0.1, depths="1,x"),
    lambda: depth(0.1, max=10**30),
    lambda: paths([]),
    lambda: paths(uniform=0.1, layers=None),
    lambda: skipcalc.precision([]),
    lambda: skipcalc.precision(None),
    lambda: skipcalc.precision([1j]),
    lambda: skipcalc.precision([0.1], dtype=["float16", None]),
    lambda: skipcalc.precision(csv=3, column="x"),
    lambda: skipcalc.precision(csv="/nonexistent", column=5),
    lambda: skipcalc.precision(csv=__import__("io").StringIO(""), column="g"),
    lambda: init.gain(None),
    lambda: init.deepnorm(layers=-1),
]


@pytest.mark.parametrize("call", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_arguments_raise_input_or_type_errors(call):
    """None, complex, nan, empty lists, huge digits: InputError (a ValueError naming the
    argument) or TypeError, never AttributeError, KeyError or a hang."""
    with pytest.raises((InputError, TypeError)) as raised:
        call()
    assert str(raised.value) and "Traceback" not in str(raised.value)


def test_sweeps_offer_a_frame_and_floats_in_every_row(monkeypatch):
    import sys
    import types

    from skipcalc import depth

    rows = depth(0.1, layers=3).to_dict()["rows"]
    assert rows[0]["plain_float"] == 0.1 and rows[-1]["residual_float"] == 1.331
    assert depth("0.1:0.2:0.1", depths=[2]).to_dict()["rows"][0]["residual_float"] == 1.21
    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=lambda rows: ("frame", rows)))
    assert depth(0.1, layers=2).to_frame() == ("frame", depth(0.1, layers=2).to_dict()["rows"])
    with pytest.raises(InputError, match="to_frame: a ChainResult has no rows"):
        chain([0.1]).to_frame()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(InputError, match="to_frame: needs pandas"):
        depth(0.1).to_frame()


# Python-only parameters: what a Python caller has and a shell does not (a model object, tensors,
# a loss function). Every other parameter is declared.
PYTHON_ONLY = {
    "probe": {"model", "inputs", "target", "loss", "upstream", "blocks", "probes", "dtypes", "mode", "seed"},
}
COMMAND_LINE_ONLY = {"probe": {"preset"}}  # the shell names a preset where Python passes the model


def test_every_api_signature_matches_the_declaration():
    import inspect

    from skipcalc import options

    functions = [(name, command, getattr(skipcalc, name)) for name, command in options.COMMANDS.items()]
    functions += [
        (name, command, getattr(skipcalc.init, name.replace("-", "_")))
        for name, command in options.INIT_COMMANDS.items()
    ]
    for name, command, wrapped in functions:
        function = inspect.unwrap(wrapped)
        parameters = set(inspect.signature(function).parameters)
        declared = {opt.api for opt in command.options if opt.api}
        if command.arguments is not None and command.arguments.keyword:
            declared.add(command.arguments.keyword)
        assert parameters - declared == PYTHON_ONLY.get(name, set()), name
        assert declared - parameters == COMMAND_LINE_ONLY.get(name, set()), name
