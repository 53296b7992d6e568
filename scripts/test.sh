#!/usr/bin/env bash
# Set everything up, then run every test: Python, SDK conformance (7.x and 5.2.1), JS,
# notebooks (nbval) and the browser (JupyterLab + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
export CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
mkdir -p artifacts
say() { echo "[test ${SECONDS}s] $*"; }

# Everything the run writes to scratch goes under one directory, removed when it ends:
# pytest's tmp_path trees, and Chromium's PulseAudio dir (/tmp/pulse-* without a runtime dir).
scratch=$(mktemp -d -t export-widget-test-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/run"
export XDG_RUNTIME_DIR="$scratch/run"

say "lint and types"
.venv/bin/ruff check export_widget tests benchmarks
.venv/bin/mypy
(cd js && npx --no-install tsc --noEmit -p . && npx --no-install biome check src)

say "pytest: unit, server, client, SDK 7.x, widget, JS harness, browser, notebooks"
.venv/bin/python -m pytest -q -m "not sdk5" --nbval-lax --nbval-current-env \
  --nbval-cell-timeout=300 --basetemp="$scratch/pytest" tests notebooks

say "pytest: the official SDK 5.2.1 against the server"
.venv-sdk5/bin/python -m pytest -q -m sdk5 --basetemp="$scratch/pytest-sdk5" tests/sdk
say "all tests passed"
