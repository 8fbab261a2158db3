"""Low precision as training computes it (skipcalc.core.precision): the backward pass in a
float format against PyTorch autograd (stored cases always, live where torch is installed),
FP8 against an independent model in exact arithmetic, loss-scale windows at their edges,
GradScaler, and the --dtype and precision commands end to end."""

from __future__ import annotations

import json
import math
import random
import struct
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc.core.blocks import parse_block
from skipcalc.core.float_formats import BY_NAME, FORMATS, round_into
from skipcalc.core.precision import backward_pass, extremes, gradscaler, rounder, store, stored_window
from skipcalc.core.results import Window

EXPECTED = Path(__file__).parent / "expected" / "pytorch-backward.json"
HAS_TORCH = __import__("importlib").util.find_spec("torch") is not None


def hexes(values):
    return ["nan" if v != v else float(v).hex() for v in values]


# ---------------------------------------------------------------------------
# Rounding a double into a format


doubles = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(doubles)
def test_rounder_is_exact_rounding(x):
    """rounder() (struct for float32/float16, frexp for the rest) against round_into on the
    exact value: to nearest, ties to even, subnormals, overflow and e4m3fn's clamp."""
    for fmt in FORMATS:
        exact, _ = round_into(fmt, F(x))
        got = rounder(fmt)(x)
        assert got == float(exact), (fmt.name, x, got, exact)


def test_store_decides_a_tie_of_the_double_by_the_exact_value():
    """1 + 2^-11 + 2^-60 is just above the tie between float16's 1 and 1 + 2^-10; its double
    is the tie itself (which rounds to the even 1). store() must give 1 + 2^-10."""
    value = 1 + F(1, 2**11) + F(1, 2**60)
    assert float(value) == 1 + 2**-11
    stored, status = store(BY_NAME["float16"], [value])
    assert stored == [1 + 2**-10] and status == ["normal"]
    below = 1 + F(1, 2**11) - F(1, 2**60)
    assert store(BY_NAME["float16"], [below])[0] == [1.0]


# ---------------------------------------------------------------------------
# The backward pass against PyTorch


CASES = json.loads(EXPECTED.read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['block']}-{len(c['local'])}-{c['upstream']}")
def test_backward_pass_matches_stored_pytorch_autograd(case):
    """What torch autograd computed (tests/expected/pytorch-backward.json, from torch 2.13 on
    the CPU): y = a*x + b*(D*x) per layer, in the dtype, from dL/dx_n; bit for bit, signed
    zeros, inf and nan included."""
    local = [F(t) for t in case["local"]]
    block = parse_block(case["block"])
    for name, expected in case["grads"].items():
        ours = backward_pass(BY_NAME[name], local, block.coefficients(len(local)), F(case["upstream"])).values
        assert hexes(ours) == expected, name


def test_the_issues_two_examples():
    residual = parse_block("residual")
    f16 = BY_NAME["float16"]
    eight = backward_pass(f16, [F(1, 10)] * 8, residual.coefficients(8), 1)
    assert eight.values[0] == 2.142578125
    assert store(f16, [F(11, 10) ** 8])[0] == [2.14453125]  # the exact value rounded once
    plain = parse_block("plain")
    three = backward_pass(f16, [F("1.0001"), F(-1, 2), F(1, 10**9)], plain.coefficients(3), 10**4)
    assert three.values[0] == 0  # float16(1e-9) is 0 already


def torch_network(torch, name, at, branches, block, upstream):
    """Autograd in the dtype through y = a*x + b*F(x) per layer (a and b tensors of the dtype,
    as skipcalc stores them), from dL/dx_n = upstream: the gradient reaching each x_k."""
    fmt, dtype = BY_NAME[name], getattr(torch, name)

    def held(v):
        return torch.tensor(store(fmt, [F(v)])[0][0], dtype=torch.float64).to(dtype)

    x = x0 = held(at).requires_grad_(True)
    xs = [x0]
    for (a, b), branch_of in zip(block.coefficients(len(branches)), branches, strict=True):
        branch = branch_of(x, held)
        if b != 1:
            branch = held(b) * branch
        x = branch if a == 0 else ((x if a == 1 else held(a) * x) + branch)
        xs.append(x)
    for t in xs:
        t.retain_grad()
    x.backward(held(upstream))
    return [float(t.grad) for t in xs]


