"""Issue 20: the production topology, tested. README's production path is a Prefect server on PostgreSQL as its
own service and a process worker (deployments/systemd/*.service); here both run as separate OS processes:

1. `prefect server start` on a fresh PostgreSQL database; a process work pool;
2. the deployments registered the production way (`deploy_to_work_pool`, as `python -m pprflow.deployments`
   does, with the operators' automations), plus a sweep-like ticker on a 15 s interval
   (tests/faults/_ticker.py: one idempotent outbox effect per slot, caught up like the daily sweep);
3. `prefect worker start --pool ...` runs the scheduled runs in its own subprocesses;
4. mid-day the server is stopped for 15 s and started again on the same database; the worker stays up.

Asserted on Prefect's real flow runs and on what the flow recorded: no slot got a second flow run, no slot was
executed twice, every slot from the first run to the last completed one has its effect exactly once (the
runs due while the server was down run late, after it is back: in this topology nothing pauses the
schedules), runs after the restart complete, and the automations are still there, one of each. Then the worker
is stopped with SIGTERM (what systemd does) and exits within its grace.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.conftest import PG_ADMIN_URL
from tests.faults._prefect_server import PREFECT, environment, expected_start, flow_runs, start_server, stop
from tests.faults.test_prefect_restart import _effects, _executions, _wait_for
from tests.transports.loopback import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 15.0
DOWN = 15.0


@pytest.fixture
def prefect_pg_url() -> Iterator[str]:
    """An empty PostgreSQL database for the Prefect server (asyncpg, as Prefect's server uses)."""
    name = f"prefect_topology_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg", "+asyncpg") + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _register(port: int, pool: str, executions: Path, database_url: str, anchor: dt.datetime) -> list[str]:
    """The work pool, pprflow's deployments and automations, and the ticker, through the server's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Interval
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    from pprflow.config import Settings
    from pprflow.deployments import deploy_to_work_pool
    from pprflow.deployments.automations import ensure_automations
    from pprflow.profiles import load_profile
    from tests.faults._ticker import tick

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
        deploy_to_work_pool(load_profile("vejle"), pool, only=["morgen-gennemgang", "udbakke-afsendelse"])
        tick.to_deployment(
            name="tick", entrypoint_type=EntrypointType.MODULE_PATH, work_pool_name=pool,
            job_variables={"working_dir": str(ROOT)},
            schedules=[Interval(dt.timedelta(seconds=INTERVAL), anchor_date=anchor)],
            parameters={"executions": str(executions), "database_url": database_url, "anchor": anchor.isoformat(),
                        "interval": INTERVAL}).apply(work_pool_name=pool)
        return sorted(ensure_automations(Settings()))


def _automations(port: int) -> Counter[str]:
    found = httpx.post(f"http://127.0.0.1:{port}/api/automations/filter", json={}, timeout=30).json()
    return Counter(a["name"] for a in found)


def _tick_runs(port: int) -> list[dict[str, Any]]:
    return [r for r in flow_runs(port) if r["name"] and r.get("deployment_id") and
            r["parameters"].get("interval") == INTERVAL]


def test_server_on_postgresql_and_a_process_worker_survive_a_server_restart_exactly_once(
        engine: Engine, sqlite_url: str, tmp_path: Path, prefect_pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    port, home = free_port(), tmp_path / "prefect-home"
    home.mkdir()
    env = environment(home, port) | {"PREFECT_API_DATABASE_CONNECTION_URL": prefect_pg_url,
                                     "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                                     "PYTHONPATH": str(ROOT), "PPRFLOW_DATABASE_URL": sqlite_url,
                                     "PPRFLOW_PROFILE": "vejle", "PPRFLOW_HOME": str(tmp_path),
                                     "PPRFLOW_TRANSPORT": "file"}
    monkeypatch.setenv("PPRFLOW_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/alarm")  # the alert automation too
    executions, pool = tmp_path / "executions.db", f"pprflow-{uuid.uuid4().hex[:6]}"
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    server = start_server(env, port, server_log, timeout=150)
    worker: subprocess.Popen[bytes] | None = None
    try:
        anchor = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5)
        automations = _register(port, pool, executions, sqlite_url, anchor)
        assert len(automations) >= 2, automations
        with worker_log.open("ab") as out:
            worker = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", pool, "--type", "process"],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        done = lambda: [r for r in _tick_runs(port) if r["state_type"] == "COMPLETED"]  # noqa: E731
        assert _wait_for(lambda: len(done()) >= 1, 120), worker_log.read_text()[-3000:]

        stop(server)  # mid-day: the server's service restarts; the worker keeps polling
        down_at = dt.datetime.now(dt.UTC)
        time.sleep(DOWN)
        server = start_server(env, port, server_log, timeout=150)
        up_at = dt.datetime.now(dt.UTC)
        after = lambda: [r for r in done() if expected_start(r) > up_at]  # noqa: E731
        budget = max(300 - (time.monotonic() - started), 45)
        assert _wait_for(lambda: len(after()) >= 1, budget), worker_log.read_text()[-3000:]
        runs = _tick_runs(port)
        kept = _automations(port)

        os.killpg(worker.pid, signal.SIGTERM)  # systemd's stop: the worker exits within its grace
        code = worker.wait(timeout=30)
    finally:
        if worker is not None:
            stop(worker, grace=5)
        stop(server)
    elapsed = time.monotonic() - started

    assert code in (0, 1, -signal.SIGTERM, 128 + signal.SIGTERM), code
    assert all(kept[name] == 1 for name in automations), ("the automations survive the restart", kept)
    last = max(expected_start(r) for r in runs if r["state_type"] == "COMPLETED")
    per_slot = Counter(expected_start(r) for r in runs)
    assert max(per_slot.values()) == 1, "no slot got a second flow run"
    ran = _executions(executions)
    assert max(Counter(s for s, _ in ran).values()) == 1, "no slot was executed twice"
    slots, slot = [], anchor
    while slot <= last:
        slots.append(slot.isoformat(timespec="seconds"))
        slot += dt.timedelta(seconds=INTERVAL)
    effects = Counter(_effects(engine))
    assert all(n == 1 for n in effects.values()), "every effect exactly once"
    assert [s for s in slots if s in effects] == slots, "every slot up to the last completed run has its effect"
    outage = [s for s in slots if down_at.isoformat() < s < up_at.isoformat()]
    ran_slots = sum(1 for r in runs if expected_start(r) <= last)
    print(f"\nFAULT topology: PostgreSQL server + process worker, {len(slots)} slots, {ran_slots} runs "
          f"(0 doubled), server down {DOWN:.0f} s ({len(outage)} slots due meanwhile, effects caught up), "
          f"{len(automations)} automations kept, worker exit {code} on SIGTERM, {elapsed:.0f} s")
