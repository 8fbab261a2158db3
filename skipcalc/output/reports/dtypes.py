"""Gradients in float formats as reports show them: the json of each network's formats, the
table cell of the backward pass in the first format, and the verdict under the table (where
the gradient turns subnormal or is lost, the scale window, GradScaler's way to a scale)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import count
from typing import Any

from ...core import kernels
from ...core.exact import show
from ...core.precision import largest_relative_error, relative_errors
from ...core.results import InFormat, Network, PrecisionResult, Window
from ..report_types import Equation, LazyRows, Report
from ..text import StoredCell, short


def exact_float(x: float) -> Any:
    """A value of a format, exactly (a double is a terminating binary fraction); inf and nan
    as the words json readers take."""
    if x != x:
        return "nan"
    if abs(x) == math.inf:
        return "inf" if x > 0 else "-inf"
    return kernels.Terminating(Decimal(x))


def exact_floats(values: Sequence[float]) -> list[Any]:
    """exact_float of each value, at C speed (the few inf and nan fixed after)."""
    out: list[Any] = list(map(kernels.Terminating, values))  # a float converts exactly
    if not all(map(math.isfinite, values)):
        for k, x in enumerate(values):
            if not math.isfinite(x):
                out[k] = exact_float(x)
    return out


def in_format_json(d: InFormat) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": d.format,
        **({} if d.upstream is None else {"upstream": d.upstream}),
        "stored": exact_floats(d.stored),
        "status": list(d.status),
        "loss_scale": window_json(d.loss_scale),
    }
    if d.loss_scale is not None and not d.loss_scale.works:
        fields["loss_scale_short_by"] = d.loss_scale.short
        fields["held_by"] = list(d.loss_scale.holders)
    if d.computed is not None:
        fields["computed"] = exact_floats(d.computed)
        fields["computed_status"] = list(d.computed_status or ())
        fields["relative_error"] = list(relative_errors(d.computed, d.exact))
        fields["computed_loss_scale"] = window_json(d.computed_loss_scale)
    scaler = d.gradscaler
    fields["gradscaler"] = (
        None
        if scaler is None
        else {
            "initial": 2**16,
            "settles_at": None if scaler.blind else _power_value(scaler.settles),
            "skipped_steps": scaler.skipped,
            "growth_steps": None if scaler.blind else scaler.growth_steps,
            "works": scaler.works,
            "sees_overflow": not scaler.blind,
        }
    )
    return fields


def window_json(window: Window | None) -> dict[str, Any] | None:
    if window is None or not window.works:
        return None
    return {
        "lowest": _power_value(window.lowest),
        "highest": _power_value(window.highest),
        "lowest_power_of_two": window.lowest,
        "highest_power_of_two": window.highest,
    }


def _power_value(k: int) -> Fraction:
    """2^k, written by the json's one rule (a decimal while it terminates within the digits
    written, else p/q or rounded: 2^1344 is not 405 digits of a loss scale)."""
    return Fraction(2) ** k


def cell(net: Network, k: int) -> StoredCell:
    """Layer input k's gradient as the backward pass in the first format computes it."""
    d = net.dtypes[0]
    values = d.computed if d.computed is not None else d.stored
    states = d.computed_status if d.computed_status is not None else d.status
    value, state = values[k], states[k]
    assert net.wrt is not None
    return StoredCell(exact_float(value), state, is_lost(state, net.wrt[k]))


def csv_columns(net: Network) -> dict[str, tuple[str, Callable[[], Sequence[Any]]]]:
    """The csv's columns of a network in its formats, by key: (header, the column's values for
    layer inputs x_0 .. x_(n-1)): ``{net}_stored`` (the first format's exact gradient rounded
    once), then for each format its stored and computed values and the computed status."""
    first = net.dtypes[0]
    out: dict[str, tuple[str, Callable[[], Sequence[Any]]]] = {
        f"{net.name}_stored": (f"{net.name} {first.format} stored", lambda: exact_floats(first.stored[:-1]))
    }
    for d in net.dtypes:
        key = f"{net.name}_{d.format}"
        out[f"{key}_stored"] = (f"{key} stored", lambda d=d: exact_floats(d.stored[:-1]))  # type: ignore[misc]
        if d.computed is not None:
            out[f"{key}_computed"] = (f"{key} computed", lambda d=d: exact_floats(d.computed[:-1]))  # type: ignore[misc]
            out[f"{key}_status"] = (f"{key} status", lambda d=d: list(d.computed_status[:-1]))  # type: ignore[misc]
    return out


