"""Adversary 3 (ESC-2): the `underretning` deployment's form carries the whole report — who reports, the
institution, the child, what was observed — and says "ingen anden regel kan standse den". Issue 20 refuses a
person's step started without a request (PRIV-4, state `Afvist`); for the notification that refusal is exactly
what ESC-2 forbids: it is received (the reporter named in the report, the run audited as started from the form)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import Notification, OutboxMessage

pytestmark = pytest.mark.prefect

REPORT = {
    "reporter": {"name": "Sofie Lærer", "email": "laerer@skole.example", "role": "teacher"},
    "institution": "Skovbakkeskolen",
    "child": {"name": "Emil Jensen", "group": "3.B", "birth_year": 2016},
    "observation": "Blå mærker på begge overarme.",
    "observed_on": "2026-11-24",
}


def test_a_notification_started_from_prefects_form_is_received_not_refused_ESC_2(env: Engine) -> None:
    from pprflow.flows.abuse import report_notification
    from pprflow.models.abuse import parse_report

    state = report_notification(data=parse_report(REPORT), today=dt.date(2026, 11, 24), return_state=True)
    assert state.is_completed(), (state.name, state.message)
    with Session(env) as session:
        notification = session.exec(select(Notification)).one()
        message = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).one()
    assert notification.reported_by_email == "laerer@skole.example"
    assert message.to == "underretning@randers.dk"
