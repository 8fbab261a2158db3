"""One gradient-descent step on a weight: new = old - lr * grad * input."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class UpdateResult:
    weight: Fraction
    lr: Fraction
    grad: Fraction
    input: Fraction

    @property
    def step(self) -> Fraction:
        """The change in the weight, new - old = -lr * grad * input. The input is the
        weight's share of the blame: dL/dw = grad * input for a weight w on that input."""
        return -self.lr * self.grad * self.input

    @property
    def new_weight(self) -> Fraction:
        return self.weight + self.step


def update(weight: Fraction, lr: Fraction, grad: Fraction, input: Fraction) -> UpdateResult:
    return UpdateResult(weight, lr, grad, input)
