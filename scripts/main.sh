#!/usr/bin/env bash
# The main job: set up (idempotent), then run the flagship Fashion-MNIST experiment (SPEC.md A) with its report.
# Extra arguments go to `backproplab run`, e.g. --quick or --runs-dir DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/backproplab run fashion-sgd "$@"
