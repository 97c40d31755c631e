"""The mail server is down for a long stretch: every message stays pending (the oldest with the error
that stopped each run, the rest untried behind it, checked row by row), nothing is lost, and once the
server is back on the same port all are delivered in order. The delivery flow
fails its run and leaves a Danish markdown artifact, so the failure is visible on the dashboard."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.mime import KEY_HEADER
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.transports.smtp import SmtpTransport
from tests.faults._support import by_status, keys_in_order, queue, read_artifacts
from tests.support.mailboxes import RecordingSmtp
from tests.transports.loopback import free_port

DOWN_RUNS = 24
"""Delivery runs while the server is down: every 5 minutes for two hours."""


def test_a_long_outage_loses_nothing_and_delivers_everything_in_order_once_back(engine: Engine) -> None:
    port = free_port()
    transport = SmtpTransport("127.0.0.1", port, "none", timeout=2)
    queue(engine, first=0, count=5)
    clock = utcnow()
    for run in range(DOWN_RUNS):  # nothing listens on the port
        if run % 6 == 0:
            queue(engine, first=100 + run, count=2)  # the pathways keep queueing meanwhile
        at = clock + dt.timedelta(minutes=5 * run)
        report = deliver_due(engine, transport, now=lambda: at)  # noqa: B023 (called before the next round)
        assert report.sent == [] and report.stopped_because is not None
        assert "could not deliver via SMTP server" in report.stopped_because and "\n" not in report.stopped_because
    assert by_status(engine) == {"pending": 13}, "nothing lost, nothing given up on"
    # Every row, not just the first: a run stops at the first transient error to keep the order, so the
    # oldest message carries the error (tried by each of the 24 runs) and the other 12 wait untouched in
    # order behind it (0 attempts, no error): none was tried and lost, none skipped ahead.
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))).all()
    assert len(rows) == 13 and all(m.status == "pending" for m in rows)
    first, rest = rows[0], rows[1:]
    assert first.attempts == DOWN_RUNS and first.last_error == report.stopped_because
    assert first.sent_at is None and first.transport_message_id is None
    assert [(m.attempts, m.last_error, m.sent_at) for m in rest] == [(0, None, None)] * 12

    handler = RecordingSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=port)  # back, on the same port
    controller.start()
    try:
        report = deliver_due(engine, transport, now=lambda: clock + dt.timedelta(hours=3))
    finally:
        controller.stop()
    assert len(report.sent) == 13 and report.stopped_because is None
    assert by_status(engine) == {"sent": 13}
    assert handler.keys() == keys_in_order(engine), "delivered once each, oldest first"
    with Session(engine) as session:
        assert all(m.last_error is None for m in session.exec(select(OutboxMessage)).all())


@pytest.mark.prefect
def test_the_delivery_flow_fails_its_run_and_says_why_on_the_dashboard(
        prefect_server: None, engine: Engine, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    from pprflow.flows.delivery import deliver_outbox
    from tests.flows._env import flow_env, no_heartbeat

    flow_env(monkeypatch, sqlite_url, tmp_path, profile="vejle")
    port = free_port()
    for name, value in {"TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                        "SMTP_SECURITY": "none", "SMTP_TIMEOUT": "2"}.items():
        monkeypatch.setenv(f"PPRFLOW_{name}", value)
    queue(engine, first=0, count=3, sender="ppr@vejle.dk")
    with no_heartbeat():
        state = deliver_outbox(return_state=True)
    assert state.is_failed() and "delivery stopped" in (state.message or "")
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.state_type is not None and run.state_type.value == "FAILED"
    [artifact] = read_artifacts("udbakke-fejl", str(run.id))
    assert artifact["type"] == "markdown" and "Afsendelsen stoppede" in artifact["data"]
    assert "Resten venter og sendes, når forbindelsen er tilbage" in artifact["data"]
    assert by_status(engine) == {"pending": 3}

    handler = RecordingSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with no_heartbeat():
            back = deliver_outbox(return_state=True)
    finally:
        controller.stop()
    assert back.is_completed() and back.result()["sent"] == 3
    parsed = [email.message_from_bytes(c, policy=email.policy.default) for _, _, c in handler.received]
    assert [str(m[KEY_HEADER]) for m in parsed] == keys_in_order(engine)
