"""One gradient-descent step on a weight: new = old - lr * grad * input."""

from __future__ import annotations

from fractions import Fraction

from .results import UpdateResult


def update(weight: Fraction, lr: Fraction, grad: Fraction, input: Fraction) -> UpdateResult:
    # dL/dw = grad * input for a weight w on that input (the input is the weight's share of
    # the blame: an input of 0 moves nothing); the step goes against it, scaled by lr.
    step = -lr * grad * input
    return UpdateResult(weight, lr, grad, input, step, weight + step)
