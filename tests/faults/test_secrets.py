"""Secrets never reach logs, exception texts, the database, the outbox, artifacts or a flow run.

Each transport is configured through PPRFLOW_* settings with a recognisable secret and driven into
failure against loopback servers: a refused login (a server that even echoes the secret back in its
error), and a server that is not there. The secret must then appear in no log record (DEBUG, every
logger), no exception or delivery error, no outbox row, no audit row — and, for a delivery flow run
on the Prefect server, in none of its state message, logs or artifacts: for each transport's refused
connection (SMTP, Exchange, Graph) and for Exchange's and Graph's refused login that echoes the secret.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import deliver
from tests.faults._support import queue
from tests.support.mailboxes import RecordingSmtp
from tests.transports.loopback import LoopbackCert, LoopbackServer, Request, Response, free_port

SECRET = "Hemmelig-Kode-7f3a9Q"
MAILBOX = "ppr@vejle.dk"  # the Vejle profile's sender: Exchange and Graph send as it


def refuse_with_the_secret_echoed(request: Request) -> Response:
    """An identity provider that refuses the client and, carelessly, quotes what it was sent."""
    body = {"error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret provided: '{SECRET}'. Trace ID: 1",
            "error_codes": [7000215]}
    if "openid-configuration" in request.path:
        base = f"https://127.0.0.1:{request.headers.get('host', '').split(':')[-1]}"
        tenant = request.path.split("/")[1]
        return Response(200, json.dumps({"token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                                         "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                                         "issuer": f"{base}/{tenant}/v2.0"}), {"Content-Type": "application/json"})
    if request.path.endswith("/oauth2/v2.0/token"):
        return Response(401, json.dumps(body), {"Content-Type": "application/json"})
    return Response(401, f"unauthorized ({SECRET})", {"WWW-Authenticate": "NTLM"})


@pytest.fixture
def ctx(engine: Engine, vejle: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Ctx:
    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("PPRFLOW_PROFILE", "vejle")
    monkeypatch.setenv("PPRFLOW_TRANSPORT_MAX_WAIT", "0")
    monkeypatch.setenv("PPRFLOW_SMTP_TIMEOUT", "3")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return Ctx(engine=engine, profile=vejle, actor="system:delivery")


def configure(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(f"PPRFLOW_{name.upper()}", value)


SERVER_LOGGERS = ("mail.log",)
"""The loopback SMTP server (aiosmtpd) runs in this process and logs its own replies: not pprflow's logs."""


