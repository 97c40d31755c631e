"""The service-layer entrance to the access policy (tasks/access.py): `resolve_actor` (PRIV-4), the facts it
loads for a case (`case_facts_for`, PRIV-3, CONS-1), `authorize` with its audited refusals (PRIV-1) and the
ESC-1 refusal of a parent of a confidential child. On the real database, every value checked exactly, so
removing any condition fails a test (scripts/mutation.sh authorize)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.access import Actor, CaseFacts, Decision, Perm
from pprflow.models.errors import AccessDenied, NotFound
from pprflow.models.tables import (
    AuditEvent,
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    Meeting,
    OutboxMessage,
    StaffMember,
)
from pprflow.tasks.access import authorize, case_facts_for, resolve_actor
from pprflow.tasks.outbox import queue_message
from pprflow.templates.catalogue import MESSAGE_KINDS
from tests.factories import case_with_parents, institution, put_staff, staff

COORDINATOR = "leder@skole.example"


def _world(engine: Engine) -> int:
    """One case at Skovbakkeskolen (district Nord): coordinator leder@ (school leader), submitted by laerer@,
    assigned to psykolog@ppr; partners hs@ (consent later withdrawn) and tale@ (consent kept); two parents."""
    with Session(engine) as session:
        case = case_with_parents(session)
        school = institution(session)
        other = institution(session, name="Åskolen", district="Syd")
        case.assigned_ppr_email = "Psykolog@PPR.example"
        kept = Consent(case_id=case.id, given_by=["Mor Hansen"], given_on=dt.date(2026, 1, 5), information="Trivsel",
                       recipients=["Tale"], purpose="Netværksmøde")
        gone = Consent(case_id=case.id, given_by=["Mor Hansen"], given_on=dt.date(2026, 1, 5),
                       information="Trivsel", recipients=["Sundhedsplejen"], purpose="Netværksmøde",
                       withdrawn_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        session.add_all([case, kept, gone])
        session.flush()
        session.add_all([
            CaseParty(case_id=case.id or 0, name="Hanne", email="hs@sund.example", role="health_visitor",
                      consent_id=gone.id),
            CaseParty(case_id=case.id or 0, name="Tina", email="tale@sund.example", role="speech_therapist",
                      consent_id=kept.id),
            CaseParty(case_id=case.id or 0, name="Dagmar", email="dagleder@dagtilbud.example", role="daycare_leader"),
        ])
        put_staff(session, StaffMember(name="Lene Leder", email=COORDINATOR, role="school_leader",
                                       institution_id=school.id, leader_email="Chef@Kommune.example"))
        put_staff(session, StaffMember(name="Sofie", email="laerer@skole.example", role="teacher",
                                       institution_id=school.id, leader_email=COORDINATOR))
        put_staff(session, StaffMember(name="Pia", email="psykolog@ppr.example", role="ppr_psychologist",
                                       district="Syd", leader_email="pprleder@ppr.example"))
        put_staff(session, StaffMember(name="Ole", email="oleder@skole.example", role="pedagogical_leader",
                                       institution_id=school.id))
        put_staff(session, StaffMember(name="Inaktiv", email="gammel@skole.example", role="school_leader",
                                       institution_id=school.id, active=False))
        put_staff(session, StaffMember(name="Anden", email="anden@askolen.example", role="school_leader",
                                       institution_id=other.id))
        put_staff(session, StaffMember(name="Kim", email="kollega@skole.example", role="teacher",
                                       institution_id=school.id, district="Syd"))
        put_staff(session, StaffMember(name="Hjemløs", email="hjemlos@ppr.example", role="teacher"))
        for email, role in (("hs@sund.example", "health_visitor"), ("tale@sund.example", "speech_therapist"),
                            ("admin@ppr.example", "administrator"), ("dagleder@dagtilbud.example", "daycare_leader")):
            staff(session, email, role)
        session.commit()
        return case.id or 0


def _refusals(engine: Engine) -> list[tuple[str, str, str | None, int | None, str | None, dict[str, str]]]:
    with Session(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == "refused")
                            .order_by(col(AuditEvent.id))).all()
        return [(e.actor, e.entity, e.entity_id, e.case_id, e.reason, e.detail) for e in rows]


def test_the_directory_decides_who_acts_PRIV_4(engine: Engine) -> None:
    _world(engine)
    with Session(engine) as session:
        school_id = session.exec(select(StaffMember.institution_id).where(
            StaffMember.email == "laerer@skole.example")).one()
        assert resolve_actor(session, " Laerer@Skole.example ") == Actor(
            id="laerer@skole.example", kind="person", role="teacher", institution_id=school_id, district="Nord")
        assert resolve_actor(session, "psykolog@ppr.example") == Actor(
            id="psykolog@ppr.example", kind="person", role="ppr_psychologist", institution_id=None, district="Syd")
        assert resolve_actor(session, "hjemlos@ppr.example") == Actor(id="hjemlos@ppr.example", kind="person",
                                                                      role="teacher")
        assert resolve_actor(session, "gammel@skole.example") == Actor(id="gammel@skole.example", kind="inactive",
                                                                       role="school_leader")
        assert resolve_actor(session, " System:Sweep ") == Actor(id="system:sweep", kind="system")
        assert resolve_actor(session, "Ukendt@Hjem.example") == Actor(id="ukendt@hjem.example", kind="unknown")
        assert resolve_actor(session, "kollega@skole.example") == Actor(
            id="kollega@skole.example", kind="person", role="teacher", institution_id=school_id, district="Syd"), \
            "a member's own district wins over the institution's"
        assert resolve_actor(session, "os:root") == Actor(id="os:root", kind="unknown")
        session.add(StaffMember(name="Root", email="os:root", role="administrator"))  # got in past validation
        session.flush()
        assert resolve_actor(session, "os:root") == Actor(id="os:root", kind="unknown"), \
            "an account name without @ is never a member of the directory"
        assert resolve_actor(session, None) == Actor(id="", kind="unknown")  # type: ignore[arg-type]


def test_the_facts_of_a_case_come_from_its_rows_and_the_directory_PRIV_3_CONS_1(engine: Engine) -> None:
    case_id = _world(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        facts = case_facts_for(session, case)
        assert facts == CaseFacts(
            case_id=case_id, coordinator=COORDINATOR, assigned_ppr="psykolog@ppr.example",
            assigned={COORDINATOR: "coordinator", "psykolog@ppr.example": "assigned PPR employee",
                      "laerer@skole.example": "submitter",
                      "tale@sund.example": "on the case (speech_therapist)",
                      "dagleder@dagtilbud.example": "on the case (daycare_leader)"},
            leaders={"chef@kommune.example": f"leader of {COORDINATOR}",
                     "pprleder@ppr.example": "leader of psykolog@ppr.example",
                     "oleder@skole.example": "leader of the institution"},
            institution_leaders=frozenset({COORDINATOR, "oleder@skole.example", "dagleder@dagtilbud.example"}),
            institution_id=case.institution_id, district="Nord",
        ), "no parents, no partner whose consent was withdrawn, no inactive or other institution's leader"


def test_an_allowed_request_returns_the_decision_and_audits_no_refusal_PRIV_3(engine: Engine) -> None:
    case_id = _world(engine)
    with Session(engine) as session:
        assert authorize(session, "Laerer@Skole.example", Perm.CASE_READ, what="case show", case=case_id) == \
            Decision(True, basis="submitter")
        case = session.get(Case, case_id)
        assert authorize(session, "oleder@skole.example", Perm.CASE_CLOSE, what="case close", case=case) == \
            Decision(True, basis="leader of the institution")
        assert authorize(session, "admin@ppr.example", Perm.STAFF_MANAGE, what="staff add") == \
            Decision(True, basis="administrator")
    assert _refusals(engine) == []


def test_a_refusal_is_raised_in_one_line_and_audited_on_its_own_even_when_the_caller_rolls_back_PRIV_1_PRIV_3(
        engine: Engine) -> None:
    case_id = _world(engine)
    with Session(engine) as session:
        with pytest.raises(AccessDenied) as read:
            authorize(session, "kollega@skole.example", Perm.CASE_READ, what="case show", case=case_id)
        with pytest.raises(AccessDenied) as change:
            authorize(session, "tale@sund.example", Perm.CASE_LEVEL, what="case level", case=case_id)
        with pytest.raises(AccessDenied) as nobody:
            authorize(session, "", Perm.CASE_READ, what="case show", case=case_id)
        session.rollback()
    assert read.value.rule_id == "PRIV-3" and read.value.one_line() == (
        f"kollega@skole.example må ikke læse sag {case_id}: kun sagens medarbejdere og deres ledere; bed sagens "
        "tovholder om at tilføje dig (PRIV-3)")
    assert change.value.rule_id == "PRIV-4" and change.value.message.startswith(
        f"tale@sund.example må ikke ændre sag {case_id} (case.level)")
    assert nobody.value.rule_id == "PRIV-4"
    assert _refusals(engine) == [
        ("kollega@skole.example", "case", str(case_id), case_id, "PRIV-3", {"what": "case show", "perm": "case.read"}),
        ("tale@sund.example", "case", str(case_id), case_id, "PRIV-4", {"what": "case level", "perm": "case.level"}),
        ("(ingen)", "case", str(case_id), case_id, "PRIV-4", {"what": "case show", "perm": "case.read"}),
    ]


def test_a_missing_case_is_not_found_and_a_change_to_no_case_is_for_administrators_and_the_named_PRIV_4(
        engine: Engine) -> None:
    _world(engine)
    with Session(engine) as session:
        with pytest.raises(NotFound):
            authorize(session, "admin@ppr.example", Perm.CASE_READ, what="case show", case=999)
        assert authorize(session, "admin@ppr.example", Perm.MEETING_SCHEDULE, what="meeting") == \
            Decision(True, basis="administrator")
        assert authorize(session, "kollega@skole.example", Perm.MEETING_SCHEDULE, what="meeting",
                         also={"Kollega@Skole.example": "leads the meeting"}) == \
            Decision(True, basis="leads the meeting")
        with pytest.raises(AccessDenied) as caught:
            authorize(session, "kollega@skole.example", Perm.MEETING_SCHEDULE, what="meeting")
        with pytest.raises(AccessDenied):
            authorize(session, "kollega@skole.example", Perm.KV_SCHEDULE, what="kv", institution_id=None)
        school_id = session.exec(select(StaffMember.institution_id).where(
            StaffMember.email == "oleder@skole.example")).one()
        assert authorize(session, "oleder@skole.example", Perm.KV_SCHEDULE, what="kv", institution_id=school_id) == \
            Decision(True, basis="leader of the institution")
    assert caught.value.rule_id == "PRIV-4" and caught.value.message.startswith(
        "kollega@skole.example må ikke ændre sag None (meeting.schedule)")
    assert _refusals(engine)[0] == ("kollega@skole.example", "case", None, None, "PRIV-4",
                                    {"what": "meeting", "perm": "meeting.schedule"})


def _message(engine: Engine, case_id: int | None) -> OutboxMessage:
    """A message of the case (or of none); its id differs from the case's, so the audit row shows which is named."""
    with Session(engine) as session:
        for n in range(3):
            queue_message(session, kind="receipt", to="laerer@skole.example", context=MESSAGE_KINDS["receipt"]
                          .example_context(), serves=f"filler:{n}", sender="ppr@vejle.example")
        case = session.get(Case, case_id) if case_id is not None else None
        message = queue_message(session, kind="receipt", to="laerer@skole.example", case=case,
                                context=MESSAGE_KINDS["receipt"].example_context(), serves=f"authorize:{case_id}",
                                sender="ppr@vejle.example")
        assert message is not None
        session.commit()
        session.refresh(message)
        return message


