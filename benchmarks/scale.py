"""Scale: `skipcalc chain - --format json` with many layers on stdin, against the 3-layer call.

Run: python benchmarks/scale.py [layers ...]   (skipcalc on PATH). Reports wall time and
peak memory (ru_maxrss of the child) per run. Not run by pytest.
"""

import resource
import subprocess
import sys
import time


def run(layers: int) -> tuple[float, int]:
    data = ("0.1 " * layers).encode()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(["skipcalc", "chain", "-", "--format", "json"], input=data, capture_output=True)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [3, 100_000, 1_000_000]:
        best = min(run(n) for _ in range(3 if n <= 100_000 else 1))
        print(f"{n:>9} layers: {best[0]:.3f} s wall, peak RSS {best[1] / 1024:.0f} MiB")
