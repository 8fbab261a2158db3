"""From a result to what it has to say: a :class:`Report` of raw numbers (columns, rows,
summary, notes, the json object and the chart), one builder per result type, chosen by class
(REPORTS); and a result's one-line repr. The writers (machine.py, table.py, html.py) turn a
Report into text; numbers become text only there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..core.blocks import Block
from ..core.exact import Number, to_float
from ..core.results import (
    ChainResult,
    DepthMapResult,
    DepthResult,
    ElementsResult,
    FormatLimits,
    FormulaResult,
    InitResult,
    JacobianResult,
    LossResult,
    MeanFieldResult,
    PathsResult,
    PrecisionResult,
    ProbeResult,
    RandomJacobianResult,
    Result,
    UpdateResult,
)
from .dtypes import precision_report
from .meanfield import meanfield_report
from .networks import chain_report, formula_report, jacobian_report, random_report
from .report import Derivation, Equation, LazyRows, Report, headline_fields
from .text import Share, chart_number, percent_text, short

__all__ = ["Derivation", "Equation", "Report", "one_line", "report_for"]


def one_line(result: Result) -> str:
    """A result's repr: its kind and its headline in a line, as ``ChainResult(3 layers: plain
    0.001, residual 1.331)``."""
    name = type(result).__name__
    return f"{name}({_line(result)})"


def _line(result: Result) -> str:
    if isinstance(result, (ChainResult, FormulaResult)):
        n = len(result.local) if isinstance(result, ChainResult) else len(result.texts)
        what = f"{n:,} layer{'s' if n != 1 else ''}"
        if isinstance(result, FormulaResult):
            what = f"{n} formula layer{'s' if n != 1 else ''} from x0 = {short(result.at)}"
        if result.upstream is not None:
            what += f", dL/dx{n} = {short(result.upstream)}"
        return f"{what}: " + ", ".join(f"{net.name} {short(net.gradient)}" for net in result.networks)
    if isinstance(result, LossResult):
        return f"{result.kind}: L = {short(result.value)}, dL/dpred = {short(result.gradient)}"
    if isinstance(result, UpdateResult):
        return f"new weight {short(result.new_weight)}, step {short(result.step)}"
    if isinstance(result, DepthMapResult):
        values = ", ".join(f"{b.spec} {short(v)}" for b, v in zip(result.blocks, result.headline, strict=True))
        n = len(result.depths)
        return f"{len(result.local)} derivatives x {n} depth{'s' if n != 1 else ''}; at the last: {values}"
    if isinstance(result, DepthResult):
        last = result.rows[-1]
        values = ", ".join(f"{b.spec} {short(v)}" for b, v in zip(result.blocks, last.values, strict=True))
        return f"D = {short(result.local)}, at depth {last.depth}: {values}"
    if isinstance(result, PathsResult):
        band = "no band" if result.band is None else f"band {result.band[0]}-{result.band[1]}"
        return f"{result.layers:,} {result.block.spec} blocks: total {short(result.total)}, {band}"
    if isinstance(result, JacobianResult):
        n, d = len(result.jacobians), len(result.jacobians[0])
        parts = []
        for net, value in zip(result.networks, result.headline, strict=True):
            text = (
                "[" + ", ".join(short(x) for x in value) + "]" if isinstance(value, tuple) else f"norm {short(value)}"
            )
            parts.append(f"{net.name} {text}")
        return f"{n} Jacobian layer{'s' if n != 1 else ''}, {d}x{d}: " + ", ".join(parts)
    if isinstance(result, RandomJacobianResult):
        from .text import table_text

        tops = [
            f"{net.name} sigma_max {table_text(v)[0]}" for net, v in zip(result.networks, result.headline, strict=True)
        ]
        return f"{result.layers} random {result.dim}x{result.dim} layers: " + ", ".join(tops)
    if isinstance(result, PrecisionResult):
        windows = []
        for held in result.formats:
            w = held.loss_scale
            windows.append(f"{held.format} {'none' if w is None or not w.works else f'2^{w.lowest}..2^{w.highest}'}")
        n = len(result.gradients)
        return f"{n:,} gradient{'s' if n != 1 else ''}, loss scales: " + ", ".join(windows)
    if isinstance(result, ElementsResult):
        spans = ", ".join(
            f"{name} {'none' if w.lowest is None else f'2^{w.lowest}..2^{w.highest}'}" for name, w in result.windows
        )
        return f"{len(result.layers)} layers element by element, loss scales: {spans}"
    if isinstance(result, ProbeResult):
        from .probe import three

        first = result.blocks[0]
        gains = (
            f"gain from {first.name} {three(first.gain_residual.estimate)} (plain {three(first.gain_plain.estimate)})"
            if first.gain_residual is not None and first.gain_plain is not None
            else f"D at {first.name} {three(first.branch_gain.estimate)}"
        )
        return f"{result.model}, {len(result.blocks)} blocks: {gains}"
    if isinstance(result, MeanFieldResult):
        if result.critical is not None:
            return f"{result.act}: critical sigma_w^2 " + ", ".join(short(w) for w in result.critical)
        nets = ", ".join(f"{net.block.spec} {short(net.wrt[0])}" for net in result.networks)
        chi = "no fixed point" if result.chi1 is None else f"chi1 {short(result.chi1)} ({result.phase})"
        return f"{result.act}, {result.layers} layers: {chi}, {nets}"
    if isinstance(result, InitResult):
        return f"{result.title}: " + ", ".join(f"{c.name} {short(c.value)}" for c in result.constants)
    return ""


def report_for(result: object) -> Report:
    build = REPORTS.get(type(result))
    if build is None:
        raise TypeError(f"no report for {type(result).__name__}")
    return build(result)


def loss_report(result: LossResult) -> Report:
    record: dict[str, Any] = {"kind": result.kind, "target": result.target, "pred": result.pred}
    if result.delta is not None:
        record["delta"] = result.delta
    record.update(loss=result.value, gradient=result.gradient)
    columns = {key: key for key in record}
    columns.update(loss="loss L", gradient="dL/dpred")
    notes = [result.direction]
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
    return Report(f"loss: {result.kind}", columns, [record], data, notes=notes, vertical=True)


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
    if result.lr < 0:
        notes.append("The learning rate is negative: this step ascends the loss (it moves with the gradient).")
    data = {"command": "update", **record, **headline_fields(result.new_weight)}
    return Report("update", columns, [record], data, notes=notes, vertical=True)


def depth_report(result: DepthResult) -> Report:
    from .charts import LineChart, format_levels, log10_series, shades

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
        for block, value in zip(blocks, row.values, strict=True):  # json only: each value's float beside it
            record[f"{block.spec}_float"] = to_float(value)
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
    extra = [_format_limits(blocks, result.block_limits)]
    depths = [row.depth for row in result.rows]
    lines = []
    for i, (block, shade) in enumerate(zip(blocks, shades([b.kind for b in blocks]), strict=True)):
        line = log10_series(block.label, depths, [row.values[i] for row in result.rows], block.kind, shade)
        if result.rows:
            last = result.rows[-1]
            line = replace(line, last=f"{chart_number(last.values[i])} at n = {last.depth:,}")
        lines.append(line)
    chart = LineChart(
        f"|gradient| against depth, every layer's D = {short(result.local)}",
        "depth n",
        "|gradient|",
        tuple(lines),
        levels=format_levels(("float16", "bfloat16", "float32")),
    )
    shows_plain = any(block.kind == "plain" for block in blocks)
    summary: list[tuple[str, Any]] = (
        [(f"|plain| first below --vanish {short(result.vanish)} at depth", _never(result.vanish_at))]
        if shows_plain
        else []
    )
    return Report(
        title=f"depth: D = {short(result.local)}" + (f", dL/dx_n = {short(result.loss_gradient)}" if scaled else ""),  # type: ignore[arg-type]
        columns=columns,
        rows=records,
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
        plot=True,
    )


def depth_map_report(result: DepthMapResult) -> Report:
    """One row per (D, depth): each block's gradient and its log10; the heat map as the chart."""
    from ..core.exact import log10_abs

    blocks = result.blocks
    columns = {"local": "D", "depth": "depth n"}
    for block in blocks:
        columns[block.spec] = block.spec
        columns[f"{block.spec}_log10"] = f"{block.spec} log10"
    n = len(result.depths)

    def row(index: int) -> dict[str, Any]:
        i, j = divmod(index, n)
        record: dict[str, Any] = {"local": result.local[i], "depth": result.depths[j]}
        for b, block in enumerate(blocks):
            value = result.values[b][i][j]
            record[block.spec] = value
            record[f"{block.spec}_float"] = to_float(value)
            log = log10_abs(value)
            record[f"{block.spec}_log10"] = None if log is None else round(log, 6)
        return record

    rows = LazyRows(len(result.local) * n, row)
    scaled = result.loss_gradient is not None
    data = lambda: {  # noqa: E731
        "command": "depth",
        "local": list(result.local),
        "depths": list(result.depths),
        "loss_gradient": result.loss_gradient,
        "rows": list(rows),
    }
    return Report(
        title=f"depth map: {len(result.local):,} derivatives x {n:,} depth{'s' if n != 1 else ''}"
        + (f", dL/dx_n = {short(result.loss_gradient)}" if scaled else ""),  # type: ignore[arg-type]
        columns=columns,
        rows=rows,
        data=data,
        notes=[
            "Each row: every layer's local derivative D, the depth n, and each network's gradient (exact) with "
            "its log10 (to 6 decimals; none for 0)."
        ],
        chart=lambda: _heat_map(result),
        row_name="row",
    )


