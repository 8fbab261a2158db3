"""Formula layers as PyTorch runs them in a float format: forward and backward, operation by
operation, each rounded as PyTorch's CPU kernels round it.

A layer's formula is run as written (its Python syntax tree, not SymPy's rewriting of it) on
a tensor x of the format F:

- every operation's result is a tensor of F: rounded to F (to nearest, ties to even);
- the 16-bit formats compute inside each kernel in float32 ("opmath") and round the result to
  F once more; a Python number meeting a tensor is converted to that float32 (float64 keeps
  it a double); constants combined with constants stay Python doubles;
- functions (exp, tanh, ...) are taken as correctly rounded in the kernel's precision
  (PyTorch's are within about an ulp of float32 or float64, so a 16-bit result rounds the same
  but for the rare value next to a tie; float32 and float64 results can differ in the last
  bit);
- the kernels are those of a single value (a 0-dim tensor, what a network of one unit per
  layer runs): where PyTorch's vectorised path for long tensors rounds differently (bfloat16's
  pow computes in float32 there, in bfloat16 here), this follows the single value's;
- the backward pass is reverse mode with PyTorch's own derivative formulas
  (tools/autograd/derivatives.yaml): tanh' from the output as g*(1 - y*y) and sigmoid' as
  g*(1 - y)*y in one float32 kernel, exp' as g*y, sin' as g*cos(x), and so on; the gradients
  reaching a tensor are summed in the order autograd's engine delivers them (the most
  recently made node first).

FP8 runs a layer's formula in float32 and stores the layer's output and the gradient reaching
its input in FP8, as the numeric chains do.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Round = Callable[[float], float]


@dataclass
class Node:
    """One tensor the forward pass made: how (op, inputs) and its value in F."""

    op: str
    inputs: tuple[int, ...]
    value: float
    scalar: float = 0.0  # the Python number an op with a scalar took (x * 0.5: 0.5)
    grads: list[float] = field(default_factory=list)  # as they arrive, in order


class Tape:
    """A forward pass in one format, recorded for the backward pass."""

    def __init__(self, to_f: Round, opmath: Round, name: str) -> None:
        self.r = to_f  # into the tensor's format
        self.m = opmath  # inside a kernel: float32 for the 16-bit formats
        self.name = name  # the tensors' format: a few kernels round differently in each
        self.nodes: list[Node] = []

    def add(self, op: str, inputs: tuple[int, ...], value: float, scalar: float = 0.0) -> int:
        self.nodes.append(Node(op, inputs, value, scalar))
        return len(self.nodes) - 1

    def kernel(self, value: float) -> float:
        """A kernel's float32 (or float64) result, stored in F."""
        return self.r(self.m(value))

    def value(self, k: int) -> float:
        return self.nodes[k].value


# A value while the forward pass runs: a node of the tape (a tensor), or a Python double.
Operand = tuple[str, Any]


def layer_tape(tape: Tape, text: str, x: int) -> int:
    """Run the formula ``text`` (already checked by formula.parse_formula) on tensor node
    ``x``, recording its operations; the node holding F(x)."""
    tree = ast.parse(text.strip(), mode="eval")
    out = _run(tape, tree.body, x, text.strip())
    if out[0] == "scalar":  # a constant layer: a tensor full of it
        return tape.add("const", (), tape.r(out[1]))
    return int(out[1])


def _run(tape: Tape, node: ast.AST, x: int, text: str) -> Operand:
    from .errors import arg
    from .exact import parse_number

    if isinstance(node, ast.Constant):
        segment = ast.get_source_segment(text, node) or str(node.value)
        return ("scalar", float(parse_number(segment, f"{arg('fn')} number")))
    if isinstance(node, ast.Name):
        return ("tensor", x) if node.id == "x" else ("scalar", math.pi if node.id == "pi" else math.e)
    if isinstance(node, ast.UnaryOp):
        kind, v = _run(tape, node.operand, x, text)
        if isinstance(node.op, ast.UAdd):
            return (kind, v)
        return ("scalar", -v) if kind == "scalar" else ("tensor", tape.add("neg", (v,), -tape.value(v)))
    if isinstance(node, ast.BinOp):
        return _binary(tape, node, _run(tape, node.left, x, text), _run(tape, node.right, x, text))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        kind, v = _run(tape, node.args[0], x, text)
        if kind == "scalar":  # math on a Python number: a double
            return ("scalar", float(_exact(node.func.id, Fraction(v))))
        return ("tensor", tape.add(node.func.id, (v,), _function(tape, node.func.id, tape.value(v))))
    raise AssertionError(f"unchecked formula node {type(node).__name__}")