def torch_pass(torch, name, local, block, upstream):
    return torch_network(torch, name, 1, [lambda x, held, d=d: held(d) * x for d in local], block, upstream)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
@pytest.mark.parametrize("name", ["float64", "float32", "float16", "bfloat16"])
def test_backward_pass_matches_pytorch_on_random_chains(name):
    import torch

    rng = random.Random(name)
    fmt = BY_NAME[name]
    words = ["0.1", "-0.3", "1.7", "0.01", "3", "1e-3", "-1.5", "0.999", "2.5e-5", "1000", "1/3"]
    specs = ["plain", "residual", "scaled:0.5", "rezero:0.1", "highway:0.3", "scaled:1.1", "stochastic:0.8"]
    for _ in range(150):
        local = [F(rng.choice(words)) for _ in range(rng.randint(1, 30))]
        block = parse_block(rng.choice(specs))
        upstream = F(rng.choice(["1", "-4", "1e-5", "300", "0.1", "65000", "3e-8"]))
        ours = backward_pass(fmt, local, block.coefficients(len(local)), upstream).values
        theirs = torch_pass(torch, name, local, block, upstream)
        assert hexes(ours) == hexes(theirs), (name, block.spec, [str(d) for d in local], upstream)


FORMULA_CASES = json.loads((Path(__file__).parent / "expected" / "pytorch-formula-backward.json").read_text())


def formula_pass(name, fn, at, spec, upstream):
    from skipcalc import api

    result = api.backprop(fn=fn, at=at, blocks=[spec], loss_grad=upstream, dtype=name)
    return result.networks[0].dtypes[0].computed


@pytest.mark.parametrize("case", FORMULA_CASES, ids=lambda c: f"{c['block']}-{len(c['fn'])}-{c['fn'][0]}")
def test_formula_layers_match_stored_pytorch_autograd(case):
    """Formula layers run in the format operation by operation (core.autograd) against what
    torch 2.13 autograd computed on 0-dim tensors: bit for bit."""
    for name, expected in case["grads"].items():
        ours = formula_pass(name, case["fn"], case["at"], case["block"], case["upstream"])
        assert hexes(ours) == expected, name


TORCH_FORMULAS = [
    "tanh(x)",
    "sigmoid(x)",
    "x*0.5",
    "sin(x)",
    "x*x",
    "exp(-x)",
    "relu(x) + 0.1",
    "gelu(x)",
    "softplus(x)",
    "x/3",
    "1 - x",
    "x**2",
    "cos(x)*2",
    "erf(x)",
    "x*tanh(x)",
]


def torch_formula_pass(torch, name, fn, at, spec, upstream):
    import torch.nn.functional as tf

    functions = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "erf", "abs", "relu", "sigmoid")
    namespace = {n: getattr(torch, n) for n in functions}
    namespace.update(softplus=tf.softplus, gelu=tf.gelu, pi=math.pi, e=math.e)

    def branch_of(text):  # test code: our own formulas
        return lambda x, held: eval(text, {"__builtins__": {}}, {**namespace, "x": x})

    return torch_network(torch, name, at, [branch_of(text) for text in fn], parse_block(spec), upstream)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_formula_layers_match_pytorch_on_random_chains(name):
    """Bit for bit in float16 and bfloat16; in float32 PyTorch's vectorised functions (SLEEF)
    are not correctly rounded, so there the two agree to within 16 ulps on these short, well
    conditioned chains (benchmarks/float32_formula_ulps.py measures longer ones)."""
    import torch

    from skipcalc import InputError

    rng = random.Random(name)
    compared = 0
    for _ in range(70):
        fn = [rng.choice(TORCH_FORMULAS) for _ in range(rng.randint(1, 8))]
        at = rng.choice(["0.5", "1.25", "-0.75", "2", "0.3"])
        spec = rng.choice(["plain", "residual", "scaled:0.5", "rezero:0.1", "highway:0.3"])
        upstream = rng.choice(["1", "-4", "0.01", "300"])
        try:
            ours = formula_pass(name, fn, at, spec, upstream)
        except InputError:  # the exact chain cannot certify a gradient that is 0 (relu's flat side)
            continue
        compared += 1
        theirs = torch_formula_pass(torch, name, fn, at, spec, upstream)
        if name == "float32":
            for a, b in zip(ours, theirs, strict=True):
                assert a == b or abs(a - b) <= 16 * 2**-23 * abs(b), (fn, at, spec, upstream)
        else:
            assert hexes(ours) == hexes(theirs), (fn, at, spec, upstream)
    assert compared >= 50


