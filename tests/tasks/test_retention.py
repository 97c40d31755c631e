"""Retention (PRIV-1, PRIV-2) on SQLite and PostgreSQL: a closed case goes after five years with
everything that hangs on it, audit rows after theirs, the purge is audited with counts only."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from pprflow.models.rules_meetings import ActionInput, MeetingInput, MinutesInput, Participant
from pprflow.models.rules_privacy import years_before
from pprflow.models.tables import (
    Action,
    ActionPlan,
    AuditEvent,
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    Meeting,
    Notification,
    OutboxAttachment,
    OutboxMessage,
)
from pprflow.tasks.abuse import acknowledge, report_abuse
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.meetings import record_minutes, schedule_meeting
from pprflow.tasks.ppr import schedule_district_meetings
from pprflow.tasks.retention import close_case, purge_expired
from tests import referral_data as rd
from tests.factories import as_admin

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

INTAKE_DAY = dt.date(2026, 11, 16)
HANDLED = (Case, Child, CaseParty, Consent, ActionPlan, Meeting, Action, Deadline, Notification, OutboxMessage,
           OutboxAttachment)


def _count(engine: Engine, model: type[SQLModel], *where: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def _rich_case(ctx: Ctx, *, concern: str = "Eleven trækker sig.") -> int:
    """A case with every kind of row: parties, consent, plan, outbox + attachments, meetings, actions,
    deadlines and a notification."""
    result = submit_referral(ctx, rd.referral(concern=concern), today=INTAKE_DAY)
    case_id = result.case_id
    meeting = schedule_meeting(ctx=ctx, data=MeetingInput(
        case_id=case_id, kind="network", level=3, date=dt.date(2026, 12, 10), **PLACE,
        participants=[Participant(name="Ahmed Psykolog", email="ahmed@ppr.example", role="ppr_psychologist")]),
        today=INTAKE_DAY)
    run_sweep(ctx.engine, ctx.profile, today=dt.date(2026, 12, 3))  # the agenda with its invite goes out
    record_minutes(ctx=ctx, meeting_id=meeting["meeting_id"], data=MinutesInput(
        summary="Aftaler", actions=[ActionInput(text="Fast makker", responsible="sofie@skovbakke.example")]),
        today=dt.date(2026, 12, 10))
    report_abuse(ctx=ctx, case_id=case_id, today=dt.date(2026, 12, 11))
    import tempfile

    from pprflow.tasks.outbox import deliver_due
    from pprflow.tasks.transports.file import FileTransport

    # ESC-2: an unsent notification is never purged (LAW-2: nor acknowledged), so it is delivered first
    deliver_due(ctx.engine, FileTransport(tempfile.mkdtemp(prefix="retention-mail-")))
    acknowledge(ctx=ctx, case_id=case_id)  # ESC-2/LAW-2: only an acknowledged notification lets a case close
    return case_id


COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def _at(day: dt.date, hour: int) -> time_machine.travel:
    """The wall clock at `hour` o'clock on `day` in Copenhagen, running on."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=COPENHAGEN), tick=True)


@pytest.mark.parametrize(("closing", "day_before", "purge_day", "case_audit_kept"), [
    # an ordinary day: five years to the day; the case's audit rows (from 10:00 that day) are not yet
    # older than the audit period's cutoff (midnight five years before), so they stay
    (dt.date(2026, 12, 14), dt.date(2031, 12, 13), dt.date(2031, 12, 14), True),
    # a leap day: 28 Feb 2033 is not yet five years (years_before(2033-02-28, 5) = 2028-02-28), 1 Mar is;
    # by then the audit rows of 29 Feb 2028 are past their five years as well
    (dt.date(2028, 2, 29), dt.date(2033, 2, 28), dt.date(2033, 3, 1), False),
], ids=["ordinary-day", "leap-day"])
def test_a_closed_case_is_deleted_after_five_years_with_everything_on_it_PRIV_2(
        any_engine: Engine, vejle: Any, closing: dt.date, day_before: dt.date, purge_day: dt.date,
        case_audit_kept: bool) -> None:
    # Time is explicit: the case is built and closed on `closing` at 10:00 and every purge runs at 03:00 on
    # its day (Copenhagen), whatever the real clock says.
    with _at(closing, 10):
        old, kept, district_meetings, ctx = _build_and_close(any_engine, vejle)
    _purge_after_five_years(any_engine, ctx, old=old, kept=kept, district_meetings=district_meetings,
                            day_before=day_before, anniversary=purge_day, case_audit_kept=case_audit_kept)


