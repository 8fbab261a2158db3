"""One recorded forward pass: the model run once with forward hooks on the chosen blocks,
keeping each block's first call's arguments and output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.errors import InputError
from .blocks import Found


def first_tensor(value: Any) -> Any:
    """A block's or model's output tensor: itself, the first of a tuple, or a dict's logits."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict) or hasattr(value, "keys"):
        for key in ("logits", "last_hidden_state", "out"):
            if key in value:
                return value[key]
        value = list(value.values())
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    raise InputError(f"model: an output of type {type(value).__name__} holds no tensor to probe")


class Recorder:
    """Forward hooks on the chosen blocks: each block's first call's arguments and output."""

    def __init__(self, torch: Any, chosen: list[Found]) -> None:
        self.calls: dict[str, tuple[tuple[Any, ...], dict[str, Any], Any]] = {}
        self.handles = [
            found.module.register_forward_hook(self._hook(found.name), with_kwargs=True) for found in chosen
        ]

    def _hook(self, name: str) -> Callable[..., None]:
        def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
            if name not in self.calls:
                self.calls[name] = (args, kwargs, output)

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def run_model(torch: Any, model: Any, inputs: tuple[Any, ...], chosen: list[Found]) -> tuple[Any, Recorder]:
    recorder = Recorder(torch, chosen)
    try:
        with torch.enable_grad():
            output = first_tensor(model(*inputs))
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - the user's model: its error, named, in one line
        raise InputError(f"model: the forward pass raised {type(error).__name__}: {first_line(error)}") from None
    finally:
        recorder.close()
    missing = [found.name for found in chosen if found.name not in recorder.calls]
    if missing:
        raise InputError(f"blocks: {missing[0]} was not called in the forward pass")
    return output, recorder


def first_line(error: BaseException) -> str:
    """An error's first line, at most 200 characters: the user's code's own words, in one line."""
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def block_input(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    import torch

    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value
    raise InputError(f"blocks: {name} takes no floating-point tensor to probe")