# ---------------------------------------------------------------------------
# FP8: stored in FP8, computed in float32


def fp8_model(name, local, block, upstream):
    """The README's FP8 model, written again in exact arithmetic: operands and each layer's
    gradient rounded into FP8 (round_into), products and sums rounded to float32 by struct."""
    fmt = BY_NAME[name]

    def f8(v):
        if isinstance(v, float) and not math.isfinite(v):
            return v
        r, _ = round_into(fmt, F(v))
        return F(r) if not isinstance(r, str) else float(r)

    def f32(v):
        try:
            return F(struct.unpack("f", struct.pack("f", float(v)))[0])
        except (OverflowError, ValueError):
            return float(v) if not isinstance(v, F) else math.copysign(math.inf, v)

    g = f8(upstream)
    out = [g]
    for (a, b), d in reversed(list(zip(block.coefficients(len(local)), local, strict=True))):
        d8 = f8(d)
        branch = f32(g * d8) if b == 1 else f32(f32(g * f8(b)) * d8)
        total = branch if a == 0 else f32((g if a == 1 else f32(g * f8(a))) + branch)
        g = f8(total)
        out.append(g)
    return [float(v) for v in reversed(out)]


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2"])
def test_fp8_pass_is_fp8_storage_with_float32_arithmetic(name):
    rng = random.Random(name)
    words = ["0.1", "-0.3", "1.7", "0.01", "3", "0.999", "1/3", "0.5"]
    specs = ["plain", "residual", "scaled:0.5", "rezero:0.1", "highway:0.3"]
    for _ in range(200):
        local = [F(rng.choice(words)) for _ in range(rng.randint(1, 12))]
        block = parse_block(rng.choice(specs))
        upstream = F(rng.choice(["1", "-4", "0.01", "300", "0.1"]))
        ours = backward_pass(BY_NAME[name], local, block.coefficients(len(local)), upstream).values
        assert list(ours) == fp8_model(name, local, block, upstream), (block.spec, local, upstream)


def test_e4m3fn_clamps_in_the_pass_and_says_so():
    """float8_e4m3fn has no infinity: a gradient past 464 is clamped to 448 and marked
    saturated (lost), not normal."""
    from skipcalc import api

    r = api.chain(0.3, layers=48, residual=True, dtype="float8_e4m3fn")
    d = r.network("residual").dtypes[0]
    assert d.computed[0] == 448.0 and d.computed_status[0] == "saturated"
    assert d.computed_loss_scale is None  # no scale keeps a clamped pass exact


# ---------------------------------------------------------------------------
# Loss-scale windows at their edges


def window(name, values):
    values = [F(v) for v in values]
    return stored_window(BY_NAME[name], extremes(values, [float(v) for v in values]))


def test_the_issues_boundary_cases():
    """65519 and 1 in float16: a scale of 1 keeps both normal (65519 rounds to 65504), 2 does
    not. 8191/2^27 in float8_e4m3fn: 256 times it rounds up to 2^-6, the smallest normal."""
    w = window("float16", [65519, 1])
    assert (w.lowest, w.highest) == (-14, 0)
    e4 = window("float8_e4m3fn", [F(8191, 2**27), 1])
    assert e4.works and e4.lowest == 8 and e4.highest == 8


@given(st.sampled_from([f.name for f in FORMATS if f.name != "float64"]), st.lists(st.fractions(), min_size=1))
def test_a_window_keeps_every_gradient_normal_and_finite(name, values):
    """At each end of the window every nonzero S*g stores normal and finite; one power past
    either end, some does not."""
    values = [v for v in values if v]
    fmt = BY_NAME[name]
    w = window(name, values)
    if not values:
        assert w is None
        return

    def fine(k):
        states = store(fmt, [v * F(2) ** k for v in values])[1]
        return all(s == "normal" for s in states)

    if w.works:
        assert fine(w.lowest) and fine(w.highest)
    assert not fine(w.lowest - 1) and not fine(w.highest + 1)


