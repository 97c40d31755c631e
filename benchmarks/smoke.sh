#!/usr/bin/env bash
# One quick run of every benchmark at tiny sizes (about a minute): proves the scripts still work.
# Fails when a script crashes or finds a wrong result (a message lost, a reminder not handled);
# a missed performance target at these sizes is only printed. PostgreSQL runs are skipped if the
# server on 127.0.0.1:5432 is not there. One Prefect server, started here, serves every script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LOG_DIR="$(mktemp -d)"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_LOGGING_LEVEL=WARNING
export PREFECT_HOME="$LOG_DIR/prefect-home"
unset PREFECT_API_URL

PORT="$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.venv/bin/prefect server start --host 127.0.0.1 --port "$PORT" >"$LOG_DIR/prefect-server.log" 2>&1 &
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$LOG_DIR"
}
trap cleanup EXIT

export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
for _ in $(seq 1 120); do
  if $PY -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/health', timeout=1)" \
      "$PREFECT_API_URL" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$LOG_DIR/prefect-server.log" >&2
    echo "benchmark smoke: the Prefect server did not start" >&2
    exit 1
  fi
  sleep 0.5
done

run() {
  local name="$1"
  shift
  local started=$SECONDS
  if ! "$PY" "benchmarks/$name" "$@" >"$LOG_DIR/$name.out" 2>"$LOG_DIR/$name.err"; then
    cat "$LOG_DIR/$name.out" "$LOG_DIR/$name.err" >&2
    echo "benchmark smoke: $name failed" >&2
    exit 1
  fi
  grep -v '^{' "$LOG_DIR/$name.out" | sed '/^$/d'
  echo "($name: $((SECONDS - started)) s)"
}

run sweep_at_scale.py --sizes 300 1000 --due 10 --repeats 1 --naive-cases 20
run intake_latency.py --runs 1 --warmup 1 --db sqlite
run delivery_throughput.py --messages 20 --throttle-messages 20 --db sqlite
run cli_responsiveness.py --runs 1 --warmup 0
run case_page.py --sizes 1000 --db sqlite --repeats 2
run web_pages.py --sizes 1000 --db sqlite postgresql --repeats 3
echo "benchmark smoke: all scripts ran (${SECONDS} s)"
