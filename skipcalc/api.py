"""skipcalc from Python: one function per command, ordinary numbers in, a result out.

Every function takes the command's options as keyword arguments named like its flags
(``--loss-grad`` is ``loss_grad``, each ``--block`` one item of ``blocks``). Numbers may be
int, str (the command line's exact syntax: ``"1/3"``, ``"1e-1000"``), Fraction, Decimal or
float; a float is read from its shortest repr, so ``0.1`` means 1/10, as it was typed
(``Fraction(0.1)`` gives the binary value). Lists of numbers may be any sequence, a generator
or a numpy array. Bad input raises :class:`skipcalc.InputError` (a ValueError) with the one-line
message the command line prints.

A result prints as its table (``print(r)``), has a one-line repr, displays as a table in
Jupyter, converts to the command line's JSON (``r.to_dict()``) and draws its chart
(``r.plot()`` returns the matplotlib Figure that ``--save`` writes).

Each function reads its arguments with the declaration in :mod:`skipcalc.options` (kinds,
defaults and ranges are written there once); the command line calls these same functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TextIO, Union

from . import options, schema
from .core.errors import InputError, arg
from .output import display  # noqa: F401 - gives every result its repr, table, HTML, JSON and chart

if TYPE_CHECKING:
    from decimal import Decimal

    from .core.blocks import Block
    from .core.results import (
        ChainResult,
        DepthMapResult,
        DepthResult,
        FormulaResult,
        JacobianResult,
        LossResult,
        MeanFieldResult,
        PathsResult,
        PrecisionResult,
        RandomJacobianResult,
        UpdateResult,
    )
    from .probing.record import Recording

    Num = Union[int, float, str, Fraction, Decimal]
    """An ordinary number: read exactly (a float from its shortest repr)."""
    Numbers = Union[Num, Iterable[Num]]
    Blocks = Union[str, Block, Sequence[Union[str, Block]]]
    Networks = Union[ChainResult, FormulaResult, JacobianResult, RandomJacobianResult]


def chain(
    local: Numbers | None = None,
    *,
    plain: bool = False,
    residual: bool = False,
    blocks: Blocks | None = None,
    layers: int | None = None,
    fn: str | Sequence[str] | None = None,
    at: Num | None = None,
    jacobian: Any = None,
    random_jacobians: bool = False,
    dim: int | None = None,
    scale: Num | None = None,
    seed: int | None = None,
    dtype: str | Sequence[str] | None = None,
    exact: bool = False,
    weights: str | None = None,
) -> Networks:
    """dx_n/dx_k for every layer input k, through a plain and a residual network (or the
    ``blocks`` given), from the local derivatives D_1 ... D_n in forward order.

    >>> r = chain([0.1, 0.1, 0.1])
    >>> r
    ChainResult(3 layers: plain 0.001, residual 1.331)
    >>> r.network("residual").gradient
    Fraction(1331, 1000)
    >>> chain(0.1, layers=50, blocks=["plain", "rezero:0.1"]).network("rezero").gradient
    Fraction(...)

    ``fn`` gives the layers as formulas run forward from ``at``; ``jacobian`` as d x d matrices
    (each a string '[[0.1,0.2],[0,0.3]]' or rows of numbers); ``random_jacobians`` draws them.
    """
    return layered(options.CHAIN, locals(), local)


def backprop(
    local: Numbers | None = None,
    *,
    target: Num | None = None,
    pred: Num | None = None,
    loss_grad: Any = None,
    kind: str | None = None,
    delta: Num | None = None,
    plain: bool = False,
    residual: bool = False,
    blocks: Blocks | None = None,
    layers: int | None = None,
    fn: str | Sequence[str] | None = None,
    at: Num | None = None,
    jacobian: Any = None,
    dtype: str | Sequence[str] | None = None,
    exact: bool = False,
    lr: Num | None = None,
    weight: Num | None = None,
    input: Num | None = None,
) -> Networks:
    """dL/dx_k = dL/dx_n * dx_n/dx_k for every layer input k: the loss gradient (from
    ``target`` and ``pred``, with ``kind``, or ``loss_grad`` directly) carried back through each
    network.

    >>> backprop([0.1, 0.1, 0.1], target=10, pred=8)
    ChainResult(3 layers, dL/dx3 = -4: plain -0.004, residual -5.324)

    With ``lr`` and ``weight`` (and ``input``, default 1) it finishes as the note does, with the
    first layer's update in each network, new = weight - lr * dL/dx_0 * input:

    >>> r = backprop([0.1, 0.1, 0.1], target=10, pred=8, lr=0.1, weight=0.5)
    >>> [u.new_weight for u in r.updates]
    [Fraction(1251, 2500), Fraction(2581, 2500)]
    """
    return layered(options.BACKPROP, locals(), local)


def layered(
    command: schema.Command, keywords: dict[str, Any], local: Any, per_layer: bool = True, written: bool = False
) -> Networks:
    """chain's and backprop's work on their keyword arguments. ``per_layer=False`` computes
    only the gradient reaching x_0 (what a value line prints); ``written=True`` says every
    layer's values are to be written out (json, csv), which bounds how many layers a ``dtype``
    call may have: the command line's concerns, kept out of the public signatures."""
    values = schema.read(command, keywords, local)
    return networks(command, values, local, per_layer, written)


