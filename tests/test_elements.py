"""skipcalc.precision on gradients given element by element, against PyTorch's own rounding
(Tensor.to: to nearest, ties to even), and precision --csv's layer column."""

from __future__ import annotations

import pytest
from conftest import skipcalc

torch = pytest.importorskip("torch")

import skipcalc as api  # noqa: E402
from skipcalc.core.errors import InputError  # noqa: E402

FORMATS = ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"]


def _layers(seed=0):
    """Gradients spread over many decades, float32 as PyTorch keeps them, with exact ties and
    values at each format's thresholds mixed in."""
    g = torch.Generator().manual_seed(seed)
    layers = []
    for k in range(5):
        spread = torch.exp(torch.randn(4000, generator=g) * 6) * 10.0 ** (-3 * k)
        signs = torch.where(torch.rand(4000, generator=g) < 0.5, -1.0, 1.0)
        layers.append((spread * signs).float())
    edges = []
    for name in FORMATS:
        info = torch.finfo(getattr(torch, name))
        s = info.smallest_normal * info.eps  # the smallest subnormal
        edges += [s / 2, s / 2 * 1.0000001, info.smallest_normal - s / 2, info.max]
        edges += [info.max * 1.01] if info.max * 1.01 < torch.finfo(torch.float32).max else []
    layers.append(torch.tensor(edges, dtype=torch.float64).float())
    return layers


@pytest.mark.parametrize("name", FORMATS)
def test_fractions_equal_pytorchs_rounding(name):
    layers = _layers()
    result = api.precision(layers, dtype=name)
    dtype = getattr(torch, name)
    tiny = torch.finfo(dtype).smallest_normal
    for layer, g in zip(result.layers, layers, strict=True):
        ((_, e),) = layer.stored
        kept = g[g != 0]
        stored = kept.to(dtype).float()
        n = kept.numel()
        assert e.zero * n == int((stored == 0).sum())
        assert e.subnormal * n == int(((stored != 0) & (stored.abs() < tiny) & stored.isfinite()).sum())
        if name == "float8_e4m3fn":  # no infinity: PyTorch's cast gives NaN beyond 464 (448 + half a step)
            assert e.overflow * n == int((kept.abs() >= 464).sum())
        else:
            assert e.overflow * n == int((~stored.isfinite()).sum())


def test_the_window_ends_against_pytorch():
    layers = _layers()[:5]
    result = api.precision(layers, dtype="float16")
    ((_, window),) = result.windows

    def state(power):
        scaled = [(g.double() * 2.0**power).to(torch.float16) for g in layers]
        overflow = any(bool((~s.isfinite()).any()) for s in scaled)
        lost = sum(int((s[g != 0] == 0).sum()) for s, g in zip(scaled, layers, strict=True))
        return overflow, lost

    assert not state(window.highest)[0] and state(window.highest + 1)[0]
    least = state(window.highest)[1]
    assert window.lost * sum(int((g != 0).sum()) for g in layers) == least
    assert state(window.lowest)[1] == least < state(window.lowest - 1)[1]


def test_a_one_dimensional_tensor_is_one_number_per_layer():
    numbers = api.precision(torch.tensor([3e-3, 2e-5, 4e-8, 1e-9]))
    assert numbers.to_dict()["gradients"] == ["0.003", "0.00002", "4e-8", "1e-9"]
    assert numbers.subnormal("float16") == [2, 3]


def test_the_recorder_keeps_each_blocks_input_gradient():
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(32, 32)) for _ in range(6)])
    x = torch.randn(16, 32, requires_grad=True)
    with api.record(model) as recorded:
        model(x).pow(2).mean().backward()
    seen = []
    handles = [m.register_forward_hook(lambda m, a, o: seen.append(a[0])) for m in model]
    out = model(x)
    for h in handles:
        h.remove()
    grads = torch.autograd.grad(out.pow(2).mean(), seen)
    assert all(torch.equal(a, b) for a, b in zip(recorded.gradients(), grads, strict=True))
    result = api.precision(recorded, dtype="float16")
    assert [layer.name for layer in result.layers] == [str(i) for i in range(6)]


def test_bad_elements_are_refused_by_name():
    with pytest.raises(InputError, match="G2: holds inf or NaN"):
        api.precision([torch.ones(3), torch.tensor([1.0, float("nan")])])
    with pytest.raises(InputError, match="G1: empty"):
        api.precision([torch.ones(0), torch.ones(2)])


def test_csv_layer_column_orders_groups_and_elements(tmp_path):
    path = tmp_path / "grads.csv"
    path.write_text("layer,grad\n3,1e-9\n2,4e-8\n1,3e-3\n")
    assert skipcalc("precision", "--csv", str(path), "--column", "grad", "--format", "value").ok == "16\t24\t-96\t136\n"
    two = tmp_path / "two.csv"
    two.write_text("layer,run,grad\n1,a,1e-3\n2,a,1e-9\n1,b,2e-3\n2,b,3e-8\n")
    ran = skipcalc("precision", "--csv", str(two), "--column", "grad")
    assert ran.code == 2 and "layer 1 appears 2 times" in ran.err and ran.out == ""
    picked = skipcalc("precision", "--csv", str(two), "--column", "grad", "--group", "run=b", "--format", "json").ok
    assert '"gradients": ["0.002", "3e-8"]' in picked.replace("\n", "").replace("  ", "")
    elements = skipcalc("precision", "--csv", str(two), "--column", "grad", "--elements", "--dtype", "float16").ok
    assert "layer 2 lose elements" in elements
    ran = skipcalc("precision", "--csv", str(two), "--column", "grad", "--group", "run")
    assert ran.code == 2 and "run holds 2 networks (a, b); pick one with --group run=a" in ran.err
    ran = skipcalc("precision", "--csv", str(two), "--column", "grad", "--group", "run=c")
    assert ran.code == 2 and "it holds a, b" in ran.err
