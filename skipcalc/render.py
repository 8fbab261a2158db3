"""One renderer for every result: table, json, csv or value.

Each result type has a report builder (chosen by class, in REPORTS) that turns it into a
:class:`Report` holding raw numbers; the writers turn a Report into text. Numbers become
text only here, through :func:`skipcalc.exact.show`, under one rule per output:

- table: a decimal when the value terminates within --digits (12) significant digits; a
  fraction when it does not but p and q have at most 6 digits (1/3, 250/429); else rounded
  and marked ≈. Counts are exact integers; shares are percentages. A number is never cut: a
  column that does not fit shows fewer digits in scientific notation, and below that the
  table is stacked, one block per row.
- csv and value: a decimal or scientific notation that awk, jq and float() read (rounded to
  --digits, 40, when it does not terminate); p/q only with --exact.
- json: the exact text (p/q where it is short), its float, and "exact".

Rich is imported only for tables; matplotlib only for --save (charts.py).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import compress, repeat
from operator import not_
from typing import Any, TextIO

from . import _kernels
from .exact import SIGNIFICANT, TABLE_DIGITS, TABLE_FRACTION, Number, log10_abs, show, to_float
from .results import (
    ChainResult,
    DepthResult,
    Derivation,
    Equation,
    FormulaResult,
    InitResult,
    JacobianResult,
    LossResult,
    Network,
    PathsResult,
    RandomJacobianResult,
    Stored,
    UpdateResult,
)

MIN_TABLE_WIDTH = 50
"""Tables are laid out as tables from this width on; narrower, one block per row."""
ROWS_SHOWN = 40
"""A longer table shows its first and last ROWS_SHOWN / 2 rows (--all-rows: every row)."""


@dataclass(frozen=True)
class Options:
    format: str = "table"
    exact: bool = False
    digits: int | None = None  # None: 12 in tables, 40 elsewhere
    symbolic: bool = False
    latex: bool = False
    plot: bool = True
    save: str | None = None
    force: bool = False
    all_rows: bool = False
    line: int | None = None  # --batch: the stdin line this result answers
    header: bool = True  # --batch csv: write the header row
    width: int | None = None  # table width (else the terminal's)

    @property
    def table_digits(self) -> int:
        return self.digits or TABLE_DIGITS

    @property
    def machine_digits(self) -> int:
        return self.digits or SIGNIFICANT


@dataclass(frozen=True)
class Share:
    """A share of a total: a percentage in tables, the fraction elsewhere."""

    value: Number


@dataclass(frozen=True)
class Float:
    """A float64 result (random Jacobians) with the significant digits it has earned; 0 means
    it is below the round-off of the computation that produced it (``bound``)."""

    value: float
    digits: int
    bound: float = 0.0


@dataclass
class Report:
    """What a command has to say, before any formatting."""

    title: str
    columns: dict[str, str]  # row key -> table header
    rows: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]]
    headline: list[Any]  # the value line
    data: dict[str, Any]  # the json object, numbers still raw
    summary: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str]]] = field(default_factory=list)  # split the table: (title, keys)
    extra: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = field(default_factory=list)  # more tables
    chart: Callable[[], Any] | None = None  # built only when drawn or saved
    vertical: bool = False  # one record shown as name/value lines
    row_name: str = "layer"
    floats: bool = False  # computed in floats: json says "exact": false whatever the texts

    def records(self) -> list[dict[str, Any]]:
        if callable(self.rows):
            self.rows = self.rows()
        return self.rows


def render(result: object, options: Options, out: TextIO | None = None, derivation: Derivation | None = None) -> None:
    """Write ``result`` in ``options.format``; ``derivation`` goes under the table, into the
    json with --symbolic, or alone with --latex."""
    out = out if out is not None else sys.stdout
    if options.latex:
        if derivation is None:
            raise AssertionError("--latex without a derivation")
        _flush_progress()
        out.write(derivation.latex + "\n")
        return
    report = report_for(result)
    if derivation is not None and options.symbolic:
        report.data["derivation"] = derivation.data
    if options.save:
        from .charts import save

        save(report.chart() if report.chart is not None else None, options.save, options.force)
    WRITERS[options.format](report, options, out, derivation)


def write(result: object, options: Options, out: TextIO | None = None) -> None:
    """A --batch line's result: no derivation, no chart; a value line from the result itself."""
    out = out if out is not None else sys.stdout
    if options.format == "value" and type(result) in HEADLINES:
        out.write("\t".join([plain_text(v, options) for v in HEADLINES[type(result)](result)]) + "\n")
        return
    WRITERS[options.format](report_for(result), options, out, None)


def report_for(result: object) -> Report:
    build = REPORTS.get(type(result))
    if build is None:
        raise TypeError(f"no report for {type(result).__name__}")
    return build(result)


def _flush_progress() -> None:
    from . import progress

    progress.stop()


# ---------------------------------------------------------------------------
# Reports, one per result type


def headline_fields(value: Number) -> dict[str, Any]:
    """The json float and log10 that go beside a headline number."""
    return {"float": to_float(value), "log10": log10_abs(value)}


def short(value: Number) -> str:
    """A number inside a sentence or a title."""
    return show(value, digits=12, fraction=TABLE_FRACTION).text


def _network_json(net: Network) -> dict[str, Any]:
    fields: dict[str, Any] = {"gradient": net.gradient, **headline_fields(net.gradient)}
    if net.wrt is not None:
        fields["wrt"] = list(net.wrt)
        fields["wrt_exact"] = net.wrt_exact
    if net.stored is not None:
        fields["dtype"] = _stored_json(net.stored)
    return fields


def _stored_json(stored: Stored) -> dict[str, Any]:
    scale = stored.loss_scale
    scale_json = None
    if scale is not None and scale.lowest is not None and scale.highest is not None:
        scale_json = {"lowest": show(scale.lowest, exact=True).text, "highest": show(scale.highest, exact=True).text}
    return {
        "name": stored.format,
        "stored": list(stored.values),
        "status": list(stored.status),
        "loss_scale": scale_json,
        **(
            {"loss_scale_short_by": scale.short, "held_by": list(scale.holders)}
            if scale is not None and scale.lowest is None
            else {}
        ),
    }