def loss(
    target: Num | None = None, pred: Num | None = None, *, kind: str | None = None, delta: Num | None = None
) -> LossResult:
    """The loss of one sample, its derivative dL/dpred, and which way the prediction must move.
    ``kind`` is mse (the default: L = (T - P)^2, not halved), mae, huber (``delta``, default 1)
    or bce.

    >>> loss(10, 8)
    LossResult(mse: L = 4, dL/dpred = -4)
    """
    values = schema.read(options.LOSS, locals())
    from .core.losses import loss as compute

    return compute(values.kind, values.target, values.pred, values.delta)


def update(
    weight: Num | None = None, lr: Num | None = None, grad: Num | None = None, input: Num | None = None
) -> UpdateResult:
    """One gradient-descent step on a weight: new = weight - lr * grad * input.

    >>> update(weight=0.5, lr=0.1, grad=-5.324, input=1).new_weight
    Fraction(2581, 2500)
    """
    values = schema.read(options.UPDATE, locals())
    from .core.update import update as compute

    return compute(values.weight, values.lr, values.grad, values.input)


def depth(
    local: Numbers | None = None,
    *,
    max: int | None = None,
    depths: Sequence[int] | str | None = None,
    loss_grad: Num | None = None,
    vanish: Num | None = None,
    plain: bool = False,
    residual: bool = False,
    blocks: Blocks | None = None,
    layers: int | None = None,
) -> DepthResult | DepthMapResult:
    """How the gradient decays with depth when every layer's local derivative is ``local``:
    D^n (plain) against (1 + D)^n (residual), for depths 1..``max`` or the ``depths`` listed, and
    the first depth where each float format loses it (exactly, for any depth). Several
    ``local`` values (a list, or a range "0.01:1:0.01") give the depth x derivative map, a
    DepthMapResult (``r.at(0.5, 50)``).

    >>> r = depth(0.1, depths=[1, 3])
    >>> [row.values for row in r.rows]
    [(Fraction(1, 10), Fraction(11, 10)), (Fraction(1, 1000), Fraction(1331, 1000))]
    >>> r.limits("float16").below  # where 0.1^n first turns subnormal in float16
    5
    >>> depth("0.5:1:0.25", depths="10:30:10").at(0.75, 20, "plain")
    Fraction(3486784401, 1099511627776)
    >>> depth(0.1, layers=3).rows[-1].depth  # layers=, as elsewhere, is max=
    3
    """
    values = schema.read(options.DEPTH, locals())
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


def paths(
    local: Numbers | None = None,
    *,
    uniform: Num | None = None,
    layers: int | None = None,
    mass: Num | None = None,
    block: str | Block | None = None,
) -> PathsResult:
    """A stack's gradient split by path length k: the C(n,k) paths through exactly k branches
    contribute e_k, and the band of lengths carrying ``mass`` (0.9) of the magnitude.

    >>> paths([0.1, 0.1, 0.1]).contributions
    (Fraction(1, 1), Fraction(3, 10), Fraction(3, 100), Fraction(1, 1000))
    >>> paths(uniform=0.1, layers=110).band
    (5, 14)
    """
    values = schema.read(options.PATHS, locals(), local)
    from .core.blocks import RESIDUAL
    from .core.paths import path_split, uniform_path_split

    chosen = values.block or RESIDUAL
    if values.mode.name == "uniform":
        if values.layers is None:
            raise InputError(
                f"{arg('layers')}: {arg('uniform')} needs the number of layers, e.g. {arg('layers', '50')}"
            )
        return uniform_path_split(values.uniform, values.layers, values.mass, chosen)
    return path_split(_numbers(local, options.PATHS), values.mass, chosen)


