"""Which modules of a model are its residual blocks, and what each block's skip is.

Found automatically where the model keeps a ModuleList or Sequential of blocks of one class
whose input and output shapes match (the longest such run; ResNet's stages, whose first block
changes the shape, are taken whole when their blocks are of one class); or given by name or
pattern ("blocks.*", "layer1.*", "h.0"). A block's skip is found by what it does with its
linear and convolution weights set to 0: it returns its input (identity), its input normalized
(normalized: post-LN), or neither (none); a child named downsample, shortcut or skip that maps
the input to the output's shape is a projection.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import InputError

SHORTCUT_NAMES = ("downsample", "shortcut", "skip", "proj_skip", "residual_proj")


@dataclass
class Found:
    name: str
    module: Any
    skip: str = "identity"
    shortcut: str | None = None  # the projection's name inside the block


def choose(model: Any, blocks: Sequence[str] | str | None) -> tuple[list[Found], str]:
    """The blocks to probe, in the order the model holds them, and why these."""
    named = dict(model.named_modules())
    if blocks is None:
        return _automatic(model)
    patterns = [blocks] if isinstance(blocks, str) else list(blocks)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise InputError(f"blocks: {blocks!r} is not accepted; expected module names or patterns such as 'blocks.*'")
    chosen: list[Found] = []
    for pattern in patterns:
        matched = [
            name
            for name in named
            if name and fnmatch.fnmatchcase(name, pattern) and name.count(".") == pattern.count(".")
        ]
        if not matched:
            raise InputError(f"blocks: {pattern!r} matches no module of the model; its modules include {_some(named)}")
        chosen += [Found(name, named[name]) for name in matched if all(f.name != name for f in chosen)]
    return chosen, f"the modules named by blocks={patterns}"


def _some(named: dict[str, Any]) -> str:
    tops = [name for name in named if name and "." not in name]
    return ", ".join(tops[:8]) + (" ..." if len(tops) > 8 else "")


def _automatic(model: Any) -> tuple[list[Found], str]:
    from torch import nn

    best: list[tuple[str, Any]] = []
    for prefix, container in model.named_modules():
        if not isinstance(container, (nn.ModuleList, nn.Sequential)):
            continue
        children = list(container.named_children())
        run: list[tuple[str, Any]] = []
        for name, child in children:
            if run and type(child) is not type(run[-1][1]):
                best = max(best, run, key=len)
                run = []
            if list(child.parameters()):
                run.append((f"{prefix}.{name}" if prefix else name, child))
        best = max(best, run, key=len)
    stages = _stages(model)
    if len(stages) > len(best):
        best = stages
    if len(best) < 2:
        raise InputError(
            "blocks: no ModuleList or Sequential of two or more blocks of one class was found; "
            "name them, e.g. blocks='layers.*'"
        )
    kind = type(best[0][1]).__name__
    containers = list(dict.fromkeys(name.rpartition(".")[0] or "the model" for name, _ in best))
    where = containers[0] if len(containers) == 1 else f"{containers[0]} ... {containers[-1]}"
    why = f"the {len(best)} {kind} modules of {where}: the longest run of repeated blocks (found automatically)"
    return [Found(name, module) for name, module in best], why


def _stages(model: Any) -> list[tuple[str, Any]]:
    """Consecutive Sequentials of one block class at the top (ResNet's layer1 ... layer4)."""
    from torch import nn

    runs: list[list[tuple[str, Any]]] = [[]]
    kind: type | None = None
    for name, child in model.named_children():
        members = list(child.named_children()) if isinstance(child, nn.Sequential) else []
        classes = {type(m) for _, m in members}
        if len(members) >= 1 and len(classes) == 1 and next(iter(classes)) not in (nn.Conv2d, nn.Linear):
            this = next(iter(classes))
            if kind is not None and this is not kind:
                runs.append([])
            kind = this
            runs[-1] += [(f"{name}.{n}", m) for n, m in members]
        elif runs[-1]:
            runs.append([])
            kind = None
    return max(runs, key=len)


def classify(found: Found, x: Any, call: Any) -> None:
    """Set ``found.skip`` (and its shortcut): what the block does with its linear and
    convolution weights and biases set to 0, on a copy; ``call(module, x)`` runs it."""
    import copy

    import torch
    from torch import nn

    module = found.module
    for name, child in module.named_children():
        if name in SHORTCUT_NAMES and child is not None and list(child.parameters()):
            found.skip, found.shortcut = "projection", name
            return
    zeroed = copy.deepcopy(module)
    with torch.no_grad():
        for child in zeroed.modules():
            if isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                child.weight.zero_()
                if child.bias is not None:
                    child.bias.zero_()
            elif isinstance(child, nn.MultiheadAttention):
                for parameter in child.parameters():
                    parameter.zero_()
        z = 2.5 * x.detach()  # scaled: a normalized sum cannot return it, whatever x's own scale
        try:
            y = call(zeroed, z)
        except Exception:  # noqa: BLE001 - a block that cannot run with zero weights: no skip found
            found.skip = "none"
            return
        if y.shape != z.shape:
            found.skip = "none"
            return
        if torch.allclose(y, z, rtol=1e-5, atol=1e-6 * float(z.abs().max()) + 1e-30):
            found.skip = "identity"
            return
        centred = z - z.mean(dim=-1, keepdim=True)
        normalized = centred / (centred.pow(2).mean(dim=-1, keepdim=True) + 1e-5).sqrt()
        found.skip = "normalized" if torch.allclose(y, normalized, rtol=1e-3, atol=1e-3) else "none"
