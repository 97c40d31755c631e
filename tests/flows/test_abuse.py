"""Suspected-abuse flows as real flow runs (ESC-1, LAW-1, LAW-2)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import Case, Notification, OutboxMessage
from tests.factories import case_with_parents, deliver_queued
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
LEADER_IN_ENV = "leder@skole.example"  # a known leader (tests.factories.directory)



def test_report_by_a_teacher_and_acknowledge_as_flow_runs_ESC_1_LAW_1_LAW_2(env: Engine) -> None:
    from pprflow.flows.abuse import acknowledge_notification, report_suspected_abuse

    with Session(env) as session:
        case_id = case_with_parents(session, level=2).id or 0
        session.commit()
    first = report_suspected_abuse(case_id=case_id, today=dt.date(2026, 11, 24),
                                   request_id=as_user("laerer@skole.example", report_suspected_abuse))
    again = report_suspected_abuse(case_id=case_id, today=dt.date(2026, 11, 24),
                                   request_id=as_user("laerer@skole.example", report_suspected_abuse))
    assert first["notification_id"] == again["notification_id"], "a duplicate run notifies once"
    assert first["sent_to"] == "underretning@randers.dk"
    deliver_queued(env)  # LAW-2: only a sent notification can be acknowledged
    done = acknowledge_notification(case_id=case_id, today=dt.date(2026, 11, 27),
                                    request_id=as_user(LEADER_IN_ENV, acknowledge_notification))
    assert done["acknowledged"] == [first["notification_id"]]
    with Session(env) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.confidential_from_parents
        notification = session.exec(select(Notification)).one()
        assert notification.reported_by_email == "laerer@skole.example"
        assert [m.to for m in session.exec(select(OutboxMessage)).all()] == ["underretning@randers.dk"]
