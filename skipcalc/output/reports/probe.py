"""A probe of a real model (ProbeResult) -> its Report: the blocks measured, the gradient
through the network against the plain counterfactual and the note's products, and each float
format element by element.

Measured values are floats from random probes: tables show 3 significant digits (the
intervals say how many are earned), csv and json the floats themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ...core.results import BlockProbe, Elements, Estimate, ProbeResult, ScaleWindow
from ..report_types import Report

SHOWN = 3  # significant digits of a measured value in a table


def three(x: float | None) -> str:
    """A measured value to 3 significant digits ("" for none)."""
    if x is None:
        return ""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    text = f"{x:.{SHOWN}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _plus_minus(e: Estimate | None) -> str:
    """An estimate and its 95 % interval's half-width as a percentage of it: 1.54 ±3%."""
    if e is None:
        return ""
    half = max(e.high - e.estimate, e.estimate - e.low)
    if half == 0 or e.estimate == 0:
        return three(e.estimate)
    share = 100 * half / e.estimate
    return f"{three(e.estimate)} ±{share:.0f}%" if share >= 1 else f"{three(e.estimate)} ±{share:.1g}%"


def percent(x: Any) -> str:
    if x is None:
        return ""
    value = float(x) * 100
    return "0%" if value == 0 else f"{three(value)}%"


def products(blocks: Sequence[BlockProbe]) -> list[tuple[float, float, float]]:
    """The note's scalar story from the measured D_k, from each block to the last: Π (1 + D_k)
    (residual), Π D_k (plain), Π √(1 + D_k²) (independent random Jacobians)."""
    out: list[tuple[float, float, float]] = []
    residual = plain = independent = 1.0
    for block in reversed(blocks):
        d = block.branch_gain.estimate
        residual, plain, independent = residual * (1 + d), plain * d, independent * math.sqrt(1 + d * d)
        out.append((residual, plain, independent))
    return out[::-1]


def follows(result: ProbeResult) -> tuple[str, str] | None:
    """Which of the note's products the measured residual gain at the first block is closest to
    (in log ratio): (key, sentence)."""
    first = result.blocks[0]
    if first.gain_residual is None or first.gain_residual.estimate <= 0:
        return None
    residual, plain, independent = products(result.blocks)[0]
    measured = first.gain_residual.estimate
    candidates = {
        "residual": ("the note's prod (1 + D)", residual),
        "independent": ("prod sqrt(1 + D^2)", independent),
        "plain": ("the note's prod D", plain),
    }
    key = min(
        (k for k, (_, v) in candidates.items() if v > 0),
        key=lambda k: abs(math.log(measured / candidates[k][1])),
        default=None,
    )
    if key is None:
        return None
    name, value = candidates[key]
    others = " and ".join(f"{n} = {three(v)}" for k, (n, v) in candidates.items() if k != key)
    why = {
        "residual": "each block's Jacobian adds to the identity like a scalar 1 + D.",
        "independent": "the branches' Jacobians act like independent random matrices, whose squares add to the "
        "identity's (1 + D^2 per block), not like scalars.",
        "plain": "the skips pass little; the branches multiply as in a plain network.",
    }[key]
    return key, (
        f"From the first block the network's measured gain {three(measured)} is closest to {name} = {three(value)} "
        f"(against {others}): {why}"
    )


def _elements(e: Elements | None) -> dict[str, float] | None:
    if e is None:
        return None
    return {"zero": float(e.zero), "subnormal": float(e.subnormal), "overflow": float(e.overflow)}


def _estimate(e: Estimate | None) -> dict[str, float] | None:
    return None if e is None else {"estimate": e.estimate, "low": e.low, "high": e.high}


def _window(w: ScaleWindow) -> dict[str, Any]:
    return {
        "lowest_power_of_two": w.lowest,
        "highest_power_of_two": w.highest,
        "lost": None if w.lost is None else float(w.lost),
        "gradscaler_settles": w.settles,
        "gradscaler_skipped_steps": w.skipped,
    }


