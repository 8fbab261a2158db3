"""SymPy derivations, and layers written as formulas (imported only when needed).

User text is never given to eval, exec, sympify or parse_expr. :func:`parse_layer`
parses it with :mod:`ast`, walks the tree against a whitelist and builds the SymPy
expression itself. :func:`evaluate` computes a SymPy expression at a point with its
own guarded arithmetic (exact Fractions where the operations allow it, mpmath at 80
digits otherwise), checking magnitudes before every step so that no input can make
it run long or exhaust memory.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Union

import mpmath
import sympy as sp

from .numbers import InputError, Number, parse_number, show

X = sp.Symbol("x", real=True)

MAX_FORMULA = 300
"""Longest --fn accepted, in characters."""
MAX_NESTING = 30
"""Deepest nesting of operations in one --fn."""
MAX_POWER = 100
"""Largest |n| accepted in a numeric exponent x**n."""
MAX_MAGNITUDE_LOG10 = 100_000
"""Every value computed for a formula layer must lie within 1e-100000..1e100000 (or be 0)."""
MAX_TRIG_ARGUMENT = 10**15
"""sin/cos/tan of larger arguments would need that many digits of pi: refused."""
WORKING_DIGITS = 80
"""mpmath precision for irrational values; results are printed with 40 digits."""

GRAMMAR = (
    "numbers, x, + - * / ** and unary minus, parentheses, pi, e, and the functions "
    "exp log sqrt sin cos tan tanh sigmoid relu softplus gelu erf abs"
)


class relu(sp.Function):
    """max(0, x), with relu'(0) = 0 (the convention of PyTorch and most frameworks)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return arg if arg > 0 else sp.Integer(0)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)  # H(0) = 0: relu'(0) = 0


# Each allowed function, built from SymPy's own. abs'(0) = sign(0) = 0. gelu is the exact
# (erf) form, x * Phi(x), PyTorch's default (approximate='none').
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "erf": sp.erf,
    "abs": sp.Abs,
    "relu": relu,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "gelu": lambda a: a / 2 * (1 + sp.erf(a / sp.sqrt(2))),
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
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


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
    return Layer(text.strip(), f, sp.diff(f, X))


def parse_formula(text: str, name: str) -> sp.Expr:
    """Build the SymPy expression for ``text`` from its syntax tree, refusing anything
    outside the grammar with a message that quotes the offending part."""
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
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
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
        if isinstance(node, ast.BinOp) or isinstance(node, ast.UnaryOp):
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
# Guarded evaluation

Value = Union[Fraction, mpmath.mpf]


