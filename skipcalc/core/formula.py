"""Layers written as formulas: the safe parser, and the forward and backward passes evaluated
with error control.

User text is never given to eval, exec, sympify or parse_expr. :func:`parse_formula` parses
it with :mod:`ast`, walks the tree against a whitelist and builds the SymPy expression
itself; SymPy only differentiates it. :class:`Evaluator` computes an expression at a point
with skipcalc's own arithmetic: exact Fractions while every step is rational (and small),
mpmath numbers at a given working precision otherwise. A network's whole pass is evaluated
at rising precisions until two agree (:func:`skipcalc.exact.certify_all`), so every digit
printed is earned, cancellations included (1 - cos(x) at x = 1e-50).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from . import losses
from .blocks import Block, factor, factor_sympy
from .chains import backward
from .errors import InputError, arg
from .exact import certify_all, parse_number, show
from .limits import MAX_FORMULA_LAYERS
from .results import FormulaResult, LossResult, Network

X = sp.Symbol("x", real=True)

MAX_FORMULA = 300
"""Longest --fn accepted, in characters."""
MAX_NESTING = 30
"""Deepest nesting of operations in one --fn."""
MAX_POWER = 100
"""Largest |n| accepted in a numeric exponent x**n."""
MAX_NODES = 5000
"""Largest derivative, in SymPy nodes, of one formula layer (a guard on SymPy's work)."""
EXACT_BITS = 20_000
"""An exact intermediate value larger than this (numerator and denominator bits) continues
as an mpmath number at the working precision: exact when it fits, certified when it does not."""
_LARGEST_ARGUMENT = mpmath.mpf(10) ** 1000
"""exp, sin, cos and tan of arguments beyond 1e1000 are refused: reducing such an argument
needs about 3,300 bits of ln 2 or pi before the first digit of the result."""
WORK = 4 * 10**9
"""Bound on an evaluation's work: operations times (working digits)^1.6, about 4 s here."""

GRAMMAR = (
    "numbers, x, + - * / ** and unary minus, parentheses, pi, e, and the functions "
    "exp log sqrt sin cos tan tanh sigmoid relu softplus gelu erf abs"
)


class tanh(sp.tanh):  # type: ignore[misc]  # noqa: N801
    """tanh, differentiated as sech^2 (SymPy's 1 - tanh^2 cancels where tanh is near 1)."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.sech(self.args[0]) ** 2


class relu(sp.Function):  # type: ignore[misc]  # noqa: N801
    """max(0, x), with relu'(0) = 0 (the convention of PyTorch and most frameworks)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return arg if arg > 0 else sp.Integer(0)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)  # H(0) = 0: relu'(0) = 0


class Phi(sp.Function):  # type: ignore[misc]
    """The standard normal CDF, evaluated as mpmath.ncdf (erfc in the lower tail): gelu's Phi
    without the cancellation of 1 + erf(x/sqrt(2)) far below 0 (gelu(-400) is about 1e-34740)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        return sp.Rational(1, 2) if arg.is_zero else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return phi(self.args[0])


class phi(sp.Function):  # type: ignore[misc]  # noqa: N801
    """The standard normal density exp(-x^2/2)/sqrt(2 pi)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        return 1 / sp.sqrt(2 * sp.pi) if arg.is_zero else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return -self.args[0] * phi(self.args[0])


class sigmoid(sp.Function):  # type: ignore[misc]  # noqa: N801
    """1/(1 + e^-x), evaluated without cancellation on either side, and differentiated as
    sigmoid(x)*sigmoid(-x) (sigmoid(x)(1 - sigmoid(x)) cancels where sigmoid is near 1)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        return sp.Rational(1, 2) if arg.is_zero else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0]) * sigmoid(-self.args[0])


class softplus(sp.Function):  # type: ignore[misc]  # noqa: N801
    """ln(1 + e^x), evaluated as log1p (far below 0 it is e^x, which 1 + e^x would lose)."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])


# Each allowed function, built from SymPy's own where it evaluates without cancellation.
# abs'(0) = sign(0) = 0. gelu is the exact form x * Phi(x), PyTorch's default
# (approximate='none'): gelu' = Phi(x) + x phi(x).
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": tanh,
    "erf": sp.erf,
    "abs": sp.Abs,
    "relu": relu,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "gelu": lambda a: a * Phi(a),
}
CONSTANTS: dict[str, sp.Expr] = {"x": X, "pi": sp.pi, "e": sp.E}