class Cells(Sequence[StoredCell]):
    """A network's column of cells in the first format, each made when read."""

    def __init__(self, net: Network) -> None:
        self.net = net

    def __len__(self) -> int:
        return len(self.net.dtypes[0].stored) - 1  # one per layer input x_0 .. x_(n-1)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [cell(self.net, k) for k in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return cell(self.net, index % len(self))


def cells(net: Network) -> Cells:
    return Cells(net)


def verdict(nets: Sequence[Network], n: int, upstream_given: bool) -> list[Equation]:
    """Under the table: for each format, each network's losses, scale window and GradScaler,
    as lines that wrap between their clauses."""
    with_formats = [net for net in nets if net.dtypes]
    if not with_formats:
        return []
    first = with_formats[0].dtypes[0]
    given = "" if upstream_given else " (assumed; --loss-grad or --target and --pred give one)"
    upstream = short(first.upstream) if first.upstream is not None else "1"
    lines = [Equation(f"In low precision, from dL/dx{n} = {upstream}{given}:")]
    width = max(len(net.name) for net in with_formats)
    for index, fmt in enumerate(d.format for d in with_formats[0].dtypes):
        lines.append(Equation(f"  {fmt}"))
        for net in with_formats:
            d = net.dtypes[index]
            lines.append(Equation(f"    {net.name:<{width}}  ", tuple(_clauses(net, d))))
    return lines


def _clauses(net: Network, d: InFormat) -> list[str]:
    """A network's clauses in one format: where its computed gradients turn subnormal and are
    lost, the largest relative error, the loss scales and GradScaler, each a clause of its own
    (the table writer wraps between them)."""
    states = d.computed_status if d.computed_status is not None else d.status
    assert net.wrt is not None
    clauses = _losses(states, net.wrt, layers_text)
    found = largest_relative_error(d.computed, d.exact, d.doubles) if d.computed is not None else None
    if found is not None:
        largest, at = found
        clauses.append(f"largest relative error {_error_text(largest)} (x_{at});")
    return clauses + _scales(d)


def _losses(states: Sequence[str], exact: Sequence[Any], places: Callable[[list[int]], str]) -> list[str]:
    """Where the gradients are lost and where they are subnormal, as clauses."""
    lost = [k for k, s, e in zip(count(), states, exact) if (s == "zero" and e) or s in _LOST]
    sub = [k for k, s in enumerate(states) if s == "subnormal"]
    clauses = []
    if lost:
        clauses.append(f"lost at {places(lost)};")
    if sub:
        clauses.append(f"subnormal at {places(sub)};")
    if not lost and not sub:
        clauses.append("every gradient normal;")
    return clauses


_LOST = frozenset(("inf", "nan", "saturated"))


def is_lost(state: str, exact: Any) -> bool:
    """A gradient a format loses: beyond its largest finite value, or 0 where it is not."""
    return state in _LOST or (state == "zero" and exact != 0)


def _scales(d: InFormat) -> list[str]:
    """The loss-scale windows (stored, and as the pass computes) and GradScaler, as clauses."""
    stored, computed = d.loss_scale, d.computed_loss_scale
    if stored is None:
        return ["every gradient is 0: nothing to scale"]
    if not stored.works:
        holders = f" ({', '.join(stored.holders)} would hold them)" if stored.holders else ""
        span = f"{stored.short} power{'s' if stored.short != 1 else ''} of two"
        return [
            f"no loss scale keeps them all: they span {span} more than its normal range{holders};",
            gradscaler_text(d),
        ]
    if d.computed is None:
        return [f"loss scale {window_text(stored)};", gradscaler_text(d)]
    if computed is not None and (computed.lowest, computed.highest) == (stored.lowest, stored.highest):
        return [f"loss scale {window_text(stored)},", "stored and as the pass computes;", gradscaler_text(d)]
    clauses = [f"loss scale {window_text(stored)} as stored,"]
    clauses.append(f"{window_text(computed) if computed is not None else 'none'} as the pass computes;")
    return [*clauses, gradscaler_text(d)]


def _error_text(value: Any) -> str:
    shown = show(value, digits=2, fraction=0)
    return shown.text if shown.exact else "≈" + shown.text


