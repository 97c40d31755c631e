"""The database goes away mid-flow (PostgreSQL): another connection terminates the flow's backend with
pg_terminate_backend in the middle of its transaction. The flow fails loudly and retries; no
half-created case and no orphan outbox row is left (one transaction per state change), and a
delivery cut off between sending and recording finds its message in the mail folder instead of
sending it twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from pprflow.models.tables import AuditEvent, Case, CaseParty, Child, Institution, OutboxMessage
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.transports.file import FileTransport
from tests import referral_data as rd
from tests.conftest import PG_ADMIN_URL
from tests.faults._support import by_status, queue
from tests.support.acting import as_user

pytestmark = pytest.mark.postgres


class Terminator:
    """Terminates the backend of the connection about to run a matching statement, from another connection."""

    def __init__(self, engine: Engine, statement_prefix: str, *, times: int, skip: int = 0) -> None:
        self.engine, self.prefix, self.times, self.skip = engine, statement_prefix, times, skip
        self.seen = 0
        self.killed: list[int] = []
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(self.prefix):
            return
        self.seen += 1
        if self.seen <= self.skip or len(self.killed) >= self.times:
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        self.killed.append(pid)

    def __enter__(self) -> Terminator:
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)
        self.admin.dispose()


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def pg_flow_env(prefect_server: None, pg_engine: Engine, pg_database_url: str, monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> Iterator[Engine]:
    from tests.flows._env import flow_env, no_heartbeat

    flow_env(monkeypatch, pg_database_url, tmp_path, profile="vejle")
    with no_heartbeat():
        yield pg_engine


@pytest.mark.prefect
def test_intake_flow_killed_mid_transaction_retries_and_opens_exactly_one_whole_case(pg_flow_env: Engine) -> None:
    from pprflow.flows.intake import referral_intake

    with Terminator(pg_flow_env, "INSERT INTO outboxmessage", times=1) as terminator:
        state = referral_intake(rd.referral(),
                                request_id=as_user("sofie@skovbakke.example", referral_intake), return_state=True)
    assert len(terminator.killed) == 1, "the backend was terminated mid-transaction, after the case rows"
    assert state.is_completed(), state.message
    case_id = state.result().case_id
    assert count(pg_flow_env, Case) == 1 and count(pg_flow_env, Child) == 1 and count(pg_flow_env, CaseParty) == 3
    with Session(pg_flow_env) as session:
        owners = set(session.exec(select(OutboxMessage.case_id)).all())
        creates = session.exec(select(AuditEvent).where(AuditEvent.entity == "case")).all()
    assert owners == {case_id}, "no orphan outbox row"
    assert len(creates) == 1, "the first attempt left nothing behind, not even its audit row"


@pytest.mark.prefect
def test_when_the_database_stays_away_the_flow_fails_loudly_and_writes_nothing(
        pg_flow_env: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import pprflow.flows.intake

    # The same task, without the waits between its retries (1 s, 10 s in production).
    intake = pprflow.flows.intake
    monkeypatch.setattr(intake, "open_case", intake.open_case.with_options(retry_delay_seconds=0))
    with Terminator(pg_flow_env, "INSERT INTO outboxmessage", times=10) as terminator:
        state = pprflow.flows.intake.referral_intake(rd.referral(),
                request_id=as_user("sofie@skovbakke.example", pprflow.flows.intake.referral_intake),
                                             return_state=True)
    assert len(terminator.killed) == 3, "one attempt and two retries"
    assert state.is_failed() and "OperationalError" in (state.message or ""), state.message
    # The error Prefect keeps (state message, logs) shows the SQL, never the values: no case data (PRIV-2).
    for private in ("Skovbakkeskolen", "Sofie", "Elev K-417", "Hanne", "hjem.example", "Eleven"):
        assert private not in (state.message or ""), private
    for model in (Case, Child, CaseParty, Institution, OutboxMessage, AuditEvent):
        assert count(pg_flow_env, model) == 0, model


def test_delivery_cut_off_between_sending_and_recording_does_not_send_twice(pg_engine: Engine,
                                                                            tmp_path: Path) -> None:
    queue(pg_engine, first=0, count=4)
    transport = FileTransport(tmp_path / "mail")
    with Terminator(pg_engine, "UPDATE outboxmessage SET status", times=1, skip=1), \
            pytest.raises(OperationalError):
        deliver_due(pg_engine, transport)  # message 2 is written, then its "sent" is lost with the connection
    assert by_status(pg_engine) == {"sent": 1, "pending": 3}
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
    report = deliver_due(pg_engine, transport)
    assert len(report.already_sent) == 1 and len(report.sent) == 2
    assert by_status(pg_engine) == {"sent": 4}
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 4, "each message once"
