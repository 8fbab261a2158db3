"""skipcalc.record: each block's input gradient from a backward pass, kept for
skipcalc.precision to read element by element (forward hooks on the blocks, found as the
probe finds them; a tensor hook on each block's input)."""

from __future__ import annotations

from typing import Any

from ..core.errors import InputError
from .blocks import choose


class Recording:
    """Each block's input gradient from the backward passes run inside ``with record(model)``
    (the last pass's, kept as float32 copies): give it to :func:`precision`."""

    def __init__(self, model: Any, blocks: Any = None) -> None:
        self.model = model
        found, self.chosen = choose(model, blocks)
        self.names = [f.name for f in found]
        self._modules = [f.module for f in found]
        self._grads: dict[str, Any] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> Recording:
        for name, module in zip(self.names, self._modules, strict=True):
            self._handles.append(module.register_forward_hook(self._forward(name)))
        return self

    def _forward(self, name: str) -> Any:
        def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
            x = next((a for a in args if hasattr(a, "requires_grad") and a.requires_grad), None)
            if x is not None:
                x.register_hook(lambda g: self._grads.__setitem__(name, g.detach().float().cpu().clone()))

        return hook

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def gradients(self) -> list[Any]:
        missing = [n for n in self.names if n not in self._grads]
        if missing:
            raise InputError(
                f"gradients: no gradient reached {missing[0]}; run loss.backward() inside 'with record(model)'"
            )
        return [self._grads[n] for n in self.names]

    def __repr__(self) -> str:
        return f"Recording({len(self._grads)} of {len(self.names)} blocks' input gradients)"