def window_text(window: Window | None) -> str:
    if window is None:
        return "none"
    if not window.works:
        holders = f" ({', '.join(window.holders)} would hold them)" if window.holders else ""
        return (
            f"none: the gradients span {window.short} power{'s' if window.short != 1 else ''} of two too many{holders}"
        )
    if window.lowest == window.highest:
        return f"2^{window.lowest} only"
    return f"2^{window.lowest} … 2^{window.highest}"


def gradscaler_text(d: InFormat) -> str:
    scaler = d.gradscaler
    if scaler is None:
        return "GradScaler cannot help: no scale keeps this pass normal and finite"
    if scaler.blind:
        fit = "keeps every gradient" if scaler.works else "does not keep every gradient"
        return (
            f"GradScaler's 2^16 {fit}; it never sees an overflow ({d.format} clamps to ±448, no inf), so it "
            "doubles every 2,000 steps without end, and once the scale is too high gradients clamp silently"
        )
    top = f"2^{scaler.settles}"
    skipped = f"{scaler.skipped} skipped step{'s' if scaler.skipped != 1 else ''}"
    if not scaler.works:
        way = f", after {skipped}" if scaler.skipped else ""
        window = d.computed_loss_scale if d.computed is not None else d.loss_scale
        if window is not None and window.works and window.lowest > scaler.settles == 127:
            return f"GradScaler cannot reach the window: its scale is a float32, at most 2^127{way}"
        if window is not None and window.works and window.highest < scaler.settles == -149:
            return f"GradScaler cannot reach the window: its scale is a float32, at least 2^-149{way}"
        return (
            f"GradScaler ends at {top}, the highest scale that does not overflow{way}: still too low for the smallest"
        )
    if scaler.skipped:
        return f"GradScaler's 2^16 overflows; it is at {top} after {skipped}"
    if scaler.growth_steps:
        return f"GradScaler's 2^16 is too low; it grows into the window in {scaler.growth_steps:,} clean steps"
    return f"GradScaler's 2^16 works from the start, and climbs to {top}"


def layers_text(indices: list[int]) -> str:
    """Gradient indices k (dL/dx_k) as layer inputs, runs from the output down: x_3..x_1, x_0."""
    runs: list[str] = []
    start = prev = None
    for k in [*sorted(indices, reverse=True), None]:
        if k is not None and prev is not None and k == prev - 1:
            prev = k
            continue
        if start is not None:
            runs.append(f"x_{start}" if start == prev else f"x_{start}..x_{prev}")
        start = prev = k
    return ", ".join(runs[:4]) + (" ..." if len(runs) > 4 else "")


NOTE = (
    "In low precision: the upstream gradient, each local derivative and each block's a and b are stored in the "
    "format, and every product and sum is rounded to it (to nearest, ties to even), as autograd computes in that "
    "dtype; FP8 stores each layer's gradient and computes in float32. The json's stored is each exact gradient "
    "rounded once. Subnormal: below the smallest normal number. Lost: 0 where the exact gradient is not, or beyond "
    "the largest finite value (inf; float8_e4m3fn clamps to 448). A loss scale 2^k multiplies the loss, and so "
    "every gradient, by 2^k."
)


def precision_report(result: PrecisionResult) -> Report:
    """Measured gradients: a row per layer with each format's stored value, the verdict per
    format under it; json with each format's lists and the layers it loses."""
    n = len(result.gradients)
    columns = {"layer": "layer", "gradient": "gradient G"}
    for d in result.formats:
        columns[d.format] = f"{d.format} stores"
        columns[f"{d.format}_status"] = f"{d.format} status"

    def row(i: int) -> dict[str, Any]:
        g = result.gradients[i]
        record: dict[str, Any] = {"layer": i + 1, "gradient": g}
        for d in result.formats:
            record[d.format] = StoredCell(exact_float(d.stored[i]), d.status[i], is_lost(d.status[i], g))
            record[f"{d.format}_status"] = d.status[i]
        return record

    def data() -> dict[str, Any]:
        fields: dict[str, Any] = {"command": "precision", "layers": n}
        if result.source is not None:
            fields["column"] = result.source
        fields["gradients"] = list(result.gradients)
        formats = []
        for d in result.formats:
            entry = in_format_json(d)
            entry["subnormal_layers"] = result.subnormal(d.format)
            entry["lost_layers"] = result.lost(d.format)
            formats.append(entry)
        return {**fields, "dtype": formats[0], "dtypes": formats}

    width = max(len(d.format) for d in result.formats)
    lines = [Equation("Per format (layer 1 is nearest the input):")]
    for d in result.formats:
        clauses = _losses(d.status, result.gradients, _layer_numbers) + _scales(d)
        lines.append(Equation(f"  {d.format:<{width}}  ", tuple(clauses)))
    title = f"precision: {n:,} measured gradient{'s' if n != 1 else ''}" + (
        f" ({result.source})" if result.source else ""
    )
    return Report(
        title=title,
        columns=columns,
        rows=LazyRows(n, row),
        data=data,
        tables=[(title, ["layer", "gradient", *(d.format for d in result.formats)])],  # the status is in the cell
        sections=[lines],
        notes=[PRECISION_NOTE],
        chart=lambda: limits_chart(
            f"{title}: |G| against each format's limits; loss scales " + ", ".join(map(_window_text, result.formats)),
            [("|G|, the measured gradient", list(result.gradients), "residual")],
            [d.format for d in result.formats],
            n,
        ),
    )


