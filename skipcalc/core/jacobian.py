"""Vector layers: each block's local derivative is a Jacobian matrix J_k, and a block
a*x + b*F(x) has a*I + b*J_k (a residual block I + J_k: the residual stream of a
transformer). Products are exact; singular values are certified to 50 digits (mpmath at two
precisions that must agree), with the exactly-zero ones found from the exact rank.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from . import kernels
from .blocks import Block, factor_matrix
from .errors import InputError, arg
from .exact import Number, certify_all, parse_number, quote
from .limits import MAX_DIM, RANDOM_LAYERS
from .results import JacobianNetwork, JacobianResult, Matrix, RandomJacobianResult, RandomNetwork, Spectrum, Vector

SVD_WORK = 60_000
"""Bound on the certified singular values' work, the sum of d^3 over the matrices whose
spectra are shown (per layer and network): about 4 s here (d = 32: 2 matrices; d = 4: 900)."""

EXACT_BITS = 4 * 10**8
"""Bound on the bits of the exact running products' entries, all together (50 MB)."""

_ROW = re.compile(r"\[([^\[\]]*)\]")


def to_matrix(rows: Any, name: str) -> Matrix:
    """A matrix given as rows of ordinary numbers (lists, tuples or a 2-D numpy array)."""
    from .exact import to_numbers

    try:
        matrix = tuple(tuple(to_numbers(row, f"{name} row {i} entry ")) for i, row in enumerate(rows, 1))
    except TypeError:
        raise InputError(
            f"{name}: {quote(repr(rows))} is not a matrix; expected rows like [[0.1, 0.2], [0, 0.3]]"
        ) from None
    return _square(matrix, name)


def parse_matrix(text: str, name: str) -> Matrix:
    """'[[0.1,0.2],[0,0.3]]' -> exact square matrix. Entries use the number syntax."""
    compact = "".join(text.split())
    shape = "expected rows like [[0.1,0.2],[0,0.3]]"
    if not (compact.startswith("[[") and compact.endswith("]]")) or len(compact) > 100_000:
        raise InputError(f"{name}: {quote(text)} is not a matrix; {shape}")
    inner = compact[1:-1]
    rows = _ROW.findall(inner)
    if ",".join(f"[{r}]" for r in rows) != inner:
        raise InputError(f"{name}: {quote(text)} is not a matrix; {shape}")
    matrix = tuple(tuple(parse_number(e, f"{name} row {i}") for e in row.split(",")) for i, row in enumerate(rows, 1))
    return _square(matrix, name)


def _square(matrix: Matrix, name: str) -> Matrix:
    """The matrix, refused unless it is square and at most MAX_DIM wide."""
    if not matrix or not matrix[0]:
        raise InputError(f"{name}: an empty matrix; a Jacobian is d x d with d >= 1")
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
        raise InputError(f"{name}: {quote(text)} is not a vector; expected [1,-2]")
    return tuple(parse_number(e, f"{name} entry {i}") for i, e in enumerate(compact[1:-1].split(","), 1))


def identity(d: int) -> Matrix:
    return tuple(tuple(Fraction(int(i == j)) for j in range(d)) for i in range(d))


def matmul(a: Matrix, b: Matrix) -> Matrix:
    """a b, in the rationals a and b hold (Fractions, or GMP's for big entries)."""
    columns = list(zip(*b, strict=True))
    return tuple(tuple(sum([x * y for x, y in zip(row, col, strict=True)]) for col in columns) for row in a)


def transpose_times(m: Matrix, v: Vector) -> Vector:
    """m^T v: how a gradient row vector flows back through m."""
    return tuple(sum([m[i][j] * v[i] for i in range(len(v))], Fraction(0)) for j in range(len(m[0])))


BIG_ENTRIES = 2_000
"""Bits from which exact matrix arithmetic goes to GMP's rationals (gmpy2.mpq): CPython's
Fraction spends its time in quadratic gcds (three 2 x 2 layers with an entry of 1e-100000: 22 s,
12 of them in gcd; 0.3 s with mpq)."""


def _gmp(m: Matrix) -> Any:
    import gmpy2

    return tuple(tuple(gmpy2.mpq(x.numerator, x.denominator) for x in row) for row in m)


def _fractions(m: Any) -> Matrix:
    return tuple(tuple(kernels.coprime(int(x.numerator), int(x.denominator)) for x in row) for row in m)


