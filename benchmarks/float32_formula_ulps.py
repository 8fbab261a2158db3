"""skipcalc's float32 formula passes against PyTorch autograd on random formula networks: the
largest difference, in units in the last place of PyTorch's value, over every gradient of every
network (the README quotes the result). Run from the repository with torch installed:
python benchmarks/float32_formula_ulps.py [networks]"""

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # noqa: E402
from test_precision import TORCH_FORMULAS, formula_pass, torch_formula_pass  # noqa: E402

from skipcalc import InputError  # noqa: E402


def ulps(a: float, b: float) -> float:
    if a == b:
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    spacing = max(2.0 ** (math.frexp(abs(b))[1] - 24), 2.0**-149) if b else 2.0**-149  # float32's ulp at b
    return abs(a - b) / spacing


def main(count: int) -> None:
    rng = random.Random(2026)
    worst, histogram, compared = 0.0, {}, 0
    for _ in range(count):
        fn = [rng.choice([*TORCH_FORMULAS, "x*sigmoid(x)"]) for _ in range(rng.randint(1, 12))]
        at = str(round(rng.uniform(-3, 3), 3))
        spec = rng.choice(["plain", "residual", "scaled:0.5", "rezero:0.1", "highway:0.3"])
        upstream = rng.choice(["1", "-4", "0.01", "300", "59.1"])
        try:
            ours = formula_pass("float32", fn, at, spec, upstream)
        except InputError:
            continue
        theirs = torch_formula_pass(torch, "float32", fn, at, spec, upstream)
        compared += 1
        largest = max(ulps(a, b) for a, b in zip(ours, theirs, strict=True))
        worst = max(worst, largest)
        bucket = 0 if largest == 0 else 1 if largest <= 1 else 4 if largest <= 4 else 8 if largest <= 8 else 99
        histogram[bucket] = histogram.get(bucket, 0) + 1
    print(f"{compared} networks compared; the largest difference: {worst:.3g} ulp")
    print("networks by their largest difference (0, <=1, <=4, <=8, more):", dict(sorted(histogram.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
