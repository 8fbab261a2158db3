"""The writers of --batch: every one answers header(), error(number, message) and footer() with
the text to write, and has its own way to write a case. Results writes any command's results
(json lines, csv rows under one header with a `line` column, value lines); chain and backprop
have faster writers that take a case's numbers: a csv row per case (Rows), a csv row per layer
of every case (LayerRows) and a json object per case (Objects). The command line
(cli/commands.py) reads the lines and hands each case here; numbers become text by the one
display rule."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from .view import View


class Results:
    """Any command's results, a line (json, value) or rows (csv) each, written by the one
    renderer; a bad line under --keep-going is a json object {"line": N, "error": ...} (json and
    value), or in csv a row of the table's own width whose last column, error, says why (every
    row then has an error column, empty for results, and no row comes before the header)."""

    def __init__(self, view: View, keep_going: bool) -> None:
        self.view = view
        self.framed = keep_going and view.format == "csv"
        self.first = True
        self.width: int | None = None  # csv --keep-going: the header's fields, the error column included
        self.pending: list[tuple[int, str]] = []

    def header(self) -> str:
        return ""  # written with the first result, from its report's columns

    def result(self, number: int, result: Any) -> str:
        import io
        from dataclasses import replace

        from .render import write_line

        buffer = io.StringIO()
        write_line(result, replace(self.view, line=number, header=self.first), buffer)
        text, header, self.first = buffer.getvalue(), self.first, False
        if not self.framed:
            return text
        lines = text.splitlines()
        out = []
        if header:
            import csv

            self.width = len(next(csv.reader([lines[0]]))) + 1
            out.append(lines[0] + ",error\n")
            out.extend(self._row(n, message) for n, message in self.pending)
            self.pending.clear()
            lines = lines[1:]
        out.extend(line + ",\n" for line in lines)
        return "".join(out)

    def error(self, number: int, message: str) -> str:
        if not self.framed:
            return json.dumps({"line": number, "error": message}) + "\n"
        if self.width is None:  # held until the header is known
            self.pending.append((number, message))
            return ""
        return self._row(number, message)

    def _row(self, number: int, message: str) -> str:
        assert self.width is not None
        return csv_row([number, *[""] * (self.width - 2), message])

    def footer(self) -> str:
        if not self.pending:
            return ""
        self.width = 2  # no line answered: the header is the line and its error alone
        return "line,error\n" + "".join(self._row(n, message) for n, message in self.pending)


def csv_row(cells: Sequence[Any]) -> str:
    """One csv row, quoted as csv quotes (an error message holds commas)."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


class Rows:
    """--batch --format csv with a row per case: a header, then for each case its line number,
    the layers, the derivatives as its line gave them, backprop's dL/dx_n and each network's
    gradient; a bad line under --keep-going is a row whose last column, error, says why
    (quoted as csv quotes)."""

    def __init__(self, blocks: Sequence[Any], upstream: Any, keep_going: bool, view: View) -> None:
        self.view = view
        self.upstream = [] if upstream is None else [self.text(upstream)]
        columns = ["line", "layers", "local", *(["loss_gradient"] if upstream is not None else [])]
        self.columns = [*columns, *[f"{b.spec}_gradient" for b in blocks], *(["error"] if keep_going else [])]

    def header(self) -> str:
        return ",".join(self.columns) + "\n"

    def text(self, value: Any) -> str:
        from .text import plain_text

        return plain_text(value, self.view.exact, self.view.machine_digits)

    def case(self, number: int, words: list[str], layers: int, gradients: Sequence[Any]) -> str:
        texts = [g if isinstance(g, str) else self.text(g) for g in gradients]  # str: the kernel's already
        cells = [str(number), str(layers), " ".join(words), *self.upstream, *texts]
        return ",".join(cells) + ("," if self.columns[-1] == "error" else "") + "\n"

    def error(self, number: int, message: str) -> str:
        return csv_row([number, *[""] * (len(self.columns) - 2), message])

    def footer(self) -> str:
        return ""


