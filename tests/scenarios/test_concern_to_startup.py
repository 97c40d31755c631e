"""Scenario: a teacher's concern becomes a PPR course (PATH-1, PATH-4, CAL-5, ROLE-1) — through real
flow runs on the session's Prefect server and a real (SQLite) database, day by day.

Vejle, district Nord, district meetings on Thursdays. A class teacher at Skovbakkeskolen is worried
about a pupil; the team has tried measures in the class first (PATH-3) and the parents consented.

  Mon 23 Nov  the administrator plans the district meetings; the teacher submits the referral
              → request + action plan to ppr@vejle.dk, receipt to the teacher
  Wed 25 Nov  the sweep sends the list of new cases to the district's PPR team (once)
  Thu 26 Nov  the district meeting assigns the case to a PPR psychologist → assignment
  Thu 10 Dec  no start-up meeting yet (10 working days) → the sweep reminds the psychologist
  Fri 11 Dec  the psychologist schedules the start-up meeting (colleague's meeting flow)
              → the reminders stop
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlmodel import Session, select

from pprflow.models.referral import parse_referral
from pprflow.models.rules_meetings import MeetingInput
from pprflow.models.tables import Case, Deadline, OutboxMessage
from tests import referral_data as rd
from tests.flows import flow_env as env_fixtures
from tests.support.acting import as_user

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env  # the fixture: real flow runs against this test's database
D = dt.date
TEACHER = "sofie.mikkelsen@skovbakke.example"
PSYCHOLOGIST = "karin.orum@ppr-vejle.example"
PARENTS = {"hanne.berg@hjem.example", "jonas.berg@hjem.example"}


def outbox(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [(m.template, m.to) for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()]


def new_since(engine, before: list[tuple[str, str]]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return outbox(engine)[len(before):]


def sweep_twice(engine, day: dt.date) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Run the daily sweep flow twice for `day`; the second run must queue nothing."""
    from pprflow.flows.sweep import daily_sweep

    before = outbox(engine)
    daily_sweep(today=day)
    after_first = outbox(engine)
    second = daily_sweep(today=day)
    assert second["queued"] == 0 and outbox(engine) == after_first, f"second sweep on {day} queued something"
    return after_first[len(before):]


