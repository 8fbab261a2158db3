"""Tables for a terminal at any width, with Rich (the only Rich import besides the charts and
the progress display): numbers are never cut; a column that does not fit shows fewer digits
(marked ≈ and said under the table); headers wrap; below 50 columns the table is stacked, one
block per row; beyond 40 rows the middle is elided (--all-rows shows it).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TextIO

from ..core.results import Earned
from .report_types import Equation, Report
from .text import Share, StoredCell, cell_text
from .view import View

MIN_TABLE_WIDTH = 50
"""Tables are laid out as tables from this width on; narrower, one block per row."""
ROWS_SHOWN = 40
"""A longer table shows its first and last ROWS_SHOWN / 2 rows (--all-rows: every row)."""


def terminal_width(view: View) -> int:
    """The width to lay out for: the view's, else COLUMNS (when it is a number > 0), else the
    terminal's, else 80."""
    if view.width:
        return view.width
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout is not None and sys.stdout.isatty():
        try:
            return max(os.get_terminal_size(sys.stdout.fileno()).columns, 1)
        except OSError:
            pass
    return 80


def write_table(report: Report, view: View, out: TextIO) -> None:
    width = terminal_width(view)
    color = view.color
    if color is None:
        color = out is sys.stdout and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    text = table_text(report, view, width, color)
    from .machine import write_pieces

    write_pieces(out, [text])


def table_text(report: Report, view: View, width: int, color: bool) -> str:
    """The report laid out as a table at ``width`` columns (with ANSI styles when ``color``)."""
    from rich.console import Console

    buffer = io.StringIO()  # a stream that cannot hold the box characters gets ASCII (cli/process.prepare_streams)
    console = Console(
        file=buffer,
        width=width,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        force_terminal=color,
        force_jupyter=False,  # in a Jupyter kernel too: text into the buffer, not display outputs
        no_color=not color,
        legacy_windows=False,
    )
    TableLayout(console, width, view, color).write(report)
    return buffer.getvalue()


