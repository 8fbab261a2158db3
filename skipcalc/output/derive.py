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

from ..core import kernels
from ..core.blocks import PLAIN, RESIDUAL, Block, factor_sympy, factor_text
from ..core.errors import InputError
from ..core.exact import Number, fraction_of, show
from ..core.formula import parse_layer, sympy_latex, sympy_text
from ..core.results import ChainResult, FormulaResult, LossResult, Network, PathsResult, UpdateResult
from .report_types import Derivation, Equation

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


def chain_derivation(
    result: ChainResult, digits: int = 12, full: bool = True, tex_digits: int = 40, exact: bool = False
) -> Derivation:
    """The chain rule for a numeric chain/backprop result: each network's product, its
    expansion grouped by path length (the residual one's "1" is the path that skips every
    layer), and the numbers in layer order. ``full`` adds the LaTeX and SymPy's own strings
    (for --symbolic and --latex; the table shows neither), with ``tex_digits`` digits (all of
    them with ``exact``). Only what is shown is derived: beyond 8 layers the product shows its
    first three and last two factors, and SymPy writes it as a Product."""
    n = len(result.local)
    out = f"dx{n}/dx0"
    shown = list(range(1, n + 1)) if n <= 8 else [1, 2, 3, 0, n - 1, n]  # 0: the elided middle
    lines = [Equation("Derivation (SymPy):")]
    tex_lines: list[str] = []
    data: dict[str, Any] = {}
    upstream = result.upstream

    def tex(value: Number) -> str:
        return _tex_number(value, tex_digits, exact)

    if upstream is not None:
        lines.extend(_upstream_lines(result, n, digits))
        if result.loss is not None:  # the loss first, its numbers substituted, as the text shows it
            value, gradient = loss_substituted(result.loss, tex, latex=True)
            tex_lines.append(
                rf"\text{{with }} P = x_{{{n}}},\ T = {tex(result.loss.target)}: \quad "
                + value.replace(" = ", " &= ", 1)
            )
            tex_lines.append(
                gradient.replace(
                    r"\frac{\partial L}{\partial P} = ",
                    rf"\frac{{\partial L}}{{\partial x_{{{n}}}}} = \frac{{\partial L}}{{\partial P}} &= ",
                    1,
                )
            )
        tex_lines.append(
            rf"\frac{{\partial L}}{{\partial x_0}} &= \frac{{\partial L}}{{\partial x_{{{n}}}}}"
            rf" \frac{{\partial x_{{{n}}}}}{{\partial x_0}}, \quad \frac{{\partial L}}{{\partial x_{{{n}}}}} = "
            + tex(upstream)
        )
    width = max(len(net.name) for net in result.networks)
    splits = {net.name: _split(result.local, net.block) for net in result.networks if net.block is not PLAIN}
    for net in result.networks:
        block = net.block
        head = f"  {net.name:<{width}}  {out} = "
        pad = " " * (len(head) - 2) + "= "
        written = [factor_text(*block.coefficient(k, n), f"F_{k}'", parenthesised=True) if k else "..." for k in shown]
        lines.append(Equation(head, products(written)))
        total = _product(net)
        filled: tuple[str, ...] = ()
        if block is PLAIN and n <= 8:
            filled = products([number(d, digits) for d in result.local])
        elif block is not PLAIN and (block.uniform or n <= EVERY_PRODUCT_UP_TO):
            split = splits[net.name]
            if n <= EVERY_PRODUCT_UP_TO:
                lines.append(Equation(pad, _every_product(block, n)))
            else:
                lines.append(Equation(pad, _groups_line(block, n)))
            if split is not None and n <= 12:
                filled = signed_terms([number(c, digits) for c in split.contributions])
        result_line = (number(total, digits),)
        if filled and filled != result_line:  # a one-layer chain's numbers are already its value
            lines.append(Equation(pad, filled))
        lines.append(Equation(pad, result_line))
        if upstream is not None:
            lines.append(
                Equation(
                    f"  {net.name:<{width}}  dL/dx0 = ",
                    products([number(upstream, digits), number(total, digits)])
                    + (f"= {number(net.gradient, digits)}",),
                )
            )
        if full:
            data[net.name] = _symbolic(net, result.local, n)
            split = splits.get(net.name)
            paths = [tex(c) for c in split.contributions] if split is not None and n <= 12 else []
            tex_lines.extend(_tex_network(net, n, result.local, total, tex, paths))
            if upstream is not None:
                tex_lines.append(
                    rf"\left.\frac{{\partial L}}{{\partial x_0}}\right|_{{\text{{{net.name}}}}} &= "
                    rf"{_tex_signed(tex(upstream))} \cdot {_tex_signed(tex(total))} = {tex(net.gradient)}"
                )
    if full and result.updates:
        for net, u in zip(result.networks, result.updates, strict=True):
            tex_lines.append(
                rf"w_1^{{\text{{{net.name}}}}} &= w - \eta \, \frac{{\partial L}}{{\partial x_0}} \, x"
                rf" = {tex(u.weight)} - {_tex_signed(tex(u.lr))} \cdot {_tex_signed(tex(u.grad))} \cdot "
                rf"{_tex_signed(tex(u.input))} = {tex(u.new_weight)}"
            )
    for net in result.networks:
        if net.block is not PLAIN:
            named = len(result.networks) > 2 or net.block is not RESIDUAL
            lines.extend(_length_lines(net, n, splits[net.name], digits, named))
    return Derivation(tuple(lines), data, "\\begin{aligned}\n" + " \\\\\n".join(tex_lines) + "\n\\end{aligned}")


