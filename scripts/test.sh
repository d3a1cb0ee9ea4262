#!/usr/bin/env bash
# The test suite: set up with the test extras (idempotent), lint, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest "$@"
