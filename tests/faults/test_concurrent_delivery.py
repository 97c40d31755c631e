"""Delivery runs that overlap (issue 13): 2 and then 4 delivery processes started at the same moment
over the same outbox, on SQLite and PostgreSQL, to loopback SMTP, Exchange and Graph servers that
count every message by its idempotency key. Each message is claimed by one conditional statement
(tasks/outbox.py `claim_next`), so the runs split the work: 0 doubles, 0 lost, 0 tracebacks.

Before the atomic claim, two `pprflow outbox send` on PostgreSQL delivered 59 of 60 messages twice
(benchmarks/concurrent_delivery.py measures it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests.faults._support import MAILBOX, by_status, queue
from tests.faults.test_delivery_killed import Driver
from tests.support.mailboxes import RecordingSmtp, SentItemsEws, SentItemsGraph
from tests.transports.loopback import LoopbackCert, LoopbackServer

PER_ROUND = 60
ROUNDS = (2, 4)
"""Concurrent delivery processes per round: first two, then four."""


def overlap(engine: Engine, config: dict[str, Any], sent: Callable[[], Counter[str]]) -> dict[str, int]:
    """Start 4 warm delivery processes; per round queue 60 messages and let 2 (then 4) deliver at once."""
    drivers = [Driver(config) for _ in range(max(ROUNDS))]
    stderr = ""
    try:
        first = 0
        for n in ROUNDS:
            queue(engine, first=first, count=PER_ROUND)
            first += PER_ROUND
            pids = [driver.go() for driver in drivers[:n]]  # all forked before any finishes its imports
            statuses = [driver.wait(pid) for driver, pid in zip(drivers[:n], pids, strict=True)]
            assert statuses == [0] * n, f"every run ends cleanly: {statuses}"
    finally:
        for driver in drivers:
            driver.close()
            assert driver.proc.stderr is not None
            stderr += driver.proc.stderr.read()
    counts = sent()
    with Session(engine) as session:
        keys = {m.idempotency_key for m in session.exec(select(OutboxMessage)).all()}
    doubles = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(keys - set(counts))
    assert "Traceback" not in stderr and "delivery failed" not in stderr, stderr
    assert by_status(engine) == {"sent": first}, "every message is recorded as sent"
    assert doubles == 0, f"{doubles} messages went out twice"
    assert lost == 0, f"{lost} messages never reached the server"
    assert set(counts) == keys
    return {"messages": first, "doubles": doubles, "lost": lost}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> tuple[Engine, str]:
    """The engine and its URL, on SQLite (WAL, BEGIN IMMEDIATE) and on PostgreSQL (SKIP LOCKED)."""
    if request.param == "sqlite":
        return request.getfixturevalue("engine"), request.getfixturevalue("sqlite_url")
    engine = request.getfixturevalue("pg_engine")
    return engine, engine.url.render_as_string(hide_password=False)


def test_overlapping_runs_deliver_each_message_once_over_smtp(db: tuple[Engine, str],
                                                              smtp: tuple[RecordingSmtp, int]) -> None:
    engine, url = db
    handler, port = smtp
    result = overlap(engine, {"db": url, "transport": "smtp", "server": port}, lambda: handler.sent)
    print(f"\nFAULT overlap smtp {engine.dialect.name}: {result}")


def test_overlapping_runs_deliver_each_message_once_over_exchange(db: tuple[Engine, str]) -> None:
    engine, url = db
    ews = SentItemsEws(latency=0.01)
    with LoopbackServer(ews) as server:
        config = {"db": url, "transport": "exchange", "server": server.url, "mailbox": MAILBOX}
        result = overlap(engine, config, lambda: Counter(ews.sent))
    print(f"\nFAULT overlap exchange {engine.dialect.name}: {result}")


def test_overlapping_runs_deliver_each_message_once_over_graph(db: tuple[Engine, str],
                                                               loopback_cert: LoopbackCert) -> None:
    engine, url = db
    graph = SentItemsGraph(mailbox=MAILBOX, latency=0.01)
    with LoopbackServer(graph, tls=loopback_cert.server_context()) as server:
        graph.base = server.url
        config = {"db": url, "transport": "graph", "server": server.url, "mailbox": MAILBOX,
                  "cert": str(loopback_cert.cert_file)}
        result = overlap(engine, config, lambda: Counter(graph.sent))
    assert not graph.drafts, "no draft left behind"
    print(f"\nFAULT overlap graph {engine.dialect.name}: {result}")
