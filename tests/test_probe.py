"""skipcalc probe against PyTorch itself: tiny models (width <= 16) whose full Jacobians
torch.autograd.functional.jacobian forms, and PyTorch's own float16/bfloat16 passes."""

from __future__ import annotations

import copy
import json
import math
import textwrap

import pytest
from conftest import run_script, skipcalc

torch = pytest.importorskip("torch")  # CI installs the torch extra; see the README
nn = torch.nn

import skipcalc as api  # noqa: E402
from skipcalc.core.errors import InputError  # noqa: E402


class Residual(nn.Module):
    def __init__(self, width: int, act: type = nn.Tanh, zero: bool = False) -> None:
        super().__init__()
        self.act, self.linear = act(), nn.Linear(width, width)
        if zero:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x):
        return x + self.linear(self.act(x))


class Plain(Residual):
    def forward(self, x):
        return self.linear(self.act(x))


class Stack(nn.Module):
    def __init__(self, blocks) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def _tiny(kind=Residual, layers=4, width=8, samples=3, seed=1, **kw):
    torch.manual_seed(seed)
    model = Stack([kind(width, **kw) for _ in range(layers)]).double()
    return model, torch.randn(samples, width, dtype=torch.float64)


def _jacobian(function, x):
    """The full Jacobian, (out elements) x (in elements)."""
    j = torch.autograd.functional.jacobian(function, x)
    return j.reshape(math.prod(function(x).shape), x.numel())


def _inputs_of(model, x):
    found = []
    handles = [b.register_forward_hook(lambda m, a, o: found.append(a[0].detach())) for b in model.blocks]
    model(x)
    for h in handles:
        h.remove()
    return found


def test_estimates_against_full_jacobians():
    model, x = _tiny()
    result = api.probe(model, x, probes=64, seed=3)
    xs = _inputs_of(model, x)
    for k, (block, measured) in enumerate(zip(model.blocks, result.blocks, strict=True)):
        branch = _jacobian(lambda v, b=block: b(v) - v, xs[k])
        whole = _jacobian(block, xs[k])
        n = branch.shape[0]
        rms_branch = math.sqrt(float((branch**2).sum()) / n)
        rms_block = math.sqrt(float((whole**2).sum()) / n)
        assert measured.branch_gain.low <= rms_branch <= measured.branch_gain.high
        assert measured.block_gain.low <= rms_block <= measured.block_gain.high
        # σ_max per sample (the Jacobian is block-diagonal over the batch), the largest
        width = xs[k].shape[1]
        per_sample = [
            float(torch.linalg.matrix_norm(branch[s * width : (s + 1) * width, s * width : (s + 1) * width], ord=2))
            for s in range(xs[k].shape[0])
        ]
        assert measured.branch_sigma_max == pytest.approx(max(per_sample), rel=0.01)
        # forward measures, to 1e-6
        y = block(xs[k]).detach()
        update = (y - xs[k]).norm() / xs[k].norm()
        assert measured.relative_update == pytest.approx(float(update), rel=1e-6)
        cos = torch.nn.functional.cosine_similarity(y, xs[0], dim=1).mean()
        assert measured.cos_input == pytest.approx(float(cos), rel=1e-6)
    # the gains from each block's input to the last output: products of the full Jacobians
    real, plain = None, None
    for k in range(len(xs) - 1, -1, -1):
        block = model.blocks[k]
        j, f = _jacobian(block, xs[k]), _jacobian(lambda v, b=block: b(v) - v, xs[k])
        real = j if real is None else real @ j
        plain = f if plain is None else plain @ f
        n = real.shape[0]
        measured = result.blocks[k]
        assert measured.gain_residual.low <= math.sqrt(float((real**2).sum()) / n) <= measured.gain_residual.high
        assert measured.gain_plain.low <= math.sqrt(float((plain**2).sum()) / n) <= measured.gain_plain.high


def test_zero_branches_give_exactly_zero_and_one():
    model, x = _tiny(zero=True)
    result = api.probe(model, x)
    for block in result.blocks:
        assert (block.branch_gain.estimate, block.branch_gain.low, block.branch_gain.high) == (0, 0, 0)
        assert (block.block_gain.estimate, block.block_gain.low, block.block_gain.high) == (1, 1, 1)
        assert block.relative_update == 0 and block.skip == "identity"
        assert block.gain_residual.estimate == 1 and block.gain_plain.estimate == 0


