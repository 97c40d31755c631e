"""Issue 17: an overdue deadline stays overdue and climbs the profile's escalation ladder (CAL-6, CAL-10).

Randers' ladder for the half-year review (pprflow/profiles/randers.toml): 1 working day after the deadline
the leader, 4 the coordinator, 9 the family centre's leader (`[escalation] top`), each once, recorded. The
seed names no address for that leader, so `top` is a placeholder and its rung goes to the PPR mailbox (recorded).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.flows.dashboard import deadline_rows, load_deadline_items
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.rules_levels import LevelChangeInput
from pprflow.models.tables import AuditEvent, CaseParty, Deadline, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.levels import escalate, record_review
from tests.factories import case_with_parents

DUE = dt.date(2027, 2, 28)  # six months after 31 Aug 2026 (CAL-6), a Sunday
LEADER, COORDINATOR = "leder@skole.example", "laerer@skole.example"
TOP = "ppr@randers.invalid"  # Randers' top (familiecentret@randers.invalid) is a placeholder: the PPR mailbox instead
RUNG_DAYS = {LEADER: dt.date(2027, 3, 1), COORDINATOR: dt.date(2027, 3, 4), TOP: dt.date(2027, 3, 11)}


def _level_4_case(ctx: Ctx, engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=3, coordinator=COORDINATOR)
        coordinator = session.exec(select(CaseParty).where(CaseParty.email == COORDINATOR,
                                                           CaseParty.case_id == case.id)).one()
        coordinator.role, coordinator.name = "teacher", "Sofie Lærer"
        session.add(coordinator)
        session.add(CaseParty(case_id=case.id or 0, name="Lene Leder", email=LEADER, role="school_leader"))
        session.commit()
        case_id = case.id or 0
    escalate(ctx=ctx, data=LevelChangeInput(case_id=case_id, sphere="institution", to=4), today=dt.date(2026, 8, 31))
    return case_id


def _overdue_mail(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == "review_overdue")
                                 .order_by(col(OutboxMessage.id))).all())


def _review_overdue(engine: Engine) -> Deadline:
    with Session(engine) as session:
        return session.exec(select(Deadline).where(Deadline.kind == "review_overdue", Deadline.due_on == DUE)).one()


def test_overdue_review_climbs_leader_coordinator_top_each_once_and_stays_overdue_CAL_6(
        rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _level_4_case(rctx, engine)
    calendar = WorkingCalendar.for_profile(randers)
    first_told: dict[str, dt.date] = {}
    for day in calendar.working_days(dt.date(2027, 2, 26), dt.date(2027, 3, 16)):
        report = run_sweep(engine, randers, today=day)
        for message in _overdue_mail(engine):
            first_told.setdefault(message.to, day)
        overdue = [o for o in report.overdue if o["kind"] == "review_overdue"]
        if day > DUE:  # issue 17: in the sweep's result every day until the review is recorded
            assert [(o["case_id"], o["label"], o["due_on"]) for o in overdue] == [
                (case_id, "Halvårsvurdering", DUE.isoformat())]
            assert report.as_dict()["overdue"] >= 1
        else:
            assert overdue == []
    assert first_told == RUNG_DAYS, "each rung on its working day after the deadline, in order"
    mail = _overdue_mail(engine)
    assert [m.to for m in mail] == [LEADER, COORDINATOR, TOP], "each person once, however many sweeps"
    assert "trin 2 af 3" in mail[1].body_text and "trin" not in mail[0].body_text
    deadline = _review_overdue(engine)
    assert deadline.done_at is None and deadline.escalation_step == 3, "a mail does not make it done"
    with Session(engine) as session:
        steps = session.exec(select(AuditEvent).where(AuditEvent.entity == "deadline", AuditEvent.reason == "CAL-6")
                             .order_by(col(AuditEvent.id))).all()
        rows = deadline_rows(load_deadline_items(session, dt.date(2027, 3, 16)), dt.date(2027, 3, 16))
    assert [(e.detail["escalation_step"], e.detail["to_role"], e.detail["told"]) for e in steps] == [
        (1, "leader", True), (2, "coordinator", True), (3, "top", True)], "each rung recorded"
    assert steps[2].detail["top_placeholder"] == "familiecentret@randers.invalid" and steps[2].detail["to"] == TOP
    review_rows = [r for table in rows.values() for r in table if r["Hvad"] == "Halvårsvurdering"]
    assert [r["Status"] for r in review_rows] == ["Overskredet (16 dage)"], "the dashboard still shows it"

    record_review(ctx=rctx, case_id=case_id, review_date=dt.date(2027, 3, 17), today=dt.date(2027, 3, 17))
    assert _review_overdue(engine).done_at is not None, "the review itself closes it"
    after = run_sweep(engine, randers, today=dt.date(2027, 3, 18))
    assert [o for o in after.overdue if o["case_id"] == case_id] == []
    assert len(_overdue_mail(engine)) == 3


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(skipped=st.sets(st.integers(min_value=0, max_value=12), max_size=9))
def test_missed_sweeps_never_skip_or_repeat_a_rung_CAL_6(rctx: Ctx, engine: Engine, randers: Any,
                                                         skipped: set[int]) -> None:
    """Whatever sweep days are missed (a server down, a holiday run skipped), by the last day every rung
    whose day has come was told exactly once, and the deadline is still open."""
    case_id = _level_4_case(rctx, engine)  # each example its own case in the same database
    days = list(WorkingCalendar.for_profile(randers).working_days(dt.date(2027, 3, 1), dt.date(2027, 3, 17)))
    ran = [d for i, d in enumerate(days) if i not in skipped] or [days[-1]]
    for day in ran:
        run_sweep(engine, randers, today=day)
    expected = [to for to, rung in RUNG_DAYS.items() if rung <= ran[-1]]
    assert [m.to for m in _overdue_mail(engine) if m.case_id == case_id] == expected
    with Session(engine) as session:
        deadline = session.exec(select(Deadline).where(Deadline.kind == "review_overdue",
                                                       Deadline.case_id == case_id)).one()
    assert deadline.done_at is None and deadline.escalation_step == len(expected)


def test_a_leader_who_is_the_childs_parent_does_not_stop_the_review_reminders_ESC_1_CAL_6(
        ctx: Ctx, engine: Engine) -> None:
    """ESC-1/loss: the school's leader is the child's mother (a small town). "Who leads this case" must pass
    her over: staff-only mail to a parent is refused by the outbox, which failed the whole sweep handler every
    day — so the coordinator was never reminded and the overdue review never told anyone."""
    from pprflow.models.tables import Case, Institution
    from tests import factories

    with Session(engine) as session:
        case = case_with_parents(session, level=3, coordinator=COORDINATOR)
        coordinator = session.exec(select(CaseParty).where(CaseParty.email == COORDINATOR,
                                                           CaseParty.case_id == case.id)).one()
        coordinator.role = "teacher"
        session.add(coordinator)
        session.commit()
        case_id = case.id or 0
    escalate(ctx=ctx, data=LevelChangeInput(case_id=case_id, sphere="institution", to=4), today=dt.date(2026, 8, 31))
    with Session(engine) as session:
        from pprflow.models.tables import StaffMember

        for member in session.exec(select(StaffMember).where(StaffMember.role == "school_leader")).all():
            member.institution_id = None  # the old leader left; the mother is the school's leader now
            session.add(member)
        institution = session.get(Institution, session.get(Case, case_id).institution_id)  # type: ignore[union-attr]
        factories.staff(session, "mor@hjem.example", "school_leader", name="Mor Hansen", institution=institution)
        session.commit()
        reminder = session.exec(select(Deadline).where(Deadline.kind == "review_reminder",
                                                       Deadline.case_id == case_id)).one()
        assert session.get(Case, case_id) is not None
    for day in (reminder.remind_on, dt.date(2027, 3, 1)):
        report = run_sweep(engine, ctx.profile, today=day)
        assert not report.stuck, report.stuck
    with Session(engine) as session:
        told = session.exec(select(OutboxMessage.to, OutboxMessage.template)).all()
    assert ("laerer@skole.example", "review_reminder") in told, "the coordinator is reminded"
    assert all(to != "mor@hjem.example" for to, _ in told), "the parent never gets staff mail"
