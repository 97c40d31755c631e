#!/usr/bin/env bash
# The tests that read the wall clock (directly or through utcnow/date defaults), run with the clock moved:
# to a leap day, and years ahead late on New Year's Eve (Copenhagen). A test whose fixed dates meet the
# real clock fails here long before the calendar reaches it. Called by scripts/test.sh; on its own:
#
#   scripts/test_date_sensitive.sh                     # both clocks
#   scripts/test_date_sensitive.sh 2030-03-31T02:30    # one clock of your choice (ISO, local time)
#
# The clock is moved in the test process only (tests/conftest.py, --clock / PPRFLOW_TEST_CLOCK, with
# time-machine, running on from there); PostgreSQL and Prefect servers keep the real clock, so this runs
# the in-process suites on SQLite. The CLI tests (tests/cli) are not among them yet: they ran `pprflow` as a
# subprocess (the real clock) until 30 Nov 2026; they now run in-process (tests/support/cli.py) and could join.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false PYTHONWARNINGS=ignore
export PREFECT_HOME=${PREFECT_HOME:-$(mktemp -d)}
CLOCKS=("$@")
[ ${#CLOCKS[@]} -eq 0 ] && CLOCKS=(2028-02-29 2031-12-31T23:30)
SUITES=(tests/tasks tests/scenarios tests/models tests/templates tests/test_mime.py tests/test_throttle.py)
status=0
for clock in "${CLOCKS[@]}"; do
  echo "== clock moved to $clock (Europe/Copenhagen)"
  .venv/bin/pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --clock "$clock" \
    -m "not postgres and not prefect and not browser and not slow" "${SUITES[@]}" || status=1
done
exit $status
