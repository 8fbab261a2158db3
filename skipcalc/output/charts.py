"""Charts: in the terminal with Rich, and saved for slides with matplotlib (--save FILE.png,
.svg or .pdf), which is imported only when saving.

Line charts plot log10 |value|, so gradients far outside double range (1e-1000) are drawn:
the saved axis is labelled in decades (10^-3), which reads as a log axis. Each kind of block
keeps one look in every chart - a colour of the Okabe-Ito palette (safe for colour-blind
readers), a marker and a line style - so residual is the same blue line on every slide;
several blocks of one kind get shades of its colour.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import InputError, OutputError

Point = tuple[float, float]

OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


@dataclass(frozen=True)
class Look:
    """How one kind of block is drawn, saved and in the terminal."""

    colour: str
    marker: str
    line: str
    mark: str  # in the terminal
    terminal_colour: str


LOOKS = {
    "plain": Look("#D55E00", "o", "-", "●", "red"),
    "residual": Look("#0072B2", "s", "--", "■", "blue"),
    "scaled": Look("#009E73", "^", "-.", "▲", "green"),
    "rezero": Look("#CC79A7", "D", ":", "◆", "magenta"),
    "highway": Look("#E69F00", "v", "-", "✕", "yellow"),
    "stochastic": Look("#56B4E9", "P", "--", "★", "cyan"),
    "stochastic-linear": Look("#000000", "X", "-.", "+", "white"),
}


@dataclass(frozen=True)
class Series:
    name: str  # the legend: the block in words
    points: tuple[Point, ...]  # (x, log10 |y|)
    kind: str  # the block's kind: its look (LOOKS)
    shade: int = 0  # the nth block of this kind in the chart: a lighter or darker shade
    secondary: bool = False  # a second series of one block (sigma_min beside sigma_max): dotted, hollow
    thinned: int = 0  # the points the line had, when it was thinned to its extremes (log10_series)
    last: str = ""  # the last point's value, written beside it on a saved chart
    first: str = ""  # the first point's value, likewise (a chain's headline: the gradient at x_0)

    @property
    def look(self) -> Look:
        return LOOKS.get(self.kind, LOOKS["plain"])

    @property
    def colour(self) -> str:
        """The kind's colour, mixed towards black (odd shades) or white (even) for the nth."""
        if not self.shade:
            return self.look.colour
        rgb = [int(self.look.colour[i : i + 2], 16) for i in (1, 3, 5)]
        toward, amount = (0, 0.35 * ((self.shade + 1) // 2)) if self.shade % 2 else (255, 0.3 * (self.shade // 2))
        amount = min(amount, 0.7)
        return "#" + "".join(f"{round(c + (toward - c) * amount):02x}" for c in rgb)


def shades(kinds: Sequence[str]) -> list[int]:
    """For blocks in order, how many of the same kind came before each (its shade)."""
    seen: dict[str, int] = {}
    out = []
    for kind in kinds:
        out.append(seen.get(kind, 0))
        seen[kind] = out[-1] + 1
    return out


@dataclass(frozen=True)
class LineChart:
    title: str
    xlabel: str
    ylabel: str  # what is plotted; the axis shows it in decades
    series: tuple[Series, ...]
    linear: bool = False  # the points' y are the values themselves (a cosine), on a linear axis
    levels: tuple[tuple[float, str], ...] = ()  # (log10 y, what it is): reference lines across a saved chart


@dataclass(frozen=True)
class Panels:
    """Line charts side by side under one title (saved; the terminal draws the first)."""

    title: str
    charts: tuple[LineChart, ...]


@dataclass(frozen=True)
class BarChart:
    title: str
    xlabel: str
    labels: tuple[int, ...]
    values: tuple[float, ...]  # shares, 0..1
    highlight: tuple[int, int] | None = None  # index range drawn solid


@dataclass(frozen=True)
class PhaseChart:
    """The critical line σ_w²(σ_b²) of mean-field theory: ordered to its left, chaotic to its right."""

    title: str
    points: tuple[Point, ...]  # (critical σ_w², σ_b²)


@dataclass(frozen=True)
class HeatMap:
    """log10 |gradient| over depth (x) and local derivative D (y), one panel per block, one
    colour scale; contours where it crosses 1e-6 and float16's and bfloat16's normal range."""

    title: str
    ys: tuple[float, ...]  # the derivatives D
    xs: tuple[int, ...]  # the depths
    names: tuple[str, ...]  # the blocks, in words
    grids: tuple[tuple[tuple[float | None, ...], ...], ...]  # per block, per D, per depth


Chart = LineChart | BarChart | PhaseChart | HeatMap | Panels


COLUMNS = 2000
"""A line of more points than twice this is thinned to the highest and lowest of each of this
many runs of consecutive points: a chart 1600 pixels wide draws no more, and keeps every peak."""


def format_levels(names: Sequence[str], subnormal: bool = False) -> tuple[tuple[float, str], ...]:
    """The float formats' limits a chart draws where its lines pass them: each format's smallest
    normal number and its largest (and its smallest subnormal, with ``subnormal``)."""
    from ..core.exact import log10_abs
    from ..core.float_formats import BY_NAME

    out = []
    for name in names:
        fmt = BY_NAME[name]
        limits = [(fmt.min_normal, "smallest normal"), (fmt.max_finite, "largest")]
        if subnormal:
            limits.append((fmt.min_subnormal, "smallest subnormal"))
        for value, what in limits:
            log = log10_abs(value)
            if log is not None:
                out.append((log, f"{name} {what}, {float(value):.3g}"))
    return tuple(out)


def log10_series(name: str, xs: Sequence[int], values: Sequence[Any], kind: str, shade: int = 0) -> Series:
    """log10 |value| against x, leaving out zeros (log10 0 is -infinity); a long line thinned
    to its extremes (COLUMNS), whose logarithms alone are taken."""
    from ..core.exact import log10_abs

    kept = _extremes(values) if len(values) > 2 * COLUMNS else range(len(values))
    points = tuple((float(xs[i]), y) for i in kept if (y := log10_abs(values[i])) is not None)
    return Series(name, points, kind, shade, thinned=len(values) if len(kept) < len(values) else 0)


def _extremes(values: Sequence[Any]) -> list[int]:
    """The indices of the largest and smallest nonzero |value| in each of COLUMNS runs."""
    step = -(-len(values) // COLUMNS)
    kept: set[int] = set()
    for start in range(0, len(values), step):
        magnitudes = list(map(abs, values[start : start + step]))
        nonzero = [m for m in magnitudes if m]
        if nonzero:
            kept.add(start + magnitudes.index(max(nonzero)))
            kept.add(start + magnitudes.index(min(nonzero)))
    return sorted(kept)


# ---------------------------------------------------------------------------
# In the terminal


def terminal(chart: Chart, width: int, color: bool) -> Any:
    """A Rich renderable for the chart, at most ``width`` columns wide."""
    if isinstance(chart, BarChart):
        return _bars(chart, width, color)
    if isinstance(chart, HeatMap):
        from rich.text import Text

        return Text("a depth map is drawn only when saved: --save FILE.png")
    if isinstance(chart, PhaseChart):  # drawn only when saved; in text, the line's points
        from rich.text import Text

        return Text("critical line (sigma_b^2: sigma_w^2): " + ", ".join(f"{b:.4g}: {w:.6g}" for w, b in chart.points))
    if isinstance(chart, Panels):
        return _lines(chart.charts[0], width, color)
    return _lines(chart, width, color)


def _lines(chart: LineChart, width: int, color: bool) -> Any:
    from rich.text import Text

    label_width = 10
    plot_width = max(min(width - label_width - 2, 72), 10)
    xs = [x for s in chart.series for x, _ in s.points]
    ys = [y for s in chart.series for _, y in s.points]
    text = Text()
    text.append(chart.title + "\n", style="bold" if color else "")
    if not xs:
        text.append("(nothing to draw: every value is 0)\n")
        return text
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x1 = x0 + 1
    span = max(ys) - min(ys)
    if span < 0.5:  # within half a decade: four even steps over the values, labelled as numbers
        middle = (max(ys) + min(ys)) / 2
        half = max(span / 2, 0.02)
        y0, y1, intervals = middle - half, middle + half, 4
        step = (y1 - y0) / intervals
        places = max(3, math.ceil(-math.log10(step)) + 2)
        labels = [f"{10 ** (y1 - i * step):.{places}g}" for i in range(intervals + 1)]
    else:  # the y range widened to whole decade steps, so the labelled rows are powers of ten
        step = _decade_step(span, most=4)
        y0, y1 = step * math.floor(min(ys) / step), step * math.ceil(max(ys) / step)
        if y0 == y1:
            y1 = y0 + step
        intervals = max(round((y1 - y0) / step), 1)
        labels = [_power(round(y1 - i * step)) for i in range(intervals + 1)]
    # the labelled rows evenly spaced: as many rows between two labels everywhere (about 14 in all)
    apart = max(round(13 / intervals), 1)
    height = intervals * apart + 1
    ticks = {i * apart: label for i, label in enumerate(labels)}
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * plot_width for _ in range(height)]  # rows of (mark, colour)
    for series in chart.series:
        mark = "○" if series.secondary else series.look.mark
        colour = series.look.terminal_colour if color else ""
        for x, y in series.points:
            col = round((x - x0) / (x1 - x0) * (plot_width - 1))
            row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
            grid[row][col] = (mark, colour)
    for r, cells in enumerate(grid):
        label = ticks.get(r, "")
        text.append(f"{label:>{label_width - 1}} " + ("┤" if label else "│"))
        for mark, colour in cells:
            text.append(mark, style=colour or None)
        text.append("\n")
    text.append(" " * label_width + "└" + "─" * plot_width + "\n")
    left, right = f"{x0:g}", f"{x1:g}"
    text.append(" " * (label_width + 1) + left + " " * max(plot_width - len(left) - len(right), 1) + right + "\n")
    legend = "   ".join(f"{'○' if s.secondary else s.look.mark} {s.name}" for s in chart.series)
    text.append(" " * (label_width + 1) + f"x: {chart.xlabel}; y: {chart.ylabel}, log scale\n")
    text.append(" " * (label_width + 1) + legend)
    return text


def _power(exponent: int) -> str:
    """A power of ten as an axis label: 1, 1e10, 1e-50."""
    return "1" if exponent == 0 else f"1e{exponent}"


def _bars(chart: BarChart, width: int, color: bool) -> Any:
    """Horizontal bars, one per path length; beyond 40 lengths, grouped into ranges. The band
    is drawn solid (█), the rest light (░), so the caption reads the same without colour."""
    from rich.text import Text

    groups, size, (lo, hi) = _bar_groups(chart)
    label_width = max(len(label) for label, _, _ in groups)
    bar_width = max(min(width - label_width - 10, 60), 5)
    top = max((v for _, v, _ in groups), default=0.0) or 1.0
    text = Text()
    text.append(chart.title + "\n", style="bold" if color else "")
    for label, value, in_band in groups:
        length = round(value / top * bar_width)
        mark = "█" if in_band else "░"
        colour = ("green" if in_band else "blue") if color else None
        text.append(f"{label:>{label_width}} ")
        text.append(mark * length, style=colour)
        text.append(" " * (bar_width - length) + f" {value:6.1%}\n")
    caption = [f"lengths grouped {size} to a row"] if size > 1 else []
    last = len(chart.values) - 1
    if (lo, hi) != (0, last):
        left_out = [f"{a}-{b}" if a != b else str(a) for a, b in ((0, lo - 1), (hi + 1, last)) if a <= b]
        caption.append(f"lengths {' and '.join(left_out)} left out, each below 0.05% of the largest")
    caption.append("bars scaled to the largest")
    text.append(f"({'; '.join(caption)})\n")
    return text


def _bar_groups(chart: BarChart, most: int = 40) -> tuple[list[tuple[str, float, bool]], int, tuple[int, int]]:
    """(label, summed share, in band) rows: every length, or ranges of ``size`` lengths beyond
    ``most``, leaving out the empty tails (below 0.05% of the largest); with the size and the
    range of lengths shown."""
    values = chart.values
    top = max(values, default=0.0)
    visible = [i for i, v in enumerate(values) if v >= top * 5e-4] or list(range(len(values)))
    lo, hi = min(visible), max(visible)
    band = chart.highlight or (-1, -1)
    if hi - lo + 1 <= most:
        return [(str(chart.labels[i]), values[i], band[0] <= i <= band[1]) for i in range(lo, hi + 1)], 1, (lo, hi)
    size = math.ceil((hi - lo + 1) / most)
    rows = []
    for start in range(lo, hi + 1, size):
        end = min(start + size - 1, hi)
        share = sum(values[start : end + 1])
        in_band = not (end < band[0] or start > band[1])
        rows.append((f"{chart.labels[start]}-{chart.labels[end]}", share, in_band))
    return rows, size, (lo, hi)


# ---------------------------------------------------------------------------
# Saved, for slides

IMAGE_TYPES = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def save(chart: Chart | None, path: str, force: bool, title: str | None = None) -> str:
    """Write the chart to ``path`` (the extension picks the format): never through a symlink,
    never over an existing file without --force, and through a temporary file in the same
    folder renamed into place, so a failure leaves no half-written chart."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in IMAGE_TYPES:
        raise InputError(f"--save: {path!r} is not accepted; expected a file name ending in .png, .svg or .pdf")
    if chart is None:
        raise InputError("--save: this result has no chart")
    if isinstance(chart, LineChart) and not any(series.points for series in chart.series):
        raise InputError(f"--save: {path}: nothing to draw; every gradient is 0 (a log scale has no 0)")
    if isinstance(chart, BarChart) and not any(chart.values):
        raise InputError(f"--save: {path}: nothing to draw; every path sum is 0")
    if os.path.islink(path):
        raise InputError(f"--save: {path} is a symbolic link; skipcalc does not write through links")
    if os.path.lexists(path) and not force:
        raise InputError(f"--save: {path} already exists; add --force to replace it")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise InputError(f"--save: {path}: the folder {folder} does not exist")
    import tempfile

    drawn = draw(chart, title)
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(prefix=".skipcalc-", suffix=extension, dir=folder)
        with os.fdopen(handle, "wb") as file, _fonts_as_text():
            drawn.savefig(file, format=IMAGE_TYPES[extension], dpi=125, metadata=_metadata(extension))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:  # a read-only or full folder: named, with the path
        raise OutputError(f"--save: cannot write {path}: {error.strerror or error}") from None
    finally:
        if temporary and os.path.exists(temporary):
            os.unlink(temporary)
    width, height = (round(x * 125) for x in drawn.get_size_inches())
    return f"{path} ({width}×{height} {IMAGE_TYPES[extension].upper()})"


def _fonts_as_text() -> Any:
    """Text stays text: SVG text selectable and editable (not drawn as paths), PDF fonts embedded
    as TrueType (Type 42), not Type 3."""
    import matplotlib

    return matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _metadata(extension: str) -> dict[str, Any]:
    """No creation dates: the same chart gives the same file."""
    if extension == ".svg":
        return {"Date": None}
    if extension == ".pdf":
        return {"CreationDate": None}
    return {}


def draw(chart: Chart, title: str | None = None) -> Any:
    """The chart as a matplotlib Figure, 16:9 (1600 x 900 pixels as PNG)."""
    _own_config()

    from matplotlib.figure import Figure

    figure = Figure(figsize=(12.8, 7.2), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(_wrap_title(title or tex(chart.title)), fontsize=17, loc="left")
    if isinstance(chart, BarChart):
        _draw_bars(axes, chart)
    elif isinstance(chart, PhaseChart):
        _draw_phases(axes, chart)
    elif isinstance(chart, HeatMap):
        figure.delaxes(axes)
        figure.suptitle(_wrap_title(title or tex(chart.title)), fontsize=17, x=0.01, ha="left")
        _draw_heat_maps(figure, chart)
        return figure
    elif isinstance(chart, Panels):
        figure.delaxes(axes)
        figure.suptitle(_wrap_title(title or tex(chart.title), 110), fontsize=17, x=0.01, ha="left")
        for panel, part in zip(figure.subplots(1, len(chart.charts)), chart.charts, strict=True):
            panel.set_title(tex(part.title), fontsize=15, loc="left")
            _draw_lines(panel, part, legend_inside=True)
            panel.tick_params(labelsize=13)
        return figure
    else:
        _draw_lines(axes, chart)
    axes.tick_params(labelsize=13)
    return figure


def _own_config() -> None:
    """matplotlib keeps its font cache and config in a folder of skipcalc's own (under
    $XDG_CACHE_HOME, else ~/.cache: skipcalc/matplotlib) unless MPLCONFIGDIR says otherwise,
    rather than in ~/.config/matplotlib and ~/.cache/matplotlib. Set before the first import."""
    import sys

    if "matplotlib" in sys.modules or "MPLCONFIGDIR" in os.environ:
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(cache, "skipcalc", "matplotlib")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return  # matplotlib then finds a writable folder itself (a temporary one)
    os.environ["MPLCONFIGDIR"] = folder


def _wrap_title(title: str, width: int = 70) -> str:
    """The title in lines of at most ``width`` characters, balanced: as few lines as at that
    width, each as long as the others, so no word is left alone on the last. Mathtext ($...$)
    is kept whole on one line."""
    import math
    import textwrap

    parts = title.split("$")
    glue = "\x00"  # a space inside math, held until the lines are made
    title = "$".join(part.replace(" ", glue) if i % 2 else part for i, part in enumerate(parts))
    lines = textwrap.wrap(title, width)
    for narrower in range(math.ceil(len(title) / max(len(lines), 1)), width):
        balanced = textwrap.wrap(title, narrower)
        if len(balanced) == len(lines):
            lines = balanced
            break
    return "\n".join(lines).replace(glue, " ")


def _draw_lines(axes: Any, chart: LineChart, legend_inside: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    ys = [y for s in chart.series for _, y in s.points]
    for series in chart.series:
        if not series.points:
            continue
        xs, values = zip(*series.points, strict=True)
        every = max(len(xs) // 25, 1)
        axes.plot(
            xs,
            values,
            label=tex(series.name),
            color=series.colour,
            marker=series.look.marker,
            markerfacecolor="white" if series.secondary else series.colour,
            linestyle=":" if series.secondary else series.look.line,
            linewidth=2.2,
            markersize=7,
            markevery=every,
        )
    _annotate(axes, chart, ys)
    thinned = max((s.thinned for s in chart.series), default=0)
    note = f"\n(each line drawn from the highest and lowest of {COLUMNS:,} runs of its {thinned:,} points)"
    axes.set_xlabel(tex(chart.xlabel) + (note if thinned else ""), fontsize=15)
    if chart.linear:
        axes.set_ylabel(tex(chart.ylabel), fontsize=15)
        axes.set_ylim(min(0.0, *ys) - 0.05, max(1.0, *ys) + 0.05)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, which="major", color="#bbbbbb", linewidth=0.8)
        axes.legend(loc="best", fontsize=12, frameon=True)
        return
    axes.set_ylabel(f"{tex(chart.ylabel)} (log scale)", fontsize=15)
    if ys:
        span = max(ys) - min(ys)
        step = _decade_step(span)
        axes.yaxis.set_major_locator(MultipleLocator(step))
        if step > 1 and span / step < 30:
            axes.yaxis.set_minor_locator(MultipleLocator(max(step / 5, 1)))
        pad = max(span * 0.04, 0.1)
        low, high = min(ys) - pad, max(ys) + pad
        if span <= 8:  # a few decades: whole ones, so that every value sits between two labelled ticks
            low, high = math.floor(min(ys)), math.ceil(max(ys)) if max(ys) > math.floor(max(ys)) else max(ys) + 1
            if high - low < 1:
                low, high = low - 1, high + 1
        axes.set_ylim(low, high)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _tick(value)))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(True, which="major", color="#bbbbbb", linewidth=0.8)
    axes.grid(True, which="minor", color="#e4e4e4", linewidth=0.5)
    if legend_inside:
        axes.legend(loc="best", fontsize=12, frameon=True)
    else:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=13, frameon=False)


_TEX = (
    (r"\|\|dx(\d+)/dx_k\|\|2", r"$\\|\\partial x_{\1}/\\partial x_k\\|_2$"),
    (r"\|dx(\d+)/dx_k\|", r"$|\\partial x_{\1}/\\partial x_k|$"),
    (r"\|dL/dx_k\|", r"$|\\partial L/\\partial x_k|$"),
    (r"dx(\d+)/dx_k", r"$\\partial x_{\1}/\\partial x_k$"),
    (r"dL/dx_k", r"$\\partial L/\\partial x_k$"),
    (r"sigma_([wb])\^2", r"$\\sigma_\1^2$"),
    (r"sigma_(max|min)", r"$\\sigma_{\\\1}$"),
    (r"sigma\^2", r"$\\sigma^2$"),
    (r"J_k \.\.\. J_1", r"$J_k \\cdots J_1$"),
)
_SUBSCRIPT = (r"\b([xJ])_([kL0-9])\b", r"$\1_\2$")  # x_k outside the math already made


def tex(text: str) -> str:
    """A label as the terminal writes it (|dx3/dx_k|, sigma_w^2, x_k) in matplotlib's mathtext
    for a saved chart (the partial derivative, sigma and subscripts set in math); text with mathtext already is left
    as it is."""
    import re

    if "$" in text:
        return text
    for pattern, replacement in _TEX:
        text = re.sub(pattern, replacement, text)
    parts = text.split("$")  # the even parts are outside math
    return "$".join(re.sub(*_SUBSCRIPT, part) if i % 2 == 0 else part for i, part in enumerate(parts))


def _annotate(axes: Any, chart: LineChart, ys: list[float]) -> None:
    """Each line's first and last values (where it has them) beside those points, and the
    reference levels inside the lines' range as labelled grey lines (a format's smallest normal
    number, its largest)."""
    from matplotlib.transforms import blended_transform_factory

    if not ys:
        return
    span = max(max(ys) - min(ys), 1e-9)
    box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5}
    for series in chart.series:
        for text, end in ((series.first, 0), (series.last, -1)):
            if not (text and series.points):
                continue
            x, y = series.points[end]
            beside = series.points[1 if end == 0 else -2] if len(series.points) > 1 else (x, y)
            # below the line where it leaves the point upwards (not on it), and always inside the axes
            below = (beside[1] > y and y - min(ys) > 0.1 * span) or max(ys) - y < 0.1 * span
            axes.annotate(
                tex(text),
                (x, y),
                xytext=(8 if end == 0 else -6, -10 if below else 10),
                textcoords="offset points",
                ha="left" if end == 0 else "right",
                va="top" if below else "bottom",
                fontsize=13,
                color=series.colour,
                fontweight="bold",
                bbox=box,
                zorder=5,
            )
    across = blended_transform_factory(axes.transAxes, axes.transData)
    merged: dict[float, list[str]] = {}
    for level, label in chart.levels:  # float32 and bfloat16 share their smallest normal: one line
        if min(ys) <= level <= max(ys):
            merged.setdefault(level, []).append(label)
    home = any(series.first for series in chart.series)  # labels on the side the lines' own are not
    previous, right = None, home
    for level, labels in sorted(merged.items()):
        names = [label.split(" ", 1)[0] for label in labels]
        text = " and ".join(names) + " " + labels[0].split(" ", 1)[1] if len(labels) > 1 else labels[0]
        near = previous is not None and level - previous < 0.05 * span
        right = (not right) if near else home  # a label near the last one: on the other side
        axes.axhline(level, color="#777777", linestyle=(0, (5, 3)), linewidth=1.2, zorder=1)
        axes.text(
            0.99 if right else 0.01,
            level,
            text,
            transform=across,
            ha="right" if right else "left",
            va="bottom",
            fontsize=11,
            color="#555555",
            bbox=box,
            zorder=5,
        )
        previous = level


def _decade_step(span: float, most: int = 10) -> float:
    """Decades between ticks, 1, 2 or 5 times a power of ten: at most ``most`` steps over the span."""
    power = 1
    while True:
        for m in (1, 2, 5):
            if span / (m * power) <= most:
                return float(m * power)
        power *= 10


def _tick(value: float) -> str:
    exponent = round(value)
    if abs(value - exponent) > 1e-6:
        return ""
    return "$1$" if exponent == 0 else f"$10^{{{exponent}}}$"


def _draw_bars(axes: Any, chart: BarChart) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    values = chart.values
    top = max(values, default=0.0)
    visible = [i for i, v in enumerate(values) if v >= top * 5e-4] or list(range(len(values)))
    lo, hi = max(min(visible) - 1, 0), min(max(visible) + 1, len(values) - 1)
    band = chart.highlight or (-1, -1)
    ks = list(range(lo, hi + 1))
    colours = [OKABE_ITO[2] if band[0] <= k <= band[1] else OKABE_ITO[1] for k in ks]
    hatches = ["" if band[0] <= k <= band[1] else "//" for k in ks]
    bars = axes.bar(
        [chart.labels[k] for k in ks], [values[k] * 100 for k in ks], color=colours, edgecolor="white", linewidth=0.5
    )
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    axes.set_xlabel(
        chart.xlabel
        + (
            f" (lengths {lo}-{hi} shown; the rest carry under 0.05% of the largest)"
            if (lo, hi) != (0, len(values) - 1)
            else ""
        ),
        fontsize=15,
    )
    axes.set_ylabel("share of |gradient|", fontsize=15)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=0 if top > 0.05 else 1))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(True, axis="y", color="#bbbbbb", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.legend(
        handles=[
            Patch(facecolor=OKABE_ITO[2], label=f"band {band[0]}-{band[1]}"),
            Patch(facecolor=OKABE_ITO[1], hatch="//", label="other lengths"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=13,
        frameon=False,
    )


def _draw_phases(axes: Any, chart: PhaseChart) -> None:
    """The critical line, the ordered region left of it and the chaotic one right of it."""
    points = sorted(chart.points, key=lambda p: p[1])
    ws, bs = [p[0] for p in points], [p[1] for p in points]
    right = max(ws) * 1.35 + 0.1
    low, high = min(bs), max(bs)
    if high == low:  # one σ_b²: a band around it
        pad = max(abs(low) * 0.5, 0.05)
        low, high = low - pad, high + pad
        ws, bs = [ws[0], ws[0]], [low, high]
    axes.fill_betweenx(bs, 0, ws, color=OKABE_ITO[1], alpha=0.15, linewidth=0)
    axes.fill_betweenx(bs, ws, right, color=OKABE_ITO[0], alpha=0.15, linewidth=0)
    axes.plot(
        ws,
        bs,
        color="#000000",
        linewidth=2.4,
        marker="o" if len(points) <= 25 else "",
        label=r"critical line ($\chi_1 = 1$)",
    )
    middle = len(ws) // 2
    axes.text(
        ws[middle] / 2, (bs[0] + bs[-1]) / 2, "ordered\n(gradients vanish)", ha="center", va="center", fontsize=15
    )
    axes.text(
        (ws[middle] + right) / 2,
        (bs[0] + bs[-1]) / 2,
        "chaotic\n(gradients explode)",
        ha="center",
        va="center",
        fontsize=15,
    )
    axes.set_xlim(0, right)
    axes.set_ylim(low, high)
    axes.set_xlabel(r"weight variance $\sigma_w^2$", fontsize=15)
    axes.set_ylabel(r"bias variance $\sigma_b^2$", fontsize=15)
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.legend(loc="upper left", fontsize=13, frameon=False)


_CONTOURS = (
    (-6.0, "1e-6"),
    (math.log10(2.0**-14), "float16 subnormal"),
    (math.log10(2.0**-126), "bfloat16 subnormal"),
    (math.log10(65504.0), "float16 overflow"),
    (math.log10(3.3895313892515355e38), "bfloat16 overflow"),
)


_STYLES = {
    "1e-6": "-",
    "float16 subnormal": "--",
    "bfloat16 subnormal": ":",
    "float16 overflow": "-.",
    "bfloat16 overflow": (0, (5, 1)),
}


SPARSE = 24
"""A depth map with at most this many derivatives and depths is drawn cell by cell, each
labelled with its value, on axes that name the values given (not a continuous plane)."""


def _draw_heat_maps(figure: Any, chart: HeatMap) -> None:
    """log10 |gradient| in a colour scale centred on 0 (the gradient kept: white), blue where
    it vanishes and red where it explodes. A dense map is a plane clipped to the data, with the
    format limits as labelled contours; a sparse one is a grid of labelled cells."""
    import numpy as np
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.lines import Line2D

    values = [v for grid in chart.grids for row in grid for v in row if v is not None]
    low, high = (min(values), max(values)) if values else (-1.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    norm = TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high) if low < 0 < high else Normalize(low, high)
    sparse = len(chart.xs) <= SPARSE and len(chart.ys) <= SPARSE
    panels = figure.subplots(1, len(chart.grids), sharey=True, squeeze=False)[0]
    image = None
    drawn_levels: dict[str, Any] = {}
    for axes, name, grid in zip(panels, chart.names, chart.grids, strict=True):
        z = np.array([[np.nan if v is None else v for v in row] for row in grid], dtype=float)
        if sparse:
            image = axes.pcolormesh(
                np.arange(len(chart.xs) + 1) - 0.5, np.arange(len(chart.ys) + 1) - 0.5, z, norm=norm, cmap="RdBu_r"
            )
            axes.set_xticks(range(len(chart.xs)), [f"{x:g}" for x in chart.xs])
            axes.set_yticks(range(len(chart.ys)), [f"{y:g}" for y in chart.ys])
            if len(chart.xs) * len(chart.ys) <= 150:
                for (r, c), v in np.ndenumerate(z):
                    text = "0 (none)" if np.isnan(v) else f"{v:.3g}"
                    dark = not np.isnan(v) and abs(norm(v) - 0.5) > 0.3
                    axes.text(c, r, text, ha="center", va="center", fontsize=11, color="white" if dark else "black")
        else:
            image = axes.pcolormesh(chart.xs, chart.ys, z, norm=norm, cmap="RdBu_r", shading="nearest")
            axes.set_xlim(min(chart.xs), max(chart.xs))  # no half-cell past the data
            axes.set_ylim(min(chart.ys), max(chart.ys))
            levels = sorted((level, label) for level, label in _CONTOURS if low < level < high)
            if levels and len(chart.xs) > 1 and len(chart.ys) > 1:
                styles = [_STYLES[label] for _, label in levels]
                lines = axes.contour(
                    chart.xs,
                    chart.ys,
                    z,
                    levels=[lv for lv, _ in levels],
                    colors="black",
                    linewidths=1.4,
                    linestyles=styles,
                )
                axes.clabel(lines, fmt={lv: label for lv, label in levels}, fontsize=10)
                for (level, label), style in zip(levels, styles, strict=True):
                    if level in lines.levels and np.nanmin(z) < level < np.nanmax(z):
                        drawn_levels[label] = style
        axes.set_title(name, fontsize=15)
        axes.set_xlabel("depth n", fontsize=14)
        axes.tick_params(labelsize=12)
    panels[0].set_ylabel("local derivative D", fontsize=14)
    if drawn_levels:  # the contours named once more, in case a label found no room on its line
        handles = [Line2D([], [], color="black", linestyle=style, label=label) for label, style in drawn_levels.items()]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=12, frameon=False)
    if image is not None:
        bar = figure.colorbar(image, ax=list(panels), shrink=0.9)
        bar.set_label("log10 |gradient|   (0: kept)", fontsize=14)
        if isinstance(norm, TwoSlopeNorm):  # ticks on each side of 0, however unequal the sides
            from matplotlib.ticker import MaxNLocator

            ticks = [*MaxNLocator(5).tick_values(low, 0), *MaxNLocator(5).tick_values(0, high)]
            bar.set_ticks(sorted({t for t in ticks if low <= t <= high}))
        bar.ax.tick_params(labelsize=12)
