"""The reports of depth: the gradient against depth (a line chart, each float format's limits
beside it), and the depth x derivative map (a heat map)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...core.blocks import Block
from ...core.exact import to_float
from ...core.results import (
    DepthMapResult,
    DepthResult,
    FormatLimits,
)
from ..report_types import LazyRows, Report
from ..text import chart_number, short


def depth_report(result: DepthResult) -> Report:
    from ..charts import LineChart, format_levels, log10_series, shades

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
    from ...core.exact import log10_abs

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
    from ...core.exact import log10_abs
    from ..charts import HeatMap

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
