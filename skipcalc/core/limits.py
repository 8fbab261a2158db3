"""The limits the interface declares: how large an input each command accepts. Kept apart
from the math so the declaration of the command line and the API (skipcalc/options.py) reads
them without importing the modules that use them; each is explained where it bounds work."""

MAX_LAYERS = 2_000_000
"""Most layers one chain accepts (chains.py: a million layers of 0.1 answer in seconds)."""

MAX_ROWS = 5000
"""Most depths one depth sweep lists."""

MAX_LISTED_DEPTH = 1_000_000
"""Deepest depth a depth sweep's row may ask for."""

MAX_PATH_LAYERS = 5000
"""Most layers a split by path length accepts: its rows print the exact path counts C(n,k),
about n^2/5 digits in all (5.4 million for 5,000 layers, written in 1.4 s)."""

MAX_FORMULA_LAYERS = 200
"""Most formula layers (--fn) one chain accepts."""

MAX_DIM = 32
"""Largest d of an exact --jacobian matrix."""

RANDOM_DIM = 512
"""Largest d of --random-jacobians."""

RANDOM_LAYERS = 1000
"""Most layers of --random-jacobians."""

RANDOM_SCALE = 100
"""Largest --scale of --random-jacobians."""

MAX_SEED = 2**63 - 1
"""Largest --seed."""

MAX_DIGITS = 40
"""Most significant digits a rounded value prints (--digits)."""

MAX_INIT_LAYERS = 10**9
"""Largest layer or branch count the init constants take (closed forms: any size is cheap)."""

MAX_FAN = 10**12
"""Largest --fan-in / --fan-out."""

MAX_STOCHASTIC_LAYERS = 1_000_000
"""Most blocks init stochastic-depth lists, one row each."""

MAX_MEANFIELD_LAYERS = 100_000
"""Layers meanfield follows (the work limit refuses fewer where each layer needs a quadrature)."""
MAX_CRITICAL = 1000
"""σ_b² values one --critical call takes (a list or range)."""
MAX_WIDTH = 10**7
MAX_TRIALS = 10_000
"""The simulation's width and trials (the work limit bounds their product with the layers)."""
