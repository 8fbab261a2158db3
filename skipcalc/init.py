"""The constants that make deep stacks train, from Python: ``skipcalc.init.deepnorm(layers=18)``.

Each function takes the options of ``skipcalc init SCHEME`` as keyword arguments and returns an
InitResult: each constant exact where the math is (a SymPy closed form) with its certified
decimal beside it. The sources are in each docstring and in the result.

>>> from skipcalc import init
>>> init.deepnorm(layers=18).constants[0].closed_form
'sqrt(6)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import options, schema
from .work import compute

if TYPE_CHECKING:
    from .api import Num
    from .core.results import InitResult

_DEEPNORM, _FIXUP, _GAIN, _STOCHASTIC = options.INIT


def deepnorm(
    layers: int | None = None, *, encoder_layers: int | None = None, decoder_layers: int | None = None
) -> InitResult:
    """DeepNorm's alpha (the skip's scale) and beta (the branch weights' gain): one stack of N
    layers, alpha = (2N)^(1/4) and beta = (8N)^(-1/4); or an encoder-decoder (Wang et al. 2022,
    "DeepNet", table 1).

    >>> r = deepnorm(layers=18)
    >>> [c.closed_form for c in r.constants]
    ['sqrt(6)', 'sqrt(3)/6']
    """
    keywords = {"layers": layers, "encoder_layers": encoder_layers, "decoder_layers": decoder_layers}
    result: InitResult = compute(schema.read(_DEEPNORM, keywords))
    return result


def fixup(branches: int | None = None, branch_depth: int | None = None) -> InitResult:
    """Fixup's scale L^(-1/(2m-2)) for the weights inside each of L residual branches of m
    layers (Zhang, Dauphin and Ma 2019, section 3).

    >>> fixup(branches=16, branch_depth=2).constants[0].value
    Fraction(1, 4)
    """
    result: InitResult = compute(schema.read(_FIXUP, {"branches": branches, "branch_depth": branch_depth}))
    return result


def gain(
    nonlinearity: str | None = None, *, param: Num | None = None, fan_in: int | None = None, fan_out: int | None = None
) -> InitResult:
    """PyTorch's calculate_gain for a nonlinearity, and with ``fan_in`` (and ``fan_out``) the
    Kaiming (and Xavier) init std it gives.

    >>> gain("relu", fan_in=512).constants[1].closed_form
    '1/16'
    """
    keywords = {"nonlinearity": nonlinearity, "param": param, "fan_in": fan_in, "fan_out": fan_out}
    result: InitResult = compute(schema.read(_GAIN, keywords))
    return result


def stochastic_depth(layers: int | None = None, *, last: Num | None = None) -> InitResult:
    """Stochastic depth's survival probabilities p_l = 1 - (l/L)(1 - p_L) for L blocks, and
    the expected depth, their sum (Huang et al. 2016, eq. (4)).

    >>> stochastic_depth(110, last=0.5).constants[0].value
    Fraction(329, 4)
    """
    result: InitResult = compute(schema.read(_STOCHASTIC, {"layers": layers, "last": last}))
    return result


for _function, _command in ((deepnorm, _DEEPNORM), (fixup, _FIXUP), (gain, _GAIN), (stochastic_depth, _STOCHASTIC)):
    _function.__doc__ = (_function.__doc__ or "") + schema.parameters_doc(_command)
