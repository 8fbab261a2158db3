"""Mean-field signal propagation at initialization: where a wide network's local derivative
comes from (Poole et al. 2016; Schoenholz et al. 2017; Yang and Schoenholz 2017).

A fully connected network of width N -> infinity, weights N(0, σ_w²/N), biases N(0, σ_b²), and
pre-activations x_k = W_k φ(x_{k-1}) + b_k (x_0 of variance q_0). Its units are Gaussian with
variance q_k, the length map

    q_k = σ_w² E[φ(√q_{k-1} z)²] + σ_b²,        z ~ N(0, 1),

and the mean squared gradient changes by χ(q_{k-1}) = σ_w² E[φ′(√q_{k-1} z)²] per layer, so
√χ plays the "local derivative" of the note on residual connections. A block
x_k = a x_{k-1} + b (W φ(x_{k-1}) + b_k) has q_k = a² q_{k-1} + b² (σ_w² E[φ²] + σ_b²) and
factor a² + b² χ (stochastic depth's gate is Bernoulli(p), so E[b²] = p).

Every Gaussian expectation is a double-exponential (exp-sinh) quadrature in gmpy2's MPFR
arithmetic with 10 guard digits, the activation's values cached at the nodes of each
power-of-two scale, checked against the same sum at twice the step; the whole computation runs
again at a finer step when a check fails (refused when none passes). relu and
linear have closed forms in q, so their answers are exact; erf's are closed forms with arcsin
and square roots. This module imports no SymPy unless ``--act`` is a formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from gmpy2 import mpfr

from ..errors import InputError, arg
from .activations import WORK, Activation, _mp, working_precision
from .certify import GUARD, _depth_scale, _more_digits, _phase, _root, agreed_digits, certain, computed, error_bound
from .correlation import PAIR_DIGITS, PAIR_DPS, PAIR_LEVEL, TooCostly, correlation
from .enclosure import confirm
from .model import MeanFieldNetwork, Model, Setting
from .quadrature import fresh_budget


@dataclass(frozen=True)
class Theory:
    """The fixed-point quantities (None where they do not exist, with the reason)."""

    q_star: Any
    q_reason: str | None
    chi1: Any
    c_star: Any
    chi_c: Any
    xi_q: Any
    xi_c: Any
    phase: str | None  # None: no fixed point, and χ changes with q
    chi_q: Any
    sqrt_chi1: Any = None  # √χ₁, from χ₁ before it is rounded
    c_reason: str | None = None  # why c* and χ_c were not computed


def theory_and_networks(setting: Setting, digits: int) -> tuple[Theory, list[MeanFieldNetwork]]:
    """The fixed-point quantities and each block's pass, certified to ``digits``: computed at
    ``digits`` plus guard digits (more where χ₁ or χ_q is so close to 1 that the phase or ξ needs
    them), each value then held with its error bound and rounded once, when shown."""
    fresh_budget()
    act, weight_var, bias_var, input_var = setting.act, setting.weight_var, setting.bias_var, setting.input_var
    layers, blocks, norm, branch = setting.layers, setting.blocks, setting.norm, setting.branch
    if not act.closed and layers * len(blocks) * 600 > WORK:
        raise InputError(
            f"{arg('layers')}: {layers:,} layers of {len(blocks)} networks need about {layers * len(blocks) * 600:,} "
            f"quadrature terms, more than the {WORK:,} one call makes; give fewer layers or blocks"
        )

    exact = not act.closed or _exact_bits(weight_var, bias_var, input_var, layers, len(blocks)) <= EXACT_BITS
    if branch == "post-act" and act.closed:
        exact = False  # relu's mean √(q/2π) is irrational: carried at the working precision

    def compute(level: int, dps: int) -> list[Any]:
        model = Model(act, weight_var, bias_var, level, dps, exact)
        q_star, reason, chi1, chi_q = model.fixed_point(input_var)
        if branch == "post-act":
            nets = [model.post_act(block, input_var, layers) for block in blocks]
        else:
            nets = [model.network(block, input_var, layers, norm) for block in blocks]
        return [q_star, chi1, chi_q, nets, reason]

    guard = GUARD + math.ceil(math.log10(4 * layers + 8))
    extra = 0
    while True:
        dps = digits + guard + extra
        q_star, chi1, chi_q, nets, reason = computed(compute, dps)
        if act.closed:
            break  # relu and linear: χ does not depend on q, and is exact (σ_w²/2, σ_w²)
        more = _more_digits(chi1, chi_q, error_bound(dps, layers), digits)
        if more <= extra or extra >= 60:
            break
        extra = min(more, 60)
    error = error_bound(dps, layers)
    confirm(act, [input_var, q_star, 1 if norm != "none" else None])
    if q_star == 0 and act.slope0 is not None:  # every unit at 0: χ₁ = χ_q = σ_w² φ′(0)², exactly
        chi1 = chi_q = weight_var * act.slope0**2
    with working_precision(dps):
        networks = [
            MeanFieldNetwork(
                n.block,
                q=tuple(certain(v, error, digits) for v in n.q),
                factors=tuple(certain(v, error, digits) for v in n.factors),
                wrt=tuple(certain(v, error, digits) for v in n.wrt),
                local=tuple(_root(f, error, digits) for f in n.factors),
                update=tuple(_root(u, error, digits) for u in n.update),
                cos=tuple(_root(c, error, digits) for c in n.cos),
            )
            for n in nets
        ]
        if chi1 is None:  # no fixed point, and χ depends on q (relu and linear's do not: they have one)
            return Theory(None, reason, None, None, None, None, None, None, None), networks
        phase = _phase(chi1, error)
        c_star: Any = Fraction(1)
        chi_c: Any = chi1  # at c* = 1 the correlation map's slope is χ₁
        c_reason = None
        if phase == "chaotic" and q_star is not None:
            c_star, chi_c, c_reason = _correlation_fixed_point(act, weight_var, bias_var, q_star, chi1)
        xi_q = _depth_scale(chi_q, error, digits) if q_star is not None else None
        xi_c = _depth_scale(chi_c, error if chi_c is chi1 else PAIR_ERROR, digits)
        return (
            Theory(
                certain(q_star, error, digits),
                reason,
                certain(chi1, error, digits),
                c_star,
                certain(chi_c, error if chi_c is chi1 else PAIR_ERROR, digits if chi_c is chi1 else PAIR_DIGITS),
                xi_q,
                xi_c,
                phase,
                certain(chi_q, error, digits),
                _root(chi1, error, digits),
                c_reason,
            ),
            networks,
        )


EXACT_BITS = 40_000_000
"""The most bits relu's and linear's exact q_k and gradients may hold in all (about two seconds):
each layer's fractions are as long as the last's and the weights' parts together, so L layers
hold about L² times that; beyond, they are carried with the working digits, as the others are."""


def _exact_bits(weight_var: Fraction, bias_var: Fraction, input_var: Fraction, layers: int, networks: int) -> int:
    """About how many bits relu's or linear's exact passes hold: per network, the q_k and the
    gradients, each about k times the weight's and the bias's parts long."""
    per_layer = sum(x.numerator.bit_length() + x.denominator.bit_length() for x in (weight_var, bias_var, input_var))
    return networks * layers * layers * (per_layer + 2)


PAIR_ERROR = Decimal(10) ** -(PAIR_DIGITS + 1)
"""The relative error bound of χ_c from the two-dimensional grid (two grids agree to 11 digits)."""


PAIR_WORK = 2_000_000
"""Pairs (z₁, z₂) at which φ and φ′ are evaluated for c* and χ_c (about ten seconds)."""


def _correlation_fixed_point(
    act: Activation, weight_var: Fraction, bias_var: Fraction, q_star: Any, chi1: Any
) -> tuple[Any, Any, str | None]:
    """(c*, χ_c, None) in the chaotic phase, from the two-dimensional grid at two steps; or
    (None, None, why) when the grids would take more than PAIR_WORK evaluations: their step
    shrinks as 1/√q*, and the correlation map takes about three evaluations of each."""
    step = 2.0**-PAIR_LEVEL / max(1.0, math.sqrt(float(q_star)))
    n = math.ceil(math.sqrt(2 * (PAIR_DPS + 5) * math.log(10)) / step)
    pairs = (3 * (2 * n + 1) ** 2 + 3 * (4 * n + 1) ** 2) * (3 if act.text else 1)
    if pairs > PAIR_WORK:
        return (
            None,
            None,
            (
                f"not computed: at q* = {float(q_star):.4g} its two-dimensional integral needs about {pairs:,} "
                f"evaluations, more than the {PAIR_WORK:,} one call makes (about ten seconds)"
            ),
        )
    budget = [PAIR_WORK]
    with working_precision(PAIR_DPS):
        runs: list[tuple[Any, Any]] = []
        for level in (PAIR_LEVEL, PAIR_LEVEL + 1):  # the finer grid starts from the coarser's c*
            model = Model(act, weight_var, bias_var, level, PAIR_DPS)
            start = runs[0][0] if runs else 0
            try:
                runs.append(correlation(model, _mp(q_star), _mp(chi1), PAIR_DIGITS, start, budget))
            except TooCostly:
                return (
                    None,
                    None,
                    (
                        f"not computed: the correlation map did not settle within the {PAIR_WORK:,} evaluations of "
                        "its two-dimensional integral one call makes (about ten seconds)"
                    ),
                )
    (c1, x1), (c2, x2) = runs
    if abs(_mp(c1) - _mp(c2)) > mpfr(10) ** -(PAIR_DIGITS + 1) or agreed_digits(x1, x2) < PAIR_DIGITS + 1:
        raise InputError(f"{arg('weight_var')}: c* could not be certified here (the two-dimensional integral)")
    c_star, chi_c = runs[1]
    if isinstance(c_star, Fraction):
        return c_star, chi_c, None
    # a correlation: its digits are absolute ones
    return Decimal(format(c_star, ".30f")).quantize(Decimal(10) ** -PAIR_DIGITS), chi_c, None