def _binary(tape: Tape, node: ast.BinOp, left: Operand, right: Operand) -> Operand:
    op = type(node.op).__name__  # Add, Sub, Mult, Div, Pow
    (lk, lv), (rk, rv) = left, right
    if lk == "scalar" and rk == "scalar":
        return ("scalar", _python(op, lv, rv))
    m, r = tape.m, tape.kernel
    if lk == "tensor" and rk == "tensor":
        a, b = tape.value(lv), tape.value(rv)
        if op == "Pow":
            return ("tensor", tape.add("powt", (lv, rv), r(_pow(a, b))))
        value = r(_python(op, a, b))
        return ("tensor", tape.add(op.lower(), (lv, rv), value))
    if lk == "tensor":  # tensor op scalar
        a, s = tape.value(lv), rv
        if op == "Pow":
            return ("tensor", tape.add("pow", (lv,), _power(tape, a, s), s))
        return ("tensor", tape.add(op.lower() + "s", (lv,), r(_python(op, a, _scalar(tape, op, s))), s))
    a, s = tape.value(rv), lv  # scalar op tensor
    if op == "Add" or op == "Mult":
        return ("tensor", tape.add(op.lower() + "s", (rv,), r(_python(op, a, _scalar(tape, op, s))), s))
    if op == "Sub":  # s - x: rsub
        return ("tensor", tape.add("rsub", (rv,), r(_scalar(tape, op, s) - a), s))
    if op == "Div":  # s / x: x.reciprocal() * s
        inverse = tape.add("reciprocal", (rv,), r(1 / a) if a else math.copysign(math.inf, a))
        return ("tensor", tape.add("mults", (inverse,), r(tape.value(inverse) * m(s)), s))
    raise ValueError("a number raised to a tensor power")  # s ** x: left to the model of exact derivatives


def _scalar(tape: Tape, op: str, s: float) -> float:
    """A Python number as a kernel with a tensor takes it: add and sub cast it to the tensor's
    format, mul and div to the kernel's float32 (measured against PyTorch 2.13 on the CPU)."""
    return tape.r(s) if op in ("Add", "Sub") else tape.m(s)


def _python(op: str, a: float, b: float) -> float:
    try:
        if op == "Add":
            return a + b
        if op == "Sub":
            return a - b
        if op == "Mult":
            return a * b
        if op == "Div":
            return a / b if b else (math.copysign(math.inf, a) * math.copysign(1, b) if a else math.nan)
        return _pow(a, b)
    except OverflowError:
        return math.inf


def _pow(a: float, b: float) -> float:
    try:
        return float(a**b) if not (a < 0 and b != int(b)) else math.nan
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _power(tape: Tape, a: float, k: float) -> float:
    """pow(x, k) for a Python number k, as PyTorch's kernel specialises it."""
    m, r = tape.m, tape.r
    p = r if tape.name == "bfloat16" else m  # bfloat16's integer powers round each product to bfloat16
    if k == 2:
        return r(m(a * a))
    if k == 3:
        return r(p(p(a * a) * a))
    if k == -1:
        return r(m(1 / a)) if a else math.copysign(math.inf, a)
    if k == -2:
        return r(p(1 / p(a * a))) if a else math.inf
    if k == 0.5:
        return r(m(_exact("sqrt", Fraction(a)))) if a >= 0 else math.nan
    if k == -0.5:  # 1 / sqrt(x), two roundings
        return r(p(1 / p(_exact("sqrt", Fraction(a))))) if a > 0 else (math.inf if a == 0 else math.nan)
    return r(m(_pow(a, k)))


def _exact(name: str, x: Fraction) -> float:
    """A function, correctly rounded to a double (30 digits, then rounded)."""
    import mpmath

    with mpmath.workdps(30):
        a = mpmath.mpf(x.numerator) / x.denominator
        try:
            value = {
                "exp": lambda: mpmath.exp(a),
                "log": lambda: mpmath.log(a) if a > 0 else (mpmath.ninf if a == 0 else mpmath.nan),
                "sqrt": lambda: mpmath.sqrt(a) if a >= 0 else mpmath.nan,
                "sin": lambda: mpmath.sin(a),
                "cos": lambda: mpmath.cos(a),
                "tan": lambda: mpmath.tan(a),
                "tanh": lambda: mpmath.tanh(a),
                "erf": lambda: mpmath.erf(a),
                "abs": lambda: abs(a),
                "relu": lambda: a if a > 0 else mpmath.mpf(0),
                "sigmoid": lambda: 1 / (1 + mpmath.exp(-a)),
                "softplus": lambda: a if a > 20 else mpmath.log1p(mpmath.exp(a)),  # PyTorch: threshold 20
                "gelu": lambda: a * mpmath.ncdf(a),
            }[name]()
        except (OverflowError, ValueError):
            return math.nan
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf


def _function(tape: Tape, name: str, a: float) -> float:
    if not math.isfinite(a):
        limits = {"exp": (0.0, math.inf), "tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, math.inf)}
        if a != a or name not in limits and name not in ("abs", "softplus", "gelu", "erf"):
            return math.nan
        if name == "erf":
            return math.copysign(1.0, a)
        if name == "abs":
            return math.inf
        if name in ("softplus", "gelu"):
            return a if a > 0 else (0.0 if name == "softplus" else -0.0)
        low, high = limits[name]
        return high if a > 0 else low
    return tape.kernel(_exact(name, Fraction(a)))


# ---------------------------------------------------------------------------
# The backward pass


def backward(tape: Tape, output: int, upstream: float, start: int) -> tuple[float, list[float], bool]:
    """Reverse mode from ``output`` with dL/d(output) = ``upstream``, down to node ``start``
    (the layer's input): the gradient reaching it, summed as autograd's engine sums it, every
    gradient the pass formed (for the loss-scale window), and whether one of them rounded to 0
    from a nonzero gradient where the rule at a unit gradient gives a nonzero one (an underflow,
    not a derivative of 0)."""
    nodes = tape.nodes
    for node in nodes:
        node.grads = []
    nodes[output].grads.append(upstream)
    formed: list[float] = []
    lost = False
    # Autograd's engine runs the ready node made last first; here every node above the input
    # is ready once the nodes made after it have run, so that order is the reverse of making.
    for k in range(output, start, -1):
        node = nodes[k]
        if not node.grads or not node.inputs:
            continue
        g = _sum(tape, node.grads)
        rules = _rule(tape, node, g)
        for i, grad in zip(node.inputs, rules, strict=True):
            if grad is not None:
                nodes[i].grads.append(grad)
                formed.append(grad)
        if g and not lost and any(grad == 0 for grad in rules):
            unit = _rule(tape, node, math.copysign(1.0, g))
            lost = any(grad == 0 and u for grad, u in zip(rules, unit, strict=True))
    grads = nodes[start].grads
    return (_sum(tape, grads) if grads else 0.0), formed, lost


def _sum(tape: Tape, grads: list[float]) -> float:
    total = grads[0]
    for g in grads[1:]:
        total = tape.kernel(total + g)
    return total


def _rule(tape: Tape, node: Node, g: float) -> Sequence[float | None]:
    """The gradients a node passes to its inputs, by PyTorch's derivative formulas."""
    m, r, k = tape.m, tape.kernel, tape.r
    op, inputs = node.op, node.inputs
    x = tape.value(inputs[0])
    y = node.value
    if op in ("add", "adds"):
        return [g, g][: len(inputs)]
    if op == "sub":
        return [g, -g]
    if op == "subs":
        return [g]
    if op in ("neg", "rsub"):
        return [-g]
    if op == "mult":
        return [r(g * tape.value(inputs[1])), r(g * x)]
    if op == "mults":
        return [r(g * m(node.scalar))]
    if op == "div":
        b = tape.value(inputs[1])
        return [r(g / b) if b else _inf(g), r(-g * r(r(x / b) / b)) if b else _inf(-g)]
    if op == "divs":
        return [r(g / m(node.scalar))]
    if op == "reciprocal":  # -grad * (result * result)
        return [r(-g * r(y * y))]
    if op == "pow":  # grad * (exponent * self.pow(exponent - 1))
        s = node.scalar
        if s == 0:
            return [0.0]
        power = x if s == 2 else _power(tape, x, s - 1)
        return [r(g * r(power * m(s)))]
    if op == "powt":  # x ** t: grad * t * x**(t - 1); and grad * result * log(x)
        t = tape.value(inputs[1])
        return [r(g * r(t * r(_pow(x, t - 1)))), r(g * r(y * _function(tape, "log", x)))]
    if op == "exp":
        return [r(g * y)]
    if op == "log":
        return [r(g / x) if x else _inf(g)]
    if op == "sqrt":  # grad / (2 * result)
        return [r(g / k(2 * y)) if y else _inf(g)]
    if op == "sin":
        return [r(g * _function(tape, "cos", x))]
    if op == "cos":
        return [r(g * -_function(tape, "sin", x))]
    if op == "tan":  # grad * (1 + result.pow(2))
        return [r(g * r(1 + r(y * y)))]
    if op == "tanh":  # tanh_backward: one kernel, a * (1 - b * b), 1 - b * b fused (one rounding)
        return [k(m(g * m(float(1 - Fraction(y) ** 2))))]
    if op == "sigmoid":  # sigmoid_backward: one kernel, a * (1 - b) * b; bfloat16's in float32
        step = m if tape.name == "bfloat16" else k
        return [k(step(step(g * step(1 - y)) * y))]
    if op == "relu":  # threshold_backward on the result
        return [g if y > 0 else 0.0]
    if op == "abs":  # grad * sgn(x)
        return [r(g * ((x > 0) - (x < 0)))]
    if op == "erf":  # 2/sqrt(pi) * exp(-x^2) * grad
        e = _function(tape, "exp", -r(x * x))
        return [r(r(e * m(2 / math.sqrt(math.pi))) * g)]
    if op == "softplus":  # z = exp(x); x > 20 ? g : g * z / (z + 1), in one kernel
        if x > 20:
            return [g]
        z = m(_exact("exp", Fraction(x))) if math.isfinite(x) else (0.0 if x < 0 else math.inf)
        return [k(m(m(g * z) / m(z + 1)))]
    if op == "gelu":  # dy * (cdf + x * pdf), in one kernel
        cdf = m(0.5 * m(1 + m(_exact("erf", Fraction(m(x * m(math.sqrt(0.5))))))))
        pdf = m(m(math.sqrt(2 / math.pi) * 0.5) * m(_exact("exp", Fraction(m(m(x * x) * -0.5)))))
        return [k(m(g * m(cdf + m(x * pdf))))]
    raise AssertionError(f"no derivative for {op}")


def _inf(g: float) -> float:
    return math.copysign(math.inf, g) if g else math.nan


# ---------------------------------------------------------------------------
# A network of formula layers


@dataclass(frozen=True)
class Forward:
    """A network's forward pass in F: each layer's tape, its input and output nodes, and the
    layer's a and b as F holds them."""

    tapes: tuple[Tape, ...]
    ends: tuple[tuple[int, int], ...]  # (input node, output node) of each layer


def forward(
    name: str,
    to_f: Round,
    opmath: Round,
    store: Round,
    texts: Sequence[str],
    at: float,
    coefficients: Sequence[tuple[Fraction, Fraction]],
) -> Forward:
    """The forward pass x_k = a*x_(k-1) + b*F_k(x_(k-1)) run in the format ``name`` (``to_f``
    the tensors' rounding, ``opmath`` the kernels', ``store`` the layer outputs': FP8's)."""
    x = store(at)
    tapes, ends = [], []
    for (a, b), text in zip(coefficients, texts, strict=True):
        tape = Tape(to_f, opmath, name)
        start = tape.add("input", (), x)
        branch = layer_tape(tape, text, start)
        if b != 1:
            held = tape.add("param", (), store(float(b)))
            branch = tape.add("mult", (held, branch), tape.kernel(tape.value(held) * tape.value(branch)))
        if a == 0:
            out = branch
        else:
            skip = start
            if a != 1:
                held = tape.add("param", (), store(float(a)))
                skip = tape.add("mult", (held, start), tape.kernel(tape.value(held) * x))
            # y = skip + branch: made after both, so its backward runs first
            out = tape.add("add", (skip, branch), tape.kernel(tape.value(skip) + tape.value(branch)))
        x = store(tape.value(out))
        tapes.append(tape)
        ends.append((start, out))
    return Forward(tuple(tapes), tuple(ends))


def backward_through(run: Forward, store: Round, upstream: float) -> tuple[list[float], list[float], bool]:
    """The gradients dL/dx_k (k = 0..n) of a forward pass from dL/dx_n = ``upstream``, each
    stored in F at the layer boundary, every gradient formed on the way, and whether one of
    them underflowed to 0 (see backward)."""
    g = store(upstream)
    values = [g]
    formed: list[float] = []
    lost = False
    for tape, (start, out) in zip(reversed(run.tapes), reversed(run.ends), strict=True):
        reached, made, dropped = backward(tape, out, g, start)
        formed.extend(made)
        lost = lost or dropped
        g = store(reached)
        if reached and not g:
            lost = True
        values.append(g)
    values.reverse()
    return values, formed, lost