def _block_json(block: BlockProbe, note: tuple[float, float, float]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": block.name,
        "skip": block.skip,
        "shortcut": block.shortcut,
        "shape_in": list(block.shape_in),
        "shape_out": list(block.shape_out),
        "branch_gain": _estimate(block.branch_gain),
        "branch_sigma_max": block.branch_sigma_max,
        "block_gain": _estimate(block.block_gain),
        "relative_update": block.relative_update,
        "cos_input": block.cos_input,
        "token_cosine": block.token_cosine,
        "gain": {"residual": _estimate(block.gain_residual), "plain": _estimate(block.gain_plain)},
        "note": {"residual": note[0], "plain": note[1], "independent": note[2]},
        "predicted": block.predicted,
        "gradient": block.gradient,
    }
    if block.magnitudes is not None:
        m = block.magnitudes
        data["magnitudes"] = {
            "smallest": m.smallest,
            "p1": m.p1,
            "p50": m.p50,
            "p99": m.p99,
            "largest": m.largest,
            "nonzero": m.count,
            "size": m.size,
        }
    if block.dtypes:
        data["dtypes"] = {
            name: {
                "stored": _elements(low.stored),
                "computed": _elements(low.computed),
                "parameters": {
                    "stored": _elements(low.parameters_stored),
                    "computed": _elements(low.parameters_computed),
                },
            }
            for name, low in block.dtypes
        }
    return data


