#!/usr/bin/env bash
# Set up and run every check: ruff, mypy, the whole pytest suite (SQLite, PostgreSQL, a real Prefect
# server, loopback SMTP/EWS/Graph servers, headless chromium) and a quick benchmark smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_HOME="${PREFECT_HOME:-$(mktemp -d)}"

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest -p no:cacheprovider "$@"
if [ -f benchmarks/smoke.sh ]; then
  echo "== benchmark smoke"
  bash benchmarks/smoke.sh
fi
