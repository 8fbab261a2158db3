#!/usr/bin/env bash
# --batch: 10,000 chains in one process against one single call, side by side (hyperfine), and
# against a plain Python script that reads the lines and multiplies Fractions.
# Two inputs of 1-6 layers per line (fixed seeds): "sweep" draws from ten values, as a grid of
# settings would; "varied" draws short random decimals and a few fractions, so almost every
# number is new. "lean general" is the same call with the value-line kernel switched off (the
# general path: a result computed only as far as the value line prints), which is what the
# kernel is measured against. Needs hyperfine and skipcalc on PATH; not run by pytest.
set -euo pipefail
unset PYTHONDONTWRITEBYTECODE  # see startup.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
py=$(dirname "$(command -v skipcalc)")/python
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
cat > "$dir/plain.py" <<'PY'
import sys
from fractions import Fraction
for line in sys.stdin:
    p = r = Fraction(1)
    for t in line.split():
        d = Fraction(t)
        p *= d
        r *= 1 + d
    print(p, r, sep="\t")
PY
cat > "$dir/lean.py" <<'PY'
import sys
import skipcalc.core.kernels as kernels
kernels.ValueLines.__call__ = lambda self, line, repeat=1: None  # every line the general way
sys.argv = ["skipcalc", "chain", "--batch", "--format", "value"]
from skipcalc.cli.console import main
main()
PY
hyperfine --warmup 3 --runs ${RUNS:-20} \
  'skipcalc chain 0.1 0.1 0.1 --residual --format value' \
  "skipcalc chain --batch --format value < $dir/sweep" \
  "$py $dir/lean.py < $dir/sweep" \
  "$py $dir/plain.py < $dir/sweep" \
  "skipcalc chain --batch --format value < $dir/varied" \
  "$py $dir/lean.py < $dir/varied" \
  "$py $dir/plain.py < $dir/varied" \
  "skipcalc backprop --batch --target 10 --pred 8 --format value < $dir/varied" \
  "skipcalc chain --batch --format json < $dir/varied"
