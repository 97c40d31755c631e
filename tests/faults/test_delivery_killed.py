"""A delivery process killed with SIGKILL at random moments, 30 times per transport, against real
loopback servers: afterwards (and one clean run) no message is lost; Exchange and Graph send none
twice (the idempotency key is looked up in the server's Sent Items); SMTP repeats at most the one
message in flight per kill. Exchange runs on PostgreSQL, SMTP and Graph on SQLite."""

from __future__ import annotations

import json
import os
import queue as queues
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests.faults._support import MAILBOX, by_status, queue
from tests.support.mailboxes import RecordingSmtp, SentItemsEws, SentItemsGraph
from tests.transports.loopback import LoopbackCert, LoopbackServer, free_port

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
PER_ROUND = 3


class Driver:
    """The forking delivery driver (tests/faults/_delivery_driver.py) and its line protocol."""

    def __init__(self, config: dict[str, Any]) -> None:
        env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1", "PYTHONWARNINGS": "ignore"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults._delivery_driver", json.dumps(config)],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queues.Queue[str] = queues.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.expect("ready", timeout=60) == "ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 30) -> str:
        line = self.lines.get(timeout=timeout)
        assert line.startswith(prefix), line
        return line

    def go(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return int(self.expect("pid ").split()[1])

    def wait(self, pid: int) -> int:
        line = self.expect(f"exit {pid} ")
        return int(line.split()[2])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def kill_repeatedly(engine: Engine, driver: Driver, *, seed: int) -> dict[str, int]:
    """30 rounds: queue a few messages, start a delivery process, SIGKILL it after a random delay."""
    rng = random.Random(seed)
    queue(engine, first=0, count=10)
    killed = finished = 0
    for round_ in range(KILLS):
        queue(engine, first=10 + round_ * PER_ROUND, count=PER_ROUND)
        pid = driver.go()
        time.sleep(rng.uniform(0.02, 0.25))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = driver.wait(pid)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed += 1
        else:
            assert os.WEXITSTATUS(status) == 0, "a delivery run that was not killed ends cleanly"
            finished += 1
    final = driver.go()  # the clean run after the storm
    assert driver.wait(final) == 0
    return {"killed": killed, "finished": finished, "messages": 10 + KILLS * PER_ROUND}


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage)).all())


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingSmtp, int]]:
    handler = RecordingSmtp(latency=0.01)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_smtp_killed_30_times_loses_nothing_and_repeats_at_most_the_message_in_flight(
        engine: Engine, sqlite_url: str, smtp: tuple[RecordingSmtp, int]) -> None:
    handler, port = smtp
    driver = Driver({"db": sqlite_url, "transport": "smtp", "server": port})
    try:
        result = kill_repeatedly(engine, driver, seed=7)
    finally:
        driver.close()
    rows = outbox_rows(engine)
    assert by_status(engine) == {"sent": result["messages"]}, "nothing lost: every message is sent"
    counts = handler.sent
    assert set(counts) == {m.idempotency_key for m in rows}, "every message reached the server"
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= result["killed"], "at most the one message in flight repeats per kill"
    attempts = {m.idempotency_key: m.attempts for m in rows}
    assert all(attempts[key] >= n for key, n in counts.items()), "a repeat is always a re-claimed message"
    print(f"\nFAULT smtp: {result['killed']} kills, {result['messages']} messages, {repeats} repeated")


def test_exchange_killed_30_times_on_postgresql_sends_every_message_exactly_once(pg_engine: Engine) -> None:
    ews = SentItemsEws(latency=0.01)
    with LoopbackServer(ews) as server:
        url = pg_engine.url.render_as_string(hide_password=False)
        driver = Driver({"db": url, "transport": "exchange", "server": server.url, "mailbox": MAILBOX})
        try:
            result = kill_repeatedly(pg_engine, driver, seed=11)
        finally:
            driver.close()
    rows = outbox_rows(pg_engine)
    assert by_status(pg_engine) == {"sent": result["messages"]}
    assert dict(ews.sent) == {m.idempotency_key: 1 for m in rows}, "each key once in Sent Items"
    print(f"\nFAULT exchange: {result['killed']} kills, {result['messages']} messages, "
          f"{sum(ews.sent.values()) - len(ews.sent)} repeated, "
          f"{sum(1 for m in rows if m.attempts > 1)} re-claimed and found in Sent Items or re-sent once")


def test_graph_killed_30_times_sends_every_message_exactly_once(engine: Engine, sqlite_url: str,
                                                                 loopback_cert: LoopbackCert) -> None:
    graph = SentItemsGraph(mailbox=MAILBOX, latency=0.01)
    with LoopbackServer(graph, tls=loopback_cert.server_context()) as server:
        graph.base = server.url
        driver = Driver({"db": sqlite_url, "transport": "graph", "server": server.url, "mailbox": MAILBOX,
                         "cert": str(loopback_cert.cert_file)})
        try:
            result = kill_repeatedly(engine, driver, seed=13)
        finally:
            driver.close()
    rows = outbox_rows(engine)
    assert by_status(engine) == {"sent": result["messages"]}
    assert dict(graph.sent) == {m.idempotency_key: 1 for m in rows}, "each key once in Sent Items"
    assert not graph.drafts, "no draft left behind"
    print(f"\nFAULT graph: {result['killed']} kills, {result['messages']} messages, "
          f"{sum(graph.sent.values()) - len(graph.sent)} repeated")