def test_a_message_is_read_like_its_case_and_changed_like_its_case_PRIV_3_PRIV_4(engine: Engine) -> None:
    case_id = _world(engine)
    message = _message(engine, case_id)
    with Session(engine) as session:
        assert authorize(session, "tale@sund.example", Perm.MESSAGE_READ, what="outbox show", message=message) == \
            Decision(True, basis="on the case (speech_therapist)")
        assert authorize(session, COORDINATOR, Perm.MESSAGE_CANCEL, what="outbox cancel", message=message) == \
            Decision(True, basis="coordinator")
        with pytest.raises(AccessDenied) as changing:  # a partner reads the case's mail but changes nothing
            authorize(session, "tale@sund.example", Perm.MESSAGE_CANCEL, what="outbox cancel", message=message)
        with pytest.raises(AccessDenied):
            authorize(session, "kollega@skole.example", Perm.MESSAGE_READ, what="outbox show", message=message)
    assert changing.value.rule_id == "PRIV-4"
    assert _refusals(engine) == [
        ("tale@sund.example", "outboxmessage", str(message.id), case_id, "PRIV-4",
         {"what": "outbox cancel", "perm": "message.cancel"}),
        ("kollega@skole.example", "outboxmessage", str(message.id), case_id, "PRIV-3",
         {"what": "outbox show", "perm": "message.read"}),
    ]