def test_gradscaler():
    f16 = BY_NAME["float16"]
    down = gradscaler(Window(-14, -3), f16)
    assert (down.settles, down.skipped, down.growth_steps, down.works) == (-3, 19, 0, True)
    up = gradscaler(Window(20, 30), f16)
    assert (up.settles, up.skipped, up.growth_steps, up.works) == (30, 0, 8000, True)
    inside = gradscaler(Window(13, 20), f16)
    assert (inside.settles, inside.skipped, inside.growth_steps) == (20, 0, 0)
    too_wide = gradscaler(Window(25, 16), f16)
    assert (too_wide.settles, too_wide.works) == (16, False)
    assert gradscaler(Window(-100, 300), BY_NAME["bfloat16"]).settles == 127  # a float32 scale
    assert gradscaler(Window(0, 8), BY_NAME["float8_e4m3fn"]).blind


# ---------------------------------------------------------------------------
# The command line


def test_dtype_json(run):
    data = json.loads(run("chain", "0.1", "--layers", "8", "--residual", "--dtype", "float16", "--format", "json").ok)
    d = data["residual"]["dtype"]
    assert d["computed"][0] == "2.142578125" and d["stored"][0] == "2.14453125"
    for key in ("stored", "status", "loss_scale", "computed", "computed_status", "relative_error"):
        assert len(d[key]) == 9 if key not in ("loss_scale",) else d[key] is not None
    assert d["loss_scale"]["lowest_power_of_two"] == -14 and d["loss_scale"]["highest_power_of_two"] == 14
    assert d["computed_loss_scale"]["lowest_power_of_two"] == -10
    assert d["gradscaler"] == {
        "initial": 65536,
        "settles_at": "16384",
        "skipped_steps": 2,
        "growth_steps": 0,
        "works": True,
        "sees_overflow": True,
    }
    error = F(d["relative_error"][0])  # a decimal, correctly rounded
    assert "/" not in d["relative_error"][0]
    assert abs(error - abs(F(2.142578125) - F(11, 10) ** 8) / (F(11, 10) ** 8)) < F(1, 10**30)
    assert data["exact"] is False  # the relative errors do not terminate


def test_backprop_dtype_loses_what_float16_cannot_hold(run):
    data = json.loads(
        run(*"backprop 1.0001 -0.5 1e-9 --loss-grad 1e4 --plain --dtype float16 --format json".split()).ok
    )
    d = data["plain"]["dtype"]
    assert d["computed"][0] == "0" and d["computed_status"][0] == "zero"
    assert float(d["stored"][0]) == pytest.approx(-5.0068e-6, rel=1e-3)


def test_boundary_case_from_the_command_line(run):
    data = json.loads(run("chain", "65519", "--plain", "--dtype", "float16", "--format", "json").ok)
    scale = data["plain"]["dtype"]["loss_scale"]
    assert scale["highest"] == "1" and scale["highest_power_of_two"] == 0
    e4 = json.loads(run("chain", "8191/134217728", "--plain", "--dtype", "float8_e4m3fn", "--format", "json").ok)
    assert e4["plain"]["dtype"]["loss_scale"]["lowest"] == "256"


def test_several_formats_in_one_call(run):
    data = json.loads(run("chain", "0.3", "--layers", "4", "--dtype", "all", "--dtype", "fp16", "--format", "json").ok)
    names = [d["name"] for d in data["plain"]["dtypes"]]
    assert names == [f.name for f in FORMATS]  # all, then fp16 again: each once, in order
    data = json.loads(run("chain", "0.3", "--dtype", "half", "--dtype", "bf16", "--format", "json").ok)
    assert [d["name"] for d in data["residual"]["dtypes"]] == ["float16", "bfloat16"]
    assert data["residual"]["dtype"]["name"] == "float16"