def _window_text(d: InFormat) -> str:
    w = d.loss_scale
    return f"{d.format} " + (f"2^{w.lowest}..2^{w.highest}" if w is not None and w.works else "none")


LIMIT_LOOKS = ("stochastic", "highway", "rezero", "scaled")


def percentile_lines(column: Callable[[str], list[Any]]) -> list[tuple[str, list[Any], str]]:
    """The lines of an element distribution per layer or block: largest, 99th percentile,
    median, 1st percentile, smallest nonzero |g| (``column(key)`` gives one across them)."""
    return [
        ("largest |g|", column("largest"), "plain"),
        ("99th percentile", column("p99"), "residual"),
        ("median", column("p50"), "scaled"),
        ("1st percentile", column("p1"), "residual"),
        ("smallest nonzero |g|", column("smallest"), "plain"),
    ]  # a look per format, its three limits alike


def limits_chart(
    title: str, lines: list[tuple[str, list[Any], str]], formats: list[str], n: int, xlabel: str = "layer"
) -> Any:
    """Per layer (1 .. n), each line of |values| against each format's smallest subnormal,
    smallest normal and largest finite value, drawn across (log scale): where a gradient sits
    between them says whether the format stores it normal, subnormal, as 0 or as inf."""
    from ...core.float_formats import BY_NAME
    from ..charts import LineChart, Series, log10_series

    xs = list(range(1, n + 1))
    series = [log10_series(name, xs, values, kind) for name, values, kind in lines]
    for i, name in enumerate(formats):
        fmt = BY_NAME[name]
        look = LIMIT_LOOKS[i % len(LIMIT_LOOKS)]
        for label, value in (
            ("smallest subnormal", fmt.min_subnormal),
            ("smallest normal", fmt.min_normal),
            ("largest", fmt.max_finite),
        ):
            level = log10_series("", [1], [value], look).points[0][1]
            points = ((1.0, level), (float(max(n, 2)), level))
            series.append(Series(f"{name}: {label}", points, look, secondary=label != "smallest normal"))
    return LineChart(title, f"{xlabel} (1 is nearest the input)", "|gradient|", tuple(series))


def _layer_numbers(indices: list[int]) -> str:
    """Gradient indices (from 0) as layers 1..n, in runs: layers 1-3, 7."""
    runs: list[str] = []
    start = prev = None
    for k in [*sorted(indices), None]:
        if k is not None and prev is not None and k == prev + 1:
            prev = k
            continue
        if start is not None and prev is not None:
            runs.append(f"{start + 1}" if start == prev else f"{start + 1}-{prev + 1}")
        start = prev = k
    word = "layer" if len(indices) == 1 else "layers"
    return f"{word} " + ", ".join(runs[:4]) + (" ..." if len(runs) > 4 else "")


PRECISION_NOTE = (
    "Each gradient is rounded once into the format (to nearest, ties to even), as a tensor cast to it stores "
    "it. Subnormal: below the smallest normal number, fewer significant bits. Lost: 0 where the gradient is not, "
    "or beyond the largest finite value (inf; float8_e4m3fn clamps to 448). GradScaler: torch.amp.GradScaler's "
    "defaults, 2^16 to start, halved after a step whose gradients overflow (the step is skipped), doubled after "
    "2000 clean steps."
)
