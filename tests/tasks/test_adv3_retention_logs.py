"""Adversary 3 (PRIV-1): who asked a flow run for what (`runrequest`, issue 20) and who signed in to the web app
when (`websession`) are logs of staff members' use of the system: kept for the audit log's period and then
deleted by the same retention purge, never kept for ever."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import RunRequest, WebSession
from pprflow.tasks.context import Ctx
from pprflow.tasks.retention import purge_expired
from tests.factories import as_admin


def test_run_requests_and_web_sessions_are_deleted_with_the_audit_log_PRIV_1(engine: Engine, vejle: Any) -> None:
    ctx = Ctx(engine=engine, profile=vejle, actor="system:retention")
    old, recent = dt.datetime(2026, 2, 27, 12, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    with Session(engine) as session:
        for n, at in enumerate((old, recent)):
            session.add(RunRequest(id=f"r{n}", flow_name="niveau-skift", actor="leder@skole.example",
                                   created_at=at, flow_run_id=None))
            session.add(WebSession(id=f"s{n}", email="leder@skole.example", method="password", created_at=at,
                                   ended_at=at))
        session.commit()
    purge_expired(as_admin(ctx), today=dt.date(2031, 3, 1))  # audit_years = 5: before 2026-03-01 goes
    with Session(engine) as session:
        assert [r.id for r in session.exec(select(RunRequest)).all()] == ["r1"]
        assert [s.id for s in session.exec(select(WebSession)).all()] == ["s1"]
