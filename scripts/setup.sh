#!/usr/bin/env bash
# Set up a fresh machine for pprflow: a virtualenv (.venv) with exactly what uv.lock records, the local
# PostgreSQL server (tests use it for real) and Debian's chromium (browser tests). Idempotent.
#   PPRFLOW_SETUP_DEV=0       the main job only: no test tools (scripts/run.sh)
#   PPRFLOW_SETUP_SERVICES=0  neither PostgreSQL nor chromium (scripts/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
export UV_PYTHON_DOWNLOADS=never  # the machine's own Python, never a downloaded one
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  "$PYTHON" -m uv --version >/dev/null 2>&1 \
    || "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore uv
  UV=("$PYTHON" -m uv)
fi
groups=()
[ "${PPRFLOW_SETUP_DEV:-1}" = "1" ] || groups=(--no-dev)
# --frozen: install what uv.lock says, never re-resolve. A dependency changes only when someone runs
# `uv lock --upgrade-package NAME` on purpose (README: Upgrade a dependency).
"${UV[@]}" sync --frozen --quiet --python "$PYTHON" "${groups[@]}"
.venv/bin/python -c "import pprflow.models.tables, prefect, sqlmodel" # fail loudly if the install did not work

if [ "${PPRFLOW_SETUP_SERVICES:-1}" = "1" ]; then
  # PostgreSQL on 127.0.0.1:5432 (trust auth), as on the development and CI machines.
  if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # Debian's chromium for the Playwright browser tests (never a downloaded browser).
  if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: could not install chromium; the browser tests will fail" >&2
  fi
fi

# The web app's test tools from npm (package-lock.json, exact versions): axe-core (accessibility checks
# injected by Playwright) and oidc-provider (a real OpenID provider on loopback). The web app itself needs
# no npm at run time: its DKFDS and htmx files are committed in pprflow/web/static/vendor (vendor_web.sh).
if [ "${PPRFLOW_SETUP_DEV:-1}" = "1" ] && command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
