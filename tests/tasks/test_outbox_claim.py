"""The atomic outbox claim (`tasks/outbox.py` `claim_next`, `dead_claimants`): which due message a delivery
run takes, and when a claim held by another run is taken over. Each message is sent once (README's delivery
promise; RULES.md gives it no ID): a message held by a live run is never handed to a second one; ESC-2: the
notification's urgent lane leaves ahead of routine mail.

These tests call the claim itself on a real database (SQLite; the lock test on the real PostgreSQL server),
so removing any of its conditions fails one of them (scripts/mutation.sh claim)."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks import outbox
from pprflow.tasks.outbox import CLAIM_LEASE, ROUTINE, URGENT, claim_next, dead_claimants, new_claimant, queue_message
from pprflow.templates.catalogue import MESSAGE_KINDS

SENDER = "ppr@vejle.example"
OTHER_SENDER = "ppr@randers.example"
NOW = utcnow().replace(microsecond=0)


def queue(engine: Engine, n: int, *, kind: str = "receipt", age: dt.timedelta = dt.timedelta(hours=1),
          sender: str = SENDER, **fields: object) -> int:
    """One pending message, due `age` before NOW; `fields` are set on the row afterwards."""
    with Session(engine) as session:
        message = queue_message(session, kind=kind, to=f"laerer{n}@skole.example",
                                context=MESSAGE_KINDS[kind].example_context(), serves=f"claim:{n}",
                                sender=sender, send_after=NOW - age)
        assert message is not None and message.id is not None
        for name, value in fields.items():
            setattr(message, name, value)
        session.add(message)
        session.commit()
        return message.id


def claim(engine: Engine, claimant: str = "run-a", *, now: dt.datetime = NOW, **kw: object) -> int | None:
    with Session(engine) as session:
        return claim_next(session, claimant=claimant, now=now, **kw)  # type: ignore[arg-type]


def row(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def drain(engine: Engine, claimant: str = "run-a", **kw: object) -> list[int]:
    taken: list[int] = []
    while (message_id := claim(engine, claimant, **kw)) is not None:  # type: ignore[arg-type]
        taken.append(message_id)
        assert len(taken) <= 10, f"the same messages are claimed again and again: {taken}"
    return taken


def test_a_free_due_message_is_claimed_once_and_the_claim_is_committed(engine: Engine) -> None:
    message_id = queue(engine, 1)
    taken = claim(engine, "run-a")
    assert taken == message_id and type(taken) is int
    stored = row(engine, message_id)  # read in a new session: the claim was committed
    assert stored.claimed_by == "run-a" and stored.claimed_at is not None
    assert stored.claimed_at.replace(tzinfo=None) == NOW.replace(tzinfo=None)
    assert claim(engine, "run-b") is None, "a message held by a live run is never handed to a second one"
    assert claim(engine, "run-a") is None, "nor twice to the same run"


def test_only_pending_messages_that_are_due_are_claimed(engine: Engine) -> None:
    due_now = queue(engine, 1, age=dt.timedelta(0))
    queue(engine, 2, age=-dt.timedelta(seconds=1))  # due a second from now
    queue(engine, 3, status="sent")
    queue(engine, 4, status="cancelled")
    queue(engine, 5, status="failed")
    assert drain(engine) == [due_now], "send_after == now is due; later, sent, cancelled and failed are not"


def test_a_claim_is_taken_over_only_after_the_lease_or_when_its_run_is_dead(engine: Engine) -> None:
    fresh = queue(engine, 1, claimed_by="run-live", claimed_at=NOW - dt.timedelta(minutes=1))
    at_lease = queue(engine, 2, claimed_by="run-live", claimed_at=NOW - CLAIM_LEASE)
    expired = queue(engine, 3, claimed_by="run-gone", claimed_at=NOW - CLAIM_LEASE - dt.timedelta(seconds=1))
    dead = queue(engine, 4, claimed_by="run-dead", claimed_at=NOW - dt.timedelta(minutes=1),
                 age=dt.timedelta(hours=2))
    unclaimed = queue(engine, 5)
    assert drain(engine) == [expired, unclaimed], "a claim as old as the lease is still held; an older one is free"
    later = queue(engine, 6)
    assert drain(engine, takeover=["run-dead"]) == [dead, later], "a dead run's claim is free at once, as is a free one"
    assert drain(engine, takeover=["run-other"]) == []
    assert {row(engine, i).claimed_by for i in (fresh, at_lease)} == {"run-live"}
    assert row(engine, dead).claimed_by == "run-a"


def test_the_urgent_lane_first_then_oldest_first_then_lowest_id_ESC_2(engine: Engine) -> None:
    old_routine = queue(engine, 1, age=dt.timedelta(hours=3))
    urgent = queue(engine, 2, kind="abuse_notification", age=dt.timedelta(minutes=1))
    assert row(engine, urgent).lane == URGENT and row(engine, old_routine).lane == ROUTINE
    same_time_a = queue(engine, 3, age=dt.timedelta(hours=2))
    same_time_b = queue(engine, 4, age=dt.timedelta(hours=2))
    newer = queue(engine, 5, age=dt.timedelta(hours=1))
    oldest_queued_last = queue(engine, 6, age=dt.timedelta(hours=4))
    assert drain(engine) == [urgent, oldest_queued_last, old_routine, same_time_a, same_time_b, newer]


def test_the_lane_sender_and_only_filters_are_each_obeyed(engine: Engine) -> None:
    routine = queue(engine, 1)
    urgent = queue(engine, 2, kind="abuse_notification")
    other = queue(engine, 3, sender=OTHER_SENDER)
    assert drain(engine, lanes=[ROUTINE], skip_senders=[SENDER]) == [other]
    assert drain(engine, lanes=[ROUTINE], only=[urgent]) == []
    assert drain(engine, only=[urgent, other]) == [urgent]
    assert drain(engine, skip_senders=()) == [routine]


def test_a_run_of_this_process_is_dead_once_it_has_ended() -> None:
    running, ended = new_claimant(), new_claimant()
    outbox._ACTIVE_RUNS.add(running)
    try:
        assert dead_claimants([running, ended]) == [ended]
    finally:
        outbox._ACTIVE_RUNS.discard(running)
    assert dead_claimants([running]) == [running]


def test_a_run_of_another_process_is_dead_only_when_its_process_is_gone() -> None:
    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    # SIGHUP back to its default (a run under nohup would ignore it), so any signal but 0 would end it
    alive = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL);"
                              " print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert alive.stdout is not None and alive.stdout.readline() == "ready\n"
    try:
        claimants = [f"other-{host}:{gone.pid}:dddd",  # another machine: only the lease frees it
                     f"{host}:notapid:eeee", "garbage",  # not ours to judge; the scan goes on
                     f"{host}:{gone.pid}:aaaa", f"{host}:{alive.pid}:bbbb", f"{host}:1:cccc",  # pid 1: init, alive
                     f"{host}:{gone.pid}:ff:ff"]  # the token is whatever follows the pid
        assert dead_claimants(claimants) == [f"{host}:{gone.pid}:aaaa", f"{host}:{gone.pid}:ff:ff"]
        with pytest.raises(subprocess.TimeoutExpired):  # asking whether a run is alive never signals it
            alive.wait(timeout=1)
    finally:
        alive.kill()
        alive.wait()


def test_a_process_of_another_user_counts_as_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.kill(pid, 0) on another user's process raises PermissionError: it exists, so its claim is kept
    (as root every process can be signalled, so the error is raised here on purpose)."""
    def not_yours(pid: int, signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(outbox.os, "kill", not_yours)
    assert dead_claimants([f"{socket.gethostname()}:{os.getpid() + 1}:aaaa"]) == []


def test_a_claimant_names_its_host_and_process_and_is_unique() -> None:
    first, second = new_claimant(), new_claimant()
    assert first != second
    assert re.fullmatch(rf"{re.escape(socket.gethostname())}:{os.getpid()}:[0-9a-f]{{12}}", first), first


@pytest.mark.postgres
def test_concurrent_runs_skip_a_row_another_run_is_locking_on_postgresql(pg_engine: Engine) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED in the candidate query. A run never waits for (or takes) a row
    another transaction is claiming; it takes the next one."""
    first = queue(pg_engine, 1, age=dt.timedelta(hours=2))
    second = queue(pg_engine, 2, age=dt.timedelta(hours=1))
    third = queue(pg_engine, 3, age=dt.timedelta(hours=1))
    with pg_engine.begin() as conn:  # a new row version of `second`: it now lies after `third` in the heap
        conn.execute(text("UPDATE outboxmessage SET claimed_by = NULL WHERE id = :id"), {"id": second})
    with pg_engine.connect() as other:
        locking = other.begin()
        other.execute(text("SELECT id FROM outboxmessage WHERE id = :id FOR UPDATE"), {"id": first})
        with Session(pg_engine) as session:
            session.execute(text("SET lock_timeout = '3s'"))
            assert claim_next(session, claimant="run-b", now=NOW) == second, "same time: the lower id first"
        locking.rollback()
    assert claim(pg_engine, "run-c") == first
    with Session(pg_engine) as session:
        holders = dict(session.exec(select(OutboxMessage.id, OutboxMessage.claimed_by)).all())  # type: ignore[arg-type]
    assert holders == {first: "run-c", second: "run-b", third: None}
