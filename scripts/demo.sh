#!/usr/bin/env bash
# Installs the package into .venv and runs `iovox demo` against the embedded emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[cli]' \
    --config-settings editable_mode=compat  # a path entry mypy can follow, not an import hook
exec .venv/bin/iovox demo "$@"
