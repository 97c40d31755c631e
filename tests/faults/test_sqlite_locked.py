"""SQLite beside a long delivery (issue 13): `pprflow outbox cancel` — a command that reads, then writes —
run while a delivery run hands messages to a slow loopback SMTP server, never ends in "database is
locked". Without the CLI's run-again (pprflow/cli/locked.py) a command whose deferred transaction read
before the delivery committed could not write (SQLITE_BUSY_SNAPSHOT): 1 of these 8 failed in the run
measured on 29 Nov 2026 (the same pattern in-process: 152 of 300). Probabilistic: a run without the fix
can pass by luck; a run with it must never fail."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import DeliveryReport, deliver_due, queue_message
from pprflow.tasks.transports.smtp import SmtpTransport
from pprflow.templates.catalogue import MESSAGE_KINDS
from tests.factories import directory
from tests.support.mailboxes import RecordingSmtp
from tests.transports.loopback import free_port

PPRFLOW = Path(sys.executable).parent / "pprflow"
SENDER = "ppr@vejle.dk"
DELIVERED, CANCELLED = 600, 8


def test_cli_writes_during_a_slow_delivery_never_find_the_database_locked(engine: Engine, sqlite_url: str) -> None:
    directory(engine)
    context = MESSAGE_KINDS["kv_topic_list"].example_context()  # KV-1: no case, no child
    with Session(engine) as session:
        for i in range(DELIVERED):
            queue_message(session, kind="kv_topic_list", to=f"laerer{i}@skole.example", context=context,
                          serves=f"now:{i}", sender=SENDER)
        later = [queue_message(session, kind="kv_topic_list", to=f"leder{i}@skole.example", context=context,
                               serves=f"later:{i}", sender=SENDER, send_after=utcnow() + dt.timedelta(days=3))
                 for i in range(CANCELLED)]
        session.commit()
        later_ids = [m.id for m in later if m is not None]
    handler = RecordingSmtp(latency=0.1)  # slow while the commands run; then the rest goes at once
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    reports: list[DeliveryReport] = []
    delivery = threading.Thread(target=lambda: reports.append(
        deliver_due(engine, SmtpTransport("127.0.0.1", controller.port, "none", timeout=10))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PPRFLOW_PROFILE": "vejle", "PYTHONWARNINGS": "ignore"})
    results = []
    overlapped = 0
    try:
        delivery.start()
        for message_id in later_ids:
            results.append(subprocess.run(
                [str(PPRFLOW), "--db", sqlite_url, "--as", "admin@ppr.example", "outbox", "cancel", str(message_id),
                 "--reason", "Forkert modtager"], capture_output=True, text=True, env=env, timeout=120, check=False))
            overlapped += delivery.is_alive()
        handler.latency = 0.0
        delivery.join(timeout=300)
    finally:
        controller.stop()
    assert overlapped == CANCELLED, f"only {overlapped} commands ran during the delivery: the test proves little"
    assert [r.stderr for r in results if r.returncode != 0] == []
    assert all("database is locked" not in r.stderr for r in results)
    [report] = reports
    assert len(report.sent) == DELIVERED and report.stopped_because is None
    assert Counter(handler.keys()).most_common(1)[0][1] == 1, "each delivered once"
    with Session(engine) as session:
        statuses = Counter(m.status for m in session.exec(select(OutboxMessage)).all())
    assert statuses == {"sent": DELIVERED, "cancelled": CANCELLED}
