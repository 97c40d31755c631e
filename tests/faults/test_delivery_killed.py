"""A delivery process killed with SIGKILL 30 times per transport, against real loopback servers, each
time at the worst moment: the server has accepted the k-th message of the round (k random, 1..3) and
holds its answer (tests/support/mailboxes.py, `Tripwire`) until the test has killed the client. So
every kill leaves one message sent without the outbox knowing. Afterwards (and one clean run):

- no message is lost (every row `sent`, every key on the server);
- Exchange and Graph: each of the 30 messages in flight was looked up in Sent Items by the next run
  and found (`found[key] >= 1`), the clean run reports the last one as `already_sent`, and no key
  was accepted twice (max count per key on the server = 1);
- SMTP has no lookup: each kill repeats exactly the one message in flight, so repeats == kills
  (the bound: at most one double per kill), and no other message is repeated.

Exchange runs on PostgreSQL, SMTP and Graph on SQLite."""

from __future__ import annotations

import json
import os
import queue as queues
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests.faults._support import MAILBOX, by_status, queue
from tests.support.mailboxes import RecordingSmtp, SentItemsEws, SentItemsGraph, Tripwire
from tests.transports.loopback import LoopbackCert, LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
PER_ROUND = 3

pytestmark = pytest.mark.slow


class Driver:
    """The forking delivery driver (tests/faults/_delivery_driver.py) and its line protocol."""

    def __init__(self, config: dict[str, Any]) -> None:
        env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1", "PYTHONWARNINGS": "ignore"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults._delivery_driver", json.dumps(config)],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queues.Queue[str] = queues.Queue()
        self.reports: dict[int, dict[str, list[int]]] = {}
        threading.Thread(target=self._read, daemon=True).start()
        assert self.expect("ready", timeout=60) == "ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("report "):  # written by the child itself, before its exit line
                _, pid, body = line.split(" ", 2)
                self.reports[int(pid)] = json.loads(body)
            else:
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

    def wait(self, pid: int, timeout: float = 30) -> int:
        line = self.expect(f"exit {pid} ", timeout=timeout)
        return int(line.split()[2])

    def stderr_tail(self) -> str:
        self.close()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class Storm:
    kills: int
    messages: int
    in_flight: list[str]  # per kill, the key the server had accepted when the client died
    final: dict[str, list[int]]  # the clean run's report (message ids per outcome)


def kill_repeatedly(engine: Engine, driver: Driver, tripwire: Tripwire, *, seed: int) -> Storm:
    """30 rounds: queue 3 messages, start a delivery process, SIGKILL it when the server has accepted
    the k-th message of the round and before it has answered; then one clean run."""
    rng = random.Random(seed)
    queue(engine, first=0, count=10)
    in_flight: list[str] = []
    for round_ in range(KILLS):
        queue(engine, first=10 + round_ * PER_ROUND, count=PER_ROUND)
        tripwire.arm(rng.randint(1, PER_ROUND))
        pid = driver.go()
        key = tripwire.wait_hit(timeout=90)
        if key is None:
            tripwire.release()
            raise AssertionError(f"round {round_}: the server never accepted the k-th message\n"
                                 f"{driver.stderr_tail()}")
        os.kill(pid, signal.SIGKILL)
        status = driver.wait(pid, timeout=30)
        tripwire.release()  # the held answer now goes to a dead socket
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"round {round_}: {status}"
        in_flight.append(key)
    final = driver.go()  # the clean run after the storm
    assert driver.wait(final, timeout=120) == 0, driver.stderr_tail()
    return Storm(kills=KILLS, messages=10 + KILLS * PER_ROUND, in_flight=in_flight, final=driver.reports[final])


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage)).all())


def _ids(rows: list[OutboxMessage]) -> dict[str, int]:
    return {m.idempotency_key: m.id or 0 for m in rows}


