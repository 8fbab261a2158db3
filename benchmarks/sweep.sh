#!/usr/bin/env bash
# Issue 22's throughput: 10,000 batch lines of 50 layers (each line one derivative repeated by
# --layers 50, from 100 values 0.01 .. 1) written as value lines, as csv with a row per case, as
# json lines, and as csv with a row per layer (500,000 rows); and the depth map of 100
# derivatives x 100 depths, and a 10,000-layer chain table. Needs hyperfine and skipcalc on
# PATH; not run by pytest.
set -euo pipefail
unset PYTHONDONTWRITEBYTECODE  # see startup.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 -c "
for k in range(10_000):
    print(f'{k % 100 + 1}/100')
" > "$dir/lines"
hyperfine --warmup 1 --runs ${RUNS:-5} \
  "skipcalc chain --batch --layers 50 --format value < $dir/lines" \
  "skipcalc chain --batch --layers 50 --format csv < $dir/lines" \
  "skipcalc chain --batch --layers 50 --format json < $dir/lines" \
  "skipcalc chain --batch --layers 50 --format csv --per-layer < $dir/lines" \
  "skipcalc depth --local 0.01:1:0.01 --depths 1:100:1 --format csv" \
  "COLUMNS=80 skipcalc chain 0.1 --layers 10000"
