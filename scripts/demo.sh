#!/usr/bin/env bash
# Installs the package into .venv and runs `iovox demo` against the embedded emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[cli]'
exec .venv/bin/iovox demo "$@"