def _heat_map(result: DepthMapResult) -> Any:
    from ..core.exact import log10_abs
    from .charts import HeatMap

    grids = tuple(tuple(tuple(log10_abs(v) for v in row) for row in block_values) for block_values in result.values)
    return HeatMap(
        f"log10 |gradient| by depth and local derivative D ({len(result.local):,} x {len(result.depths):,})",
        tuple(float(d) for d in result.local),
        tuple(result.depths),
        tuple(block.label for block in result.blocks),
        grids,
    )


_LOSSES = {"below": "turns subnormal", "zero": "rounds to 0", "above": "overflows"}


def _format_limits(
    blocks: Sequence[Block], limits: Sequence[Sequence[FormatLimits]]
) -> tuple[str, dict[str, str], Sequence[Mapping[str, Any]]]:
    """The table of where each format loses each shown network's gradient: a column for each
    way a network loses it at some depth (a decaying one turns subnormal and rounds to 0, a
    growing one overflows); a network that keeps it in every format says so in one column.
    stochastic:linear changes with depth and has no such depths."""
    columns = {"format": "format"}
    rows: list[dict[str, Any]] = [{"format": fl.format} for fl in limits[0]] if limits else []
    for block, block_limits in zip(blocks, limits, strict=True):
        if not block.uniform:
            continue
        keys = [key for key in _LOSSES if any(getattr(fl, key) is not None for fl in block_limits)]
        for key in keys or ["above"]:
            column = f"{block.spec} {key}"
            columns[column] = f"{block.spec} {_LOSSES[key] if keys else 'loses it'}"
            for row, fl in zip(rows, block_limits, strict=True):
                row[column] = _never(getattr(fl, key))
    return ("first depth n where each format loses the gradient (exact)", columns, rows)


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
                "magnitude_share": Share(result.magnitude_shares[k]) if result.magnitude_shares else None,
            }
        )
    band = result.band
    band_json = (
        None if band is None else {"from": band[0], "to": band[1], "mass": result.mass, "share": result.band_share}
    )

    def chart() -> BarChart:
        shares = tuple(float(s) for s in result.magnitude_shares or [0] * len(result.contributions))
        where = f"band {band[0]}-{band[1]} solid" if band is not None else "no gradient"
        return BarChart(
            f"Share of |gradient| by path length ({result.layers:,} {result.block.label} blocks; {where})",
            "path length k: branches passed",
            tuple(range(len(shares))),
            shares,
            band,
        )

    data = {"command": "paths", "layers": result.layers, "total": result.total, "by_length": records, "band": band_json}
    if result.block.spec != "residual":
        data["block"] = result.block.spec
    total_label = (
        "total (1+D_1)...(1+D_n)"
        if result.block.spec == "residual"
        else f"total: the product of ({result.block.factor_text()})"
    )
    summary: list[tuple[str, Any]] = [(total_label, result.total)]
    if band is None:
        summary.append(("band", "none: every path sum e_k is 0, so there is no gradient to split"))
    else:
        summary.append((f"band carrying {_percent(result.mass)} of |gradient|", f"lengths {band[0]} to {band[1]}"))
        summary.append(("its share of |gradient|", Share(result.band_share)))
    notes = [
        "share of |gradient|: |e_k| over the sum of all |e_j|, the share the band and the chart use. The json also "
        "has each e_k's share of the signed total (share, cumulative), which differs when some D_i are negative. "
        "Among equally short bands, the heaviest is taken.",
        "Veit et al. (2016) found that in a 110-layer residual net most of the gradient comes from paths 10-34 "
        "layers deep: the band plays that role here.",
    ]
    columns = {
        "length": "length k",
        "paths": "paths C(n,k)",
        "contribution": "contribution e_k",
        "share": "share",
        "cumulative": "cumulative",
        "magnitude_share": "share of |gradient|",
    }
    title = f"paths: {result.layers:,} {result.block.spec} blocks, 2^{result.layers:,} paths"
    return Report(
        title=title,
        columns=columns,
        rows=records,
        data=data,
        summary=summary,
        notes=notes,
        tables=[(title, ["length", "paths", "contribution", "magnitude_share"])],
        chart=chart,
        row_name="length",
        plot=True,
    )