class _Evaluator:
    """Evaluates a SymPy expression at x = point: Fractions while every step is rational,
    mpmath numbers otherwise. Raises InputError naming ``where`` when a value is undefined
    or outside the accepted range."""

    def __init__(self, point: Value, where: str) -> None:
        self.point = point
        self.where = where

    def error(self, why: str) -> InputError:
        return InputError(f"{self.where}: {why} at x = {_text(self.point)}")

    def check(self, value: Value) -> Value:
        if isinstance(value, Fraction):
            if value and abs(math.log10(abs(value.numerator)) - math.log10(value.denominator)) > MAX_MAGNITUDE_LOG10:
                raise self.error(f"a value leaves the accepted range 1e-{MAX_MAGNITUDE_LOG10}..1e{MAX_MAGNITUDE_LOG10}")
            return value
        if not mpmath.isfinite(value):
            raise self.error("the value is not finite")
        if value and abs(float(mpmath.log10(abs(value)))) > MAX_MAGNITUDE_LOG10:
            raise self.error(f"a value leaves the accepted range 1e-{MAX_MAGNITUDE_LOG10}..1e{MAX_MAGNITUDE_LOG10}")
        return value

    def __call__(self, expr: sp.Expr) -> Value:
        with mpmath.workdps(WORKING_DIGITS):
            return self.eval(expr)

    def eval(self, expr: sp.Expr) -> Value:
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
                total = self.check(_add(total, self.eval(arg)))
            return total
        if isinstance(expr, sp.Mul):
            result: Value = Fraction(1)
            for arg in expr.args:
                result = self.check(_mul(result, self.eval(arg)))
            return result
        if isinstance(expr, sp.Pow):
            return self.check(self.pow(self.eval(expr.args[0]), expr.args[1]))
        if isinstance(expr, sp.Piecewise):
            raise self.error("piecewise expressions are not evaluated")
        if isinstance(expr, sp.Function) and len(expr.args) >= 1:
            return self.check(self.function(expr, self.eval(expr.args[0])))
        raise self.error(f"cannot evaluate {expr}")

    def pow(self, base: Value, exponent_expr: sp.Expr) -> Value:
        if exponent_expr.is_Integer and isinstance(base, Fraction):
            n = int(exponent_expr)
            if base == 0:
                if n < 0:
                    raise self.error("division by zero")
                return Fraction(0) if n else Fraction(1)
            size = abs(n) * max(abs(math.log10(abs(base.numerator)) - math.log10(base.denominator)), 1e-300)
            if size > MAX_MAGNITUDE_LOG10:
                raise self.error(f"a value leaves the accepted range 1e-{MAX_MAGNITUDE_LOG10}..1e{MAX_MAGNITUDE_LOG10}")
            return base**n
        exponent = self.eval(exponent_expr)
        if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
            return self.pow(base, sp.Integer(exponent.numerator))
        b, e = mpmath.mpf(_mp(base)), mpmath.mpf(_mp(exponent))
        if b == 0:
            if e <= 0:
                raise self.error("division by zero")
            return Fraction(0)
        if b < 0 and not (isinstance(exponent, Fraction) and exponent.denominator == 1):
            raise self.error("a negative number raised to a non-integer power is not real")
        if abs(e * mpmath.log10(abs(b))) > MAX_MAGNITUDE_LOG10:
            raise self.error(f"a value leaves the accepted range 1e-{MAX_MAGNITUDE_LOG10}..1e{MAX_MAGNITUDE_LOG10}")
        return mpmath.power(b, e)

    def function(self, expr: sp.Expr, arg: Value) -> Value:
        if isinstance(arg, Fraction):
            # Exact special values, as SymPy knows them (sin(0) = 0, exp(0) = 1, ...).
            exact = expr.func(sp.Rational(arg.numerator, arg.denominator), *expr.args[1:])
            if exact.is_Rational:
                return Fraction(int(exact.p), int(exact.q))
        name = expr.func.__name__
        a = _mp(arg)
        if name == "exp":
            if abs(a) > MAX_MAGNITUDE_LOG10 * 2.302585092994046:
                raise self.error(f"exp leaves the accepted range 1e-{MAX_MAGNITUDE_LOG10}..1e{MAX_MAGNITUDE_LOG10}")
            return mpmath.exp(a)
        if name == "log":
            if a <= 0:
                raise self.error("log is undefined (it needs a positive argument)")
            return mpmath.log(a)
        if name in ("sin", "cos", "tan"):
            if abs(a) > MAX_TRIG_ARGUMENT:
                raise self.error(f"{name} of an argument beyond 1e15 is refused")
            return getattr(mpmath, name)(a)
        if name in ("tanh", "erf"):
            return getattr(mpmath, name)(a)
        if name == "Abs":
            return abs(arg)
        if name == "sign":
            return Fraction((arg > 0) - (arg < 0))
        if name == "Heaviside":
            at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
            if arg == 0:
                return Fraction(int(at_zero.p), int(at_zero.q))
            return Fraction(1 if arg > 0 else 0)
        if name == "relu":
            return arg if arg > 0 else Fraction(0)
        raise self.error(f"cannot evaluate {name}")


def _mp(value: Value) -> mpmath.mpf:
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return value


