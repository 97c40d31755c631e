"""Suspected violence or abuse on the service layer: ESC-1, LAW-1, LAW-2 (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import AuditEvent, Case, Deadline, Notification, OutboxMessage, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks.abuse import acknowledge, report_abuse, report_abuse_in_session
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.outbox import queue_message
from tests.factories import case_with_parents, deliver_queued, put_staff

PARENTS = {"mor@hjem.example", "far@hjem.example"}
TODAY = dt.date(2026, 11, 24)  # Tuesday


def _setup(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        put_staff(session, StaffMember(name="Sofie Lærer", email="laerer@skole.example", role="teacher",
                                leader_email="leder@skole.example"))
        session.commit()
        return case.id or 0


def _queue_to_parents(engine: Engine, case_id: int) -> None:
    """Something already waiting for the parents (a handover notice from before the report)."""
    from pprflow.templates.catalogue import MESSAGE_KINDS

    with Session(engine) as session:
        case = session.get(Case, case_id)
        context = MESSAGE_KINDS["network_agenda"].example_context()
        for parent in sorted(PARENTS):
            queue_message(session, kind="network_agenda", to=parent, context=context, serves="meeting:99:agenda",
                          sender="ppr@randers.example", case=case, is_parent=True)
        session.commit()


def test_any_staff_member_reports_and_the_family_centre_is_notified_at_once_ESC_1_LAW_1(
        any_engine: Engine, randers: Any) -> None:
    case_id = _setup(any_engine)
    _queue_to_parents(any_engine, case_id)
    teacher = Ctx(engine=any_engine, profile=randers, actor="laerer@skole.example")  # LAW-1: not a leader
    before = utcnow()
    result = report_abuse(ctx=teacher, case_id=case_id, today=TODAY)
    assert result["sent_to"] == "underretning@randers.dk"
    assert result["cancelled_parent_messages"] == 2
    with Session(any_engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.confidential_from_parents is True
        [notice] = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
        parents = session.exec(select(OutboxMessage).where(col(OutboxMessage.to).in_(PARENTS))).all()
        audits = session.exec(select(AuditEvent).where(AuditEvent.reason == "ESC-1")).all()
    assert notice.to == "underretning@randers.dk" and notice.status == "pending"
    assert notice.send_after <= utcnow() and notice.send_after >= before - dt.timedelta(seconds=5), "at once"
    assert "Sofie Lærer" in notice.body_text
    assert {m.status for m in parents} == {"cancelled"}, "ESC-1: what waited for the parents is cancelled"
    assert {a.entity for a in audits} >= {"case", "notification", "outboxmessage"}, "audited (PRIV-1)"


def test_acknowledgement_due_in_six_working_days_and_late_notice_to_the_notifiers_leader_LAW_2(
        engine: Engine, randers: Any) -> None:
    case_id = _setup(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    result = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    assert result["acknowledgement_due"] == "2026-12-02"
    run_sweep(engine, randers, today=dt.date(2026, 12, 2))
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "acknowledgement_overdue")).all() == []
    run_sweep(engine, randers, today=dt.date(2026, 12, 3))
    run_sweep(engine, randers, today=dt.date(2026, 12, 4))
    with Session(engine) as session:
        late = session.exec(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement_overdue")).all()
    assert [m.to for m in late] == ["leder@skole.example"], "once, to the notifier's leader"


def test_acknowledging_closes_the_deadline_LAW_2(engine: Engine, randers: Any) -> None:
    case_id = _setup(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    deliver_queued(engine)
    done = acknowledge(ctx=ctx, case_id=case_id, today=dt.date(2026, 11, 30))
    assert len(done["acknowledged"]) == 1 and done["late"] == []
    run_sweep(engine, randers, today=dt.date(2026, 12, 10))
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "acknowledgement_overdue")).all() == []
        assert all(d.done_at is not None for d in session.exec(select(Deadline)).all())
        notification = session.exec(select(Notification)).one()
        assert notification.acknowledged_at is not None


def test_reporting_twice_the_same_day_notifies_once_ESC_1(engine: Engine, randers: Any) -> None:
    case_id = _setup(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    first = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    again = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    assert first["notification_id"] == again["notification_id"]
    with Session(engine) as session:
        assert len(session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "abuse_notification")).all()) == 1


def test_report_in_the_callers_transaction_rolls_back_with_it_ESC_1(engine: Engine, randers: Any) -> None:
    case_id = _setup(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        report_abuse_in_session(session, profile=randers, case=case, reported_by_email="laerer@skole.example",
                                today=TODAY, actor="laerer@skole.example")
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(Notification)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []
        case = session.get(Case, case_id)
        assert case is not None and case.confidential_from_parents is False


def test_after_the_report_nothing_new_is_queued_for_a_parent_ESC_1(engine: Engine, randers: Any) -> None:
    case_id = _setup(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    _queue_to_parents(engine, case_id)
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage).where(col(OutboxMessage.to).in_(PARENTS))).all() == []


def test_the_notification_goes_to_the_profiles_address_LVL_6(engine: Engine, vejle: Any) -> None:
    case_id = _setup(engine)
    result = report_abuse(ctx=Ctx(engine=engine, profile=vejle, actor="laerer@skole.example"), case_id=case_id,
                          today=TODAY)
    assert result["sent_to"] == vejle.mailboxes.notifications, "the address is a profile setting"


def test_a_report_names_the_person_who_reports_LAW_1(engine: Engine, randers: Any) -> None:
    from pprflow.models.errors import InvalidInput

    case_id = _setup(engine)
    with pytest.raises(InvalidInput) as err:
        report_abuse(ctx=Ctx(engine=engine, profile=randers, actor="system:root"), case_id=case_id, today=TODAY)
    assert err.value.rule_id == "LAW-1"


def test_the_notification_is_signed_by_the_reporter_with_the_profiles_routes_ESC_1_LAW_1(
        engine: Engine, vejle: Any) -> None:
    """Issue 16: the reporter signs (Reply-To reaches her), her phone comes from the staff directory when
    the report gives none, and the reception's name and out-of-hours route come from the profile."""
    from pprflow.tasks.abuse import report

    with Session(engine) as session:
        put_staff(session, StaffMember(name="Sofie Lærer", email="laerer@skole.example", role="teacher",
                                       phone="+45 75 11 22 33"))
        session.commit()
    ctx = Ctx(engine=engine, profile=vejle, actor="laerer@skole.example")
    report(ctx, {"reporter": {"name": "Sofie Lærer", "email": "laerer@skole.example", "role": "teacher"},
                 "institution": "Skovbakkeskolen", "child": {"name": "Emil Jensen", "group": "3.B"},
                 "observation": "Blå mærker.", "observed_on": "2026-11-24",
                 "actions_taken": "Barnet er hos AKT-læreren resten af dagen."}, today=TODAY)
    with Session(engine) as session:
        [message] = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
    assert message.reply_to == "laerer@skole.example"
    assert message.body_text.startswith("Kære Familieafdelingen, Modtagelsen")  # Vejle [002]
    assert "+45 75 11 22 33" in message.body_text and "AKT-læreren" in message.body_text
    assert vejle.notification.out_of_hours in message.body_text
    assert "Med venlig hilsen\nSofie Lærer" in message.body_text
