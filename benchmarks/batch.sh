#!/usr/bin/env bash
# --batch: 10,000 chains in one process against one single call, side by side (hyperfine).
# Two inputs of 1-6 layers per line (fixed seeds): "varied" draws short random decimals and a
# few fractions, so almost every number is new; "sweep" draws from ten values, as a grid of
# settings would. Needs hyperfine and skipcalc on PATH; not run by pytest.
set -euo pipefail
unset PYTHONDONTWRITEBYTECODE  # see startup.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import random, sys
random.seed(5)
def varied():
    if random.random() < 0.05:
        return f"{random.randint(-9, 9)}/{random.randint(1, 20)}"
    return f"{random.choice('-+ ').strip()}{random.randint(0, 2)}.{random.randint(0, 999):03d}".rstrip("0")
values = ["0.1", "0.5", "1", "2", "-0.3", "0.25", "1.5", "0.9", "3/7", "0"]
with open(f"{sys.argv[1]}/varied", "w") as out, open(f"{sys.argv[1]}/sweep", "w") as sweep:
    for _ in range(10_000):
        n = random.randint(1, 6)
        print(" ".join(varied() for _ in range(n)), file=out)
        print(" ".join(random.choice(values) for _ in range(n)), file=sweep)
PY
hyperfine --warmup 3 --runs ${RUNS:-20} \
  'skipcalc chain 0.1 0.1 0.1 --residual --format value' \
  "skipcalc chain --batch --format value < $dir/sweep" \
  "skipcalc chain --batch --format value < $dir/varied" \
  "skipcalc backprop --batch --target 10 --pred 8 --format value < $dir/varied" \
  "skipcalc chain --batch --format json < $dir/varied"
