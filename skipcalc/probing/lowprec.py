"""Low precision in a real network, element by element.

For each block, the gradient at its input and its parameters' gradients, counted over the
elements that are nonzero in the float32 backward pass:

- stored: the float32 gradient rounded once into the format (to nearest, ties to even, as
  ``Tensor.to`` does): the fractions that become 0, that are stored subnormal, that become ±inf
  or NaN;
- computed: PyTorch's own pass in the format: a deep copy of the model cast whole
  (``mode="cast"``: ``copy.deepcopy(model).to(dtype)``, as ``model.half()`` gives) or float32
  weights under ``torch.autocast`` (``mode="autocast"``), the float inputs cast, and the
  float32 pass's gradient at the output (times the loss scale) cast into the format;
- the loss-scale window: the powers of two S for which the computed pass, run backward from S
  times the gradient at the output, overflows nowhere and loses the fewest elements; found by
  bisection (overflow only grows with S, and the elements lost only shrink), each step one
  backward pass. GradScaler, starting at 2^16 and halving after each overflowing step, settles
  at the window's top or 2^16.

float8 formats are stored only: PyTorch runs no model in them.
"""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

from ..core.elements import magnitudes as array_magnitudes
from ..core.elements import scale_window
from ..core.errors import InputError
from ..core.results import Elements, LowPrecision, ScaleWindow
from .blocks import Found
from .forward import block_input, run_model

COMPUTED = ("float16", "bfloat16")
LOWEST_SCALE, HIGHEST_SCALE = -150, 150  # the powers of two the window is searched over


def elements(torch: Any, rounded: Any, reference: Any) -> Elements:
    """What became of the elements of ``reference`` (float32) that are nonzero, in ``rounded``."""
    mask = reference.reshape(-1) != 0
    count = int(mask.sum())
    if count == 0:
        return Elements(Fraction(0), Fraction(0), Fraction(0))
    kept = rounded.reshape(-1)[mask]
    finite = torch.isfinite(kept)
    tiny = torch.finfo(rounded.dtype).tiny if rounded.dtype.is_floating_point else 0
    zero = int((kept == 0).sum())
    overflow = int((~finite).sum())
    subnormal = int((finite & (kept != 0) & (kept.abs() < tiny)).sum())
    return Elements(Fraction(zero, count), Fraction(subnormal, count), Fraction(overflow, count))


def _stored(torch: Any, g: Any, dtype: Any) -> Elements:
    return elements(torch, g.to(dtype), g)


def _pooled(tensors: list[Any]) -> Any:
    import torch

    return torch.cat([t.reshape(-1) for t in tensors]) if tensors else None


def low_precision(
    torch: Any,
    model: Any,
    inputs: tuple[Any, ...],
    chosen: list[Found],
    xs: list[Any],
    grads: list[Any],
    upstream: Any,
    formats: tuple[str, ...],
    mode: str,
    measured: list[dict[str, Any]],
) -> tuple[tuple[str, ScaleWindow], ...]:
    """Fill each measured block's ``magnitudes`` and ``dtypes``; the loss-scale windows."""
    parameters = [[p for p in found.module.parameters() if p.requires_grad] for found in chosen]
    output, recorder = run_model(torch, model, inputs, chosen)
    flat_params = [p for ps in parameters for p in ps]
    found_grads = torch.autograd.grad(output, flat_params, upstream, allow_unused=True) if flat_params else ()
    param_grads: list[list[Any]] = []
    it = iter(found_grads)
    for ps in parameters:
        param_grads.append(
            [(g if g is not None else torch.zeros_like(p)).detach() for p, g in zip(ps, it, strict=False)]
        )
    pooled = [_pooled(gs) for gs in param_grads]
    for row, g in zip(measured, grads, strict=True):
        row["magnitudes"] = None if g is None else array_magnitudes(g.detach().reshape(-1).double().cpu().numpy())
    reference = [g for g in grads if g is not None] + [g for gs in param_grads for g in gs]
    windows = []
    per_block: list[list[tuple[str, LowPrecision]]] = [[] for _ in chosen]
    for name in formats:
        dtype = getattr(torch, name, None)
        if dtype is None:
            raise InputError(f"dtypes: {name} is not a format this PyTorch ({torch.__version__}) has")
        computed: list[tuple[Any, Any]] | None = None
        window = None
        if name in COMPUTED:
            computed, window = _computed(torch, model, inputs, chosen, upstream, dtype, mode, name, reference)
            windows.append((name, window))
        for k in range(len(chosen)):
            g = grads[k]
            stored = _stored(torch, g, dtype) if g is not None else Elements(Fraction(0), Fraction(0), Fraction(0))
            comp = comp_params = None
            if computed is not None and g is not None and computed[k][0] is not None:
                comp = elements(torch, computed[k][0], g)
                if pooled[k] is not None:
                    comp_params = elements(torch, computed[k][1], pooled[k])
            per_block[k].append(
                (
                    name,
                    LowPrecision(
                        stored,
                        comp,
                        _stored(torch, pooled[k], dtype) if pooled[k] is not None else None,
                        comp_params,
                    ),
                )
            )
    for row, lows in zip(measured, per_block, strict=True):
        row["dtypes"] = tuple(lows)
    return tuple(windows)