def _gradient_header(net: Network, n: int, backprop: bool) -> str:
    return f"{net.name} {'dL' if backprop else f'dx{n}'}/dx_in"


def chain_report(result: ChainResult) -> Report:
    n = len(result.local)
    backprop = result.upstream is not None
    nets = result.networks
    with_factors = len(nets) <= 2 and all(net.stored is None for net in nets)
    columns = {"layer": "layer", "local": "local D"}
    for net in nets:
        if with_factors:
            columns[f"{net.name}_factor"] = f"{net.name} factor" + (
                "" if net.block.kind == "plain" else f" {net.block.factor_text(compact=True)}"
            )
        columns[f"{net.name}_gradient"] = _gradient_header(net, n, backprop)
        if net.stored is not None:
            columns[f"{net.name}_stored"] = f"{net.name} as {net.stored.format}"

    def rows() -> list[dict[str, Any]]:
        records = []
        for i, d in enumerate(result.local, start=1):
            record: dict[str, Any] = {"layer": i, "local": d}
            for net in nets:
                record[f"{net.name}_factor"] = net.factors[i - 1]
                record[f"{net.name}_gradient"] = net.wrt[i - 1] if net.wrt is not None else None
                if net.stored is not None:
                    record[f"{net.name}_stored"] = _stored_cell(net, i - 1)
            records.append(record)
        return records

    data: dict[str, Any] = {"command": result.command, "layers": n, "local": list(result.local)}
    summary = _backprop_summary(result, n, data)
    label = "dL/dx0" if backprop else f"dx{n}/dx0"
    for net in nets:
        if net.name in ("plain", "residual"):
            data[net.name] = _network_json(net)
        summary.append((f"{net.name} {label}", net.gradient))
    if result.blocks_given:
        data["blocks"] = [{"block": net.name, **_network_json(net)} for net in nets]
    classic = {net.name for net in nets} >= {"plain", "residual"}
    if classic:
        data["ratio"] = result.ratio
        summary.append(("residual / plain", result.ratio if result.ratio is not None else "undefined (plain is 0)"))
    notes = []
    if not with_factors:
        notes.append(
            "Each block's factor: " + "; ".join(f"{net.name}: {net.block.factor_text()}" for net in nets) + "."
        )
    if any(net.wrt is not None and not net.wrt_exact for net in nets):
        if all(isinstance(net.gradient, Fraction) for net in nets):
            notes.append(f"Per-layer gradients of this {n:,}-layer chain are correctly rounded; the totals are exact.")
        else:
            notes.append(
                f"The exact products of these {n:,} layers are too large to build: every value is correctly rounded "
                "from 60 carried digits."
            )
    return _networks_report(
        f"{result.command}: {n:,} layer{'s' if n != 1 else ''}", nets, n, backprop, columns, rows, data, summary, notes
    )


def _networks_report(
    title: str,
    nets: Sequence[Network],
    n: int,
    backprop: bool,
    columns: dict[str, str],
    rows: Callable[[], list[dict[str, Any]]],
    data: dict[str, Any],
    summary: list[tuple[str, Any]],
    notes: list[str],
    tables: list[tuple[str, list[str]]] | None = None,
) -> Report:
    """The report of networks side by side (numbers or formulas): each one's gradient on the
    value line, what a float format stores of it, and the chart of the gradient per layer."""
    return Report(
        title=title,
        columns=columns,
        rows=rows,
        headline=[net.gradient for net in nets],
        data=data,
        summary=summary + _stored_summary(nets, n),
        notes=notes + _stored_notes(nets, n),
        tables=tables or [],
        chart=lambda: _gradient_chart(nets, n, backprop),
    )


@dataclass(frozen=True)
class StoredCell:
    """A gradient as a float format stores it, with its status (marked in tables)."""

    value: Fraction | str
    status: str
    lost: bool  # rounded to 0 (from a nonzero gradient), or beyond the largest finite value


def _stored_cell(net: Network, k: int) -> StoredCell:
    stored = net.stored
    assert stored is not None and net.wrt is not None
    status = stored.status[k]
    return StoredCell(
        stored.values[k], status, status in ("inf", "saturated") or (status == "zero" and net.wrt[k] != 0)
    )


def _stored_summary(nets: Sequence[Network], n: int) -> list[tuple[str, Any]]:
    lines: list[tuple[str, Any]] = []
    for net in nets:
        stored = net.stored
        if stored is None:
            continue
        lost = [k for k in range(len(stored.status)) if _stored_cell(net, k).lost]
        sub = [k for k, s in enumerate(stored.status) if s == "subnormal"]
        lines.append((f"{net.name} in {stored.format}: gradients lost", _layers_text(lost) if lost else "none"))
        if sub:
            lines.append((f"{net.name} in {stored.format}: subnormal (precision lost)", _layers_text(sub)))
        scale = stored.loss_scale
        if scale is not None and scale.lowest is not None and scale.highest is not None:
            lines.append(
                (
                    f"{net.name} loss scales that keep every gradient normal",
                    f"{short(scale.lowest)} to {short(scale.highest)}",
                )
            )
        elif scale is not None:
            lines.append((f"{net.name} loss scale", f"none works ({scale.short} powers of two short)"))
    return lines


def _layers_text(indices: list[int]) -> str:
    """Gradient indices k (dx/dx_k) as layer inputs: x_0, x_3-x_7."""
    runs: list[str] = []
    start = prev = None
    for k in [*indices, None]:
        if k is not None and prev is not None and k == prev + 1:
            prev = k
            continue
        if start is not None:
            runs.append(f"x_{start}" if start == prev else f"x_{start}..x_{prev}")
        start = prev = k
    return ", ".join(runs[:6]) + (" ..." if len(runs) > 6 else "")


def _stored_notes(nets: Sequence[Network], n: int) -> list[str]:
    from .formats import BY_NAME, gradscaler_note

    notes = []
    for net in nets:
        if net.stored is not None:
            note = gradscaler_note(BY_NAME[net.stored.format], net.stored.loss_scale)
            if note:
                notes.append(f"{net.name}: {note}")
    if any(net.stored is not None for net in nets):
        fmt = next(net.stored.format for net in nets if net.stored is not None)
        notes.append(
            f"As {fmt} stores them: each exact gradient rounded to nearest (ties to even). Subnormal: below the "
            "smallest normal number, with fewer significant bits (flush-to-zero hardware makes it 0). LOST: "
            "rounded to 0, or beyond the largest finite value (inf; float8_e4m3fn clamps to 448). A loss scale S "
            "multiplies the loss (so every "
            "gradient) by a power of two before the backward pass."
        )
    return notes


