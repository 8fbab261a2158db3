"""Reading measured gradients from a CSV file: one column of a file with a header row, in the
order of its ``layer`` column when it has one, one network's rows (``--group``), or each row one
element of its layer's gradient (``--elements``)."""

from __future__ import annotations

import os
from typing import Any, TextIO

from . import limits
from .errors import InputError, arg

MAX_CSV = 64 * 2**20
"""Most bytes of a --csv file read (a million rows of a few columns)."""


def csv_column(
    source: str | os.PathLike[str] | TextIO, column: str, group: str | None = None, elements: bool = False
) -> tuple[str, list[Any]]:
    """The column's name as the header spells it, and the gradients in it, from a CSV file with
    a header row (a path, or an open text file), read exactly; names match ignoring case; empty
    cells are skipped, anything else that is not a number is refused with its line.

    Where the file has a ``layer`` column the rows are taken in its order (a backward hook
    writes the output's layer first). A layer number that repeats is refused unless ``group``
    ("COLUMN=VALUE") picks one network's rows, or ``elements`` says each row is one element of
    that layer's gradient (then the values come back as one list of floats per layer)."""
    import csv as csv_module

    from .exact import parse_number

    label, name, text = _csv_text(source)
    rows = list(csv_module.reader(text.splitlines()))
    if not rows or not rows[0]:
        raise InputError(f"{label}: empty; expected a header row naming the columns, then one row per layer")
    header = [h.strip() for h in rows[0]]
    where = name or "the file"
    column = _csv_find(header, column, arg("column"), where)
    index = header.index(column)
    numbered = [(line, row) for line, row in enumerate(rows[1:], start=2)]
    if group is not None:
        key, sep, wanted = group.partition("=")
        by = header.index(_csv_find(header, key.strip(), arg("group"), where))
        found = sorted({row[by].strip() for _, row in numbered if by < len(row)})
        if not sep:  # the column alone: one network in it is that network; several must be picked
            if len(found) > 1:
                shown = ", ".join(_printable(v) for v in found[:8]) + (" ..." if len(found) > 8 else "")
                raise InputError(
                    f"{arg('group')}: {key.strip()} holds {len(found)} networks ({shown}); pick one with "
                    f"{arg('group')} {key.strip()}={_printable(found[0])}"
                )
            wanted = found[0] if found else ""
        numbered = [(line, row) for line, row in numbered if by < len(row) and row[by].strip() == wanted.strip()]
        if not numbered:
            raise InputError(
                f"{arg('group')}: no row has {key.strip()} = {wanted.strip()!r}; it holds {', '.join(found[:8])}"
            )
    layers = _csv_layers(header, numbered, label)
    cells: list[tuple[int, int, str]] = []
    for (line, row), layer in zip(numbered, layers or [0] * len(numbered), strict=True):
        cell = row[index].strip() if index < len(row) else ""
        if cell:
            cells.append((layer, line, cell))
    if not cells:
        raise InputError(f"{arg('column')}: {column!r} holds no numbers in {where}")
    if layers is not None:
        cells.sort(key=lambda c: c[0])  # the layer column's order (stable: rows of a layer in file order)
        counts: dict[int, int] = {}
        for layer, _, _ in cells:
            counts[layer] = counts.get(layer, 0) + 1
        repeated = next((k for k, n in counts.items() if n > 1), None)
        if repeated is not None and not elements:
            raise InputError(
                f"{arg('csv')}: layer {repeated} appears {counts[repeated]} times in {where}; give "
                f"{arg('group', 'COLUMN=VALUE')} to "
                f"pick one network's rows, or {arg('elements', True)} when each row is one element of the "
                f"layer's gradient"
            )
    elif elements:
        raise InputError(
            f"{arg('elements', True)}: {where} has no layer column to say which layer each element belongs to"
        )
    if elements:
        per_layer: dict[int, list[float]] = {}
        for layer, line, cell in cells:
            per_layer.setdefault(layer, []).append(float(parse_number(cell, f"{label} line {line}, {column}")))
        return column, [(layer, values) for layer, values in per_layer.items()]
    out = [parse_number(cell, f"{label} line {line}, {column}") for _, line, cell in cells]
    if len(out) > limits.MAX_LAYERS:
        raise InputError(
            f"{arg('csv')}: {len(out):,} gradients are more than the {limits.MAX_LAYERS:,} precision reads"
        )
    return column, out


def _csv_text(source: str | os.PathLike[str] | TextIO) -> tuple[str, Any, str]:
    if isinstance(source, (str, os.PathLike)):
        name: Any = os.fspath(source)
        label = f"{arg('csv')} {name}"
        try:
            with open(source, encoding="utf-8-sig", errors="replace", newline="") as file:
                text = file.read(MAX_CSV + 1)
        except OSError as error:
            raise InputError(f"{label}: cannot read it: {error.strerror or error}") from None
    else:
        name = getattr(source, "name", None)
        label = f"{arg('csv')} {name}" if isinstance(name, str) else arg("csv")
        text = source.read(MAX_CSV + 1)
    if len(text) > MAX_CSV:
        raise InputError(f"{label}: longer than the {MAX_CSV // 2**20} MiB skipcalc reads")
    if text.startswith((chr(0xFFFD) * 2, chr(0xFEFF))) or "\x00" in text[:1000]:  # a UTF-16 BOM, or NULs
        raise InputError(f"{label}: not UTF-8 text (it looks like UTF-16); save it as UTF-8 (or plain ASCII) CSV")
    return label, name, text


def _csv_find(header: list[str], wanted: str, option: str, where: str) -> str:
    """A header's column by name, ignoring case; refused with the columns there are."""
    if wanted in header:
        return wanted
    lowered = [h.lower() for h in header]
    if wanted.lower() in lowered:
        return header[lowered.index(wanted.lower())]
    from .errors import suggest

    shown = ", ".join(_printable(h) for h in header[:12]) + (" ..." if len(header) > 12 else "")
    raise InputError(
        f"{option}: {wanted!r} is not a column of {where}; {suggest(wanted, header)}expected one of {shown}"
    )


def _printable(text: str) -> str:
    """A header cell as a message shows it: control characters escaped, never sent raw."""
    return text if text.isprintable() else repr(text)


def _csv_layers(header: list[str], numbered: list[tuple[int, list[str]]], label: str) -> list[int] | None:
    """Each row's layer number, where the header has a ``layer`` column."""
    lowered = [h.lower() for h in header]
    if "layer" not in lowered:
        return None
    index = lowered.index("layer")
    layers = []
    for line, row in numbered:
        cell = row[index].strip() if index < len(row) else ""
        if not cell.lstrip("-").isdigit() or len(cell) > 18:
            raise InputError(f"{label} line {line}, layer: {cell!r} is not a layer number; expected a whole number")
        layers.append(int(cell))
    return layers
