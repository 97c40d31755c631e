"""Delivery with a per-mailbox throttle: the message that would exceed the limit is deferred (not sent,
not failed, not tried: still pending), the rest of that mailbox waits behind it, another mailbox goes on;
and production's `pprflow.tasks.delivery.deliver` passes the configured throttle and defers the same way."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from pprflow.tasks import delivery
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.throttle import MailboxThrottle
from pprflow.tasks.transports.base import OutgoingMail
from tests.faults._support import by_status, queue


class Recording:
    """A transport that records what it sent (the interface `deliver_due` needs)."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> str:
        self.sent.append(mail)
        return f"<{len(self.sent)}@loopback>"

    def already_sent(self, idempotency_key: str) -> str | None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _rows(engine: Engine) -> dict[int, OutboxMessage]:
    with Session(engine) as session:
        return {m.id or 0: m for m in session.exec(select(OutboxMessage)).all()}


def test_the_message_over_the_limit_is_deferred_pending_untried_and_sent_by_a_later_run(engine: Engine) -> None:
    ids = queue(engine, first=0, count=5, sender="ppr@vejle.example")
    other = queue(engine, first=10, count=2, sender="ppr@randers.example")
    clock, transport = Clock(), Recording()
    throttle = MailboxThrottle(per_minute=2)

    report = deliver_due(engine, transport, throttle=throttle, max_throttle_wait=0.0, clock=clock, sleep=clock.sleep)
    assert report.sent == ids[:2] + other, "two from the throttled mailbox, the other mailbox unaffected"
    assert report.deferred == ids[2:], "the third and everything behind it from that mailbox are deferred"
    assert clock.slept == [] and report.failed == [] and report.stopped_because is None
    rows = _rows(engine)
    assert [(rows[i].status, rows[i].attempts, rows[i].sending_started_at) for i in ids[2:]] == \
        [("pending", 0, None)] * 3, "deferred = untouched: not claimed, not tried"

    again = deliver_due(engine, transport, throttle=throttle, clock=clock, sleep=clock.sleep)
    assert again.sent == [] and again.deferred == ids[2:], "within the same minute nothing more leaves"
    clock.now += 60
    later = deliver_due(engine, transport, throttle=throttle, clock=clock, sleep=clock.sleep)
    assert later.sent == ids[2:4] and later.deferred == ids[4:]
    clock.now += 60
    assert deliver_due(engine, transport, throttle=throttle, clock=clock, sleep=clock.sleep).sent == ids[4:]
    assert by_status(engine) == {"sent": 7}
    assert [m.idempotency_key for m in transport.sent] == [rows[i].idempotency_key for i in ids[:2] + other + ids[2:]]


def test_a_short_wait_is_slept_instead_of_deferred(engine: Engine) -> None:
    ids = queue(engine, first=0, count=3, sender="ppr@vejle.example")
    clock, transport = Clock(), Recording()
    report = deliver_due(engine, transport, throttle=MailboxThrottle(per_minute=2), max_throttle_wait=60.0,
                         clock=clock, sleep=clock.sleep)
    assert report.sent == ids and report.deferred == []
    assert clock.slept == [pytest.approx(60.0)], "the third waits for the first to age out of the minute"


def test_production_delivery_passes_the_configured_throttle_and_defers(
        ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = dataclasses.replace(ctx, actor="system:outbox")  # delivery is a system job (PRIV-4)
    monkeypatch.setenv("PPRFLOW_THROTTLE_PER_MINUTE", "3")
    monkeypatch.setenv("PPRFLOW_THROTTLE_URGENT_RESERVE_PER_MINUTE", "1")
    ids = queue(ctx.engine, first=0, count=4, sender="ppr@vejle.example")
    transport = Recording()
    first: dict[str, Any] = delivery.deliver(ctx=ctx, transport=transport)
    assert first == {"sent": 2, "already_sent": 0, "failed": 0, "cancelled": 0, "deferred": 2,
                     "stopped_because": None, "transport": "recording", "escalated": []}, \
        "3 a minute, 1 kept for ESC-1"
    second = delivery.deliver(ctx=ctx, transport=transport)
    assert second["sent"] == 0 and second["deferred"] == 2, "consecutive runs share the window (the database)"
    rows = _rows(ctx.engine)
    assert [rows[i].status for i in ids] == ["sent", "sent", "pending", "pending"]