_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators",
    ast.IfExp: "conditionals",
    ast.NamedExpr: "assignments",
    ast.JoinedStr: "strings",
    ast.Starred: "starred arguments",
}


# ---------------------------------------------------------------------------
# Printing: relu' is an indicator, [x > 0], not Heaviside(x, 0)


class _Str(StrPrinter):  # type: ignore[misc]
    def _print_Heaviside(self, expr: Any) -> str:  # relu' is an indicator: [x > 0]
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_Integer(self, expr: Any) -> str:
        return _long_number(expr) or str(StrPrinter._print_Integer(self, expr))

    def _print_Rational(self, expr: Any) -> str:
        return _long_number(expr) or str(StrPrinter._print_Rational(self, expr))


class _Latex(LatexPrinter):  # type: ignore[misc]
    def _print_Heaviside(self, expr: Any, exp: Any = None) -> str:
        tex = rf"\left[{self._print(expr.args[0])} > 0\right]"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_Phi(self, expr: Any, exp: Any = None) -> str:
        tex = rf"\Phi\left({self._print(expr.args[0])}\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_phi(self, expr: Any, exp: Any = None) -> str:
        tex = rf"\phi\left({self._print(expr.args[0])}\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_Integer(self, expr: Any) -> str:
        text = _long_number(expr)
        return _tex_scientific(text) if text else str(LatexPrinter._print_Rational(self, expr))

    def _print_Rational(self, expr: Any) -> str:
        text = _long_number(expr)
        return _tex_scientific(text) if text else str(LatexPrinter._print_Rational(self, expr))


def _long_number(expr: Any) -> str:
    """A rational of more than 30 digits in the number syntax it was typed in (1e100000, 2.5e-40)
    when it terminates within 40 digits, else "" (SymPy writes 100,001 digits for 1e100000)."""
    p, q = int(expr.p), int(expr.q)
    if abs(p).bit_length() < 100 and q.bit_length() < 100:
        return ""
    shown = show(Fraction(p, q), digits=40, fraction=0)
    return shown.text if shown.exact else ""


def _tex_scientific(text: str) -> str:
    mantissa, _, exponent = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else text


def sympy_text(expr: Any) -> str:
    """A SymPy expression as text, relu' as the indicator [x > 0] (the one printed form)."""
    return str(_Str().doprint(expr))


def sympy_latex(expr: Any) -> str:
    """A SymPy expression as LaTeX, relu' as the indicator [x > 0]."""
    return str(_Latex().doprint(expr))


# ---------------------------------------------------------------------------
# The safe parser


@dataclass(frozen=True)
class Layer:
    """One formula layer: the user's text, F as SymPy built it, and F'."""

    text: str
    f: sp.Expr
    df: sp.Expr


def parse_layer(text: str, name: str) -> Layer:
    f = parse_formula(text, name)
    df = sp.diff(f, X)
    if sp.count_ops(df, visual=False) > MAX_NODES:
        raise InputError(f"{name}: the derivative of {text.strip()!r} has more than {MAX_NODES:,} operations")
    return Layer(text.strip(), f, df)


