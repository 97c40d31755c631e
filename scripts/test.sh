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
if [ "$#" -gt 0 ]; then  # e.g. ./scripts/test.sh tests/tasks -k sweep
  echo "== pytest $*"
  .venv/bin/pytest -p no:cacheprovider "$@"
  exit 0
fi
echo "== pytest: the in-process suites, two workers"
.venv/bin/pytest -p no:cacheprovider -n 2 --durations=25 --ignore=tests/faults --ignore=tests/browser
echo "== pytest: fault and browser tests, two workers, each file whole on one worker (they start servers and kill processes)"
.venv/bin/pytest -p no:cacheprovider -n 2 --dist loadfile --durations=25 -m "not alone" tests/faults tests/browser
echo "== pytest: the Prefect scheduler tests, one at a time (their own Prefect server on SQLite, timed)"
.venv/bin/pytest -p no:cacheprovider --durations=5 -m alone tests/faults
echo "== date-sensitive tests with the clock moved to a leap day and years ahead"
bash scripts/test_date_sensitive.sh
if [ -f benchmarks/smoke.sh ]; then
  echo "== benchmark smoke"
  bash benchmarks/smoke.sh
fi
