"""SymPy derivations shown under the tables, in json with --symbolic, and alone with --latex.

Imported only on the paths that show a derivation. Text is written in the math's own order
(F_1' is layer 1's local derivative, D1); negative terms read as subtraction; beyond
EVERY_PRODUCT_UP_TO layers the expansion shows each path length's group instead of every
product. SymPy expands the products (in its polynomial ring: the first evaluated Add would
import sympy.tensor, 60 ms) and writes the LaTeX; the numbers are the core's, and the tests
check the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import sympy as sp

from ..core.blocks import PLAIN, RESIDUAL, Block, factor_sympy, factor_text
from ..core.errors import InputError
from ..core.exact import Number, show
from ..core.formula import parse_layer, sympy_latex, sympy_text
from ..core.results import ChainResult, FormulaResult, LossResult, Network
from .report import Derivation, Equation

EVERY_PRODUCT_UP_TO = 4
"""Up to this many layers the expansion writes every product; beyond, one group per length."""
SYMPY_EXPANSION_UP_TO = 10
"""Up to this many layers SymPy expands the product itself (2^n terms) for --symbolic."""
LENGTH_LINES = 12
"""Path-length lines shown before the rest is elided (skipcalc paths shows them all)."""


def local_symbols(n: int) -> list[sp.Symbol]:
    """F'_1, ..., F'_n: layer i's local derivative F_i'(x_{i-1}) (written F_i' in text)."""
    return [sp.Symbol(f"F'_{i}") for i in range(1, n + 1)]


def residual_expansion(n: int) -> dict[int, sp.Expr]:
    """(1+F'_1)...(1+F'_n) expanded by SymPy and grouped by path length (total degree), in
    its sparse polynomial ring, written back as unevaluated sums and products."""
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


# ---------------------------------------------------------------------------
# Text helpers


def number(value: Number, digits: int) -> str:
    shown = show(value, digits=digits, fraction=6)
    return shown.text if shown.exact else "≈" + shown.text


def signed_terms(values: Sequence[str]) -> tuple[str, ...]:
    """Terms joined by + and -, a negative one read as subtraction: 1 - 0.4 - 0.05."""
    out: list[str] = []
    for i, text in enumerate(values):
        negative = text.startswith("-") or text.startswith("≈-")
        magnitude = text.replace("-", "", 1) if negative else text
        if i == 0:
            out.append(text)
        else:
            out.append(("- " if negative else "+ ") + magnitude)
    return tuple(out)


def products(values: Sequence[str]) -> tuple[str, ...]:
    """a * b * c, a negative factor in parentheses."""
    shown = [f"({v})" if v.startswith("-") or v.startswith("≈-") else v for v in values]
    return (shown[0], *(f"* {v}" for v in shown[1:])) if shown else ()


def _short(value: Fraction) -> str:
    return show(value, digits=12, fraction=6).text


# ---------------------------------------------------------------------------
# Chains


def chain_derivation(result: ChainResult, digits: int = 12, full: bool = True) -> Derivation:
    """The chain rule for a numeric chain/backprop result: each network's product, its
    expansion grouped by path length (the residual one's "1" is the path that skips every
    layer), and the numbers in layer order. ``full`` adds the LaTeX and SymPy's own strings
    (for --symbolic and --latex; the table shows neither)."""
    from ..core.paths import path_contributions

    n = len(result.local)
    out = f"dx{n}/dx0"
    ds = local_symbols(n)
    lines = [Equation("Derivation (SymPy):")]
    tex_lines: list[str] = []
    data: dict[str, Any] = {}
    upstream = result.upstream
    if upstream is not None:
        lines.append(Equation(f"  dL/dx0 = dL/dx{n} * {out}, with dL/dx{n} = {number(upstream, digits)}"))
        tex_lines.append(
            rf"\frac{{\partial L}}{{\partial x_0}} &= \frac{{\partial L}}{{\partial x_{{{n}}}}}"
            rf" \frac{{\partial x_{{{n}}}}}{{\partial x_0}}, \quad \frac{{\partial L}}{{\partial x_{{{n}}}}} = "
            + _tex_number(upstream)
        )
    local_texts = [number(d, digits) for d in result.local]
    width = max(len(net.name) for net in result.networks)
    for net in result.networks:
        block = net.block
        coefficients = block.coefficients(n)
        symbols = [f"F_{i}'" for i in range(1, n + 1)]
        head = f"  {net.name:<{width}}  {out} = "
        pad = " " * (len(head) - 2) + "= "
        written = [factor_text(a, b, s, parenthesised=True) for (a, b), s in zip(coefficients, symbols, strict=True)]
        if n > 8:
            written = [*written[:3], "...", *written[-2:]]
        lines.append(Equation(head, products(written)))
        expression = sp.Mul(
            *[factor_sympy(a, b, d) for (a, b), d in zip(coefficients, ds, strict=True)], evaluate=False
        )
        entry: dict[str, Any] = {"str": sympy_text(expression)}
        total = _product(net)
        if block is PLAIN:
            if n <= 8:
                lines.append(Equation(pad, products(local_texts)))
        elif block.uniform or n <= EVERY_PRODUCT_UP_TO:
            split = _split_or_none(lambda block=block: path_contributions(result.local, block))  # type: ignore[misc]
            if n <= EVERY_PRODUCT_UP_TO:
                lines.append(Equation(pad, _every_product(block, n)))
            else:
                lines.append(Equation(pad, _groups_line(block, n)))
            if split is not None and n <= 12:
                lines.append(Equation(pad, signed_terms([number(c, digits) for c in split])))
        if full:
            entry["latex"] = sympy_latex(expression)
            if block is RESIDUAL and n <= SYMPY_EXPANSION_UP_TO:
                groups = residual_expansion(n)
                parts = [groups.get(k, sp.Integer(0)) for k in range(n + 1)]
                entry["expansion"] = [sympy_text(g) for g in parts]
                entry["expansion_latex"] = [sympy_latex(g) for g in parts]
                entry["by_length"] = [_sympy_value(g, ds, result.local) for g in parts]
            tex_lines.extend(_tex_network(net, n, ds, coefficients, result.local, total))
        lines.append(Equation(pad, (number(total, digits),)))
        if upstream is not None:
            lines.append(
                Equation(
                    f"  {net.name:<{width}}  dL/dx0 = ",
                    products([number(upstream, digits), number(total, digits)])
                    + (f"= {number(net.gradient, digits)}",),
                )
            )
        data[net.name] = entry
    for net in result.networks:
        if net.block is not PLAIN:
            split = _split_or_none(lambda net=net: path_contributions(result.local, net.block))  # type: ignore[misc]
            lines.extend(_length_lines(net, n, split, digits, len(result.networks) > 2 or net.block is not RESIDUAL))
    return Derivation(tuple(lines), data, "\\begin{aligned}\n" + " \\\\\n".join(tex_lines) + "\n\\end{aligned}")


def _product(net: Network) -> Number:
    """dx_n/dx_0 of this network (its gradient without the upstream factor)."""
    if net.upstream == 1:
        return net.gradient
    from ..core import _fast

    if all(isinstance(f, Fraction) for f in net.factors):
        return _fast.product(net.factors)  # type: ignore[arg-type]
    return _fast.carried_product(net.factors, Fraction(1))


def _split_or_none(compute: Callable[[], list[Fraction]]) -> list[Fraction] | None:
    try:
        return compute()
    except InputError:  # too large to split exactly here; the totals stand on their own
        return None


def _every_product(block: Block, n: int) -> tuple[str, ...]:
    """The expansion with every product: 1 + (F_1' + F_2') + F_1'F_2' (with a and b when
    they are not 1)."""
    groups = []
    for k in range(n + 1):
        terms = []
        for subset in _subsets(n, k):
            terms.append(_monomial(block, n, subset))
        group = " + ".join(terms)
        groups.append(f"({group})" if len(terms) > 1 else group)
    return signed_terms(groups)


def _subsets(n: int, k: int) -> list[tuple[int, ...]]:
    from itertools import combinations

    return list(combinations(range(1, n + 1), k))


def _monomial(block: Block, n: int, subset: tuple[int, ...]) -> str:
    parts = [f"F_{i}'" for i in subset]
    if block.b != 1 and subset:
        parts.insert(0, _power(_short(block.b), len(subset)))
    skips = n - len(subset)
    if block.a != 1 and skips:
        parts.insert(0, _power(_short(block.a), skips))
    return "*".join(parts) if parts else "1"


def _power(text: str, k: int) -> str:
    return text if k == 1 else f"{text}^{k}"


def _groups_line(block: Block, n: int) -> tuple[str, ...]:
    """e_0 + e_1(F') + ... + e_n(F'): one group per path length."""
    parts = [f"e_{k}" if k == 0 else f"e_{k}(F')" for k in range(n + 1)]
    if n > 8:
        parts = [*parts[:3], "...", *parts[-1:]]
    return signed_terms(parts)


def _length_lines(net: Network, n: int, split: list[Fraction] | None, digits: int, named: bool) -> list[Equation]:
    block = net.block
    label = f", {block.spec}" if named else ""
    if split is None:
        return [Equation(f"  paths by length k{label}: too large to split exactly here (see skipcalc paths)")]
    lines = [Equation(f"  paths by length k{label} ({n} blocks are 2^{n} paths; Veit et al. 2016):")]
    if block.uniform and (block.a != 1 or block.b != 1):
        lines.append(Equation("    a path through k branches and n - k skips carries b^k a^(n-k) times its D's,"))
        lines.append(Equation(f"    with a = {_short(block.a)} and b = {_short(block.b)}"))
    ks = list(range(n + 1)) if n + 1 <= LENGTH_LINES else [*range(LENGTH_LINES - 2), n - 1, n]
    grouped = n > EVERY_PRODUCT_UP_TO
    rows = []
    for k in ks:
        paths = math.comb(n, k)
        count = str(paths) if len(str(paths)) <= 24 else number(Fraction(paths), 6)
        noun = ("product" if grouped and k else "path") + ("s" if paths != 1 else "")
        what = f"{noun} of {k} layer{'s' if k != 1 else ''}" if grouped and k else noun
        rows.append((f"k={k}", count, what, number(split[k], digits)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for k, row in zip(ks, rows, strict=True):
        if k == n - 1 and n + 1 > LENGTH_LINES:
            lines.append(Equation(f"    ... lengths {LENGTH_LINES - 2} to {n - 2}: skipcalc paths shows every length"))
        text = f"    {row[0]:<{widths[0]}}  {row[1]:>{widths[1]}} {row[2]:<{widths[2]}}  {row[3]}"
        lines.append(Equation(text.rstrip()))
    lines.append(Equation("    (k=0 is the path that skips every layer)"))
    return lines


def _sympy_value(group: Any, ds: list[sp.Symbol], local: Sequence[Fraction]) -> Fraction:
    value = group.xreplace({d: sp.Rational(v.numerator, v.denominator) for d, v in zip(ds, local, strict=True)})
    value = sp.nsimplify(value) if not value.is_Rational else value
    return Fraction(int(value.p), int(value.q))


def _tex_number(value: Number) -> str:
    shown = show(value, digits=40, fraction=12)
    text = shown.text
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    elif "/" in text:
        p, q = text.lstrip("-").split("/")
        text = ("-" if text.startswith("-") else "") + rf"\frac{{{p}}}{{{q}}}"
    return text if shown.exact else r"\approx " + text


def _tex_network(
    net: Network,
    n: int,
    ds: list[sp.Symbol],
    coefficients: list[tuple[Fraction, Fraction]],
    local: Sequence[Fraction],
    total: Number,
) -> list[str]:
    """The network's lines of the aligned block: symbols, expansion, numbers filled in, value."""
    name = net.name
    head = rf"\left.\frac{{\partial x_{{{n}}}}}{{\partial x_0}}\right|_{{\text{{{name}}}}} &= "
    shown = n if n <= 8 else 3
    factors = [factor_sympy(a, b, d) for (a, b), d in zip(coefficients[:shown], ds[:shown], strict=True)]
    product = " ".join(_tex_factor(sympy_latex(f), net.block) for f in factors)
    if n > shown:
        product += r" \cdots " + _tex_factor(sympy_latex(factor_sympy(*coefficients[-1], ds[-1])), net.block)
    lines = [head + product]
    if net.block is RESIDUAL and n <= EVERY_PRODUCT_UP_TO:
        groups = residual_expansion(n)
        parts = [sympy_latex(groups.get(k, sp.Integer(0))) for k in range(n + 1)]
        lines.append("&= " + " + ".join(f"\\left({p}\\right)" if "+" in p else p for p in parts))
    numbers = [_tex_number(d) for d in local[:shown]]
    if net.block is PLAIN:
        filled = r" \cdot ".join(numbers) + (r" \cdots " + _tex_number(local[-1]) if n > shown else "")
    else:
        pieces = []
        for (a, b), text in zip(coefficients[:shown], numbers, strict=True):
            branch = text if b == 1 else rf"{_tex_number(b)} \cdot {text}"
            pieces.append(rf"\left({_tex_number(a)} + {branch}\right)" if a else branch)
        filled = " ".join(pieces) + (r" \cdots" if n > shown else "")
    lines.append("&= " + filled)
    lines.append("&= " + _tex_number(total))
    return lines


def _tex_factor(text: str, block: Block) -> str:
    return text if block is PLAIN or text.startswith(r"\left(") else rf"\left({text}\right)"


# ---------------------------------------------------------------------------
# Losses

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
    value = derivative.subs(
        {T: sp.Rational(target.numerator, target.denominator), P: sp.Rational(pred.numerator, pred.denominator)}
    )
    value = sp.nsimplify(value) if not value.is_Rational else value
    return Fraction(int(value.p), int(value.q))


def loss_derivation(result: LossResult, digits: int = 12) -> Derivation:
    expr = loss_expression(result.kind, result.delta)
    derivative = sp.simplify(sp.diff(expr, P))
    target, pred = Fraction(result.target), Fraction(result.pred)
    at = {T: sp.Rational(target.numerator, target.denominator), P: sp.Rational(pred.numerator, pred.denominator)}
    value = derivative.subs(at)
    shown = number(Fraction(int(value.p), int(value.q)), digits) if value.is_Rational else sympy_text(value)
    lines = (
        Equation("Derivation (SymPy):"),
        Equation(f"  L = {sympy_text(expr)}"),
        Equation(f"  dL/dP = {sympy_text(derivative)}"),
        Equation(f"  at T = {number(target, digits)}, P = {number(pred, digits)}: dL/dP = {shown}"),
    )
    data: dict[str, object] = {
        "loss": sympy_text(expr),
        "derivative": sympy_text(derivative),
        "loss_latex": sympy_latex(expr),
        "derivative_latex": sympy_latex(derivative),
    }
    tex = f"L = {sympy_latex(expr)}\n\\frac{{\\partial L}}{{\\partial P}} = {sympy_latex(derivative)}"
    return Derivation(lines, data, tex)


# ---------------------------------------------------------------------------
# Formula layers


def formula_derivation(result: FormulaResult) -> Derivation:
    """Each formula layer and its SymPy derivative, and each network's closed form."""
    layers = [parse_layer(text, f"--fn {i}") for i, text in enumerate(result.texts, start=1)]
    lines = [Equation("Derivation (SymPy):")]
    tex = []
    for i, layer in enumerate(layers, start=1):
        lines.append(Equation(f"  F_{i}(x) = {sympy_text(layer.f)}    F_{i}'(x) = {sympy_text(layer.df)}"))
        tex.append(f"F_{{{i}}}(x) &= {sympy_latex(layer.f)}, \\quad F'_{{{i}}}(x) = {sympy_latex(layer.df)}")
    n = len(layers)
    what = "dL/dx0" if result.command == "backprop" else f"dx{n}/dx0"
    for net in result.networks:
        lines.append(Equation(f"  {net.name} {what} = ", (net.closed_form or "",)))
        tex.append(rf"\text{{{net.name}: }} &{net.closed_form_latex}")
    data: dict[str, Any] = {
        "fn": [sympy_text(layer.f) for layer in layers],
        "fn_latex": [sympy_latex(layer.f) for layer in layers],
        "derivative": [sympy_text(layer.df) for layer in layers],
        "derivative_latex": [sympy_latex(layer.df) for layer in layers],
        **{net.name: {"str": net.closed_form, "latex": net.closed_form_latex} for net in result.networks},
    }
    return Derivation(tuple(lines), data, "\\begin{aligned}\n" + " \\\\\n".join(tex) + "\n\\end{aligned}")
