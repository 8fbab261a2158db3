"""Scale: `skipcalc chain - --format json` with many layers on stdin, against the 3-layer call.

Run: python benchmarks/scale.py [layers ...]   (skipcalc on PATH). Reports wall time and
peak memory (ru_maxrss of the child) per run, for layers of 0.1 and for layers drawn from
nine different values (fixed seed). Not run by pytest.
"""

import random
import resource
import subprocess
import sys
import time

NINE = ["0.1", "0.5", "-0.3", "1.2", "0.05", "2", "-1.5", "0.9", "0.25"]


def run(data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(["skipcalc", "chain", "-", "--format", "json"], input=data, capture_output=True)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far


if __name__ == "__main__":
    random.seed(0)
    for n in [int(a) for a in sys.argv[1:]] or [3, 100_000, 1_000_000]:
        cases = {"0.1": ("0.1 " * n).encode(), "nine values": " ".join(random.choices(NINE, k=n)).encode()}
        for name, data in cases.items():
            best = min(run(data) for _ in range(3 if n <= 100_000 else 1))
            print(f"{n:>9} layers, {name:>11}: {best[0]:.3f} s wall, peak RSS so far {best[1] / 1024:.0f} MiB")