def test_a_message_of_no_case_is_changed_only_by_an_administrator_PRIV_4(engine: Engine) -> None:
    _world(engine)
    message = _message(engine, None)
    with Session(engine) as session:
        assert authorize(session, "admin@ppr.example", Perm.MESSAGE_RETRY, what="outbox retry", message=message) == \
            Decision(True, basis="administrator")
        with pytest.raises(AccessDenied) as caught:
            authorize(session, COORDINATOR, Perm.MESSAGE_RETRY, what="outbox retry", message=message)
    assert caught.value.message.startswith(f"{COORDINATOR} må ikke ændre sag None (message.retry)")
    assert _refusals(engine) == [(COORDINATOR, "outboxmessage", str(message.id), None, "PRIV-4",
                                  {"what": "outbox retry", "perm": "message.retry"})]


def test_a_parent_of_a_confidential_child_is_refused_whatever_their_role_ESC_1(engine: Engine) -> None:
    """The mother is also an administrator: the policy lets her in, ESC-1 does not — on the confidential case
    and on any other case of the same child; she may still report abuse; a parent of another child may read."""
    case_id = _world(engine)
    with Session(engine) as session:
        staff(session, "mor@hjem.example", "administrator")
        first = session.get(Case, case_id)
        assert first is not None
        second = Case(pathway="ppr_individual", institution_id=first.institution_id, child_id=first.child_id,
                      submitted_by_email="laerer@skole.example", coordinator_email=COORDINATOR)
        other_child = Child(pseudonym="Barn B", birth_year=2018)
        session.add_all([second, other_child])
        session.flush()
        third = Case(pathway="ppr_individual", institution_id=first.institution_id, child_id=other_child.id,
                     submitted_by_email="laerer@skole.example", coordinator_email=COORDINATOR,
                     confidential_from_parents=True)
        session.add(third)
        session.commit()
        second_id, third_id = second.id or 0, third.id or 0
    with Session(engine) as session:
        assert authorize(session, "mor@hjem.example", Perm.CASE_READ, what="case show", case=case_id).allowed, \
            "not confidential yet: an administrator reads"
        assert authorize(session, "mor@hjem.example", Perm.CASE_READ, what="case show", case=third_id).allowed, \
            "a confidential case of another child"
        first = session.get(Case, case_id)
        assert first is not None
        first.confidential_from_parents = True
        session.add(first)
        session.commit()
        for target in (case_id, second_id):
            with pytest.raises(AccessDenied) as caught:
                authorize(session, "Mor@Hjem.example", Perm.CASE_READ, what="case show", case=target)
            assert caught.value.rule_id == "ESC-1"
            assert caught.value.message == ("mor@hjem.example er forælder til barnet i en sag, der holdes "
                                            "fortrolig over for forældrene")
        assert authorize(session, "mor@hjem.example", Perm.CASE_REPORT_ABUSE, what="report-abuse",
                         case=case_id).allowed
    assert _refusals(engine) == [
        ("Mor@Hjem.example", "case", str(case_id), case_id, "ESC-1", {"what": "case show", "perm": "case.read"}),
        ("Mor@Hjem.example", "case", str(second_id), second_id, "ESC-1", {"what": "case show", "perm": "case.read"}),
    ]