def _backprop_summary(result: Any, n: int, data: dict[str, Any]) -> list[tuple[str, Any]]:
    """What backprop adds: the loss and dL/dx_n into ``data``; the summary's first lines."""
    if result.command != "backprop":
        return []
    loss = result.loss
    own = getattr(result, "own_prediction", False)
    data["loss_kind"] = loss.kind if loss else (result.networks[0].loss.kind if own else None)
    data["loss"] = loss.value if loss else None
    data["loss_gradient"] = result.upstream
    if own:
        data["prediction"] = "own"
    summary: list[tuple[str, Any]] = []
    if loss:
        summary.append((f"loss ({loss.kind}, T={short(loss.target)}, P={short(loss.pred)})", loss.value))
    if result.upstream is not None:
        summary.append((f"dL/dx{n}", result.upstream))
    return summary


def _gradient_chart(nets: Sequence[Network], n: int, backprop: bool) -> Any:
    from .charts import LineChart, log10_series

    what = "dL/dx_k" if backprop else f"dx{n}/dx_k"
    series = tuple(
        log10_series(net.name, list(range(n + 1)), list(net.wrt), i)
        for i, net in enumerate(nets)
        if net.wrt is not None
    )
    return LineChart(
        f"|{what}|: the gradient reaching each layer's input ({n:,} layers)", "layer input k (x_k)", f"|{what}|", series
    )


def formula_report(result: FormulaResult) -> Report:
    """Formula layers: each network visits its own points, so each has its own D_k."""
    n = len(result.texts)
    backprop = result.command == "backprop"
    nets = result.networks
    columns = {"layer": "layer", "fn": "F(x)", "derivative": "F'(x)"}
    for net in nets:
        columns[f"{net.name}_x"] = f"{net.name} x_in"
        columns[f"{net.name}_local"] = f"{net.name} F'(x_in)"
        columns[f"{net.name}_gradient"] = _gradient_header(net, n, backprop)
        if net.stored is not None:
            columns[f"{net.name}_stored"] = f"{net.name} as {net.stored.format}"

    def rows() -> list[dict[str, Any]]:
        records = []
        for i, (fn, df) in enumerate(zip(result.texts, result.derivatives, strict=True), start=1):
            record: dict[str, Any] = {"layer": i, "fn": fn, "derivative": _indicator(df)}
            for net in nets:
                record[f"{net.name}_x"] = (net.points or ())[i - 1]
                record[f"{net.name}_local"] = net.local[i - 1]
                record[f"{net.name}_gradient"] = (net.wrt or ())[i - 1]
                if net.stored is not None:
                    record[f"{net.name}_stored"] = _stored_cell(net, i - 1)
            records.append(record)
        return records

    data: dict[str, Any] = {
        "command": result.command,
        "layers": n,
        "at": result.at,
        "fn": list(result.texts),
        "derivative": list(result.derivatives),
    }
    summary = _backprop_summary(result, n, data)
    label = "dL/dx0" if backprop else f"dx{n}/dx0"
    for net in nets:
        fields = {
            **_network_json(net),
            "points": list(net.points or ()),
            "local": list(net.local),
            "symbolic": net.closed_form,
        }
        if result.own_prediction and net.loss is not None:
            fields.update(prediction=net.loss.pred, loss=net.loss.value, loss_gradient=net.loss.gradient)
        if net.name in ("plain", "residual"):
            data[net.name] = fields
        summary.append((f"{net.name} x{n}", (net.points or ())[-1]))
        if result.own_prediction and net.loss is not None:
            summary.append(
                (f"{net.name} loss ({net.loss.kind}, T={short(net.loss.target)}, P = its x{n})", net.loss.value)
            )
            summary.append((f"{net.name} dL/dx{n}", net.loss.gradient))
        summary.append((f"{net.name} {label}", net.gradient))
    if result.blocks_given:
        data["blocks"] = [{"block": net.name, **_network_json(net), "points": list(net.points or ())} for net in nets]
    tables = [
        (
            f"{net.name} network",
            ["layer", "fn", f"{net.name}_x", f"{net.name}_local", f"{net.name}_gradient"]
            + ([f"{net.name}_stored"] if net.stored is not None else []),
        )
        for net in nets
    ]
    notes = [
        f"x_0 = {short(result.at)}; "
        + "; ".join(f"{net.name}: x_k = {_point_rule(net)}" for net in nets)
        + ". Each network visits its own points, so each evaluates its own F_k'.",
        "relu'(0) = 0 and abs'(0) = 0; gelu is x*Phi(x) (the erf form). Values are certified: evaluated at two "
        "working precisions that agree to 55 digits.",
    ]
    if backprop and result.loss is not None:
        notes.append(f"Both networks get the same dL/dx{n}, from the --pred given (P = {short(result.loss.pred)}).")
    if result.own_prediction:
        notes.append(f"Each network's loss is taken at its own output x{n}, so each has its own dL/dx{n}.")
    title = f"{result.command}: {n} formula layer{'s' if n != 1 else ''} from x0 = {short(result.at)}"
    return _networks_report(title, nets, n, backprop, columns, rows, data, summary, notes, tables)


def _point_rule(net: Network) -> str:
    block = net.block
    if block.kind == "plain":
        return "F_k(x_(k-1))"
    if block.kind == "residual":
        return "x_(k-1) + F_k(x_(k-1))"
    return f"a x_(k-1) + b F_k(x_(k-1)) with a + b·D = {block.factor_text()}"


def _indicator(text: str) -> str:
    """relu' as SymPy prints it, Heaviside(x, 0), read as the indicator it is: [x > 0]."""
    import re

    return re.sub(r"Heaviside\((.*?), 0\)", r"[\1 > 0]", text)


