"""skipcalc: exact gradients through plain and residual (skip-connection) networks.

The math is usable without the command line::

    >>> from fractions import Fraction
    >>> from skipcalc import chain
    >>> chain([Fraction(1, 10)] * 3).network("residual").gradient
    Fraction(1331, 1000)
"""

__version__ = "0.1.0"

from .chain import ChainResult, Network, backprop, chain, gradients_wrt_inputs, product, residual_factors
from .losses import LossResult, loss
from .numbers import InputError, parse_number, show
from .update import UpdateResult, update

__all__ = [
    "ChainResult",
    "InputError",
    "LossResult",
    "Network",
    "UpdateResult",
    "__version__",
    "backprop",
    "chain",
    "gradients_wrt_inputs",
    "loss",
    "parse_number",
    "product",
    "residual_factors",
    "show",
    "update",
]
