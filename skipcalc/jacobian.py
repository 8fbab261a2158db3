"""Vector layers: each block's local derivative is a Jacobian matrix J_i, a residual
block's is I + J_i (the residual stream of a transformer). Products are exact; singular
values come from mpmath at 50 digits, with the exactly-zero ones found by exact rank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from .numbers import InputError, Number, check_exact_size, parse_number

Matrix = tuple[tuple[Fraction, ...], ...]
Vector = tuple[Fraction, ...]

MAX_DIM = 32
"""Largest d for exact --jacobian matrices (random ones go to 512)."""
SV_DIGITS = 50
"""mpmath precision for singular values (printed with 40; at least 30 are correct)."""

_SV_CONTEXT = Context(prec=SV_DIGITS)
_ROW = re.compile(r"\[([^\[\]]*)\]")


def parse_matrix(text: str, name: str) -> Matrix:
    """'[[0.1,0.2],[0,0.3]]' -> exact square matrix. Entries use the number syntax."""
    compact = "".join(text.split())
    if not (compact.startswith("[[") and compact.endswith("]]")) or len(compact) > 100_000:
        raise InputError(f"{name}: {text[:40]!r} is not a matrix; expected rows like [[0.1,0.2],[0,0.3]]")
    inner = compact[1:-1]
    rows = _ROW.findall(inner)
    if ",".join(f"[{r}]" for r in rows) != inner:
        raise InputError(f"{name}: {text[:40]!r} is not a matrix; expected rows like [[0.1,0.2],[0,0.3]]")
    matrix = tuple(tuple(parse_number(e, f"{name} row {i}") for e in row.split(",")) for i, row in enumerate(rows, 1))
    widths = {len(row) for row in matrix}
    if len(widths) != 1:
        raise InputError(f"{name}: rows of different lengths {sorted(widths)}; a Jacobian has rows of one length")
    if len(matrix) != len(matrix[0]):
        raise InputError(f"{name}: {len(matrix)}x{len(matrix[0])} is not square; a layer's Jacobian is d x d")
    if len(matrix) > MAX_DIM:
        raise InputError(f"{name}: d = {len(matrix)} is more than the {MAX_DIM} exact matrices accept")
    return matrix


def parse_vector(text: str, name: str) -> Vector:
    """'[1,-2]' -> exact vector."""
    compact = "".join(text.split())
    if not (compact.startswith("[") and compact.endswith("]")) or "[" in compact[1:-1] or len(compact) > 100_000:
        raise InputError(f"{name}: {text[:40]!r} is not a vector; expected [1,-2]")
    return tuple(parse_number(e, f"{name} entry {i}") for i, e in enumerate(compact[1:-1].split(","), 1))


def identity(d: int) -> Matrix:
    return tuple(tuple(Fraction(int(i == j)) for j in range(d)) for i in range(d))


def add(a: Matrix, b: Matrix) -> Matrix:
    return tuple(tuple(x + y for x, y in zip(ra, rb, strict=True)) for ra, rb in zip(a, b, strict=True))


def matmul(a: Matrix, b: Matrix) -> Matrix:
    columns = list(zip(*b, strict=True))
    return tuple(
        tuple(sum((x * y for x, y in zip(row, col, strict=True)), Fraction(0)) for col in columns) for row in a
    )


def transpose_times(m: Matrix, v: Vector) -> Vector:
    """m^T v: how a gradient row vector flows back through m."""
    return tuple(sum((m[i][j] * v[i] for i in range(len(v))), Fraction(0)) for j in range(len(m[0])))


def rank(m: Matrix) -> int:
    """Exact rank by Gaussian elimination over the rationals."""
    rows = [list(r) for r in m]
    r = 0
    for c in range(len(rows[0]) if rows else 0):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        for i in range(r + 1, len(rows)):
            factor = rows[i][c] / rows[r][c]
            if factor:
                rows[i] = [x - factor * y for x, y in zip(rows[i], rows[r], strict=True)]
        r += 1
    return r


def singular_values(m: Matrix) -> tuple[Number, ...]:
    """Largest first. mpmath's SVD at 50 digits; the d - rank smallest are exactly 0."""
    import mpmath

    d = len(m)
    zeros = d - rank(m)
    if zeros == d:
        return tuple(Fraction(0) for _ in range(d))
    with mpmath.workdps(SV_DIGITS):
        a = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in m])
        values = sorted((mpmath.mpf(v) for v in mpmath.svd_r(a, compute_uv=False)), reverse=True)
        exact_values: list[Number] = [Decimal(mpmath.nstr(v, SV_DIGITS, min_fixed=1, max_fixed=0)) for v in values]
    return tuple(exact_values[: d - zeros] + [Fraction(0)] * zeros)


