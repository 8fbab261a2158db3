"""Losses for one sample: each loss's value and its derivative dL/dpred side by side.

r = target - pred throughout. The derivatives are with respect to the prediction, which is
what flows back into the network as dL/dx_n. The formulas take any numbers with + - * / and
comparisons (exact Fractions, or mpmath values inside a formula network's working
precision); only bce needs a logarithm, passed in as ``ln``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import Any

from .errors import InputError, arg, suggest
from .exact import Number, quote, to_decimal
from .results import LossResult

KINDS = ("mse", "mae", "huber", "bce")

HUBER_DELTA = Fraction(1)
"""Huber's default threshold, PyTorch's: exact, so half of it is 1/2 (an int 1 halved to 0.5, a
float, once made the loss at T = 10.1 print 1.600000000000000088...)."""

FORMULAS = {
    "mse": ("L = (T - P)^2", "dL/dP = -2(T - P)"),
    "mae": ("L = |T - P|", "dL/dP = -sign(T - P)"),
    "huber": (
        "L = (T - P)^2/2 if |T - P| <= delta, else delta(|T - P| - delta/2)",
        "dL/dP = -(T - P) if |T - P| <= delta, else -delta * sign(T - P)",
    ),
    "bce": ("L = -(T ln P + (1 - T) ln(1 - P))", "dL/dP = (P - T) / (P(1 - P))"),
}


def _sign(r: Any) -> int:
    return int(r > 0) - int(r < 0)


def mse(t: Any, p: Any) -> tuple[Any, Any]:
    # L = r^2 (one sample, not halved, as in the note); dL/dP = 2r * dr/dP = -2r.
    r = t - p
    return r * r, -2 * r


def mae(t: Any, p: Any) -> tuple[Any, Any]:
    # L = |r|; dL/dP = -sign(r). At P = T, |r| has no derivative: the subgradient 0 (as
    # PyTorch uses), the one member of [-1, 1] that asks for no move.
    r = t - p
    return abs(r), -_sign(r)


def huber(t: Any, p: Any, delta: Any) -> tuple[Any, Any]:
    # Quadratic within delta, linear beyond (PyTorch's HuberLoss):
    #   |r| <= delta: L = r^2/2,                dL/dP = -r
    #   |r| >  delta: L = delta(|r| - delta/2), dL/dP = -delta * sign(r)
    r = t - p
    if abs(r) <= delta:
        return r * r / 2, -r
    return delta * (abs(r) - delta / 2), -delta * _sign(r)


def bce(t: Any, p: Any, ln: Callable[[Any], Any], ln1m: Callable[[Any], Any]) -> tuple[Any, Any]:
    # L = -(T ln P + (1 - T) ln(1 - P)); dL/dP = -T/P + (1 - T)/(1 - P) = (P - T)/(P(1 - P)).
    return bce_value(t, p, ln, ln1m), (p - t) / (p * (1 - p))


def bce_value(t: Any, p: Any, ln: Callable[[Any], Any], ln1m: Callable[[Any], Any]) -> Any:
    # ln1m(P) is ln(1 - P), computed without forming 1 - P where P is tiny. Both terms are
    # <= 0 for 0 < P < 1, so their sum cannot cancel.
    terms = []
    if t != 0:
        terms.append(t * ln(p))
    if t != 1:
        terms.append((1 - t) * ln1m(p))
    return -sum(terms[1:], terms[0])


def check(kind: str, target: Any, pred: Any, delta: Fraction | None, pred_name: str = arg("pred")) -> None:
    """Refuse, by name, a loss that is not defined at these values."""
    if kind not in KINDS:
        raise InputError(
            f"{arg('kind')}: {quote(kind)} is not a loss; {suggest(kind, KINDS)}expected one of {', '.join(KINDS)}"
        )
    if delta is not None and kind != "huber":
        raise InputError(f"{arg('delta')}: only the huber loss takes a delta, not {kind}")
    if kind == "huber" and delta is not None and delta <= 0:
        raise InputError(f"{arg('delta')}: {delta} is not accepted; expected a number > 0")
    if kind == "bce":
        if not 0 < pred < 1:
            raise InputError(f"{pred_name}: {_text(pred)} is not accepted by bce; expected a probability 0 < P < 1")
        if not 0 <= target <= 1:
            raise InputError(f"{arg('target')}: {_text(target)} is not accepted by bce; expected 0 <= T <= 1")


def _text(value: Any) -> str:
    from .exact import show

    if isinstance(value, (Fraction, Decimal)):
        return show(value, digits=12, fraction=6).text
    return str(value)


def evaluate(
    kind: str, t: Any, p: Any, delta: Any, ln: Callable[[Any], Any], ln1m: Callable[[Any], Any]
) -> tuple[Any, Any]:
    """(L, dL/dP) of ``kind`` at these numbers (already checked)."""
    if kind == "mse":
        return mse(t, p)
    if kind == "mae":
        return mae(t, p)
    if kind == "huber":
        return huber(t, p, HUBER_DELTA if delta is None else delta)
    return bce(t, p, ln, ln1m)


def loss(kind: str, target: Fraction, pred: Fraction, delta: Fraction | None = None) -> LossResult:
    """The loss ``kind`` for one sample, exactly; bce's logarithms correctly rounded."""
    check(kind, target, pred, delta)
    if kind == "bce":
        from .exact import certify

        value: Number = certify(lambda digits: _bce_value(target, pred, digits), "bce loss")
        gradient: Number = (pred - target) / (pred * (1 - pred))
    else:
        value, gradient = evaluate(kind, target, pred, delta, _no_ln, _no_ln)
        value, gradient = Fraction(value), Fraction(gradient)
    note = None
    if kind == "mae" and target == pred:
        note = "at P = T, |T - P| has no derivative; skipcalc uses the subgradient 0"
    formula, derivative = FORMULAS[kind]
    used_delta = (HUBER_DELTA if delta is None else delta) if kind == "huber" else None
    return LossResult(kind, target, pred, value, gradient, formula, derivative, used_delta, note)


def _no_ln(value: Any) -> Any:
    raise AssertionError("only bce takes logarithms")


def _bce_value(target: Fraction, pred: Fraction, digits: int) -> Decimal:
    """bce's value with ``digits`` working digits."""
    context = Context(prec=digits, Emin=-(10**17), Emax=10**17)
    with localcontext(context):
        value = bce_value(
            to_decimal(target, digits),
            pred,
            lambda p: ln_fraction(p, digits),
            lambda p: ln_fraction(1 - p, digits),
        )
    return context.plus(value)


def ln_fraction(x: Fraction, digits: int) -> Decimal:
    """ln(x) for an exact x > 0 with ``digits`` correct digits, near x = 1 too: there
    ln(1 + y) = y - y^2/2 + y^3/3 - ... (|y| < 1e-8), since rounding x to ``digits`` digits
    first would lose y."""
    context = Context(prec=digits + 5, Emin=-(10**17), Emax=10**17)
    y = x - 1
    if y and abs(y) < Fraction(1, 10**8):
        term = power = to_decimal(y, digits + 5)
        total, k = term, 1
        small = context.power(10, -(digits + 5))
        while term and context.abs(term) > context.multiply(context.abs(total), small):
            k += 1
            power = context.multiply(power, to_decimal(y, digits + 5))
            term = context.divide(power, k) if k % 2 else context.minus(context.divide(power, k))
            total = context.add(total, term)
        return total
    return context.ln(to_decimal(x, digits + 5))