def loss_report(result: LossResult) -> Report:
    record: dict[str, Any] = {"kind": result.kind, "target": result.target, "pred": result.pred}
    if result.delta is not None:
        record["delta"] = result.delta
    record.update(loss=result.value, gradient=result.gradient)
    columns = {key: key for key in record}
    columns.update(loss="loss L", gradient="dL/dpred")
    notes = [result.formula, result.derivative, result.direction]
    if result.note:
        notes.append(result.note[0].upper() + result.note[1:] + ".")
    if isinstance(result.value, Decimal):
        notes.append("The loss involves logarithms: it is certified (two working precisions agree) and rounded.")
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
        f"loss: {result.kind}", columns, [record], [result.value, result.gradient], data, notes=notes, vertical=True
    )


def update_report(result: UpdateResult) -> Report:
    record: dict[str, Any] = {
        "weight": result.weight,
        "lr": result.lr,
        "grad": result.grad,
        "input": result.input,
        "new_weight": result.new_weight,
        "step": result.step,
    }
    columns = {key: key.replace("_", " ") for key in record}
    notes = ["new weight = weight - lr * grad * input; step = new weight - weight."]
    data = {"command": "update", **record, **headline_fields(result.new_weight)}
    return Report("update", columns, [record], [result.new_weight], data, notes=notes, vertical=True)


def depth_report(result: DepthResult) -> Report:
    from .charts import LineChart, log10_series

    scaled = result.loss_gradient is not None
    g = f"{short(result.loss_gradient)} * " if scaled else ""  # type: ignore[arg-type]
    blocks = result.blocks
    columns = {"depth": "depth n"}
    for block in blocks:
        power = {"plain": "D^n", "residual": "(1+D)^n"}.get(
            block.kind, f"({block.factor_text()})^n" if block.uniform else "product"
        )
        columns[block.spec] = f"{block.spec} {g}{power}"
    classic = {b.spec for b in blocks} >= {"plain", "residual"}
    if classic:
        columns["ratio"] = "ratio"
    records = []
    for row in result.rows:
        record: dict[str, Any] = {"depth": row.depth}
        for block, value in zip(blocks, row.values, strict=True):
            record[block.spec] = value
        if classic:
            record["ratio"] = row.ratio
        records.append(record)
    summary_json: dict[str, Any] = {
        "plain_below_float32_at": _limit(result.plain_limits, "float32", "below"),
        "plain_below_float64_at": _limit(result.plain_limits, "float64", "below"),
        "residual_above_float32_at": _limit(result.residual_limits, "float32", "above"),
        "residual_above_float64_at": _limit(result.residual_limits, "float64", "above"),
        "plain_below_vanish_at": result.vanish_at,
        "vanish": result.vanish,
    }
    for fl in result.plain_limits:
        summary_json[f"plain_below_{fl.format}_at"] = fl.below
        summary_json[f"plain_zero_{fl.format}_at"] = fl.zero
    for fl in result.residual_limits:
        summary_json[f"residual_above_{fl.format}_at"] = fl.above
    data: dict[str, Any] = {
        "command": "depth",
        "local": result.local,
        "loss_gradient": result.loss_gradient,
        "rows": records,
        "summary": summary_json,
    }
    if result.blocks_given:
        data["blocks"] = [
            {
                "block": block.spec,
                "values": [row.values[i] for row in result.rows],
                **{f"{key}_{fl.format}_at": getattr(fl, key) for fl in limits for key in ("below", "zero", "above")},
            }
            for i, (block, limits) in enumerate(zip(blocks, result.block_limits, strict=True))
        ]
    formats_rows = [
        {"format": p.format, "below": _never(p.below), "zero": _never(p.zero), "above": _never(r.above)}
        for p, r in zip(result.plain_limits, result.residual_limits, strict=True)
    ]
    extra = [
        (
            "where a float format loses the gradient (first depth n; exact, for any depth)",
            {
                "format": "format",
                "below": "plain turns subnormal",
                "zero": "plain rounds to 0",
                "above": "residual overflows",
            },
            formats_rows,
        )
    ]
    if result.blocks_given:
        for block, limits in zip(blocks, result.block_limits, strict=True):
            if block.spec in ("plain", "residual") or not block.uniform:
                continue
            extra.append(
                (
                    f"{block.spec}: where each format loses G * ({block.factor_text()})^n",
                    {"format": "format", "below": "turns subnormal", "zero": "rounds to 0", "above": "overflows"},
                    [
                        {
                            "format": fl.format,
                            "below": _never(fl.below),
                            "zero": _never(fl.zero),
                            "above": _never(fl.above),
                        }
                        for fl in limits
                    ],
                )
            )
    depths = [row.depth for row in result.rows]
    chart = LineChart(
        f"|gradient| against depth, every layer's D = {short(result.local)}",
        "depth n",
        "|gradient|",
        tuple(
            log10_series(block.spec, depths, [row.values[i] for row in result.rows], i)
            for i, block in enumerate(blocks)
        ),
    )
    last = result.rows[-1]
    summary: list[tuple[str, Any]] = [
        (f"|plain| first below --vanish {short(result.vanish)} at depth", _never(result.vanish_at))
    ]
    return Report(
        title=f"depth: D = {short(result.local)}" + (f", dL/dx_n = {short(result.loss_gradient)}" if scaled else ""),  # type: ignore[arg-type]
        columns=columns,
        rows=records,
        headline=list(last.values),
        data=data,
        summary=summary,
        notes=[
            "Subnormal: below the format's smallest normal number, stored with fewer significant bits (flush-to-zero "
            "hardware returns 0 from there). Rounds to 0: at or below half the smallest subnormal, the stored value "
            "is 0. Overflows: beyond the largest finite value (inf; float8_e4m3fn clamps to 448)."
        ],
        extra=extra,
        chart=lambda: chart,
        row_name="depth",
    )


def _limit(limits: Sequence[Any], fmt: str, key: str) -> Any:
    return next(getattr(fl, key) for fl in limits if fl.format == fmt)


def _never(value: Any) -> Any:
    return "never" if value is None else value