def test_a_seed_repeats_exactly_and_the_model_is_left_as_it_was():
    model, x = _tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first, second = api.probe(model, x, seed=5), api.probe(model, x, seed=5)
    assert first.to_dict() == second.to_dict()
    assert api.probe(model, x, seed=6).to_dict() != first.to_dict()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_plain_blocks_have_no_skip_and_a_gradient_given_is_measured():
    model, x = _tiny(kind=Plain)
    upstream = torch.randn(3, 8, dtype=torch.float64)
    result = api.probe(model, x, upstream=upstream)
    assert {b.skip for b in result.blocks} == {"none"}
    # the actual gradient at the first block's input, by autograd on the whole model
    x0 = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(model(x0), x0, upstream)
    assert result.blocks[0].gradient == pytest.approx(float(g.norm()), rel=1e-12)
    assert result.upstream == "the upstream gradient given"


def test_mlp_preset_measures_close_to_mean_field():
    result = api.probe(api.preset("mlp", layers=12, width=256, samples=64))
    first = result.blocks[0]
    assert first.predicted is not None and result.predicted_from.startswith("mean-field theory")
    assert first.gain_residual.estimate == pytest.approx(first.predicted, rel=0.1)
    assert first.gain_plain.estimate < 0.01 < 1 < first.gain_residual.estimate


@pytest.mark.parametrize("norm, skip", [("pre", "identity"), ("post", "normalized")])
def test_transformer_skips_are_found(norm, skip):
    result = api.probe(api.preset("transformer", layers=2, width=16, heads=2, tokens=5, samples=2))
    assert result.blocks[0].skip == "identity"
    result = api.probe(api.preset("transformer", layers=2, width=16, heads=2, tokens=5, samples=2, norm=norm))
    assert {b.skip for b in result.blocks} == {skip}
    assert all(b.token_cosine is not None and b.branch_sigma_max is not None for b in result.blocks)


def test_resnet_downsampling_blocks_name_their_shortcut():
    result = api.probe(api.preset("resnet18", image_size=32, samples=2), probes=4)
    kinds = {b.name: (b.skip, b.shortcut) for b in result.blocks}
    assert kinds["layer2.0"] == ("projection", "downsample") and kinds["layer1.0"] == ("identity", None)
    assert result.batchnorm == "train" and len(result.blocks) == 8


# ---------------------------------------------------------------------------
# Low precision, against PyTorch's own rounding and passes


def _mlp(width=16, layers=6, scale=1.0, plain=False):
    torch.manual_seed(0)
    model = Stack([(Plain if plain else Residual)(width) for _ in range(layers)])
    with torch.no_grad():
        for block in model.blocks:
            block.linear.weight.mul_(scale)
    return model, torch.randn(32, width)


def _block_input_grads(model, x, upstream, dtype=None, parameters=False):
    """PyTorch's gradients at each block's input (and the blocks' parameters), in float32 or
    in a copy of the model cast whole to ``dtype``."""
    twin = model if dtype is None else copy.deepcopy(model).to(dtype)
    x = (x if dtype is None else x.to(dtype)).clone().requires_grad_()
    found = []
    handles = [b.register_forward_hook(lambda m, a, o: found.append(a[0])) for b in twin.blocks]
    out = twin(x)
    for h in handles:
        h.remove()
    g_out = upstream if dtype is None else upstream.to(dtype)
    return torch.autograd.grad(out, found + (list(twin.blocks.parameters()) if parameters else []), g_out)


@pytest.mark.parametrize(
    "case",
    [dict(scale=1.0), dict(scale=0.05, plain=True), dict(scale=30.0, plain=True)],
    ids=["residual", "lost", "overflow"],
)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fractions_equal_pytorchs_own(case, dtype):
    model, x = _mlp(**case)
    upstream = torch.randn(32, 16) * 1e-3
    result = api.probe(model, x, upstream=upstream, dtypes=[dtype])
    reference = _block_input_grads(model, x, upstream)
    computed = _block_input_grads(model, x, upstream, getattr(torch, dtype))
    fmt = getattr(torch, dtype)
    tiny = torch.finfo(fmt).tiny
    for block, g, c in zip(result.blocks, reference, computed, strict=True):
        ((name, low),) = block.dtypes
        nonzero = g != 0
        n = int(nonzero.sum())
        stored = g.to(fmt)[nonzero]
        assert low.stored.zero * n == int((stored == 0).sum())
        assert low.stored.subnormal * n == int(((stored != 0) & (stored.abs() < tiny) & stored.isfinite()).sum())
        kept = c[nonzero]
        assert low.computed.zero * n == int((kept == 0).sum())
        assert low.computed.overflow * n == int((~kept.isfinite()).sum())


