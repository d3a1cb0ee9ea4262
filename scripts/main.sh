#!/usr/bin/env bash
# The main job: set up (idempotent, with MLflow tracking), then run the flagship Fashion-MNIST experiment
# of the course "HW3 Neural Networks" (docs/courses.md) with its report; the run is also logged to runs/mlflow.db (browse it with `backproplab ui`).
# Extra arguments go to `backproplab run`, e.g. --quick or --runs-dir DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh track
exec .venv/bin/backproplab run fashion-sgd "$@"