def assert_nowhere(engine: Engine, caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    ours = [r for r in caplog.records if not r.name.startswith(SERVER_LOGGERS)]
    assert ours, "the transports log at DEBUG: there must be something to look at"
    leaks = [f"{r.name}: {r.getMessage()}" for r in ours if SECRET in f"{r.getMessage()} {r.exc_text} {r.args}"]
    assert not leaks, f"a log record: {leaks}"
    for text in texts:
        assert SECRET not in text, f"an error text: {text}"
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
        audits = session.exec(select(AuditEvent)).all()
    assert rows and not any(SECRET in (m.last_error or "") + json.dumps(m.cc) + m.body_text for m in rows)
    assert not any(SECRET in f"{a.reason} {a.detail} {a.entity_id}" for a in audits), "an audit row"


def last_errors(engine: Engine) -> str:
    """Every error the outbox recorded: proof that the failure paths were driven."""
    with Session(engine) as session:
        return " | ".join(m.last_error or "" for m in session.exec(select(OutboxMessage)).all())


def run_delivery(ctx: Ctx) -> list[str]:
    """Deliver through the transport the settings name; return every error text it produced."""
    try:
        report = deliver(ctx=dataclasses.replace(ctx, actor="system:outbox"))  # a job (PRIV-4)
    except Exception as exc:  # a configuration error is an error text too
        return [str(exc), repr(exc)]
    return [str(report), *map(str, report.values())]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def test_smtp_refused_login_and_missing_server_leak_no_password(ctx: Ctx, engine: Engine, debug_logs: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials {SECRET}")

    controller = Controller(RecordingSmtp(), hostname="127.0.0.1", port=free_port(), authenticator=refuse,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        queue(engine, first=0, count=2, sender=MAILBOX)
        configure(monkeypatch, transport="smtp", smtp_host="127.0.0.1", smtp_port=str(controller.port),
                  smtp_security="none", smtp_username="ppr-relay", smtp_password=SECRET)
        refused = run_delivery(ctx)
    finally:
        controller.stop()
    configure(monkeypatch, smtp_port=str(free_port()))  # now nobody listens there
    queue(engine, first=10, count=1, sender=MAILBOX)
    missing = run_delivery(ctx)
    recorded = last_errors(engine)
    assert "535" in recorded and "could not deliver" in recorded, recorded
    assert_nowhere(engine, debug_logs, *refused, *missing)


def test_exchange_refused_oauth_and_ntlm_and_missing_server_leak_no_secret(
        ctx: Ctx, engine: Engine, debug_logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    queue(engine, first=0, count=1, sender=MAILBOX)
    texts: list[str] = []
    with LoopbackServer(refuse_with_the_secret_echoed) as server:
        configure(monkeypatch, transport="exchange", exchange_server=f"{server.url}/EWS/Exchange.asmx",
                  exchange_auth="oauth2", tenant_id="vejle-tenant", client_id="pprflow-app", client_secret=SECRET,
                  authority_base_url=server.url)
        texts += run_delivery(ctx)
        queue(engine, first=10, count=1, sender=MAILBOX)
        configure(monkeypatch, exchange_auth="ntlm", exchange_username="VEJLE\\svc-pprflow", exchange_password=SECRET)
        texts += run_delivery(ctx)
    queue(engine, first=20, count=1, sender=MAILBOX)
    configure(monkeypatch, exchange_server=f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx")
    texts += run_delivery(ctx)
    recorded = last_errors(engine)
    assert "invalid_client" in recorded and "Connection refused" in recorded, recorded
    assert "Access denied" in " ".join(texts), "the NTLM login was refused"
    assert_nowhere(engine, debug_logs, *texts)


def test_graph_refused_client_secret_and_missing_authority_leak_no_secret(
        ctx: Ctx, engine: Engine, debug_logs: Any, monkeypatch: pytest.MonkeyPatch,
        loopback_cert: LoopbackCert) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(loopback_cert.cert_file))  # MSAL trusts the loopback CA
    monkeypatch.setenv("SSL_CERT_FILE", str(loopback_cert.cert_file))
    queue(engine, first=0, count=1, sender=MAILBOX)
    texts: list[str] = []
    with LoopbackServer(refuse_with_the_secret_echoed, tls=loopback_cert.server_context()) as server:
        configure(monkeypatch, transport="graph", tenant_id="vejle-tenant", client_id="pprflow-app",
                  client_secret=SECRET, graph_base_url=f"{server.url}/v1.0", authority_base_url=server.url)
        texts += run_delivery(ctx)
    queue(engine, first=10, count=1, sender=MAILBOX)
    configure(monkeypatch, authority_base_url=f"https://127.0.0.1:{free_port()}")
    texts += run_delivery(ctx)
    recorded = last_errors(engine)
    assert "invalid_client" in recorded and "could not reach the token authority" in recorded, recorded
    assert_nowhere(engine, debug_logs, *texts)


def _transport_settings(case: str, stack: ExitStack, monkeypatch: pytest.MonkeyPatch,
                        cert: LoopbackCert) -> tuple[dict[str, str], str]:
    """PPRFLOW_* settings that make `case` fail with the secret configured, and the error it must record."""
    oauth = {"tenant_id": "vejle-tenant", "client_id": "pprflow-app", "client_secret": SECRET}
    if case == "smtp-refused-connection":
        return {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": str(free_port()), "smtp_security": "none",
                "smtp_username": "ppr-relay", "smtp_password": SECRET, "smtp_timeout": "2"}, "could not deliver"
    if case == "exchange-refused-connection":
        return {"transport": "exchange", "exchange_server": f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx",
                "exchange_auth": "oauth2", "authority_base_url": f"http://127.0.0.1:{free_port()}", **oauth
                }, "Connection refused"
    if case == "graph-refused-connection":
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.cert_file))
        return {"transport": "graph", "graph_base_url": f"https://127.0.0.1:{free_port()}/v1.0",
                "authority_base_url": f"https://127.0.0.1:{free_port()}", **oauth
                }, "could not reach the token authority"
    if case == "exchange-refused-login-echoing-the-secret":
        server = stack.enter_context(LoopbackServer(refuse_with_the_secret_echoed))
        return {"transport": "exchange", "exchange_server": f"{server.url}/EWS/Exchange.asmx",
                "exchange_auth": "oauth2", "authority_base_url": server.url, **oauth}, "invalid_client"
    if case == "graph-refused-login-echoing-the-secret":
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.cert_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(cert.cert_file))
        server = stack.enter_context(LoopbackServer(refuse_with_the_secret_echoed, tls=cert.server_context()))
        return {"transport": "graph", "graph_base_url": f"{server.url}/v1.0", "authority_base_url": server.url,
                **oauth}, "invalid_client"
    raise AssertionError(case)


@pytest.mark.prefect
@pytest.mark.parametrize("case", ["smtp-refused-connection", "exchange-refused-connection", "graph-refused-connection",
                                  "exchange-refused-login-echoing-the-secret",
                                  "graph-refused-login-echoing-the-secret"])
def test_a_failed_delivery_flow_run_keeps_no_secret_in_its_state_logs_or_artifacts(
        prefect_server: None, engine: Engine, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        loopback_cert: LoopbackCert, case: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort
    from prefect.logging.handlers import APILogHandler

    from pprflow.flows.delivery import deliver_outbox
    from tests.faults._support import read_artifacts
    from tests.flows._env import flow_env, no_heartbeat

    flow_env(monkeypatch, sqlite_url, tmp_path, profile="vejle")
    monkeypatch.setenv("PPRFLOW_TRANSPORT_MAX_WAIT", "0")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with ExitStack() as stack:
        settings, marker = _transport_settings(case, stack, monkeypatch, loopback_cert)
        configure(monkeypatch, **settings)
        queue(engine, first=0, count=1, sender=MAILBOX)
        with no_heartbeat():
            state = deliver_outbox(return_state=True)
    assert marker in last_errors(engine), (case, last_errors(engine))  # the failure path was really driven
    APILogHandler().flush()
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
                                limit=200, offset=0, sort=LogSort.TIMESTAMP_ASC)
    artifacts = read_artifacts("udbakke-fejl", str(run_id))
    assert logs, "the run logged something to look at"
    if state.is_failed():  # a transient error stops the run: the dashboard artifact says why
        assert artifacts and marker in json.dumps(artifacts), artifacts
    everything = json.dumps([run.model_dump(mode="json"), [log.message for log in logs], artifacts,
                             str(state.message)])
    assert SECRET not in everything, case
