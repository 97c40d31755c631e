"""Abuse notification latency (ESC-1/LAW-1): queued in the outbox -> accepted by the mail server.

A loopback SMTP server; an outbox holding a routine backlog (300 messages from the same mailbox,
behind Exchange Online's 30-a-minute throttle) that a routine delivery run works through at the same
time; the urgent run (`pprflow.tasks.delivery.deliver_urgent`, what the `underretning-straks`
deployment runs every minute) watching the urgent lane. Notifications are queued at random moments;
each one's latency is the server's receipt time minus the row's created_at.

Not measured here: the wait for Prefect to start the next every-minute run (a run watches for 50 s
and the next starts on the minute, so the lane is watched nearly all the time).

    python benchmarks/notification_latency.py [--notifications 10] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0

URGENT_RUN = """
import sys
from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import deliver_urgent
print(deliver_urgent(ctx=Ctx.from_environment(), watch_seconds=float(sys.argv[1]), poll_seconds=1.0), flush=True)
"""

ROUTINE_RUN = """
from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import deliver
print(deliver(ctx=Ctx.from_environment()), flush=True)
"""


def queue(url: str, kind: str, n: int, first: int) -> None:
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.models.types import utcnow
    from pprflow.tasks.outbox import queue_message, writer
    from pprflow.templates.catalogue import MESSAGE_KINDS

    context = MESSAGE_KINDS[kind].example_context()
    to = "modtagelsen@vejle.example" if kind == "abuse_notification" else None
    # BEGIN IMMEDIATE: on SQLite a read-then-write transaction beside a delivery run that commits
    # would otherwise fail with "database is locked" (SQLITE_BUSY_SNAPSHOT; see pprflow/db.py)
    with Session(writer(get_engine(url))) as session:
        for i in range(first, first + n):
            queue_message(session, kind=kind, to=to or f"laerer{i}@skole.example", context=context,
                          serves=f"bench:{i}", sender="ppr@vejle.example",
                          send_after=utcnow() - dt.timedelta(minutes=10))
        session.commit()


def run(db: str, url: str, notifications: int) -> dict[str, Any]:
    from aiosmtpd.controller import Controller
    from sqlmodel import Session, select

    sys.path.insert(0, str(ROOT))
    from pprflow.db import get_engine, upgrade
    from pprflow.models.tables import OutboxMessage
    from tests.support.mailboxes import RecordingSmtp

    upgrade(url)
    queue(url, "receipt", 300, 0)
    received: dict[str, float] = {}

    class Timed(RecordingSmtp):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            answer = await super().handle_DATA(server, session, envelope)
            received[self.keys()[-1]] = time.time()
            return answer

    handler = Timed(latency=0.05)
    controller = Controller(handler, hostname="127.0.0.1", port=common.free_port())
    controller.start()
    env = {**os.environ, "PPRFLOW_DATABASE_URL": url, "PPRFLOW_TRANSPORT": "smtp", "PPRFLOW_SMTP_HOST": "127.0.0.1",
           "PPRFLOW_SMTP_PORT": str(controller.port), "PPRFLOW_SMTP_SECURITY": "none", "PPRFLOW_PROFILE": "vejle",
           "PPRFLOW_HOME": tempfile.mkdtemp(prefix="pprflow-bench-home-"), "PYTHONWARNINGS": "ignore"}
    env.pop("PREFECT_API_URL", None)
    watch = 6.0 * notifications + 15
    rng = random.Random(5)
    try:
        urgent = subprocess.Popen([sys.executable, "-c", URGENT_RUN, str(watch)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        routine = subprocess.Popen([sys.executable, "-c", ROUTINE_RUN], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(5)  # both runs have started; the routine one is working through its backlog
        for i in range(notifications):
            queue(url, "abuse_notification", 1, i)
            time.sleep(rng.uniform(2.0, 8.0))
        urgent_out, urgent_err = urgent.communicate(timeout=watch + 120)
        routine.communicate(timeout=600)
    finally:
        controller.stop()
    with Session(get_engine(url)) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
        latencies = [received[m.idempotency_key] - m.created_at.timestamp() for m in rows
                     if m.idempotency_key in received]
    get_engine(url).dispose()
    return {"db": db, "notifications": notifications, "delivered": len(latencies),
            "median_s": common.median(latencies) if latencies else None,
            "max_s": max(latencies) if latencies else None, "routine_sent": len(received) - len(latencies),
            "urgent_run_ok": urgent.returncode == 0 and "Traceback" not in urgent_err}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=10)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    common.isolate_prefect_home()
    rows = []
    for db in args.db:
        if db == "postgresql":
            if not common.pg_available():
                print(f"# PostgreSQL not reachable at {common.PG_ADMIN_URL}: skipped", file=sys.stderr)
                continue
            with common.scratch_postgres() as url:
                rows.append(run(db, common.sqlalchemy_url(url), args.notifications))
        else:
            with common.scratch_sqlite() as path:
                rows.append(run(db, common.sqlalchemy_url(path), args.notifications))
    targets = [common.target(f"{r['db']}: every notification at the server within {TARGET_SECONDS:.0f} s",
                             r["max_s"], r["max_s"] is not None and r["max_s"] <= TARGET_SECONDS
                             and r["delivered"] == r["notifications"]) for r in rows]
    common.report("notification_latency", rows, ["db", "notifications", "delivered", "median_s", "max_s",
                                                 "routine_sent", "urgent_run_ok"], targets=targets)
    return 0 if all(t["met"] for t in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
