"""ROLE-3: a child who moves keeps the case; ROLE-2: before daycare age the case belongs to the health visitors.

The case moves with its history, consent, levels, confidentiality and open deadlines; the new leader is told and
takes over (reminders, access, PRIV-3); the old leader is not reminded again and no longer reads the case.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.errors import AccessDenied, RuleViolation
from pprflow.models.rules_levels import LevelChangeInput
from pprflow.models.rules_meetings import MeetingInput
from pprflow.models.tables import AuditEvent, Case, Consent, Deadline, OutboxMessage
from pprflow.tasks.access import authorize
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.levels import escalate
from pprflow.tasks.meetings import schedule_meeting
from pprflow.tasks.transfer import transfer_case
from tests import factories

OLD_LEADER, NEW_LEADER = "leder@solsikken.example", "leder@skole.example"
HEALTH_VISITOR = "sundhedsplejerske@sundhedsplejen.example"
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}


def _daycare_case(ctx: Ctx) -> int:
    with Session(ctx.engine) as session:
        daycare = factories.institution(session, "Børnehuset Solsikken", kind="daycare")
        factories.staff(session, OLD_LEADER, "daycare_leader", name="Dorte Dagtilbud", institution=daycare)
        case = factories.case_with_parents(session, level=3, coordinator=OLD_LEADER, kind="daycare",
                                           institution_name="Børnehuset Solsikken")
        case.confidential_from_parents = True  # ESC-1 goes with the case
        session.add(case)
        session.add(Consent(case_id=case.id, given_by=["Mor Hansen"], given_on=dt.date(2026, 8, 1),
                            information="Trivsel", recipients=["PPR"], purpose="Netværksmøder"))
        session.commit()
        return case.id or 0


def _can_read(ctx: Ctx, actor: str, case_id: int) -> bool:
    with Session(ctx.engine) as session:
        case = session.get(Case, case_id)
        try:
            authorize(session, actor, Perm.CASE_READ, case=case, what="case show")
        except AccessDenied:
            return False
        return True


def test_a_case_moves_with_the_child_and_the_new_leader_takes_over_ROLE_3(ctx: Ctx) -> None:
    case_id = _daycare_case(ctx)
    old = Ctx(engine=ctx.engine, profile=ctx.profile, actor=OLD_LEADER)
    escalate(ctx=old, data=LevelChangeInput(case_id=case_id, sphere="institution", to=4),
             today=dt.date(2026, 8, 31))  # a level-4 effort: review due 28 Feb 2027 (CAL-6)
    assert _can_read(ctx, OLD_LEADER, case_id) and not _can_read(ctx, NEW_LEADER, case_id)

    result = transfer_case(ctx=old, case_id=case_id, to_institution="Skovbakkeskolen", today=dt.date(2027, 1, 4))
    assert result["changed"] and result["new_leader"] == NEW_LEADER and result["coordinator"] == NEW_LEADER
    again = transfer_case(ctx=Ctx(engine=ctx.engine, profile=ctx.profile, actor=NEW_LEADER), case_id=case_id,
                          to_institution="Skovbakkeskolen", today=dt.date(2027, 1, 4))
    assert again["changed"] is False, "running it twice moves once"
    with Session(ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.level_institution, case.confidential_from_parents) == (4, True), "levels and ESC-1 go with it"
        assert session.exec(select(Consent).where(Consent.case_id == case_id)).all(), "consent goes with it"
        open_rows = session.exec(select(Deadline).where(Deadline.case_id == case_id,
                                                        Deadline.done_at == None)).all()  # noqa: E711
        assert {d.kind for d in open_rows} == {"review_reminder", "review_overdue"}, "open deadlines go with it"
        told = session.exec(select(OutboxMessage).where(OutboxMessage.template == "case_transferred")).all()
        history = session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id)
                               .order_by(col(AuditEvent.id))).all()
    assert [m.to for m in told] == [NEW_LEADER] and "Halvårsvurdering" in told[0].body_text
    assert "fortrolig over for forældrene" in told[0].body_text
    assert any(e.reason == "LVL-1" for e in history) and any(e.reason == "ROLE-3" for e in history)
    # PRIV-3 follows the institution: the new leader reads the case, the old one no longer does
    assert _can_read(ctx, NEW_LEADER, case_id) and not _can_read(ctx, OLD_LEADER, case_id)
    run_sweep(ctx.engine, ctx.profile, today=dt.date(2027, 2, 12))  # the review reminder (CAL-6)
    with Session(ctx.engine) as session:
        reminded = {m.to for m in session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "review_reminder")).all()}
    assert reminded == {NEW_LEADER}, "the old leader is not reminded again"


def test_the_health_visitor_leads_a_case_before_daycare_age_and_calls_the_network_meeting_ROLE_2(ctx: Ctx) -> None:
    with Session(ctx.engine) as session:
        team = factories.institution(session, "Sundhedsplejen Nord", kind="health_visitors")
        factories.staff(session, HEALTH_VISITOR, "health_visitor", name="Hanne Sundhedsplejerske", institution=team)
        case = factories.case_with_parents(session, level=3, coordinator=HEALTH_VISITOR, kind="health_visitors",
                                           institution_name="Sundhedsplejen Nord")
        for party in case_parties(session, case.id or 0):
            if party.email == HEALTH_VISITOR:
                party.role = "health_visitor"
                session.add(party)
        session.commit()
        case_id = case.id or 0
    visitor = Ctx(engine=ctx.engine, profile=ctx.profile, actor=HEALTH_VISITOR)
    meeting = schedule_meeting(ctx=visitor, data=MeetingInput(case_id=case_id, kind="network", level=3,
                                                              date=dt.date(2026, 12, 10), **PLACE),
                               today=dt.date(2026, 11, 23))
    assert meeting["leader_email"] == HEALTH_VISITOR, "ROLE-2: the health visitor calls the network meeting"
    moved = transfer_case(ctx=visitor, case_id=case_id, to_institution="Skovbakkeskolen", today=dt.date(2027, 1, 4))
    assert moved["changed"] and moved["new_leader"] == NEW_LEADER


def test_a_case_does_not_move_back_from_school_to_daycare_ROLE_3(ctx: Ctx) -> None:
    with Session(ctx.engine) as session:
        factories.institution(session, "Børnehuset Solsikken", kind="daycare")
        case = factories.case_with_parents(session, level=2)
        session.commit()
        case_id = case.id or 0
    leader = Ctx(engine=ctx.engine, profile=ctx.profile, actor=NEW_LEADER)
    with pytest.raises(RuleViolation) as err:
        transfer_case(ctx=leader, case_id=case_id, to_institution="Børnehuset Solsikken", today=dt.date(2027, 1, 4))
    assert err.value.rule_id == "ROLE-3"


def case_parties(session: Session, case_id: int) -> list:  # type: ignore[type-arg]
    from pprflow.models.tables import CaseParty

    return list(session.exec(select(CaseParty).where(CaseParty.case_id == case_id)).all())


def test_a_case_never_moves_to_an_institution_whose_leader_is_a_parent_of_the_child_ESC_1_ROLE_1(ctx: Ctx) -> None:
    """ESC-1/ROLE-1: the new leader would become coordinator of a confidential case about her own child; the move is
    refused whole (hand over to another professional first) and nothing changes or is queued."""
    case_id = _daycare_case(ctx)
    with Session(ctx.engine) as session:
        school = factories.institution(session, "Bakkeskolen", kind="school")
        factories.staff(session, "mor@hjem.example", "school_leader", name="Mor Hansen", institution=school)
        session.commit()
        before = (session.get(Case, case_id).institution_id,  # type: ignore[union-attr]
                  len(session.exec(select(OutboxMessage)).all()))
    old = Ctx(engine=ctx.engine, profile=ctx.profile, actor=OLD_LEADER)
    with pytest.raises(RuleViolation) as refused:
        transfer_case(ctx=old, case_id=case_id, to_institution="Bakkeskolen", today=dt.date(2027, 1, 4))
    assert refused.value.rule_id in {"ROLE-1", "ESC-1"} and "parent" in refused.value.message
    with Session(ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.coordinator_email == OLD_LEADER
        assert (case.institution_id, len(session.exec(select(OutboxMessage)).all())) == before


def test_a_planned_meeting_follows_the_case_the_old_leader_is_not_reminded_nor_its_leader_ROLE_3(ctx: Ctx) -> None:
    """ROLE-3/PRIV-4: a meeting planned before the move is led by the new leader afterwards; the old leader
    (another institution now) gets no agenda reminder and may not send its agenda."""
    case_id = _daycare_case(ctx)
    old = Ctx(engine=ctx.engine, profile=ctx.profile, actor=OLD_LEADER)
    meeting = schedule_meeting(ctx=old, data=MeetingInput(case_id=case_id, kind="network", level=3,
                                                          date=dt.date(2027, 1, 28), **PLACE),
                               today=dt.date(2027, 1, 4))
    assert meeting["leader_email"] == OLD_LEADER
    transfer_case(ctx=old, case_id=case_id, to_institution="Skovbakkeskolen", today=dt.date(2027, 1, 4))
    run_sweep(ctx.engine, ctx.profile, today=dt.date.fromisoformat(meeting["leader_reminded_on"]))
    with Session(ctx.engine) as session:
        reminded = {m.to for m in session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "agenda_deadline_reminder")).all()}
        from pprflow.models.tables import Meeting
        from pprflow.tasks.meetings import authorize_meeting

        row = session.get(Meeting, meeting["meeting_id"])
        assert row is not None
        with pytest.raises(AccessDenied):
            authorize_meeting(session, OLD_LEADER, Perm.MEETING_AGENDA, row, what="meeting send-agenda")
    assert reminded == {NEW_LEADER}, "the old leader is not reminded of the moved case's meeting"


def test_a_confidential_case_is_not_moved_to_a_school_led_by_the_childs_parent_ESC_1(ctx: Ctx) -> None:
    """ESC-1: the child moves to a school whose leader is the child's mother: the case may not become hers
    (coordinator, reader, reminders); the move is refused in one line and nothing changes."""
    case_id = _daycare_case(ctx)
    with Session(ctx.engine) as session:
        fjord = factories.institution(session, "Fjordskolen", "school", "Syd")
        factories.staff(session, "mor@hjem.example", "school_leader", name="Mor Hansen", institution=fjord)
        session.commit()
    old = Ctx(engine=ctx.engine, profile=ctx.profile, actor=OLD_LEADER)
    with pytest.raises(RuleViolation) as err:
        transfer_case(ctx=old, case_id=case_id, to_institution="Fjordskolen", today=dt.date(2027, 1, 4))
    assert err.value.rule_id == "ESC-1"
    with Session(ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.coordinator_email == OLD_LEADER, "nothing changed"
    assert not _can_read(ctx, "mor@hjem.example", case_id)