@dataclass(frozen=True)
class Spectrum:
    singular_values: tuple[Number, ...]

    @property
    def spectral_norm(self) -> Number:
        return self.singular_values[0]

    @property
    def min_singular_value(self) -> Number:
        return self.singular_values[-1]

    @property
    def condition_number(self) -> Number | None:
        """sigma_max / sigma_min; None when the matrix is singular (infinite)."""
        low = self.min_singular_value
        if low == 0:
            return None
        return _SV_CONTEXT.divide(Decimal(self.spectral_norm), Decimal(low))


@dataclass(frozen=True)
class JacobianNetwork:
    """running[k] = dx_n/dx_k = F_n ... F_{k+1} (k = 0..n-1), F = J or I + J; gradient is
    running[0]; vector is the gradient vector reaching x_0 (backprop)."""

    name: str
    running: tuple[Matrix, ...]
    spectra: tuple[Spectrum, ...]
    vector: Vector | None = None

    @property
    def gradient(self) -> Matrix:
        return self.running[0]


@dataclass(frozen=True)
class JacobianResult:
    jacobians: tuple[Matrix, ...]
    networks: tuple[JacobianNetwork, ...]
    loss_gradient: Vector | None = None

    @property
    def command(self) -> str:
        return "chain" if self.loss_gradient is None else "backprop"


def jacobian_chain(
    jacobians: Sequence[Matrix], networks: Sequence[str], loss_gradient: Vector | None = None
) -> JacobianResult:
    d = len(jacobians[0])
    for i, j in enumerate(jacobians, start=1):
        if len(j) != d:
            raise InputError(f"--jacobian {i}: {len(j)}x{len(j)} does not match layer 1's {d}x{d}")
    if loss_gradient is not None and len(loss_gradient) != d:
        raise InputError(f"--loss-grad: a vector of {len(loss_gradient)} entries; the layers are {d}x{d}")
    bits = sum(x.numerator.bit_length() + x.denominator.bit_length() + d.bit_length() for j in jacobians for x in j[0])
    check_exact_size(bits * d, "--jacobian", f"the exact products of these {len(jacobians)} layers")
    eye = identity(d)
    nets = []
    for name in networks:
        factors = [add(eye, j) if name == "residual" else j for j in jacobians]
        running = [eye]
        for factor in reversed(factors):  # dx_n/dx_{k} = (dx_n/dx_{k+1}) F_{k+1}
            running.append(matmul(running[-1], factor))
        running = running[:0:-1]  # k = 0..n-1
        vector = None if loss_gradient is None else transpose_times(running[0], loss_gradient)
        nets.append(JacobianNetwork(name, tuple(running), tuple(Spectrum(singular_values(m)) for m in running), vector))
    return JacobianResult(tuple(jacobians), tuple(nets), loss_gradient)


# ---------------------------------------------------------------------------
# Random Jacobians (floats, numpy)


@dataclass(frozen=True)
class RandomJacobianResult:
    dim: int
    layers: int
    scale: Fraction
    seed: int
    # per depth k = 1..n, the running product from the input side, J_k ... J_1
    plain: tuple[tuple[float, ...], ...]  # singular values, largest first
    residual: tuple[tuple[float, ...], ...]


def random_jacobians(
    dim: int, layers: int, scale: Fraction, seed: int, networks: Sequence[str]
) -> RandomJacobianResult:
    """Gaussian J_i with entries of variance scale^2/dim (He/Xavier-style), reproducible by
    seed. numpy: 64 x 64 x 50 layers in exact or 50-digit arithmetic would take minutes."""
    if not 1 <= dim <= 512:
        raise InputError(f"--dim: {dim} is not accepted; expected 1 to 512")
    if not 1 <= layers <= 1000:
        raise InputError(f"--layers: {layers} is not accepted; expected 1 to 1000")
    if not 0 <= scale <= 100:
        raise InputError(f"--scale: {scale} is not accepted; expected 0 to 100")
    import numpy as np

    rng = np.random.default_rng(seed)
    eye = np.eye(dim)
    plain_product, residual_product = eye.copy(), eye.copy()
    plain, residual = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(layers):
            j = rng.normal(0.0, float(scale) / np.sqrt(dim), size=(dim, dim))
            plain_product = j @ plain_product
            residual_product = (eye + j) @ residual_product
            plain.append(_svd(np, plain_product))
            residual.append(_svd(np, residual_product))
    return RandomJacobianResult(dim, layers, scale, seed, tuple(plain), tuple(residual))


def _svd(np: object, m: object) -> tuple[float, ...]:
    import numpy

    if not numpy.all(numpy.isfinite(m)):
        return tuple(float("inf") for _ in range(len(m)))  # type: ignore[arg-type]
    return tuple(float(v) for v in numpy.linalg.svd(m, compute_uv=False))
