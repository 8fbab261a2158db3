"""The probe command's declaration (see :mod:`skipcalc.options`): presets and their options,
the model file, the estimators' probes and seed, the float formats. Its own module: the
options of a real model are many, and nothing here imports PyTorch."""

from __future__ import annotations

from .common_options import _ALL_ROWS, FLAG, FORMAT, _charts
from .schema import Argument, Choice, Command, Opt, Text, Whole


def _presets() -> tuple[str, ...]:  # each name list from the module that owns it, imported when read
    from .probing.presets import PRESETS

    return PRESETS


def _activations() -> tuple[str, ...]:
    from .probing.presets import ACTIVATIONS

    return ACTIVATIONS


def _schemes() -> tuple[str, ...]:
    from .core.init import SCHEMES

    return SCHEMES


def _sizes() -> tuple[str, ...]:
    from .probing.presets import SIZES

    return SIZES


_PROBE_DTYPES = ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")

PROBE = Command(
    "probe",
    "Your own network: the note's numbers measured on a real PyTorch model, block by block.",
    "Finds the model's residual blocks and measures each at the actual activations: the branch's local derivative D "
    "(the root mean square singular value of its Jacobian, from random vector-Jacobian products, with a 95% "
    "interval), its largest singular value, the block's 1 + D, how far it moves its input (||F(x)||/||x||) and "
    "whether the input is still there (cos(x_k, x_0)); then the gain from each block's input to the last block's "
    "output through the real network and through the plain counterfactual (every skip removed, at the same "
    "activations), beside the note's products. A preset is built here with random initialisation (nothing is "
    "downloaded); --model FILE.py:FUNCTION runs that file's code, as python FILE.py would, and probes the "
    "(model, inputs) FUNCTION() returns. Needs PyTorch: pip install 'skipcalc[torch]'.",
    (
        Opt(
            "--model",
            Text("FILE.py:FUNCTION"),
            "Probe your own model: runs FILE.py (its code runs, as python FILE.py would) and calls FUNCTION(), "
            "which returns (model, inputs). Nothing is unpickled.",
            keyword="",
        ),
        Opt(
            "--blocks",
            Text("PATTERN"),
            "The blocks: module names or patterns such as 'layers.*' (repeatable; else found automatically).",
            many=True,
            keyword="",
        ),
        Opt(
            "--layers",
            Whole(1, 256, "L"),
            "Blocks of the mlp or transformer preset.",
            keyword="",
            default_text="24 (mlp), 6 (transformer)",
        ),
        Opt(
            "--width",
            Whole(2, 4096),
            "Units of the mlp or transformer preset.",
            keyword="",
            default_text="256 (mlp), 128 (transformer)",
        ),
        Opt(
            "--act",
            Choice(_activations, "an activation"),
            "The mlp preset's activation.",
            default="tanh",
            keyword="",
        ),
        Opt(
            "--block",
            Choice(("plain", "residual"), "a block", metavar="KIND"),
            "The mlp preset's layers: plain W act(x) + b, or residual x + W act(x) + b.",
            default="residual",
            keyword="",
        ),
        Opt(
            "--init",
            Choice(_schemes, "an initialisation", metavar="KIND"),
            "The mlp preset's initialisation: PyTorch's nn.Linear default, he, xavier or lecun (as meanfield --init).",
            default="pytorch",
            keyword="",
        ),
        Opt("--heads", Whole(1, 64), "Attention heads of the transformer preset.", default=4, keyword=""),
        Opt(
            "--norm",
            Choice(("pre", "post"), "a LayerNorm placement", metavar="WHERE"),
            "The transformer preset's LayerNorm: pre (norm_first) or post.",
            default="pre",
            keyword="",
        ),
        Opt(
            "--size",
            Choice(_sizes, "a GPT-2 size", metavar="SIZE"),
            "The gpt2 preset: tiny (4 layers, width 256) or small (GPT-2 small, 124 M parameters).",
            default="tiny",
            keyword="",
        ),
        Opt("--zero-init-residual", FLAG, "The resnet presets' last BatchNorm of each block starts at 0.", keyword=""),
        Opt(
            "--samples",
            Whole(1, 1024),
            "The preset's batch size.",
            keyword="",
            default_text="128 (mlp), 8 (transformer, resnet), 2 (gpt2)",
        ),
        Opt(
            "--tokens",
            Whole(2, 1024, "T"),
            "Tokens per sample of the transformer and gpt2 presets.",
            keyword="",
            default_text="32 (transformer), 64 (gpt2)",
        ),
        Opt("--image-size", Whole(32, 512, "S"), "Image side of the resnet presets.", default=64, keyword=""),
        Opt("--probes", Whole(2, 1024), "Random vectors per estimate.", default=16, keyword=""),
        Opt(
            "--seed",
            Whole(0, 2**63 - 1, "K"),
            "The random seed (initialisation, inputs and probes).",
            default=0,
            keyword="",
        ),
        Opt(
            "--dtype",
            Choice(
                _PROBE_DTYPES, "a float format", {"fp16": "float16", "half": "float16", "bf16": "bfloat16"}, "FORMAT"
            ),
            "Also count each gradient element by element in a float format: float16, bfloat16 (stored, and "
            "computed by PyTorch), float8_e4m3fn, float8_e5m2 (stored); repeatable.",
            many=True,
            keyword="",
        ),
        Opt(
            "--mode",
            Choice(("cast", "autocast"), "a low-precision mode", metavar="MODE"),
            "How --dtype's pass runs: cast (a copy of the model cast whole, as model.half()) or autocast.",
            default="cast",
            requires="--dtype",
            keyword="",
        ),
        *_charts(),
        _ALL_ROWS,
        FORMAT,
    ),
    Argument(
        "PRESET",
        "mlp, transformer, gpt2, resnet18 or resnet50 (or --model FILE.py:FUNCTION).",
        "preset",
        Choice(_presets, "a preset"),
    ),
    example="skipcalc probe mlp --layers 24 --act tanh --block residual",
)
