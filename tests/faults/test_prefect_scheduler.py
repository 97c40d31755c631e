"""Prefect's scheduler service creates the scheduled runs of an interval deployment, on this lock file.

The minimal check behind the old `sqlalchemy<2.1` pin: under Prefect 3.8, SQLAlchemy 2.1 made the
scheduler's bulk insert fail ("Can't evaluate bulk DML statement") and no scheduled run was ever
created, so every served flow (the sweep, delivery) silently never ran. A real `prefect server start`,
one deployment with a 5-second interval schedule, no runner: within 60 s the scheduler service must
have created at least 3 runs in state Scheduled, one per slot (no duplicates), and logged no error.
If this fails after a dependency update, pin the dependency back (pyproject) before anything else.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from tests.faults._prefect_server import environment, expected_start, flow_runs, start_server, stop
from tests.transports.loopback import free_port

pytestmark = [pytest.mark.slow, pytest.mark.alone]


def _post(url: str, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    """POST, again while the just-started server answers 503 (its SQLite busy with its own start-up services)."""
    deadline = time.monotonic() + 60
    while True:
        response = httpx.post(url, json=body, timeout=30)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(1)


def test_the_scheduler_service_creates_scheduled_runs_one_per_slot(tmp_path: Path) -> None:
    port, home = free_port(), tmp_path / "prefect-home"
    home.mkdir()
    log = tmp_path / "server.log"
    server = start_server(environment(home, port), port, log)
    try:
        api = f"http://127.0.0.1:{port}/api"
        flow = _post(f"{api}/flows/", {"name": "scheduler-probe"}).json()
        anchor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        deployment = _post(f"{api}/deployments/", {
            "name": "probe", "flow_id": flow["id"], "paused": False,
            "schedules": [{"schedule": {"interval": 5.0, "anchor_date": anchor.isoformat()}, "active": True}],
        })
        assert deployment.status_code in (200, 201), deployment.text
        deployment_id = deployment.json()["id"]
        deadline = time.monotonic() + 60
        runs: list[dict] = []  # type: ignore[type-arg]
        while time.monotonic() < deadline:
            runs = flow_runs(port, deployment_id=deployment_id)
            if len(runs) >= 3:
                break
            time.sleep(1)
    finally:
        stop(server)
    text = log.read_text()
    assert len(runs) >= 3, (f"no scheduled runs after 60 s (SQLAlchemy {sqlalchemy.__version__}): "
                            f"{text[-3000:]}")
    assert {run["state_type"] for run in runs} == {"SCHEDULED"}
    per_slot = Counter(expected_start(run) for run in runs)
    assert max(per_slot.values()) == 1, "one run per slot"
    assert all((slot - anchor).total_seconds() % 5 == 0 for slot in per_slot), "runs on the interval's slots"
    assert "Can't evaluate bulk DML" not in text and "| ERROR" not in text, text[-3000:]
