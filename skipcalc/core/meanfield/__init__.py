"""Mean-field signal propagation at initialization: where a wide network's local derivative
comes from (Poole et al. 2016; Schoenholz et al. 2017; Yang and Schoenholz 2017).

- activations: φ, φ′, φ″ of a named activation or a formula, at the working precision;
- quadrature: the Gaussian expectations, checked at steps h and 2h (closed forms where they exist);
- theory: the length map, its fixed point, χ₁ and each network's pass, layer by layer;
- correlation: c* and χ_c of two inputs; critical: the critical line;
- certify: every value held at working precision with its error bound, rounded once when shown;
- simulate: real random networks of finite width beside the prediction.
"""

from .activations import NAMES, Activation, activation
from .critical import critical_line
from .model import MeanFieldNetwork
from .theory import Theory, theory_and_networks

__all__ = ["NAMES", "Activation", "MeanFieldNetwork", "Theory", "activation", "critical_line", "theory_and_networks"]