def test_smtp_killed_30_times_loses_nothing_and_repeats_exactly_the_message_in_flight(
        engine: Engine, sqlite_url: str, smtp: tuple[RecordingSmtp, int]) -> None:
    handler, port = smtp
    driver = Driver({"db": sqlite_url, "transport": "smtp", "server": port})
    try:
        storm = kill_repeatedly(engine, driver, handler.tripwire, seed=7)
    finally:
        driver.close()
    rows = outbox_rows(engine)
    assert len(rows) == storm.messages == 100
    assert by_status(engine) == {"sent": storm.messages}, "nothing lost: every message is sent"
    counts = handler.sent
    assert set(counts) == {m.idempotency_key for m in rows}, "every message reached the server"
    assert len(storm.in_flight) == storm.kills == 30, "every round was killed with a message in flight"
    # SMTP cannot ask the server what it has: the message in flight at each kill is sent again, once
    # per kill that caught it, and nothing else is ever repeated (bound: at most one double per kill).
    held = Counter(storm.in_flight)
    assert {key: n - 1 for key, n in counts.items() if n > 1} == dict(held)
    assert sum(n - 1 for n in counts.values()) == storm.kills
    attempts = {m.idempotency_key: m.attempts for m in rows}
    assert all(attempts[key] >= 2 for key in held), "a repeat is always a re-claimed message"
    ids = _ids(rows)
    assert storm.final["already_sent"] == [], "SMTP has no Sent Items lookup"
    assert ids[storm.in_flight[-1]] in storm.final["sent"], "the clean run re-sent the last message in flight"
    print(f"\nFAULT smtp: {storm.kills} kills with a message in flight, {storm.messages} messages, "
          f"{sum(n - 1 for n in counts.values())} repeated (bound: 1 per kill)")


def _assert_found_not_resent(rows: list[OutboxMessage], storm: Storm, server: SentItemsEws | SentItemsGraph) -> None:
    assert len(storm.in_flight) == storm.kills == 30, "every round was killed with a message in flight"
    assert len(set(storm.in_flight)) == storm.kills, "each kill caught a different message"
    assert dict(server.sent) == {m.idempotency_key: 1 for m in rows}, "each key once in Sent Items (max 1)"
    assert max(server.sent.values()) == 1
    for key in storm.in_flight:
        assert server.found[key] >= 1, f"the re-run looked {key} up in Sent Items and found it"
    attempts = {m.idempotency_key: m.attempts for m in rows}
    assert all(attempts[key] >= 2 for key in storm.in_flight), "each message in flight was re-claimed"
    ids = _ids(rows)
    assert storm.final["already_sent"] == [ids[storm.in_flight[-1]]], \
        "the clean run found the last message in flight already sent and did not send it"


def test_exchange_killed_30_times_on_postgresql_sends_every_message_exactly_once(pg_engine: Engine) -> None:
    ews = SentItemsEws()
    with LoopbackServer(ews) as server:
        url = pg_engine.url.render_as_string(hide_password=False)
        driver = Driver({"db": url, "transport": "exchange", "server": server.url, "mailbox": MAILBOX})
        try:
            storm = kill_repeatedly(pg_engine, driver, ews.tripwire, seed=11)
        finally:
            driver.close()
    rows = outbox_rows(pg_engine)
    assert len(rows) == storm.messages == 100
    assert by_status(pg_engine) == {"sent": storm.messages}, "nothing lost"
    _assert_found_not_resent(rows, storm, ews)
    print(f"\nFAULT exchange: {storm.kills} kills with a message in flight, {storm.messages} messages, "
          f"{sum(ews.found[k] > 0 for k in storm.in_flight)} found in Sent Items by the re-run, 0 repeated")


def test_graph_killed_30_times_sends_every_message_exactly_once(engine: Engine, sqlite_url: str,
                                                                 loopback_cert: LoopbackCert) -> None:
    graph = SentItemsGraph(mailbox=MAILBOX)
    with LoopbackServer(graph, tls=loopback_cert.server_context()) as server:
        graph.base = server.url
        driver = Driver({"db": sqlite_url, "transport": "graph", "server": server.url, "mailbox": MAILBOX,
                         "cert": str(loopback_cert.cert_file)})
        try:
            storm = kill_repeatedly(engine, driver, graph.tripwire, seed=13)
        finally:
            driver.close()
    rows = outbox_rows(engine)
    assert len(rows) == storm.messages == 100
    assert by_status(engine) == {"sent": storm.messages}, "nothing lost"
    _assert_found_not_resent(rows, storm, graph)
    assert not graph.drafts, "no draft left behind"
    print(f"\nFAULT graph: {storm.kills} kills with a message in flight, {storm.messages} messages, "
          f"{sum(graph.found[k] > 0 for k in storm.in_flight)} found in Sent Items by the re-run, 0 repeated")