def _add(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a + b
    return _mp(a) + _mp(b)


def _mul(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a * b
    return _mp(a) * _mp(b)


def evaluate(expr: sp.Expr, point: Value, where: str) -> Value:
    return _Evaluator(point, where)(expr)


def to_number(value: Value) -> Number:
    """A Fraction stays exact; an mpmath value becomes a Decimal of 60 digits (printed
    with 40; at least 30 of them are correct - 80-digit arithmetic over a bounded chain)."""
    if isinstance(value, Fraction):
        return value
    return Decimal(mpmath.nstr(value, 60, strip_zeros=False, min_fixed=1, max_fixed=0))


def _text(value: Value) -> str:
    return show(to_number(value), digits=12).text


# ---------------------------------------------------------------------------
# Formula layers: the forward pass and the backward pass of both networks

MAX_FORMULA_LAYERS = 200


@dataclass(frozen=True)
class FormulaNetwork:
    """One network through formula layers. points[i] = x_i (x_0 = --at); local[i] is
    F_{i+1}'(x_i); factors are local (plain) or 1 + local (residual); wrt[k] = d(out or
    L)/dx_k."""

    name: str
    points: tuple[Number, ...]
    local: tuple[Number, ...]
    factors: tuple[Number, ...]
    wrt: tuple[Number, ...]
    closed_form: str
    closed_form_latex: str

    @property
    def gradient(self) -> Number:
        return self.wrt[0]


@dataclass(frozen=True)
class FormulaResult:
    layers: tuple[Layer, ...]
    at: Fraction
    networks: tuple[FormulaNetwork, ...]
    loss_gradient: Fraction | None = None
    loss: Any = None

    @property
    def command(self) -> str:
        return "chain" if self.loss_gradient is None else "backprop"


def formula_network(name: str, layers: Sequence[Layer], at: Fraction, upstream: Fraction) -> FormulaNetwork:
    residual = name == "residual"
    points: list[Value] = [at]
    local: list[Value] = []
    for i, layer in enumerate(layers, start=1):
        x = points[-1]
        where = f"--fn {i} ({layer.text}, {name} network)"
        local.append(evaluate(layer.df, x, where))
        fx = evaluate(layer.f, x, where)
        points.append(_Evaluator(x, where).check(_add(x, fx)) if residual else fx)
    factors = [_add(Fraction(1), d) if residual else d for d in local]
    wrt: list[Value] = [upstream]
    for factor in reversed(factors):
        wrt.append(_Evaluator(at, f"{name} network").check(_mul(wrt[-1], factor)))
    wrt.reverse()
    # The closed form, with x_k named: x_k = F_k(x_{k-1}) (plain) or x_{k-1} + F_k(x_{k-1}).
    xs = [sp.Symbol(f"x_{k}") for k in range(len(layers))]
    terms = [layer.df.subs(X, xs[k]) for k, layer in enumerate(layers)]
    product = sp.Mul(*[(1 + t) if residual else t for t in terms], evaluate=False)
    closed = product if upstream == 1 else sp.Mul(sp.Rational(upstream.numerator, upstream.denominator), product)
    return FormulaNetwork(
        name,
        tuple(to_number(p) for p in points),
        tuple(to_number(d) for d in local),
        tuple(to_number(f) for f in factors),
        tuple(to_number(w) for w in wrt),
        str(closed),
        sp.latex(closed),
    )


def formula_chain(
    texts: Sequence[str],
    at: Fraction,
    networks: Sequence[str],
    loss_gradient: Fraction | None = None,
    loss: Any = None,
) -> FormulaResult:
    if len(texts) > MAX_FORMULA_LAYERS:
        raise InputError(f"--fn: {len(texts)} formula layers are more than the {MAX_FORMULA_LAYERS} accepted")
    layers = tuple(parse_layer(text, f"--fn {i}") for i, text in enumerate(texts, start=1))
    upstream = Fraction(1) if loss_gradient is None else loss_gradient
    with mpmath.workdps(WORKING_DIGITS):
        nets = tuple(formula_network(name, layers, at, upstream) for name in networks)
    return FormulaResult(layers, at, nets, loss_gradient, loss)


# ---------------------------------------------------------------------------
# Derivations shown under the tables

EXPAND_UP_TO = 4
"""Up to this many layers the expansion writes every path; beyond, one line per length."""
SYMPY_EXPANSION_UP_TO = 10
"""Up to this many layers SymPy expands the product itself (2^n terms)."""
LENGTH_LINES = 12
"""Path-length lines shown before the rest is elided (all of them: skipcalc paths)."""


@dataclass(frozen=True)
class Derivation:
    lines: tuple[str, ...]  # plain text, for the table
    data: dict[str, Any]  # str and LaTeX forms, for --format json --symbolic
    latex: str  # for --latex


def local_symbols(n: int) -> list[sp.Symbol]:
    """F_1', ..., F_n': layer i's local derivative, F_i'(x_{i-1})."""
    return [sp.Symbol(f"F_{i}'") for i in range(1, n + 1)]


def residual_expansion(n: int) -> dict[int, sp.Expr]:
    """(1+F_1')...(1+F_n') expanded by SymPy and grouped by path length (total degree).

    Expanded in SymPy's sparse polynomial ring and written back as unevaluated sums and
    products (printed as SymPy prints the expanded expression; a test checks they equal
    sp.expand's groups): the first evaluated Add makes SymPy import sympy.tensor and
    sympy.combinatorics, 60 ms of the table view's start-up."""
    ds = local_symbols(n)
    ring, *xs = sp.ring([str(d) for d in ds], sp.ZZ)
    expanded = ring.one
    for x in xs:
        expanded *= 1 + x
    terms: dict[int, list[sp.Expr]] = {}
    for monomial, coefficient in expanded.terms():
        assert coefficient == 1  # each path once
        factors = [d for d, power in zip(ds, monomial, strict=True) if power]
        terms.setdefault(len(factors), []).append(sp.Mul(*factors, evaluate=False) if factors else sp.Integer(1))
    return {k: sp.Add(*group, evaluate=False) if len(group) > 1 else group[0] for k, group in terms.items()}


def skip_factor(d: sp.Expr) -> sp.Expr:
    """1 + d, unevaluated (see residual_expansion)."""
    return sp.Add(sp.Integer(1), d, evaluate=False)


def chain_derivation(result: Any, digits: int = 12, full: bool = True) -> Derivation:
    """The chain rule for a numeric chain/backprop result, derived with SymPy: the plain
    product, the residual product and its expansion grouped by path length. ``full`` adds
    the LaTeX and SymPy's substituted value of each group (for --symbolic and --latex;
    the table shows neither, and LaTeX printing costs the table view tens of ms)."""
    tex = sp.latex if full else (lambda expr: "")
    from .chain import path_contributions
    from .chain import product as sp_product

    def num(v: Number) -> str:
        shown = show(v, digits=digits)
        return shown.text if shown.exact else "≈" + shown.text

    local = list(result.local)
    n = len(local)
    ds = local_symbols(n)
    out = f"dx{n}/dx0"
    exprs = {
        "plain": sp.Mul(*reversed(ds), evaluate=False),
        "residual": sp.Mul(*[skip_factor(d) for d in reversed(ds)], evaluate=False),
    }
    written = {  # SymPy sorts F_10' before F_2'; beyond 9 layers write the product out
        "plain": str(exprs["plain"]) if n < 10 else f"F_{n}' * ... * F_1'",
        "residual": str(exprs["residual"]) if n < 10 else f"(1 + F_{n}') * ... * (1 + F_1')",
    }
    lines = ["Derivation (SymPy):"]
    latex: list[str] = []
    data: dict[str, Any] = {}
    upstream = result.loss_gradient
    if upstream is not None:
        lines.append(f"  dL/dx0 = dL/dx{n} * {out}, with dL/dx{n} = {num(upstream)}")
        latex.append(rf"\frac{{\partial L}}{{\partial x_0}} = \frac{{\partial L}}{{\partial x_{{{n}}}}}"
                     rf" \frac{{\partial x_{{{n}}}}}{{\partial x_0}}")  # fmt: skip
    try:
        contributions: list[Fraction] | None = path_contributions(local)
    except InputError:  # too large to split exactly here; the totals stand on their own
        contributions = None
    for net in result.networks:
        expr = exprs[net.name]
        entry: dict[str, Any] = {"str": str(expr), "latex": tex(expr)}
        head = f"  {net.name:<9} {out} = "
        pad = " " * (len(head) - 2) + "= "
        lines.append(head + written[net.name])
        latex.append(rf"\text{{{net.name}: }} \frac{{\partial x_{{{n}}}}}{{\partial x_0}} = {tex(expr)}")
        total = net.gradient if upstream is None else sp_product(net.factors)
        if net.name == "plain":
            if n <= 8:
                lines.append(pad + " * ".join(num(d) for d in reversed(local)))
        else:
            groups = residual_expansion(n) if n <= SYMPY_EXPANSION_UP_TO else None
            if groups is not None:
                parts = [groups.get(k, sp.Integer(0)) for k in range(n + 1)]
                entry["expansion"] = [str(g) for g in parts]
                entry["expansion_latex"] = [tex(g) for g in parts]
                if full:  # SymPy's own values, for --symbolic (the table shows the core's)
                    entry["by_length"] = [_sympy_value(g, ds, local) for g in parts]
            if n <= EXPAND_UP_TO and groups is not None:
                lines.append(pad + " + ".join(_group_text(g, k) for k, g in enumerate(parts)))
                if contributions is not None:
                    lines.append(pad + " + ".join(num(c) for c in contributions))
                latex.append("= " + " + ".join(tex(g) for g in parts))
            else:
                lines.append(pad + f"e_0 + e_1 + ... + e_{n}   (e_k: the C({n},k) paths through k layers)")
                latex.append(rf"= \sum_{{k=0}}^{{{n}}} e_k(F'_1, \dots, F'_{{{n}}})")
        lines.append(pad + num(total))
        if upstream is not None:
            lines.append(f"  {net.name:<9} dL/dx0 = {num(upstream)} * {num(total)} = {num(net.gradient)}")
        if net.name == "residual":
            if contributions is None:
                lines.append("  paths by length k: too large to split exactly here (see skipcalc paths)")
            else:
                lines.extend(_length_lines(n, contributions, num))
        data[net.name] = entry
    return Derivation(tuple(lines), data, "\n".join(latex))


def _length_lines(n: int, contributions: list[Fraction], num: Callable[[Number], str]) -> list[str]:
    lines = [f"  paths by length k ({n} residual blocks are 2^{n} paths; Veit et al. 2016):"]
    ks = list(range(n + 1)) if n + 1 <= LENGTH_LINES else [*range(LENGTH_LINES - 2), n - 1, n]

    def count(paths: int) -> str:
        shown = show(Fraction(paths), digits=6)
        return shown.text if shown.exact else "≈" + shown.text

    width = len(count(math.comb(n, n // 2)))
    for k in ks:
        if k == n - 1 and n + 1 > LENGTH_LINES:
            lines.append(f"    ... lengths {LENGTH_LINES - 2} to {n - 2}: skipcalc paths shows every length")
        paths = math.comb(n, k)
        note = "   the path that skips every layer" if k == 0 else ""
        plural = "s" if paths != 1 else " "
        lines.append(f"    k={k:<4} {count(paths):>{width}} path{plural}  {num(contributions[k])}{note}")
    return lines


def _group_text(group: sp.Expr, k: int) -> str:
    text = str(group)
    return f"({text})" if isinstance(group, sp.Add) and k > 0 else text


def _sympy_value(group: Any, ds: list[sp.Symbol], local: list[Fraction]) -> Fraction:
    value = sp.sympify(group).subs({d: sp.Rational(v.numerator, v.denominator) for d, v in zip(ds, local, strict=True)})
    return Fraction(int(value.p), int(value.q))


# ---------------------------------------------------------------------------
# Losses, derived

T, P = sp.symbols("T P", real=True)


def loss_expression(kind: str, delta: Fraction | None = None) -> sp.Expr:
    r = T - P
    if kind == "mse":
        return r**2
    if kind == "mae":
        return sp.Abs(r)
    if kind == "huber":
        d = sp.Rational(delta.numerator, delta.denominator) if delta is not None else sp.Integer(1)
        return sp.Piecewise((r**2 / 2, sp.Abs(r) <= d), (d * (sp.Abs(r) - d / 2), True))
    if kind == "bce":
        return -(T * sp.log(P) + (1 - T) * sp.log(1 - P))
    raise InputError(f"--kind: {kind!r} is not a loss")


def sympy_loss_gradient(kind: str, target: Fraction, pred: Fraction, delta: Fraction | None = None) -> Fraction:
    """dL/dP by SymPy's differentiation, at the given numbers (for cross-checks)."""
    derivative = sp.diff(loss_expression(kind, delta), P)
    value = derivative.subs({T: sp.Rational(target.numerator, target.denominator),
                             P: sp.Rational(pred.numerator, pred.denominator)})  # fmt: skip
    value = sp.nsimplify(value) if not value.is_Rational else value
    return Fraction(int(value.p), int(value.q))


def loss_derivation(result: Any, digits: int = 12) -> Derivation:
    expr = loss_expression(result.kind, result.delta)
    derivative = sp.simplify(sp.diff(expr, P))
    at = {T: sp.Rational(result.target.numerator, result.target.denominator),
          P: sp.Rational(result.pred.numerator, result.pred.denominator)}  # fmt: skip
    value = derivative.subs(at)
    shown = show(Fraction(int(value.p), int(value.q)), digits=digits).text if value.is_Rational else str(value)
    lines = (
        "Derivation (SymPy):",
        f"  L = {expr}",
        f"  dL/dP = {derivative}",
        f"  at T = {show(result.target).text}, P = {show(result.pred).text}: dL/dP = {shown}",
    )
    data = {"loss": str(expr), "derivative": str(derivative),
            "loss_latex": sp.latex(expr), "derivative_latex": sp.latex(derivative)}  # fmt: skip
    latex = f"L = {sp.latex(expr)}\n\\frac{{\\partial L}}{{\\partial P}} = {sp.latex(derivative)}"
    return Derivation(lines, data, latex)


def formula_derivation(result: FormulaResult) -> Derivation:
    """Each formula layer and its SymPy derivative, and each network's closed form."""
    lines = ["Derivation (SymPy):"]
    latex = []
    for i, layer in enumerate(result.layers, start=1):
        lines.append(f"  F_{i}(x) = {layer.f}    F_{i}'(x) = {layer.df}")
        latex.append(f"F_{{{i}}}(x) = {sp.latex(layer.f)}, \\quad F_{{{i}}}'(x) = {sp.latex(layer.df)}")
    for net in result.networks:
        latex.append(f"\\text{{{net.name}: }} {net.closed_form_latex}")
    data = {
        "fn": [str(layer.f) for layer in result.layers],
        "fn_latex": [sp.latex(layer.f) for layer in result.layers],
        "derivative_latex": [sp.latex(layer.df) for layer in result.layers],
        **{net.name: {"str": net.closed_form, "latex": net.closed_form_latex} for net in result.networks},
    }
    return Derivation(tuple(lines), data, "\n".join(latex))