def _comb(n: int, k: int) -> int:
    import math

    return math.comb(n, k)


def _percent(value: Number) -> str:
    return percent_text(value, 4)[0]


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
    extra: list[tuple[str, dict[str, str], Sequence[Mapping[str, Any]]]] = []
    if result.table:
        columns = {"layer": result.table_headers[0], **{f"c{i}": h for i, h in enumerate(result.table_headers[1:])}}
        table, headers = result.table, result.table_headers[1:]

        def row(i: int) -> dict[str, Any]:
            return {"layer": table[i][0], **{f"c{j}": v for j, v in enumerate(table[i][1])}}

        def block(i: int) -> dict[str, Any]:
            return {"block": table[i][0], **dict(zip(headers, table[i][1], strict=True))}

        extra.append(("survival by block", columns, LazyRows(len(table), row)))
        data["blocks"] = LazyRows(len(table), block)
    return Report(
        title=result.title,
        columns={"name": "constant", "value": "value", "closed_form": "exact", "meaning": "meaning"},
        rows=records,
        data=data,
        notes=[*result.notes, f"Source: {result.source}."],
        extra=extra,
        row_name="constant",
    )


def _elements_report(result: ElementsResult) -> Report:
    from .elements import elements_report

    return elements_report(result)


def _probe_report(result: ProbeResult) -> Report:
    from .probe import probe_report

    return probe_report(result)


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
    PrecisionResult: precision_report,
    MeanFieldResult: meanfield_report,
    DepthMapResult: depth_map_report,
    ProbeResult: _probe_report,
    ElementsResult: _elements_report,
}
