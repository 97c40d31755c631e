"""District meetings (CAL-5), distributing a case and the start-up meeting reminder (PATH-4)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from pprflow.models.errors import NotFound, RuleViolation
from pprflow.models.referral import parse_referral
from pprflow.models.tables import AuditEvent, Case, Deadline, Meeting, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.ppr import assign_case, list_district_meetings, prepare_district_meetings, schedule_district_meetings
from tests import referral_data as rd
from tests.factories import as_admin

D = dt.date
MONDAY = D(2026, 11, 23)
MEETING = D(2026, 11, 26)  # Thursday
NEXT_MEETING = D(2026, 12, 10)


def messages(engine, template: str | None = None) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        return list(session.exec(query).all())


@pytest.fixture
def team_ctx(engine, vejle) -> Ctx:  # type: ignore[no-untyped-def]
    """Vejle with a named PPR team for district Nord."""
    profile = vejle.model_copy(update={"district_teams": {"Nord": "ppr-nord@vejle.example"}})
    return Ctx(engine=engine, profile=profile, actor="admin@ppr.example")


def test_schedule_district_meetings_moves_a_closed_day_and_flags_it_CAL_5(ctx) -> None:
    result = schedule_district_meetings(as_admin(ctx), district="Nord", start=D(2026, 12, 10), count=3, today=MONDAY)
    assert [m["date"] for m in result["meetings"]] == ["2026-12-10", "2026-12-28", "2027-01-07"]
    moved = result["meetings"][1]
    assert moved["planned_date"] == "2026-12-24" and moved["moved_from_closed_day"]
    with Session(ctx.engine) as session:
        meetings = session.exec(select(Meeting).order_by(Meeting.date)).all()
        assert [m.flagged_closed_day for m in meetings] == [False, True, False]
        assert all(m.starts_at is not None and m.starts_at.tzinfo for m in meetings), "CAL-9"
        assert meetings[0].starts_at.astimezone(dt.timezone(dt.timedelta(hours=1))).hour == 9
        lists = session.exec(select(Deadline).where(Deadline.kind == "district_case_list")
                             .order_by(Deadline.due_on)).all()
        assert [d.remind_on for d in lists] == [D(2026, 12, 9), D(2026, 12, 23), D(2027, 1, 6)]
        assert session.exec(select(AuditEvent).where(AuditEvent.entity == "meeting")).all()


def test_the_case_list_shows_no_abuse_observation_to_the_team_mailbox_ESC_1_PRIV_3(team_ctx) -> None:
    ctx = team_ctx
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=1, today=MONDAY)
    data = rd.data()
    data.update(suspected_abuse=True, concern="Blå mærker på armene, fortæller om slag derhjemme.")
    case = submit_referral(ctx, parse_referral(data), today=MONDAY)
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 25))
    (case_list,) = messages(ctx.engine, "district_case_list")
    assert f"Sag {case.case_id}" in case_list.body_text, "the team knows the case is there"
    assert "Blå mærker" not in case_list.body_text and "Blå mærker" not in case_list.body_html
    assert "Fortrolig sag" in case_list.body_text


def test_scheduling_twice_changes_nothing_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=4, today=MONDAY)
    again = schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=4, today=MONDAY)
    assert not any(m["created"] for m in again["meetings"])
    with Session(ctx.engine) as session:
        assert len(session.exec(select(Meeting)).all()) == 4
        assert len(session.exec(select(Deadline)).all()) == 4


def test_the_district_team_gets_the_list_of_new_cases_the_day_before_CAL_5(team_ctx) -> None:
    ctx = team_ctx
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=2, today=MONDAY)
    one = submit_referral(ctx, rd.referral(), today=MONDAY)
    two = submit_referral(ctx, rd.referral("ppr_learning_environment"), today=MONDAY)
    submit_referral(ctx, rd.referral("intervention_team"), today=MONDAY)  # not a PPR case: not on the list
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 24)).queued == 0
    report = run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 25))
    assert report.handled == {"district_case_list": 1}
    (case_list,) = messages(ctx.engine, "district_case_list")
    assert case_list.to == "ppr-nord@vejle.example"
    assert f"Sag {one.case_id}" in case_list.body_text and f"Sag {two.case_id}" in case_list.body_text
    assert "Pædagogisk Indsatsteam" not in case_list.body_text
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 25)).queued == 0, "a second sweep queues nothing"
    listed = list_district_meetings(ctx, district="Nord")
    assert listed[0]["case_list_sent"] and listed[0]["cases"] == [one.case_id, two.case_id]


def test_an_unassigned_case_moves_to_the_next_district_meeting_PATH_4(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=2, today=MONDAY)
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 25))
    report = run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 27))  # the meeting passed, nobody assigned
    assert report.handled == {"district_assignment": 1}
    listed = {m["date"]: m["cases"] for m in list_district_meetings(ctx, district="Nord")}
    assert listed == {"2026-11-26": [], "2026-12-10": [case.case_id]}
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 9))
    second = messages(ctx.engine, "district_case_list")[-1]
    assert "torsdag den 10. december" in second.subject and f"Sag {case.case_id}" in second.body_text


def test_a_missed_sweep_sends_no_list_for_a_meeting_already_held_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=2, today=MONDAY)
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 1))
    assert messages(ctx.engine, "district_case_list") == []
    listed = {m["date"]: m["cases"] for m in list_district_meetings(ctx, district="Nord")}
    assert listed["2026-12-10"] == [case.case_id]


def test_prepare_district_meetings_sends_the_due_list_once_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=1, today=MONDAY)
    submit_referral(ctx, rd.referral(), today=MONDAY)
    assert prepare_district_meetings(as_admin(ctx), today=D(2026, 11, 25))["handled"] == {"district_case_list": 1}
    assert prepare_district_meetings(as_admin(ctx), today=D(2026, 11, 25))["handled"] == {}
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 25)).queued == 0
    assert len(messages(ctx.engine, "district_case_list")) == 1


def test_assignment_tells_the_employee_and_pins_the_startup_reminder_PATH_4(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=1, today=MONDAY)
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    result = assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", name="Karin Ørum",
                         role="ppr_psychologist", today=MEETING)
    assert result["changed"] and result["district_meeting"] == "2026-11-26"
    assert result["startup_meeting_due"] == "2026-12-10"  # 10 working days after Thursday 26 Nov
    (assignment,) = messages(ctx.engine, "assignment")
    assert assignment.to == "karin@ppr.example" and "Kære Karin Ørum" in assignment.body_text
    assert "sofie@skovbakke.example" in assignment.body_text, "the employee contacts the school"
    with Session(ctx.engine) as session:
        stored = session.get(Case, case.case_id)
        assert stored is not None and stored.assigned_ppr_email == "karin@ppr.example"
        assert stored.coordinator_email == "sofie@skovbakke.example", "ROLE-1: the coordinator stays one person"
        reminder = session.exec(select(Deadline).where(Deadline.kind == "startup_meeting_reminder")).one()
        assert reminder.subject_key == f"case:{case.case_id}" and reminder.due_on == D(2026, 12, 10)
        waiting = session.exec(select(Deadline).where(Deadline.kind == "district_assignment")).one()
        assert waiting.done_at is not None
    again = assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=D(2026, 11, 27))
    assert not again["changed"] and len(messages(ctx.engine, "assignment")) == 1


def test_reassignment_moves_the_reminder_to_the_new_employee_PATH_4(ctx) -> None:
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=MEETING)
    assign_case(as_admin(ctx), case_id=case.case_id, to_email="ahmed@ppr.example", today=MEETING)
    assert [m.to for m in messages(ctx.engine, "assignment")] == ["karin@ppr.example", "ahmed@ppr.example"]
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 10))
    reminders = [m for m in messages(ctx.engine, "assignment") if m.idempotency_key.count("startup-reminder")]
    assert [m.to for m in reminders] == ["ahmed@ppr.example"]


def test_only_ppr_cases_are_assigned_PATH_4(ctx) -> None:
    case = submit_referral(ctx, rd.referral("intervention_team"), today=MONDAY)
    with pytest.raises(RuleViolation) as caught:
        assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=MEETING)
    assert caught.value.rule_id == "PATH-4"
    with pytest.raises(NotFound):
        assign_case(as_admin(ctx), case_id=999, to_email="karin@ppr.example", today=MEETING)


def test_no_startup_meeting_within_the_lead_time_reminds_the_employee_PATH_4(ctx) -> None:
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=MEETING)
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 9)).queued == 0
    report = run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 10))
    assert report.handled == {"startup_meeting_reminder": 1} and report.queued == 1
    reminder = messages(ctx.engine, "assignment")[-1]
    assert reminder.to == "karin@ppr.example" and "startup-reminder" in reminder.idempotency_key
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 10)).queued == 0
    # issue 17: still no meeting — the deadline climbs its ladder (leader, coordinator, top) instead of
    # repeating the employee's reminder every lead time; it stays overdue
    report = run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 28))
    assert report.queued >= 1
    assert len(messages(ctx.engine, "assignment")) == 2, "the employee is reminded once, not again"
    rungs = messages(ctx.engine, "deadline_escalation")
    assert rungs and all(m.to != "karin@ppr.example" for m in rungs)
    assert [o["kind"] for o in report.overdue] == ["startup_meeting_reminder"]


def test_a_scheduled_startup_meeting_stops_the_reminder_PATH_4(ctx) -> None:
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=MEETING)
    with Session(ctx.engine) as session:  # arranged outside pprflow's meeting command
        session.add(Meeting(kind="startup", case_id=case.case_id, date=D(2026, 12, 7)))
        session.commit()
    report = run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 10))
    assert report.handled == {"startup_meeting_reminder": 1} and report.queued == 0


def test_a_confidential_case_is_never_assigned_to_the_childs_parent_ESC_1(ctx) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: a careless (or hostile) assignment to a parent's address is refused in one line, nothing stored:
    the parent would become the case's PPR employee (a party, a reminder recipient) on a case kept from them."""
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    with Session(ctx.engine) as session:
        row = session.get(Case, case.case_id)
        assert row is not None
        row.confidential_from_parents = True
        session.add(row)
        session.commit()
    parent = rd.PARENTS[0]["email"]
    with pytest.raises(RuleViolation) as caught:
        assign_case(as_admin(ctx), case_id=case.case_id, to_email=parent.upper(), today=MEETING)
    assert caught.value.rule_id == "ESC-1", str(caught.value)
    with Session(ctx.engine) as session:
        stored = session.get(Case, case.case_id)
        assert stored is not None and stored.assigned_ppr_email is None, "nothing stored"
    assert messages(ctx.engine, "assignment") == []


def test_a_case_is_not_assigned_to_a_school_leader_of_another_school_PRIV_3_PATH_4(ctx) -> None:  # type: ignore[no-untyped-def]
    """PRIV-3/PATH-4: a careless assignment to a staff member who is no PPR employee (another school's leader)
    is refused in one line; before, they became a party with their leader role, so `institution_leader` picked
    them as the case's leader: access and every reminder to another school."""
    from pprflow.models.errors import InvalidInput
    from pprflow.tasks.casefile import institution_leader
    from tests import factories

    with Session(ctx.engine) as session:
        other = factories.institution(session, "Fjordskolen", "school", "Syd")
        factories.staff(session, "leder@fjordskolen.example", "school_leader", name="Frederik Fjord",
                        institution=other)
        session.commit()
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    with pytest.raises(InvalidInput):
        assign_case(as_admin(ctx), case_id=case.case_id, to_email="leder@fjordskolen.example", today=MEETING)
    with Session(ctx.engine) as session:
        stored = session.get(Case, case.case_id)
        assert stored is not None and stored.assigned_ppr_email is None
        assert institution_leader(session, stored) != "leder@fjordskolen.example"
