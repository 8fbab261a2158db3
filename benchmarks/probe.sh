#!/usr/bin/env bash
# skipcalc probe on the presets the README quotes: wall time (hyperfine) and peak memory
# (GNU time's maximum resident set size). Run from the repository with the venv active.
set -euo pipefail
cases=(
  "skipcalc probe resnet18 --samples 8 --image-size 64 --probes 16 --format value"
  "skipcalc probe gpt2 --size tiny --format value"
  "skipcalc probe gpt2 --size small --samples 2 --tokens 64 --probes 8 --format value"
  "skipcalc probe mlp --layers 24 --width 256 --samples 128 --dtype float16 --dtype bfloat16 --format value"
)
for case in "${cases[@]}"; do
  hyperfine --runs 3 --warmup 1 "$case"
  /usr/bin/time -f "peak memory: %M KB" bash -c "$case >/dev/null"
done
