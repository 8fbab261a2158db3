"""The Report a result becomes before any formatting, and the derivation shown with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.exact import Number, log10_abs, to_float


@dataclass
class Report:
    """What a result has to say, before any formatting."""

    title: str
    columns: dict[str, str]  # row key -> table header
    rows: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]]
    data: dict[str, Any]  # the json object, numbers still raw
    summary: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str]]] = field(default_factory=list)  # split the table: (title, keys)
    extra: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = field(default_factory=list)  # more tables
    chart: Callable[[], Any] | None = None  # built only when drawn or saved
    vertical: bool = False  # one record shown as name/value lines
    row_name: str = "layer"
    floats: bool = False  # computed in floats: json says "exact": false whatever the texts
    plot: bool = False  # the chart is drawn under the table unless --no-plot (else only with --plot)
    derivation: Derivation | None = None  # set by the renderer where one is shown

    def records(self) -> list[dict[str, Any]]:
        if callable(self.rows):
            self.rows = self.rows()
        return self.rows


@dataclass(frozen=True)
class Equation:
    """One line of a derivation: ``head`` (e.g. "  plain     dx3/dx0 = ") then terms, each
    after the first carrying its operator ("+ 0.3", "- 0.4", "* 0.1"); the table writer wraps
    between terms, continuing under the first. A line without terms is plain text."""

    head: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derivation:
    """A result derived by SymPy (derive.py): lines under the table, SymPy's strings and LaTeX
    for --symbolic, and the LaTeX alone for --latex."""

    lines: tuple[Equation, ...]
    data: dict[str, object]
    latex: str


def headline_fields(value: Number) -> dict[str, Any]:
    """The json float and log10 that go beside a headline number."""
    return {"float": to_float(value), "log10": log10_abs(value)}
