"""Issue 16 on the service layer: contact data is refused at the input, the agenda a parent gets says what,
when, where and whom to call, and a reply reaches the person who signed (Reply-To)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.errors import InvalidInput
from pprflow.models.rules_meetings import MeetingInput
from pprflow.models.tables import Meeting, OutboxAttachment, OutboxMessage, StaffMember
from pprflow.tasks.context import Ctx
from pprflow.tasks.meetings import schedule_meeting, send_agenda
from pprflow.tasks.mime import mime_bytes
from pprflow.tasks.outbox import to_outgoing
from tests.factories import case_with_parents, put_staff

NOV_23 = dt.date(2026, 11, 23)
DAY = dt.date(2026, 12, 10)
PARENTS = {"mor@hjem.example", "far@hjem.example"}
LEADER = "leder@skole.example"


def _case(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=3)
        session.commit()
        return case.id or 0


def _schedule(ctx: Ctx, case_id: int, **kw: Any) -> dict[str, Any]:
    return schedule_meeting(ctx=ctx, data=MeetingInput(case_id=case_id, kind="network", level=3, date=DAY, **kw),
                            today=NOV_23)


def _nothing_stored(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.exec(select(Meeting)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


def test_a_meeting_without_an_address_is_refused_at_scheduling_MEET_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(InvalidInput) as refused:
        _schedule(rctx, case_id, location="Skovbakkeskolen, mødelokale 2", leader_phone="+45 75 00 00 00")
    assert refused.value.rule_id == "MEET-1" and "address" in str(refused.value)
    _nothing_stored(engine)


def test_a_leader_nobody_can_call_is_refused_at_scheduling_MEET_4(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(InvalidInput) as refused:
        _schedule(rctx, case_id, address="Skovbakkevej 1, 7100 Vejle")
    assert refused.value.rule_id == "MEET-4" and LEADER in str(refused.value)
    _nothing_stored(engine)


def test_the_staff_directory_phone_and_the_profile_places_are_enough(ctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with Session(engine) as session:
        put_staff(session, StaffMember(name="Lene Leder", email=LEADER, role="school_leader", phone="+45 75 11 22 33"))
        session.commit()
    # "PPR, Kirketorvet 22" is in the Vejle profile's [places]; the leader's phone is in the directory.
    _schedule(ctx, case_id, location="PPR, Kirketorvet 22", starts_at=dt.time(14, 0), ends_at=dt.time(15, 30))
    with Session(engine) as session:
        meeting = session.exec(select(Meeting)).one()
    assert (meeting.address, meeting.leader_phone) == ("Kirketorvet 22, 7100 Vejle", "+45 75 11 22 33")
    assert meeting.ends_at is not None and meeting.starts_at is not None
    assert meeting.ends_at - meeting.starts_at == dt.timedelta(minutes=90)


def test_an_end_before_the_start_is_refused(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(InvalidInput, match="ends"):
        _schedule(rctx, case_id, address="Skovbakkevej 1", leader_phone="+45 75 00 00 00",
                  starts_at=dt.time(14, 0), ends_at=dt.time(13, 0))
    _nothing_stored(engine)


def test_the_agenda_to_a_parent_says_what_when_where_and_whom_to_call_and_replies_reach_the_leader(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    meeting_id = _schedule(rctx, case_id, location="Skovbakkeskolen, mødelokale 2",
                           address="Skovbakkevej 1, 7100 Vejle", leader_phone="+45 75 00 00 00",
                           starts_at=dt.time(9, 0), ends_at=dt.time(10, 30))["meeting_id"]
    send_agenda(ctx=rctx, meeting_id=meeting_id, today=NOV_23)
    with Session(engine) as session:
        agendas = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert {m.to for m in agendas} == PARENTS
        for message in agendas:
            assert message.reply_to == LEADER  # the person who signs, not the shared mailbox
            assert "jeres barn" in message.subject and "kl. 9.00–10.30" in message.subject
            body = message.body_text
            assert "Skovbakkeskolen, mødelokale 2, Skovbakkevej 1, 7100 Vejle" in body
            assert "Lene Leder" in body and "+45 75 00 00 00" in body and LEADER in body
            assert "Barn A" not in body + message.subject + message.body_html  # the pseudonym
            assert "Niveau" not in body and "skema" not in body.lower() and f"sag {case_id}" not in body.lower()
            wire = email.message_from_bytes(mime_bytes(to_outgoing(session, message)), policy=email.policy.default)
            assert wire["Reply-To"] == LEADER and wire["From"] == rctx.profile.sender
        invite = session.exec(select(OutboxAttachment)).first()
    assert invite is not None
    assert b"DTEND" in invite.content or b"DURATION:PT1H30M" in invite.content
    assert b"sag " not in invite.content.lower(), "a parent's calendar shows no case number"
    assert b"Skovbakkevej 1" in invite.content


def test_a_reminder_from_the_system_has_no_reply_to_and_is_signed_by_the_unit(rctx: Ctx, engine: Engine) -> None:
    from pprflow.tasks.deadlines import run_sweep

    case_id = _case(engine)
    _schedule(rctx, case_id, address="Skovbakkevej 1, 7100 Vejle", leader_phone="+45 75 00 00 00")
    run_sweep(engine, rctx.profile, today=dt.date(2026, 11, 30))
    with Session(engine) as session:
        [reminder] = session.exec(select(OutboxMessage)).all()
    assert reminder.template == "agenda_deadline_reminder" and reminder.reply_to is None
    assert rctx.profile.contact.unit_name in reminder.body_text and rctx.profile.contact.phone in reminder.body_text
    assert reminder.subject.startswith(f"Sag {case_id}: send dagsordenen") and "senest torsdag den 3. december" \
        in reminder.subject
