"""skipcalc: exact gradients through plain, residual and other skip-connection networks.

The math is usable without the command line::

    >>> from fractions import Fraction
    >>> from skipcalc import chain
    >>> chain([Fraction(1, 10)] * 3).network("residual").gradient
    Fraction(1331, 1000)

Names are imported on first use (PEP 562): the console script imports this package before
anything else, and a call loads only the modules its command needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    "chain": "chains",
    "backprop": "chains",
    "backward": "chains",
    "factors": "chains",
    "residual_factor": "chains",
    "loss": "losses",
    "update": "step",
    "depth_sweep": "depth",
    "path_split": "paths",
    "uniform_path_split": "paths",
    "parse_block": "blocks",
    "parse_number": "exact",
    "show": "exact",
    "InputError": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'skipcalc' has no attribute {name!r}")
