"""The machine formats: json, csv and value, written so awk, jq, spreadsheets and Python's
float() read them, at any size (a million-layer chain's lists are written in bulk).

- json: one object; every number a string Python's Fraction parses to the printed value,
  "exact" false when any was rounded.
- csv: a header row and one row per record (per layer, per depth, per length).
- value: the result's headline values on one line, tab-separated: the one writer of value
  lines (--batch's fast kernel prints through it too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import compress, repeat
from operator import attrgetter, not_
from typing import TYPE_CHECKING, Any, TextIO

from ..core import kernels
from ..core.exact import SIGNIFICANT, show
from ..core.results import Earned, Result
from .report_types import LazyRows
from .text import Share, StoredCell, plain_text
from .view import View

if TYPE_CHECKING:
    from .report_types import Report


def json_object(report: Report, view: View) -> dict[str, Any]:
    """The report's json object: numbers as text, "exact", and the derivation with --symbolic."""
    rounded: list[bool] = []
    fields = dict(report.json_data())
    if view.symbolic and report.derivation is not None:
        fields["derivation"] = report.derivation.data
    obj: dict[str, Any] = _jsonable(fields, view, rounded, {})
    obj["exact"] = not rounded and not report.floats
    if view.line is not None:
        obj = {"line": view.line, **obj}
    return obj


def _jsonable(
    value: Any, view: View, rounded: list[bool], memo: dict[int, tuple[Any, dict[str, Any], bool]] | None = None
) -> Any:
    """``value`` with its numbers as json texts (``rounded`` gets True when one was rounded);
    ``memo`` (one json_object call's) makes a mapping that appears twice only once."""
    if isinstance(value, (Fraction, Decimal)):
        shown = show(value, exact=view.exact, digits=view.machine_digits)
        if not shown.exact:
            rounded.append(True)
        return shown.text
    if isinstance(value, (Share, StoredCell)):
        return _jsonable(value.value, view, rounded)
    if isinstance(value, Earned):
        rounded.append(True)
        return value.value
    if isinstance(value, Mapping):
        if memo is not None and id(value) in memo:  # the same mapping again ("dtype" is "dtypes"[0])
            _, made, was_rounded = memo[id(value)]
            rounded.extend([True] if was_rounded else [])
            return made
        mine: list[bool] = []
        out = {key: _jsonable(v, view, mine, memo) for key, v in value.items() if key != "wrt"}
        if "wrt" in value:  # wrt_exact: true only when every wrt value written is exact
            written: list[bool] = []
            out = {key: _jsonable(value["wrt"], view, written, memo) if key == "wrt" else out[key] for key in value}
            mine.extend(written[:1])
            if written and "wrt_exact" in out:
                out["wrt_exact"] = False
        rounded.extend(mine[:1])
        if memo is not None:
            memo[id(value)] = (value, out, bool(mine))  # holding value: its id stays its own
        return out
    if isinstance(value, LazyRows):
        value = list(value)
    if isinstance(value, (list, tuple)):
        if len(value) > 64:
            return _jsonable_many(value, view, rounded)
        return [_jsonable(v, view, rounded, memo) for v in value]
    return value


class NumberTexts(list):  # type: ignore[type-arg]
    """A long list of number texts (nothing JSON escapes), joined directly by json_pieces."""


_PLAIN_INT = 10**21
"""Integers below this print as their digits under the display rule (show())."""


def _jsonable_many(values: Sequence[Any], view: View, rounded: list[bool]) -> list[Any]:
    """_jsonable of a long chain's per-layer values (up to millions), at C speed where it can
    be: Decimals in bulk, each distinct other object once."""
    is_decimal = list(map(isinstance, values, repeat(Decimal)))
    types = set(map(type, values))
    kind = NumberTexts if types <= {Fraction, Decimal, kernels.Terminating} else list
    decimals = list(compress(values, is_decimal))
    most = min(_PLAIN_INT, 10**view.machine_digits) if not view.exact else _PLAIN_INT
    if types == {Fraction} and all(v.denominator == 1 and -most < v.numerator < most for v in values):
        return NumberTexts(map(str, map(attrgetter("numerator"), values)))  # integers: their digits
    if not decimals:
        return kind(kernels.map_distinct(lambda v: _jsonable(v, view, rounded), values))
    others = kernels.map_distinct(lambda v: _jsonable(v, view, rounded), list(compress(values, map(not_, is_decimal))))
    carried, exact = kernels.decimal_shown(decimals, min(view.machine_digits, SIGNIFICANT))
    if not all(exact):
        rounded.append(True)
    other, text = iter(others), iter(carried)
    return kind([next(text) if flag else next(other) for flag in is_decimal])


