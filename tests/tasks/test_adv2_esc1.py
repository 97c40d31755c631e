"""Adversary (adv2), ESC-1 on the service layer: a careless colleague adds the child's father — whom the referral
did not name — as a partner ("far") or a meeting participant ("mor") on a case kept from the parents. Before, he
became a staff recipient: the start-up meeting's staff agenda (case number, level) went to him."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.rules_meetings import MeetingInput, Participant, PartnerInput
from pprflow.models.tables import CaseParty, OutboxMessage
from pprflow.tasks.abuse import report_abuse
from pprflow.tasks.meetings import add_partner, schedule_meeting
from tests.factories import as_admin, case_with_parents, directory

TODAY = dt.date(2026, 11, 24)
FATHER = "peter.berg@hjem.example"


def _confidential_case(engine: Engine, ctx: Any) -> int:
    directory(engine)
    with Session(engine) as session:
        case_id = case_with_parents(session, level=2).id or 0
        session.commit()
    report_abuse(ctx, case_id, today=TODAY, reported_by_email="laerer@skole.example")  # ESC-1: kept from parents
    return case_id


@pytest.mark.parametrize("role", ["far", "parent", "Mor", "bonus-far", "plejemor", "Forælder", "guardian"])
def test_a_parent_never_joins_a_case_as_a_partner_ESC_1(engine: Engine, ctx: Any, role: str) -> None:
    case_id = _confidential_case(engine, ctx)
    with pytest.raises(ValidationError) as refused:
        add_partner(ctx=as_admin(ctx), data=PartnerInput(case_id=case_id, name="Peter Berg", email=FATHER, role=role))
    assert "ESC-1" in str(refused.value) and "forælder" in str(refused.value)
    with Session(engine) as session:
        assert not session.exec(select(CaseParty).where(CaseParty.email == FATHER)).all()


def test_a_parent_never_takes_part_in_a_meeting_as_a_professional_and_gets_no_staff_agenda_ESC_1(
        engine: Engine, ctx: Any) -> None:
    case_id = _confidential_case(engine, ctx)
    admin = as_admin(ctx)
    meeting = {"case_id": case_id, "kind": "startup", "date": TODAY + dt.timedelta(days=2),
               "starts_at": dt.time(14, 0), "location": "PPR, Kirketorvet 22", "leader_phone": "+45 76 81 52 33",
               "urgent_reason": "Akut"}
    with pytest.raises(ValidationError) as refused:
        schedule_meeting(ctx=admin, today=TODAY, data=MeetingInput(
            **meeting, participants=[Participant(name="Peter Berg", email=FATHER, role="far")]))
    assert "ESC-1" in str(refused.value)
    schedule_meeting(ctx=admin, today=TODAY, data=MeetingInput(**meeting))
    with Session(engine) as session:
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.to == FATHER)).all()


@pytest.mark.parametrize(("stored", "typed"), [("mor@hjem.example", "mor+skole@hjem.example"),
                                               ("mor+skole@hjem.example", "mor@hjem.example")])
def test_a_parents_sub_address_is_the_parent_ESC_1(engine: Engine, ctx: Any, stored: str, typed: str) -> None:
    """ESC-1 says "whatever the spelling": `mor+skole@hjem.example` and `mor@hjem.example` are one mailbox at
    Gmail, Outlook.com, iCloud and Fastmail, and parents give institutions tagged addresses for exactly this
    purpose. A partner or leader typed with (or without) the tag passes the parent check and gets staff mail
    about the case kept from the parents. Fixed once, where every parent check passes: tasks/outbox.py looks
    parents up on `caseparty.mailbox` (the mailbox without a sub-address, 0014_mailbox) and `parent_emails` /
    `protected_among` answer `in` for any spelling (models/address.py Mailboxes)."""
    from pprflow.tasks.outbox import suppression

    directory(engine)
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        for party in session.exec(select(CaseParty).where(CaseParty.email == "mor@hjem.example")):
            party.email = stored
            session.add(party)
        session.commit()
        case_id = case.id or 0
    report_abuse(ctx, case_id, today=TODAY, reported_by_email="laerer@skole.example")
    with Session(engine) as session:
        from pprflow.models.tables import Case

        blocked = suppression(session, case=session.get(Case, case_id), to=typed, is_parent=False, consent_id=None)
    assert blocked is not None and blocked.rule_id == "ESC-1"


def test_a_nul_or_bidi_override_in_a_report_is_removed_never_stops_the_notification_ESC_2(
        any_engine: Engine, randers: Any) -> None:
    """ESC-2: "no other rule may refuse or hold it". A NUL pasted with the observation (text copied from a PDF)
    made PostgreSQL refuse the row: DataError, nothing stored or queued. U+202E in the child's name made it read
    backwards in the family centre's mail. Both are removed from the report; it goes."""
    from pprflow.models.tables import Notification
    from pprflow.tasks.abuse import report
    from pprflow.tasks.context import Ctx

    data = {"reporter": {"name": "Sofie\x00 Lærer", "email": "laerer@skole.example", "role": "teacher"},
            "institution": "Skovbakkeskolen", "child": {"name": "Emil \u202eJensen", "group": "3.B"},
            "observation": "Blå mærker\x00 på armen\x1b.", "observed_on": "2026-11-24"}
    sent = report(Ctx(engine=any_engine, profile=randers, actor="laerer@skole.example"), data, today=TODAY)
    assert sent["notification_sent"] is True
    with Session(any_engine) as session:
        [notification] = session.exec(select(Notification)).all()
        [message] = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
    assert notification.child_name == "Emil Jensen" and notification.observation == "Blå mærker på armen."
    assert "\x00" not in message.body_text and "\u202e" not in message.body_text
