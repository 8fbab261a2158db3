"""The estimators: root mean square singular values from vector-Jacobian products, the largest
singular value by Lanczos on JᵀJ, and the forward measures (relative update, cosines).

Nothing here forms a Jacobian: each estimate costs a few products of one vector with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..core.results import Estimate

LANCZOS_STEPS = 24
"""Lanczos steps on JᵀJ per block (fewer when the Ritz value has settled to 1e-7, or when a
sample has fewer dimensions): the largest Ritz value is within 1 % of σ_max² long before."""


@lru_cache(maxsize=64)
def t975(df: int) -> float:
    """Student's t quantile 0.975 with ``df`` degrees of freedom (mpmath: the regularized
    incomplete beta function, solved for the quantile)."""
    import mpmath

    with mpmath.workdps(20):
        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        for _ in range(70):  # bisection: I_x(df/2, 1/2) rises with x; P(|T| > t) = I_x, x = df/(df + t²)
            mid = (lo + hi) / 2
            if mpmath.betainc(mpmath.mpf(df) / 2, 0.5, 0, mid, regularized=True) < 0.05:
                lo = mid
            else:
                hi = mid
        x = (lo + hi) / 2
        return float(mpmath.sqrt(df * (1 - x) / x))


def estimate(ratios: Sequence[float]) -> Estimate:
    """√ of the mean of ``ratios`` (each ‖Jᵀv‖²/‖v‖²), with its 95 % interval, square-rooted.
    All equal (a zero branch: all 0; an identity: all 1): that value, exactly."""
    n = len(ratios)
    mean = math.fsum(ratios) / n
    if all(r == ratios[0] for r in ratios):
        root = math.sqrt(ratios[0])
        return Estimate(root, root, root)
    spread = math.sqrt(math.fsum((r - mean) ** 2 for r in ratios) / (n - 1))
    half = t975(n - 1) * spread / math.sqrt(n)
    return Estimate(math.sqrt(mean), math.sqrt(max(mean - half, 0.0)), math.sqrt(mean + half))


def squared_norm(x: Any) -> float:
    return float(x.detach().double().pow(2).sum())


def ratio(pulled: Any, pushed: Any) -> float:
    """‖pulled‖²/‖pushed‖²: one probe's ratio (exactly 1 when the two are the same vector)."""
    if pulled is None:
        return 0.0
    return squared_norm(pulled) / squared_norm(pushed)


def vjp(output: Any, x: Any, v: Any, create_graph: bool = False) -> Any:
    """vᵀJ of ``output`` with respect to ``x`` (0 where ``output`` does not depend on it)."""
    import torch

    (g,) = torch.autograd.grad(output, x, v, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def jvp(output: Any, x: Any, v: Any) -> Any:
    """J v by the double-vjp trick (vᵀJ is linear in v: its vjp with v is J v), which needs only
    backward formulas, where forward-mode AD may be missing."""
    import torch

    u = torch.zeros_like(output, requires_grad=True)
    g = vjp(output, x, u, create_graph=True)
    (jv,) = torch.autograd.grad(g, u, v, retain_graph=True, allow_unused=True)
    return torch.zeros_like(output) if jv is None else jv


def sigma_max(output: Any, x: Any, per_sample: bool, generator: Any) -> float:
    """The largest singular value of the Jacobian of ``output`` by ``x``, per sample (the
    maximum over the batch) or of the whole batch: Lanczos on JᵀJ with full
    reorthogonalization, batched over the samples."""
    import torch

    batch = x.shape[0] if per_sample and x.dim() > 1 else 1
    flat = x.detach().reshape(batch, -1).double()
    size = flat.shape[1]
    steps = min(LANCZOS_STEPS, size)

    def apply(q: Any) -> Any:
        v = q.to(x.dtype).reshape(x.shape)
        return vjp(output, x, jvp(output, x, v)).reshape(batch, -1).double()

    q = torch.randn(flat.shape, generator=generator, dtype=torch.float64)
    q /= q.norm(dim=1, keepdim=True)
    basis = [q]
    alphas: list[Any] = []
    betas: list[Any] = []
    previous = torch.zeros(batch, dtype=torch.float64)
    for step in range(steps):
        w = apply(basis[-1])
        alphas.append((w * basis[-1]).sum(1))
        for _ in range(2):  # full reorthogonalization, twice
            for b in basis:
                w = w - (w * b).sum(1, keepdim=True) * b
        ritz = _largest_ritz(alphas, betas)
        if step > 2 and bool(((ritz - previous).abs() <= 1e-7 * ritz.abs().clamp_min(1e-300)).all()):
            break
        previous = ritz
        beta = w.norm(dim=1)
        if step + 1 == steps or bool((beta <= 1e-12 * ritz.abs().clamp_min(1e-300).sqrt()).all()):
            break
        betas.append(beta)
        basis.append(torch.where(beta[:, None] > 0, w / beta.clamp_min(1e-300)[:, None], torch.zeros_like(w)))
    return float(_largest_ritz(alphas, betas).clamp_min(0).sqrt().max())


def _largest_ritz(alphas: list[Any], betas: list[Any]) -> Any:
    import torch

    k = len(alphas)
    t = torch.diag_embed(torch.stack(alphas, 1))
    if k > 1:
        off = torch.stack(betas[: k - 1], 1)
        t = t + torch.diag_embed(off, 1) + torch.diag_embed(off, -1)
    return torch.linalg.eigvalsh(t)[:, -1]


def cosine_to(y: Any, x0: Any) -> float | None:
    """The mean over samples of cos(y, x0), each sample flattened (None when shapes differ)."""
    if y.shape != x0.shape:
        return None
    a, b = y.detach().reshape(y.shape[0], -1).double(), x0.detach().reshape(x0.shape[0], -1).double()
    norms = a.norm(dim=1) * b.norm(dim=1)
    cos = (a * b).sum(1) / norms.clamp_min(1e-300)
    return float(cos.mean())


def token_cosine(y: Any) -> float | None:
    """For (batch, tokens, features): the mean over samples of the mean cosine between distinct
    tokens (1 when every token is the same direction: rank collapse)."""
    if y.dim() != 3 or y.shape[1] < 2:
        return None
    t = y.shape[1]
    unit = y.detach().double()
    unit = unit / unit.norm(dim=2, keepdim=True).clamp_min(1e-300)
    total = unit.sum(1).pow(2).sum(1)  # Σ_{s,t} cos(y_s, y_t), the diagonal included
    return float(((total - t) / (t * (t - 1))).mean())


def relative_update(update: Any, x: Any) -> float:
    return math.sqrt(squared_norm(update) / max(squared_norm(x), 1e-300))


def chained(starts: Sequence[Any], steps: Sequence[Callable[[Any], Any]]) -> list[list[float]]:
    """Push each probe back through ``steps`` (the last block's first): ratios[k][i] =
    ‖v_i pulled back to block k's input‖²/‖v_i‖², k in the blocks' order."""
    out: list[list[float]] = [[] for _ in steps]
    for v in starts:
        w = v
        for k in range(len(steps) - 1, -1, -1):
            w = steps[k](w)
            out[k].append(ratio(w, v))
    return out