def test_the_loss_scale_window_ends_against_pytorch():
    model, x = _mlp(scale=0.05, plain=True)
    upstream = torch.randn(32, 16) * 1e-3
    result = api.probe(model, x, upstream=upstream, dtypes=["float16"])
    ((_, window),) = result.windows
    assert window.lowest is not None and window.lowest <= window.highest

    reference = _block_input_grads(model, x, upstream, parameters=True)

    def state(power):
        scaled = upstream.double().mul(2.0**power)  # cast into float16 once, as the probe's pass does
        grads = _block_input_grads(model, x, scaled, torch.float16, parameters=True)
        overflow = any(bool((~g.isfinite()).any()) for g in grads)
        lost = sum(int((g[r != 0] == 0).sum()) for g, r in zip(grads, reference, strict=True))
        return overflow, lost

    assert not state(window.highest)[0] and state(window.highest + 1)[0]
    least = state(window.highest)[1]
    assert state(window.lowest)[1] == least < state(window.lowest - 1)[1]


# ---------------------------------------------------------------------------
# The command line


def test_cli_mlp_json_and_value():
    out = skipcalc("probe", "mlp", "--layers", "3", "--width", "16", "--samples", "8", "--format", "json").ok
    data = json.loads(out)
    assert data["command"] == "probe" and len(data["blocks"]) == 3
    first = data["blocks"][0]
    assert set(first["gain"]) == {"residual", "plain"} and set(first["branch_gain"]) == {"estimate", "low", "high"}
    value = skipcalc("probe", "mlp", "--layers", "3", "--width", "16", "--samples", "8", "--format", "value").ok
    residual, plain = map(float, value.split("\t"))
    assert residual == first["gain"]["residual"]["estimate"] and plain == first["gain"]["plain"]["estimate"]


def test_cli_table_fits_80_columns():
    out = skipcalc("probe", "mlp", "--layers", "3", "--width", "16", "--samples", "8", "--dtype", "float16").ok
    assert max(map(len, out.splitlines())) <= 80
    assert "gradient keeps" in out and "float16, the model cast whole" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["probe", "mlp", "--heads", "2"], "--heads: applies only to the transformer preset"),
        (["probe", "resnet18", "--layers", "3"], "--layers: applies only to the mlp and transformer presets"),
        (["probe"], "PRESET: give a preset"),
        (["probe", "vgg"], "PRESET: 'vgg' is not a preset"),
        (["probe", "mlp", "--mode", "autocast"], "--mode: applies only with --dtype"),
        (["probe", "mlp", "--blocks", "nothing.*"], "blocks: 'nothing.*' matches no module"),
    ],
)
def test_cli_refusals(args, message):
    ran = skipcalc(*args)
    assert ran.code == 2 and ran.out == "" and message in ran.err and ran.err.count("\n") == 1, ran


def test_python_refusals():
    model, x = _tiny()
    with pytest.raises(InputError, match="probes"):
        api.probe(model, x, probes=1)
    with pytest.raises(InputError, match="inputs: a tensor holds inf"):
        api.probe(model, x * float("inf"))
    with pytest.raises(InputError, match="model: the forward pass raised RuntimeError"):
        api.probe(model, torch.randn(3, 5, dtype=torch.float64))
    with pytest.raises(InputError, match="dtypes: 'float12'"):
        api.probe(model, x, dtypes=["float12"])


def test_a_users_model_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.f = nn.Linear(6, 6)

                def forward(self, x):
                    return x + self.f(torch.relu(x))

            def build():
                torch.manual_seed(0)
                return nn.Sequential(*[Block() for _ in range(3)]), torch.randn(4, 6)
            """
        )
    )
    data = json.loads(skipcalc("probe", "--model", f"{path}:build", "--format", "json").ok)
    assert [b["name"] for b in data["blocks"]] == ["0", "1", "2"]
    ran = skipcalc("probe", "--model", f"{path}:missing")
    assert ran.code == 2 and "has no function missing()" in ran.err


def test_without_torch_probe_says_how_to_install_it(tmp_path):
    script = tmp_path / "without_torch.py"
    script.write_text(
        "import sys\nsys.modules['torch'] = None  # as if PyTorch were not installed\n"
        "from skipcalc.cli.console import main\nsys.argv = ['skipcalc', 'probe', 'mlp']\nmain()\n"
    )
    ran = run_script(f"python {script}")
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr == "skipcalc: error: probe: needs PyTorch: pip install 'skipcalc[torch]'\n"


def test_other_commands_do_not_import_torch():
    ran = run_script("python -X importtime -c 'from skipcalc.cli.console import main' 2>&1 | grep -c torch || true")
    assert ran.stdout.strip() == "0"


def test_with_formats_the_chart_shows_each_blocks_elements_against_the_limits():
    model, x = _mlp(scale=0.05, plain=True)
    figure = api.probe(model, x, upstream=torch.randn(32, 16) * 1e-3, dtypes=["float16"]).plot()
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "median" in labels and "float16: smallest subnormal" in labels
    assert figure.axes[0].get_xlabel().startswith("block")
