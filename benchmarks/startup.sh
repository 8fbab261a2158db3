#!/usr/bin/env bash
# Start-up and table-view timings, side by side with the references the issues name.
# Needs hyperfine and qalc (Debian: apt-get install hyperfine qalc) and skipcalc on PATH
# (e.g. PATH=.venv/bin:$PATH). Prints hyperfine's summary; nothing here is run by pytest.
set -euo pipefail
# Compiled bytecode is part of a real install; a shell that forbids writing it would time
# every run compiling skipcalc afresh.
unset PYTHONDONTWRITEBYTECODE
py=$(dirname "$(command -v skipcalc)")/python
hyperfine -N --warmup 5 --runs ${RUNS:-40} \
  'qalc -t "(1+0.1)^3"' \
  'skipcalc chain 0.1 0.1 0.1 --residual --format value' \
  'skipcalc loss --target 10 --pred 8 --format value' \
  'skipcalc --help'
hyperfine -N --warmup 3 --runs ${RUNS:-20} \
  "$py -c 'import sympy, typer, rich.table'" \
  'skipcalc chain 0.1 0.1 0.1' \
  'skipcalc chain 0.1 --layers 10000'
