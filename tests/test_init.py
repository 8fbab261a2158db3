"""init: the constants against their formulas (and PyTorch's calculate_gain where installed)."""

import importlib.util
import json
import math
from fractions import Fraction as F

import pytest

from skipcalc.core import init


def _float(value):
    return float(value)


@pytest.mark.parametrize("layers", [1, 6, 18, 100, 1000])
def test_deepnorm_one_stack(layers):
    result = init.deepnorm(layers)
    alpha, beta = (c.value for c in result.constants)
    assert _float(alpha) == pytest.approx((2 * layers) ** 0.25, rel=1e-15)
    assert _float(beta) == pytest.approx((8 * layers) ** -0.25, rel=1e-15)


def test_deepnorm_18_layers_is_sqrt_6():
    alpha, beta = init.deepnorm(18).constants
    assert alpha.closed_form == "sqrt(6)" and beta.closed_form == "sqrt(3)/6"
    assert init.deepnorm(8).constants[0].value == 2  # (16)^(1/4): exact


def test_deepnorm_encoder_decoder_and_the_official_codes_beta():
    n, m = 6, 12
    values = {c.name: _float(c.value) for c in init.deepnorm_encoder_decoder(n, m).constants}
    x = (n**4 * m) ** (1 / 16)
    assert values["encoder alpha"] == pytest.approx(0.81 * x, rel=1e-15)
    assert values["encoder beta"] == pytest.approx(0.87 / x, rel=1e-15)
    assert values["encoder beta (code)"] == pytest.approx(1 / (x / 1.15), rel=1e-15)  # torchscale divides by x/1.15
    assert values["decoder alpha"] == pytest.approx((3 * m) ** 0.25, rel=1e-15)
    assert values["decoder beta"] == pytest.approx((12 * m) ** -0.25, rel=1e-15)


@pytest.mark.parametrize("branches, depth", [(16, 2), (54, 3), (8, 4)])
def test_fixup_scale_has_a_negative_exponent(branches, depth):
    (scale,) = init.fixup(branches, depth).constants
    assert _float(scale.value) == pytest.approx(branches ** (-1 / (2 * depth - 2)), rel=1e-15)
    assert init.fixup(16, 2).constants[0].value == F(1, 4)


GAINS = {
    "linear": 1,
    "conv2d": 1,
    "sigmoid": 1,
    "tanh": 5 / 3,
    "relu": math.sqrt(2),
    "selu": 0.75,
    "leaky_relu": math.sqrt(2 / (1 + 0.01**2)),
}


@pytest.mark.parametrize("name", list(GAINS))
def test_gains_are_the_formulas(name):
    assert _float(init.gain(name, None, None, None).constants[0].value) == pytest.approx(GAINS[name], rel=1e-15)


def test_fans_give_kaiming_and_xavier_stds():
    constants = {c.name: _float(c.value) for c in init.gain("relu", None, 512, 256).constants}
    assert constants["kaiming std"] == pytest.approx(math.sqrt(2) / math.sqrt(512), rel=1e-15)
    assert constants["xavier std"] == pytest.approx(math.sqrt(2) * math.sqrt(2 / 768), rel=1e-15)
    slope = init.gain("leaky_relu", F(1, 5), None, None).constants[0]
    assert _float(slope.value) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("name", list(GAINS))
def test_gains_against_pytorch(name):
    import torch

    assert _float(init.gain(name, None, None, None).constants[0].value) == pytest.approx(
        torch.nn.init.calculate_gain(name), rel=1e-15
    )


@pytest.mark.parametrize("layers", [1, 2, 110, 1001])
def test_stochastic_depth_expected_depth(layers):
    result = init.stochastic_depth(layers, F(1, 2))
    assert result.constants[0].value == F(3 * layers - 1, 4)
    assert sum(values[0] for _, values in result.table) == F(3 * layers - 1, 4)


def test_cli_init_formats(run):
    data = json.loads(run("init", "deepnorm", "--layers", "18", "--format", "json").ok)
    assert data["constants"]["alpha"]["closed_form"] == "sqrt(6)" and data["exact"] is False
    assert run("init", "fixup", "--branches", "16", "--branch-depth", "2", "--format", "value").ok == "0.25\n"
    assert run("init", "gain", "tanh", "--format", "csv").ok.splitlines()[1].startswith("gain,")
    assert "Source:" in run("init", "gain", "selu").ok
    assert "Huang et al." in run("init", "stochastic-depth", "--help").ok