def _bits(m: Matrix) -> int:
    return max(x.numerator.bit_length() + x.denominator.bit_length() for row in m for x in row)


def rank(m: Matrix) -> int:
    """Exact rank by Gaussian elimination over the rationals."""
    rows = [list(r) for r in (_gmp(m) if _bits(m) > BIG_ENTRIES else m)]
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


def spectrum(m: Matrix) -> Spectrum:
    """Singular values, largest first: the d - rank smallest exactly 0, the rest certified
    (mpmath's SVD at rising precision until two agree to 55 digits); a 1 x 1 matrix's is |m|."""
    d = len(m)
    if d == 1:
        value = abs(m[0][0])
        return Spectrum((value,), None if value == 0 else Fraction(1))
    zeros = d - rank(m)
    if zeros == d:
        return Spectrum(tuple(Fraction(0) for _ in range(d)), None)
    import mpmath

    def evaluate(digits: int) -> list[object]:
        with mpmath.workdps(digits):
            a = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in m])
            values = sorted(mpmath.svd_r(a, compute_uv=False), reverse=True)
            top = values[: d - zeros]
            if zeros:
                return top
            # The smallest can come out 0 at a precision too low for it (it is not: the rank is
            # full); an inexact 0 never certifies, so the precision rises until it is seen.
            return [*top, top[0] / top[-1] if top[-1] else mpmath.mpf(0)]

    certified = certify_all(evaluate, f"{arg('jacobian')} singular values", start=60)
    values: list[Number] = certified[: d - zeros] + [Fraction(0)] * zeros
    return Spectrum(tuple(values), certified[-1] if zeros == 0 else None)


def jacobian_chain(
    jacobians: Sequence[Matrix],
    blocks: Sequence[Block],
    loss_gradient: Vector | None = None,
    per_layer: bool = True,
    spectra: bool = True,
    blocks_given: bool = False,
) -> JacobianResult:
    """Every network's running products dx_n/dx_k; the spectra of those shown (all, or only
    the full product's when ``per_layer`` is False, none when ``spectra`` is False)."""
    d = len(jacobians[0])
    for i, j in enumerate(jacobians, start=1):
        if len(j) != d:
            raise InputError(f"{arg('jacobian')} {i}: {len(j)}x{len(j)} does not match layer 1's {d}x{d}")
    if loss_gradient is not None and len(loss_gradient) != d:
        raise InputError(f"{arg('loss_grad')}: a vector of {len(loss_gradient)} entries; the layers are {d}x{d}")
    n = len(jacobians)
    # An entry of a product grows by about the widest entry's bits (plus log2 d) per layer; the
    # n running products hold d^2 entries of up to n times that.
    growth = max(x.numerator.bit_length() + x.denominator.bit_length() for j in jacobians for row in j for x in row)
    growth += 2 * d.bit_length() + 2
    if d * d * n * n * growth // 2 > EXACT_BITS:
        hint = "chain D1 ... Dn takes 1x1 layers by the million" if d == 1 else "use fewer or simpler layers"
        raise InputError(
            f"{arg('jacobian')}: the exact running products of these {n:,} layers would hold about "
            f"{d * d * n * n * growth // 7:,} digits in all, more than skipcalc builds; {hint}"
        )
    shown = (n if per_layer else 1) * len(blocks) if spectra else 0
    if d > 1 and shown * d**3 > SVD_WORK:
        raise InputError(
            f"{arg('jacobian')}: certifying the singular values of {shown:,} products of size {d}x{d} would take "
            f"too long (d^3 x products > {SVD_WORK:,}); use fewer layers, a smaller d, or --format value "
            "(which needs only each full product's)"
        )
    big = growth * n > BIG_ENTRIES
    eye = identity(d)
    nets = []
    for block in blocks:
        factors = [factor_matrix(a, b, j) for (a, b), j in zip(block.coefficients(n), jacobians, strict=True)]
        running = [_gmp(eye) if big else eye]
        for factor in reversed(factors):  # dx_n/dx_k = (dx_n/dx_{k+1}) F_{k+1}: the backward pass
            running.append(matmul(running[-1], _gmp(factor) if big else factor))
        running = [_fractions(m) for m in running[:0:-1]] if big else running[:0:-1]  # k = 0..n-1
        vector = None if loss_gradient is None else transpose_times(running[0], loss_gradient)
        wanted = running if per_layer else running[:1]
        nets.append(
            JacobianNetwork(block, tuple(running), tuple(spectrum(m) for m in wanted) if spectra else (), vector)
        )
    return JacobianResult(tuple(jacobians), tuple(nets), loss_gradient, blocks_given)


