"""skipcalc.probe: the note's numbers measured on a real PyTorch model.

One forward pass records each block's input and output (forward hooks); each block is then
called again on its recorded input, detached, so that its own Jacobian J = ∂block/∂x and its
branch's J_F = J − ∂skip/∂x can be probed with vector-Jacobian products:

- the branch's local derivative D: the root mean square singular value of J_F,
  √(E‖J_Fᵀv‖²/E‖v‖²), from ``probes`` Gaussian v (the mean of the per-probe ratios, with a
  95 % interval); the block's gain, the same for J (the note's 1 + D);
- σ_max of J_F per sample (Lanczos on J_FᵀJ_F, the maximum over the batch);
- ‖F(x)‖/‖x‖ and cos(x_k, x_0): how far the block moves its input, and whether the input is
  still there;
- the gain from each block's input to the last block's output: probes at the last output
  pulled back through every block's J (the real network) and through the branches' J_F alone
  (the plain counterfactual: every skip removed, at the same activations);
- with a gradient at the output (``upstream``, or ``loss`` and ``target``; else a random one
  of the size a mean-reduced loss gives), the actual gradient's norm at each block's input,
  and in each of ``dtypes`` element by element (skipcalc.probe.lowprec).

The model is left as it was: its parameters' .grad untouched, BatchNorm's running statistics
put back, its train/eval mode kept (and stated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import InputError
from ..core.results import BlockProbe, ProbeResult
from . import estimate as est
from .blocks import Found, choose, classify
from .forward import block_input, first_line, first_tensor, run_model
from .presets import Built

MAX_PROBES = 1024
DTYPES = ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")
LOSSES = ("mse", "cross_entropy")


def torch_or_refuse() -> Any:
    try:
        import torch
    except ImportError:
        raise InputError("probe: needs PyTorch: pip install 'skipcalc[torch]'") from None
    return torch


def probe(
    model: Any,
    inputs: Any = None,
    *,
    blocks: Sequence[str] | str | None = None,
    upstream: Any = None,
    loss: str | Callable[[Any, Any], Any] | None = None,
    target: Any = None,
    probes: int = 16,
    seed: int = 0,
    dtypes: Sequence[str] | str | None = None,
    mode: str = "cast",
) -> ProbeResult:
    """Measure every residual block of ``model`` at the activations ``inputs`` give (see the
    module's description). ``model`` may also be a preset (skipcalc.preset(...)), whose inputs
    and, for the mlp, mean-field prediction come with it."""
    torch = torch_or_refuse()
    prediction = None
    if isinstance(model, Built):
        if inputs is not None:
            raise InputError("inputs: a preset brings its own inputs; give the preset alone")
        prediction = model.meanfield
        model, inputs = model.model, model.inputs
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"model: {type(model).__name__} is not a torch.nn.Module")
    inputs = _inputs(torch, inputs)
    if type(probes) is not int or not 2 <= probes <= MAX_PROBES:
        raise InputError(f"probes: {probes!r} is not accepted; expected a whole number from 2 to {MAX_PROBES}")
    if type(seed) is not int or not 0 <= seed < 2**63:
        raise InputError(f"seed: {seed!r} is not accepted; expected a whole number from 0 to 2^63 - 1")
    formats = _formats(dtypes)
    if mode not in ("cast", "autocast"):
        raise InputError(f"mode: {mode!r} is not accepted; expected cast (model.to(dtype)) or autocast")
    chosen, why = choose(model, blocks)
    saved = {name: b.detach().clone() for name, b in model.named_buffers()}
    try:
        with _math_attention(torch):
            return _measure(
                torch, model, inputs, chosen, why, upstream, loss, target, probes, seed, formats, mode, prediction
            )
    finally:
        with torch.no_grad():
            for name, b in model.named_buffers():
                if name in saved:
                    b.copy_(saved[name])


def _math_attention(torch: Any) -> Any:
    """Scaled dot-product attention by its composite formula (differentiable twice, so that
    σ_max's Jacobian-vector products run), where PyTorch can be told so."""
    import contextlib

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        return contextlib.nullcontext()
    return sdpa_kernel([SDPBackend.MATH])


def _inputs(torch: Any, inputs: Any) -> tuple[Any, ...]:
    made = inputs if isinstance(inputs, tuple) else (inputs,)
    if not made or not all(isinstance(x, torch.Tensor) for x in made):
        raise InputError("inputs: expected a tensor, or a tuple of tensors, for one forward pass")
    for x in made:
        if x.numel() == 0:
            raise InputError("inputs: a tensor is empty")
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise InputError("inputs: a tensor holds inf or NaN")
    return tuple(x.detach().clone().requires_grad_(True) if x.is_floating_point() else x for x in made)


def _formats(dtypes: Sequence[str] | str | None) -> tuple[str, ...]:
    if dtypes is None:
        return ()
    given = [dtypes] if isinstance(dtypes, str) else list(dtypes)
    for name in given:
        if name not in DTYPES:
            raise InputError(f"dtypes: {name!r} is not accepted; expected {', '.join(DTYPES)}")
    return tuple(dict.fromkeys(given))


def caller(args: tuple[Any, ...], kwargs: dict[str, Any], x: Any) -> Callable[[Any, Any], Any]:
    """Calls a block (or a copy of it) on a value in place of its recorded input ``x``, the
    other arguments as recorded."""

    def call(module: Any, value: Any) -> Any:
        swapped = tuple(value if a is x else a for a in args)
        return first_tensor(module(*swapped, **{k: (value if v is x else v) for k, v in kwargs.items()}))

    return call


def _measure(
    torch: Any,
    model: Any,
    inputs: tuple[Any, ...],
    chosen: list[Found],
    why: str,
    upstream: Any,
    loss: Any,
    target: Any,
    probes: int,
    seed: int,
    formats: tuple[str, ...],
    mode: str,
    prediction: Any,
) -> ProbeResult:
    output, recorder = run_model(torch, model, inputs, chosen)
    xs, ys = [], []
    for found in chosen:
        args, kwargs, out = recorder.calls[found.name]
        x, y = block_input(args, kwargs, found.name), first_tensor(out)
        for what, t in (("input", x), ("output", y)):
            if not bool(torch.isfinite(t).all()):
                raise InputError(f"blocks: {found.name}'s {what} holds inf or NaN; the model overflows on these inputs")
        xs.append(x)
        ys.append(y)
    generator = torch.Generator().manual_seed(seed)
    # The gradient at the output, and the actual gradients at the blocks' inputs.
    upstream_tensor, said = _upstream(torch, output, upstream, loss, target, generator)
    grads = _gradients(torch, output, upstream_tensor, xs)
    # Each block called again on its recorded input, detached.
    calls = []  # per block: its detached input, output, skip and branch
    for found, x in zip(chosen, xs, strict=True):
        args, kwargs, _ = recorder.calls[found.name]
        call = caller(args, kwargs, x)
        classify(found, x, call)
        xd = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            y = call(found.module, xd)
            skip = _skip(found, xd, y)
            branch = y - skip if skip is not None else y
        calls.append((xd, y, skip, branch))
    consecutive = all(
        ys[k].shape == xs[k + 1].shape and (ys[k] is xs[k + 1] or bool(torch.equal(ys[k], xs[k + 1])))
        for k in range(len(chosen) - 1)
    )
    gain_reason = None if consecutive else "the blocks do not follow one another (a module runs between two of them)"
    measured: list[dict[str, Any]] = []
    sigma_reason = None
    x0 = xs[0]
    for k, (found, (xd, y, skip, branch)) in enumerate(zip(chosen, calls, strict=True)):  # noqa: B007
        vs = [torch.randn(y.shape, generator=generator, dtype=y.dtype) for _ in range(probes)]
        block_ratios, branch_ratios = [], []
        for v in vs:
            pulled = est.vjp(y, xd, v)
            block_ratios.append(est.ratio(pulled, v))
            if skip is xd:  # identity: J_Fᵀv = Jᵀv - v (exactly 0 for a zero branch)
                pulled = pulled - v
            elif skip is not None:
                pulled = pulled - est.vjp(skip, xd, v)
            branch_ratios.append(est.ratio(pulled, v))
        try:
            sigma: float | None = est.sigma_max(branch, xd, not _in_block_training(found.module), generator)
        except RuntimeError as error:
            sigma, sigma_reason = (
                None,
                f"no Jacobian-vector product through these blocks' operations ({first_line(error)})",
            )
        measured.append(
            dict(
                name=found.name,
                skip=found.skip,
                shortcut=found.shortcut,
                shape_in=tuple(xs[k].shape),
                shape_out=tuple(ys[k].shape),
                branch_gain=est.estimate(branch_ratios),
                branch_sigma_max=sigma,
                block_gain=est.estimate(block_ratios),
                relative_update=est.relative_update(branch, xd),
                cos_input=est.cosine_to(ys[k], x0),
                token_cosine=est.token_cosine(ys[k]),
                gradient=None if grads[k] is None else est.squared_norm(grads[k]) ** 0.5,
            )
        )
    if consecutive:
        starts = [torch.randn(calls[-1][1].shape, generator=generator, dtype=calls[-1][1].dtype) for _ in range(probes)]
        real = est.chained(starts, [_block_step(c) for c in calls])
        plain = est.chained(starts, [_branch_step(found, c) for found, c in zip(chosen, calls, strict=True)])
        for row, r, p in zip(measured, real, plain, strict=True):
            row.update(gain_residual=est.estimate(r), gain_plain=est.estimate(p))
    predicted_from = None
    if prediction is not None:
        predicted_from = _predict(prediction, measured)
    if formats:
        from .lowprec import low_precision

        windows = low_precision(torch, model, inputs, chosen, xs, grads, upstream_tensor, formats, mode, measured)
    else:
        windows = ()
    blocks = tuple(BlockProbe(**{"gain_residual": None, "gain_plain": None, **row}) for row in measured)
    return ProbeResult(
        model=type(model).__name__,
        blocks=blocks,
        chosen=why,
        probes=probes,
        seed=seed,
        samples=int(xs[0].shape[0]) if xs[0].dim() else 1,
        upstream=said,
        batchnorm=_batchnorm_mode(model),
        gain_reason=gain_reason,
        sigma_reason=sigma_reason,
        mode=mode,
        windows=windows,
        predicted_from=predicted_from,
    )


def _skip(found: Found, x: Any, y: Any) -> Any:
    """What the skip carries: x (identity; normalized: the sum is normalized after it, and the
    branch is what the block adds to x), the shortcut's output (projection), or None."""
    if found.skip in ("identity", "normalized"):
        return x
    if found.skip == "projection":
        assert found.shortcut is not None
        return getattr(found.module, found.shortcut)(x)
    return None


def _block_step(call: tuple[Any, Any, Any, Any]) -> Callable[[Any], Any]:
    xd, y, _, _ = call
    return lambda w: est.vjp(y, xd, w)


def _branch_step(found: Found, call: tuple[Any, Any, Any, Any]) -> Callable[[Any], Any]:
    xd, y, skip, branch = call
    return lambda w: est.vjp(branch, xd, w)


def _in_block_training(module: Any) -> bool:
    """Whether the block couples its samples (BatchNorm in train mode): σ_max is then the
    whole batch's."""
    from torch import nn

    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in module.modules())


def _batchnorm_mode(model: Any) -> str | None:
    from torch import nn

    modes = {m.training for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    if not modes:
        return None
    return "train" if modes == {True} else "eval" if modes == {False} else "mixed"


def _upstream(torch: Any, output: Any, upstream: Any, loss: Any, target: Any, generator: Any) -> tuple[Any, str]:
    """The gradient at the model's output, and where it came from, in words."""
    if upstream is not None:
        if loss is not None or target is not None:
            raise InputError("upstream: give an upstream gradient, or a loss and a target, not both")
        if not isinstance(upstream, torch.Tensor) or upstream.shape != output.shape:
            raise InputError(f"upstream: expected a tensor of the output's shape {tuple(output.shape)}")
        if not bool(torch.isfinite(upstream).all()):
            raise InputError("upstream: holds inf or NaN")
        return upstream.detach().to(output.dtype), "the upstream gradient given"
    if loss is not None or target is not None:
        value, name = loss_value(torch, output, loss, target)
        (g,) = torch.autograd.grad(value, output, retain_graph=True)
        return g.detach(), f"the {name} loss against the target given"
    g = torch.randn(output.shape, generator=generator, dtype=output.dtype) / output.numel()
    return g, "random, N(0, 1)/n for the output's n elements (the size a mean-reduced loss gives)"


def loss_value(torch: Any, output: Any, loss: Any, target: Any) -> tuple[Any, str]:
    if target is None:
        raise InputError("target: a loss needs a target tensor")
    if not isinstance(target, torch.Tensor):
        raise InputError("target: expected a tensor")
    name = loss if loss is not None else ("cross_entropy" if not target.is_floating_point() else "mse")
    try:
        if callable(name):
            return name(output, target), getattr(name, "__name__", "given")
        if name == "mse":
            return torch.nn.functional.mse_loss(output, target.to(output.dtype)), "mse"
        if name == "cross_entropy":
            flat = output.reshape(-1, output.shape[-1])
            return torch.nn.functional.cross_entropy(flat, target.reshape(-1)), "cross-entropy"
    except (RuntimeError, ValueError) as error:
        raise InputError(f"target: the loss could not be computed: {first_line(error)}") from None
    raise InputError(f"loss: {name!r} is not accepted; expected mse, cross_entropy or a function (output, target)")


def _gradients(torch: Any, output: Any, upstream: Any, xs: list[Any]) -> list[Any]:
    wanted = [i for i, x in enumerate(xs) if x.requires_grad]
    found = torch.autograd.grad(output, [xs[i] for i in wanted], upstream, retain_graph=True, allow_unused=True)
    grads: list[Any] = [None] * len(xs)
    for i, g in zip(wanted, found, strict=True):
        grads[i] = torch.zeros_like(xs[i]) if g is None else g.detach()
    return grads


def _predict(prediction: tuple[Any, ...], measured: list[dict[str, Any]]) -> str:
    """Mean-field's gain from each block's input to the last output (the mlp preset)."""
    from ..core.blocks import PLAIN, RESIDUAL
    from ..core.meanfield import activation, theory_and_networks
    from ..core.meanfield.model import Setting

    act, weight_var, bias_var, input_var, block = prediction
    layers = len(measured)
    chosen = RESIDUAL if block == "residual" else PLAIN
    _, (network,) = theory_and_networks(Setting(activation(act), weight_var, bias_var, input_var, layers, (chosen,)), 6)
    for k, row in enumerate(measured):
        row["predicted"] = float(network.wrt[k]) ** 0.5
    return (
        f"mean-field theory (skipcalc meanfield --act {act} --weight-var {weight_var} --bias-var {bias_var} "
        f"--layers {layers} --{block}): the wide limit, inputs of variance {input_var}, and the backward "
        "weights independent of the forward ones"
    )
