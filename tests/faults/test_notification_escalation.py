"""ESC-1 when the transport keeps failing: an abuse notification the mail server keeps refusing is
escalated after the profile's `[notification] escalate_after_minutes` (at once when it fails for good):
once (`outboxmessage.escalated_at`), by another route (the profile's escalation mailbox, else the
notifier's leader, else the PPR mailbox — never a parent), while the notification itself stays queued
and goes out once the server takes it. A real loopback SMTP server refuses the notifications address."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, OutboxMessage, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks.abuse import escalate_undelivered, report_abuse
from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import deliver
from pprflow.tasks.transports.smtp import SmtpTransport
from tests.factories import case_with_parents, put_staff
from tests.support.mailboxes import RecordingSmtp
from tests.transports.loopback import free_port

NOTIFICATIONS = "underretning@randers.example"
PPR = "ppr@randers.example"
ESCALATION = "eskalering@randers.example"
PARENTS = {"mor@hjem.example", "far@hjem.example"}
TODAY = dt.date(2026, 11, 24)


@dataclass
class RefusingSmtp(RecordingSmtp):
    """The recording loopback server, refusing RCPT TO for the addresses in `refuse` with `code`."""

    refuse: set[str] = field(default_factory=set)
    code: str = "451 4.3.0 Mailbox temporarily unavailable"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return self.code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def recipients(self) -> list[str]:
        return [r.lower() for _, rcpts, _ in self.received for r in rcpts]

    def subjects(self) -> list[str]:
        return [str(email.message_from_bytes(c, policy=email.policy.default)["Subject"]) for _, _, c in self.received]


@pytest.fixture
def refusing() -> Iterator[tuple[RefusingSmtp, int]]:
    handler = RefusingSmtp(refuse={NOTIFICATIONS})
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _profile(randers: Any, *, escalation: str | None) -> Any:
    mailboxes = randers.mailboxes.model_copy(update={"notifications": NOTIFICATIONS, "ppr": PPR,
                                                     "escalation": escalation})
    return randers.model_copy(update={"mailboxes": mailboxes, "sender": PPR})


def _report(engine: Engine, profile: Any, *, leader: str) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        put_staff(session, StaffMember(name="Sofie Lærer", email="laerer@skole.example", role="teacher",
                                       leader_email=leader, phone="+45 89 15 42 17"))
        session.commit()
        case_id = case.id or 0
    report_abuse(Ctx(engine=engine, profile=profile, actor="laerer@skole.example"), case_id, today=TODAY,
                 observation="Blå mærker på begge overarme.")
    return case_id


def _notification(engine: Engine) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).one()


def _escalations(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "notification_undelivered")).all())


def test_esc1_a_notification_the_server_keeps_refusing_is_escalated_once_by_another_route_never_to_a_parent(
        engine: Engine, randers: Any, refusing: tuple[RefusingSmtp, int]) -> None:
    handler, port = refusing
    # No escalation mailbox, and the notifier's leader is the child's mother: the route passes her over
    # (ESC-1) and takes the PPR mailbox.
    profile = _profile(randers, escalation=None)
    _report(engine, profile, leader="mor@hjem.example")
    job = Ctx(engine=engine, profile=profile, actor="system:outbox")
    transport = SmtpTransport("127.0.0.1", port, "none", timeout=5)
    start = utcnow()

    first = deliver(ctx=job, transport=transport)
    assert first["sent"] == 0 and "451" in (first["stopped_because"] or "") and first["escalated"] == []
    notice = _notification(engine)
    assert notice.status == "pending" and notice.escalated_at is None and notice.last_error

    with time_machine.travel(start + dt.timedelta(minutes=14), tick=True):  # before the profile's 15 minutes
        assert deliver(ctx=job, transport=transport)["escalated"] == []
    assert _escalations(engine) == [] and handler.received == []

    with time_machine.travel(start + dt.timedelta(minutes=16), tick=True):
        second = deliver(ctx=job, transport=transport)
    [item] = second["escalated"]
    assert item["escalated_to"] == PPR and item["message_id"] == notice.id
    assert second["sent"] == 1, "the escalation mail leaves in the same run, ahead of the notification's retry"
    assert handler.recipients() == [PPR]
    assert handler.subjects()[0].startswith("HASTER – underretning ikke leveret")
    escalated_at = _notification(engine).escalated_at
    assert escalated_at is not None

    for minutes in (20, 40, 90):  # it keeps failing: escalated once, not on every run
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=True):
            assert deliver(ctx=job, transport=transport)["escalated"] == []
    assert len(_escalations(engine)) == 1 and _notification(engine).escalated_at == escalated_at
    assert handler.recipients() == [PPR]

    handler.refuse.clear()  # the reception's mailbox answers again: the notification goes, once
    with time_machine.travel(start + dt.timedelta(minutes=95), tick=True):
        assert deliver(ctx=job, transport=transport)["sent"] == 1
    assert handler.recipients() == [PPR, NOTIFICATIONS]
    assert not PARENTS & set(handler.recipients()), "nothing reached a parent"
    with Session(engine) as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.entity == "outboxmessage",
                                                       AuditEvent.reason == "ESC-1")).all()
    assert [a.detail["escalated_to"] for a in audits if a.detail.get("escalated")] == [PPR]


def test_esc1_a_notification_refused_for_good_is_escalated_at_the_next_run_to_the_escalation_mailbox(
        engine: Engine, randers: Any, refusing: tuple[RefusingSmtp, int]) -> None:
    handler, port = refusing
    handler.code = "550 5.1.1 No such user"
    profile = _profile(randers, escalation=ESCALATION)
    _report(engine, profile, leader="leder@skole.example")
    job = Ctx(engine=engine, profile=profile, actor="system:outbox")
    transport = SmtpTransport("127.0.0.1", port, "none", timeout=5)
    assert deliver(ctx=job, transport=transport)["failed"] == 1
    report = deliver(ctx=job, transport=transport)  # the next minute's urgent run: not 15 minutes later
    assert [i["escalated_to"] for i in report["escalated"]] == [ESCALATION] and report["sent"] == 1
    [mail] = [c for _, _, c in handler.received]
    body = email.message_from_bytes(mail, policy=email.policy.default).get_body(("plain",))
    text = body.get_content() if body is not None else ""
    assert "550" in text and "døgnvagt" in text and "+45 89 15 42 17" in text, text
    assert "Blå mærker" not in text  # PRIV-2: the observation stays in the notification itself
    assert not PARENTS & set(handler.recipients())


def test_esc1_overlapping_runs_escalate_a_failing_notification_exactly_once(engine: Engine, randers: Any) -> None:
    profile = _profile(randers, escalation=ESCALATION)
    _report(engine, profile, leader="leder@skole.example")
    with Session(engine) as session:
        notice = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).one()
        notice.last_error, notice.created_at = "451 try again later", utcnow() - dt.timedelta(hours=1)
        session.add(notice)
        session.commit()
    results: list[list[dict[str, Any]]] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        results.append(escalate_undelivered(engine, profile))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert len(_escalations(engine)) == 1
