#!/usr/bin/env bash
# Set everything up and open the quickstart notebook in JupyterLab. The notebook starts the
# embedded export server with the demo workspace itself: no account, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ROOT=()
[[ $(id -u) -eq 0 ]] && ROOT=(--allow-root)
exec .venv/bin/jupyter lab "${ROOT[@]}" "$@" notebooks/01_quickstart.ipynb