def test_the_48_layer_question_reads_in_one_screen(run):
    """The README's question: 48 layers of about 0.3 in float16, do I need loss scaling?"""
    out = run("chain", "0.3", "--layers", "48", "--dtype", "float16", "--no-plot").ok
    verdict = out[out.index("In low precision") : out.index("Derivation")]
    assert "from dL/dx48 = 1 (assumed;" in verdict
    assert "plain     lost at x_33..x_0; subnormal at x_39..x_34;" in verdict
    assert "no loss scale keeps them all" in verdict
    assert "loss scale 2^-14 … 2^-3 as stored," in verdict
    assert "GradScaler's 2^16 overflows; it is at 2^-3 after 19 skipped steps" in verdict
    assert len(verdict.splitlines()) <= 15 and max(map(len, verdict.splitlines())) <= 80


def test_verdict_names_the_upstream_gradient_given(run):
    out = run("backprop", "0.1", "0.1", "--target", "10", "--pred", "8", "--dtype", "bfloat16").ok
    assert "In low precision, from dL/dx2 = -4:" in out
    assert "assumed" not in out


def test_dtype_is_refused_where_it_would_be_ignored(run):
    ran = run("chain", "0.1", "--dtype", "float16", "--format", "value")
    assert ran.code == 2 and ran.out == "" and "--dtype: applies only with" in ran.err


def test_work_is_refused_up_front(run):
    ran = run("chain", "-1", "--layers", "2000000", "--dtype", "float16")
    assert ran.code == 2 and "backward steps in low precision" in ran.err and ran.out == ""


# ---------------------------------------------------------------------------
# Measured gradients


def test_precision_api_takes_a_list_or_an_array():
    from skipcalc import precision

    r = precision([3e-3, 2e-5, 4e-8, 1e-9], dtype="all")
    assert [d.format for d in r.formats] == [f.name for f in FORMATS]
    assert r.lost("float16") == [4] and r.subnormal("float16") == [2, 3]
    assert r.lost("float8_e4m3fn") == [2, 3, 4]
    numpy = pytest.importorskip("numpy")
    same = precision(numpy.array([3e-3, 2e-5, 4e-8, 1e-9]))
    assert same.headline == precision([3e-3, 2e-5, 4e-8, 1e-9]).headline == [16, 24, -96, 136]
    with pytest.raises(ValueError, match="format: 'float8' is not one of these"):
        r.format("float8")


def test_precision_command(run, tmp_path):
    out = run("precision", "3e-3", "2e-5", "4e-8", "1e-9").ok
    assert "float16   lost at layer 4; subnormal at layers 2-3;" in out
    assert "loss scale 2^16 … 2^24;" in out and "GradScaler's 2^16 works from the start, and climbs to 2^24" in out
    assert run("precision", "-", "--format", "value", input="3e-3 2e-5\n4e-8\n1e-9\n").ok == "16\t24\t-96\t136\n"
    data = json.loads(run("precision", "1e-9", "70000", "--dtype", "float16", "--format", "json").ok)
    assert data["dtype"]["lost_layers"] == [1, 2] and data["dtype"]["loss_scale"] is None
    assert data["dtype"]["loss_scale_short_by"] >= 1 and "bfloat16" in data["dtype"]["held_by"]
    csv_file = tmp_path / "grads.csv"
    csv_file.write_text("step,layer,grad_norm\n1,1,0.5\n2,2,\n3,3,1e-9\n")
    data = json.loads(run("precision", "--csv", str(csv_file), "--column", "Grad_Norm", "--format", "json").ok)
    assert data["column"] == "grad_norm" and data["gradients"] == ["0.5", "1e-9"]  # the empty cell skipped
    rows = run("precision", "--csv", "-", "--column", "grad_norm", "--format", "csv", input=csv_file.read_text()).ok
    assert rows.splitlines()[0] == "layer,gradient,float16,float16_status,bfloat16,bfloat16_status"
    assert rows.splitlines()[2] == "2,1e-9,0,zero,9.968061931431293487548828125e-10,normal"