def _computed(
    torch: Any,
    model: Any,
    inputs: tuple[Any, ...],
    chosen: list[Found],
    upstream: Any,
    dtype: Any,
    mode: str,
    name: str,
    reference: list[Any],
) -> tuple[list[tuple[Any, Any]], ScaleWindow]:
    """PyTorch's pass in the format: per block (input gradient, pooled parameter gradients),
    and the loss-scale window."""
    if mode == "cast":  # as model.half() gives, on a copy: the user's model is not touched
        twin = copy.deepcopy(model).to(dtype)
        cast = tuple(x.detach().to(dtype).requires_grad_(True) if x.is_floating_point() else x for x in inputs)
        context: Any = torch.autocast("cpu", enabled=False)
    else:
        twin = model
        cast = inputs
        context = torch.autocast("cpu", dtype=dtype)
    modules = dict(twin.named_modules())
    twins = [Found(found.name, modules[found.name], found.skip, found.shortcut) for found in chosen]
    try:
        with context:
            output, recorder = run_model(torch, twin, cast, twins)
    except InputError as error:
        raise InputError(f"dtypes: in {name}, {error.message}") from None
    xs = [block_input(*recorder.calls[f.name][:2], f.name) for f in twins]
    params = [[p for p in f.module.parameters() if p.requires_grad] for f in twins]
    targets = [x for x in xs if x.requires_grad] + [p for ps in params for p in ps]

    def backward(power: int) -> list[Any]:
        g_out = (upstream.double() * 2.0**power).to(output.dtype)
        try:
            found = torch.autograd.grad(output, targets, g_out, retain_graph=True, allow_unused=True)
        except RuntimeError as error:
            raise InputError(f"dtypes: the {name} backward pass failed: {str(error).splitlines()[0][:200]}") from None
        return [torch.zeros_like(t) if g is None else g.detach() for t, g in zip(targets, found, strict=True)]

    def split(found: list[Any]) -> list[tuple[Any, Any]]:
        it = iter(found)
        inputs_grads = [next(it) if x.requires_grad else None for x in xs]
        out = []
        for x_grad, ps in zip(inputs_grads, params, strict=True):
            gs = [next(it) for _ in ps]
            out.append((x_grad, _pooled(gs)))
        return out

    unscaled = backward(0)
    masks = [r.reshape(-1) != 0 for r in reference] if len(reference) == len(targets) else None
    window = _window(torch, backward, masks)
    return split(unscaled), window


def _window(torch: Any, backward: Any, masks: list[Any] | None) -> ScaleWindow:
    """The loss-scale window, by bisection over the powers of two; what is lost is counted over
    the elements nonzero in float32 (``masks``)."""

    def state(power: int) -> tuple[bool, int]:
        found = [g.reshape(-1) for g in backward(power)]
        kept = found if masks is None else [g[m] for g, m in zip(found, masks, strict=True)]
        return any(bool((~torch.isfinite(g)).any()) for g in found), sum(int((g == 0).sum()) for g in kept)

    total = sum(int(m.sum()) for m in masks) if masks is not None else sum(g.numel() for g in backward(0))
    return scale_window(state, total, LOWEST_SCALE, HIGHEST_SCALE)
