"""The activations mean-field theory takes: named ones (linear, relu, tanh, erf, sigmoid, gelu,
softplus) and formulas of the --fn grammar, each as φ, φ′ and φ″ on MPFR numbers at the working
precision."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import gmpy2
from gmpy2 import mpfr

from ..errors import InputError, arg

NAMES = ("linear", "relu", "tanh", "erf", "sigmoid", "gelu", "softplus")
CLOSED = ("linear", "relu")  # expectations rational in q: exact answers
MAX_Q = Fraction(10**30)  # a length beyond this: q grows without bound (reported, not computed)
WORK = 4_000_000  # node evaluations one call may make (about five seconds)


def working_precision(dps: int) -> AbstractContextManager[Any]:
    """gmpy2's working precision for ``dps`` decimal digits."""
    return gmpy2.context(gmpy2.get_context(), precision=int(dps * 3.33) + 16)  # type: ignore[no-any-return]


def big(value: Any) -> Any:
    """A Fraction (or int) as an mpfr at the working precision."""
    if isinstance(value, Fraction):
        return mpfr(value.numerator) / value.denominator
    return mpfr(value)


# ---------------------------------------------------------------------------
# Activations: φ, φ′ and φ″ at working precision


@dataclass(frozen=True)
class Activation:
    """An activation by name or formula; ``f``, ``df`` and ``d2f`` evaluate at an mpfr."""

    name: str
    f: Callable[[Any], Any]
    df: Callable[[Any], Any]
    d2f: Callable[[Any], Any]
    odd: bool = False  # φ odd (so φ(0) = 0)
    slope0: Fraction | None = None  # φ′(0), exactly, where known
    text: str = ""  # the formula, for the simulation's evaluator
    zero: bool = False  # φ(0) = 0: q = 0 is a fixed point of the length map when σ_b² = 0
    exprs: tuple[Any, ...] = ()  # a formula's φ, φ′, φ″ as SymPy expressions (for the interval check)
    cost: float = 14.0  # microseconds to evaluate φ, φ′ and φ″ at one node (measured; a formula's by its size)

    @property
    def closed(self) -> bool:
        return self.name in CLOSED


def _named(name: str) -> Activation:
    from ..compiled import gmpy2_functions  # the formula grammar's own functions, no SymPy

    fn = gmpy2_functions()
    _sigmoid, _npdf, _ncdf = fn["sigmoid"], fn["phi"], fn["Phi"]
    zero, one = (lambda x: mpfr(0)), (lambda x: mpfr(1))
    if name == "linear":
        return Activation(name, lambda x: x, one, zero, True, Fraction(1), zero=True)
    if name == "relu":
        return Activation(name, lambda x: x if x > 0 else mpfr(0), lambda x: mpfr(x > 0), zero, zero=True)
    if name == "tanh":

        def sech2(x: Any) -> Any:
            return 1 / gmpy2.cosh(x) ** 2

        return Activation(
            name, gmpy2.tanh, sech2, lambda x: -2 * gmpy2.tanh(x) * sech2(x), True, Fraction(1), zero=True
        )
    if name == "erf":

        def derf(x: Any) -> Any:
            return 2 / gmpy2.sqrt(gmpy2.const_pi()) * gmpy2.exp(-x * x)

        return Activation(name, gmpy2.erf, derf, lambda x: -2 * x * derf(x), True, zero=True)
    if name == "sigmoid":

        def d(x: Any) -> Any:
            s = _sigmoid(x)
            return s * (1 - s)

        return Activation(name, _sigmoid, d, lambda x: d(x) * (1 - 2 * _sigmoid(x)), False, Fraction(1, 4))
    if name == "gelu":
        return Activation(
            name,
            lambda x: x * _ncdf(x),
            lambda x: _ncdf(x) + x * _npdf(x),
            lambda x: (2 - x * x) * _npdf(x),
            False,
            Fraction(1, 2),
            zero=True,
        )
    return Activation(  # softplus
        name,
        fn["softplus"],
        _sigmoid,
        lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
        False,
        Fraction(1, 2),
    )


def activation(text: str) -> Activation:
    """``--act``: a name (linear, relu, tanh, erf, sigmoid, gelu, softplus) or a formula of the
    --fn grammar in x (read by the safe parser, never evaluated as code)."""
    if not isinstance(text, str):
        raise TypeError(f"act: {text!r} is not text")
    name = text.strip().lower()
    if name in NAMES:
        return _named(name)
    if name.isidentifier() and name != "x":
        from ..errors import suggest

        raise InputError(
            f"{arg('act')}: {text.strip()[:40]!r} is not an activation; {suggest(name, list(NAMES))}"
            f"expected one of {', '.join(NAMES)} or a formula in x such as 'x*sigmoid(x)'"
        )
    return _formula(text.strip())


def _formula(text: str) -> Activation:
    import sympy as sp

    from ..compiled import compile_formula
    from ..formula import X, parse_layer

    layer = parse_layer(text, arg("act"))
    # a kink's delta in φ″ (abs, relu) is left out: φφ″ then counts only away from the kink,
    # exact where φ is 0 at the kink (abs, relu)
    d2 = sp.diff(layer.df, X).replace(sp.DiracDelta, lambda *args: sp.Integer(0))

    def checked(expr: Any) -> Callable[[Any], Any]:
        run = compile_formula(expr, "gmpy2")

        def value(x: Any) -> Any:
            v = run(x)
            if not gmpy2.is_finite(v):
                raise InputError(
                    f"{arg('act')}: {text!r} or its derivatives are undefined or infinite at x = {float(x):.6g}"
                )
            return v

        return value

    odd = bool(layer.f.subs(X, 0) == 0 and sp.simplify(layer.f.subs(X, -X) + layer.f) == 0)
    slope = layer.df.subs(X, 0)
    exact_slope = Fraction(int(slope.p), int(slope.q)) if slope.is_Rational else None
    zero = bool(layer.f.subs(X, 0) == 0)
    operations = sum(int(sp.count_ops(e)) for e in (layer.f, layer.df, d2))
    return Activation(
        text,
        checked(layer.f),
        checked(layer.df),
        checked(d2),
        odd,
        exact_slope,
        text,
        zero,
        (layer.f, layer.df, d2),
        cost=3 + 1.3 * operations,  # measured: about 1.2 microseconds per operation at 30 digits
    )


def _mp(value: Any) -> Any:
    if isinstance(value, Decimal):
        return mpfr(str(value))
    return big(value) if isinstance(value, Fraction) else value
