"""The tables on both databases: SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pprflow.models.tables import (
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    Institution,
    Meeting,
    OutboxMessage,
)
from pprflow.models.types import utcnow


def _case(session: Session, **overrides: object) -> Case:
    institution = Institution(name="Skovbakkeskolen", kind="school", district="Nord")
    session.add(institution)
    session.flush()
    child = Child(pseudonym="Barn A", birth_year=2017)
    session.add(child)
    session.flush()
    case = Case(pathway="ppr_individual", institution_id=institution.id or 0, child_id=child.id,
                submitted_by_email="laerer@skole.example", coordinator_email="leder@skole.example",
                **overrides)
    session.add(case)
    session.flush()
    return case


def test_case_roundtrip_keeps_aware_times_and_levels_per_sphere_LVL_1(any_engine) -> None:
    with Session(any_engine) as session:
        case = _case(session, level_institution=2, level_family=4)
        session.commit()
        case_id = case.id
    with Session(any_engine) as session:
        stored = session.get(Case, case_id)
        assert stored is not None
        assert (stored.level_institution, stored.level_family) == (2, 4)
        assert stored.created_at.tzinfo is not None, "CAL-9: instants come back timezone-aware"
        assert stored.coordinator_email == "leder@skole.example", "ROLE-1: one coordinator per case"
        assert stored.confidential_from_parents is False


def test_child_has_no_cpr_column_PRIV_2() -> None:
    assert set(Child.model_fields) == {"id", "pseudonym", "birth_year"}


def test_outbox_idempotency_key_is_unique(any_engine) -> None:
    with Session(any_engine) as session:
        fields = dict(template="receipt", sender="ppr@vejle.example", to="a@b.example", subject="s",
                      body_text="t", body_html="h", send_after=utcnow())
        session.add(OutboxMessage(idempotency_key="k1", **fields))
        session.commit()
        session.add(OutboxMessage(idempotency_key="k1", **fields))
        with pytest.raises(IntegrityError):
            session.commit()


def test_consent_record_holds_what_the_law_asks_LAW_3(any_engine) -> None:
    with Session(any_engine) as session:
        case = _case(session)
        consent = Consent(case_id=case.id, given_by=["Mor Hansen", "Far Hansen"], given_on=dt.date(2026, 9, 1),
                          information="Trivsel og læring", recipients=["PPR", "Sundhedsplejen"],
                          purpose="Netværksmøde om trivsel")
        session.add(consent)
        session.commit()
        stored = session.exec(select(Consent)).one()
        assert stored.given_by == ["Mor Hansen", "Far Hansen"]
        assert stored.recipients == ["PPR", "Sundhedsplejen"]
        assert stored.withdrawn_at is None


def test_one_party_per_email_on_a_case(any_engine) -> None:
    with Session(any_engine) as session:
        case = _case(session)
        session.add(CaseParty(case_id=case.id or 0, name="Mor", email="mor@hjem.example", role="parent",
                              is_parent=True))
        session.commit()
        session.add(CaseParty(case_id=case.id or 0, name="Mor igen", email="mor@hjem.example", role="parent",
                              is_parent=True))
        with pytest.raises(IntegrityError):
            session.commit()


def test_deadline_and_meeting_rows(any_engine) -> None:
    with Session(any_engine) as session:
        case = _case(session)
        meeting = Meeting(kind="network_first", case_id=case.id, date=dt.date(2026, 4, 9), level=3,
                          agenda_deadline=dt.date(2026, 3, 30))
        session.add(meeting)
        session.flush()
        session.add(Deadline(kind="agenda_reminder", rule_id="CAL-2", subject_key=f"meeting:{meeting.id}",
                             case_id=case.id, meeting_id=meeting.id, due_on=dt.date(2026, 3, 30),
                             remind_on=dt.date(2026, 3, 25)))
        session.commit()
        due = session.exec(select(Deadline).where(Deadline.remind_on <= dt.date(2026, 3, 25))).all()
        assert [d.kind for d in due] == ["agenda_reminder"]


def test_naive_datetimes_are_refused_CAL_9(any_engine) -> None:
    with Session(any_engine) as session:
        session.add(OutboxMessage(idempotency_key="naive", template="receipt", sender="a@b.example",
                                  to="c@d.example", subject="s", body_text="t", body_html="h",
                                  send_after=dt.datetime(2026, 1, 1, 9, 0)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_staff_emails_are_stored_lower_case_so_lookups_use_the_unique_index(any_engine) -> None:
    from pprflow.models.tables import StaffMember

    with Session(any_engine) as session:
        session.add(StaffMember(name="Lene Leder", email="  Lene.Leder@Skole.EXAMPLE ", role="school_leader"))
        session.commit()
        found = session.exec(select(StaffMember).where(StaffMember.email == "lene.leder@skole.example")).one()
        assert found.name == "Lene Leder"
