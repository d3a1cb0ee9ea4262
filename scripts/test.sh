#!/usr/bin/env bash
# The test suite: set up with the test and tracking extras and chromium (idempotent), lint, format check, type check
# (mypy against scripts/mypy_baseline.txt: only new errors fail), then pytest.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,track

# Debian's chromium: the HTML reports are checked in a real headless browser (tests/headless_browser.py).
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "[test] chromium is missing and this user cannot install Debian packages. As root, run:" >&2
      echo "[test]   apt-get update -q && apt-get install -y chromium" >&2
      exit 1
    fi
  fi
  echo "[test] installing chromium (Debian package) for the browser tests of the HTML reports"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python scripts/typecheck.py
# Everything above is installed, so no test may skip for want of a data set, torch or Chromium (tests/needs.py).
BACKPROPLAB_REQUIRE_ALL=1 exec .venv/bin/python -m pytest "$@"