def json_pieces(value: Any) -> Iterator[str]:
    """json.dumps(value, ensure_ascii=False) in pieces, NumberTexts joined directly: a
    million-layer chain's lists are written without the encoder looking at each text."""
    import json

    if type(value) is dict and all(type(key) is str for key in value) and _holds_texts(value):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield f"{', ' if i else ''}{json.dumps(key, ensure_ascii=False)}: "
            yield from json_pieces(item)
        yield "}"
    elif type(value) is NumberTexts:
        yield '["' + '", "'.join(value) + '"]' if value else "[]"
    else:
        yield json.dumps(value, ensure_ascii=False)


def _holds_texts(value: dict[str, Any]) -> bool:
    return any(type(item) is NumberTexts or (type(item) is dict and _holds_texts(item)) for item in value.values())


# ---------------------------------------------------------------------------
# csv and value


def write_json(report: Report, view: View, out: TextIO) -> None:
    write_pieces(out, json_pieces(json_object(report, view)))
    out.write("\n")


def write_csv(report: Report, view: View, out: TextIO) -> None:
    import csv

    keys = list(report.columns)
    columns = [_column_texts(list(report.column(key)), view) for key in keys]
    if view.line is not None:
        keys, columns = ["line", *keys], [[str(view.line)] * len(columns[0]) if columns else [], *columns]
    writer = csv.writer(out, lineterminator="\n")
    if view.header:
        writer.writerow(keys)
    if not columns:
        return
    if any(_needs_quotes(column) for column in columns):
        writer.writerows(zip(*columns, strict=True))
    else:  # numbers and names: joined at C speed (csv.writer took 3 s for a million rows)
        write_pieces(out, _joined_rows(columns))


def _needs_quotes(texts: list[str]) -> bool:
    joined = "\x00".join(set(texts))  # searched at C speed: 2 million rows took 11 s one by one
    return any(c in joined for c in ',"\r\n')


def _joined_rows(columns: list[list[str]]) -> Iterator[str]:
    rows = list(zip(*columns, strict=True))
    for start in range(0, len(rows), 65536):
        yield "\n".join(map(",".join, rows[start : start + 65536])) + "\n"


def value_line(values: Sequence[Any], view: View) -> str:
    """The value line of these headline values: each as csv writes it, tab-separated."""
    return "\t".join([plain_text(v, view.exact, view.machine_digits) for v in values]) + "\n"


def write_value(result: Result, view: View, out: TextIO) -> None:
    out.write(value_line(result.headline, view))


def write_pieces(out: TextIO, pieces: Iterator[str] | list[str]) -> None:
    """Write text in pieces of at most 64 KiB: one huge write to a pipe whose reader leaves is
    cut short without an error on some kernels, where small ones report the broken pipe."""
    for piece in pieces:
        for start in range(0, len(piece), 65536):
            out.write(piece[start : start + 65536])


def _column_texts(values: list[Any], view: View) -> list[str]:
    """plain_text of a column, at C speed where it can be: counts by str(), Decimals in bulk,
    each distinct other object once."""
    if set(map(type, values)) == {int}:
        return list(map(str, values))
    is_decimal = list(map(isinstance, values, repeat(Decimal)))
    count = sum(is_decimal)
    if count < 64 or view.exact:
        return kernels.map_distinct(lambda v: plain_text(v, view.exact, view.machine_digits), values)
    texts = kernels.decimal_texts(list(compress(values, is_decimal)), min(view.machine_digits, SIGNIFICANT))
    if count == len(values):
        return texts
    others = kernels.map_distinct(
        lambda v: plain_text(v, view.exact, view.machine_digits), list(compress(values, map(not_, is_decimal)))
    )
    decimal_texts, other_texts = iter(texts), iter(others)
    return [next(decimal_texts) if flag else next(other_texts) for flag in is_decimal]
