#!/usr/bin/env bash
# --batch: 10,000 chains in one process against one single call, side by side (hyperfine).
# The chains have 1-6 layers of random short decimals and a few fractions (fixed seed), so
# that few lines repeat. Needs hyperfine and skipcalc on PATH; not run by pytest.
set -euo pipefail
unset PYTHONDONTWRITEBYTECODE  # see startup.sh
data=$(mktemp)
trap 'rm -f "$data"' EXIT
python3 - > "$data" <<'PY'
import random
random.seed(5)
def number():
    if random.random() < 0.05:
        return f"{random.randint(-9, 9)}/{random.randint(1, 20)}"
    return f"{random.choice('-+ ').strip()}{random.randint(0, 2)}.{random.randint(0, 999):03d}".rstrip("0")
for _ in range(10_000):
    print(" ".join(number() for _ in range(random.randint(1, 6))))
PY
hyperfine --warmup 3 --runs ${RUNS:-20} \
  'skipcalc chain 0.1 0.1 0.1 --residual --format value' \
  "skipcalc chain --batch --format value < $data" \
  "skipcalc backprop --batch --target 10 --pred 8 --format value < $data" \
  "skipcalc chain --batch --format json < $data"
