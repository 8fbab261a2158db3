"""From a result to what it has to say: a :class:`Report` of raw numbers (columns, rows,
summary, notes, the json object and the chart), one builder per result family in this
package's modules (chains: chain and backprop, formulas, Jacobians; dtypes: precision and
the float formats; depth, paths, loss and update, init, meanfield, probe, elements), chosen
by class (REPORTS); and a result's one-line repr. The writers (machine.py, table.py,
notebook.py) turn a Report into text; numbers become text only there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.results import (
    ChainResult,
    DepthMapResult,
    DepthResult,
    ElementsResult,
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
from ..report_types import Derivation, Equation, Report
from ..text import short
from .chains import chain_report, formula_report, jacobian_report, random_report
from .depth import depth_map_report, depth_report
from .dtypes import precision_report
from .init import init_report
from .loss import loss_report, update_report
from .meanfield import meanfield_report
from .paths import paths_report

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
        from ..text import cell_text

        tops = [
            f"{net.name} sigma_max {cell_text(v)[0]}" for net, v in zip(result.networks, result.headline, strict=True)
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
