"""One renderer for every command: table, json, csv or value.

Each command's result becomes a :class:`Report` (records, summary, notes, headline
and a JSON payload, all holding raw numbers); :func:`render` writes a Report in the
chosen format. Numbers become text only here, through :func:`skipcalc.numbers.show`.
Rich is imported only for the table.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import compress, repeat
from operator import not_
from typing import TYPE_CHECKING, Any, TextIO

from .numbers import Number, decimal_texts, log10_abs, per_object, show, to_float

if TYPE_CHECKING:  # the result types; render.py dispatches on their names
    from .chain import ChainResult
    from .losses import LossResult
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
    plot: bool = True  # table: draw the chart (depth, paths)
    save: str | None = None  # write the chart as SVG to this file
    line: int | None = None  # --batch: the stdin line this result answers
    header: bool = True  # csv: write the header row


@dataclass
class Report:
    """What a command has to say, before any formatting."""

    title: str
    headers: dict[str, str]  # record key -> table column header
    records: list[dict[str, Cell]] | Callable[[], list[dict[str, Cell]]]  # table/csv rows, or how to build them
    headline: list[Number]  # the value format's line
    data: dict[str, Any]  # the json object (numbers still raw)
    summary: list[tuple[str, Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vertical: bool = False  # a single record shown as name/value lines
    tables: list[tuple[str, list[str]]] = field(default_factory=list)  # split the table: (title, keys)
    chart: Any = None  # a charts.LineChart or BarChart

    @property
    def rows(self) -> list[dict[str, Cell]]:
        return self.records() if callable(self.records) else self.records


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
    if options.save and report.chart is not None:
        from .charts import svg

        with open(options.save, "w", encoding="utf-8") as file:
            file.write(svg(report.chart))
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
        headers[f"{net.name}_factor"] = f"{net.name} factor" + (" 1+D" if net.name == "residual" else "")
        headers[f"{net.name}_gradient"] = f"{net.name} {wrt_name}_in"

    def records() -> list[dict[str, Cell]]:  # built only for table and csv
        rows = []
        for i, d in enumerate(result.local, start=1):
            record: dict[str, Cell] = {"layer": i, "local": d}
            for net in result.networks:
                record[f"{net.name}_factor"] = net.factors[i - 1]
                record[f"{net.name}_gradient"] = net.wrt[i - 1]
            rows.append(record)
        return rows

    data: dict[str, Any] = {"command": result.command, "layers": n, "local": list(result.local)}
    summary = _backprop_fields(result, n, data)
    for net in result.networks:
        data[net.name] = {**_network_fields(net), "wrt_exact": net.wrt_exact}
        label = "dL/dx0" if backprop else f"dx{n}/dx0"
        summary.append((f"{net.name} {label}", net.gradient))
    if len(result.networks) == 2:
        ratio = data["ratio"] = result.ratio
        summary.append(("residual / plain", ratio if ratio is not None else "undefined (plain is 0)"))
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


def _backprop_fields(result: Any, n: int, data: dict[str, Any]) -> list[tuple[str, Cell]]:
    """What backprop adds to a chain report (numeric or formula): the loss and dL/dx_n into
    ``data``; the summary lines that start the table's summary."""
    if result.loss_gradient is None:
        return []
    loss = result.loss
    data["loss_kind"] = loss.kind if loss else None
    data["loss"] = loss.value if loss else None
    data["loss_gradient"] = result.loss_gradient
    summary: list[tuple[str, Cell]] = []
    if loss:
        summary.append((f"loss ({loss.kind}, T={_plain(loss.target)}, P={_plain(loss.pred)})", loss.value))
    summary.append((f"dL/dx{n}", result.loss_gradient))
    return summary


