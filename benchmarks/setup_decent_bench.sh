#!/usr/bin/env bash
# Create the virtual environment that benchmarks/run.py uses to time decent-bench 0.3.0.
# decent-bench needs Python >= 3.13, so it lives in its own environment, outside the repo,
# and is run as a subprocess (benchmarks/_decent_bench_worker.py).
#
# Usage: benchmarks/setup_decent_bench.sh [VENV_DIR] [PYTHON]
#   VENV_DIR defaults to $RATEBENCH_DB_VENV or $HOME/.cache/ratebench/decent-bench-venv
#   PYTHON   defaults to ~/.pyenv/versions/3.13.0/bin/python (any Python >= 3.13)
set -euo pipefail
VENV="${1:-${RATEBENCH_DB_VENV:-$HOME/.cache/ratebench/decent-bench-venv}}"
PY="${2:-$HOME/.pyenv/versions/3.13.0/bin/python}"
"$PY" -c 'import sys; assert sys.version_info >= (3, 13), f"decent-bench 0.3.0 needs Python >= 3.13, got {sys.version}"'
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install "decent-bench==0.3.0"
"$VENV/bin/python" -c 'import importlib.metadata as m; print("decent-bench", m.version("decent-bench"))'
