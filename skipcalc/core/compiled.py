"""A formula's SymPy tree turned into nested Python closures over one arithmetic: gmpy2's MPFR
numbers (mean-field quadrature, at thousands of nodes) or numpy arrays (the simulation's
forward and backward passes). The tree comes from the safe parser (formula.parse_formula),
so only its grammar's operations occur; nothing is evaluated as code.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from typing import Any

Fn = Callable[[Any], Any]


@lru_cache(maxsize=1)
def gmpy2_functions() -> dict[str, Fn]:
    """The grammar's functions on MPFR numbers (meanfield's named activations use them too)."""
    import gmpy2

    def sigmoid(x: Any) -> Any:
        if x >= 0:
            return 1 / (1 + gmpy2.exp(-x))
        e = gmpy2.exp(x)
        return e / (1 + e)

    return {
        "exp": gmpy2.exp,
        "log": gmpy2.log,
        "sin": gmpy2.sin,
        "cos": gmpy2.cos,
        "tan": gmpy2.tan,
        "tanh": gmpy2.tanh,
        "sinh": gmpy2.sinh,
        "cosh": gmpy2.cosh,
        "sech": gmpy2.sech,
        "erf": gmpy2.erf,
        "Phi": lambda x: gmpy2.erfc(-x / gmpy2.sqrt(gmpy2.mpfr(2))) / 2,
        "phi": lambda x: gmpy2.exp(-x * x / 2) / gmpy2.sqrt(2 * gmpy2.const_pi()),
        "sigmoid": sigmoid,
        "softplus": lambda x: gmpy2.log1p(gmpy2.exp(x)) if x <= 0 else x + gmpy2.log1p(gmpy2.exp(-x)),
        "Abs": abs,
        "sign": lambda x: gmpy2.mpfr((x > 0) - (x < 0)),
        "Heaviside": lambda x: gmpy2.mpfr(1 if x > 0 else 0),
        "relu": lambda x: x if x > 0 else gmpy2.mpfr(0),
    }


def _numpy_functions() -> dict[str, Fn]:
    import math

    import numpy as np

    erf = np.vectorize(math.erf, otypes=[float])
    erfc = np.vectorize(math.erfc, otypes=[float])

    def sigmoid(x: Any) -> Any:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    return {
        "exp": np.exp,
        "log": np.log,
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "tanh": np.tanh,
        "sinh": np.sinh,
        "cosh": np.cosh,
        "sech": lambda x: 1 / np.cosh(x),
        "erf": erf,
        "Phi": lambda x: erfc(-x / math.sqrt(2)) / 2,
        "phi": lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi),
        "sigmoid": sigmoid,
        "softplus": lambda x: np.logaddexp(0, x),
        "Abs": np.abs,
        "sign": np.sign,
        "Heaviside": lambda x: (x > 0).astype(float),
        "relu": lambda x: np.maximum(x, 0),
    }


def compile_formula(expr: Any, backend: str) -> Fn:
    """``expr`` (a SymPy expression in x) as a function of one gmpy2 number ("gmpy2") or one
    numpy array ("numpy")."""
    import sympy as sp

    from .formula import X

    functions = gmpy2_functions() if backend == "gmpy2" else _numpy_functions()
    if backend == "gmpy2":
        import gmpy2

        made: dict[tuple[Fraction, int], Any] = {}

        def constant(value: Fraction) -> Any:
            if value.denominator == 1 and abs(value.numerator) < 2**53:
                return value.numerator  # an int: MPFR takes it exactly
            key = (value, gmpy2.get_context().precision)  # made once per working precision
            found = made.get(key)
            if found is None:
                found = made[key] = gmpy2.mpfr(value.numerator) / value.denominator
            return found

        def pi() -> Any:
            return gmpy2.const_pi()

        def e() -> Any:
            return gmpy2.exp(1)

    else:
        import math

        def constant(value: Fraction) -> Any:
            return value.numerator / value.denominator

        def pi() -> Any:
            return math.pi

        def e() -> Any:
            return math.e

    def build(node: Any) -> Fn:
        if node is X:
            return lambda x: x
        if node.is_Rational:
            value = Fraction(int(node.p), int(node.q))
            return lambda x: constant(value)
        if node is sp.pi:
            return lambda x: pi()
        if node is sp.E:
            return lambda x: e()
        if isinstance(node, (sp.Add, sp.Mul)):
            parts = [build(arg) for arg in node.args]
            if isinstance(node, sp.Add):

                def add(x: Any) -> Any:
                    total = parts[0](x)
                    for part in parts[1:]:
                        total = total + part(x)
                    return total

                return add

            def mul(x: Any) -> Any:
                total = parts[0](x)
                for part in parts[1:]:
                    total = total * part(x)
                return total

            return mul
        if isinstance(node, sp.Pow):
            base, exponent = build(node.args[0]), node.args[1]
            if exponent.is_Integer:
                n = int(exponent)
                return lambda x: base(x) ** n
            power = build(exponent)
            return lambda x: base(x) ** power(x)
        if isinstance(node, sp.Function) and node.func.__name__ in functions:  # Heaviside(x, 0): its 2nd is H(0)
            function, inner = functions[node.func.__name__], build(node.args[0])
            return lambda x: function(inner(x))
        raise ValueError(f"cannot compile {node}")  # the grammar makes none such

    return build(expr)
