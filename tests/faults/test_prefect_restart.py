"""The Prefect server restarts: schedules continue, and no scheduled sweep is lost or doubled.

A real `prefect server start` on a free loopback port (its own PREFECT_HOME and SQLite database,
analytics off) and a runner serving a sweep-like flow (`tests/faults/_ticker.py`) every few
seconds. The server is stopped for longer than two intervals and started again on the same port
and database. Every slot from the first to the last must then have its effect exactly once: the
slots that fell while the server was down run late or are caught up by the next run (the sweep
queues everything due up to its slot, idempotently); no effect happens twice. Bounded: ≤ 90 s.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests.transports.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
PREFECT = Path(sys.executable).parent / "prefect"
INTERVAL = 5.0
DOWN = 7.0
RUNNER_DELAY = 3.0
DEADLINE = 90.0


def _environment(home: Path, port: int) -> dict[str, str]:
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


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, log.read_text()[-2000:]
        time.sleep(0.25)
    raise AssertionError("the Prefect server did not come up")


def _stop(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM to the process group this test started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _executions(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return [row[0] for row in conn.execute("SELECT slot FROM execution ORDER BY slot")]
        except sqlite3.OperationalError:
            return []


def _effects(engine: Engine) -> list[str]:
    """The slots whose effect (one outbox row each) exists."""
    with Session(engine) as session:
        keys = session.exec(select(OutboxMessage.idempotency_key)).all()
    return [key.split("|")[2].removeprefix("tick:") for key in keys]


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _start_runner(env: dict[str, str], executions: Path, database_url: str, anchor: dt.datetime,
                  log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, str(ROOT / "tests" / "faults" / "_ticker.py"), str(executions),
                                 database_url, str(INTERVAL), anchor.isoformat()], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _run_states(port: int) -> Counter[str]:
    """How Prefect itself saw the runs that were due by now: Completed, Crashed, Pending (orphaned) ..."""
    body = {"flow_runs": {"expected_start_time": {"before_": dt.datetime.now(dt.UTC).isoformat()}},
            "limit": 200, "offset": 0, "sort": "EXPECTED_START_TIME_ASC"}
    runs = httpx.post(f"http://127.0.0.1:{port}/api/flow_runs/filter", json=body, timeout=10).json()
    return Counter(run["state_name"] for run in runs)


def test_a_server_restart_loses_no_scheduled_sweep_and_doubles_none(engine: Engine, sqlite_url: str,
                                                                     tmp_path: Path) -> None:
    started = time.monotonic()
    port, home = free_port(), tmp_path / "prefect-home"
    home.mkdir()
    env, executions = _environment(home, port), tmp_path / "executions.db"
    server_log, runner_log = tmp_path / "server.log", tmp_path / "runner.log"
    server = _start_server(env, port, server_log)
    anchor = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
    runner = _start_runner(env, executions, sqlite_url, anchor, runner_log)
    try:
        first_up = time.monotonic() - started
        assert _wait_for(lambda: len(_effects(engine)) >= 1, 40), runner_log.read_text()[-3000:]
        first_run = time.monotonic() - started
        # Restart the server the way its service manager does: the runner is bound to the server
        # (systemd PartOf=), so it stops first and starts again once the server is healthy.
        _stop(runner, grace=3)
        _stop(server)
        down_at = dt.datetime.now(dt.UTC)
        time.sleep(DOWN)
        server = _start_server(env, port, server_log)  # same port, same database
        up_at = dt.datetime.now(dt.UTC)
        time.sleep(RUNNER_DELAY)
        runner = _start_runner(env, executions, sqlite_url, anchor, runner_log)
        budget = DEADLINE - (time.monotonic() - started)
        after = lambda: [s for s in _effects(engine) if s > up_at.isoformat()]  # noqa: E731
        assert _wait_for(lambda: len(after()) >= 1, max(budget, 10)), runner_log.read_text()[-3000:]
        prefect_saw = _run_states(port)
    finally:
        _stop(runner, grace=3)
        _stop(server)
    elapsed = time.monotonic() - started

    ran = Counter(_executions(executions))
    effects = Counter(_effects(engine))
    last = max(dt.datetime.fromisoformat(s) for s in effects)
    expected = []
    slot = anchor
    while slot <= last:
        expected.append(slot.isoformat(timespec="seconds"))
        slot += dt.timedelta(seconds=INTERVAL)
    assert sorted(effects) == expected, "every slot up to the last run has its effect: none lost"
    assert set(effects.values()) == {1}, "each slot's effect exactly once, however often Prefect ran it"
    assert after(), "the schedule continued after the restart"
    own = [s for s in expected if s in ran]
    late = [s for s in own if down_at.isoformat() < s < up_at.isoformat()]
    doubled = sum(ran[s] - 1 for s in own)
    print(f"\nFAULT prefect-restart: {len(expected)} slots up to the last completed run; {len(own)} ran their own "
          f"run ({len(late)} late, scheduled during the {DOWN:.0f} s outage), {doubled} ran twice, "
          f"{len(expected) - len(own)} had no run of their own and were caught up by the next run; "
          f"Prefect's view: {dict(prefect_saw)}; each effect exactly once; {elapsed:.0f} s "
          f"(server up {first_up:.0f} s, first run {first_run:.0f} s)")
