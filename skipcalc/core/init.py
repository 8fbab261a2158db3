"""The constants that make deep stacks train, exact where the math is (SymPy closed forms,
e.g. DeepNorm for 18 layers gives alpha = sqrt(6)), with certified decimals beside them.

Sources:
- DeepNorm: Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers", table 1; and
  the official code (microsoft/torchscale, architecture/encoder.py), which divides the encoder
  weights by (N^4 M)^(1/16) / 1.15, so its encoder beta is 1.15 (N^4 M)^(-1/16) where the paper
  gives 0.87 (N^4 M)^(-1/16).
- Fixup: Zhang, Dauphin and Ma 2019, "Fixup Initialization: Residual Learning Without
  Normalization", section 3: scale the branch weights by L^(-1/(2m-2)) (a negative exponent).
- Gains: torch.nn.init.calculate_gain; Kaiming std = gain / sqrt(fan_in) (He et al. 2015,
  fan_in mode); Xavier std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot and Bengio 2010).
- Stochastic depth: Huang et al. 2016, "Deep Networks with Stochastic Depth", eq. (4).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from . import kernels
from .errors import InputError, arg, suggest
from .exact import Number, certify, quote
from .results import Constant, InitResult


def value_of(expr: Any) -> Number:
    """An exact Fraction when the closed form is rational, else certified to 50 digits."""
    import sympy as sp

    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    from decimal import Decimal

    return certify(lambda digits: Decimal(str(sp.N(expr, digits))), "init")


def constant(name: str, meaning: str, expr: Any) -> Constant:
    return Constant(name, meaning, value_of(expr), _text(expr))


def _text(expr: Any) -> str:
    from .formula import sympy_text as plain

    return plain(expr)


def _q(value: Fraction) -> Any:
    import sympy as sp

    return sp.Rational(value.numerator, value.denominator)


DEEPNORM = "Wang et al. 2022, DeepNet, table 1 (and microsoft/torchscale for the code's encoder beta)"


def deepnorm(layers: int) -> InitResult:
    """One stack of N layers (encoder-only or decoder-only): alpha = (2N)^(1/4), beta = (8N)^(-1/4)."""
    import sympy as sp

    n = sp.Integer(layers)
    constants = (
        constant("alpha", "scales the skip: x + G(x) becomes LayerNorm(alpha x + G(x))", sp.root(2 * n, 4)),
        constant("beta", "gain for the branch's weights (fc1, fc2, v_proj, out_proj) at init", 1 / sp.root(8 * n, 4)),
    )
    return InitResult(
        "deepnorm",
        f"DeepNorm: one stack of {layers} layers",
        constants,
        source=DEEPNORM,
        parameters={"layers": Fraction(layers)},
    )


def deepnorm_encoder_decoder(encoder: int, decoder: int) -> InitResult:
    import sympy as sp

    n, m = sp.Integer(encoder), sp.Integer(decoder)
    x = sp.root(n**4 * m, 16)  # (N^4 M)^(1/16)
    constants = (
        constant("encoder alpha", "0.81 (N^4 M)^(1/16)", sp.Rational(81, 100) * x),
        constant("encoder beta", "0.87 (N^4 M)^(-1/16), the paper's", sp.Rational(87, 100) / x),
        constant(
            "encoder beta (code)",
            "1.15 (N^4 M)^(-1/16), torchscale's: it divides by (N^4 M)^(1/16) / 1.15",
            sp.Rational(115, 100) / x,
        ),
        constant("decoder alpha", "(3M)^(1/4)", sp.root(3 * m, 4)),
        constant("decoder beta", "(12M)^(-1/4)", 1 / sp.root(12 * m, 4)),
    )
    notes = (
        "The official code's encoder beta is 1.15/0.87 = 1.32 times the paper's: the code divides by "
        "(N^4 M)^(1/16)/1.15 where the paper multiplies by 0.87 (N^4 M)^(-1/16).",
    )
    return InitResult(
        "deepnorm",
        f"DeepNorm: {encoder}-layer encoder, {decoder}-layer decoder",
        constants,
        notes,
        source=DEEPNORM,
        parameters={"encoder_layers": Fraction(encoder), "decoder_layers": Fraction(decoder)},
    )


def fixup(branches: int, depth: int) -> InitResult:
    """L branches of m layers: scale the branch weights by L^(-1/(2m-2))."""
    import sympy as sp

    if depth < 2:
        raise InputError(f"{arg('branch_depth')}: Fixup's scale needs m >= 2 layers per branch")
    scale = sp.Pow(sp.Integer(branches), sp.Rational(-1, 2 * depth - 2))
    constants = (
        constant(
            "scale",
            f"multiplies the standard init of the weights inside each branch (L = {branches}, m = {depth})",
            scale,
        ),
    )
    notes = (
        "The exponent is negative, -1/(2m-2): more branches mean smaller branch weights. The last layer of each "
        "branch starts at zero, so each block starts as the identity; Fixup adds a scalar multiplier (1) and "
        "scalar biases (0) around each branch.",
    )
    return InitResult(
        "fixup",
        f"Fixup: {branches} branches of {depth} layers",
        constants,
        notes,
        source="Zhang, Dauphin and Ma 2019, Fixup Initialization, section 3",
        parameters={"branches": Fraction(branches), "branch_depth": Fraction(depth)},
    )


GAIN_NAMES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)
"""The nonlinearities torch.nn.init.calculate_gain knows."""


def gain_expression(nonlinearity: str, slope: Any) -> Any:
    """torch.nn.init.calculate_gain as a SymPy closed form: 1 for the linear ones and sigmoid,
    tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + a^2)) (a = ``slope``), selu 3/4."""
    import sympy as sp

    if nonlinearity == "leaky_relu":
        return sp.sqrt(2 / (1 + slope**2))
    return {"tanh": sp.Rational(5, 3), "relu": sp.sqrt(2), "selu": sp.Rational(3, 4)}.get(nonlinearity, sp.Integer(1))


def gain(nonlinearity: str, param: Fraction | None, fan_in: int | None, fan_out: int | None) -> InitResult:

    if nonlinearity not in GAIN_NAMES:
        raise InputError(
            f"NONLINEARITY: {quote(nonlinearity)} is not one; {suggest(nonlinearity, GAIN_NAMES)}"
            f"expected one of {', '.join(GAIN_NAMES)}"
        )
    if param is not None and nonlinearity != "leaky_relu":
        raise InputError(f"{arg('param')}: only leaky_relu takes a parameter (its negative slope), not {nonlinearity}")
    if param is not None and max(param.numerator.bit_length(), param.denominator.bit_length()) > 200:
        constants = _leaky_relu_of_a_long_slope(param, fan_in, fan_out)
    else:
        constants = _gains(nonlinearity, param, fan_in, fan_out)
    parameters: dict[str, Number] = {}
    if fan_in is not None:
        parameters["fan_in"] = Fraction(fan_in)
    if fan_out is not None:
        parameters["fan_out"] = Fraction(fan_out)
    return InitResult(
        "gain",
        f"init gain: {nonlinearity}",
        tuple(constants),
        source="torch.nn.init.calculate_gain; He et al. 2015 (Kaiming, fan_in mode); Glorot and Bengio 2010 (Xavier)",
        parameters={**parameters},
        label=nonlinearity,
    )


def _gains(nonlinearity: str, param: Fraction | None, fan_in: int | None, fan_out: int | None) -> list[Constant]:
    """The gain and the stds from it, as SymPy closed forms."""
    import sympy as sp

    g = gain_expression(nonlinearity, _q(param) if param is not None else sp.Rational(1, 100))
    constants = [constant("gain", f"calculate_gain('{nonlinearity}')", g)]
    if fan_in is not None:
        constants.append(constant("kaiming std", f"gain / sqrt(fan_in), fan_in = {fan_in}", g / sp.sqrt(fan_in)))
    if fan_in is not None and fan_out is not None:
        constants.append(
            constant(
                "xavier std",
                f"gain * sqrt(2 / (fan_in + fan_out)), fan_out = {fan_out}",
                g * sp.sqrt(sp.Rational(2, fan_in + fan_out)),
            )
        )
    return constants


def _leaky_relu_of_a_long_slope(a: Fraction, fan_in: int | None, fan_out: int | None) -> list[Constant]:
    """leaky_relu's gain sqrt(2/(1 + a^2)) for a slope a of hundreds of digits (1e-100000):
    certified with mpmath, and the closed forms written with a named, since SymPy would try to
    factor the integers under the root (minutes for 1e-1000)."""
    import mpmath

    from .exact import show

    def gain_at(digits: int) -> Any:
        with mpmath.workdps(digits):
            slope = mpmath.mpf(a.numerator) / a.denominator
            return mpmath.sqrt(2 / (1 + slope * slope))

    named = f"a = {show(a, digits=12, fraction=6).text}"
    constants = [
        Constant("gain", "calculate_gain('leaky_relu')", certify(gain_at, "init"), f"sqrt(2/(1 + a^2)), {named}")
    ]
    if fan_in is not None:

        def kaiming(digits: int) -> Any:
            with mpmath.workdps(digits):
                return gain_at(digits) / mpmath.sqrt(fan_in)

        constants.append(
            Constant(
                "kaiming std",
                f"gain / sqrt(fan_in), fan_in = {fan_in}",
                certify(kaiming, "init"),
                f"gain/sqrt({fan_in})",
            )
        )
    if fan_in is not None and fan_out is not None:

        def xavier(digits: int) -> Any:
            with mpmath.workdps(digits):
                return gain_at(digits) * mpmath.sqrt(mpmath.mpf(2) / (fan_in + fan_out))

        constants.append(
            Constant(
                "xavier std",
                f"gain * sqrt(2 / (fan_in + fan_out)), fan_out = {fan_out}",
                certify(xavier, "init"),
                f"gain*sqrt(2/{fan_in + fan_out})",
            )
        )
    return constants


def _survival(numerator: int, denominator: int) -> Fraction:
    common = math.gcd(numerator, denominator)
    return kernels.coprime(numerator // common, denominator // common)


def stochastic_depth(layers: int, last: Fraction) -> InitResult:
    """p_l = 1 - (l/L)(1 - p_L); the expected depth is their sum, L - (L + 1)(1 - p_L)/2."""
    import sympy as sp

    big_l, p_last = sp.Integer(layers), _q(last)
    expected = big_l - (big_l + 1) * (1 - p_last) / 2
    constants = (
        constant("expected depth", f"the sum of p_l over the {layers} blocks: L - (L + 1)(1 - p_L)/2", expected),
        constant("p_L", "the last block's survival probability", p_last),
    )
    # p_l = (L v - l (v - u)) / (L v) for p_L = u/v: integers, each reduced by one small gcd
    # (Fraction arithmetic took 20 s for a million blocks).
    u, v = last.numerator, last.denominator
    den, step = layers * v, v - u
    table = tuple((str(k), (_survival(den - k * step, den),)) for k in range(1, layers + 1))
    notes = (
        "Block l of L survives a training step with probability p_l; at test time every block runs, its branch "
        "scaled by p_l. For p_L = 1/2 the expected depth is (3L - 1)/4.",
    )
    return InitResult(
        "stochastic-depth",
        f"stochastic depth: {layers} blocks, p_L = {last}",
        constants,
        notes,
        table,
        ("block l", "survival p_l"),
        "Huang et al. 2016, Deep Networks with Stochastic Depth, eq. (4)",
        {"layers": Fraction(layers), "last": last},
    )


SCHEMES = ("pytorch", "he", "xavier", "lecun")
"""The initialisation schemes meanfield --init, probe --init and the mlp preset take."""


def variances(scheme: str, width: int | None) -> tuple[Fraction, Fraction]:
    """(σ_w², σ_b²) a scheme gives a square layer of ``width`` units, σ_w² being the weights'
    variance times the width: PyTorch's nn.Linear default (kaiming_uniform with a = √5:
    U(±1/√fan_in), variance 1/(3 fan_in); biases U(±1/√fan_in) too), he (normal, 2/fan_in,
    biases 0), xavier (normal, 2/(fan_in + fan_out) = 1/fan_in for a square layer), lecun
    (1/fan_in)."""
    from .errors import InputError

    if scheme == "pytorch":
        if width is None:
            raise InputError(
                f"{arg('width')}: the pytorch scheme's bias variance is 1/(3 fan_in); give "
                f"{arg('width', 'N')}, the fan_in"
            )
        return Fraction(1, 3), Fraction(1, 3 * width)
    if width is not None:
        raise InputError(
            f"{arg('width')}: the {scheme} scheme does not depend on the width; give it with "
            f"{arg('init', 'pytorch')} only"
        )
    return {
        "he": (Fraction(2), Fraction(0)),
        "xavier": (Fraction(1), Fraction(0)),
        "lecun": (Fraction(1), Fraction(0)),
    }[scheme]
