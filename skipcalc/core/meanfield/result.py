"""A mean-field call's result, assembled from its parts: the critical line at each σ_b²
(``critical_result``), or one setting's theory and each network's pass, with two inputs'
correlations and random networks measured beside them when asked (``setting_result``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from ..results import MeanFieldResult
from .activations import Activation
from .model import Setting

THEORY_FIELDS = ("q_star", "q_reason", "chi1", "sqrt_chi1", "c_star", "chi_c", "xi_q", "xi_c", "phase", "c_reason")
"""The fixed-point quantities a MeanFieldResult carries from the theory, under the same names."""


@dataclass(frozen=True)
class Simulation:
    """Random networks to measure beside the prediction: ``trials`` draws of ``width`` units,
    from ``seed``, with gaussian or orthogonal ``weights``."""

    width: int
    trials: int
    seed: int
    weights: str


def critical_result(act: Activation, bias_vars: tuple[Fraction, ...], digits: int) -> MeanFieldResult:
    """The σ_w² with χ₁ = 1 at each σ_b², certified to ``digits``."""
    from .critical import critical_line

    return MeanFieldResult(
        act=act.name,
        weight_var=None,
        bias_var=bias_vars,
        input_var=Fraction(1),
        layers=0,
        digits=digits,
        critical=tuple(critical_line(act, bias_vars, digits)),
    )


def setting_result(
    setting: Setting,
    digits: int,
    input_corr: Fraction | None = None,
    simulation: Simulation | None = None,
    init: str | None = None,
) -> MeanFieldResult:
    """One setting's theory (to ``digits``) and each network's pass; with ``input_corr``, two
    inputs of that correlation followed through each network; with ``simulation``, random
    networks measured beside it. ``init`` names the scheme σ_w² and σ_b² came from."""
    from .theory import theory_and_networks

    theory, nets = theory_and_networks(setting, digits)
    if input_corr is not None:
        from .pairs import input_correlations

        pairs = input_correlations(setting, input_corr, digits)
        nets = [replace(net, correlation=c) for net, c in zip(nets, pairs, strict=True)]
    measured = None
    if simulation is not None:
        from .simulate import simulate

        measured = simulate(setting, simulation.width, simulation.trials, simulation.seed, simulation.weights)
    return MeanFieldResult(
        act=setting.act.name,
        weight_var=setting.weight_var,
        bias_var=(setting.bias_var,),
        input_var=setting.input_var,
        layers=setting.layers,
        digits=digits,
        **{name: getattr(theory, name) for name in THEORY_FIELDS},
        networks=tuple(nets),
        simulation=measured,
        norm=setting.norm,
        init=init,
        branch=setting.branch,
        input_corr=input_corr,
    )