def paths_report(result: PathsResult) -> Report:
    from .charts import BarChart

    records = []
    for k, e in enumerate(result.contributions):
        records.append(
            {
                "length": k,
                "paths": _comb(result.layers, k),
                "contribution": e,
                "share": Share(result.shares[k]) if result.shares else None,
                "cumulative": Share(result.cumulative[k]) if result.cumulative else None,
            }
        )
    a, b = result.band
    band = {"from": a, "to": b, "mass": result.mass, "share": result.band_share}

    def chart() -> BarChart:
        shares = _magnitude_shares(result.contributions)
        return BarChart(
            f"share of |gradient| by path length ({result.layers} {result.block.spec} blocks; band {a}-{b} solid)",
            "path length k (branches passed)",
            tuple(range(len(shares))),
            shares,
            (a, b),
        )

    data = {"command": "paths", "layers": result.layers, "total": result.total, "by_length": records, "band": band}
    if result.block.spec != "residual":
        data["block"] = result.block.spec
    total_label = (
        "total (1+D_1)...(1+D_n)"
        if result.block.spec == "residual"
        else f"total: the product of ({result.block.factor_text()})"
    )
    return Report(
        title=f"paths: {result.layers:,} {result.block.spec} blocks, 2^{result.layers:,} paths",
        columns={
            "length": "length k",
            "paths": "paths C(n,k)",
            "contribution": "contribution e_k",
            "share": "share",
            "cumulative": "cumulative",
        },
        rows=records,
        headline=[result.total, Fraction(a), Fraction(b)],
        data=data,
        summary=[
            (total_label, result.total),
            (f"band carrying {_percent(result.mass)} of the magnitude", f"lengths {a} to {b}"),
            ("its share", Share(result.band_share)),
        ],
        notes=[
            "Shares are of the signed total (they sum to 100%); the band uses magnitudes |e_k|, which differ only "
            "when some D_i are negative. Among equally short bands, the heaviest is taken.",
            "Veit et al. (2016) found that in a 110-layer residual net most of the gradient comes from paths 10-34 "
            "layers deep: the band plays that role here.",
        ],
        chart=chart,
        row_name="length",
    )


def _comb(n: int, k: int) -> int:
    import math

    return math.comb(n, k)


def _magnitude_shares(contributions: Sequence[Number]) -> tuple[float, ...]:
    """|e_k| / sum |e_j| for the bars: carried to 60 digits, since a bar needs no more (exact
    sums of e_k like 1e-1000^k cost seconds)."""
    from decimal import localcontext

    with localcontext(_kernels.CARRIED):
        magnitudes = [abs(_kernels.to_carried(e)) for e in contributions]
        total = sum(magnitudes, Decimal(0))
        return tuple(float(m / total) if total else 0.0 for m in magnitudes)


def _percent(value: Number) -> str:
    return percent_text(value, 4)[0]


def jacobian_report(result: JacobianResult) -> Report:
    n = len(result.jacobians)
    d = len(result.jacobians[0])
    backprop = result.loss_gradient is not None
    nets = result.networks
    per_layer = all(len(net.spectra) == n for net in nets)
    columns = {"layer": "layer"}
    if per_layer:
        for net in nets:
            columns[f"{net.name}_norm"] = f"{net.name} ||dx{n}/dx_in||2"
            columns[f"{net.name}_min"] = f"{net.name} sigma_min"
    records = []
    if per_layer:
        for k in range(n):
            record: dict[str, Any] = {"layer": k + 1}
            for net in nets:
                record[f"{net.name}_norm"] = net.spectra[k].singular_values[0]
                record[f"{net.name}_min"] = net.spectra[k].singular_values[-1]
            records.append(record)
    data: dict[str, Any] = {"command": result.command, "layers": n, "dim": d}
    if backprop:
        data["loss_gradient"] = list(result.loss_gradient)  # type: ignore[arg-type]
    summary: list[tuple[str, Any]] = []
    notes = [f"J_{i} = {_matrix_text(j)}" for i, j in enumerate(result.jacobians[:8], start=1)]
    if n > 8:
        notes.append(f"... and {n - 8} more layers")
    headline: list[Any] = []
    entries = []
    for net in nets:
        fields: dict[str, Any] = {"gradient": [list(row) for row in net.gradient]}
        if net.spectra:
            spectrum = net.spectra[0]
            fields.update(
                singular_values=list(spectrum.singular_values),
                spectral_norm=spectrum.singular_values[0],
                min_singular_value=spectrum.singular_values[-1],
                condition_number=spectrum.condition_number,
            )
            if per_layer:
                fields["per_layer"] = [
                    {"layer": k + 1, "spectral_norm": s.singular_values[0], "min_singular_value": s.singular_values[-1]}
                    for k, s in enumerate(net.spectra)
                ]
            summary.append((f"{net.name} spectral norm", spectrum.singular_values[0]))
            summary.append((f"{net.name} smallest singular value", spectrum.singular_values[-1]))
            condition = spectrum.condition_number
            summary.append((f"{net.name} condition number", condition if condition is not None else "inf (singular)"))
        product = {"plain": "J_n ... J_1", "residual": "(I + J_n) ... (I + J_1)"}.get(
            net.block.kind, f"({net.block.factor_text().replace('D', 'J')}) ... "
        )
        notes.append(f"{net.name} dx{n}/dx0 = {product} = {_matrix_text(net.gradient)}")
        if backprop:
            fields["gradient_vector"] = list(net.vector)  # type: ignore[arg-type]
            notes.append(f"{net.name} dL/dx0 = (dx{n}/dx0)^T dL/dx{n} = [{', '.join(short(x) for x in net.vector)}]")  # type: ignore[union-attr]
            headline.append(Vector(tuple(net.vector)))  # type: ignore[arg-type]
        else:
            headline.append(net.spectra[0].singular_values[0])
        if net.name in ("plain", "residual"):
            data[net.name] = fields
        entries.append({"block": net.name, **fields})
    if result.blocks_given:
        data["blocks"] = entries
    notes.append(
        "Products are exact; singular values are certified to 50 digits (two precisions agree), exact zeros "
        "from the exact rank."
    )
    chart = None
    if per_layer:
        from .charts import LineChart, log10_series

        chart = LineChart(
            f"||dx{n}/dx_k||2: the largest gain from each layer's input to the output ({n} layers, {d}x{d})",
            "layer input k (x_k)",
            f"||dx{n}/dx_k||2",
            tuple(
                log10_series(net.name, list(range(n)), [s.singular_values[0] for s in net.spectra], i)
                for i, net in enumerate(nets)
            ),
        )
    return Report(
        f"{result.command}: {n} Jacobian layer{'s' if n != 1 else ''}, {d}x{d}",
        columns,
        records,
        headline,
        data,
        summary,
        notes,
        chart=(lambda: chart) if chart is not None else None,
    )


