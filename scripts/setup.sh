#!/usr/bin/env bash
# Set up everything the project needs, idempotently: the JS build, the main venv with the
# package and its test extra, the second venv with the labelbox 5.2.1 SDK, and Debian's
# PostgreSQL (for the team-server tests) when it is missing.
# Usage: scripts/setup.sh [--browser]   (--browser also installs Debian's Chromium if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
quiet_pip() { grep -v "is ignored: it is neither" || true; }
say() { echo "[setup ${SECONDS}s] $*"; }

if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's Chromium (Playwright cannot download its own browser here)"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

# The team-server tests start a throwaway PostgreSQL cluster with Debian's binaries.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing Debian's PostgreSQL (the team-server tests run a throwaway cluster)"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null
fi

say "frontend: npm ci + esbuild bundle into export_widget/static/"
(cd js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)

say "main venv (.venv): the package, editable, with the test extra"
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet_pip
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | quiet_pip

say "second venv (.venv-sdk5): labelbox 5.2.1, the last SDK with get_stream/with_line"
[[ -x .venv-sdk5/bin/python ]] || "$PY" -m venv .venv-sdk5
.venv-sdk5/bin/python -m pip install -q --upgrade pip 2>&1 | quiet_pip
.venv-sdk5/bin/python -m pip install -q -e . "labelbox==5.2.1" "pytest==9.2.0" 2>&1 | quiet_pip
say "done"