class TableLayout:
    """Lays a Report out at a width: numbers never cut, headers wrapped, long tables elided."""

    def __init__(self, console: Any, width: int, options: View, color: bool) -> None:
        self.console = console
        self.width = width
        self.options = options
        self.color = color
        self.rounded_digits: int | None = None  # the fewest digits a rounded cell was shown with
        self.narrowed = False

    def print(self, renderable: Any, **kwargs: Any) -> None:
        self.console.print(renderable, **kwargs)

    def write(self, report: Report) -> None:
        derivation = report.derivation
        if report.vertical:
            self.vertical(report)
        else:
            groups = report.tables or ([(report.title, list(report.columns))] if report.columns else [])
            for title, keys in groups:
                self.table(title, {k: report.header(k) for k in keys}, report.records(), report.row_name)
        for title, columns, rows in report.extra:
            self.table(title, columns, rows, "format" if "format" in columns else report.row_name)
        if report.summary:
            self.summary(report.summary)
        for section in report.sections:
            for equation in section:
                for wrapped in wrap_equation(equation, self.width):
                    self.print(wrapped, markup=False, highlight=False, soft_wrap=True)
        plot = report.plot if self.options.plot is None else self.options.plot
        if report.chart is not None and plot:
            from .charts import terminal

            self.print(terminal(report.chart(), self.width, self.color))
        if derivation is not None:
            for line in derivation.lines:
                for text in wrap_equation(line, self.width):
                    self.print(text, markup=False, highlight=False, soft_wrap=True)
        for note in report.notes:
            self.print(note, markup=False)
        self.footnote()

    def cells(self, rows: list[Mapping[str, Any]], keys: list[str], digits: int) -> tuple[list[list[str]], bool]:
        grid, rounded = [], False
        for row in rows:
            line = []
            for key in keys:
                text, was_rounded = cell_text(row.get(key), digits, self.options.exact)
                rounded = rounded or was_rounded
                line.append(text)
            grid.append(line)
        return grid, rounded

    def table(self, title: str, columns: dict[str, str], rows: Sequence[Mapping[str, Any]], row_name: str) -> None:
        """A table at this width: cells at --digits where they fit (heavy borders, else light ones,
        headers wrapped between words, never inside one), else fewer digits, else one block per row."""
        from rich import box
        from rich.table import Table

        keys = list(columns)
        shown, elided = self.elide(rows)
        digits = self.options.table_digits
        numeric = any(isinstance(r.get(k), (Fraction, Decimal, Share, Earned, StoredCell)) for r in shown for k in keys)
        # Columns of prose (a constant's meaning) wrap between words; numbers never do.
        prose = {
            k
            for k in keys
            if any(" " in str(r.get(k)) for r in shown if isinstance(r.get(k), str))
            and all(isinstance(r.get(k), (str, type(None))) for r in shown)
        }
        fitted: tuple[list[int], bool] | None = None
        while True:
            grid, rounded = self.cells(shown, keys, digits)
            fitted = self.fit(columns, keys, grid, prose, light=False) or self.fit(
                columns, keys, grid, prose, light=True
            )
            if fitted or not numeric or digits <= 2 or self.options.exact:
                break
            digits -= 1
            self.narrowed = True
        if fitted is None or self.width < MIN_TABLE_WIDTH:
            digits = self.options.table_digits  # one cell to a line: room for every digit asked for
            grid, rounded = self.cells(shown, keys, digits)
            self.stacked(title, columns, shown, grid, elided, row_name)
        else:
            widths, light = fitted
            caption = None
            if elided:
                half = ROWS_SHOWN // 2
                first, last = _label(rows[half], keys[0]), _label(rows[-half - 1], keys[0])
                caption = f"{row_name}s {first}-{last} ({elided:,}) elided: --all-rows shows them"
            table = Table(
                title=title, box=box.SIMPLE_HEAD if light else box.HEAVY_HEAD, show_edge=not light, pad_edge=not light
            )
            for i, key in enumerate(keys):
                table.add_column(
                    _wrap_header(columns[key], widths[i]),
                    width=widths[i],
                    no_wrap=key not in prose,
                    overflow="fold",
                    justify="left" if key in ("layer", "fn", "name", "format", "closed_form", "meaning") else "right",
                )
            for j, row in enumerate(grid):
                if elided and j == ROWS_SHOWN // 2:
                    table.add_row(*["⋮" for _ in keys])
                table.add_row(*row)
            self.print(table)
            if caption:
                self.print(caption, markup=False)
        if rounded:
            self.rounded_digits = digits if self.rounded_digits is None else min(digits, self.rounded_digits)

    def fit(
        self, columns: dict[str, str], keys: list[str], grid: list[list[str]], prose: set[str], light: bool
    ) -> tuple[list[int], bool] | None:
        """Column widths that fit the width (with heavy or light borders), or None."""
        n = len(keys)
        borders = 3 * (n - 1) if light else 3 * n + 1
        room = self.width - borders
        cells = [max((len(row[i]) for row in grid), default=1) for i in range(n)]
        words = [_header_min(columns[k]) for k in keys]
        least = [
            max([len(w) for row in grid for w in row[i].split()] + [words[i], 8])
            if k in prose
            else max(cells[i], words[i])
            for i, k in enumerate(keys)
        ]
        if sum(least) > room:  # a header is never broken inside a word: fewer digits, or a block per row
            return None
        wanted = [
            max(cells[i], words[i], _header_lines_width(columns[k], 2))
            if k not in prose
            else max(len(row[i]) for row in grid)
            for i, k in enumerate(keys)
        ]
        spare = room - sum(least)
        for i in sorted(range(n), key=lambda i: keys[i] in prose):  # whole header words first, then prose
            grow = min(max(wanted[i] - least[i], 0), spare)
            least[i] += grow
            spare -= grow
        return least, light

    def elide(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], int]:
        if self.options.all_rows or len(rows) <= ROWS_SHOWN:
            return list(rows), 0
        half = ROWS_SHOWN // 2
        return [*rows[:half], *rows[-half:]], len(rows) - ROWS_SHOWN

    def stacked(
        self,
        title: str,
        columns: dict[str, str],
        rows: list[Mapping[str, Any]],
        grid: list[list[str]],
        elided: int,
        row_name: str,
    ) -> None:
        """One block per row: each cell on a line of its own, so no number is cut."""
        from rich.text import Text

        keys = list(columns)
        self.print(Text(title, style="bold" if self.color else ""), markup=False)
        labels = {k: " ".join(columns[k].split()) for k in keys}
        for j, texts in enumerate(grid):
            if elided and j == ROWS_SHOWN // 2:
                self.print(f"... {elided:,} {row_name}s elided (--all-rows shows them) ...", markup=False)
            self.print(f"{labels[keys[0]]} {texts[0]}", markup=False, style="bold" if self.color else None)
            for key, text in zip(keys[1:], texts[1:], strict=True):
                self.print(f"  {labels[key]}: {text}", markup=False, soft_wrap=True)

    def summary(self, lines: list[tuple[str, Any]]) -> None:
        from rich.table import Table

        digits = self.options.table_digits
        texts = []
        for label, value in lines:
            text, was_rounded = cell_text(value, digits, self.options.exact)
            if was_rounded:
                self.rounded_digits = digits if self.rounded_digits is None else min(self.rounded_digits, digits)
            texts.append((label, text))
        widest = max(len(t) for _, t in texts)
        if len(texts) == 1 and len(texts[0][0]) + widest < self.width:  # one line: nothing to align
            self.print(" ".join(texts[0]), markup=False)
            return
        if widest + 14 > self.width:
            for label, text in texts:
                self.print(label, markup=False, style="bold" if self.color else None)
                self.print("    " + text, markup=False, soft_wrap=True)
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold" if self.color else None, overflow="fold")
        grid.add_column(justify="right", no_wrap=True, width=widest)
        for label, text in texts:
            grid.add_row(label, text)
        self.print(grid)

    def vertical(self, report: Report) -> None:
        from rich.table import Table

        record = report.records()[0]
        lines = [(label, record.get(key)) for key, label in report.columns.items()]
        table = Table(title=report.title, show_header=False)
        digits = self.options.table_digits
        texts = []
        for label, value in lines:
            text, was_rounded = cell_text(value, digits, self.options.exact)
            if was_rounded:
                self.rounded_digits = digits
            texts.append((label, text))
        widest = max(len(t) for _, t in texts)
        if widest + max(len(label) for label, _ in texts) + 7 > self.width:
            self.print(report.title, markup=False)
            for label, text in texts:
                self.print(f"  {label}: {text}", markup=False, soft_wrap=True)
            return
        table.add_column(style="bold" if self.color else None)
        table.add_column(justify="right", no_wrap=True, width=widest)
        for label, text in texts:
            table.add_row(label, text)
        self.print(table)

    def footnote(self) -> None:
        if self.rounded_digits is None:
            return
        if self.narrowed:
            text = (
                f"≈ marks a value rounded to fit {self.width} columns (as few as {self.rounded_digits} significant "
                "digits; a wider terminal, --digits N or --format json show more)."
            )
        else:
            text = (
                f"≈ marks a value rounded to {self.rounded_digits} significant digits "
                "(--digits N for more, --exact for all)."
            )
        self.print(text, markup=False)