def test_a_parents_message_of_a_confidential_child_is_refused_too_ESC_1(engine: Engine) -> None:
    case_id = _world(engine)
    message = _message(engine, case_id)
    with Session(engine) as session:
        staff(session, "far@hjem.example", "administrator")
        case = session.get(Case, case_id)
        assert case is not None
        case.confidential_from_parents = True
        session.add(case)
        session.commit()
        with pytest.raises(AccessDenied) as caught:
            authorize(session, "far@hjem.example", Perm.MESSAGE_READ, what="outbox show", message=message)
    assert caught.value.rule_id == "ESC-1"
    assert _refusals(engine) == [("far@hjem.example", "outboxmessage", str(message.id), case_id, "ESC-1",
                                  {"what": "outbox show", "perm": "message.read"})]



def _district_list(engine: Engine, case_id: int) -> OutboxMessage:
    """A message of no case that shows the case: a district meeting's case list (MEET-2)."""
    _message(engine, None)  # ids of messages and cases differ
    with Session(engine) as session:
        meeting = Meeting(kind="district", district="Nord", date=dt.date(2026, 12, 3))
        session.add(meeting)
        session.flush()
        session.add(Deadline(kind="district_case", rule_id="MEET-2", subject_key=f"meeting:{meeting.id}",
                             case_id=case_id, meeting_id=meeting.id, due_on=dt.date(2026, 12, 3),
                             remind_on=dt.date(2026, 12, 1)))
        message = queue_message(session, kind="receipt", to="ppr-nord@vejle.example", serves=f"meeting:{meeting.id}",
                                context=MESSAGE_KINDS["receipt"].example_context(), sender="ppr@vejle.example")
        assert message is not None and message.case_id is None
        session.commit()
        session.refresh(message)
        return message


