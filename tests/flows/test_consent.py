"""Consent flows as real flow runs (LAW-3, CONS-1)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.referral import ConsentIn
from pprflow.models.tables import Consent, OutboxMessage
from tests.factories import case_with_parents
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
LEADER_IN_ENV = "leder@skole.example"  # a known leader (tests.factories.directory)



def test_give_and_withdraw_consent_as_flow_runs_LAW_3_CONS_1(env: Engine) -> None:
    from pprflow.flows.consent import record_consent, withdraw_case_consent

    with Session(env) as session:
        case_id = case_with_parents(session, level=3).id or 0
        session.commit()
    data = ConsentIn(given_by=["Mor Hansen"], date=dt.date(2026, 11, 20), information="Trivsel",
                     recipients=["PPR"], purpose="Netværksmøder")
    given = record_consent(case_id=case_id, data=data, today=dt.date(2026, 11, 24),
                           request_id=as_user("leder@skole.example", record_consent))
    withdrawn = withdraw_case_consent(case_id=case_id, consent_id=given["consent_id"],
                                      request_id=as_user(LEADER_IN_ENV, withdraw_case_consent))
    twice = withdraw_case_consent(case_id=case_id, consent_id=given["consent_id"],
                                  request_id=as_user(LEADER_IN_ENV, withdraw_case_consent))
    assert withdrawn["withdrawn"] == [given["consent_id"]] and twice["already_withdrawn"] == [given["consent_id"]]
    with Session(env) as session:
        assert session.exec(select(Consent)).one().withdrawn_at is not None
        assert [m.template for m in session.exec(select(OutboxMessage)).all()] == ["consent_withdrawn"]