@dataclass(frozen=True)
class Vector:
    """A gradient vector on the value line: [1.1,-2.4]."""

    values: tuple[Fraction, ...]


def _matrix_text(m: Any) -> str:
    return "[" + ", ".join("[" + ", ".join(short(x) for x in row) + "]" for row in m) + "]"


def random_report(result: RandomJacobianResult) -> Report:
    from .charts import LineChart, Series

    nets = result.networks
    eps = 2.0**-52
    columns = {"depth": "depth"}
    for net in nets:
        columns[f"{net.name}_max"] = f"{net.name} sigma_max"
        columns[f"{net.name}_min"] = f"{net.name} sigma_min"

    def earned(values: tuple[float, ...], depth: int) -> tuple[Float, Float]:
        top = values[0]
        bound = depth * result.dim * eps * top  # the products' round-off, absolute
        return _earned(top, bound), _earned(values[-1], bound)

    records = []
    for k in range(result.layers):
        record: dict[str, Any] = {"depth": k + 1}
        for net in nets:
            record[f"{net.name}_max"], record[f"{net.name}_min"] = earned(net.singular_values[k], k + 1)
        records.append(record)
    data: dict[str, Any] = {
        "command": "chain",
        "jacobians": "random",
        "dim": result.dim,
        "layers": result.layers,
        "scale": result.scale,
        "seed": result.seed,
        "rows": records,
    }
    summary: list[tuple[str, Any]] = []
    series = []
    entries = []
    for i, net in enumerate(nets):
        final = net.singular_values[-1]
        top, low = earned(final, result.layers)
        condition: Any = None
        fields: dict[str, Any] = {
            "singular_values": list(final),
            "spectral_norm": final[0],
            "min_singular_value": final[-1],
        }
        if low.digits and final[-1] > 0:
            condition = final[0] / final[-1]
            fields["condition_number"] = condition
        else:
            fields["condition_number"] = None
            fields["condition_number_at_least"] = final[0] / low.bound if low.bound else None
        summary.append((f"{net.name} sigma_max at depth {result.layers}", top))
        summary.append((f"{net.name} sigma_min at depth {result.layers}", low))
        cond_text = (
            Float(condition, min(top.digits, low.digits))
            if condition is not None
            else f"> {fields['condition_number_at_least']:.1e} (sigma_min is below float64 round-off)"
            if fields.get("condition_number_at_least")
            else "undefined"
        )
        summary.append((f"{net.name} condition number", cond_text))
        import math

        for which, pick in (("max", 0), ("min", -1)):
            points = tuple(
                (float(k + 1), math.log10(v[pick]))
                for k, v in enumerate(net.singular_values)
                if 0 < v[pick] < math.inf and (pick == 0 or earned(v, k + 1)[1].digits)
            )
            series.append(Series(f"{net.name} sigma_{which}", points, 2 * i + (pick != 0)))
        if net.name in ("plain", "residual"):
            data[net.name] = fields
        entries.append({"block": net.name, **fields})
    if result.blocks_given:
        data["blocks"] = entries
    chart = LineChart(
        f"singular values of the running product J_k ... J_1 ({result.dim}x{result.dim}, scale "
        f"{short(result.scale)}, seed {result.seed})",
        "depth k",
        "singular value",
        tuple(series),
    )
    return Report(
        title=f"chain: {result.layers} random {result.dim}x{result.dim} Jacobians, scale {short(result.scale)}, "
        f"seed {result.seed}",
        columns=columns,
        rows=records,
        headline=[earned(net.singular_values[-1], result.layers)[0] for net in nets],
        data=data,
        summary=summary,
        notes=[
            "Entries ~ N(0, scale^2/d); computed in float64 (numpy): each value shows only the digits it has earned "
            "against the products' round-off (about depth x d x 2^-52 of sigma_max); smaller ones are below it. "
            "A residual product keeps its singular values near 1 for small scales (dynamical isometry: Saxe et al. "
            "2014, Pennington et al. 2017)."
        ],
        chart=lambda: chart,
        row_name="depth",
        floats=True,
    )


def _earned(value: float, bound: float) -> Float:
    import math

    if not math.isfinite(value):
        return Float(value, 0, bound)
    if bound <= 0:
        return Float(value, 15, bound)
    if value <= bound:
        return Float(value, 0, bound)
    return Float(value, max(1, min(15, int(math.floor(math.log10(value / bound))))), bound)


def init_report(result: InitResult) -> Report:
    records = [
        {"name": c.name, "value": c.value, "closed_form": c.closed_form, "meaning": c.meaning} for c in result.constants
    ]
    data: dict[str, Any] = {
        "command": "init",
        "scheme": result.scheme,
        **({"nonlinearity": result.label} if result.label else {}),
        **result.parameters,
        "constants": {
            c.name: {"value": c.value, "closed_form": c.closed_form, "float": to_float(c.value)}
            for c in result.constants
        },
        "source": result.source,
    }
    extra = []
    if result.table:
        columns = {"layer": result.table_headers[0], **{f"c{i}": h for i, h in enumerate(result.table_headers[1:])}}
        rows = [{"layer": label, **{f"c{i}": v for i, v in enumerate(values)}} for label, values in result.table]
        extra.append(("survival by block", columns, rows))
        data["blocks"] = [
            {"block": label, **{h: v for h, v in zip(result.table_headers[1:], values, strict=True)}}
            for label, values in result.table
        ]
    return Report(
        title=result.title,
        columns={"name": "constant", "value": "value", "closed_form": "exact", "meaning": "meaning"},
        rows=records,
        headline=[c.value for c in result.constants],
        data=data,
        notes=[*result.notes, f"Source: {result.source}."],
        extra=extra,
        row_name="constant",
    )


HEADLINES: dict[type, Callable[[Any], list[Any]]] = {
    ChainResult: lambda result: [net.gradient for net in result.networks],
    LossResult: lambda result: [result.value, result.gradient],
    UpdateResult: lambda result: [result.new_weight],
}
"""The value line straight from a result, for --batch lines (the same values the reports' headline holds)."""