def precision(
    gradients: Numbers | None = None,
    *,
    csv: str | os.PathLike[str] | TextIO | None = None,
    column: str | None = None,
    dtype: str | Sequence[str] | None = None,
    group: str | None = None,
    elements: bool = False,
) -> PrecisionResult:
    """Measured gradients G_1 .. G_n (layer 1 nearest the input: a PyTorch hook's
    ``param.grad.norm()`` per layer, a training log's column) as each float format stores them:
    the layers it stores as subnormals or loses, the loss scales 2^k that keep every gradient
    normal and finite, and GradScaler's way to one. ``gradients`` is a list or numpy array; or
    ``csv`` (a path or an open file) and the ``column`` that holds them (empty cells are
    skipped). ``dtype`` is one format or several (default float16 and bfloat16; "all").

    Element by element: where an entry is a layer's whole gradient (a tensor, an array or a
    sequence of its elements), or ``gradients`` is a :func:`record` of a backward pass, each
    element is rounded once into each format, and the verdict per layer is the share of its
    nonzero elements lost, stored subnormal or overflowed, with its magnitudes (an
    ElementsResult): a norm is √n times an element's root mean square, so a verdict on norms is
    off by that factor.

    >>> r = precision([3e-3, 2e-5, 4e-8, 1e-9])
    >>> r.subnormal("float16"), r.lost("float16"), r.lost("bfloat16")
    ([2, 3], [4], [])
    >>> w = r.format("float16").loss_scale
    >>> (w.lowest, w.highest)  # scales 2^16 .. 2^24 keep all four normal in float16
    (16, 24)
    """
    if _by_element(gradients):
        values = schema.read(options.PRECISION, {**locals(), "gradients": None}, None)
        from .core.elements import element_verdict
        from .probing.record import Recording

        if isinstance(gradients, Recording):
            layers, names = gradients.gradients(), gradients.names
        else:
            layers = list(gradients)  # type: ignore[arg-type]
            names = [str(i) for i in range(1, len(layers) + 1)]
        return element_verdict(layers, names, values.dtype)  # type: ignore[return-value]
    values = schema.read(options.PRECISION, locals(), gradients)
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


