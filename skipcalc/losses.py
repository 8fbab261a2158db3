"""Losses for one sample: each loss's value and its derivative dL/dpred side by side.

r = target - pred throughout. The derivatives are with respect to the prediction,
which is what flows back into the network as dL/dx_n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from .numbers import InputError, Number, to_decimal

_LN = Context(prec=60)


@dataclass(frozen=True)
class LossResult:
    kind: str
    target: Fraction
    pred: Fraction
    value: Number
    gradient: Fraction
    formula: str
    derivative: str
    delta: Fraction | None = None
    note: str | None = None

    @property
    def direction(self) -> str:
        """In words: which way the prediction must move, and why the sign says so."""
        g = self.gradient
        if g < 0:
            return (
                "dL/dpred is negative: the loss falls as the prediction rises, so "
                "gradient descent (pred - lr * dL/dpred) moves the prediction up, "
                "towards the target."
            )
        if g > 0:
            return (
                "dL/dpred is positive: the loss falls as the prediction falls, so "
                "gradient descent (pred - lr * dL/dpred) moves the prediction down, "
                "towards the target."
            )
        return "dL/dpred is 0: the prediction sits at the loss's minimum; nothing moves."


def _sign(r: Fraction) -> int:
    return (r > 0) - (r < 0)


def mse(target: Fraction, pred: Fraction) -> LossResult:
    # L = r^2 (single sample, not halved, as in the seed); dL/dP = 2r * dr/dP = -2r.
    r = target - pred
    return LossResult("mse", target, pred, r * r, -2 * r, "L = (T - P)^2", "dL/dP = -2(T - P)")


def mae(target: Fraction, pred: Fraction) -> LossResult:
    # L = |r|; dL/dP = -sign(r). At P = T |r| has no derivative: we use the
    # subgradient 0 (as PyTorch does), the one member of [-1, 1] that asks no move.
    r = target - pred
    note = "at P = T, |T - P| has no derivative; skipcalc uses the subgradient 0" if r == 0 else None
    return LossResult(
        "mae", target, pred, abs(r), Fraction(-_sign(r)), "L = |T - P|",
        "dL/dP = -sign(T - P)", note=note,
    )  # fmt: skip


def huber(target: Fraction, pred: Fraction, delta: Fraction = Fraction(1)) -> LossResult:
    # Quadratic within delta, linear beyond (PyTorch's HuberLoss):
    #   |r| <= delta: L = r^2/2,                dL/dP = -r
    #   |r| >  delta: L = delta(|r| - delta/2), dL/dP = -delta * sign(r)
    if delta <= 0:
        raise InputError(f"--delta: {delta} is not accepted; expected a number > 0")
    r = target - pred
    if abs(r) <= delta:
        value, gradient = r * r / 2, -r
    else:
        value, gradient = delta * (abs(r) - delta / 2), -delta * _sign(r)
    return LossResult(
        "huber", target, pred, value, gradient,
        "L = (T - P)^2/2 if |T - P| <= delta, else delta(|T - P| - delta/2)",
        "dL/dP = -(T - P) if |T - P| <= delta, else -delta * sign(T - P)", delta=delta,
    )  # fmt: skip


def bce(target: Fraction, pred: Fraction) -> LossResult:
    # L = -(T ln P + (1 - T) ln(1 - P)); dL/dP = -T/P + (1 - T)/(1 - P) = (P - T)/(P(1 - P)).
    # The derivative is rational, hence exact; ln is not, so L carries 60 digits.
    if not 0 < pred < 1:
        raise InputError(f"--pred: {pred} is not accepted by bce; expected a probability 0 < P < 1")
    if not 0 <= target <= 1:
        raise InputError(f"--target: {target} is not accepted by bce; expected 0 <= T <= 1")
    value = Decimal(0)
    for weight, p in ((target, pred), (1 - target, 1 - pred)):
        if weight:
            value = _LN.subtract(value, _LN.multiply(to_decimal(weight, _LN), to_decimal(p, _LN).ln(_LN)))
    return LossResult(
        "bce", target, pred, value, (pred - target) / (pred * (1 - pred)),
        "L = -(T ln P + (1 - T) ln(1 - P))", "dL/dP = (P - T) / (P(1 - P))",
    )  # fmt: skip


KINDS: dict[str, Callable[..., LossResult]] = {"mse": mse, "mae": mae, "huber": huber, "bce": bce}


def loss(kind: str, target: Fraction, pred: Fraction, delta: Fraction | None = None) -> LossResult:
    """The loss ``kind`` for one sample; ``delta`` is Huber's threshold (default 1)."""
    if kind not in KINDS:
        raise InputError(f"--kind: {kind!r} is not a loss; expected one of {', '.join(KINDS)}")
    if kind == "huber":
        return huber(target, pred, Fraction(1) if delta is None else delta)
    if delta is not None:
        raise InputError(f"--delta: only the huber loss takes a delta, not {kind}")
    return KINDS[kind](target, pred)