def _network_fields(net: Any) -> dict[str, Any]:
    """The JSON keys every network object has."""
    return {"gradient": net.gradient, **headline_fields(net.gradient), "wrt": list(net.wrt)}


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
    summary = _backprop_fields(result, n, data)
    for net in result.networks:
        data[net.name] = {
            **_network_fields(net),
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


def _depth_report(result: Any) -> Report:
    from .charts import LineChart, log10_series

    scaled = result.loss_gradient is not None
    records = [
        {"depth": row.depth, "plain": row.plain, "residual": row.residual, "ratio": row.ratio} for row in result.rows
    ]
    g = f"{_plain(result.loss_gradient)} * " if scaled else ""
    headers = {"depth": "depth n", "plain": f"plain {g}D^n", "residual": f"residual {g}(1+D)^n", "ratio": "ratio"}
    keys = ("plain_below_float32_at", "plain_below_float64_at", "residual_above_float32_at",
            "residual_above_float64_at", "plain_below_vanish_at")  # fmt: skip
    labels = (
        "|plain| first below float32's smallest normal (2^-126) at depth",
        "|plain| first below float64's smallest normal (2^-1022) at depth",
        "|residual| first above float32's largest finite at depth",
        "|residual| first above float64's largest finite at depth",
        f"|plain| first below --vanish {_plain(result.vanish)} at depth",
    )
    summary: list[tuple[str, Cell]] = [
        (label, getattr(result, key) if getattr(result, key) is not None else "never")
        for label, key in zip(labels, keys, strict=True)
    ]
    depths = [row.depth for row in result.rows]
    chart = LineChart(
        f"log10 |gradient| against depth (D = {_plain(result.local)})",
        "depth n",
        "log10 |gradient|",
        (
            log10_series("plain", depths, [row.plain for row in result.rows], "o", "red"),
            log10_series("residual", depths, [row.residual for row in result.rows], "*", "green"),
        ),
    )
    last = result.rows[-1]
    return Report(
        title=f"depth: D = {_plain(result.local)}" + (f", dL/dx_n = {_plain(result.loss_gradient)}" if scaled else ""),
        headers=headers,
        records=records,
        headline=[last.plain, last.residual],
        data={
            "command": "depth",
            "local": result.local,
            "loss_gradient": result.loss_gradient,
            "rows": records,
            "summary": {key: getattr(result, key) for key in keys} | {"vanish": result.vanish},
        },
        summary=summary,
        notes=[
            "The depths above are exact, for any depth (not only the rows shown): a float implementation "
            "silently turns the gradient into 0 (or inf) from there on."
        ],  # fmt: skip
        chart=chart,
    )


def _paths_report(result: Any) -> Report:
    from .charts import BarChart

    total = result.total
    records = []
    running = Fraction(0)
    for k, e in enumerate(result.contributions):
        share = e / total if total else None
        running += e
        records.append({"length": k, "paths": result.paths(k), "contribution": e, "share": share,
                        "cumulative": running / total if total else None})  # fmt: skip
    a, b = result.band
    band = {"from": a, "to": b, "mass": result.mass, "share": result.band_share}
    magnitude = sum((abs(e) for e in result.contributions), Fraction(0))
    shares = tuple(float(abs(e) / magnitude) if magnitude else 0.0 for e in result.contributions)
    chart = BarChart(
        f"share of |gradient| by path length (n = {result.layers}; band {a}-{b} in green)",
        tuple(str(k) for k in range(len(shares))),
        shares,
        (a, b),
    )
    return Report(
        title=f"paths: {result.layers} residual blocks, 2^{result.layers} paths",
        headers={
            "length": "length k",
            "paths": "paths C(n,k)",
            "contribution": "contribution e_k",
            "share": "share",
            "cumulative": "cumulative",
        },  # fmt: skip
        records=records,
        headline=[total, Fraction(a), Fraction(b)],
        data={"command": "paths", "layers": result.layers, "total": total, "by_length": records, "band": band},
        summary=[
            ("total (1+D_1)...(1+D_n)", total),
            (f"band carrying {_plain(result.mass)} of the magnitude", f"lengths {a} to {b}"),
            ("its share", result.band_share),
        ],
        notes=[
            "Veit et al. (2016) found that in a 110-layer residual net most of the gradient comes from "
            "paths 10-34 layers deep: the band plays that role here."
        ],  # fmt: skip
        chart=chart,
    )


def _matrix_text(m: Any) -> str:
    return "[" + ", ".join("[" + ", ".join(_plain(x) for x in row) + "]" for row in m) + "]"


def _jacobian_report(result: Any) -> Report:
    n = len(result.jacobians)
    d = len(result.jacobians[0])
    backprop = result.loss_gradient is not None
    headers = {"layer": "layer"}
    for net in result.networks:
        headers[f"{net.name}_norm"] = f"{net.name} ||dx{n}/dx_in||2"
        headers[f"{net.name}_min"] = f"{net.name} sigma_min"
    records = []
    for k in range(n):
        record: dict[str, Cell] = {"layer": k + 1}
        for net in result.networks:
            record[f"{net.name}_norm"] = net.spectra[k].spectral_norm
            record[f"{net.name}_min"] = net.spectra[k].min_singular_value
        records.append(record)
    data: dict[str, Any] = {"command": result.command, "layers": n, "dim": d}
    if backprop:
        data["loss_gradient"] = list(result.loss_gradient)
    summary: list[tuple[str, Cell]] = []
    notes = [f"J_{i} = {_matrix_text(j)}" for i, j in enumerate(result.jacobians, start=1)]
    headline: list[Any] = []
    for net in result.networks:
        spectrum = net.spectra[0]
        data[net.name] = {
            "gradient": [list(row) for row in net.gradient],
            "singular_values": list(spectrum.singular_values),
            "spectral_norm": spectrum.spectral_norm,
            "min_singular_value": spectrum.min_singular_value,
            "condition_number": spectrum.condition_number,
            "per_layer": [
                {"layer": k + 1, "spectral_norm": s.spectral_norm, "min_singular_value": s.min_singular_value}
                for k, s in enumerate(net.spectra)
            ],
        }
        product = "(I + J_n) ... (I + J_1)" if net.name == "residual" else "J_n ... J_1"
        notes.append(f"{net.name} dx{n}/dx0 = {product} = {_matrix_text(net.gradient)}")
        summary.append((f"{net.name} spectral norm", spectrum.spectral_norm))
        summary.append((f"{net.name} smallest singular value", spectrum.min_singular_value))
        condition = spectrum.condition_number
        summary.append((f"{net.name} condition number", condition if condition is not None else "inf (singular)"))
        if backprop:
            data[net.name]["gradient_vector"] = list(net.vector)
            notes.append(f"{net.name} dL/dx0 = (dx{n}/dx0)^T dL/dx{n} = [{', '.join(_plain(x) for x in net.vector)}]")
            headline.append("[" + ",".join(_plain(x) for x in net.vector) + "]")
        else:
            headline.append(spectrum.spectral_norm)
    notes.append("Singular values: mpmath at 50 digits (exact zeros from the exact rank).")
    return Report(
        title=f"{result.command}: {n} Jacobian layer{'s' if n != 1 else ''}, {d}x{d}",
        headers=headers,
        records=records,
        headline=headline,
        data=data,
        summary=summary,
        notes=notes,
    )


def _random_jacobian_report(result: Any) -> Report:
    from .charts import LineChart, Series

    names = [name for name in ("plain", "residual") if getattr(result, name)]
    headers = {"depth": "depth"}
    for name in names:
        headers[f"{name}_max"] = f"{name} sigma_max"
        headers[f"{name}_min"] = f"{name} sigma_min"
    records = []
    for k in range(result.layers):
        record: dict[str, Cell] = {"depth": k + 1}
        for name in names:
            values = getattr(result, name)[k]
            record[f"{name}_max"], record[f"{name}_min"] = values[0], values[-1]
        records.append(record)
    data: dict[str, Any] = {"command": "chain", "jacobians": "random", "dim": result.dim, "layers": result.layers,
                            "scale": result.scale, "seed": result.seed, "rows": records}  # fmt: skip
    summary: list[tuple[str, Cell]] = []
    series = []
    marks = {"plain": ("o", "red"), "residual": ("*", "green")}
    for name in names:
        final = getattr(result, name)[-1]
        low = final[-1]
        data[name] = {
            "singular_values": list(final),
            "spectral_norm": final[0],
            "min_singular_value": low,
            "condition_number": final[0] / low if low > 0 else None,
        }
        summary.append((f"{name} sigma_max / sigma_min at depth {result.layers}", f"{final[0]:.6g} / {low:.6g}"))
        for which, pick in (("max", 0), ("min", -1)):
            points = tuple(
                (float(k + 1), math.log10(v[pick]))
                for k, v in enumerate(getattr(result, name))
                if 0 < v[pick] < math.inf
            )
            mark, style = marks[name]
            series.append(Series(f"{name} sigma_{which}", points, mark if which == "max" else ".", style))
    chart = LineChart(f"log10 singular values of the running product (d = {result.dim})", "depth", "log10 sigma",
                      tuple(series))  # fmt: skip
    return Report(
        title=f"chain: {result.layers} random {result.dim}x{result.dim} Jacobians, scale {_plain(result.scale)}, "
        f"seed {result.seed}",
        headers=headers,
        records=records,
        headline=[getattr(result, name)[-1][0] for name in names],
        data=data,
        summary=summary,
        notes=[
            "Entries ~ N(0, scale^2/d); floats (numpy). A residual product keeps its singular values near 1 "
            "for small scales (dynamical isometry: Saxe et al. 2014, Pennington et al. 2017)."
        ],  # fmt: skip
        chart=chart,
    )


_BUILDERS: dict[str, Callable[[Any], Report]] = {
    "JacobianResult": _jacobian_report,
    "RandomJacobianResult": _random_jacobian_report,
    "DepthResult": _depth_report,
    "PathsResult": _paths_report,
    "ChainResult": _chain_report,
    "LossResult": _loss_report,
    "UpdateResult": _update_report,
    "FormulaResult": _formula_report,
}


# ---------------------------------------------------------------------------
# Writers, one per format


def _text(value: Cell, options: Options) -> str:
    """A cell for csv and value output: full 40-digit rule, no marks."""
    if isinstance(value, (Fraction, Decimal)):
        return show(value, exact=options.exact).text
    if isinstance(value, float):  # numpy's doubles (random Jacobians): --digits of them
        return f"{value:.{min(options.digits, 17)}g}"
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
        if len(value) > 64:
            return _jsonable_many(value, options, rounded)
        return [_jsonable(v, options, rounded) for v in value]
    return value


class NumberTexts(list):  # type: ignore[type-arg]
    """A long list of number texts (digits, '.', '-', 'e', '/': nothing JSON escapes), which
    write_json joins itself rather than having the encoder look at each of millions."""


def _jsonable_many(values: Sequence[Any], options: Options, rounded: list[bool]) -> list[Any]:
    """_jsonable of a long chain's per-layer values (up to millions), at C speed where it
    can be: carried Decimals in bulk, and each distinct other object once."""
    is_decimal = list(map(isinstance, values, repeat(Decimal)))
    decimals = list(compress(values, is_decimal))
    kind = NumberTexts if set(map(type, values)) <= {Fraction, Decimal} else list
    if not decimals:
        return kind(per_object(values, lambda v: _jsonable(v, options, rounded)))
    rounded.append(True)  # carried values are rounded to 40 digits
    others = per_object(list(compress(values, map(not_, is_decimal))), lambda v: _jsonable(v, options, rounded))
    carried = decimal_texts(decimals)
    start = is_decimal.index(True)
    if all(is_decimal[start : start + len(carried)]):  # one run (a chain's wrt)
        return kind(others[:start] + carried + others[start:])
    other, text = iter(others), iter(carried)
    return kind([next(text) if flag else next(other) for flag in is_decimal])


def write_json(report: Report, options: Options, out: TextIO) -> None:
    rounded: list[bool] = []
    data = _jsonable(report.data, options, rounded)
    data["exact"] = not rounded  # false when any number string is rounded to 40 digits
    if options.line is not None:
        data = {"line": options.line, **data}
    out.writelines(json_pieces(data))
    out.write("\n")


def json_pieces(value: Any) -> Iterator[str]:
    """json.dumps(value, ensure_ascii=False) in pieces, NumberTexts joined directly: a
    million-layer chain's lists are written without the encoder looking at each text, and
    without copying the whole document into one string."""
    import json  # each writer imports its own module: start-up pays only for the format used

    if type(value) is dict and all(type(key) is str for key in value) and _holds_texts(value):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield f"{', ' if i else ''}{json.dumps(key, ensure_ascii=False)}: "
            yield from json_pieces(item)
        yield "}"
    elif type(value) is NumberTexts:
        yield '["' + '", "'.join(value) + '"]' if value else "[]"
    else:
        yield json.dumps(value, ensure_ascii=False)  # the C encoder; json.dump would be pure Python


def _holds_texts(value: dict[str, Any]) -> bool:
    """Whether NumberTexts are among the values of ``value`` or of the dicts within it."""
    return any(type(item) is NumberTexts or (type(item) is dict and _holds_texts(item)) for item in value.values())


def write_csv(report: Report, options: Options, out: TextIO) -> None:
    import csv

    writer = csv.writer(out, lineterminator="\n")
    keys = list(report.headers)
    batch = [] if options.line is None else [options.line]
    if options.header:
        writer.writerow((["line"] if batch else []) + keys)
    for record in report.rows:
        writer.writerow(batch + [_text(record.get(key), options) for key in keys])


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
        if isinstance(value, float):  # the random-Jacobian path computes in doubles
            return f"{value:.{min(options.digits, 17)}g}"
        return "" if value is None else str(value)

    console = Console(file=out, highlight=False, soft_wrap=False, emoji=False)  # no :codes: (3 ms of import)
    if report.vertical:
        table = Table(title=report.title, show_header=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        for key, label in report.headers.items():
            table.add_row(label, cell(report.rows[0].get(key)))
        console.print(table)
    else:
        for title, keys in report.tables or [(report.title, list(report.headers))]:
            table = Table(title=title)
            for key in keys:
                table.add_column(report.headers[key], justify="left" if key in ("layer", "fn") else "right")
            for record in report.rows:
                table.add_row(*(cell(record.get(key)) for key in keys))
            console.print(table)
    if report.summary:
        summary = Table.grid(padding=(0, 2))
        summary.add_column(style="bold")
        summary.add_column(justify="right")
        for label, value in report.summary:
            summary.add_row(label, cell(value))
        console.print(summary)
    if report.chart is not None and options.plot:
        from .charts import terminal

        console.print(terminal(report.chart))
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
