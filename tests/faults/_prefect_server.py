"""A real `prefect server start` for the fault tests: its own PREFECT_HOME and SQLite database, a free
loopback port, analytics and UI off. Started and stopped by the test that owns it (process group)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PREFECT = Path(sys.executable).parent / "prefect"


def environment(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def start_server(env: dict[str, str], port: int, log: Path, timeout: float = 90) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(log.read_text()[-2000:])
        time.sleep(0.25)
    stop(proc)
    raise AssertionError("the Prefect server did not come up")


def stop(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM to the process group this test started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def flow_runs(port: int, *, deployment_id: str | None = None) -> list[dict[str, Any]]:
    """Every flow run Prefect has (of one deployment), oldest expected start first, through the REST API."""
    runs: list[dict[str, Any]] = []
    body: dict[str, Any] = {"limit": 200, "sort": "EXPECTED_START_TIME_ASC"}
    if deployment_id is not None:
        body["deployments"] = {"id": {"any_": [deployment_id]}}
    while True:
        page = httpx.post(f"http://127.0.0.1:{port}/api/flow_runs/filter", json=body | {"offset": len(runs)},
                          timeout=30).json()
        runs.extend(page)
        if len(page) < 200:
            return runs


def expected_start(run: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(run["expected_start_time"]).astimezone(dt.UTC)
