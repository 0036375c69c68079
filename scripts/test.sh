#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs everything into .venv, then runs
# the tests, the generated-code check, ruff and mypy --strict. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
# The arq sharding recipe's test runs a real Redis server of its own.
if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
    --config-settings editable_mode=compat  # a path entry mypy can follow, not an import hook
.venv/bin/python scripts/generate.py --check
.venv/bin/ruff check iovox_async scripts tests benchmarks docs/recipes
.venv/bin/mypy --strict iovox_async docs/recipes
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