def test_a_refused_read_of_a_case_list_is_audited_on_every_case_it_shows_PRIV_1_PRIV_3(engine: Engine) -> None:
    case_id = _world(engine)
    message = _district_list(engine, case_id)
    with Session(engine) as session:
        with pytest.raises(AccessDenied):
            authorize(session, "kollega@skole.example", Perm.MESSAGE_READ, what="outbox show", message=message)
        assert authorize(session, COORDINATOR, Perm.MESSAGE_READ, what="outbox show", message=message) == \
            Decision(True, basis="may read every case it shows")
    assert _refusals(engine) == [("kollega@skole.example", "outboxmessage", str(message.id), case_id, "PRIV-3",
                                  {"what": "outbox show", "perm": "message.read"})]


def test_a_parent_may_not_read_a_case_list_that_shows_their_confidential_child_ESC_1(engine: Engine) -> None:
    case_id = _world(engine)
    message = _district_list(engine, case_id)
    with Session(engine) as session:
        staff(session, "mor@hjem.example", "administrator")
        case = session.get(Case, case_id)
        assert case is not None
        case.confidential_from_parents = True
        session.add(case)
        session.commit()
        with pytest.raises(AccessDenied) as caught:
            authorize(session, "mor@hjem.example", Perm.MESSAGE_READ, what="outbox show", message=message)
    assert caught.value.rule_id == "ESC-1"
    assert _refusals(engine) == [("mor@hjem.example", "outboxmessage", str(message.id), case_id, "ESC-1",
                                  {"what": "outbox show", "perm": "message.read"})]