def _upstream_lines(result: ChainResult, n: int, digits: int) -> list[Equation]:
    """dL/dx0 = dL/dx_n * dx_n/dx0, and where dL/dx_n comes from: the loss's derivative with
    the numbers substituted (L = (T - P)^2, dL/dP = -2(T - P) = -2(10 - 8) = -4)."""
    assert result.upstream is not None
    lines = [Equation(f"  dL/dx0 = dL/dx{n} * dx{n}/dx0")]
    loss = result.loss
    if loss is None:
        lines.append(Equation(f"  dL/dx{n} = {number(result.upstream, digits)} (given)"))
        return lines
    value, gradient = loss_substituted(loss, lambda v: number(v, digits))
    lines.append(Equation(f"  with P = x{n}, T = {number(loss.target, digits)} ({loss.kind}):"))
    lines.append(Equation(f"    {value}"))
    lines.append(Equation(f"    dL/dx{n} = {gradient}"))
    return lines


def _symbolic(net: Network, local: Sequence[Fraction], n: int) -> dict[str, Any]:
    """SymPy's own strings for --symbolic: the product (a Product beyond 8 layers), and for a
    residual chain of up to 10 layers its expansion by path length with each group's value."""
    block = net.block
    if n <= 8:
        ds = local_symbols(n)
        expression = sp.Mul(
            *[factor_sympy(*block.coefficient(k, n), d) for k, d in enumerate(ds, start=1)], evaluate=False
        )
    else:
        i = sp.Symbol("i", integer=True, positive=True)
        d = sp.Indexed(sp.IndexedBase("F'"), i)
        term = factor_sympy(block.a, block.b, d) if block.uniform else factor_sympy(*block.coefficient(1, 1), d)
        expression = sp.Product(term, (i, 1, n))
    entry: dict[str, Any] = {"str": sympy_text(expression), "latex": sympy_latex(expression)}
    if block is RESIDUAL and n <= SYMPY_EXPANSION_UP_TO:
        ds = local_symbols(n)
        groups = residual_expansion(n)
        parts = [groups.get(k, sp.Integer(0)) for k in range(n + 1)]
        entry["expansion"] = [sympy_text(g) for g in parts]
        entry["expansion_latex"] = [sympy_latex(g) for g in parts]
        entry["by_length"] = [_sympy_value(g, ds, local) for g in parts]
    return entry


def _product(net: Network) -> Number:
    """dx_n/dx_0 of this network (its gradient without the upstream factor)."""
    if net.upstream == 1:
        return net.gradient

    if all(isinstance(f, Fraction) for f in net.factors):
        return kernels.product(net.factors)  # type: ignore[arg-type]
    return kernels.carried_product(net.factors, Fraction(1))