@pytest.mark.parametrize(
    "args, message",
    [
        (["precision"], "G: give the gradients"),
        (["precision", "nan"], "G1: 'nan' is not a number"),
        (["precision", "--csv", "missing.csv", "--column", "g"], "--csv missing.csv: cannot read it"),
        (["precision", "--column", "g"], "--column: applies only with --csv"),
        (["precision", "--csv", "x.csv"], "--column: give the CSV column"),
        (["precision", "1", "--dtype", "float17"], "--dtype"),
    ],
)
def test_precision_refusals(run, args, message):
    ran = run(*args)
    assert ran.code == 2 and ran.out == "" and message in ran.err and len(ran.err.splitlines()) == 1


def test_precision_csv_names_a_bad_line_and_a_missing_column(run):
    ran = run("precision", "--csv", "-", "--column", "b", input="a,b\n1,2\n3,x\n")
    assert ran.code == 2 and "--csv stdin line 3, b: 'x' is not a number" in ran.err
    ran = run("precision", "--csv", "-", "--column", "gradnorm", input="grad_norm\n1\n")
    assert ran.code == 2 and "did you mean grad_norm?" in ran.err


# ---------------------------------------------------------------------------
# depth's thresholds for the networks shown


def test_depth_thresholds_are_for_the_blocks_shown(run):
    out = run("depth", "--local", "0.5", "--block", "residual", "--block", "scaled:0.5", "--no-plot").ok
    limits = out[out.index("first depth n where") :]
    assert "plain" not in limits.split("Subnormal:")[0]
    header = limits.split("┡")[0]
    assert "residual" in header and "overflows" in header and "scaled:0.5" in header
    out = run("depth", "--local", "0.5", "--no-plot").ok
    header = out[out.index("first depth n where") :].split("┡")[0]
    assert "plain" in header and "subnormal" in header and "residual" in header
    assert "at depth 20" in out  # one space, not two
    data = json.loads(
        run("depth", "--local", "0.5", "--block", "plain", "--block", "scaled:0.5", "--format", "json").ok
    )
    plain, scaled = data["blocks"]
    assert (plain["below_float16_at"], plain["zero_float16_at"], plain["above_float16_at"]) == (15, 25, None)
    assert data["summary"]["plain_below_float16_at"] == 15  # the keys that exist stay
    assert (scaled["below_float16_at"], scaled["above_float16_at"]) == (None, None)  # (0.5 + 0.5)^n = 1


def test_dtype_csv_has_every_format_and_reads_back(run):
    import csv
    import io

    text = run(
        "chain", "0.1", "--layers", "8", "--residual", "--dtype", "float16", "--dtype", "bf16", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(text.ok)))
    assert len(rows) == 8
    first = rows[0]
    assert first["residual_pass"] == first["residual_float16_computed"] == "2.142578125"
    assert first["residual_stored"] == first["residual_float16_stored"] == "2.14453125"
    assert first["residual_bfloat16_status"] == "normal" and float(first["residual_bfloat16_computed"]) == 2.15625


def test_a_csv_file_of_norms_is_read_in_its_layer_order(tmp_path):
    """The layer column orders the rows (a hook writes the last layer first)."""
    from conftest import run_script

    norms = ["0.15423", "0.16152", "0.17018", "0.18301", "0.20573", "0.23094", "0.28316", "0.60771"]
    rows = "".join(f"{i},{g}\n" for i, g in reversed(list(enumerate(norms, 1))))
    (tmp_path / "grads.csv").write_text("layer,grad_norm\n" + rows)
    result = run_script(f"cd {tmp_path} && skipcalc precision --csv grads.csv --column grad_norm --format json")
    assert result.returncode == 0 and '"0.15423"' in result.stdout.split("gradients")[1].split("]")[0].split(",")[0]


def test_precision_draws_its_chart(tmp_path):
    """Each layer's |G| against each format's smallest subnormal, smallest normal and largest."""
    from conftest import skipcalc

    import skipcalc as api

    figure = api.precision([3e-3, 2e-5, 4e-8, 1e-9]).plot()
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "|G|, the measured gradient" in labels and "float16: smallest normal" in labels
    ran = skipcalc("precision", "3e-3", "2e-5", "--save", str(tmp_path / "p.png"), "--format", "value")
    assert ran.code == 0 and (tmp_path / "p.png").stat().st_size > 10_000
