"""Charts for depth and paths: drawn with Rich in the terminal, written as SVG for slides.

Rich is already skipcalc's table library, so the terminal charts use it (a grid of marks
for lines, rich.bar.Bar for bars) rather than adding a plotting dependency; the SVG is
written directly, a few elements that any browser or slide tool opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

Point = tuple[float, float]


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]
    mark: str
    style: str


@dataclass(frozen=True)
class LineChart:
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class BarChart:
    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]  # shares, 0..1
    highlight: tuple[int, int] | None = None  # index range drawn in another colour


Chart = LineChart | BarChart


def _bounds(chart: LineChart) -> tuple[float, float, float, float]:
    xs = [x for s in chart.series for x, _ in s.points]
    ys = [y for s in chart.series for _, y in s.points]
    x0, x1 = min(xs, default=0.0), max(xs, default=1.0)
    y0, y1 = min(ys, default=0.0), max(ys, default=1.0)
    if x0 == x1:
        x1 = x0 + 1
    if y0 == y1:
        y0, y1 = y0 - 1, y1 + 1
    return x0, x1, y0, y1


def terminal(chart: Chart, width: int = 60, height: int = 14) -> Any:
    """A Rich renderable for the chart."""
    from rich.table import Table
    from rich.text import Text

    if isinstance(chart, BarChart):
        from rich.bar import Bar

        table = Table(title=chart.title, show_header=False, box=None, padding=(0, 1))
        table.add_column(justify="right")
        table.add_column(width=width)
        table.add_column(justify="right")
        lo, hi = chart.highlight or (-1, -1)
        for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
            style = "green" if lo <= i <= hi else "blue"
            table.add_row(label, Bar(1.0, 0, max(0.0, min(1.0, value)), width=width, color=style), f"{value:.1%}")
        return table

    x0, x1, y0, y1 = _bounds(chart)
    grid = [[(" ", "")] * width for _ in range(height)]
    for series in chart.series:
        for x, y in series.points:
            col = round((x - x0) / (x1 - x0) * (width - 1))
            row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
            grid[row][col] = (series.mark, series.style)
    text = Text()
    text.append(f"{chart.title}\n", style="bold")
    for r, row in enumerate(grid):
        label = f"{y1:>9.4g} ┤" if r == 0 else f"{y0:>9.4g} ┤" if r == height - 1 else " " * 9 + " │"
        text.append(label)
        for mark, style in row:
            text.append(mark, style=style or None)
        text.append("\n")
    text.append(" " * 10 + "└" + "─" * width + "\n")
    text.append(" " * 11 + f"{x0:<{width // 2}.6g}{x1:>{width - width // 2}.6g}\n")
    legend = "   ".join(f"{s.mark} {s.name}" for s in chart.series)
    text.append(f"{' ' * 11}{chart.xlabel}  (y: {chart.ylabel})   {legend}")
    return text


def svg(chart: Chart, width: int = 720, height: int = 420) -> str:
    """The chart as a standalone SVG document."""
    left, right, top, bottom = 70, 20, 40, 50
    w, h = width - left - right, height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(chart.title)}</text>',
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="black"/>',
    ]
    if isinstance(chart, BarChart):
        n = max(len(chart.values), 1)
        lo, hi = chart.highlight or (-1, -1)
        for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
            bar_h = max(0.0, min(1.0, value)) * h
            x = left + i * w / n
            colour = "#2a9d55" if lo <= i <= hi else "#3a6ea5"
            out.append(
                f'<rect x="{x:.2f}" y="{top + h - bar_h:.2f}" width="{max(w / n - 1, 0.5):.2f}" '
                f'height="{bar_h:.2f}" fill="{colour}"><title>{escape(label)}: {value:.4%}</title></rect>'
            )
        out.append(f'<text x="{left + w / 2}" y="{height - 12}" text-anchor="middle">path length k</text>')
        out.append(f'<text x="{left - 8}" y="{top + 4}" text-anchor="end">100%</text>')
        out.append(f'<text x="{left - 8}" y="{top + h}" text-anchor="end">0</text>')
    else:
        x0, x1, y0, y1 = _bounds(chart)
        colours = ["#d1495b", "#2a9d55", "#3a6ea5"]
        for i, series in enumerate(chart.series):
            pts = " ".join(
                f"{left + (x - x0) / (x1 - x0) * w:.2f},{top + h - (y - y0) / (y1 - y0) * h:.2f}"
                for x, y in series.points
            )
            colour = colours[i % len(colours)]
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<text x="{left + 10}" y="{top + 16 + 16 * i}" fill="{colour}">{escape(series.name)}</text>')
        out.append(f'<text x="{left - 8}" y="{top + 4}" text-anchor="end">{y1:.4g}</text>')
        out.append(f'<text x="{left - 8}" y="{top + h}" text-anchor="end">{y0:.4g}</text>')
        out.append(f'<text x="{left}" y="{top + h + 16}" text-anchor="middle">{x0:.6g}</text>')
        out.append(f'<text x="{left + w}" y="{top + h + 16}" text-anchor="middle">{x1:.6g}</text>')
        out.append(f'<text x="{left + w / 2}" y="{height - 12}" text-anchor="middle">{escape(chart.xlabel)}</text>')
        out.append(
            f'<text x="16" y="{top + h / 2}" text-anchor="middle" '
            f'transform="rotate(-90 16 {top + h / 2})">{escape(chart.ylabel)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def log10_series(name: str, xs: Sequence[int], values: Sequence[Any], mark: str, style: str) -> Series:
    """log10 |value| against x, leaving out zeros (whose log is -infinity)."""
    from .numbers import log10_abs

    points = tuple((float(x), y) for x, v in zip(xs, values, strict=True) if (y := log10_abs(v)) is not None)
    return Series(name, points, mark, style)
