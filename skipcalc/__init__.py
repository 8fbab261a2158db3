"""skipcalc: exact gradients through plain, residual and other skip-connection networks.

The command line's every command is a function here, taking ordinary numbers::

    >>> from skipcalc import chain
    >>> chain([0.1, 0.1, 0.1])
    ChainResult(3 layers: plain 0.001, residual 1.331)

A float is read from its shortest repr (0.1 is 1/10); see :mod:`skipcalc.api`. Names are
imported on first use (PEP 562): the console script imports this package before anything
else, and a call loads only the modules its command needs.
"""

from importlib import import_module as _import_module

__version__ = "0.3.0"

_EXPORTS = {
    "chain": "api",
    "backprop": "api",
    "loss": "api",
    "update": "api",
    "depth": "api",
    "paths": "api",
    "precision": "api",
    "meanfield": "api",
    "probe": "api",
    "preset": "api",
    "record": "api",
    "init": None,
    "InputError": "core.errors",
    "Block": "core.blocks",
    "parse_block": "core.blocks",
    "parse_number": "core.exact",
    "to_number": "core.exact",
    "show": "core.exact",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        module = _EXPORTS[name]
        if module is None:
            return _import_module(f".{name}", __name__)
        value = getattr(_import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skipcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*(n for n in globals() if not n.startswith("_")), "__version__", *_EXPORTS})
