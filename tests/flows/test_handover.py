"""Coordinator handover flow as a real flow run (ROLE-1)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.tables import Case
from tests.factories import case_with_parents
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
LEADER_IN_ENV = "leder@skole.example"  # a known leader (tests.factories.directory)



def test_handover_as_a_flow_run_twice_is_once_ROLE_1(env: Engine) -> None:
    from pprflow.flows.handover import hand_over_case

    with Session(env) as session:
        case_id = case_with_parents(session, level=3).id or 0
        session.commit()
    first = hand_over_case(case_id=case_id, to_email="laerer@skole.example", today=dt.date(2026, 12, 11),
                           request_id=as_user("leder@skole.example", hand_over_case))
    again = hand_over_case(case_id=case_id, to_email="laerer@skole.example", today=dt.date(2026, 12, 11),
                           request_id=as_user(LEADER_IN_ENV, hand_over_case))
    assert first["changed"] is True and again["changed"] is False
    with Session(env) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.coordinator_email == "laerer@skole.example"