def meanfield(
    act: str | None = None,
    *,
    weight_var: Num | None = None,
    bias_var: Numbers | None = None,
    input_var: Num | None = None,
    layers: int | None = None,
    plain: bool = False,
    residual: bool = False,
    blocks: Blocks | None = None,
    critical: bool = False,
    simulate: bool = False,
    width: int | None = None,
    trials: int | None = None,
    seed: int | None = None,
    weights: str | None = None,
    digits: int = 16,
    norm: str | None = None,
    init: str | None = None,
    branch: str | None = None,
    input_corr: Num | None = None,
) -> MeanFieldResult:
    """Mean-field signal propagation at initialization (weights N(0, weight_var/width), biases
    N(0, bias_var)): the length map's fixed point q*, χ₁ (whose square root is the "local
    derivative" this initialization gives each layer), c*, χ_c, the depth scales and the phase,
    and layer by layer the mean squared gradient reaching each x_k relative to the output's,
    for the plain network and each block. ``act`` is a name (linear, relu, tanh, erf, sigmoid,
    gelu, softplus) or a formula in x. relu and linear are exact; the others are certified to
    ``digits`` significant digits. ``critical=True``: the σ_w² with χ₁ = 1 at each bias_var (a
    number, a list or a range "0:0.3:0.05"). ``simulate=True``: ``trials`` random networks of
    ``width`` units measured beside the prediction. ``input_corr=C``: two inputs of correlation C
    followed through depth (each network's ``correlation``, x_0 .. x_L, each to the decimals
    its sums at two steps agree on).

    ``init=`` takes σ_w² and σ_b² from a scheme (PyTorch's nn.Linear needs ``width``, its fan_in);
    ``norm="pre"`` or ``"post"`` puts a LayerNorm before the branch or after the sum (pre-LN keeps
    a polynomial, post-LN a geometric decay); ``branch="post-act"`` is x + φ(W x + b):

    >>> r = meanfield("tanh", init="pytorch", width=512, layers=3)
    >>> r.weight_var, r.bias_var
    (Fraction(1, 3), (Fraction(1, 1536),))
    >>> pre = meanfield("relu", weight_var=2, bias_var=0.1, layers=50, residual=True, norm="pre")
    >>> post = meanfield("relu", weight_var=2, bias_var=0.1, layers=50, residual=True, norm="post")
    >>> float(pre.network("residual").wrt[0]), float(post.network("residual").wrt[0])
    (40.33940291843733, 0.08720372697238066)
    >>> meanfield("relu", weight_var=1, bias_var=0.05, layers=4, branch="post-act", residual=True).network(
    ...     "residual"
    ... ).q[-1]
    Approx('10.90732542868777')
    >>> r = meanfield("tanh", weight_var=1.5, bias_var=0.05, layers=50, input_corr=0.5)
    >>> r.network("plain").correlation[-1], r.network("residual").correlation[-1]
    (Decimal('0.9866474995'), Decimal('0.3267560554'))

    >>> r = meanfield("relu", weight_var=2, layers=3)
    >>> r.chi1, r.phase
    (Fraction(1, 1), 'critical')
    >>> meanfield("tanh", bias_var=0.05, critical=True, digits=12).critical
    (Approx('1.76095463961'),)
    """
    from .core.limits import MAX_DIGITS

    if type(digits) is not int or not 1 <= digits <= MAX_DIGITS:
        raise InputError(f"digits: {digits!r} is not accepted; expected a whole number from 1 to {MAX_DIGITS}")
    values = schema.read(options.MEANFIELD, locals())
    from .core.meanfield import activation

    chosen = activation(values.act)
    bias_vars = tuple(values.bias_var or [Fraction(0)])
    from .core.results import MeanFieldResult

    if values.mode.name == "critical":
        from .core.meanfield import critical_line

        line = critical_line(chosen, bias_vars, digits)
        return MeanFieldResult(
            act=chosen.name,
            weight_var=None,
            bias_var=bias_vars,
            input_var=Fraction(1),
            layers=0,
            digits=digits,
            critical=tuple(line),
        )
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
    from .core.meanfield import theory_and_networks

    shown = blocks_of(values)
    if values.branch == "post-act" and values.norm != "none":
        raise InputError(
            f"{arg('norm')}: applies to the pre-act branch; give {arg('norm', 'none')} with {arg('branch', 'post-act')}"
        )
    from .core.meanfield.model import Setting

    setting = Setting(
        chosen, sigma_w2, bias_vars[0], values.input_var, values.layers, tuple(shown), values.norm, values.branch
    )
    theory, nets = theory_and_networks(setting, digits)
    if values.input_corr is not None:
        from dataclasses import replace

        from .core.meanfield.pairs import input_correlations

        pairs = input_correlations(setting, values.input_corr, digits)
        nets = [replace(net, correlation=c) for net, c in zip(nets, pairs, strict=True)]
    simulation = None
    if values.simulate:
        from .core.meanfield.simulate import simulate as run

        simulation = run(setting, values.width or 1000, values.trials, values.seed, values.weights)
    return MeanFieldResult(
        act=chosen.name,
        weight_var=sigma_w2,
        bias_var=bias_vars,
        input_var=values.input_var,
        layers=values.layers,
        digits=digits,
        **{name: getattr(theory, name) for name in _THEORY_FIELDS},
        networks=tuple(nets),
        simulation=simulation,
        norm=values.norm,
        init=values.init,
        branch=values.branch,
        input_corr=values.input_corr,
    )


_THEORY_FIELDS = ("q_star", "q_reason", "chi1", "sqrt_chi1", "c_star", "chi_c", "xi_q", "xi_c", "phase", "c_reason")
"""The fixed-point quantities a MeanFieldResult carries from the theory, under the same names."""


# ---------------------------------------------------------------------------
# chain and backprop


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


def blocks_of(values: schema.Values) -> tuple[Block, ...]:
    """The networks a chain, backprop or depth call shows."""
    from .core.blocks import selected

    return selected(values.plain, values.residual, values.block)


def upstream_of(values: schema.Values) -> Fraction | None:
    """A numeric backprop's dL/dx_n (raising InputError where it cannot be had)."""
    return _loss_gradient(values)[0]  # type: ignore[no-any-return]


def networks(
    command: schema.Command, values: schema.Values, local: Any, per_layer: bool = True, written: bool = False
) -> Networks:
    """The work of chain and backprop on values already read (schema.read): the command line's
    --batch reads its options once and calls this for every line."""
    from .core.chains import repeat_layers

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
        check_work(layers, len(blocks), len(formats_named(values.dtype)), written)
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
    if values.get("lr") is not None:  # backprop --lr
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


