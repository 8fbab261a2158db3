"""skipcalc: exact gradients through plain and residual (skip-connection) networks.

The math is usable without the command line::

    >>> from fractions import Fraction
    >>> from skipcalc import chain
    >>> chain([Fraction(1, 10)] * 3).network("residual").gradient
    Fraction(1331, 1000)

Names are imported on first use (PEP 562), so the console script loads only the modules
the command it runs needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# chain and update share their names with their modules, so they are bound eagerly (an
# import of the submodule would otherwise shadow the function); both modules are small.
from .chain import (  # noqa: E402
    ChainResult,
    Network,
    backprop,
    chain,
    gradients_wrt_inputs,
    path_contributions,
    product,
    residual_factors,
)
from .update import UpdateResult, update  # noqa: E402

_EXPORTS = {
    "LossResult": "losses",
    "loss": "losses",
    "InputError": "numbers",
    "parse_number": "numbers",
    "show": "numbers",
    "depth_sweep": "depth",
    "path_split": "paths",
    "uniform_path_split": "paths",
}

__all__ = [
    "ChainResult",
    "Network",
    "UpdateResult",
    "__version__",
    "backprop",
    "chain",
    "gradients_wrt_inputs",
    "path_contributions",
    "product",
    "residual_factors",
    "update",
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'skipcalc' has no attribute {name!r}")
