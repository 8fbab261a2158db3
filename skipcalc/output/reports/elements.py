"""Gradients given element by element (ElementsResult) -> a Report: per format, each layer's
magnitudes and the shares of its nonzero elements lost, stored subnormal and overflowed, and
the loss-scale window over all of them."""

from __future__ import annotations

from typing import Any

from ...core.results import ElementsResult, ScaleWindow
from ..report_types import Report
from .probe import gradscaler, percent, three


def _ranges(names: list[str]) -> str:
    """Layer names, runs of consecutive numbers joined: 1-8, 12."""
    if not all(n.isdigit() for n in names):
        return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    numbers = [int(n) for n in names]
    out: list[str] = []
    start = None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ", ".join(out)


def _layers(names: list[str]) -> str:
    return ("layer " if len(names) == 1 else "layers ") + _ranges(names)


def _verdict(result: ElementsResult, name: str, window: ScaleWindow) -> str:
    index = result.formats.index(name)
    lost = [layer.name for layer in result.layers if layer.stored[index][1].zero]
    over = [layer.name for layer in result.layers if layer.stored[index][1].overflow]
    parts = []
    if lost:
        worst = max(result.layers, key=lambda layer: layer.stored[index][1].zero)
        parts.append(
            f"{_layers(lost)} lose elements (up to {percent(worst.stored[index][1].zero)}, layer {worst.name})"
        )
    if over:
        parts.append(f"{_layers(over)} overflow")
    said = "; ".join(parts) if parts else "no layer loses or overflows an element"
    if window.highest is None:
        return f"{name}: {said}; no loss scale avoids overflow."
    keeps = "every nonzero element" if not window.lost else f"all but {percent(window.lost)} of the nonzero elements"
    return f"{name}: {said}; loss scales 2^{window.lowest} ... 2^{window.highest} keep {keeps}; {gradscaler(window)}."


def elements_report(result: ElementsResult) -> Report:
    rows: list[dict[str, Any]] = []
    for layer in result.layers:
        m = layer.magnitudes
        row: dict[str, Any] = {
            "layer": layer.name,
            "elements": 0 if m is None else m.size,
            "nonzero": 0 if m is None else m.count,
            "smallest": None if m is None else m.smallest,
            "p1": None if m is None else m.p1,
            "p50": None if m is None else m.p50,
            "p99": None if m is None else m.p99,
            "largest": None if m is None else m.largest,
        }
        for key in ("smallest", "p1", "p50", "p99", "largest"):
            row[f"{key}_shown"] = three(row[key])
        for name, e in layer.stored:
            for what in ("zero", "subnormal", "overflow"):
                row[f"{name}_{what}"] = float(getattr(e, what))
                row[f"{name}_{what}_shown"] = percent(getattr(e, what))
        rows.append(row)
    columns = {key: key for key in rows[0] if not key.endswith("_shown")}
    shown = {f"{k}_shown": k for k in ("smallest", "p1", "p50", "p99", "largest")}
    tables = [("Each layer's |g| over its nonzero elements", ["layer", "nonzero", *shown])]
    for name in result.formats:
        keys = [f"{name}_{w}_shown" for w in ("zero", "subnormal", "overflow")]
        shown.update(zip(keys, ("lost", "subnormal", "overflow"), strict=True))
        tables.append((f"{name}: each layer's elements rounded once", ["layer", *keys]))
    notes = [_verdict(result, name, window) for name, window in result.windows]
    notes.append(
        "Each element is rounded once into the format (to nearest, ties to even); shares are of the layer's nonzero "
        "elements. Magnitudes and shares are shown to 3 significant digits."
    )
    data: dict[str, Any] = {
        "command": "precision",
        "elements": True,
        "source": result.source,
        "layers": [
            {
                "layer": row["layer"],
                "elements": row["elements"],
                "nonzero": row["nonzero"],
                "magnitudes": {k: row[k] for k in ("smallest", "p1", "p50", "p99", "largest")},
                "dtypes": {
                    name: {w: row[f"{name}_{w}"] for w in ("zero", "subnormal", "overflow")} for name in result.formats
                },
            }
            for row in rows
        ],
        "loss_scale": {
            name: {
                "lowest_power_of_two": w.lowest,
                "highest_power_of_two": w.highest,
                "lost": None if w.lost is None else float(w.lost),
                "gradscaler_settles": w.settles,
                "gradscaler_skipped_steps": w.skipped,
            }
            for name, w in result.windows
        },
    }

    def chart() -> Any:
        from .dtypes import limits_chart, percentile_lines

        def column(key: str) -> list[Any]:
            return [row[key] for row in rows]

        windows = ", ".join(
            f"{name} {'none' if w.lowest is None else f'2^{w.lowest}..2^{w.highest}'}" for name, w in result.windows
        )
        return limits_chart(
            f"Each layer's |g|: smallest, 1st, 50th, 99th percentile, largest; loss scales {windows}",
            percentile_lines(column),
            list(result.formats),
            len(rows),
        )

    return Report(
        title="precision: gradients element by element",
        chart=chart,
        columns=columns,
        rows=rows,
        data=data,
        notes=notes,
        tables=tables,
        table_only=shown,
        floats=True,
    )