def _docs() -> None:
    """Each function's docstring ends with its parameters, written from the declaration."""
    for function, command in (
        (chain, options.CHAIN),
        (backprop, options.BACKPROP),
        (loss, options.LOSS),
        (update, options.UPDATE),
        (depth, options.DEPTH),
        (paths, options.PATHS),
        (precision, options.PRECISION),
    ):
        function.__doc__ = (function.__doc__ or "") + schema.parameters_doc(command)


_docs()


def probe_available() -> None:
    """Refuse, by name, a probe without PyTorch: pip install 'skipcalc[torch]'."""
    from .probing.run import torch_or_refuse

    torch_or_refuse()


def preset(name: str, **settings: Any) -> Any:
    """A model to probe, built here with random initialisation (nothing is downloaded): ``mlp``
    (layers, width, act, block plain|residual, init pytorch|he|xavier, samples), ``transformer``
    (layers, width, heads, norm pre|post, tokens, samples), ``gpt2`` (size tiny|small, tokens,
    samples), ``resnet18`` and ``resnet50`` (zero_init_residual, image_size, samples); each also
    takes ``seed``. Returns the model with its inputs (``.model``, ``.inputs``); give it to
    :func:`probe` whole (the mlp brings its mean-field prediction). Needs PyTorch.

    >>> built = preset("mlp", layers=4, width=32, samples=8)
    >>> built.description
    'mlp: 4 residual layers of width 32, tanh, pytorch initialisation, 8 samples'
    """
    probe_available()
    from .probing.presets import preset as build

    return build(name, **settings)


def probe(
    model: Any,
    inputs: Any = None,
    *,
    blocks: Any = None,
    upstream: Any = None,
    loss: Any = None,
    target: Any = None,
    probes: int = 16,
    seed: int = 0,
    dtypes: Any = None,
    mode: str = "cast",
) -> Any:
    """Measure the note's numbers on a real PyTorch model: for each residual block (found
    automatically, or ``blocks`` names or patterns such as ``"layers.*"``) at the activations
    ``inputs`` give, the branch's local derivative D (root mean square singular value of its
    Jacobian, from ``probes`` random vector-Jacobian products, with a 95 % interval), its σ_max,
    the block's 1 + D, ‖F(x)‖/‖x‖, cos(x_k, x_0), and the gain from each block's input to the
    last block's output through the network and through the plain counterfactual (every skip
    removed). ``upstream`` (a tensor of the output's shape), or ``loss`` ("mse",
    "cross_entropy" or a function) and ``target``: the gradient at the output (else a random one
    of a mean-reduced loss's size). ``dtypes``: also count each gradient element by element in
    float16, bfloat16 (stored, and computed by PyTorch: ``mode`` "cast" or "autocast"),
    float8_e4m3fn, float8_e5m2. Returns a ProbeResult.

    ``model`` may be a :func:`preset` (then no ``inputs``). Needs PyTorch.

    >>> r = probe(preset("mlp", layers=4, width=32, samples=8))
    >>> [block.skip for block in r.blocks]
    ['identity', 'identity', 'identity', 'identity']
    >>> r.blocks[0].gain_residual.estimate > 1 > r.blocks[0].gain_plain.estimate
    True
    """
    from .probing.run import probe as measure

    return measure(
        model,
        inputs,
        blocks=blocks,
        upstream=upstream,
        loss=loss,
        target=target,
        probes=probes,
        seed=seed,
        dtypes=dtypes,
        mode=mode,
    )


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


def record(model: Any, blocks: Any = None) -> Recording:
    """A context manager that hooks the model's blocks (found as :func:`probe` finds them, or
    ``blocks``) and keeps each block's input gradient from the backward pass run inside it, for
    :func:`precision` to read element by element. Needs PyTorch.

    >>> import torch
    >>> model = torch.nn.Sequential(*[torch.nn.Linear(8, 8) for _ in range(3)])
    >>> with record(model) as recorded:
    ...     model(torch.randn(4, 8, requires_grad=True)).pow(2).mean().backward()
    >>> precision(recorded, dtype="float16").layers[0].name
    '0'
    """
    probe_available()
    from .probing.record import Recording

    return Recording(model, blocks)


display.WORDS.append(
    lambda text: schema.python_words(text, [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()])
)
