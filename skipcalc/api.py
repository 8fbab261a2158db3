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

Each function reads its arguments once with the declaration in :mod:`skipcalc.options` (kinds,
defaults and ranges are written there once: :func:`skipcalc.schema.read`) and hands the read
call to :func:`compute` (skipcalc/work.py), the one path every call takes; the command line reads
argv into the same call and hands it to the same :func:`compute`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TextIO, Union

from . import options, schema
from .output import display  # noqa: F401 - gives every result its repr, table, HTML, JSON and chart
from .work import compute as compute  # the one path every function here ends in

if TYPE_CHECKING:
    from decimal import Decimal

    from .core.blocks import Block
    from .core.results import (
        DepthMapResult,
        DepthResult,
        LossResult,
        MeanFieldResult,
        PathsResult,
        PrecisionResult,
        UpdateResult,
    )
    from .probing.record import Recording
    from .work import Networks

    Num = Union[int, float, str, Fraction, Decimal]
    """An ordinary number: read exactly (a float from its shortest repr)."""
    Numbers = Union[Num, Iterable[Num]]
    Blocks = Union[str, Block, Sequence[Union[str, Block]]]


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
    result: Networks = compute(
        schema.read(
            options.CHAIN,
            {
                "local": local,
                "plain": plain,
                "residual": residual,
                "blocks": blocks,
                "layers": layers,
                "fn": fn,
                "at": at,
                "jacobian": jacobian,
                "random_jacobians": random_jacobians,
                "dim": dim,
                "scale": scale,
                "seed": seed,
                "dtype": dtype,
                "exact": exact,
                "weights": weights,
            },
        )
    )
    return result


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
    result: Networks = compute(
        schema.read(
            options.BACKPROP,
            {
                "local": local,
                "target": target,
                "pred": pred,
                "loss_grad": loss_grad,
                "kind": kind,
                "delta": delta,
                "plain": plain,
                "residual": residual,
                "blocks": blocks,
                "layers": layers,
                "fn": fn,
                "at": at,
                "jacobian": jacobian,
                "dtype": dtype,
                "exact": exact,
                "lr": lr,
                "weight": weight,
                "input": input,
            },
        )
    )
    return result


def loss(
    target: Num | None = None, pred: Num | None = None, *, kind: str | None = None, delta: Num | None = None
) -> LossResult:
    """The loss of one sample, its derivative dL/dpred, and which way the prediction must move.
    ``kind`` is mse (the default: L = (T - P)^2, not halved), mae, huber (``delta``, default 1)
    or bce.

    >>> loss(10, 8)
    LossResult(mse: L = 4, dL/dpred = -4)
    """
    result: LossResult = compute(
        schema.read(options.LOSS, {"target": target, "pred": pred, "kind": kind, "delta": delta})
    )
    return result


def update(
    weight: Num | None = None, lr: Num | None = None, grad: Num | None = None, input: Num | None = None
) -> UpdateResult:
    """One gradient-descent step on a weight: new = weight - lr * grad * input.

    >>> update(weight=0.5, lr=0.1, grad=-5.324, input=1).new_weight
    Fraction(2581, 2500)
    """
    result: UpdateResult = compute(
        schema.read(options.UPDATE, {"weight": weight, "lr": lr, "grad": grad, "input": input})
    )
    return result


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
    result: DepthResult | DepthMapResult = compute(
        schema.read(
            options.DEPTH,
            {
                "local": local,
                "max": max,
                "depths": depths,
                "loss_grad": loss_grad,
                "vanish": vanish,
                "plain": plain,
                "residual": residual,
                "blocks": blocks,
                "layers": layers,
            },
        )
    )
    return result


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
    result: PathsResult = compute(
        schema.read(options.PATHS, {"local": local, "uniform": uniform, "layers": layers, "mass": mass, "block": block})
    )
    return result


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
    result: PrecisionResult = compute(
        schema.read(
            options.PRECISION,
            {
                "gradients": gradients,
                "csv": csv,
                "column": column,
                "dtype": dtype,
                "group": group,
                "elements": elements,
            },
        )
    )
    return result


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
    result: MeanFieldResult = compute(
        schema.read(
            options.MEANFIELD,
            {
                "act": act,
                "weight_var": weight_var,
                "bias_var": bias_var,
                "input_var": input_var,
                "layers": layers,
                "plain": plain,
                "residual": residual,
                "blocks": blocks,
                "critical": critical,
                "simulate": simulate,
                "width": width,
                "trials": trials,
                "seed": seed,
                "weights": weights,
                "digits": digits,
                "norm": norm,
                "init": init,
                "branch": branch,
                "input_corr": input_corr,
            },
        )
    )
    return result


# ---------------------------------------------------------------------------
# chain and backprop


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