def test_concern_to_startup_meeting(flow_env) -> None:
    from pprflow.flows.intake import referral_intake
    from pprflow.flows.meetings import plan_meeting
    from pprflow.flows.ppr import assign_district_case, schedule_district

    engine = flow_env

    # Mon 23 Nov: the administrator plans the district meetings (CAL-5; 24 Dec moves to 28 Dec).
    planned = schedule_district(district="Nord", start=D(2026, 11, 23), count=3,
                                request_id=as_user("admin@ppr-vejle.example", schedule_district),
                                today=D(2026, 11, 23))
    assert [m["date"] for m in planned["meetings"]] == ["2026-11-26", "2026-12-10", "2026-12-28"]

    # Mon 23 Nov: the teacher's concern becomes a referral (PATH-1: action plan + request form).
    intake = referral_intake(parse_referral(rd.example("ppr_individual.json")),
                             request_id=as_user(TEACHER, referral_intake),
                             today=D(2026, 11, 23))
    case_id = intake.case_id
    assert intake.status == "open" and intake.coordinator == TEACHER  # ROLE-1
    assert intake.district_meeting == D(2026, 11, 26)
    assert outbox(engine) == [("ppr_request", "ppr@vejle.dk"), ("receipt", TEACHER)]

    assert sweep_twice(engine, D(2026, 11, 24)) == []

    # Wed 25 Nov: the list of new cases to the district's PPR team, once.
    assert sweep_twice(engine, D(2026, 11, 25)) == [("district_case_list", "ppr@vejle.dk")]
    with Session(engine) as session:
        case_list = session.exec(select(OutboxMessage).where(OutboxMessage.template == "district_case_list")).one()
        assert f"Sag {case_id}" in case_list.body_text and "Elev K-417" in case_list.body_text

    # Thu 26 Nov: the district meeting decides who starts the case (PATH-4) — run twice, told once.
    before = outbox(engine)
    for _ in range(2):
        assigned = assign_district_case(case_id=case_id, to_email=PSYCHOLOGIST, name="Karin Ørum",
                                        role="ppr_psychologist",
                                            request_id=as_user("admin@ppr-vejle.example", assign_district_case),
                                        today=D(2026, 11, 26))
    assert new_since(engine, before) == [("assignment", PSYCHOLOGIST)]
    assert assigned["startup_meeting_due"] == "2026-12-10"

    # Nothing until the lead time has passed; the unassigned-case roll-over has nothing to do.
    for day in (D(2026, 11, 27), D(2026, 12, 1)):
        assert sweep_twice(engine, day) == []
    # Wed 9 Dec: the next meeting's list goes out, without the case (it is assigned).
    assert sweep_twice(engine, D(2026, 12, 9)) == [("district_case_list", "ppr@vejle.dk")]
    with Session(engine) as session:
        second_list = session.exec(select(OutboxMessage).where(OutboxMessage.template == "district_case_list")
                                   .order_by(OutboxMessage.id.desc())).first()  # type: ignore[union-attr]
        assert second_list is not None and f"Sag {case_id}" not in second_list.body_text

    # Thu 10 Dec: no start-up meeting within 10 working days → the psychologist is reminded, once.
    assert sweep_twice(engine, D(2026, 12, 10)) == [("assignment", PSYCHOLOGIST)]
    with Session(engine) as session:
        reminder = session.exec(select(OutboxMessage).where(OutboxMessage.template == "assignment")
                                .order_by(OutboxMessage.id.desc())).first()  # type: ignore[union-attr]
        assert reminder is not None and "aftal et opstartsmøde" in reminder.body_text
        assert "startup-reminder" in reminder.idempotency_key

    # Nothing so far has been addressed to the parents: PPR's internal steps are staff-only.
    assert not [to for _, to in outbox(engine) if to in PARENTS]

    # Fri 11 Dec: the psychologist arranges the start-up meeting (opstartsmøde) → reminders stop.
    started = plan_meeting(MeetingInput(case_id=case_id, kind="startup", date=D(2027, 1, 7),
                                        starts_at=dt.time(14, 30), leader_email=PSYCHOLOGIST,
                                        location="Skovbakkeskolen, mødelokale 1", **PLACE),
                           today=D(2026, 12, 11), request_id=as_user(PSYCHOLOGIST, plan_meeting))
    assert started["startup_reminders_closed"] == 1
    with Session(engine) as session:
        open_reminders = session.exec(select(Deadline).where(
            Deadline.kind == "startup_meeting_reminder", Deadline.done_at == None)).all()  # noqa: E711
        assert open_reminders == []
        case = session.get(Case, case_id)
        assert case is not None and case.assigned_ppr_email == PSYCHOLOGIST and case.coordinator_email == TEACHER

    # Mon 28 Dec (another lead time later): no further start-up reminder; nothing is ever queued twice.
    later = sweep_twice(engine, D(2026, 12, 28))
    assert ("assignment", PSYCHOLOGIST) not in later
    with Session(engine) as session:
        # Not the (UNIQUE) idempotency keys: the start-up reminder went to the psychologist once in all, under
        # any key (a reminder re-queued for another deadline or day would show here).
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.template == "assignment")).all()
        reminders = Counter((m.case_id, m.to.strip().lower()) for m in rows if "startup-reminder" in m.idempotency_key)
        assert reminders == Counter({(case_id, PSYCHOLOGIST.lower()): 1}), reminders
        assignments = session.exec(select(OutboxMessage).where(OutboxMessage.template == "assignment")).all()
        assert len(assignments) == 2
