"""A result as HTML, for Jupyter (``Result._repr_html_``): its tables as HTML tables, with the
numbers as the terminal table shows them (the same rule: exact, p/q, or rounded and marked ≈),
then the summary, the derivation and the notes. Long tables show their first and last rows,
as the terminal does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from ..core.results import Result
from .render import prepared
from .table import ROWS_SHOWN, wrap_equation
from .text import cell_text
from .view import View

_STYLE = "border-collapse:collapse;font-variant-numeric:tabular-nums"
_CELL = "padding:2px 10px;border-bottom:1px solid #ddd"


def html(result: Result, words: Callable[[str], str] = str) -> str:
    """The result as Jupyter shows it; ``words`` puts its notes in the reader's words (the
    API's: ``vanish=``, not ``--vanish``)."""
    view = View()
    report = prepared(result, view)
    parts = ['<div class="skipcalc">']
    if report.vertical:
        record = report.records()[0]
        parts.append(
            _table(
                report.title,
                {"name": "", "value": ""},
                [{"name": label, "value": record.get(key)} for key, label in report.columns.items()],
                view,
                header=False,
            )
        )
    else:
        groups = report.tables or ([(report.title, list(report.columns))] if report.columns else [])
        for title, keys in groups:
            parts.append(_table(title, {k: report.header(k) for k in keys}, report.records(), view))
    for title, columns, rows in report.extra:
        parts.append(_table(title, columns, rows, view))
    if report.summary:
        rows = [{"name": words(label), "value": value} for label, value in report.summary]
        parts.append(_table("", {"name": "", "value": ""}, rows, view, header=False))
    for section in report.sections:  # the verdict lines under the summary (what print() shows there)
        lines = [text for equation in section for text in wrap_equation(equation, 100)]
        parts.append(f"<pre>{escape(chr(10).join(lines))}</pre>")
    if report.derivation is not None:
        lines = [text for line in report.derivation.lines for text in wrap_equation(line, 100)]
        parts.append(f"<pre>{escape(chr(10).join(lines))}</pre>")
    parts.extend(f"<p>{escape(words(note))}</p>" for note in report.notes)
    parts.append("</div>")
    return "\n".join(parts)


def _table(
    title: str, columns: dict[str, str], rows: Sequence[Mapping[str, Any]], view: View, header: bool = True
) -> str:
    shown = list(rows) if len(rows) <= ROWS_SHOWN else [*rows[: ROWS_SHOWN // 2], *rows[-ROWS_SHOWN // 2 :]]
    out = [f'<table style="{_STYLE}">']
    if title:
        out.append(f'<caption style="text-align:left;font-weight:bold">{escape(title)}</caption>')
    if header:
        out.append(
            "<thead><tr>" + "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in columns.values()) + "</tr></thead>"
        )
    out.append("<tbody>")
    for i, row in enumerate(shown):
        if len(rows) > ROWS_SHOWN and i == ROWS_SHOWN // 2:
            elided = len(rows) - ROWS_SHOWN
            out.append(f'<tr><td colspan="{len(columns)}" style="{_CELL}">⋮ {elided:,} rows elided</td></tr>')
        cells = []
        for key in columns:
            text, _ = cell_text(row.get(key), view.table_digits, view.exact)
            align = "left" if isinstance(row.get(key), str) else "right"
            cells.append(f'<td style="{_CELL};text-align:{align}">{escape(text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)
