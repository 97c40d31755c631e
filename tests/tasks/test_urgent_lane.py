"""The urgent lane (ESC-1/LAW-1, issue 12 "Delayed", issue 13): the abuse notification leaves ahead of
routine mail, outside the routine throttle, and a transient error on an older routine message does
not hold it back; a transient failure of its own is retried a few minutes later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.tables import OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import URGENT, URGENT_RETRY, deliver_due, queue_message
from pprflow.tasks.throttle import MailboxThrottle
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.templates.catalogue import MESSAGE_KINDS, URGENT_KINDS, lane_of

SENDER = "ppr@vejle.example"
NOTIFICATIONS = "modtagelsen@vejle.example"


@dataclass
class Recording:
    """A transport that records what it sent, and fails transiently for the keys in `down_for`."""

    name: str = "recording"
    sent: list[str] = field(default_factory=list)
    down_for: set[str] = field(default_factory=set)

    def send(self, mail: OutgoingMail) -> str:
        if any(part in mail.idempotency_key for part in self.down_for):
            raise DeliveryError("the server answered 451 try again later", transient=True)
        self.sent.append(mail.idempotency_key)
        return f"<{len(self.sent)}@loopback>"

    def already_sent(self, idempotency_key: str) -> str | None:
        return None


def routine(engine: Engine, count: int, *, age: dt.timedelta = dt.timedelta(hours=1)) -> list[int]:
    context = MESSAGE_KINDS["receipt"].example_context()
    with Session(engine) as session:
        ids = []
        for i in range(count):
            message = queue_message(session, kind="receipt", to=f"laerer{i}@skole.example", context=context,
                                    serves=f"routine:{i}", sender=SENDER,
                                    send_after=utcnow() - age + dt.timedelta(seconds=i))
            assert message is not None
            ids.append(message.id or 0)
        session.commit()
    return ids


def notification(engine: Engine, n: int = 0) -> int:
    context = MESSAGE_KINDS["abuse_notification"].example_context()
    with Session(engine) as session:
        message = queue_message(session, kind="abuse_notification", to=NOTIFICATIONS, context=context,
                                serves=f"report:{n}", sender=SENDER)
        assert message is not None and message.id is not None
        session.commit()
        return message.id


def test_esc1_the_abuse_notification_travels_in_the_urgent_lane_everything_else_is_routine(engine: Engine) -> None:
    # ... and its escalation when the transport keeps refusing it (ESC-1, tasks/abuse.py escalate_undelivered)
    assert URGENT_KINDS == {"abuse_notification", "notification_undelivered"}
    assert {kind for kind in MESSAGE_KINDS if lane_of(kind) == URGENT} == URGENT_KINDS
    [receipt] = routine(engine, 1)
    urgent = notification(engine)
    with Session(engine) as session:
        assert session.get(OutboxMessage, urgent).lane == "urgent"  # type: ignore[union-attr]
        assert session.get(OutboxMessage, receipt).lane == "routine"  # type: ignore[union-attr]


def test_esc1_the_notification_queued_last_leaves_first_ahead_of_300_routine_messages(engine: Engine) -> None:
    routine(engine, 300)
    urgent = notification(engine)
    transport = Recording()
    report = deliver_due(engine, transport, limit=5)
    assert report.sent[0] == urgent
    assert transport.sent[0].startswith("abuse_notification|")


def test_esc1_the_routine_throttle_does_not_hold_the_notification(engine: Engine) -> None:
    routine(engine, 40)
    throttle = MailboxThrottle(per_minute=30, urgent_per_minute=5)
    transport = Recording()
    first = deliver_due(engine, transport, throttle=throttle, clock=lambda: 100.0)
    assert len(first.sent) == 25 and len(first.deferred) == 15, "routine mail leaves the ESC-1 reserve free"
    urgent = notification(engine)
    second = deliver_due(engine, transport, throttle=throttle, clock=lambda: 101.0)
    assert second.sent == [urgent], "the same mailbox is full for routine mail, the notification still leaves"
    assert len(second.deferred) == 15


def test_esc1_a_transient_error_on_an_older_routine_message_does_not_stop_the_notification(engine: Engine) -> None:
    routine(engine, 3, age=dt.timedelta(days=2))
    urgent = notification(engine)
    transport = Recording(down_for={"routine:0"})
    report = deliver_due(engine, transport)
    assert report.sent == [urgent], "the notification went before the routine run stopped"
    assert report.stopped_because is not None and "451" in report.stopped_because
    urgent_only = deliver_due(engine, transport, lanes=(URGENT,))
    assert urgent_only.sent == [] and urgent_only.stopped_because is None, "the urgent run never touches routine mail"


def test_esc1_a_failing_notification_is_retried_minutes_later_while_the_next_one_still_leaves(engine: Engine) -> None:
    first = notification(engine, 1)
    transport = Recording(down_for={"report:1"})
    at = utcnow()
    report = deliver_due(engine, transport, lanes=(URGENT,), now=lambda: at)
    assert report.stopped_because is not None
    with Session(engine) as session:
        row = session.get(OutboxMessage, first)
        assert row is not None and row.status == "pending" and row.claimed_by is None
        assert row.send_after == at + URGENT_RETRY and row.attempts == 1 and row.last_error
    second = notification(engine, 2)
    assert deliver_due(engine, transport, lanes=(URGENT,), now=lambda: at + dt.timedelta(seconds=30)).sent == [second]
    transport.down_for.clear()
    retried = deliver_due(engine, transport, lanes=(URGENT,), now=lambda: at + URGENT_RETRY)
    assert retried.sent == [first]


def test_esc1_the_urgent_run_watches_the_lane_and_sends_a_notification_queued_meanwhile(ctx) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from pprflow.tasks.delivery import deliver_urgent

    ctx = dataclasses.replace(ctx, actor="system:outbox")  # delivery is a system job (PRIV-4)
    routine(ctx.engine, 5)
    transport = Recording()
    clock = [0.0]
    queued: list[int] = []

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        if len(queued) < 2 and clock[0] >= 10 * (len(queued) + 1):
            queued.append(notification(ctx.engine, len(queued)))

    result = deliver_urgent(ctx=ctx, watch_seconds=50, poll_seconds=2, transport=transport,
                            clock=lambda: clock[0], sleep=sleep)
    assert result["sent"] == 2 and len(queued) == 2
    assert all(key.startswith("abuse_notification|") for key in transport.sent), "routine mail waits for its run"
    assert 48 <= clock[0] <= 50