def _build_and_close(any_engine: Engine, vejle: Any) -> tuple[int, int, int, Ctx]:
    ctx = Ctx(engine=any_engine, profile=vejle, actor="sofie@skovbakke.example")
    schedule_district_meetings(as_admin(ctx), district="Nord", start=INTAKE_DAY, count=3, today=INTAKE_DAY)
    old = _rich_case(ctx)
    kept = _rich_case(ctx, concern="En anden elev.")
    assert _count(any_engine, OutboxAttachment) > 0 and _count(any_engine, Action) > 0
    assert _count(any_engine, Notification, Notification.case_id == old) == 1
    closed = close_case(ctx=ctx, case_id=old, reason="Forløbet er afsluttet")
    assert closed["changed"] is True
    assert close_case(ctx=ctx, case_id=old, reason="igen")["changed"] is False
    district_meetings = _count(any_engine, Meeting, Meeting.kind == "district")
    return old, kept, district_meetings, ctx


def _purge_after_five_years(any_engine: Engine, ctx: Ctx, *, old: int, kept: int, district_meetings: int,
                            day_before: dt.date, anniversary: dt.date, case_audit_kept: bool) -> None:
    with Session(any_engine) as session:
        closed_at = session.get(Case, old).closed_at  # type: ignore[union-attr]
    assert closed_at is not None
    assert years_before(anniversary, 5) >= closed_at.astimezone(COPENHAGEN).date() > years_before(day_before, 5)
    with _at(day_before, 3):
        too_early = purge_expired(as_admin(ctx), today=day_before)
    assert too_early["cases"] == 0 and _count(any_engine, Case) == 2
    with _at(anniversary, 3):
        dry = purge_expired(as_admin(ctx), today=anniversary, dry_run=True)
    assert dry["cases"] == 1 and _count(any_engine, Case) == 2, "a dry run deletes nothing"

    with _at(anniversary, 3):
        report = purge_expired(as_admin(ctx), today=anniversary)  # five years after closing (1 Mar after a leap day)
    assert report["cases"] == 1 and report["outbox_messages"] > 0 and report["outbox_attachments"] > 0
    assert report["meetings"] == 1 and report["actions"] == 1 and report["notifications"] == 1
    assert report["parties"] >= 3 and report["consents"] == 1 and report["action_plans"] == 1
    assert report["children"] == 1 and report["deadlines"] > 0
    assert _count(any_engine, Case, Case.id == old) == 0
    for model in (CaseParty, Consent, ActionPlan, Meeting, Action, Deadline, Notification, OutboxMessage):
        assert _count(any_engine, model, model.case_id == old) == 0, model  # type: ignore[attr-defined]
    assert _count(any_engine, Case, Case.id == kept) == 1 and _count(any_engine, Meeting, Meeting.case_id == kept)
    assert _count(any_engine, Meeting, Meeting.kind == "district") == district_meetings
    with Session(any_engine) as session:
        attachments = session.exec(select(OutboxAttachment.message_id)).all()
        messages = set(session.exec(select(OutboxMessage.id)).all())
    assert set(attachments) <= messages, "no orphan attachment"
    with _at(anniversary, 4):
        again = purge_expired(as_admin(ctx), today=anniversary)
    assert again["cases"] == 0, "running it twice deletes nothing more"

    # The case's audit rows stay for their own period; the purge is audited with counts only.
    assert (_count(any_engine, AuditEvent, AuditEvent.case_id == old) > 0) is case_audit_kept
    with Session(any_engine) as session:
        purges = session.exec(select(AuditEvent).where(AuditEvent.entity == "retention")
                              .order_by(col(AuditEvent.id))).all()
    assert [p.action for p in purges] == ["delete", "search", "delete", "delete"]
    assert purges[2].detail["cases"] == 1 and purges[2].case_id is None and purges[2].entity_id is None
    assert "Eleven" not in str(purges[2].detail) and "@" not in str(purges[2].detail)


def test_audit_rows_are_deleted_after_their_own_period_and_only_by_the_purge_PRIV_1(any_engine: Engine,
                                                                                    vejle: Any) -> None:
    ctx = Ctx(engine=any_engine, profile=vejle, actor="system:retention")
    today = dt.date(2031, 3, 1)
    with Session(any_engine) as session:
        for at in (dt.datetime(2026, 2, 27, 12, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)):
            session.add(AuditEvent(at=at, actor="leder@skole.example", action="read", entity="case", case_id=9))
        session.commit()
    report = purge_expired(as_admin(ctx), today=today)
    assert report["audit_rows"] == 1 and report["audit_rows_before"] == "2026-03-01"
    with Session(any_engine) as session:
        left = session.exec(select(AuditEvent).where(AuditEvent.entity == "case")).all()
    assert [e.at.date() for e in left] == [dt.date(2026, 3, 2)]


def test_an_open_case_is_never_deleted_however_old_PRIV_2(engine: Engine, vejle: Any) -> None:
    ctx = Ctx(engine=engine, profile=vejle, actor="sofie@skovbakke.example")
    case_id = submit_referral(ctx, rd.referral(), today=INTAKE_DAY).case_id
    assert purge_expired(as_admin(ctx), today=dt.date(2060, 1, 1))["cases"] == 0
    assert _count(engine, Case, Case.id == case_id) == 1


