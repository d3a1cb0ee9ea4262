#!/usr/bin/env bash
# Benchmark backproplab against PyTorch, scikit-learn and a plain NumPy loop (see docs/performance.md).
#   bash scripts/bench.sh [ARGS]      ARGS go to `python -m benchmarks.run`, e.g. --repeats 5, --skip-run,
#                                     --threads 1, --quick, --out PATH; --help lists them all.
# Sets up .venv with the `bench` extra first (idempotent). Takes several minutes; not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench
exec .venv/bin/python -m benchmarks.run "$@"