def probe_report(result: ProbeResult) -> Report:
    notes_products = products(result.blocks)
    rows = []
    formats = [name for name, _ in result.blocks[0].dtypes]
    for block, note in zip(result.blocks, notes_products, strict=True):
        row: dict[str, Any] = {
            "block": block.name,
            "skip": block.skip + (f" ({block.shortcut})" if block.shortcut else ""),
            "branch_gain": block.branch_gain.estimate,
            "branch_gain_low": block.branch_gain.low,
            "branch_gain_high": block.branch_gain.high,
            "branch_sigma_max": block.branch_sigma_max,
            "block_gain": block.block_gain.estimate,
            "relative_update": block.relative_update,
            "cos_input": block.cos_input,
            "token_cosine": block.token_cosine,
            "gain_residual": None if block.gain_residual is None else block.gain_residual.estimate,
            "gain_plain": None if block.gain_plain is None else block.gain_plain.estimate,
            "note_residual": note[0],
            "note_plain": note[1],
            "note_independent": note[2],
            "predicted": block.predicted,
            "gradient": block.gradient,
            # the table's cells
            "D": _plus_minus(block.branch_gain),
            "sigma": three(block.branch_sigma_max),
            "one_plus_d": _plus_minus(block.block_gain),
            "update": three(block.relative_update),
            "cos": three(block.cos_input),
            "tokens": three(block.token_cosine),
            "through": _plus_minus(block.gain_residual),
            "without": _plus_minus(block.gain_plain),
            "p_res": three(note[0]),
            "p_plain": three(note[1]),
            "p_ind": three(note[2]),
            "mf": three(block.predicted),
            "grad": three(block.gradient),
        }
        for name, low in block.dtypes:
            for side, e in (("stored", low.stored), ("computed", low.computed)):
                for what in ("zero", "subnormal", "overflow"):
                    value = None if e is None else getattr(e, what)
                    row[f"{name}_{side}_{what}"] = None if value is None else float(value)
                    row[f"{name}_{side}_{what}_shown"] = percent(value)
            params = low.parameters_computed or low.parameters_stored
            row[f"{name}_parameters_zero"] = None if params is None else float(params.zero)
            row[f"{name}_parameters_shown"] = percent(None if params is None else params.zero)
        rows.append(row)
    csv_columns = {
        key: key
        for key in rows[0]
        if not key.endswith("_shown")
        and key not in ("D", "sigma", "one_plus_d", "update", "cos", "tokens", "through", "without")
        and key not in ("p_res", "p_plain", "p_ind", "mf", "grad")
    }
    shown: dict[str, str] = {
        "D": "D",
        "sigma": "sigma_max",
        "one_plus_d": "1+D",
        "update": "update",
        "cos": "cos x0",
        "tokens": "tokens cos",
        "through": "residual",
        "without": "plain",
        "p_res": "prod(1+D)",
        "p_plain": "prod D",
        "p_ind": "prod rms",
        "mf": "mean-field",
        "grad": "|grad|",
    }
    first_keys = ["block", "skip", "D", "sigma", "one_plus_d", "update", "cos"]
    if any(b.token_cosine is not None for b in result.blocks):
        first_keys.append("tokens")
    gain_keys = ["block", "through", "without", "p_res", "p_ind", "p_plain"]
    if any(b.predicted is not None for b in result.blocks):
        gain_keys.append("mf")
    if not result.upstream.startswith("random"):
        gain_keys.append("grad")
    tables = [("Each block at the actual activations", first_keys)]
    if result.blocks[0].gain_residual is not None:
        tables.append(("The gain from each block's input to the last block's output", gain_keys))
    for name in formats:
        side = (
            "computed"
            if result.blocks[0].dtypes[[n for n, _ in result.blocks[0].dtypes].index(name)][1].computed
            else "stored"
        )
        keys = ["block", *(f"{name}_{side}_{w}_shown" for w in ("zero", "subnormal", "overflow"))]
        shown.update({keys[1]: "lost", keys[2]: "subnormal", keys[3]: "overflow"})
        if side == "computed":
            keys.append(f"{name}_stored_zero_shown")
            shown[keys[-1]] = "lost if stored"
        keys.append(f"{name}_parameters_shown")
        shown[f"{name}_parameters_shown"] = "params lost"
        how = "PyTorch's pass in it" if side == "computed" else "float32's rounded into it"
        tables.append((f"{name}: each block's input gradient, element by element ({how})", keys))
    csv_columns["block"] = "block"
    csv_columns["skip"] = "skip"
    said = [
        f"{result.model}: {result.chosen}.",
        f"The gradient at the output: {result.upstream}; {result.probes} random vectors per estimate, seed "
        f"{result.seed}.",
    ]
    if result.batchnorm is not None:
        said.append(f"BatchNorm in {result.batchnorm} mode, as the model was set.")
    notes = said + _notes(result, notes_products)
    data: dict[str, Any] = {
        "command": "probe",
        "model": result.model,
        "chosen": result.chosen,
        "probes": result.probes,
        "seed": result.seed,
        "samples": result.samples,
        "upstream": result.upstream,
        "batchnorm": result.batchnorm,
        "mode": result.mode if formats else None,
        "gain_reason": result.gain_reason,
        "sigma_reason": result.sigma_reason,
        "predicted_from": result.predicted_from,
        "follows": (follows(result) or (None,))[0],
        "blocks": [_block_json(b, n) for b, n in zip(result.blocks, notes_products, strict=True)],
    }
    if result.windows:
        data["loss_scale"] = {name: _window(w) for name, w in result.windows}
    return Report(
        title=f"probe: {result.model}",
        columns=csv_columns,
        rows=rows,
        data=data,
        notes=notes,
        tables=tables,
        table_only=shown,
        chart=lambda: _dtype_chart(result) if formats else _chart(result, notes_products),
        row_name="block",
        floats=True,
    )


def _notes(result: ProbeResult, notes_products: list[tuple[float, float, float]]) -> list[str]:
    first = result.blocks[0]
    notes = []
    if first.gain_residual is not None and first.gain_plain is not None:
        notes.append(
            f"At the first block ({first.name}) the gradient keeps {three(first.gain_residual.estimate)} of its size "
            f"through the skips; without them it would be {three(first.gain_plain.estimate)}."
        )
        said = follows(result)
        if said:
            notes.append(said[1])
    elif result.gain_reason:
        notes.append(f"The gains through the network were not measured: {result.gain_reason}.")
    if result.predicted_from:
        notes.append(f"The mean-field column is {result.predicted_from}.")
    for name, window in result.windows:
        notes.append(_verdict(result, name, window))
    if result.sigma_reason:
        notes.append(f"sigma_max was not measured: {result.sigma_reason}.")
    notes.append(
        "D is the root mean square singular value of the branch's Jacobian J_F (F(x) = block(x) - skip(x)), "
        "estimated from random vector-Jacobian products; 1 + D measured is the same for the whole block. Measured "
        "values are shown to 3 significant digits, ±: the 95% interval over the probes. prod(1+D), prod rms = "
        "prod sqrt(1 + D^2) and prod D: the note's products of the measured D from each block to the last."
    )
    return notes