def test_closing_cancels_pending_mail_and_closes_deadlines(engine: Engine, vejle: Any) -> None:
    ctx = Ctx(engine=engine, profile=vejle, actor="sofie@skovbakke.example")
    case_id = submit_referral(ctx, rd.referral(), today=INTAKE_DAY).case_id
    result = close_case(ctx=ctx, case_id=case_id, reason="Afsluttet")
    assert result["cancelled_messages"] and _count(engine, OutboxMessage, OutboxMessage.status == "pending") == 0
    assert _count(engine, Deadline, Deadline.case_id == case_id, col(Deadline.done_at).is_(None)) == 0


CASELESS_REPORT: dict[str, Any] = {
    "reporter": {"name": "Sofie Lærer", "email": "laerer@skole.example", "role": "teacher"},
    "institution": "Skovbakkeskolen",
    "child": {"name": "Emil Jensen", "group": "3.B", "birth_year": 2016},
    "observation": "Blå mærker på begge overarme.",
    "observed_on": "2026-11-24",
}


def test_a_caseless_notification_is_purged_with_all_its_mail_after_the_period_PRIV_2_ESC_2(
        any_engine: Engine, randers: Any) -> None:
    """PRIV-2: a notification without a case (ESC-2) keeps case_id NULL on its outbox rows; they are tied to
    it (outboxmessage.notification_id) and go with it, once its acknowledgement is five years old. An
    unacknowledged one is never purged (LAW-2)."""
    from pprflow.tasks.abuse import report
    from tests.factories import deliver_queued, directory

    directory(any_engine)
    teacher = Ctx(engine=any_engine, profile=randers, actor="laerer@skole.example")
    admin = as_admin(teacher)
    kept = report(teacher, {**CASELESS_REPORT, "observation": "Sagde: 'far slår'."}, today=dt.date(2026, 11, 24))
    done = report(teacher, CASELESS_REPORT, today=dt.date(2026, 11, 24))
    deliver_queued(any_engine)
    run_sweep(any_engine, randers, today=dt.date(2026, 12, 7))  # LAW-2: late, the notifier's leader is told
    acknowledge(teacher, notification_id=done["notification_id"])
    with Session(any_engine) as session:
        mine = session.exec(select(OutboxMessage).where(
            OutboxMessage.notification_id == done["notification_id"])).all()
        assert {m.template for m in mine} == {"abuse_notification", "acknowledgement_overdue"}
        assert all(m.case_id is None for m in mine)
        acknowledged = session.get(Notification, done["notification_id"])
        assert acknowledged is not None and acknowledged.acknowledged_at is not None
        ack_day = acknowledged.acknowledged_at.astimezone(ZoneInfo(randers.timezone)).date()
    theirs = _count(any_engine, OutboxMessage, col(OutboxMessage.notification_id) == kept["notification_id"])
    assert theirs == 3  # the notification, its notifier's leader, the ladder's top (Randers: the PPR mailbox)

    # Five years after the acknowledgement: the first day whose five-years-back is on or after it (acknowledged on
    # 29 Feb 2028 -> kept on 28 Feb 2033, purged on 1 Mar 2033, as for closed cases)
    purge_day = years_before(ack_day, -5)
    if years_before(purge_day, 5) < ack_day:
        purge_day += dt.timedelta(days=1)
    early = purge_expired(admin, today=purge_day - dt.timedelta(days=1))
    assert early["notifications"] == 0 and early["outbox_messages"] == 0
    assert _count(any_engine, OutboxMessage, col(OutboxMessage.notification_id) == done["notification_id"]) == 3

    result = purge_expired(admin, today=purge_day)
    # issue 17: the notification, its leader's and the ladder top's (PPR mailbox) mail; one LAW-2 deadline
    assert result["notifications"] == 1 and result["outbox_messages"] == 3 and result["deadlines"] == 1
    assert _count(any_engine, Notification, col(Notification.id) == done["notification_id"]) == 0
    assert _count(any_engine, OutboxMessage, col(OutboxMessage.notification_id) == done["notification_id"]) == 0
    assert _count(any_engine, Deadline,
                  col(Deadline.subject_key).startswith(f"notification:{done['notification_id']}:")) == 0
    # The unacknowledged one stays, with its mail, however long it waits (LAW-2).
    later = purge_expired(admin, today=years_before(ack_day, -9))
    assert later["notifications"] == 0
    assert _count(any_engine, Notification, col(Notification.id) == kept["notification_id"]) == 1
    assert _count(any_engine, OutboxMessage, col(OutboxMessage.notification_id) == kept["notification_id"]) == theirs
