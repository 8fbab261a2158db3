"""One renderer for every command: table, json, csv or value.

Each command's result becomes a :class:`Report` (records, summary, notes, headline
and a JSON payload, all holding raw numbers); :func:`render` writes a Report in the
chosen format. Numbers become text only here, through :func:`skipcalc.numbers.show`.
Rich is imported only for the table.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, TextIO

from .chain import PLAIN, RESIDUAL, ChainResult
from .losses import LossResult
from .numbers import Number, log10_abs, show, to_float
from .update import UpdateResult

FORMATS = ("table", "json", "csv", "value")
TABLE_DIGITS = 12
"""Significant digits the table shows by default (--digits changes it)."""

Cell = Any  # a Number, str, int or None


@dataclass(frozen=True)
class Options:
    format: str = "table"
    exact: bool = False
    digits: int = TABLE_DIGITS
    symbolic: bool = False  # json: add the derivation
    latex: bool = False  # print the derivation's LaTeX alone


@dataclass
class Report:
    """What a command has to say, before any formatting."""

    title: str
    headers: dict[str, str]  # record key -> table column header
    records: list[dict[str, Cell]]  # one per table row / csv row
    headline: list[Number]  # the value format's line
    data: dict[str, Any]  # the json object (numbers still raw)
    summary: list[tuple[str, Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vertical: bool = False  # a single record shown as name/value lines
    tables: list[tuple[str, list[str]]] = field(default_factory=list)  # split the table: (title, keys)
    extra: list[Any] = field(default_factory=list)  # Rich renderables for the table


def render(result: object, options: Options, out: TextIO | None = None, derivation: Any = None) -> None:
    """Write ``result`` in ``options.format``. ``derivation`` (a symbolic.Derivation) goes
    under the table, into the json with --symbolic, or alone with --latex."""
    out = out if out is not None else sys.stdout
    if options.latex:
        out.write(derivation.latex + "\n")
        return
    report = report_for(result)
    if derivation is not None:
        report.notes[:0] = list(derivation.lines)
        if options.symbolic:
            report.data["derivation"] = derivation.data
    _WRITERS[options.format](report, options, out)


def report_for(result: object) -> Report:
    # Keyed by class name so that render.py need not import symbolic.py (and SymPy).
    build = _BUILDERS.get(type(result).__name__)
    if build is None:
        raise TypeError(f"no report for {type(result).__name__}")
    return build(result)


# ---------------------------------------------------------------------------
# Reports, one per result type


def headline_fields(value: Number) -> dict[str, Any]:
    """The JSON float and log10 that go beside a headline number."""
    return {"float": to_float(value), "log10": log10_abs(value)}


def _chain_report(result: ChainResult) -> Report:
    n = len(result.local)
    backprop = result.loss_gradient is not None
    wrt_name = "dL/dx" if backprop else f"dx{n}/dx"
    headers = {"layer": "layer", "local": "local D"}
    for net in result.networks:
        headers[f"{net.name}_factor"] = f"{net.name} factor" + (" 1+D" if net.name == RESIDUAL else "")
        headers[f"{net.name}_gradient"] = f"{net.name} {wrt_name}_in"
    records = []
    for i, d in enumerate(result.local, start=1):
        record: dict[str, Cell] = {"layer": i, "local": d}
        for net in result.networks:
            record[f"{net.name}_factor"] = net.factors[i - 1]
            record[f"{net.name}_gradient"] = net.wrt[i - 1]
        records.append(record)

    data: dict[str, Any] = {"command": result.command, "layers": n, "local": list(result.local)}
    summary: list[tuple[str, Cell]] = []
    if backprop:
        loss = result.loss
        data["loss_kind"] = loss.kind if loss else None
        data["loss"] = loss.value if loss else None
        data["loss_gradient"] = result.loss_gradient
        if loss:
            summary.append((f"loss ({loss.kind}, T={_plain(loss.target)}, P={_plain(loss.pred)})", loss.value))
        summary.append((f"dL/dx{n}", result.loss_gradient))
    for net in result.networks:
        data[net.name] = {
            "gradient": net.gradient,
            **headline_fields(net.gradient),
            "wrt": list(net.wrt),
            "wrt_exact": net.wrt_exact,
        }
        label = "dL/dx0" if backprop else f"dx{n}/dx0"
        summary.append((f"{net.name} {label}", net.gradient))
    if result.network(PLAIN) and result.network(RESIDUAL):
        data["ratio"] = result.ratio
        summary.append(("residual / plain", result.ratio if result.ratio is not None else "undefined (plain is 0)"))
    notes = []
    if any(not net.wrt_exact for net in result.networks):
        notes.append(f"Per-layer gradients of this {n}-layer chain carry 60 significant digits; the totals are exact.")
    return Report(
        title=f"{result.command}: {n} layer{'s' if n != 1 else ''}",
        headers=headers,
        records=records,
        headline=[net.gradient for net in result.networks],
        data=data,
        summary=summary,
        notes=notes,
    )


def _plain(value: Number) -> str:
    return show(value).text


def _loss_report(result: LossResult) -> Report:
    record: dict[str, Cell] = {"kind": result.kind, "target": result.target, "pred": result.pred}
    if result.delta is not None:
        record["delta"] = result.delta
    record.update(loss=result.value, gradient=result.gradient)
    headers = {key: key for key in record}
    headers.update(loss="loss L", gradient="dL/dpred")
    notes = [result.formula, result.derivative, result.direction]
    if result.note:
        notes.append(result.note[0].upper() + result.note[1:] + ".")
    data = {
        "command": "loss",
        **record,
        **headline_fields(result.gradient),
        "loss_float": to_float(result.value),
        "formula": result.formula,
        "derivative": result.derivative,
        "direction": result.direction,
        "note": result.note,
    }
    return Report(
        title=f"loss: {result.kind}",
        headers=headers,
        records=[record],
        headline=[result.value, result.gradient],
        data=data,
        notes=notes,
        vertical=True,
    )


def _update_report(result: UpdateResult) -> Report:
    record: dict[str, Cell] = {
        "weight": result.weight,
        "lr": result.lr,
        "grad": result.grad,
        "input": result.input,
        "new_weight": result.new_weight,
        "step": result.step,
    }
    headers = {key: key.replace("_", " ") for key in record}
    notes = ["new weight = weight - lr * grad * input; step = new weight - weight."]
    return Report(
        title="update",
        headers=headers,
        records=[record],
        headline=[result.new_weight],
        data={"command": "update", **record, **headline_fields(result.new_weight)},
        notes=notes,
        vertical=True,
    )


def _formula_report(result: Any) -> Report:
    """Formula layers: each network visits its own points, so each has its own D_i."""
    n = len(result.layers)
    backprop = result.loss_gradient is not None
    wrt_name = "dL/dx_in" if backprop else f"dx{n}/dx_in"
    headers = {"layer": "layer", "fn": "F(x)", "derivative": "F'(x)"}
    for net in result.networks:
        headers[f"{net.name}_x"] = f"{net.name} x_in"
        headers[f"{net.name}_local"] = f"{net.name} F'(x_in)"
        headers[f"{net.name}_gradient"] = f"{net.name} {wrt_name}"
    records = []
    for i, layer in enumerate(result.layers, start=1):
        record: dict[str, Cell] = {"layer": i, "fn": layer.text, "derivative": str(layer.df)}
        for net in result.networks:
            record[f"{net.name}_x"] = net.points[i - 1]
            record[f"{net.name}_local"] = net.local[i - 1]
            record[f"{net.name}_gradient"] = net.wrt[i - 1]
        records.append(record)
    data: dict[str, Any] = {
        "command": result.command,
        "layers": n,
        "at": result.at,
        "fn": [layer.text for layer in result.layers],
        "derivative": [str(layer.df) for layer in result.layers],
    }
    summary: list[tuple[str, Cell]] = []
    if backprop:
        data["loss_kind"] = result.loss.kind if result.loss else None
        data["loss"] = result.loss.value if result.loss else None
        data["loss_gradient"] = result.loss_gradient
        summary.append((f"dL/dx{n}", result.loss_gradient))
    for net in result.networks:
        data[net.name] = {
            "gradient": net.gradient,
            **headline_fields(net.gradient),
            "wrt": list(net.wrt),
            "points": list(net.points),
            "local": list(net.local),
            "symbolic": net.closed_form,
        }
        summary.append((f"{net.name} x{n}", net.points[-1]))
        summary.append((f"{net.name} {'dL' if backprop else f'dx{n}'}/dx0", net.gradient))
    tables = [
        (f"{net.name} network", ["layer", "fn", f"{net.name}_x", f"{net.name}_local", f"{net.name}_gradient"])
        for net in result.networks
    ]
    notes = [
        f"x_0 = {_plain(result.at)}; plain x_i = F_i(x_(i-1)), residual x_i = x_(i-1) + F_i(x_(i-1)).",
        "relu'(0) = 0 and abs'(0) = 0; gelu is x*Phi(x) (the erf form).",
    ]
    for net in result.networks:
        notes.append(f"{net.name} closed form: {'dL/dx0' if backprop else f'dx{n}/dx0'} = {net.closed_form}")
    return Report(
        title=f"{result.command}: {n} formula layer{'s' if n != 1 else ''} at x0 = {_plain(result.at)}",
        headers=headers,
        records=records,
        headline=[net.gradient for net in result.networks],
        data=data,
        summary=summary,
        notes=notes,
        tables=tables,
    )


_BUILDERS: dict[str, Callable[[Any], Report]] = {
    "ChainResult": _chain_report,
    "LossResult": _loss_report,
    "UpdateResult": _update_report,
    "FormulaResult": _formula_report,
}


def register(kind: type, build: Callable[[Any], Report]) -> None:
    """Let another module (depth, paths, ...) add its result type."""
    _BUILDERS[kind.__name__] = build


# ---------------------------------------------------------------------------
# Writers, one per format


def _text(value: Cell, options: Options) -> str:
    """A cell for csv and value output: full 40-digit rule, no marks."""
    if isinstance(value, (Fraction, Decimal)):
        return show(value, exact=options.exact).text
    return "" if value is None else str(value)


def _jsonable(value: Any, options: Options, rounded: list[bool]) -> Any:
    if isinstance(value, (Fraction, Decimal)):
        shown = show(value, exact=options.exact)
        if not shown.exact:
            rounded.append(True)
        return shown.text
    if isinstance(value, Mapping):
        return {key: _jsonable(v, options, rounded) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, options, rounded) for v in value]
    return value


def write_json(report: Report, options: Options, out: TextIO) -> None:
    rounded: list[bool] = []
    data = _jsonable(report.data, options, rounded)
    data["exact"] = not rounded  # false when any number string is rounded to 40 digits
    json.dump(data, out, ensure_ascii=False)
    out.write("\n")


def write_csv(report: Report, options: Options, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    keys = list(report.headers)
    writer.writerow(keys)
    for record in report.records:
        writer.writerow([_text(record.get(key), options) for key in keys])


def write_value(report: Report, options: Options, out: TextIO) -> None:
    out.write("\t".join(_text(v, options) for v in report.headline) + "\n")


def write_table(report: Report, options: Options, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    rounded = False

    def cell(value: Cell) -> str:
        nonlocal rounded
        if isinstance(value, (Fraction, Decimal)):
            shown = show(value, exact=options.exact, digits=options.digits)
            rounded = rounded or not shown.exact
            return shown.text if shown.exact else "≈" + shown.text
        return "" if value is None else str(value)

    console = Console(file=out, highlight=False, soft_wrap=False)
    if report.vertical:
        table = Table(title=report.title, show_header=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        for key, label in report.headers.items():
            table.add_row(label, cell(report.records[0].get(key)))
        console.print(table)
    else:
        for title, keys in report.tables or [(report.title, list(report.headers))]:
            table = Table(title=title)
            for key in keys:
                table.add_column(report.headers[key], justify="left" if key in ("layer", "fn") else "right")
            for record in report.records:
                table.add_row(*(cell(record.get(key)) for key in keys))
            console.print(table)
    if report.summary:
        summary = Table.grid(padding=(0, 2))
        summary.add_column(style="bold")
        summary.add_column(justify="right")
        for label, value in report.summary:
            summary.add_row(label, cell(value))
        console.print(summary)
    for renderable in report.extra:
        console.print(renderable)
    for note in report.notes:
        console.print(note, markup=False, soft_wrap=True)  # formulas: never broken mid-line
    if rounded:
        console.print(
            f"≈ marks a value rounded to {options.digits} significant digits (--digits N for more, --exact for all).",
            markup=False,
        )


_WRITERS: dict[str, Callable[[Report, Options, TextIO], None]] = {
    "table": write_table,
    "json": write_json,
    "csv": write_csv,
    "value": write_value,
}
