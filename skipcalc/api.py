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

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from . import kinds, options
from .core.errors import InputError

if TYPE_CHECKING:
    from decimal import Decimal

    from .core.blocks import Block
    from .core.results import (
        ChainResult,
        DepthResult,
        FormulaResult,
        JacobianResult,
        LossResult,
        PathsResult,
        RandomJacobianResult,
        UpdateResult,
    )

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
    dtype: str | None = None,
    exact: bool = False,
    per_layer: bool = True,
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
    ``per_layer=False`` computes only the gradient reaching x_0 (what a value line prints).
    """
    values = kinds.read(options.CHAIN, locals(), local)
    return networks(options.CHAIN, values, local, per_layer)


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
    dtype: str | None = None,
    exact: bool = False,
    per_layer: bool = True,
) -> Networks:
    """dL/dx_k = dL/dx_n * dx_n/dx_k for every layer input k: the loss gradient (from
    ``target`` and ``pred``, with ``kind``, or ``loss_grad`` directly) carried back through each
    network.

    >>> backprop([0.1, 0.1, 0.1], target=10, pred=8)
    ChainResult(3 layers, dL/dx3 = -4: plain -0.004, residual -5.324)
    """
    values = kinds.read(options.BACKPROP, locals(), local)
    return networks(options.BACKPROP, values, local, per_layer)


def loss(
    target: Num | None = None, pred: Num | None = None, *, kind: str | None = None, delta: Num | None = None
) -> LossResult:
    """The loss of one sample, its derivative dL/dpred, and which way the prediction must move.
    ``kind`` is mse (the default: L = (T - P)^2, not halved), mae, huber (``delta``, default 1)
    or bce.

    >>> loss(10, 8)
    LossResult(mse: L = 4, dL/dpred = -4)
    """
    values = kinds.read(options.LOSS, locals())
    from .core.losses import loss as compute

    return compute(values.kind, values.target, values.pred, values.delta)


def update(
    weight: Num | None = None, lr: Num | None = None, grad: Num | None = None, input: Num | None = None
) -> UpdateResult:
    """One gradient-descent step on a weight: new = weight - lr * grad * input.

    >>> update(weight=0.5, lr=0.1, grad=-5.324, input=1).new_weight
    Fraction(2581, 2500)
    """
    values = kinds.read(options.UPDATE, locals())
    from .core.step import update as compute

    return compute(values.weight, values.lr, values.grad, values.input)


def depth(
    local: Num | None = None,
    *,
    max: int | None = None,
    depths: Sequence[int] | str | None = None,
    loss_grad: Num | None = None,
    vanish: Num | None = None,
    plain: bool = False,
    residual: bool = False,
    blocks: Blocks | None = None,
) -> DepthResult:
    """How the gradient decays with depth when every layer's local derivative is ``local``:
    D^n (plain) against (1 + D)^n (residual), for depths 1..``max`` or the ``depths`` listed, and
    the first depth where each float format loses it (exactly, for any depth).

    >>> r = depth(0.1, depths=[1, 3])
    >>> [row.values for row in r.rows]
    [(Fraction(1, 10), Fraction(11, 10)), (Fraction(1, 1000), Fraction(1331, 1000))]
    >>> r.limits("float16").below  # where 0.1^n first turns subnormal in float16
    5
    """
    values = kinds.read(options.DEPTH, locals())
    from .core.depth import depth_sweep

    listed = values.depths or list(range(1, values.max + 1))
    return depth_sweep(
        values.local,
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
    values = kinds.read(options.PATHS, locals(), local)
    from .core.blocks import RESIDUAL
    from .core.paths import path_split, uniform_path_split

    chosen = values.block or RESIDUAL
    if values.mode.name == "uniform":
        if values.layers is None:
            raise InputError("--layers: --uniform needs the number of layers, e.g. --layers 50")
        return uniform_path_split(values.uniform, values.layers, values.mass, chosen)
    return path_split(_numbers(local, options.PATHS), values.mass, chosen)


# ---------------------------------------------------------------------------
# chain and backprop


def _numbers(local: Any, command: kinds.Command) -> list[Fraction]:
    """The local derivatives, counted, then read exactly (a list of Fractions passes as it is)."""
    if local is None:
        raise InputError("D: give at least one local derivative (or - to read them from stdin)")
    if hasattr(local, "__len__") and not isinstance(local, str) and command.arguments is not None:
        command.arguments.count(len(local))
    if isinstance(local, list) and all(type(d) is Fraction for d in local):
        return local
    from .core.exact import to_numbers

    return to_numbers(local, "D")


def blocks_of(values: kinds.Values) -> tuple[Block, ...]:
    """The networks a chain, backprop or depth call shows."""
    from .core.blocks import selected

    return selected(values.plain, values.residual, values.block)


def upstream_of(values: kinds.Values) -> Fraction | None:
    """A numeric backprop's dL/dx_n (raising InputError where it cannot be had)."""
    return _loss_gradient(values)[0]  # type: ignore[no-any-return]


def networks(command: kinds.Command, values: kinds.Values, local: Any, per_layer: bool = True) -> Networks:
    """The work of chain and backprop on values already read (kinds.read): the command line's
    --batch reads its options once and calls this for every line."""
    from .core.chains import repeat_layers

    blocks = blocks_of(values)
    given_blocks = "block" in values.given
    mode = values.mode.name
    if mode == "random":
        from .core.jacobian import random_jacobians

        return random_jacobians(values.dim, values.layers or 50, values.scale, values.seed, blocks, given_blocks)
    if mode == "jacobian":
        from .core.jacobian import jacobian_chain

        vector = None
        if command is options.BACKPROP:
            vector = values.loss_grad
            if vector is None or not isinstance(vector, tuple):
                raise InputError(
                    "--loss-grad: Jacobian layers take the loss gradient as a vector, e.g. --loss-grad '[1,-2]'"
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
    result: Any
    if mode == "formula":
        from .core.formula import formula_result

        if values.at is None:
            raise InputError("--at: formula layers need the input x_0, e.g. --at 0.5")
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
    if values.dtype is not None:
        from .core.formats import with_dtype

        result = with_dtype(result, values.dtype)
    return result  # type: ignore[no-any-return]


def _loss_gradient(values: kinds.Values) -> tuple[Any, Any, Any]:
    """(dL/dx_n, its loss, or (kind, target, delta) for a loss at each network's own output)."""
    if "loss_grad" in values.given:
        if isinstance(values.loss_grad, tuple):
            raise InputError("--loss-grad: a vector applies only with --jacobian; give a number")
        return values.loss_grad, None, None
    if "target" not in values.given:
        raise InputError("--target/--pred: backprop needs dL/dx_n: give --target T with --pred P, or --loss-grad G")
    from .core.losses import check, loss

    if "pred" in values.given:
        result = loss(values.kind, values.target, values.pred, values.delta)
        return result.gradient, result, None
    if values.mode.name != "formula":
        raise InputError("--pred: give the prediction P = x_n (only formula layers compute their own)")
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
    ):
        function.__doc__ = (function.__doc__ or "") + kinds.parameters_doc(command)


_docs()