def _label(row: Mapping[str, Any], key: str) -> str:
    return str(row.get(key))


def _header_lines(header: str, width: int) -> list[str]:
    """A header wrapped to ``width``: between words, after a slash (dx3/ dx_in), and inside a
    word (with a hyphen: resid- ual) only when it is longer than the column."""
    import re

    pieces = [p for p in re.split(r"(?<=/)|\s+", header) if p]
    lines: list[str] = []
    current = ""
    for piece in pieces:
        gap = "" if not current or current.endswith("/") else " "
        if current and len(current) + len(gap) + len(piece) > width:
            lines.append(current)
            current = ""
            gap = ""
        current += gap + piece
        while len(current) > width:  # broken inside a word: marked with a hyphen where there is room
            cut = width - 1 if width > 2 else width
            lines.append(current[:cut] + ("-" if cut < width else ""))
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _header_lines_width(header: str, lines: int) -> int:
    """The narrowest width that wraps ``header`` into at most ``lines`` lines."""
    start = max((len(word) for word in header.split()), default=1)
    for width in range(min(start, 12), len(header) + 1):
        if len(_header_lines(header, width)) <= lines:
            return width
    return len(header)


def _header_min(header: str) -> int:
    """The narrowest a column may be for its header: its longest piece (up to 12 characters)."""
    import re

    return min(max((len(p) for p in re.split(r"(?<=/)|\s+", header) if p), default=1), 12)


def _wrap_header(header: str, width: int) -> str:
    return "\n".join(_header_lines(header, max(width, 1))) or header


def wrap_equation(line: Equation, width: int) -> list[str]:
    """A derivation line wrapped between terms, continuing under the first term (or, when the
    head is long, four spaces further in than the head's indent); a term too long for a line
    is itself broken between the products it sums."""
    if not line.terms:
        import textwrap

        lead = len(line.head) - len(line.head.lstrip())
        return textwrap.wrap(
            line.head,
            width,
            initial_indent="",
            subsequent_indent=" " * (lead + 2),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    indent = len(line.head) if len(line.head) <= width - 12 else len(line.head) - len(line.head.lstrip()) + 4
    room = max(width - indent, 20)
    pieces: list[str] = []
    for term in line.terms:
        pieces.extend(_split_term(term, room) if len(term) > room else [term])
    lines, current = [], line.head + pieces[0]
    for piece in pieces[1:]:
        if len(current) + 1 + len(piece) > width and current.strip():
            lines.append(current)
            current = " " * indent + piece
        else:
            current += " " + piece
    lines.append(current)
    return lines


def _split_term(term: str, room: int) -> list[str]:
    """'+ (a + b + c)' as pieces that each fit ``room``, broken before a '+' (a term of words,
    between words)."""
    words = term.replace(" + ", " \x00+ ").split(" \x00") if " + " in term else term.split(" ")
    pieces, current = [], words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) > room:
            pieces.append(current)
            current = word
        else:
            current += " " + word
    pieces.append(current)
    return pieces
