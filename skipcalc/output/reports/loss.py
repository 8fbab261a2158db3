"""The reports of loss and update: the note's arithmetic, written out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...core.exact import to_float
from ...core.results import (
    LossResult,
    UpdateResult,
)
from ..report_types import Report, headline_fields


def loss_report(result: LossResult) -> Report:
    record: dict[str, Any] = {"kind": result.kind, "target": result.target, "pred": result.pred}
    if result.delta is not None:
        record["delta"] = result.delta
    record.update(loss=result.value, gradient=result.gradient)
    columns = {key: key for key in record}
    columns.update(loss="loss L", gradient="dL/dpred")
    notes = [result.direction]
    if result.note:
        notes.append(result.note[0].upper() + result.note[1:] + ".")
    if isinstance(result.value, Decimal):
        notes.append("The loss involves logarithms: it is certified (two working precisions agree) and rounded.")
    data = {
        "command": "loss",
        **record,
        **headline_fields(result.gradient),
        "loss_float": to_float(result.value),
        "formula": result.formula,
        "derivative": result.derivative,
        "direction": result.direction,
        "note": result.note,
    }
    return Report(f"loss: {result.kind}", columns, [record], data, notes=notes, vertical=True)


def update_report(result: UpdateResult) -> Report:
    record: dict[str, Any] = {
        "weight": result.weight,
        "lr": result.lr,
        "grad": result.grad,
        "input": result.input,
        "new_weight": result.new_weight,
        "step": result.step,
    }
    columns = {key: key.replace("_", " ") for key in record}
    notes = ["new weight = weight - lr * grad * input; step = new weight - weight."]
    if result.lr < 0:
        notes.append("The learning rate is negative: this step ascends the loss (it moves with the gradient).")
    data = {"command": "update", **record, **headline_fields(result.new_weight)}
    return Report("update", columns, [record], data, notes=notes, vertical=True)
