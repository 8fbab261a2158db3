"""The report of init: the constants an initialisation scheme gives, with its source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...core.exact import to_float
from ...core.results import (
    InitResult,
)
from ..report_types import LazyRows, Report


def init_report(result: InitResult) -> Report:
    records = [
        {"name": c.name, "value": c.value, "closed_form": c.closed_form, "meaning": c.meaning} for c in result.constants
    ]
    data: dict[str, Any] = {
        "command": "init",
        "scheme": result.scheme,
        **({"nonlinearity": result.label} if result.label else {}),
        **result.parameters,
        "constants": {
            c.name: {"value": c.value, "closed_form": c.closed_form, "float": to_float(c.value)}
            for c in result.constants
        },
        "source": result.source,
    }
    extra: list[tuple[str, dict[str, str], Sequence[Mapping[str, Any]]]] = []
    if result.table:
        columns = {"layer": result.table_headers[0], **{f"c{i}": h for i, h in enumerate(result.table_headers[1:])}}
        table, headers = result.table, result.table_headers[1:]

        def row(i: int) -> dict[str, Any]:
            return {"layer": table[i][0], **{f"c{j}": v for j, v in enumerate(table[i][1])}}

        def block(i: int) -> dict[str, Any]:
            return {"block": table[i][0], **dict(zip(headers, table[i][1], strict=True))}

        extra.append(("survival by block", columns, LazyRows(len(table), row)))
        data["blocks"] = LazyRows(len(table), block)
    return Report(
        title=result.title,
        columns={"name": "constant", "value": "value", "closed_form": "exact", "meaning": "meaning"},
        rows=records,
        data=data,
        notes=[*result.notes, f"Source: {result.source}."],
        extra=extra,
        row_name="constant",
    )
