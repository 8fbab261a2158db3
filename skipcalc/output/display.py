"""How a result shows itself, attached to the result types here: the core's results are data
only, and this module (which the public API imports) gives them their one-line repr, their
table (``str()`` and Rich), Jupyter's HTML, the command line's JSON (``to_dict()``) and their
chart (``plot()``). Each imports its writer only when it is asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..core.results import Network, Result


def _repr(self: Result) -> str:
    from .reports import one_line

    return one_line(self)


def _str(self: Result) -> str:
    """The table the command line prints (at $COLUMNS or 80 columns), plain text without colour."""
    from .render import as_text

    return as_text(self)


def _rich_console(self: Result, console: Any, options: Any) -> Iterator[Any]:
    """The same table in any Rich console, laid out for its width."""
    from .render import renderables

    yield from renderables(self, options.max_width, console.is_terminal and not console.no_color)


WORDS: list[Callable[[str], str]] = []
"""How the notes are worded for a Python reader (the API registers python_words here)."""


def _repr_html(self: Result) -> str:
    """Jupyter's view: the table as HTML, with the summary and notes under it."""
    from .notebook import html

    return html(self, WORDS[0] if WORDS else str)


def _to_dict(self: Result, digits: int | None = None, exact: bool = False, symbolic: bool = False) -> dict[str, Any]:
    """The command line's ``--format json`` object (numbers as exact or correctly rounded
    decimal strings); ``digits``, ``exact`` and ``symbolic`` as the flags of those names."""
    from .render import data

    return data(self, digits=digits, exact=exact, symbolic=symbolic)


def _plot(self: Result, title: str | None = None) -> Any:
    """The chart ``--save`` writes, as a matplotlib Figure (``fig.savefig(...)`` to keep it)."""
    from .render import figure

    return figure(self, title)


def _to_frame(self: Result) -> Any:
    """The result's rows as a pandas DataFrame (depth and its map, a probe's blocks, a precision
    verdict's layers), each number with its float beside it; pandas is not a dependency."""
    from ..core.errors import InputError

    data = _to_dict(self)
    rows = next((data[key] for key in ("rows", "blocks", "layers") if isinstance(data.get(key), list)), None)
    if rows is None:
        raise InputError(f"to_frame: a {type(self).__name__} has no rows to tabulate; to_dict() has its values")
    import importlib

    try:
        pandas = importlib.import_module("pandas")  # optional, and untyped here
    except ImportError:
        raise InputError("to_frame: needs pandas (pip install pandas); to_dict() has the same rows") from None
    return pandas.DataFrame(rows)


def _network_repr(self: Network) -> str:
    from .text import short

    return f"Network({self.name}: {len(self.local):,} layers, gradient {short(self.gradient)})"


for name, method in {
    "__repr__": _repr,
    "__str__": _str,
    "__rich_console__": _rich_console,
    "_repr_html_": _repr_html,
    "to_dict": _to_dict,
    "plot": _plot,
    "to_frame": _to_frame,
}.items():
    method.__name__ = method.__qualname__ = name
    setattr(Result, name, method)
setattr(Network, "__repr__", _network_repr)  # noqa: B010