REPORTS: dict[type, Callable[[Any], Report]] = {
    ChainResult: chain_report,
    FormulaResult: formula_report,
    LossResult: loss_report,
    UpdateResult: update_report,
    DepthResult: depth_report,
    PathsResult: paths_report,
    JacobianResult: jacobian_report,
    RandomJacobianResult: random_report,
    InitResult: init_report,
}


# ---------------------------------------------------------------------------
# Number text


def plain_text(value: Any, options: Options) -> str:
    """A cell for csv and value: a decimal or scientific notation (p/q only with --exact)."""
    if isinstance(value, (Fraction, Decimal)):
        return show(value, exact=options.exact, digits=options.machine_digits, fraction=0).text
    if isinstance(value, Share):
        return plain_text(value.value, options)
    if isinstance(value, Float):
        return _float_text(value, options.machine_digits)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Vector):
        return "[" + ",".join(plain_text(v, options) for v in value.values) + "]"
    if isinstance(value, StoredCell):
        return plain_text(value.value, options)
    return "" if value is None else str(value)


def _float_text(value: Float, digits: int) -> str:
    if value.digits == 0:
        return "0" if value.value == 0 else f"<{value.bound:.1e}"
    return f"{value.value:.{min(digits, value.digits)}g}".replace("e+", "e").replace("e-0", "e-")


def table_text(value: Any, digits: int, exact: bool) -> tuple[str, bool]:
    """(text, rounded) for a table cell."""
    if isinstance(value, (Fraction, Decimal)):
        shown = show(value, exact=exact, digits=digits, fraction=TABLE_FRACTION)
        return (shown.text, False) if shown.exact else ("≈" + shown.text, True)
    if isinstance(value, Share):
        text, rounded = percent_text(value.value, min(digits, 4))
        return text, rounded
    if isinstance(value, Float):
        if value.digits == 0:
            return ("0" if value.value == 0 else f"<{value.bound:.1e} (round-off)"), False
        return "≈" + _float_text(value, min(digits, value.digits)), True
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if value.bit_length() < 130 else ""
        if text and len(text) <= 40:
            return text, False
        return "≈" + show(Fraction(value), digits=digits).text, True
    if isinstance(value, Vector):
        return "[" + ", ".join(table_text(v, digits, exact)[0] for v in value.values) + "]", False
    if isinstance(value, StoredCell):
        text, rounded = table_text(value.value, digits, exact)
        mark = " LOST" if value.lost else " (subnormal)" if value.status == "subnormal" else ""
        return text + mark, rounded
    return ("" if value is None else str(value)), False


def percent_text(value: Number, digits: int) -> tuple[str, bool]:
    shown = show(
        value * 100 if isinstance(value, Fraction) else _kernels.CARRIED.scaleb(value, 2), digits=digits, fraction=0
    )
    return (shown.text + "%", False) if shown.exact else ("≈" + shown.text + "%", True)


# ---------------------------------------------------------------------------
# json


