"""Each command's work on a call read by the declaration (schema.read): the one path every
call takes after reading its arguments, from Python (skipcalc.api, skipcalc.init) and from the
command line alike. ``compute(values)`` picks the command's work; each work function hands exact
numbers to the core and returns its result.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from . import options, schema
from .core.errors import InputError, arg

if TYPE_CHECKING:
    from .core import results
    from .core.blocks import Block

    Networks = Union[results.ChainResult, results.FormulaResult, results.JacobianResult, results.RandomJacobianResult]


def compute(values: schema.Values) -> Any:
    """A call read by the declaration (:func:`skipcalc.schema.read`) to its result: what each
    function of skipcalc.api and skipcalc.init does once it has read its arguments, and what the
    command line calls with the call it read from argv."""
    return _WORK[values.command.name](values)


def _networks(values: schema.Values) -> Networks:
    """chain's and backprop's work. ``values.per_layer`` False computes only the gradient
    reaching x_0 (what a value line prints); ``values.written`` says every layer's values are
    to be written out (json, csv), which bounds how many layers a ``dtype`` call may have."""
    from .core.chains import repeat_layers

    command, local, per_layer = values.command, values.local, values.per_layer
    blocks = blocks_of(values)
    given_blocks = "block" in values.given
    mode = values.mode.name
    if mode == "random":
        from .core.jacobian import random_jacobians

        return random_jacobians(
            values.dim, values.layers or 50, values.scale, values.seed, blocks, given_blocks, values.weights
        )
    if mode == "jacobian":
        from .core.jacobian import jacobian_chain

        vector = None
        if command is options.BACKPROP:
            vector = values.loss_grad
            if vector is None or not isinstance(vector, tuple):
                raise InputError(
                    f"{arg('loss_grad')}: Jacobian layers take the loss gradient as a vector, e.g. "
                    + arg("loss_grad", "'[1,-2]'")
                )
        return jacobian_chain(
            repeat_layers(values.jacobian, values.layers),
            blocks,
            vector,
            per_layer=per_layer,
            spectra=per_layer or vector is None,
            blocks_given=given_blocks,
        )
    upstream, loss, own = _loss_gradient(values) if command is options.BACKPROP else (None, None, None)
    if values.dtype and mode == "numbers":
        from .core.precision import check_work, formats_named

        layers = values.layers or (len(local) if hasattr(local, "__len__") else 0)
        check_work(layers, len(blocks), len(formats_named(values.dtype)), values.written)
    result: Any
    if mode == "formula":
        from .core.formula import formula_result

        if values.at is None:
            raise InputError(f"{arg('at')}: formula layers need the input x_0, e.g. {arg('at', '0.5')}")
        result = formula_result(
            repeat_layers(values.fn, values.layers), values.at, blocks, upstream, loss, own, given_blocks
        )
    else:
        from .core.chains import chain_result

        result = chain_result(
            repeat_layers(_numbers(local, command), values.layers),
            blocks,
            upstream,
            loss,
            per_layer=per_layer or values.dtype is not None,
            require_exact=values.exact,
            blocks_given=given_blocks,
        )
    if values.dtype:
        from .core.precision import with_dtypes

        result = with_dtypes(result, values.dtype)
    if getattr(values, "lr", None) is not None:  # backprop --lr
        import dataclasses

        from .core.update import update as step

        updates = tuple(step(values.weight, values.lr, net.gradient, values.input) for net in result.networks)
        result = dataclasses.replace(result, updates=updates)
    return result  # type: ignore[no-any-return]


def _loss_gradient(values: schema.Values) -> tuple[Any, Any, Any]:
    """(dL/dx_n, its loss, or (kind, target, delta) for a loss at each network's own output)."""
    if "loss_grad" in values.given:
        if isinstance(values.loss_grad, tuple):
            raise InputError(f"{arg('loss_grad')}: a vector applies only with {arg('jacobian')}; give a number")
        return values.loss_grad, None, None
    if "target" not in values.given:
        raise InputError(
            f"{arg('target')}/{arg('pred')}: backprop needs dL/dx_n: give {arg('target', 'T')} with "
            f"{arg('pred', 'P')}, or {arg('loss_grad', 'G')}"
        )
    from .core.losses import check, loss

    if "pred" in values.given:
        result = loss(values.kind, values.target, values.pred, values.delta)
        return result.gradient, result, None
    if values.mode.name != "formula":
        raise InputError(f"{arg('pred')}: give the prediction P = x_n (only formula layers compute their own)")
    check(values.kind, values.target, Fraction(1, 2), values.delta)  # the kind and delta, before any work
    return None, None, (values.kind, values.target, values.delta)


def blocks_of(values: schema.Values) -> tuple[Block, ...]:
    """The networks a chain, backprop or depth call shows."""
    from .core.blocks import selected

    return selected(values.plain, values.residual, values.block)


def upstream_of(values: schema.Values) -> Fraction | None:
    """A numeric backprop's dL/dx_n (raising InputError where it cannot be had)."""
    return _loss_gradient(values)[0]  # type: ignore[no-any-return]


def _numbers(local: Any, command: schema.Command, name: str = "D") -> list[Fraction]:
    """The local derivatives (or gradients), counted, then read exactly (a list of Fractions
    passes as it is)."""
    if local is None:
        raise InputError("D: give at least one local derivative (or - to read them from stdin)")
    sized = hasattr(local, "__len__") and getattr(local, "ndim", 1) != 0  # a 0-d array has no length
    if sized and not isinstance(local, str) and command.arguments is not None:
        command.arguments.count(len(local))
    if isinstance(local, list) and all(type(d) is Fraction for d in local):
        return local
    from .core.exact import to_numbers

    return to_numbers(local, name)


def _loss(values: schema.Values) -> results.LossResult:
    from .core.losses import loss as compute

    return compute(values.kind, values.target, values.pred, values.delta)


def _update(values: schema.Values) -> results.UpdateResult:
    from .core.update import update as compute

    return compute(values.weight, values.lr, values.grad, values.input)


def _depth(values: schema.Values) -> results.DepthResult | results.DepthMapResult:
    from .core.depth import depth_map, depth_sweep

    listed = values.depths or list(range(1, (values.layers or values.max) + 1))  # layers= is max=
    if len(values.local) > 1:  # the depth x derivative map
        if "vanish" in values.given:
            raise InputError(
                f"{arg('vanish')}: applies only with one {arg('local', 'D')} (a map has no single threshold depth)"
            )
        return depth_map(values.local, listed, values.loss_grad, blocks_of(values))
    return depth_sweep(
        values.local[0],
        listed,
        values.loss_grad,
        values.vanish,
        blocks_of(values),
        "block" in values.given,
    )


def _paths(values: schema.Values) -> results.PathsResult:
    from .core.blocks import RESIDUAL
    from .core.paths import path_split, uniform_path_split

    chosen = values.block or RESIDUAL
    if values.mode.name == "uniform":
        if values.layers is None:
            raise InputError(
                f"{arg('layers')}: {arg('uniform')} needs the number of layers, e.g. {arg('layers', '50')}"
            )
        return uniform_path_split(values.uniform, values.layers, values.mass, chosen)
    return path_split(_numbers(values.local, options.PATHS), values.mass, chosen)


def _precision(values: schema.Values) -> results.PrecisionResult:
    gradients = values.gradients
    if _by_element(gradients):
        from .core.elements import element_verdict
        from .probing.record import Recording

        if isinstance(gradients, Recording):
            layers, names = gradients.gradients(), gradients.names
        else:
            layers = list(gradients)
            names = [str(i) for i in range(1, len(layers) + 1)]
        return element_verdict(layers, names, values.dtype)  # type: ignore[return-value]
    from .core.precision import measured

    if values.mode.name == "csv":
        if gradients is not None:
            raise InputError(f"{arg('csv')}: the gradients come from the file; give no gradients as arguments")
        if values.column is None:
            raise InputError(
                f"{arg('column')}: give the CSV column that holds the gradients, e.g. {arg('column', 'grad_norm')}"
            )
        from .core.gradient_files import csv_column

        name, read = csv_column(values.csv, values.column, values.group, bool(values.elements))
        if values.elements:
            from .core.elements import element_verdict

            numbers = [str(layer) for layer, _ in read]
            return element_verdict([v for _, v in read], numbers, values.dtype, name)  # type: ignore[return-value]
        return measured(read, values.dtype, name)
    if gradients is None:
        raise InputError(
            f"G: give the gradients G1 ... Gn (or - to read them from stdin, or {arg('csv', 'FILE')} "
            f"{arg('column', 'NAME')})"
        )
    read = _numbers(gradients, options.PRECISION, "G")
    if not read:
        raise InputError("G: no gradients; give at least one")
    return measured(read, values.dtype)


def _by_element(gradients: Any) -> bool:
    """Whether ``gradients`` holds layers' elements (a recording, or any entry with more than
    one element) rather than one number per layer."""
    from .probing.record import Recording  # imports no torch: a recording is made only with it

    if isinstance(gradients, Recording):
        return True
    if gradients is None or isinstance(gradients, str) or not isinstance(gradients, (list, tuple)):
        return False
    for entry in gradients:
        if isinstance(entry, (list, tuple)):
            return True
        size = getattr(entry, "size", None)
        numel = getattr(entry, "numel", None)
        if callable(numel) and getattr(entry, "dim", lambda: 0)() > 0:
            return True
        if isinstance(size, int) and getattr(entry, "ndim", 0) > 0:
            return True
    return False


def _meanfield(values: schema.Values) -> results.MeanFieldResult:
    """The options' combinations meanfield refuses, then the core's result (core.meanfield.result)."""
    from .core.meanfield import activation
    from .core.meanfield.result import Simulation, critical_result, setting_result

    chosen = activation(values.act)
    bias_vars = tuple(values.bias_var or [Fraction(0)])
    if values.mode.name == "critical":
        return critical_result(chosen, bias_vars, values.digits)
    sigma_w2: Fraction | None = values.weight_var
    if values.init is not None:
        if values.weight_var is not None or values.bias_var is not None:
            raise InputError(
                f"{arg('init')}: gives sigma_w^2 and sigma_b^2 itself; give it or {arg('weight_var')}/{arg('bias_var')}"
            )
        from .core.init import variances

        sigma_w2, bias_var_of_init = variances(values.init, values.width)
        bias_vars = (bias_var_of_init,)
    elif values.width is not None and not values.simulate:
        raise InputError(f"{arg('width')}: applies only with {arg('simulate', True)} or {arg('init', 'pytorch')}")
    if sigma_w2 is None:
        raise InputError(
            f"{arg('weight_var')}: give sigma_w^2, e.g. {arg('weight_var', '1.5')} (or "
            f"{arg('critical', True)} to find it)"
        )
    if len(bias_vars) != 1:
        raise InputError(
            f"{arg('bias_var')}: a list or range applies only with {arg('critical', True)}; give one variance"
        )
    if values.branch == "post-act" and values.norm != "none":
        raise InputError(
            f"{arg('norm')}: applies to the pre-act branch; give {arg('norm', 'none')} with {arg('branch', 'post-act')}"
        )
    from .core.meanfield.model import Setting

    blocks = blocks_of(values)
    setting = Setting(
        chosen, sigma_w2, bias_vars[0], values.input_var, values.layers, blocks, values.norm, values.branch
    )
    simulation = (
        Simulation(values.width or 1000, values.trials, values.seed, values.weights) if values.simulate else None
    )
    return setting_result(setting, values.digits, values.input_corr, simulation, values.init)


# ---------------------------------------------------------------------------
# init SCHEME


def _deepnorm(values: schema.Values) -> results.InitResult:
    from .core import init

    if values.layers is not None:
        return init.deepnorm(values.layers)
    if values.encoder_layers is not None:
        return init.deepnorm_encoder_decoder(values.encoder_layers, values.decoder_layers)
    from .core.errors import InputError, arg

    raise InputError(
        f"{arg('layers')}: give {arg('layers', 'N')} (one stack) or {arg('encoder_layers', 'N')} "
        f"{arg('decoder_layers', 'M')}"
    )


def _fixup(values: schema.Values) -> results.InitResult:
    from .core import init

    return init.fixup(values.branches, values.branch_depth)


def _gain(values: schema.Values) -> results.InitResult:
    from .core import init

    argument = values.command.arguments
    assert argument is not None
    if values.nonlinearity is None:
        raise InputError(f"NONLINEARITY: give one, e.g. relu; expected {argument.help}")
    name = argument.kind.read(values.nonlinearity, "NONLINEARITY")
    return init.gain(name, values.param, values.fan_in, values.fan_out)


def _stochastic_depth(values: schema.Values) -> results.InitResult:
    from .core import init

    return init.stochastic_depth(values.layers, values.last)


_WORK: dict[str, Callable[[schema.Values], Any]] = {
    "chain": _networks,
    "backprop": _networks,
    "loss": _loss,
    "update": _update,
    "depth": _depth,
    "paths": _paths,
    "precision": _precision,
    "meanfield": _meanfield,
    "deepnorm": _deepnorm,
    "fixup": _fixup,
    "gain": _gain,
    "stochastic-depth": _stochastic_depth,
}
"""Each command's work on its read values."""