def _verdict(result: ProbeResult, name: str, window: ScaleWindow) -> str:
    from ...probing.lowprec import HIGHEST_SCALE, LOWEST_SCALE

    mode = "the model cast whole (model.to)" if result.mode == "cast" else "float32 weights under torch.autocast"

    def lost(block: BlockProbe) -> float:
        low = next(low for n, low in block.dtypes if n == name)
        return float((low.computed or low.stored).zero)

    worst = max(result.blocks, key=lost)
    text = (
        f"{name}, {mode}: no block's input gradient loses an element"
        if lost(worst) == 0
        else f"{name}, {mode}: {percent(lost(worst))} of {worst.name}'s input gradient is lost"
    )
    if window.highest is None:
        return text + "; every loss scale overflows."
    keeps = "every nonzero element" if not window.lost else f"all but {percent(window.lost)} of the nonzero elements"
    low = f"2^{window.lowest}" + (" or less" if window.lowest == LOWEST_SCALE else "")
    high = f"2^{window.highest}" + (" or more" if window.highest == HIGHEST_SCALE else "")
    return text + f"; loss scales {low} ... {high} keep {keeps} of the blocks' gradients; {gradscaler(window)}."


def gradscaler(window: ScaleWindow) -> str:
    """What torch.amp.GradScaler's defaults do with the window, in words."""
    if window.settles is None:
        return "GradScaler halves its scale at every step, each overflowing"
    if window.skipped:
        return f"GradScaler skips {window.skipped} overflowing steps, halving from 2^16 down to 2^{window.settles}"
    if window.settles == 16:
        return "GradScaler stays at 2^16"
    return f"GradScaler grows from 2^16 to 2^{window.settles}, doubling after every 2000 clean steps"


def _dtype_chart(result: ProbeResult) -> Any:
    """With --dtype: each block's input gradient, |g| from its smallest to its largest element
    (percentiles 1, 50, 99 between), against each format's limits."""
    from .dtypes import limits_chart, percentile_lines

    def column(key: str) -> list[Any]:
        return [getattr(b.magnitudes, key) if b.magnitudes is not None else None for b in result.blocks]

    return limits_chart(
        f"probe: {result.model}, each block's input gradient element by element, against the formats' limits",
        percentile_lines(column),
        [name for name, _ in result.blocks[0].dtypes],
        len(result.blocks),
        "block",
    )


def _chart(result: ProbeResult, notes_products: list[tuple[float, float, float]]) -> Any:
    from ..charts import LineChart, Series

    xs = range(1, len(result.blocks) + 1)

    def series(name: str, values: Sequence[float | None], kind: str, secondary: bool = False) -> Series:
        points = tuple((float(x), math.log10(v)) for x, v in zip(xs, values, strict=True) if v is not None and v > 0)
        return Series(name, points, kind, secondary=secondary)

    lines = [
        series(
            "through the skips (measured)",
            [b.gain_residual.estimate if b.gain_residual else None for b in result.blocks],
            "residual",
        ),
        series(
            "without them, plain (measured)",
            [b.gain_plain.estimate if b.gain_plain else None for b in result.blocks],
            "plain",
        ),
        series("note: prod (1 + D)", [n[0] for n in notes_products], "residual", secondary=True),
        series("note: prod sqrt(1 + D^2)", [n[2] for n in notes_products], "highway", secondary=True),
        series("note: prod D", [n[1] for n in notes_products], "plain", secondary=True),
    ]
    if any(b.predicted is not None for b in result.blocks):
        lines.append(series("mean-field prediction", [b.predicted for b in result.blocks], "scaled", secondary=True))
    return LineChart(
        f"probe: {result.model}, gain from each block's input to the last block's output",
        "block k (1 is nearest the input)",
        "gain (root mean square singular value)",
        tuple(lines),
    )
