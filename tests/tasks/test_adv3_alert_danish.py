"""Adversary 3 (STYLE: Danish for every user): the operators' alert mail (tasks/alerts.py) names Prefect's states
in Danish, never Prefect's English state names ("Failed", "Crashed", "TimedOut")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from pprflow.tasks.alerts import FailedRun, queue_operations_alerts
from pprflow.tasks.context import Ctx


def test_the_alert_mail_names_the_states_in_danish(engine: Engine, vejle: Any) -> None:
    mailboxes = vejle.mailboxes.model_copy(update={"operations": "drift@vejle.dk"})
    profile = vejle.model_copy(update={"mailboxes": mailboxes})
    ctx = Ctx(engine=engine, profile=profile, actor="system:outbox")
    at = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
    runs = [FailedRun("morgengennemgang", "r1", "2026-11-30", "Failed", at),
            FailedRun("morgengennemgang", "r2", "2026-11-30", "Crashed", at + dt.timedelta(minutes=5)),
            FailedRun("morgengennemgang", "r3", "2026-11-30", "TimedOut", at + dt.timedelta(minutes=9))]
    assert queue_operations_alerts(ctx, runs, now=at + dt.timedelta(minutes=10))
    with Session(engine) as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.template == "operations_alert")).one()
    for english in ("Failed", "Crashed", "TimedOut"):
        assert english not in message.body_text, message.body_text
