"""Scale: `skipcalc chain -` with many layers on stdin, against the 3-layer call.

Run: python benchmarks/scale.py [layers ...]   (skipcalc on PATH). Reports wall time and peak
memory (ru_maxrss of each child) for layers of 0.1, for layers drawn from nine values (fixed
seed), and for 0.1 and 1.05 alternating (whose exact products would have 3.6 million digits
at a million layers: correctly rounded instead), in json and value. Not run by pytest.
"""

import random
import subprocess
import sys
import time

NINE = ["0.1", "0.5", "-0.3", "1.2", "0.05", "2", "-1.5", "0.9", "0.25"]


def run(data: bytes, fmt: str) -> tuple[float, float]:
    start = time.perf_counter()
    command = ["/usr/bin/time", "-f", "%M", "skipcalc", "chain", "-", "--format", fmt]
    result = subprocess.run(command, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return elapsed, int(result.stderr.split()[-1]) / 1024


if __name__ == "__main__":
    random.seed(0)
    for n in [int(a) for a in sys.argv[1:]] or [3, 100_000, 1_000_000]:
        cases = {
            "0.1": ("0.1 " * n).encode(),
            "nine values": " ".join(random.choices(NINE, k=n)).encode(),
            "0.1 and 1.05": ("0.1 1.05 " * (n // 2) + "0.1 " * (n % 2)).encode(),
        }
        for name, data in cases.items():
            for fmt in ("json", "value"):
                best = min(run(data, fmt) for _ in range(3 if n <= 100_000 else 1))
                print(f"{n:>9} layers, {name:>12}, {fmt:>5}: {best[0]:6.2f} s wall, {best[1]:6.0f} MiB peak")
