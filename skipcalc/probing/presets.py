"""Models to probe for people without one at hand, each built here with random initialisation
(nothing is downloaded): an MLP of plain or residual layers, a stack of PyTorch's
TransformerEncoderLayer, GPT-2's shapes with its published initialisation, and ResNet-18/50
(torchvision's when it is installed, else a copy here with torchvision's module names and
initialisation). Each returns ``(model, inputs)`` for one forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core.errors import InputError
from ..core.init import SCHEMES
from .forward import first_line

PRESETS = ("mlp", "transformer", "gpt2", "resnet18", "resnet50")
ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid", "linear", "erf", "softplus")
INITS = SCHEMES
SIZES = ("tiny", "small")

WHOLE = {  # the ranges of the presets' whole-number options (the command line's too)
    "layers": (1, 256),
    "width": (2, 4096),
    "heads": (1, 64),
    "samples": (1, 1024),
    "tokens": (2, 1024),
    "image_size": (32, 512),
    "seed": (0, 2**63 - 1),
}
GPT2_SIZES = {"tiny": (4, 256, 4), "small": (12, 768, 12)}  # layers, width, heads
GPT2_VOCAB, GPT2_CONTEXT = 50257, 1024


@dataclass(frozen=True)
class Built:
    """A preset's model and inputs, what it is in words, and for the mlp the mean-field setting
    (σ_w², σ_b², q_0) its initialisation gives, for the prediction beside the measurement."""

    model: Any
    inputs: tuple[Any, ...]
    description: str
    meanfield: tuple[str, Fraction, Fraction, Fraction, str] | None = None  # act, σ_w², σ_b², q_0, block


def _builder(name: str) -> Any:
    builders = {"mlp": mlp, "transformer": transformer, "gpt2": gpt2, "resnet18": resnet, "resnet50": resnet}
    if name not in builders:
        raise InputError(f"preset: {name!r} is not accepted; expected one of {', '.join(PRESETS)}")
    return builders[name]


def settings_of(name: str) -> tuple[str, ...]:
    """The settings the preset ``name`` takes (its builder's parameters; ``seed`` besides): the
    one list the command line's preset options are checked against too."""
    import inspect

    return tuple(p for p in inspect.signature(_builder(name)).parameters if p not in ("depth", "seed"))


def preset(name: str, **options: Any) -> Built:
    """The preset ``name`` (mlp, transformer, gpt2, resnet18, resnet50) with its options."""
    builder = _builder(name)
    accepted = [*settings_of(name), "seed"]
    for key, value in options.items():
        if key not in accepted:
            raise InputError(f"{key}: not an option of the {name} preset; it takes {', '.join(accepted)}")
        if key in WHOLE:
            low, high = WHOLE[key]
            if type(value) is not int or not low <= value <= high:
                raise InputError(f"{key}: {value!r} is not accepted; expected a whole number from {low} to {high:,}")
    if name.startswith("resnet"):
        options["depth"] = int(name[6:])
    built: Built = builder(**options)
    return built


def _generator(seed: int) -> Any:
    import torch

    return torch.Generator().manual_seed(seed)


def _activation(name: str) -> Any:
    from torch import nn

    table = {
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "sigmoid": nn.Sigmoid,
        "linear": nn.Identity,
        "softplus": nn.Softplus,
        "erf": _erf_module(),
    }
    if name not in table:
        raise InputError(f"act: {name!r} is not accepted; expected one of {', '.join(ACTIVATIONS)}")
    return table[name]()


def _erf_module() -> Any:
    import torch
    from torch import nn

    class Erf(nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.erf(x)

    return Erf


def mlp(
    layers: int = 24,
    width: int = 256,
    act: str = "tanh",
    block: str = "residual",
    init: str = "pytorch",
    samples: int = 128,
    seed: int = 0,
) -> Built:
    """x_k = x_{k-1} + W_k act(x_{k-1}) + b_k (residual, the pre-activation block of the
    mean-field papers and pre-activation ResNets) or x_k = W_k act(x_{k-1}) + b_k (plain), on
    inputs x_0 ~ N(0, 1) of ``width`` units. ``init``: PyTorch's default for nn.Linear
    (uniform, σ_w² = 1/3 and σ_b² = 1/(3·width)), he (normal, σ_w² = 2, biases 0), xavier or
    lecun (normal, σ_w² = 1, biases 0): skipcalc.core.init.variances, as meanfield --init."""
    import torch
    from torch import nn

    if block not in ("plain", "residual"):
        raise InputError(f"block: {block!r} is not accepted; expected plain or residual")
    if init not in INITS:
        raise InputError(f"init: {init!r} is not accepted; expected one of {', '.join(INITS)}")
    generator = _generator(seed)
    torch.manual_seed(seed)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act = _activation(act)
            self.linear = nn.Linear(width, width)

        def forward(self, x: Any) -> Any:
            return self.linear(self.act(x))

    class ResidualBlock(Layer):
        def forward(self, x: Any) -> Any:
            return x + self.linear(self.act(x))

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = ResidualBlock if block == "residual" else Layer
            self.blocks = nn.ModuleList(kind() for _ in range(layers))

        def forward(self, x: Any) -> Any:
            for layer in self.blocks:
                x = layer(x)
            return x

    model: Any = MLP()
    from ..core.init import variances

    weight_var, bias_var = variances(init, width if init == "pytorch" else None)
    with torch.no_grad():
        for layer in model.blocks:
            if init != "pytorch":  # (PyTorch's own default is what nn.Linear made)
                layer.linear.weight.normal_(0, math.sqrt(weight_var / width), generator=generator)
                layer.linear.bias.zero_()
    inputs = (torch.randn(samples, width, generator=generator),)
    description = f"mlp: {layers} {block} layers of width {width}, {act}, {init} initialisation, {samples} samples"
    return Built(model, inputs, description, (act, weight_var, bias_var, Fraction(1), block))


def transformer(
    layers: int = 6,
    width: int = 128,
    heads: int = 4,
    norm: str = "pre",
    tokens: int = 32,
    samples: int = 8,
    seed: int = 0,
) -> Built:
    """A stack of torch.nn.TransformerEncoderLayer (dropout 0, feed-forward 4·width, batch
    first; norm_first for pre-LN) on inputs N(0, 1) of shape (samples, tokens, width)."""
    import torch
    from torch import nn

    if norm not in ("pre", "post"):
        raise InputError(f"norm: {norm!r} is not accepted; expected pre or post")
    if width % heads:
        raise InputError(f"heads: {heads} does not divide the width {width}; give a divisor of it")
    torch.manual_seed(seed)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=norm == "pre"
                )
                for _ in range(layers)
            )

        def forward(self, x: Any) -> Any:
            for layer in self.layers:
                x = layer(x)
            return x

    model = Encoder()
    inputs = (torch.randn(samples, tokens, width, generator=_generator(seed)),)
    description = (
        f"transformer: {layers} {norm}-LN TransformerEncoderLayer of width {width}, {heads} heads, "
        f"{samples} samples of {tokens} tokens"
    )
    return Built(model, inputs, description)


