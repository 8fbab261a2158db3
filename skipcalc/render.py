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
    extra: list[Any] = field(default_factory=list)  # Rich renderables for the table


def render(result: object, options: Options, out: TextIO | None = None) -> None:
    report = result if isinstance(result, Report) else report_for(result)
    write = _WRITERS[options.format]
    write(report, options, out if out is not None else sys.stdout)


def report_for(result: object) -> Report:
    for kind, build in _BUILDERS.items():
        if isinstance(result, kind):
            return build(result)
    raise TypeError(f"no report for {type(result).__name__}")


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
            summary.append(
                (f"loss ({loss.kind}, T={_plain(loss.target)}, P={_plain(loss.pred)})", loss.value)
            )
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
        summary.append(
            ("residual / plain", result.ratio if result.ratio is not None else "undefined (plain is 0)")
        )
    notes = []
    if any(not net.wrt_exact for net in result.networks):
        notes.append(
            f"Per-layer gradients of this {n}-layer chain carry 60 significant digits; the totals are exact."
        )
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


_BUILDERS: dict[type, Callable[[Any], Report]] = {
    ChainResult: _chain_report,
    LossResult: _loss_report,
    UpdateResult: _update_report,
}


def register(kind: type, build: Callable[[Any], Report]) -> None:
    """Let another module (depth, paths, ...) add its result type."""
    _BUILDERS[kind] = build


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
    else:
        table = Table(title=report.title)
        for key, label in report.headers.items():
            table.add_column(label, justify="left" if key == "layer" else "right")
        for record in report.records:
            table.add_row(*(cell(record.get(key)) for key in report.headers))
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
        console.print(note, markup=False)
    if rounded:
        console.print(
            f"≈ marks a value rounded to {options.digits} significant digits "
            "(--digits N for more, --exact for all).",
            markup=False,
        )


_WRITERS: dict[str, Callable[[Report, Options, TextIO], None]] = {
    "table": write_table,
    "json": write_json,
    "csv": write_csv,
    "value": write_value,
}
