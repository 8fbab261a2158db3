"""The one renderer: a result, written in a view's format (table, json, csv or value), with its
derivation where one is shown and its chart where one is saved.

A value line is written straight from the result's headline; every other format goes through
the result's Report (reports/). SymPy is imported only for a derivation, Rich only for a
table, matplotlib only for a saved chart.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..core.results import ChainResult, FormulaResult, LossResult, Result, UpdateResult
from . import progress

if TYPE_CHECKING:
    from .report_types import Derivation, Report
from .view import View


def render(result: Result, view: View, out: TextIO | None = None) -> None:
    """Write ``result`` as ``view`` asks: the derivation alone with --latex, else the format,
    and the chart to view.save."""
    out = out if out is not None else sys.stdout
    if view.latex:
        with progress.phase("deriving with SymPy"):
            found = derivation_of(result, view.table_digits, full=True, tex_digits=view.digits or 40, exact=view.exact)
        if found is None:
            raise AssertionError("--latex where no derivation is shown")  # the declaration refuses it
        progress.stop()
        out.write(found.latex + "\n")
        return
    if view.format == "value":
        if view.save:
            save(_report(result), view)
        from .machine import write_value

        progress.stop()
        write_value(result, view, out)
        return
    report = prepared(result, view)
    if view.save:
        save(report, view)
    with progress.phase("writing the table" if view.format == "table" else "writing"):
        if view.format == "table":
            from .table import write_table

            report.records()  # built under the progress display
            progress.stop()
            write_table(report, view, out)
        else:
            from .machine import write_csv, write_json

            progress.stop()
            (write_json if view.format == "json" else write_csv)(report, view, out)


def _report(result: Result) -> Report:
    """The result's Report (reports/, imported here only: a value line needs none)."""
    from .reports import report_for as build

    return build(result)


def prepared(result: Result, view: View) -> Report:
    """The result's report, with its derivation where the view shows one (under a table, or
    in the json with --symbolic)."""
    report = _report(result)
    if view.format == "table" or view.symbolic:
        with progress.phase("deriving with SymPy"):
            report.derivation = derivation_of(result, view.table_digits, full=view.symbolic)
    return report


def derivation_of(
    result: Result, digits: int, full: bool, tex_digits: int = 40, exact: bool = False
) -> Derivation | None:
    """SymPy's derivation of a chain, formula or loss result (None for the others). ``full``
    adds the LaTeX (numbers to ``tex_digits``, or whole with ``exact``) and SymPy's own
    strings, which a table does not show."""
    if not isinstance(result, (ChainResult, FormulaResult, LossResult, UpdateResult)):
        return None
    from . import derive

    if isinstance(result, UpdateResult):
        return derive.update_derivation(result, digits, tex_digits=tex_digits, exact=exact)
    if isinstance(result, ChainResult):
        return derive.chain_derivation(result, digits, full=full, tex_digits=tex_digits, exact=exact)
    if isinstance(result, FormulaResult):
        return derive.formula_derivation(result)
    return derive.loss_derivation(result, digits, tex_digits=tex_digits, exact=exact)


def save(report: Report, view: View) -> None:
    """Write the report's chart to view.save, and say so on stderr."""
    from .charts import save as save_chart

    assert view.save is not None
    with progress.phase("drawing the chart"):
        written = save_chart(report.chart() if report.chart is not None else None, view.save, view.force, view.title)
    progress.stop()
    from .terminal import say

    say(f"skipcalc: wrote {written}")


def write_line(result: Result, view: View, out: TextIO) -> None:
    """A --batch line's result: no derivation, no chart."""
    if view.format == "value":
        from .machine import write_value

        write_value(result, view, out)
        return
    from .machine import write_csv, write_json

    (write_json if view.format == "json" else write_csv)(_report(result), view, out)


def as_text(result: Result, width: int | None = None) -> str:
    """The table the command line prints, as text without colour (``str(result)``)."""
    from .table import table_text, terminal_width

    view = View(width=width)
    return table_text(prepared(result, view), view, terminal_width(view), color=False).rstrip("\n")


def renderables(result: Result, width: int, color: bool) -> list[Any]:
    """The result's table as Rich renderables laid out for ``width`` (Result.__rich_console__)."""
    from rich.text import Text

    from .table import table_text

    view = View()
    return [Text.from_ansi(table_text(prepared(result, view), view, width, color).rstrip("\n"))]


def figure(result: Result, title: str | None = None) -> Any:
    """The chart of a result (Result.plot), as the matplotlib Figure --save writes."""
    from ..core.errors import InputError
    from .charts import draw

    if title is not None and not isinstance(title, str):
        raise TypeError(f"title: {title!r} is not text")
    report = _report(result)
    if report.chart is None:
        raise InputError(f"plot: {type(result).__name__} has no chart")
    if "ipykernel" in sys.modules:  # in Jupyter: the inline backend shows a returned Figure as a PNG
        try:
            import matplotlib_inline.backend_inline  # noqa: F401
        except ImportError:
            pass
    return draw(report.chart(), title)


def data(result: Result, digits: int | None = None, exact: bool = False, symbolic: bool = False) -> dict[str, Any]:
    """The --format json object of ``result`` (Result.to_dict)."""
    from ..core.errors import InputError
    from ..core.limits import MAX_DIGITS
    from .machine import json_object

    if digits is not None and (type(digits) is not int or not 1 <= digits <= MAX_DIGITS):
        raise InputError(f"digits: {digits!r} is not accepted; expected a whole number from 1 to {MAX_DIGITS}")
    view = View("json", exact=exact, digits=digits, symbolic=symbolic)
    report = _report(result)
    if symbolic:
        report.derivation = derivation_of(result, view.table_digits, full=True)
        if report.derivation is None:
            raise InputError(f"symbolic: {type(result).__name__} has no derivation")
    return json_object(report, view)