def _split(local: Sequence[Fraction], block: Block) -> PathsResult | None:
    """The chain's gradient split by path length (skipcalc paths), or None where that split is
    beyond what paths computes: a chain of one D repeated takes the closed form."""
    from ..core.limits import MAX_PATH_LAYERS
    from ..core.paths import path_split, uniform_path_split

    if len(local) > MAX_PATH_LAYERS:
        return None
    try:
        if all(d == local[0] for d in local):
            return uniform_path_split(local[0], len(local), Fraction(9, 10), block)
        return path_split(local, Fraction(9, 10), block)
    except InputError:  # too large to split here; the totals stand on their own
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


def _length_lines(net: Network, n: int, split: PathsResult | None, digits: int, named: bool) -> list[Equation]:
    """One line per path length k: its C(n,k) paths and their contribution e_k. Beyond 12
    lengths, k = 0, the lengths around the band that carries 90% of the gradient, and k = n;
    a run of hidden lengths is said in a line when it is two or more."""
    block = net.block
    label = f", {block.spec}" if named else ""
    if split is None or split.band is None:
        if split is not None:
            return [Equation(f"  paths by length k{label}: every path sum is 0; there is no gradient to split")]
        return [
            Equation(f"  paths by length k{label}: too large to split here (skipcalc paths splits up to 5,000 layers)")
        ]
    lines = [
        Equation(
            f"  paths by length k{label} ({n:,} block{'s are' if n != 1 else ' is'} 2^{n:,} paths; Veit et al. 2016):"
        )
    ]
    if block.uniform and (block.a != 1 or block.b != 1):
        lines.append(Equation("    a path through k branches and n - k skips carries b^k a^(n-k) times its D's,"))
        lines.append(Equation(f"    with a = {_short(block.a)} and b = {_short(block.b)}"))
    ks = _lengths_shown(n, split.band, split.contributions)
    grouped = n > EVERY_PRODUCT_UP_TO
    rows = []
    for k in ks:
        paths = math.comb(n, k)
        count = str(paths) if paths.bit_length() < 80 else number(Fraction(paths), 6)
        noun = ("product" if grouped and k else "path") + ("s" if paths != 1 else "")
        what = f"{noun} of {k} layer{'s' if k != 1 else ''}" if grouped and k else noun
        rows.append((f"k={k}", count, what, number(split.contributions[k], digits)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    previous = -1
    for k, row in zip(ks, rows, strict=True):
        if k > previous + 1:
            lines.append(Equation(f"    ... lengths {previous + 1} to {k - 1} (skipcalc paths shows every length)"))
        text = f"    {row[0]:<{widths[0]}}  {row[1]:>{widths[1]}} {row[2]:<{widths[2]}}  {row[3]}"
        lines.append(Equation(text.rstrip()))
        previous = k
    a, b = split.band
    if n + 1 > LENGTH_LINES:
        lines.append(
            Equation(f"    (k=0 is the path that skips every layer; lengths {a} to {b} carry 90% of |gradient|)")
        )
    else:
        lines.append(Equation("    (k=0 is the path that skips every layer)"))
    return lines


def _lengths_shown(n: int, band: tuple[int, int], contributions: Sequence[Number]) -> list[int]:
    """Every length up to LENGTH_LINES; beyond, 0, at most 8 lengths of the band (around its
    largest term) and n, with a gap of a single length filled in rather than elided."""
    if n + 1 <= LENGTH_LINES:
        return list(range(n + 1))
    a, b = band
    if b - a + 1 > 8:
        peak = max(range(a, b + 1), key=lambda k: kernels.to_carried(abs(contributions[k])))
        a = min(max(peak - 4, a), b - 7)
        b = a + 7
    ks = sorted({0, *range(a, b + 1), n})
    for gap in [k + 1 for k, nxt in zip(ks, ks[1:], strict=False) if nxt == k + 2]:
        ks.append(gap)
    return sorted(set(ks))


def _sympy_value(group: Any, ds: list[sp.Symbol], local: Sequence[Fraction]) -> Fraction:
    value = group.xreplace({d: sp.Rational(v.numerator, v.denominator) for d, v in zip(ds, local, strict=True)})
    value = sp.nsimplify(value) if not value.is_Rational else value
    return Fraction(int(value.p), int(value.q))


def _tex_number(value: Number, digits: int = 40, exact: bool = False) -> str:
    shown = show(value, exact=exact, digits=digits, fraction=12)
    text = shown.text
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    elif "/" in text:
        p, q = text.lstrip("-").split("/")
        text = ("-" if text.startswith("-") else "") + rf"\frac{{{p}}}{{{q}}}"
    return text if shown.exact else r"\approx " + text


def _tex_signed(text: str) -> str:
    """A number inside a product: in parentheses when negative."""
    return rf"\left({text}\right)" if text.removeprefix("\\approx ").startswith("-") else text


def _tex_network(
    net: Network,
    n: int,
    local: Sequence[Fraction],
    total: Number,
    tex: Callable[[Number], str],
    paths: Sequence[str] = (),
) -> list[str]:
    """The network's lines of the aligned block: symbols, expansion, numbers filled in, the
    sums by path length (1 + 0.3 + 0.03 + 0.001), value."""
    name = net.name
    head = rf"\left.\frac{{\partial x_{{{n}}}}}{{\partial x_0}}\right|_{{\text{{{name}}}}} &= "
    ks = list(range(1, n + 1)) if n <= 8 else [1, 2, 3]
    symbol = {k: sp.Symbol(f"F'_{k}") for k in [*ks, n]}
    factors = [factor_sympy(*net.block.coefficient(k, n), symbol[k]) for k in ks]
    product = " ".join(_tex_factor(sympy_latex(f), net.block) for f in factors)
    if n > len(ks):
        last = factor_sympy(*net.block.coefficient(n, n), symbol[n])
        product += r" \cdots " + _tex_factor(sympy_latex(last), net.block)
    lines = [head + product]
    if net.block is RESIDUAL and n <= EVERY_PRODUCT_UP_TO:
        groups = residual_expansion(n)
        parts = [sympy_latex(groups.get(k, sp.Integer(0))) for k in range(n + 1)]
        lines.append("&= " + " + ".join(f"\\left({p}\\right)" if "+" in p else p for p in parts))
    numbers = [tex(local[k - 1]) for k in ks]
    if net.block is PLAIN:
        filled = r" \cdot ".join(numbers) + (r" \cdots " + tex(local[-1]) if n > len(ks) else "")
    else:
        pieces = []
        for k, text in zip(ks, numbers, strict=True):
            a, b = net.block.coefficient(k, n)
            branch = text if b == 1 else rf"{tex(b)} \cdot {text}"
            pieces.append(rf"\left({tex(a)} + {branch}\right)" if a else branch)
        filled = " ".join(pieces) + (r" \cdots" if n > len(ks) else "")
    lines.append("&= " + filled)
    if paths and len(paths) > 1:
        lines.append("&= " + " + ".join(paths).replace("+ -", "- "))
    lines.append("&= " + tex(total))
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


def loss_derivation(result: LossResult, digits: int = 12, tex_digits: int = 40, exact: bool = False) -> Derivation:
    """The loss and its derivative in one notation, with the numbers substituted:
    L = (T - P)^2 = (10 - 8)^2 = 4 and dL/dP = -2(T - P) = -2(10 - 8) = -4. SymPy's own
    differentiation of L goes into --symbolic (and the tests check the two agree)."""
    value, gradient = loss_substituted(result, lambda v: number(v, digits))
    lines = (Equation("Derivation:"), Equation(f"  {value}"), Equation(f"  {gradient}"))
    expr = loss_expression(result.kind, result.delta)
    derivative = sp.simplify(sp.diff(expr, P))
    data: dict[str, object] = {
        "loss": sympy_text(expr),
        "derivative": sympy_text(derivative),
        "loss_latex": sympy_latex(expr),
        "derivative_latex": sympy_latex(derivative),
    }
    tex_value, tex_gradient = loss_substituted(result, lambda v: _tex_number(v, tex_digits, exact), latex=True)
    return Derivation(lines, data, f"{tex_value}\n{tex_gradient}")


def loss_substituted(loss: LossResult, shown: Callable[[Number], str], latex: bool = False) -> tuple[str, str]:
    """(L = formula = numbers = value, dL/dP = formula = numbers = value) in skipcalc's notation
    (r = T - P), as text or LaTeX; a negative number in parentheses."""

    def q(value: Number) -> str:
        text = shown(value)
        return f"({text})" if text.removeprefix("\\approx ").removeprefix("≈").startswith("-") else text

    t, p, value, gradient = q(loss.target), q(loss.pred), shown(loss.value), shown(loss.gradient)
    kind = loss.kind
    pred = fraction_of(loss.pred)
    forms: tuple[str, ...]
    if kind == "mse":
        forms = ("(T - P)^2", f"({t} - {p})^2", "-2(T - P)", f"-2({t} - {p})")
    elif kind == "mae":
        forms = ("|T - P|", f"|{t} - {p}|", "-sign(T - P)", f"-sign({t} - {p})")
    elif kind == "huber":
        assert loss.delta is not None
        d = q(loss.delta)
        if abs(loss.target - pred) <= loss.delta:
            forms = ("(T - P)^2/2", f"({t} - {p})^2/2", "-(T - P)", f"-({t} - {p})")
        else:
            forms = ("δ(|T - P| - δ/2)", f"{d}(|{t} - {p}| - {d}/2)", "-δ·sign(T - P)", f"-{d}·sign({t} - {p})")
    else:
        forms = (
            "-(T ln P + (1 - T) ln(1 - P))",
            f"-({t} ln {p} + (1 - {t}) ln(1 - {p}))",
            "(P - T)/(P(1 - P))",
            f"({p} - {t})/({p}(1 - {p}))",
        )
    if latex:
        forms = tuple(_tex_form(form) for form in forms)
        return (
            f"L = {forms[0]} = {forms[1]} = {value}",
            rf"\frac{{\partial L}}{{\partial P}} = {forms[2]} = {forms[3]} = {gradient}",
        )
    where = ""
    if kind == "huber" and loss.delta is not None:
        inside = abs(loss.target - pred) <= loss.delta
        where = f", as |T - P| {'<=' if inside else '>'} δ = {shown(loss.delta)}"
    return f"L = {forms[0]} = {forms[1]} = {value}{where}", f"dL/dP = {forms[2]} = {forms[3]} = {gradient}"


def _tex_form(text: str) -> str:
    """A loss formula of loss_substituted in LaTeX."""
    for plain, tex in (
        ("^2/2", "^2/2"),
        ("δ", r"\delta "),
        ("·", r" \cdot "),
        ("sign", r"\operatorname{sign}"),
        ("ln", r"\ln"),
    ):
        text = text.replace(plain, tex)
    return text.replace("(", r"\left(").replace(")", r"\right)")


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


def update_derivation(result: UpdateResult, digits: int = 12, tex_digits: int = 40, exact: bool = False) -> Derivation:
    """The step as the note writes it, with its numbers: w' = w - lr * g * x = 0.5 - 0.1 *
    (-5.324) * 1 = 1.0324."""
    w, eta, g, x = sp.symbols("w eta g x", real=True)
    rule = w - eta * g * x

    def tex(value: Number) -> str:
        return _tex_signed(_tex_number(value, tex_digits, exact))

    def shown(value: Number) -> str:
        text = number(value, digits)
        return f"({text})" if text.lstrip("≈").startswith("-") else text

    filled = f"{tex(result.weight)} - {tex(result.lr)} \\cdot {tex(result.grad)} \\cdot {tex(result.input)}"
    latex = f"w' = w - \\eta \\, g \\, x = {filled} = {_tex_number(result.new_weight, tex_digits, exact)}"
    numbers = " * ".join(shown(v) for v in (result.lr, result.grad, result.input))
    text = f"w' = w - lr * g * x = {shown(result.weight)} - {numbers} = {number(result.new_weight, digits)}"
    return Derivation(
        (Equation("Derivation (SymPy):"), Equation(f"  {text}")),
        {"rule": sympy_text(rule), "rule_latex": sympy_latex(rule)},
        latex,
    )