class LayerRows:
    """--batch --format csv --per-layer: a row per layer of every case under one header, each
    distinct line (its derivatives and layers) rendered once and its rows reused: a sweep's
    grid repeats its lines."""

    KEPT = 1000  # distinct lines remembered

    def __init__(self, view: View) -> None:
        self.view = view
        self.head = ""
        self.rows: dict[Any, list[str]] = {}
        self.pending: list[str] = []

    def header(self) -> str:
        return ""  # written with the first case, from its report's columns

    def case(self, number: int, key: Any, result: Callable[[], Any]) -> str:
        import io
        from dataclasses import replace

        from .render import write_line

        rows = self.rows.get(key)
        if rows is None:
            out = io.StringIO()
            write_line(result(), replace(self.view, line=None, header=True), out)
            head, *rows = out.getvalue().splitlines()
            if len(self.rows) >= self.KEPT:
                self.rows.clear()
            self.rows[key] = rows
            if not self.head:  # the header, then any bad lines reported before it
                self.head = "line," + head + "\n"
                before, self.pending = "".join(self.pending), []
                return self.head + before + "".join(f"{number},{row}\n" for row in rows)
        return "".join(f"{number},{row}\n" for row in rows)

    def error(self, number: int, message: str) -> str:
        row = csv_row([number, message])
        if not self.head:  # held until the header is known (written at the end if it never is)
            self.pending.append(row)
            return ""
        return row

    def footer(self) -> str:
        return "".join(self.pending)


class Objects:
    """--batch --format json with an object per case (JSON Lines): the line number, the
    layers, the derivatives as the line gave them, backprop's loss_gradient, each network's
    gradient with its float and log10 (as chain's json has them), residual/plain's ratio and
    whether every number is exact; --per-layer adds nothing here (its objects are chain's own)."""

    def __init__(self, command: str, blocks: Sequence[Any], upstream: Any, view: View) -> None:
        self.command, self.blocks, self.upstream, self.view = command, blocks, upstream, view
        specs = [b.spec for b in blocks]
        self.keys = [json.dumps(spec) for spec in specs]
        from ..core import kernels
        from ..core.exact import log10_abs, show, show_parts, to_float

        self.tools = (kernels, log10_abs, show, show_parts, to_float)
        self.ratio = (specs.index("plain"), specs.index("residual")) if {"plain", "residual"} <= set(specs) else None

    def header(self) -> str:
        return ""

    def case(self, number: int, words: list[str], layers: int, gradients: Sequence[Any]) -> str:
        kernels, log10_abs, show, show_parts, to_float = self.tools
        view = self.view
        exact = True

        def text(value: Any) -> str:
            nonlocal exact
            if type(value) is Fraction:  # show()'s own first step, without its checks
                shown = show_parts(value.numerator, value.denominator, view.exact, view.machine_digits, 0)
            else:
                shown = show(value, exact=view.exact, digits=view.machine_digits, fraction=0)
            exact = exact and shown.exact
            return shown.text

        # written by hand, as json.dumps writes it (number texts and floats need no escaping): a
        # third of the time of building a dict and dumping it, 10,000 times a second
        local = ", ".join(map(_quoted, words))
        parts = [f'{{"line": {number}, "command": "{self.command}", "layers": {layers}, "local": [{local}]']
        if self.upstream is not None:
            parts.append(f'"loss_gradient": "{text(self.upstream)}"')
        for key, value in zip(self.keys, gradients, strict=True):
            near = to_float(value)
            log = math.log10(abs(near)) if near and abs(near) >= sys.float_info.min else log10_abs(value)
            parts.append(
                f'{key}: {{"gradient": "{text(value)}", "float": {_json_float(near)}, "log10": {_json_float(log)}}}'
            )
        if self.ratio is not None:
            plain, residual = (gradients[i] for i in self.ratio)
            if not plain:
                ratio = "null"
            else:
                ratio = f'"{text(kernels.quotient(residual, plain))}"'
            parts.append(f'"ratio": {ratio}')
        parts.append(f'"exact": {"true" if exact else "false"}}}')
        return ", ".join(parts) + "\n"

    def error(self, number: int, message: str) -> str:
        return json.dumps({"line": number, "error": message}) + "\n"

    def footer(self) -> str:
        return ""


def _quoted(word: str) -> str:
    """A number text as a json string (a read number holds nothing json escapes)."""
    return f'"{word}"' if word.isascii() and '"' not in word and "\\" not in word else json.dumps(word)


def _json_float(x: float | None) -> str:
    return "null" if x is None else repr(x)
