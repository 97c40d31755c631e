"""Meetings on the service layer: CAL-2, LVL-3, LVL-4, MEET-1…5, PATH-8, CONS-1, ESC-1 (real database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import RuleViolation
from pprflow.models.referral import ConsentIn
from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput
from pprflow.models.tables import Action, AuditEvent, Deadline, Meeting, OutboxAttachment, OutboxMessage, StaffMember
from pprflow.tasks.consent import give_consent, withdraw_consent
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import pin_deadline, run_sweep
from pprflow.tasks.meetings import add_partner, record_minutes, schedule_meeting, send_agenda
from pprflow.tasks.transports.base import ICS_CONTENT_TYPE
from tests.factories import case_with_parents, put_staff

PARENTS = {"mor@hjem.example", "far@hjem.example"}
NOV_23 = dt.date(2026, 11, 23)
MEETING_DAY = dt.date(2026, 12, 10)  # Thursday; agenda due Thu 3 Dec (CAL-2)



def _case(engine: Engine, level: int = 3) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=level)
        session.commit()
        return case.id or 0


def _messages(engine: Engine, **where: Any) -> list[OutboxMessage]:
    with Session(engine) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(session.exec(query).all())


def _consent(ctx: Ctx, case_id: int, today: dt.date = NOV_23) -> int:
    data = ConsentIn(given_by=["Mor Hansen"], date=today, information="Skolegang og trivsel",
                     recipients=["PPR", "Sundhedsplejen"], purpose="Netværksmøder om barnets trivsel")
    return int(give_consent(ctx=ctx, case_id=case_id, data=data, today=today)["consent_id"])


# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}


def _meeting(ctx: Ctx, case_id: int, date: dt.date = MEETING_DAY, level: int | None = 3, kind: str = "network",
             today: dt.date = NOV_23, **kw: Any) -> dict[str, Any]:
    return schedule_meeting(ctx=ctx, data=MeetingInput(case_id=case_id, kind=kind, level=level,  # type: ignore[arg-type]
                                                       date=date, **{**PLACE, **kw}), today=today)


def test_schedule_pins_agenda_deadline_and_leader_reminder_CAL_2(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    result = _meeting(rctx, case_id, date=dt.date(2026, 4, 9), today=dt.date(2026, 3, 2))
    assert result["agenda_deadline"] == "2026-03-30", "CAL-2 over Easter"
    assert result["leader_reminded_on"] == "2026-03-25"
    with Session(engine) as session:
        kinds = {(d.kind, d.due_on, d.remind_on) for d in session.exec(select(Deadline)).all()}
    assert kinds == {("agenda_deadline_reminder", dt.date(2026, 3, 30), dt.date(2026, 3, 25)),
                     ("network_agenda", dt.date(2026, 3, 30), dt.date(2026, 3, 30))}


def test_meeting_too_soon_for_the_agenda_is_refused_and_nothing_stored_CAL_2(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation) as err:
        _meeting(rctx, case_id, date=dt.date(2026, 11, 26), today=NOV_23)
    assert err.value.rule_id == "CAL-2"
    with Session(engine) as session:
        assert session.exec(select(Meeting)).all() == []
        assert session.exec(select(Deadline)).all() == []


def test_sweep_reminds_the_leader_then_sends_the_agenda_with_invites_at_the_deadline_CAL_2(
        rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    _meeting(rctx, case_id, location="Skovbakkeskolen, lokale 2")
    run_sweep(engine, randers, today=dt.date(2026, 11, 27))
    assert _messages(engine) == [], "nothing before the reminder day"
    run_sweep(engine, randers, today=dt.date(2026, 11, 30))
    [reminder] = _messages(engine)
    assert (reminder.template, reminder.to) == ("agenda_deadline_reminder", "leder@skole.example")
    report = run_sweep(engine, randers, today=dt.date(2026, 12, 3))
    agendas = _messages(engine, template="network_agenda")
    assert {m.to for m in agendas} == PARENTS, "MEET-1: the parents always take part"
    assert report.queued == 2
    with Session(engine) as session:
        files = session.exec(select(OutboxAttachment)).all()
    assert len(files) == 2 and all(f.content_type == ICS_CONTENT_TYPE for f in files)
    assert all(b"BEGIN:VCALENDAR" in f.content and b"20261210T090000" in f.content for f in files)
    assert run_sweep(engine, randers, today=dt.date(2026, 12, 4)).queued == 0, "a sweep run twice sends nothing new"


def test_send_agenda_early_then_the_deadline_never_sends_twice_CAL_2(rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    meeting_id = _meeting(rctx, case_id)["meeting_id"]
    first = send_agenda(ctx=rctx, meeting_id=meeting_id, today=dt.date(2026, 11, 25))
    assert len(first["messages"]) == 2
    again = send_agenda(ctx=rctx, meeting_id=meeting_id, today=dt.date(2026, 11, 26))
    assert again["messages"] == first["messages"]
    run_sweep(engine, randers, today=dt.date(2026, 12, 3))
    assert len(_messages(engine, template="network_agenda")) == 2
    assert _messages(engine, template="agenda_deadline_reminder") == [], "the agenda went out: no reminder"


def test_leader_defaults_to_the_pedagogical_leader_MEET_4(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with Session(engine) as session:
        put_staff(session, StaffMember(name="Pia Pædagogisk", email="pl@skole.example", role="pedagogical_leader",
                                institution_id=1))
        session.commit()
    assert _meeting(rctx, case_id)["leader_email"] == "pl@skole.example"
    other = _meeting(rctx, case_id, date=dt.date(2026, 12, 17), level=4, leader_email="ppr@randers.example")
    assert other["leader_email"] == "ppr@randers.example", "MEET-4: another leader can be agreed"


def test_second_level3_meeting_needs_parental_consent_LVL_4(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    _meeting(rctx, case_id)
    with pytest.raises(RuleViolation) as err:
        _meeting(rctx, case_id, date=dt.date(2027, 1, 14))
    assert err.value.rule_id == "LVL-4"
    _consent(rctx, case_id)
    second = _meeting(rctx, case_id, date=dt.date(2027, 1, 14))
    assert second["stored_kind"] == "network_followup", "MEET-3: follow-up form"


def test_scheduling_twice_stores_one_meeting(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    first = _meeting(rctx, case_id)
    again = _meeting(rctx, case_id)
    assert again["meeting_id"] == first["meeting_id"] and again["created"] is False


def test_agenda_carries_the_network_map_and_first_meeting_form_MEET_5_MEET_3(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    meeting_id = _meeting(rctx, case_id, participants=[
        {"name": "Ahmed Psykolog", "email": "ahmed@ppr.example", "role": "ppr_psychologist"}])["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=meeting_id, today=NOV_23)
    agenda = _messages(engine, template="network_agenda", to="mor@hjem.example")[0]
    assert "Netværkskort" in agenda.body_text
    for person in ("Ahmed Psykolog", "Far Hansen", "Lene Leder"):
        assert person in agenda.body_text, f"MEET-5: {person} on the network map"
    # Issue 16: the parent's agenda names no form; the psychologist's (staff) names the yellow first-meeting form.
    assert "skema" not in agenda.body_text.lower()
    staff = _messages(engine, template="network_agenda", to="ahmed@ppr.example")[0]
    assert "gult skema" in staff.body_text and "første møde" in staff.body_text
    assert {m.to for m in _messages(engine, template="network_agenda")} == PARENTS | {"ahmed@ppr.example"}


def test_startup_meeting_closes_the_startup_reminder_PATH_4(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine, level=1)
    with Session(engine) as session:
        pin_deadline(session, calendar=WorkingCalendar(),
                     kind="startup_meeting_reminder", rule_id="PATH-4", subject_key=f"case:{case_id}",
                     due_on=dt.date(2026, 12, 7), remind_on=dt.date(2026, 12, 7), case_id=case_id)
        session.commit()
    result = _meeting(rctx, case_id, kind="startup", level=None, date=dt.date(2026, 12, 14))
    assert result["startup_reminders_closed"] == 1
    with Session(engine) as session:
        row = session.exec(select(Deadline).where(Deadline.kind == "startup_meeting_reminder")).one()
        assert row.done_at is not None


def _minutes(ctx: Ctx, meeting_id: int, today: dt.date = dt.date(2026, 12, 10), **data: Any) -> dict[str, Any]:
    return record_minutes(ctx=ctx, meeting_id=meeting_id, data=MinutesInput.model_validate(data), today=today)


def test_action_without_or_with_several_responsible_is_refused_MEET_2(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    meeting_id = _meeting(rctx, case_id)["meeting_id"]
    for responsible in (None, ["a@skole.example", "b@skole.example"], "a@skole.example og b@skole.example"):
        with pytest.raises(RuleViolation) as err:
            _minutes(rctx, meeting_id, actions=[{"text": "Fast voksen om morgenen", "responsible": responsible}])
        assert err.value.rule_id == "MEET-2"
    with Session(engine) as session:
        assert session.exec(select(Action)).all() == [], "refused minutes store nothing"


def test_minutes_go_to_participants_and_the_next_meeting_follows_up_each_action_MEET_2(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    _consent(rctx, case_id)
    first = _meeting(rctx, case_id)["meeting_id"]
    result = _minutes(rctx, first, summary="Roligere morgener.", actions=[
        {"text": "Fast voksen tager imod om morgenen.", "responsible": "laerer@skole.example"},
        {"text": "Ugeplan derhjemme søndag aften.", "responsible": "mor@hjem.example"}])
    assert len(result["actions"]) == 2
    minutes = _messages(engine, template="minutes")
    assert {m.to for m in minutes} == PARENTS, "MEET-1: minutes to the parents (the leader wrote them)"
    assert "Fast voksen tager imod om morgenen." in minutes[0].body_text
    second = _meeting(rctx, case_id, date=dt.date(2027, 1, 14), today=dt.date(2026, 12, 11))["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=second, today=dt.date(2026, 12, 11))
    agenda = _messages(engine, template="network_agenda", to="far@hjem.example")[-1]
    assert "Fast voksen tager imod om morgenen." in agenda.body_text, "open actions on the next agenda"
    with pytest.raises(RuleViolation, match="need a follow-up"):
        _minutes(rctx, second, today=dt.date(2027, 1, 14))
    a1, a2 = result["actions"]
    done = _minutes(rctx, second, today=dt.date(2027, 1, 14), follow_ups=[
        {"action_id": a1, "decision": "continue"},
        {"action_id": a2, "decision": "adjust", "text": "Ugeplan søndag og onsdag."}])
    assert done["followed_up"] == {str(a1): "continue", str(a2): "adjust"}
    with Session(engine) as session:
        old = session.get(Action, a1)
        assert old is not None and old.follow_up == "continue" and old.followed_up_in_meeting_id == second
        carried = session.exec(select(Action).where(Action.meeting_id == second)).all()
        assert {a.text for a in carried} == {"Fast voksen tager imod om morgenen.", "Ugeplan søndag og onsdag."}
    again = _minutes(rctx, second, today=dt.date(2027, 1, 14))
    assert again["already_recorded"] is True, "recording twice changes nothing"


def test_partner_without_consent_is_refused_PATH_8(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation) as err:
        add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email="hs@sund.example",
                                                role="health_visitor"))
    assert err.value.rule_id == "PATH-8"


def test_partner_on_consent_gets_agendas_only_while_the_consent_stands_PATH_8_CONS_1(
        rctx: Ctx, engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    consent_id = _consent(rctx, case_id)
    add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email="hs@sund.example",
                                            role="health_visitor", consent_id=consent_id))
    first = _meeting(rctx, case_id)["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=first, today=NOV_23)
    [to_partner] = _messages(engine, template="network_agenda", to="hs@sund.example")
    assert to_partner.consent_id == consent_id
    # A second meeting, then the parents withdraw: the partner's pending agenda is cancelled (CONS-1).
    _minutes(rctx, first)
    second = _meeting(rctx, case_id, date=dt.date(2027, 1, 14), today=dt.date(2026, 12, 11))["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=second, today=dt.date(2026, 12, 11))
    withdraw_consent(ctx=rctx, case_id=case_id, consent_id=consent_id)
    to_partner_now = _messages(engine, template="network_agenda", to="hs@sund.example")
    assert [m.status for m in to_partner_now] == ["cancelled", "cancelled"], "CONS-1: queued agendas cancelled"
    third = _meeting(rctx, case_id, kind="development", level=None, date=dt.date(2027, 2, 4),
                     today=dt.date(2027, 1, 15))["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=third, today=dt.date(2027, 1, 15))
    later = [m for m in _messages(engine, template="network_agenda", to="hs@sund.example") if m.status == "pending"]
    assert later == [], "CONS-1: the partner drops off future agendas"
    with Session(engine) as session:
        cancelled = session.exec(select(AuditEvent).where(AuditEvent.reason == "CONS-1",
                                                          AuditEvent.entity == "outboxmessage")).all()
    assert cancelled, "CONS-1: cancellation audited"
