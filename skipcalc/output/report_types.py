"""The Report a result becomes before any formatting, and the derivation shown with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..core.exact import Number, log10_abs, to_float

Row = Mapping[str, Any]


class LazyRows(Sequence[Row]):
    """Rows made as they are read: a table shows 40 of a million-layer chain's rows without
    making the others; json and csv read them all, in order."""

    def __init__(self, count: int, row: Callable[[int], Row]) -> None:
        self.size = count
        self.row = row

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self.row(i) for i in range(*index.indices(self.size))]
        if not -self.size <= index < self.size:
            raise IndexError(index)
        return self.row(index % self.size)


@dataclass
class Report:
    """What a result has to say, before any formatting."""

    title: str
    columns: dict[str, str]  # row key -> table header
    rows: Sequence[Row] | Callable[[], Sequence[Row]]
    data: dict[str, Any] | Callable[[], dict[str, Any]]  # the json object, numbers still raw (made when written)
    summary: list[tuple[str, Any]] = field(default_factory=list)
    sections: list[list[Equation]] = field(default_factory=list)  # lines under the summary, wrapped between terms
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str]]] = field(default_factory=list)  # split the table: (title, keys)
    extra: list[tuple[str, dict[str, str], Sequence[Row]]] = field(default_factory=list)  # more tables
    chart: Callable[[], Any] | None = None  # built only when drawn or saved
    vertical: bool = False  # one record shown as name/value lines
    row_name: str = "layer"
    floats: bool = False  # computed in floats: json says "exact": false whatever the texts
    plot: bool = False  # the chart is drawn under the table unless --no-plot (else only with --plot)
    derivation: Derivation | None = None  # set by the renderer where one is shown
    column_source: Callable[[str], Sequence[Any]] | None = None  # a column whole, for the bulk writers
    table_only: dict[str, str] = field(default_factory=dict)  # row key -> header: in tables, not in csv

    def header(self, key: str) -> str:
        return self.table_only[key] if key in self.table_only else self.columns[key]

    def json_data(self) -> dict[str, Any]:
        if callable(self.data):
            self.data = self.data()
        return self.data

    def records(self) -> Sequence[Row]:
        if callable(self.rows):
            self.rows = self.rows()
        return self.rows

    def column(self, key: str) -> Sequence[Any]:
        """One column's values, row by row: csv writes a million-row table column by column."""
        if self.column_source is not None:
            return self.column_source(key)
        return [row.get(key) for row in self.records()]


def columnar(
    size: int, sources: dict[str, Callable[[], Sequence[Any]]]
) -> tuple[LazyRows, Callable[[str], Sequence[Any]]]:
    """Rows and columns of a table whose columns are sequences already (a chain's per-layer
    values): each column made once, when first read; rows made as they are read."""
    made: dict[str, Sequence[Any]] = {}

    def column(key: str) -> Sequence[Any]:
        if key not in made:
            made[key] = sources[key]()
        return made[key]

    return LazyRows(size, lambda i: ColumnRow(column, sources, i)), column


class ColumnRow(Mapping[str, Any]):
    """Row i of a columnar table: each value read from its column when asked for, so a table
    that shows some columns never makes the others (the csv's per-format values)."""

    def __init__(self, column: Callable[[str], Sequence[Any]], keys: Mapping[str, Any], index: int) -> None:
        self.column, self.keys_, self.index = column, keys, index

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys_:
            raise KeyError(key)
        return self.column(key)[self.index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)


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
