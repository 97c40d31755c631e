"""The web app's lists ask the one policy for many cases at once (tasks/access.py `case_facts_for_many`): the facts
must be exactly those `case_facts_for` builds case by case, or a list could show a case the policy refuses (PRIV-3).
Property test: Hypothesis generates directories, cases, parties and withdrawn consents."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, delete

from pprflow.models.access import Perm, decide
from pprflow.models.tables import Case, CaseParty, Consent, Institution, StaffMember
from pprflow.tasks.access import case_facts_for, case_facts_for_many, readable_case_ids, resolve_actor

PEOPLE = [f"p{i}@kommune.example" for i in range(8)]
ROLES = ["teacher", "school_leader", "pedagogical_leader", "ppr_psychologist", "administrator"]

staff_rows = st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(ROLES), st.integers(0, 2), st.booleans(),
                                st.one_of(st.none(), st.sampled_from(PEOPLE))), max_size=8,
                      unique_by=lambda t: t[0])
case_rows = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(PEOPLE),
                               st.one_of(st.none(), st.sampled_from(PEOPLE)), st.sampled_from(PEOPLE),
                               st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(ROLES + ["parent"]),
                                                  st.sampled_from(["none", "given", "withdrawn"])), max_size=3,
                                        unique_by=lambda t: t[0])),
                     min_size=1, max_size=6)


def _reset(engine: Engine) -> None:
    with Session(engine) as session:
        for table in (CaseParty, Consent, Case, StaffMember, Institution):
            session.exec(delete(table))  # type: ignore[call-overload]
        session.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(staff=staff_rows, cases=case_rows)
def test_batched_facts_equal_case_by_case_facts_PRIV_3(engine: Engine, staff, cases) -> None:  # type: ignore[no-untyped-def]
    assert SQLModel.metadata  # the migrated schema
    _reset(engine)
    with Session(engine) as session:
        insts = [Institution(name=f"Skole {i}", kind="school", district=f"D{i % 2}") for i in range(3)]
        session.add_all(insts)
        session.flush()
        for email, role, inst, active, leader in staff:
            session.add(StaffMember(name=email, email=email, role=role, institution_id=insts[inst].id,
                                    active=active, leader_email=leader))
        for inst, coordinator, assigned, submitter, parties in cases:
            case = Case(pathway="ppr_individual", institution_id=insts[inst].id, coordinator_email=coordinator,
                        assigned_ppr_email=assigned, submitted_by_email=submitter)
            session.add(case)
            session.flush()
            for email, role, consent_state in parties:
                consent_id = None
                if consent_state != "none":
                    consent = Consent(case_id=case.id, given_by=["Mor"], given_on=dt.date(2026, 11, 1),
                                      information="Trivsel", recipients=[email], purpose="Forløb",
                                      withdrawn_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
                                      if consent_state == "withdrawn" else None)
                    session.add(consent)
                    session.flush()
                    consent_id = consent.id
                session.add(CaseParty(case_id=case.id, name=email, email=email, role=role,
                                      is_parent=role == "parent", consent_id=consent_id))
        session.commit()
        all_cases = list(session.exec(select_cases()).all())
        batched = case_facts_for_many(session, all_cases)
        assert batched == {c.id: case_facts_for(session, c) for c in all_cases}
        for person in PEOPLE:
            who = resolve_actor(session, person)
            one_by_one = {c.id for c in all_cases if decide(who, Perm.CASE_READ, case_facts_for(session, c)).allowed}
            assert readable_case_ids(session, person, [c.id for c in all_cases if c.id]) == one_by_one


def select_cases():  # type: ignore[no-untyped-def]
    from sqlmodel import select

    return select(Case)
