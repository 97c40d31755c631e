"""CAL-2 (issue 17): an urgent meeting inside the 5-working-day window, with a recorded reason: the agenda goes
out at once and the minutes say the meeting was called at short notice. Without a reason it is still refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.tables import Deadline, Meeting
from pprflow.tasks.context import Ctx
from tests.tasks.test_meetings import NOV_23, PARENTS, _case, _meeting, _messages, _minutes

URGENT = dt.date(2026, 11, 26)  # Thursday, 3 working days after Monday 23 Nov: inside the window
REASON = "Barnet er udeblevet i to uger; skolen og forældrene skal mødes inden weekenden."


def test_an_urgent_meeting_with_a_reason_sends_the_agenda_at_once_and_the_minutes_say_short_notice_CAL_2(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    result = _meeting(rctx, case_id, date=URGENT, today=NOV_23, urgent_reason=REASON)
    assert result["short_notice_reason"] == REASON and result["agenda_deadline"] == NOV_23.isoformat()
    agendas = _messages(engine, template="network_agenda")
    assert PARENTS <= {m.to for m in agendas}, "the agenda goes out at once, parents included (MEET-1)"
    with Session(engine) as session:
        meeting = session.get(Meeting, result["meeting_id"])
        assert meeting is not None and meeting.urgent_reason == REASON and meeting.agenda_sent_at is not None
        reminder = session.exec(select(Deadline).where(Deadline.kind == "agenda_deadline_reminder")).one()
        assert reminder.done_at is not None, "no reminder to send an agenda already sent"
    _minutes(rctx, result["meeting_id"], today=URGENT, summary="Aftaler om fremmøde.", actions=[
        {"text": "Daglig kontakt til forældrene.", "responsible": "laerer@skole.example"}])
    minutes = _messages(engine, template="minutes")
    assert minutes and all("kort varsel" in m.body_text and REASON in m.body_text for m in minutes)


def test_an_urgent_meeting_without_a_reason_is_still_refused_and_a_reason_outside_the_window_too_CAL_2(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation, match="--urgent-reason"):
        _meeting(rctx, case_id, date=URGENT, today=NOV_23)
    with pytest.raises(InvalidInput, match="leave --urgent-reason out"):
        _meeting(rctx, case_id, date=dt.date(2026, 12, 10), today=NOV_23, urgent_reason=REASON)
    with Session(engine) as session:
        assert session.exec(select(Meeting)).all() == []
    assert _messages(engine) == []