def parse_formula(text: str, name: str) -> sp.Expr:
    """Build the SymPy expression for ``text`` from its syntax tree, refusing anything outside
    the grammar with a message that quotes the offending part."""
    if len(text) > MAX_FORMULA:
        raise InputError(f"{name}: a formula of {len(text)} characters is longer than the {MAX_FORMULA} accepted")
    if not text.strip():
        raise InputError(f"{name}: the formula is empty; expected {GRAMMAR}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InputError(f"{name}: {text.strip()!r} is not a formula; expected {GRAMMAR}") from None
    return _Builder(text.strip(), name).build(tree.body, 0)


class _Builder:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name

    def refuse(self, node: ast.AST, why: str) -> InputError:
        part = ast.get_source_segment(self.text, node) or type(node).__name__
        return InputError(f"{self.name}: {part!r} is not allowed ({why}); expected {GRAMMAR}")

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_NESTING:
            raise InputError(f"{self.name}: the formula nests deeper than the {MAX_NESTING} levels accepted")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.refuse(node, "only numbers are constants")
            segment = ast.get_source_segment(self.text, node) or ""
            value = parse_number(segment, f"{self.name} number")  # exact: 0.5 is 1/2
            return sp.Rational(value.numerator, value.denominator)
        if isinstance(node, ast.Name):
            if node.id not in CONSTANTS:
                raise self.refuse(node, "unknown name")
            return CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                if right == 0:
                    raise self.refuse(node, "division by zero")
                return left / right
            return self.power(node, left, right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise self.refuse(node.func, "not a function skipcalc knows")
            if node.keywords:
                raise self.refuse(node.keywords[0], "keyword arguments")
            if len(node.args) != 1:
                raise self.refuse(node, "functions take exactly one argument")
            return FUNCTIONS[node.func.id](self.build(node.args[0], depth + 1))
        why = _REFUSED.get(type(node), "not part of the formula grammar")
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            why = "operator not allowed"
        raise self.refuse(node, why)

    def power(self, node: ast.BinOp, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        # SymPy evaluates number**number eagerly: bound both so 9**9**9 cannot run away.
        if exponent.is_number:
            if not exponent.is_real or abs(exponent) > MAX_POWER:
                raise self.refuse(node, f"exponents are limited to -{MAX_POWER}..{MAX_POWER}")
            if base.is_Rational and base != 0:
                bits = abs(exponent) * (base.p.bit_length() + base.q.bit_length())
                if bits > 400_000:
                    raise self.refuse(node, "the power is too large")
            if base == 0 and exponent <= 0:
                raise self.refuse(node, "division by zero")
        return base**exponent


# ---------------------------------------------------------------------------
# Evaluation at a working precision

Value = Any  # a Fraction, or an mpmath mpf


class Evaluator:
    """Evaluates SymPy expressions at a point with the working precision in force (mpmath's
    workdps): Fractions while every step is rational and small, mpmath numbers otherwise.
    Raises InputError naming ``where`` when a value is undefined. ``ops`` counts the work."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.ops = 0

    def error(self, why: str, at: Value) -> InputError:
        return InputError(f"{self.where}: {why} at x = {text(at)}")

    def __call__(self, expr: sp.Expr, point: Value) -> Value:
        self.point = point
        return self.walk(expr)

    def walk(self, expr: sp.Expr) -> Value:
        self.ops += 1
        if expr is X:
            return self.point
        if expr.is_Rational:
            return Fraction(int(expr.p), int(expr.q))
        if expr is sp.pi:
            return +mpmath.pi
        if expr is sp.E:
            return mpmath.e + 0
        if isinstance(expr, sp.Add):
            total: Value = Fraction(0)
            for arg in expr.args:
                value = self.walk(arg)
                total = _small(total + value) if _exact_pair(total, value) else mp(total) + mp(value)
            return total
        if isinstance(expr, sp.Mul):
            result: Value = Fraction(1)
            for arg in expr.args:
                value = self.walk(arg)
                result = times(result, value)
            return result
        if isinstance(expr, sp.Pow):
            return self.power(self.walk(expr.args[0]), expr.args[1])
        if isinstance(expr, sp.Function) and len(expr.args) >= 1:
            return self.function(expr, self.walk(expr.args[0]))
        raise self.error(f"cannot evaluate {expr}", self.point)

    def power(self, base: Value, exponent_expr: sp.Expr) -> Value:
        if exponent_expr.is_Integer and isinstance(base, Fraction):
            n = int(exponent_expr)
            if base == 0:
                if n < 0:
                    raise self.error("division by zero", self.point)
                return Fraction(0) if n else Fraction(1)
            if abs(n) * (base.numerator.bit_length() + base.denominator.bit_length()) <= EXACT_BITS:
                return base**n
            self.check_power(mp(base), mpmath.mpf(n))
            return _checked(self, mp(base) ** n)
        exponent = self.walk(exponent_expr)
        if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
            return self.power(base, sp.Integer(exponent.numerator))
        b, e = mp(base), mp(exponent)
        if b == 0:
            if e <= 0:
                raise self.error("division by zero", self.point)
            return Fraction(0)
        if b < 0 and not (isinstance(exponent, Fraction) and exponent.denominator == 1):
            raise self.error("a negative number raised to a non-integer power is not real", self.point)
        self.check_power(b, e)
        return _checked(self, mpmath.power(b, e))

    def check_power(self, base: Any, exponent: Any) -> None:
        """Refuse, before the work, a power whose result's binary exponent would pass 2^62
        (an exponent tower: x**x at 1e6 in a residual network)."""
        if base and abs(exponent) * abs(mpmath.log(abs(base), 2)) > 2**62:
            raise self.error("a power's magnitude passes 2^(2^62)", self.point)

    def function(self, expr: sp.Expr, arg: Value) -> Value:
        name = expr.func.__name__
        if isinstance(arg, Fraction):
            # Exact special values, as SymPy knows them (sin(0) = 0, exp(0) = 1, relu, sign...).
            exact = expr.func(sp.Rational(arg.numerator, arg.denominator), *expr.args[1:])
            if exact.is_Rational:
                return Fraction(int(exact.p), int(exact.q))
        a = mp(arg)
        if name in ("exp", "sin", "cos", "tan", "sech", "cosh", "sinh") and abs(a) > _LARGEST_ARGUMENT:
            raise self.error(f"{name} of an argument beyond 1e1000 is refused (here {text(a)})", self.point)
        if name == "exp":
            return _checked(self, mpmath.exp(a))
        if name == "log":
            if a <= 0:
                raise self.error("log is undefined (it needs a positive argument)", self.point)
            return mpmath.log(a)
        if name == "sech":
            return _checked(self, mpmath.sech(a))
        if name in ("sin", "cos", "tan", "tanh", "erf"):
            return getattr(mpmath, name)(a)
        if name == "Phi":
            return mpmath.ncdf(a)
        if name == "phi":
            return mpmath.npdf(a)
        if name == "sigmoid":  # 1/(1 + e^-a), or e^a/(1 + e^a) below 0: no cancellation either side
            return 1 / (1 + mpmath.exp(-a)) if a >= 0 else mpmath.exp(a) / (1 + mpmath.exp(a))
        if name == "softplus":  # ln(1 + e^a) = a + ln(1 + e^-a)
            return mpmath.log1p(mpmath.exp(a)) if a <= 0 else a + mpmath.log1p(mpmath.exp(-a))
        if name == "Abs":
            return abs(arg)
        if name == "sign":
            return Fraction((a > 0) - (a < 0))
        if name == "Heaviside":
            return Fraction(1 if a > 0 else 0)  # H(0) = 0 exactly is a Fraction, handled above
        if name == "relu":
            return arg if a > 0 else Fraction(0)
        raise self.error(f"cannot evaluate {name}", self.point)


def mp(value: Value) -> Any:
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return value


def _exact_pair(a: Value, b: Value) -> bool:
    """Both exact, and small enough that their sum or product stays exact: an operation on
    numbers past EXACT_BITS is done at the working precision, not built first (1e100000 times
    itself 200 times: minutes of big multiplications and gcds)."""
    return isinstance(a, Fraction) and isinstance(b, Fraction) and _bits_of(a) + _bits_of(b) <= EXACT_BITS


def _bits_of(value: Fraction) -> int:
    return value.numerator.bit_length() + value.denominator.bit_length()


def times(a: Value, b: Value) -> Value:
    """a * b: exact while small, else at the working precision; an exact 0 either side is an
    exact 0 (a block whose factor is exactly 0 stops the gradient, certainly)."""
    if (isinstance(a, Fraction) and not a) or (isinstance(b, Fraction) and not b):
        return Fraction(0)
    return _small(a * b) if _exact_pair(a, b) else mp(a) * mp(b)


def _small(value: Fraction) -> Value:
    """An exact value, or an mpmath number once it outgrows EXACT_BITS."""
    if value.numerator.bit_length() + value.denominator.bit_length() <= EXACT_BITS:
        return value
    return mp(value)


def _bits(value: Any) -> int:
    """About log2 |value| (0 for 0)."""
    return 0 if not value else max(int(mpmath.floor(mpmath.log(abs(value), 2))), 0)


def _checked(evaluator: Evaluator, value: Any) -> Any:
    """A value whose binary exponent has run past 2^62 cannot be worked with (an exponent
    tower such as exp(exp(exp(x)))): refused by name."""
    if value and not mpmath.isfinite(value):
        raise evaluator.error("the value is not finite", evaluator.point)
    if value and abs(value._mpf_[2]) > 2**62:
        raise evaluator.error("a value's magnitude passes 2^(2^62)", evaluator.point)
    return value


def text(value: Value) -> str:
    if isinstance(value, Fraction):
        return show(value, digits=12, fraction=6).text
    return str(mpmath.nstr(value, 12))


# ---------------------------------------------------------------------------
# Formula networks

START_DIGITS = 80


def formula_result(
    texts: Sequence[str],
    at: Fraction,
    blocks: Sequence[Block],
    upstream: Fraction | None = None,
    loss: LossResult | None = None,
    own_loss: tuple[str, Fraction, Fraction | None] | None = None,
    blocks_given: bool = False,
) -> FormulaResult:
    """The forward pass of every network from ``at`` and the backward pass from its output:
    chain when ``upstream`` and ``own_loss`` are None; backprop from a shared dL/dx_n
    (``upstream``, with its ``loss`` if --pred gave one), or with ``own_loss`` = (kind, target,
    delta) from the loss at each network's own output."""
    if len(texts) > MAX_FORMULA_LAYERS:
        raise InputError(f"{arg('fn')}: {len(texts)} formula layers are more than the {MAX_FORMULA_LAYERS} accepted")
    layers = tuple(parse_layer(t, f"{arg('fn')} {i}") for i, t in enumerate(texts, start=1))
    n = len(layers)
    evaluators = [Evaluator(f"{block.spec} network") for block in blocks]
    estimate = [0]

    def evaluate(digits: int) -> list[Value]:
        work = estimate[0] * (digits**1.6)
        if work > WORK:
            raise InputError(
                f"{arg('fn')}: certifying every digit needs more than {digits // 2:,}-digit arithmetic here, more work "
                "than skipcalc does; use fewer layers, simpler formulas or another starting point"
            )
        values: list[Value] = []
        with mpmath.workdps(digits):
            for block, evaluator in zip(blocks, evaluators, strict=True):
                values.extend(_network_pass(block, layers, at, evaluator, upstream, own_loss))
        estimate[0] = sum(e.ops for e in evaluators)
        for e in evaluators:
            e.ops = 0
        return values

    where = arg("fn") if n > 1 else f"{arg('fn')} 1 ({layers[0].text})"
    flat = certify_all(evaluate, where, start=START_DIGITS)
    size = 4 * n + 2 + (2 if own_loss else 0)
    networks = []
    for i, block in enumerate(blocks):
        part = flat[i * size : (i + 1) * size]
        points, local, factors, wrt = (
            part[: n + 1],
            part[n + 1 : 2 * n + 1],
            part[2 * n + 1 : 3 * n + 1],
            part[3 * n + 1 : 4 * n + 2],
        )
        own = None
        if own_loss is not None:
            kind, target, delta = own_loss
            formula, derivative = losses.FORMULAS[kind]
            own = LossResult(kind, target, points[-1], part[-2], part[-1], formula, derivative, delta)
        closed, closed_latex = closed_form(block, layers, wrt[-1] if upstream is not None or own else None)
        networks.append(
            Network(
                block,
                tuple(local),
                tuple(factors),
                wrt[0],
                tuple(wrt),
                wrt[-1],
                tuple(points),
                closed,
                closed_latex,
                own,
                wrt_exact=all(isinstance(v, Fraction) for v in wrt),
            )
        )
    command = "chain" if upstream is None and own_loss is None else "backprop"
    return FormulaResult(
        command,
        tuple(layers_text(layers)),
        tuple(sympy_text(layer.df) for layer in layers),
        at,
        tuple(networks),
        upstream,
        loss,
        own_loss is not None,
        blocks_given,
    )


def layers_text(layers: Sequence[Layer]) -> list[str]:
    return [layer.text for layer in layers]


def _network_pass(
    block: Block,
    layers: Sequence[Layer],
    at: Fraction,
    evaluator: Evaluator,
    upstream: Fraction | None,
    own_loss: tuple[str, Fraction, Fraction | None] | None,
) -> list[Value]:
    """One network at the working precision: points x_0..x_n, local derivatives, factors,
    wrt (and the loss and dL/dx_n at its own output): x_k = a x_{k-1} + b F_k(x_{k-1})."""
    points: list[Value] = [at]
    local: list[Value] = []
    factors: list[Value] = []
    for k, ((a, b), layer) in enumerate(zip(block.coefficients(len(layers)), layers, strict=True), start=1):
        x = points[-1]
        evaluator.where = f"{arg('fn')} {k} ({layer.text}, {block.spec} network)"
        d = evaluator(layer.df, x)
        fx = evaluator(layer.f, x)
        local.append(d)
        factors.append(
            factor(a, b, d)
            if isinstance(d, Fraction) and _bits_of(d) + 64 <= EXACT_BITS
            else factor(mp(a), mp(b), mp(d))
        )
        points.append(affine(a, x, b, fx))  # a*x + b*F(x)
    tail: list[Value] = []
    if own_loss is not None:
        kind, target, delta = own_loss
        pred = points[-1]
        losses.check(
            kind,
            target,
            pred,
            delta,
            pred_name=f"{arg('kind', kind)}: the {block.spec} network's output x_{len(layers)}",
        )
        t = target if isinstance(pred, Fraction) else mp(target)  # mpmath takes Fractions only on one side
        d = delta if isinstance(pred, Fraction) else mp(losses.HUBER_DELTA if delta is None else delta)
        value, gradient = losses.evaluate(kind, t, pred, d, _mp_ln, _mp_ln1m)
        g: Value = gradient
        tail = [value, gradient]
    else:
        g = Fraction(1) if upstream is None else upstream
    wrt = backward(factors, g, times)
    return [*points, *local, *factors, *wrt, *tail]


def affine(a: Fraction, x: Value, b: Fraction, y: Value) -> Value:
    """a*x + b*y, exact while x and y are (a zero coefficient drops its term)."""
    terms = [(c, v) for c, v in ((a, x), (b, y)) if c]
    if all(isinstance(v, Fraction) and _bits_of(v) + 64 <= EXACT_BITS for _, v in terms):
        return _small(sum((c * v for c, v in terms), Fraction(0)))
    total = mpmath.mpf(0)
    for c, v in terms:
        total += v if c == 1 else mp(c) * mp(v)
    return total


def _mp_ln(value: Value) -> Any:
    return mpmath.log(mp(value))


def _mp_ln1m(value: Value) -> Any:
    """ln(1 - P), without forming 1 - P when P is tiny."""
    return mpmath.log1p(-mp(value))


def closed_form(block: Block, layers: Sequence[Layer], upstream: Any) -> tuple[str, str]:
    """The product of the factors with the points named, as text and LaTeX, output side first
    (x_k real, like x: a substitution that changes assumptions makes SymPy re-evaluate
    everything, minutes for nested tanh)."""
    xs = [sp.Symbol(f"x_{k}", real=True) for k in range(len(layers))]
    terms = [
        factor_sympy(a, b, layer.df.xreplace({X: xs[k]}))
        for k, ((a, b), layer) in enumerate(zip(block.coefficients(len(layers)), layers, strict=True))
    ][::-1]
    texts = [f"({sympy_text(t)})" if isinstance(t, sp.Add) and len(terms) > 1 else sympy_text(t) for t in terms]
    tex = [
        rf"\left({sympy_latex(t)}\right)" if isinstance(t, sp.Add) and len(terms) > 1 else sympy_latex(t) for t in terms
    ]
    if upstream is not None:
        n = len(layers)
        texts.insert(0, f"dL/dx_{n}")
        tex.insert(0, rf"\frac{{\partial L}}{{\partial x_{{{n}}}}}")
    return " * ".join(texts), r" \cdot ".join(tex)