def _jsonable(value: Any, options: Options, rounded: list[bool]) -> Any:
    if isinstance(value, (Fraction, Decimal)):
        shown = show(value, exact=options.exact, digits=options.machine_digits)
        if not shown.exact:
            rounded.append(True)
        return shown.text
    if isinstance(value, (Share, StoredCell)):
        return _jsonable(value.value, options, rounded)
    if isinstance(value, Float):
        rounded.append(True)
        return value.value
    if isinstance(value, Mapping):
        return {key: _jsonable(v, options, rounded) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > 64:
            return _jsonable_many(value, options, rounded)
        return [_jsonable(v, options, rounded) for v in value]
    return value


class NumberTexts(list):  # type: ignore[type-arg]
    """A long list of number texts (nothing JSON escapes), joined directly by json_pieces."""


def _jsonable_many(values: Sequence[Any], options: Options, rounded: list[bool]) -> list[Any]:
    """_jsonable of a long chain's per-layer values (up to millions), at C speed where it can
    be: Decimals in bulk, each distinct other object once."""
    is_decimal = list(map(isinstance, values, repeat(Decimal)))
    kind = NumberTexts if set(map(type, values)) <= {Fraction, Decimal, _kernels.Terminating} else list
    decimals = list(compress(values, is_decimal))
    if not decimals:
        return kind(_kernels.map_distinct(lambda v: _jsonable(v, options, rounded), values))
    others = _kernels.map_distinct(
        lambda v: _jsonable(v, options, rounded), list(compress(values, map(not_, is_decimal)))
    )
    carried, exact = _kernels.decimal_shown(decimals, min(options.machine_digits, SIGNIFICANT))
    if not all(exact):
        rounded.append(True)
    other, text = iter(others), iter(carried)
    return kind([next(text) if flag else next(other) for flag in is_decimal])


def write_json(report: Report, options: Options, out: TextIO, derivation: Derivation | None) -> None:
    rounded: list[bool] = []
    data = _jsonable(report.data, options, rounded)
    data["exact"] = not rounded and not report.floats
    if options.line is not None:
        data = {"line": options.line, **data}
    _flush_progress()
    write_pieces(out, json_pieces(data))
    out.write("\n")


def json_pieces(value: Any) -> Iterator[str]:
    """json.dumps(value, ensure_ascii=False) in pieces, NumberTexts joined directly: a
    million-layer chain's lists are written without the encoder looking at each text."""
    import json

    if type(value) is dict and all(type(key) is str for key in value) and _holds_texts(value):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield f"{', ' if i else ''}{json.dumps(key, ensure_ascii=False)}: "
            yield from json_pieces(item)
        yield "}"
    elif type(value) is NumberTexts:
        yield '["' + '", "'.join(value) + '"]' if value else "[]"
    else:
        yield json.dumps(value, ensure_ascii=False)


def _holds_texts(value: dict[str, Any]) -> bool:
    return any(type(item) is NumberTexts or (type(item) is dict and _holds_texts(item)) for item in value.values())


# ---------------------------------------------------------------------------
# csv and value


def write_csv(report: Report, options: Options, out: TextIO, derivation: Derivation | None) -> None:
    import csv

    keys = list(report.columns)
    records = report.records()
    columns = [_column_texts([r.get(key) for r in records], options) for key in keys]
    batch = [] if options.line is None else [str(options.line)]
    _flush_progress()
    writer = csv.writer(out, lineterminator="\n")
    if options.header:
        writer.writerow((["line"] if batch else []) + keys)
    writer.writerows([batch + list(row) for row in zip(*columns, strict=True)] if columns else [])


def _column_texts(values: list[Any], options: Options) -> list[str]:
    """plain_text of a column, Decimals in bulk."""
    decimals = [v for v in values if isinstance(v, Decimal)]
    if len(decimals) < 64 or options.exact:
        return _kernels.map_distinct(lambda v: plain_text(v, options), values)
    texts = iter(_kernels.decimal_texts(decimals, min(options.machine_digits, SIGNIFICANT)))
    others = _kernels.map_distinct(lambda v: plain_text(v, options), [v for v in values if not isinstance(v, Decimal)])
    rest = iter(others)
    return [next(texts) if isinstance(v, Decimal) else next(rest) for v in values]


def write_value(report: Report, options: Options, out: TextIO, derivation: Derivation | None) -> None:
    _flush_progress()
    out.write("\t".join(plain_text(v, options) for v in report.headline) + "\n")


# ---------------------------------------------------------------------------
# table


def terminal_width(options: Options) -> int:
    """The width to lay out for: --width in tests, else COLUMNS (when it is a number > 0), else
    the terminal's, else 80."""
    if options.width:
        return options.width
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout is not None and sys.stdout.isatty():
        try:
            return max(os.get_terminal_size(sys.stdout.fileno()).columns, 1)
        except OSError:
            pass
    return 80


def write_table(report: Report, options: Options, out: TextIO, derivation: Derivation | None) -> None:
    from rich.console import Console

    width = terminal_width(options)
    color = out is sys.stdout and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    buffer = io.StringIO()  # a stream that cannot hold the box characters gets ASCII (errors.prepare_streams)
    console = Console(
        file=buffer,
        width=width,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        force_terminal=color,
        no_color=not color,
        legacy_windows=False,
    )
    layout = TableLayout(console, width, options, color)
    layout.write(report, derivation)
    _flush_progress()
    write_pieces(out, [buffer.getvalue()])


def write_pieces(out: TextIO, pieces: Iterator[str] | list[str]) -> None:
    """Write text in pieces of at most 64 KiB: one huge write to a pipe whose reader leaves is
    cut short without an error on some kernels, where small ones report the broken pipe."""
    for piece in pieces:
        for start in range(0, len(piece), 65536):
            out.write(piece[start : start + 65536])


class TableLayout:
    """Lays a Report out at a width: numbers never cut, headers wrapped, long tables elided."""

    def __init__(self, console: Any, width: int, options: Options, color: bool) -> None:
        self.console = console
        self.width = width
        self.options = options
        self.color = color
        self.rounded_digits: int | None = None  # the fewest digits a rounded cell was shown with
        self.narrowed = False

    def print(self, renderable: Any, **kwargs: Any) -> None:
        self.console.print(renderable, **kwargs)

    def write(self, report: Report, derivation: Derivation | None) -> None:
        if report.vertical:
            self.vertical(report)
        else:
            groups = report.tables or ([(report.title, list(report.columns))] if report.columns else [])
            for title, keys in groups:
                self.table(title, {k: report.columns[k] for k in keys}, report.records(), report.row_name)
        for title, columns, rows in report.extra:
            self.table(title, columns, rows, "format" if "format" in columns else report.row_name)
        if report.summary:
            self.summary(report.summary)
        if report.chart is not None and self.options.plot:
            from .charts import terminal

            self.print(terminal(report.chart(), self.width, self.color))
        if derivation is not None:
            for line in derivation.lines:
                for text in wrap_equation(line, self.width):
                    self.print(text, markup=False, highlight=False, soft_wrap=True)
        for note in report.notes:
            self.print(note, markup=False)
        self.footnote()

    def cells(self, rows: list[dict[str, Any]], keys: list[str], digits: int) -> tuple[list[list[str]], bool]:
        grid, rounded = [], False
        for row in rows:
            line = []
            for key in keys:
                text, was_rounded = table_text(row.get(key), digits, self.options.exact)
                rounded = rounded or was_rounded
                line.append(text)
            grid.append(line)
        return grid, rounded

    def table(self, title: str, columns: dict[str, str], rows: list[dict[str, Any]], row_name: str) -> None:
        """A table at this width: cells at --digits where they fit (heavy borders, else light ones,
        headers wrapped, then broken inside words), else fewer digits, else one block per row."""
        from rich import box
        from rich.table import Table

        keys = list(columns)
        shown, elided = self.elide(rows)
        digits = self.options.table_digits
        numeric = any(isinstance(r.get(k), (Fraction, Decimal, Share, Float, StoredCell)) for r in shown for k in keys)
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
        if sum(least) > room:  # headers broken inside words, down to six characters
            least = [
                w if k in prose else max(c, min(h, 6)) for c, w, h, k in zip(cells, least, words, keys, strict=True)
            ]
        if sum(least) > room:
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

    def elide(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        if self.options.all_rows or len(rows) <= ROWS_SHOWN:
            return rows, 0
        half = ROWS_SHOWN // 2
        return rows[:half] + rows[-half:], len(rows) - ROWS_SHOWN

    def stacked(
        self,
        title: str,
        columns: dict[str, str],
        rows: list[dict[str, Any]],
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
            text, was_rounded = table_text(value, digits, self.options.exact)
            if was_rounded:
                self.rounded_digits = digits if self.rounded_digits is None else min(self.rounded_digits, digits)
            texts.append((label, text))
        widest = max(len(t) for _, t in texts)
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
            text, was_rounded = table_text(value, digits, self.options.exact)
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


def _label(row: dict[str, Any], key: str) -> str:
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
    """'+ (a + b + c)' as pieces that each fit ``room``, broken before a '+'."""
    words = term.replace(" + ", " \x00+ ").split(" \x00")
    pieces, current = [], words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) > room:
            pieces.append(current)
            current = word
        else:
            current += " " + word
    pieces.append(current)
    return pieces


WRITERS: dict[str, Callable[[Report, Options, TextIO, Derivation | None], None]] = {
    "table": write_table,
    "json": write_json,
    "csv": write_csv,
    "value": write_value,
}
