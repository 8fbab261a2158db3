"""Reports of networks side by side: chain and backprop through numbers, formulas, Jacobians
and random Jacobians; each network's gradient per layer, what a float format stores of it,
and the chart of the gradient reaching each layer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from ...core.results import (
    ChainResult,
    Earned,
    FormulaResult,
    JacobianResult,
    Network,
    RandomJacobianResult,
)
from ..report_types import Report, columnar, headline_fields
from ..text import short
from . import dtypes


def _network_json(net: Network) -> dict[str, Any]:
    fields: dict[str, Any] = {"gradient": net.gradient, **headline_fields(net.gradient)}
    if net.wrt is not None:
        fields["wrt"] = list(net.wrt)
        fields["wrt_exact"] = net.wrt_exact
    if net.dtypes:
        every = [dtypes.in_format_json(d) for d in net.dtypes]
        fields["dtype"], fields["dtypes"] = every[0], every  # the first written twice, made once
    return fields


def _gradient_header(net: Network, n: int, backprop: bool) -> str:
    return f"{net.name} {'dL' if backprop else f'dx{n}'}/dx_in"


def chain_report(result: ChainResult) -> Report:
    n = len(result.local)
    backprop = result.upstream is not None
    nets = result.networks
    with_factors = len(nets) <= 2 and not any(net.dtypes for net in nets)
    columns = {"layer": "layer", "local": "local D"}
    for net in nets:
        if with_factors:
            columns[f"{net.name}_factor"] = f"{net.name} factor" + (
                "" if net.block.kind == "plain" else f" {net.block.factor_text(compact=True)}"
            )
        columns[f"{net.name}_gradient"] = _gradient_header(net, n, backprop)
        if net.dtypes:
            columns[f"{net.name}_pass"] = f"{net.name} {net.dtypes[0].format} pass"
    shown = list(columns)  # the table's columns; the csv also has each format's values

    sources: dict[str, Callable[[], Sequence[Any]]] = {"layer": lambda: range(1, n + 1), "local": lambda: result.local}
    for net in nets:
        if with_factors:
            sources[f"{net.name}_factor"] = lambda net=net: net.factors  # type: ignore[misc]
        sources[f"{net.name}_gradient"] = lambda net=net: net.wrt[:-1] if net.wrt is not None else [None] * n  # type: ignore[misc]
        if net.dtypes:
            sources[f"{net.name}_pass"] = lambda net=net: dtypes.cells(net)  # type: ignore[misc]
            for key, (header, source) in dtypes.csv_columns(net).items():
                columns[key], sources[key] = header, source
    rows, column = columnar(n, sources)

    classic = {net.name for net in nets} >= {"plain", "residual"}

    def data() -> dict[str, Any]:  # made only when json is written
        fields: dict[str, Any] = {"command": result.command, "layers": n, "local": list(result.local)}
        _backprop_summary(result, n, fields)
        for net in nets:
            if net.name in ("plain", "residual"):
                fields[net.name] = _network_json(net)
        if result.blocks_given:
            fields["blocks"] = [{"block": net.name, **_network_json(net)} for net in nets]
        if classic:
            fields["ratio"] = result.ratio
        if result.updates:
            fields["updates"] = {
                net.name: {
                    "weight": u.weight,
                    "lr": u.lr,
                    "grad": u.grad,
                    "input": u.input,
                    "new_weight": u.new_weight,
                    "step": u.step,
                }
                for net, u in zip(nets, result.updates, strict=True)
            }
        return fields

    summary = _backprop_summary(result, n, {})
    label = "dL/dx0" if backprop else f"dx{n}/dx0"
    summary.extend((f"{net.name} {label}", net.gradient) for net in nets)
    if classic:
        summary.append(("residual / plain", result.ratio if result.ratio is not None else "undefined (plain is 0)"))
    updated = zip(nets, result.updates, strict=False)  # none without --lr
    summary.extend((f"{net.name}: first layer's new weight", u.new_weight) for net, u in updated)
    notes = []
    if result.updates:
        from ..text import arithmetic

        notes.append(
            "The first layer's update, new = weight - lr * dL/dx0 * input: "
            + "; ".join(f"{net.name} {arithmetic(u)}" for net, u in zip(nets, result.updates, strict=True))
            + "."
        )
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
    title = f"{result.command}: {n:,} layer{'s' if n != 1 else ''}"
    tables = [(title, shown)] if len(shown) < len(columns) else None
    return _networks_report(
        title, nets, n, backprop, columns, rows, data, summary, notes, tables, column=column, local=result.local
    )


def _networks_report(
    title: str,
    nets: Sequence[Network],
    n: int,
    backprop: bool,
    columns: dict[str, str],
    rows: Sequence[Mapping[str, Any]] | Callable[[], Sequence[Mapping[str, Any]]],
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    summary: list[tuple[str, Any]],
    notes: list[str],
    tables: list[tuple[str, list[str]]] | None = None,
    column: Callable[[str], Sequence[Any]] | None = None,
    local: Sequence[Fraction] = (),
) -> Report:
    """The report of networks side by side (numbers or formulas): each one's gradient on the
    value line, what a float format stores of it, and the chart of the gradient per layer."""
    return Report(
        title=title,
        columns=columns,
        rows=rows,
        data=data,
        summary=summary,
        sections=[dtypes.verdict(nets, n, backprop)] if any(net.dtypes for net in nets) else [],
        notes=notes + ([dtypes.NOTE] if any(net.dtypes for net in nets) else []),
        tables=tables or [],
        chart=lambda: _gradient_chart(nets, n, backprop, local),
        column_source=column,
    )


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


def _gradient_chart(nets: Sequence[Network], n: int, backprop: bool, local: Sequence[Fraction] = ()) -> Any:
    from dataclasses import replace

    from ..charts import LineChart, format_levels, log10_series, shades
    from ..text import chart_number

    what = "dL/dx_k" if backprop else f"dx{n}/dx_k"
    series = tuple(
        replace(
            log10_series(net.block.label, list(range(n + 1)), list(net.wrt), net.block.kind, shade),
            first=f"{chart_number(net.wrt[0])} at x_0",
        )
        for net, shade in zip(nets, shades([net.block.kind for net in nets]), strict=True)
        if net.wrt is not None
    )
    case = ""
    if local:
        shown = ", ".join(short(d) for d in local[:4]) + (", ..." if len(local) > 4 else "")
        case = f"every layer's D = {short(local[0])}" if len(set(local)) == 1 else f"D = {shown}"
    return LineChart(
        f"|{what}|: the gradient reaching each layer's input ({n:,} layers{', ' + case if case else ''})",
        "layer input k (x_k)",
        f"|{what}|",
        series,
        levels=format_levels(list(dict.fromkeys(d.format for net in nets for d in net.dtypes)), subnormal=True),
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
        if net.dtypes:
            columns[f"{net.name}_pass"] = f"{net.name} {net.dtypes[0].format} pass"
            columns.update({key: header for key, (header, _) in dtypes.csv_columns(net).items()})

    def rows() -> list[dict[str, Any]]:
        records = []
        held = {key: source() for net in nets if net.dtypes for key, (_, source) in dtypes.csv_columns(net).items()}
        for i, (fn, df) in enumerate(zip(result.texts, result.derivatives, strict=True), start=1):
            record: dict[str, Any] = {"layer": i, "fn": fn, "derivative": df}
            for net in nets:
                record[f"{net.name}_x"] = (net.points or ())[i - 1]
                record[f"{net.name}_local"] = net.local[i - 1]
                record[f"{net.name}_gradient"] = (net.wrt or ())[i - 1]
                if net.dtypes:
                    record[f"{net.name}_pass"] = dtypes.cell(net, i - 1)
            for key, values in held.items():
                record[key] = values[i - 1]
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
    entries = []
    for net in nets:
        fields = {
            **_network_json(net),
            "points": list(net.points or ()),
            "local": list(net.local),
            "symbolic": net.closed_form,
        }
        if result.own_prediction and net.loss is not None:
            fields.update(prediction=net.loss.pred, loss=net.loss.value, loss_gradient=net.loss.gradient)
        entries.append(fields)
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
        data["blocks"] = [{"block": net.name, **fields} for net, fields in zip(nets, entries, strict=True)]
    tables = [
        (
            f"{net.name} network",
            ["layer", "fn", f"{net.name}_x", f"{net.name}_local", f"{net.name}_gradient"]
            + ([f"{net.name}_pass"] if net.dtypes else []),
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
    if block.kind.startswith("stochastic"):  # formula layers run one network: the gates at their means
        return (
            f"x_(k-1) + p_k F_k(x_(k-1)) with a + b·D = {block.factor_text()}, stochastic depth's test-time "
            "network (each block scaled by its survival probability), not the expectation over random gates"
        )
    return f"a x_(k-1) + b F_k(x_(k-1)) with a + b·D = {block.factor_text()}"


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
        from ..charts import LineChart, log10_series, shades

        chart = LineChart(
            f"||dx{n}/dx_k||2: the largest gain from each layer's input to the output ({n} layers, {d}x{d})",
            "layer input k (x_k)",
            f"||dx{n}/dx_k||2",
            tuple(
                log10_series(
                    net.block.label, list(range(n)), [s.singular_values[0] for s in net.spectra], net.block.kind, shade
                )
                for net, shade in zip(nets, shades([net.block.kind for net in nets]), strict=True)
            ),
        )
    return Report(
        f"{result.command}: {n} Jacobian layer{'s' if n != 1 else ''}, {d}x{d}",
        columns,
        records,
        data,
        summary,
        notes=notes,
        chart=(lambda: chart) if chart is not None else None,
    )


def _matrix_text(m: Any) -> str:
    return "[" + ", ".join("[" + ", ".join(short(x) for x in row) + "]" for row in m) + "]"


def random_report(result: RandomJacobianResult) -> Report:
    from ..charts import LineChart, Series, shades

    nets = result.networks
    columns = {"depth": "depth"}
    for net in nets:
        columns[f"{net.name}_max"] = f"{net.name} sigma_max"
        columns[f"{net.name}_min"] = f"{net.name} sigma_min"

    records = []
    for k in range(result.layers):
        record: dict[str, Any] = {"depth": k + 1}
        for net in nets:
            record[f"{net.name}_max"], record[f"{net.name}_min"] = net.earned(k + 1, result.dim)
        records.append(record)
    data: dict[str, Any] = {
        "command": "chain",
        "jacobians": "random",
        "dim": result.dim,
        "layers": result.layers,
        "scale": result.scale,
        "seed": result.seed,
        "weights": result.weights,
        "rows": records,
    }
    summary: list[tuple[str, Any]] = []
    series = []
    entries = []
    import math

    for net, shade in zip(nets, shades([net.block.kind for net in nets]), strict=True):
        final = net.singular_values[-1]
        top, low = net.earned(result.layers, result.dim)
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
            Earned(condition, min(top.digits, low.digits))
            if condition is not None
            else f"> {fields['condition_number_at_least']:.1e} (sigma_min is below float64 round-off)"
            if fields.get("condition_number_at_least")
            else "undefined"
        )
        summary.append((f"{net.name} condition number", cond_text))
        if net.theory is not None:
            squares = [v * v for v in final]
            measured_mean = math.fsum(squares) / len(squares)
            measured_variance = math.fsum((x - measured_mean) ** 2 for x in squares) / len(squares)
            mean, variance = net.theory
            fields["theory"] = {"mean_square": mean, "variance_square": variance}
            fields["measured"] = {"mean_square": measured_mean, "variance_square": measured_variance}
            summary.append((f"{net.name} mean sigma^2: theory (wide limit)", mean))
            summary.append((f"{net.name} mean sigma^2: measured", Earned(measured_mean, 3)))
        import math

        for which, pick in (("max", 0), ("min", -1)):
            points = tuple(
                (float(k + 1), math.log10(v[pick]))
                for k, v in enumerate(net.singular_values)
                if 0 < v[pick] < math.inf and (pick == 0 or net.earned(k + 1, result.dim)[1].digits)
            )
            series.append(Series(f"{net.block.label}: sigma_{which}", points, net.block.kind, shade, pick != 0))
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
        plot=True,
        floats=True,
    )