# ---------------------------------------------------------------------------
# Random Jacobians (floats, numpy)

RANDOM_WORK = 6 * 10**9
"""Bound on d^3 times the SVDs a random run makes (layers x networks): about 4 s here."""


def random_jacobians(
    dim: int,
    layers: int,
    scale: Fraction,
    seed: int,
    blocks: Sequence[Block],
    blocks_given: bool = False,
    weights: str = "gaussian",
) -> RandomJacobianResult:
    """Gaussian J_k with entries of variance scale^2/dim (He/Xavier-style), or ``orthogonal``
    ones (scale times a Haar matrix: the QR of a Gaussian matrix, signs fixed), reproducible by
    seed; the singular values of each network's running product J_k ... J_1 at every depth, and
    the theory beside them (:func:`spectrum_theory`)."""
    if not 1 <= layers <= RANDOM_LAYERS:
        raise InputError(
            f"{arg('layers')}: {layers:,} is not accepted with {arg('random_jacobians', True)}; expected 1 "
            f"to {RANDOM_LAYERS:,}"
        )
    if dim**3 * layers * len(blocks) > RANDOM_WORK:
        raise InputError(
            f"{arg('random_jacobians', True)}: {layers:,} layers of {dim}x{dim} SVDs for {len(blocks)} "
            f"networks would take "
            f"too long (d^3 x layers x networks > {RANDOM_WORK:.0e}); use fewer layers or a smaller {arg('dim')}"
        )
    np = load_numpy()
    rng = np.random.default_rng(seed)
    eye = np.eye(dim)
    products = [eye.copy() for _ in blocks]
    coefficients = [block.coefficients(layers) for block in blocks]
    spectra: list[list[tuple[float, ...]]] = [[] for _ in blocks]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(layers):
            j = rng.normal(0.0, float(scale) / np.sqrt(dim), size=(dim, dim))
            if weights == "orthogonal":
                q, r = np.linalg.qr(j)
                j = float(scale) * q * np.sign(np.diag(r))  # Haar: the signs of R's diagonal folded into Q
            for i in range(len(blocks)):
                a, b = coefficients[i][k]
                products[i] = (float(a) * eye + float(b) * j) @ products[i]
                spectra[i].append(_svd(np, products[i]))
    nets = tuple(
        RandomNetwork(block, tuple(s), spectrum_theory(block, layers, scale, weights))
        for block, s in zip(blocks, spectra, strict=True)
    )
    return RandomJacobianResult(dim, layers, scale, seed, nets, blocks_given, weights)


def spectrum_theory(block: Block, layers: int, scale: Fraction, weights: str) -> tuple[Fraction, Fraction | None]:
    """(the mean, the variance) of the squared singular values of the product at full depth, in
    the wide limit (Pennington, Schoenholz and Ganguli 2017): the mean is the product of
    a_k² + b_k² s² over the layers (I + J: (1 + s²)^L), exactly, for Gaussian and orthogonal J
    alike; the variance, for a plain product, L s^(4L) (Gaussian: the Fuss-Catalan second moment
    L + 1) or 0 (orthogonal: every singular value is s^L); None where no closed form is used."""
    s2 = scale * scale
    mean = Fraction(1)
    for a, b in block.coefficients(layers):
        mean *= a * a + b * b * s2
    variance: Fraction | None = None
    if block.kind == "plain":
        variance = Fraction(0) if weights == "orthogonal" else layers * s2 ** (2 * layers)
    return mean, variance


def load_numpy() -> Any:
    """numpy, with its BLAS on one thread: skipcalc's products are small, and threads
    oversubscribe a small machine (0.77 s against minutes for 128 x 128 x 200 on 2 cores)."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import numpy

    return numpy


def _svd(np: Any, m: Any) -> tuple[float, ...]:
    if not np.all(np.isfinite(m)):
        return tuple(float("inf") for _ in range(len(m)))
    return tuple(float(v) for v in np.linalg.svd(m, compute_uv=False))