def gpt2(size: str = "tiny", tokens: int = 64, samples: int = 2, seed: int = 0) -> Built:
    """GPT-2's architecture (pre-LN blocks h.0 ... h.{L-1}, causal attention, GELU MLP of 4·width,
    tied embedding) with its published initialisation: normal, std 0.02, and 0.02/√(2L) on each
    block's two output projections; biases 0, LayerNorm 1 and 0. ``small`` is GPT-2 small
    (12 layers, width 768, 12 heads, 124 M parameters); ``tiny`` 4 layers of width 256."""
    import torch

    if size not in GPT2_SIZES:
        raise InputError(f"size: {size!r} is not accepted; expected tiny or small")
    if not 1 <= tokens <= GPT2_CONTEXT:
        raise InputError(f"tokens: {tokens} is not accepted; expected 1 to {GPT2_CONTEXT} (GPT-2's context)")
    layers, width, heads = GPT2_SIZES[size]
    torch.manual_seed(seed)
    model = _gpt2_model(layers, width, heads)
    generator = _generator(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif ".ln" in name or name.startswith("ln_f"):
                parameter.fill_(1.0)
            else:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("c_proj.weight") else 0.02
                parameter.normal_(0, std, generator=generator)
    ids = torch.randint(0, GPT2_VOCAB, (samples, tokens), generator=generator)
    description = (
        f"gpt2 {size}: {layers} pre-LN blocks of width {width}, {heads} heads, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f} M parameters, {samples} samples of {tokens} tokens"
    )
    return Built(model, (ids,), description)


def _gpt2_model(layers: int, width: int, heads: int) -> Any:
    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = nn.Linear(width, 3 * width)
            self.c_proj = nn.Linear(width, width)

        def forward(self, x: Any) -> Any:
            b, t, d = x.shape
            q, k, v = self.c_attn(x).split(d, dim=2)
            q, k, v = (y.view(b, t, heads, d // heads).transpose(1, 2) for y in (q, k, v))
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // heads)
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            y = torch.softmax(scores, dim=-1) @ v
            return self.c_proj(y.transpose(1, 2).reshape(b, t, d))

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc = nn.Linear(width, 4 * width)
            self.c_proj = nn.Linear(4 * width, width)
            self.act = nn.GELU(approximate="tanh")

        def forward(self, x: Any) -> Any:
            return self.c_proj(self.act(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(width), Attention()
            self.ln_2, self.mlp = nn.LayerNorm(width), MLP()

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(GPT2_VOCAB, width)
            self.wpe = nn.Embedding(GPT2_CONTEXT, width)
            self.h = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(width)

        def forward(self, ids: Any) -> Any:
            x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device))
            for block in self.h:
                x = block(x)
            return self.ln_f(x) @ self.wte.weight.T  # the tied language-model head

    return GPT2()


def resnet(
    depth: int = 18, zero_init_residual: bool = False, image_size: int = 64, samples: int = 8, seed: int = 0
) -> Built:
    """ResNet-18 or -50 for 1000 classes (torchvision's, with weights=None, when torchvision is
    installed; else the same network built here), in train mode as at the start of training,
    on inputs N(0, 1) of shape (samples, 3, image_size, image_size)."""
    import torch

    if image_size < 32:
        raise InputError(f"image-size: {image_size} is not accepted; expected 32 or more (ResNet halves it 5 times)")
    torch.manual_seed(seed)
    try:
        import importlib

        torchvision = importlib.import_module("torchvision")
        model = getattr(torchvision.models, f"resnet{depth}")(weights=None, zero_init_residual=zero_init_residual)
        source = "torchvision's"
    except Exception:  # noqa: BLE001 - torchvision is optional (and fails to import beside some torch builds)
        model = _resnet_model(depth, zero_init_residual)
        source = "skipcalc's copy of torchvision's"
    inputs = (torch.randn(samples, 3, image_size, image_size, generator=_generator(seed)),)
    zero = ", zero-init residual" if zero_init_residual else ""
    description = f"resnet{depth} ({source}, train mode{zero}), {samples} images of {image_size}x{image_size}"
    return Built(model.train(), inputs, description)


def _resnet_model(depth: int, zero_init_residual: bool) -> Any:
    """torchvision.models.resnet's ResNet-18/50, with its module names and initialisation."""
    from torch import nn

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes: int, planes: int, stride: int, downsample: Any) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x: Any) -> Any:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes: int, planes: int, stride: int, downsample: Any) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x: Any) -> Any:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    kind: Any = BasicBlock if depth == 18 else Bottleneck
    counts = [2, 2, 2, 2] if depth == 18 else [3, 4, 6, 3]

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._layer(64, counts[0], 1)
            self.layer2 = self._layer(128, counts[1], 2)
            self.layer3 = self._layer(256, counts[2], 2)
            self.layer4 = self._layer(512, counts[3], 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * kind.expansion, 1000)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            if zero_init_residual:
                for m in self.modules():
                    last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else getattr(m, "bn2", None)
                    if isinstance(m, (BasicBlock, Bottleneck)) and last is not None:
                        nn.init.constant_(last.weight, 0)

        def _layer(self, planes: int, blocks: int, stride: int) -> Any:
            downsample = None
            if stride != 1 or self.inplanes != planes * kind.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * kind.expansion, 1, stride, bias=False),
                    nn.BatchNorm2d(planes * kind.expansion),
                )
            layers = [kind(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * kind.expansion
            layers += [kind(self.inplanes, planes, 1, None) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def from_file(spec: str) -> Built:
    """``path/to/file.py:build``: runs the file (as ``python file.py`` would run its code) and
    calls ``build()``, which returns ``(model, inputs)``. Nothing is unpickled."""
    import importlib.util
    import os

    path, _, function = spec.rpartition(":")
    if not path or not function.isidentifier():
        raise InputError(f"model: {spec!r} is not accepted; expected FILE.py:FUNCTION, e.g. mymodel.py:build")
    if not os.path.isfile(path):
        raise InputError(f"model: {path!r} is not a file")
    loader_spec = importlib.util.spec_from_file_location("skipcalc_user_model", path)
    if loader_spec is None or loader_spec.loader is None:
        raise InputError(f"model: {path!r} cannot be loaded as Python")
    module = importlib.util.module_from_spec(loader_spec)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - the user's code: its error, named, in one line
        raise InputError(f"model: running {path} raised {type(error).__name__}: {first_line(error)}") from None
    build = getattr(module, function, None)
    if not callable(build):
        raise InputError(f"model: {path} has no function {function}()")
    try:
        made = build()
    except Exception as error:  # noqa: BLE001
        raise InputError(f"model: {function}() raised {type(error).__name__}: {first_line(error)}") from None
    if not isinstance(made, tuple) or len(made) != 2:
        raise InputError(f"model: {function}() returned {type(made).__name__}; expected (model, inputs)")
    model, inputs = made
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return Built(model, inputs, f"{type(model).__name__} from {os.path.basename(path)}:{function}()")
