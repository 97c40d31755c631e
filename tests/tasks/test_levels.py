"""Levels and the six-month review on the service layer: LVL-1 … LVL-6, CAL-6, CAL-7."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.errors import RuleViolation
from pprflow.models.rules_levels import DARK_BLUE_FORM, GREEN_FORM, LevelChangeInput
from pprflow.models.tables import AuditEvent, Case, CaseParty, Deadline, OutboxMessage, StaffMember
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.levels import deescalate, escalate, record_review, start_investigation
from tests.factories import case_with_parents, put_staff


def _case(engine: Engine, level: int = 1) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=level, coordinator="laerer@skole.example")
        coordinator = session.exec(select(CaseParty).where(CaseParty.email == "laerer@skole.example")).one()
        coordinator.role, coordinator.name = "teacher", "Sofie Lærer"
        session.add(coordinator)
        session.add(CaseParty(case_id=case.id or 0, name="Lene Leder", email="leder@skole.example",
                              role="school_leader"))
        session.commit()
        return case.id or 0


def _up(ctx: Ctx, case_id: int, to: int, sphere: str = "institution", today: dt.date = dt.date(2026, 8, 31),
        **kw: Any) -> dict[str, Any]:
    return escalate(ctx=ctx, data=LevelChangeInput(case_id=case_id, sphere=sphere, to=to, **kw),  # type: ignore[arg-type]
                    today=today)


def _case_row(engine: Engine, case_id: int) -> Case:
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def test_all_children_start_at_level_1_and_skipping_level_2_needs_a_reason_LVL_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    assert (_case_row(engine, case_id).level_institution, _case_row(engine, case_id).level_family) == (1, 1)
    with pytest.raises(RuleViolation) as err:
        _up(rctx, case_id, 3)
    assert err.value.rule_id == "LVL-1"
    result = _up(rctx, case_id, 3, reason="Akut: barnet udebliver; drøftet med leder")
    assert result["skipped_levels"] is True
    assert _case_row(engine, case_id).level3_reason == "Akut: barnet udebliver; drøftet med leder"


def test_two_spheres_move_independently_up_and_down_LVL_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    _up(rctx, case_id, 2)
    _up(rctx, case_id, 2, sphere="family")
    _up(rctx, case_id, 3, sphere="family")
    down = deescalate(ctx=rctx, data=LevelChangeInput(case_id=case_id, sphere="family", to=2),
                      today=dt.date(2026, 9, 1))
    assert down["levels"] == {"institution": 2, "family": 2}
    assert _up(rctx, case_id, 2)["changed"] is False, "running it twice changes the level once"


def test_paperwork_is_reported_and_audited_LVL_2_LVL_3(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    two = _up(rctx, case_id, 2)
    assert two["paperwork"] == [GREEN_FORM] and "ROLE-1" in two["next_steps"]
    three = _up(rctx, case_id, 3)
    assert any("gult skema" in p for p in three["paperwork"]) and any("lyseblåt" in p for p in three["paperwork"])
    four = _up(rctx, case_id, 4)
    assert DARK_BLUE_FORM in four["paperwork"]
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.reason == "LVL-1")
                              .order_by(col(AuditEvent.id))).all()
    assert [e.detail["to"] for e in events] == [2, 3, 4]
    assert DARK_BLUE_FORM in events[-1].detail["paperwork"]


def test_level_4_pins_a_half_yearly_review_month_end_clamped_CAL_6(rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine, level=3)
    result = _up(rctx, case_id, 4, today=dt.date(2026, 8, 31))
    assert result["review_due"] == "2027-02-28"
    assert result["review_reminder_on"] == "2027-02-12"
    run_sweep(engine, randers, today=dt.date(2027, 2, 11))
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    run_sweep(engine, randers, today=dt.date(2027, 2, 12))
    with Session(engine) as session:
        reminders = session.exec(select(OutboxMessage).where(OutboxMessage.template == "review_reminder")).all()
    assert {m.to for m in reminders} == {"laerer@skole.example", "leder@skole.example"}, "coordinator and leader"
    run_sweep(engine, randers, today=dt.date(2027, 3, 1))
    with Session(engine) as session:
        overdue = session.exec(select(OutboxMessage).where(OutboxMessage.template == "review_overdue")).all()
    assert [m.to for m in overdue] == ["leder@skole.example"], "CAL-6: the leader is told it is overdue"
    assert "28. februar 2027" in overdue[0].body_text


def test_recording_the_review_closes_reminders_and_pins_the_next_CAL_6(
        rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine, level=3)
    _up(rctx, case_id, 4, today=dt.date(2026, 8, 31))
    result = record_review(ctx=rctx, case_id=case_id, review_date=dt.date(2027, 2, 5), today=dt.date(2027, 2, 5))
    assert result["next_review_due"] == "2027-08-05"
    run_sweep(engine, randers, today=dt.date(2027, 3, 2))
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage)).all() == [], "no reminder or overdue after the review"
        open_rows = session.exec(select(Deadline).where(Deadline.done_at == None)).all()  # noqa: E711
    assert {(d.kind, d.due_on) for d in open_rows} == {("review_reminder", dt.date(2027, 8, 5)),
                                                         ("review_overdue", dt.date(2027, 8, 5))}


def test_review_without_a_level_4_effort_is_refused_CAL_6(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine, level=3)
    with pytest.raises(RuleViolation) as err:
        record_review(ctx=rctx, case_id=case_id, review_date=dt.date(2027, 2, 5), today=dt.date(2027, 2, 5))
    assert err.value.rule_id == "CAL-6"


def test_deescalating_below_4_ends_the_review_CAL_6(rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine, level=3)
    _up(rctx, case_id, 4)
    deescalate(ctx=rctx, data=LevelChangeInput(case_id=case_id, sphere="institution", to=3),
               today=dt.date(2026, 12, 1))
    run_sweep(engine, randers, today=dt.date(2027, 3, 5))
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_level_5_needs_an_outposted_social_worker_first_LVL_5(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    _up(rctx, case_id, 4, sphere="family", reason="Familien har brug for specialiseret støtte nu")
    with pytest.raises(RuleViolation) as err:
        _up(rctx, case_id, 5, sphere="family")
    assert err.value.rule_id == "LVL-5"


def test_level_5_goes_to_the_family_centre_and_its_caseworker_never_the_parents_LVL_6_LVL_5(
        rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    with Session(engine) as session:
        session.add(CaseParty(case_id=case_id, name="Sara Sagsbehandler", email="sara@frc.example",
                              role="family_centre_caseworker"))
        session.commit()
    _up(rctx, case_id, 4, sphere="family", reason="Specialiseret støtte nu")
    result = _up(rctx, case_id, 5, sphere="family", outposted_social_worker="birgitte@ppr.example")
    assert result["notifications_address"] == "underretning@randers.dk"
    with Session(engine) as session:
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.template == "family_centre_contact")).all()
        worker = session.exec(select(CaseParty).where(CaseParty.role == "outposted_social_worker")).one()
    assert {m.to for m in sent} == {"underretning@randers.dk", "sara@frc.example", "birgitte@ppr.example"}
    assert worker.email == "birgitte@ppr.example"
    # ESC-3 (Randers [003]): the notification waits until the outposted social worker has reviewed it
    held = {m.to: m.status for m in sent}
    assert held == {"underretning@randers.dk": "held", "sara@frc.example": "pending",
                    "birgitte@ppr.example": "pending"}
    review = next(m for m in sent if m.to == "birgitte@ppr.example")
    assert "TIL GENNEMSYN" in review.body_text
    assert not any(m.to_is_parent for m in sent)


def test_investigation_deadline_four_months_CAL_7(rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    result = start_investigation(ctx=rctx, case_id=case_id, aware_on=dt.date(2026, 10, 31),
                                 today=dt.date(2026, 11, 2))
    assert result["investigation_due"] == "2027-02-28"
    # CAL-10: 28 Feb 2027 is a Sunday: the deadline is noted on the first working day after it.
    assert run_sweep(engine, randers, today=dt.date(2027, 2, 28)).handled == {}
    assert run_sweep(engine, randers, today=dt.date(2027, 3, 1)).handled == {"investigation_due": 1}


def test_level_changes_on_postgres_too_LVL_1(any_engine: Engine, randers: Any) -> None:
    ctx = Ctx(engine=any_engine, profile=randers, actor="leder@skole.example")
    with Session(any_engine) as session:
        put_staff(session, StaffMember(name="Lene Leder", email="leder@skole.example", role="school_leader"))
        session.commit()
    case_id = _case(any_engine, level=3)
    assert _up(ctx, case_id, 4)["review_due"] == "2027-02-28"


def test_specialised_teaching_is_at_least_9_lessons_and_a_lasting_referral_follows_ppr_advice_LAW_4(
        rctx: Ctx, engine: Engine) -> None:
    from pprflow.models.rules_levels import SpecialisedTeaching

    case_id = _case(engine, level=3)  # a school case (Skovbakkeskolen)
    with pytest.raises(RuleViolation, match="at least 9 lessons") as few:
        _up(rctx, case_id, 4, specialised_teaching=SpecialisedTeaching(lessons_per_week=6))
    assert few.value.rule_id == "LAW-4"
    with pytest.raises(RuleViolation, match="PPR's advice") as lasting:
        _up(rctx, case_id, 4, specialised_teaching=SpecialisedTeaching(lessons_per_week=12, temporary=False))
    assert lasting.value.rule_id == "LAW-4"
    assert _case_row(engine, case_id).level_institution == 3, "a refusal changes nothing"
    _up(rctx, case_id, 4, specialised_teaching=SpecialisedTeaching(
        lessons_per_week=12, temporary=False, ppr_advice_on=dt.date(2026, 8, 20)))
    assert _case_row(engine, case_id).level_institution == 4
    with Session(engine) as session:
        change = session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                       AuditEvent.reason == "LVL-1")).all()[-1]
    assert change.detail["specialised_teaching"]["lessons_per_week"] == 12


def test_specialised_teaching_belongs_to_a_school_at_level_4_LAW_4() -> None:
    from pprflow.models.rules_levels import SpecialisedTeaching, check_specialised_teaching

    teaching = SpecialisedTeaching(lessons_per_week=10)
    check_specialised_teaching(teaching, to_level=4, institution_kind="school")
    for kind, level in (("daycare", 4), ("school", 3)):
        with pytest.raises(RuleViolation) as err:
            check_specialised_teaching(teaching, to_level=level, institution_kind=kind)
        assert err.value.rule_id == "LAW-4"
