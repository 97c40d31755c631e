#!/usr/bin/env bash
# Set up and run the main job on embedded defaults: SQLite under ./.pprflow, mail to ./.pprflow/mail,
# Prefect's local server and dashboard, every flow served on its schedule.
set -euo pipefail
cd "$(dirname "$0")/.."
PPRFLOW_SETUP_SERVICES=0 PPRFLOW_SETUP_DEV=0 bash scripts/setup.sh
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/pprflow serve "$@"
