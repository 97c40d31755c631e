"""GraphTransport and MsalTokenProvider against a loopback HTTPS server: Entra ID's token endpoint
(OpenID discovery + client credentials, spoken to by the real MSAL) and Graph's mail endpoints."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest
import requests
from pydantic import SecretStr

from pprflow.config import Settings
from pprflow.models.errors import ConfigurationError
from pprflow.tasks.mime import message_id_for
from pprflow.tasks.transports import make_transport
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail, Transport
from pprflow.tasks.transports.common import GRAPH_KEY_PROPERTY_ID
from pprflow.tasks.transports.graph import GraphTransport, MsalTokenProvider, graph_scope
from tests.transports.loopback import LoopbackCert, LoopbackServer, Request, Response

MAILBOX = "ppr@vejle.example"
TENANT = "0b7c5e3a-vejle-tenant"
CLIENT_SECRET = "Graph~Klient~Hemmelighed~7"
ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.graph-test-token"
KEY = "case-3:ppr_request:ppr@vejle.example"
DRAFT_ID = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AImmutable=="


@dataclass
class FakeGraph:
    """Entra ID + Graph. Queue special answers per route in ``script``; everything else succeeds."""

    base: str = ""
    script: dict[str, list[Response]] = field(default_factory=dict)
    drafts: list[dict[str, str]] = field(default_factory=list)
    sent_items: list[dict[str, str]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        path = request.path
        if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            return self._json(200, {
                "token_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/token",
                "authorization_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/authorize",
                "issuer": f"{self.base}/{TENANT}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            })
        route = self._route(request)
        if self.script.get(route):
            return self.script[route].pop(0)
        if route == "token":
            return self._json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN})
        if route == "find drafts":
            return self._json(200, {"value": self.drafts})
        if route == "find sentitems":
            return self._json(200, {"value": self.sent_items})
        if route == "create":
            return self._json(201, {"id": DRAFT_ID, "isDraft": True})
        if route == "send":
            return Response(202)
        return self._json(404, {"error": {"code": "ResourceNotFound", "message": path}})

    def _route(self, request: Request) -> str:
        path = request.path
        if path.endswith("/oauth2/v2.0/token"):
            return "token"
        if path == f"/v1.0/users/{MAILBOX}/mailFolders/drafts/messages":
            return "find drafts"
        if path == f"/v1.0/users/{MAILBOX}/mailFolders/sentitems/messages":
            return "find sentitems"
        if path == f"/v1.0/users/{MAILBOX}/messages" and request.method == "POST":
            return "create"
        if path.startswith(f"/v1.0/users/{MAILBOX}/messages/") and path.endswith("/send"):
            return "send"
        return "other"

    def routes(self) -> list[str]:
        return [self._route(r) for r in self.requests if "openid-configuration" not in r.path]

    def of(self, route: str) -> list[Request]:
        return [r for r in self.requests if self._route(r) == route]

    @staticmethod
    def _json(status: int, body: object) -> Response:
        return Response(status, json.dumps(body), {"Content-Type": "application/json"})


@pytest.fixture
def graph(loopback_cert: LoopbackCert) -> Iterator[tuple[FakeGraph, LoopbackServer]]:
    fake = FakeGraph()
    with LoopbackServer(fake, tls=loopback_cert.server_context()) as server:
        fake.base = server.url
        yield fake, server


def trusting(cert: LoopbackCert) -> requests.Session:
    """MSAL's http_client hook: a requests Session that trusts the loopback certificate only.

    trust_env=False because requests lets REQUESTS_CA_BUNDLE override a session's verify.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert.cert_file)
    return session


def make(server: LoopbackServer, cert: LoopbackCert, **kwargs: object) -> GraphTransport:
    provider = MsalTokenProvider(tenant_id=TENANT, client_id="pprflow-app", client_secret=SecretStr(CLIENT_SECRET),
                                 authority_base_url=server.url, scope=graph_scope("https://graph.microsoft.com/v1.0"),
                                 http_client=trusting(cert))
    client = httpx.Client(verify=cert.client_context(), timeout=5)
    return GraphTransport(mailbox=MAILBOX, token_provider=provider, base_url=f"{server.url}/v1.0",
                          http_client=client, **kwargs)  # type: ignore[arg-type]


def mail(**overrides: object) -> OutgoingMail:
    values: dict[str, object] = dict(
        idempotency_key=KEY, sender=MAILBOX, to="leder@skole.example", cc=("tovholder@skole.example",),
        subject="Henvendelse til PPR (æøå)", text="Hej", html="<p>Hej – æøå</p>",
        attachments=(Attachment("SOS-skema – Ærø.pdf", "application/pdf", b"%PDF-1.7 test"),
                     Attachment("invite.ics", "text/calendar; method=REQUEST",
                                b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")),
    )
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def expected_filter(key: str) -> str:
    return f"singleValueExtendedProperties/Any(ep: ep/id eq '{GRAPH_KEY_PROPERTY_ID}' and ep/value eq '{key}')"


def test_token_then_draft_then_send(graph, loopback_cert, caplog):
    fake, server = graph
    caplog.set_level(logging.DEBUG)
    transport = make(server, loopback_cert)
    assert isinstance(transport, Transport)

    message_id = transport.send(mail())

    assert message_id == message_id_for(KEY)
    assert fake.routes() == ["token", "find drafts", "create", "send"]
    # MSAL: client credentials against {authority_base_url}/{tenant_id}, the .default scope.
    token_form = parse_qs(fake.of("token")[0].text)
    assert token_form["grant_type"] == ["client_credentials"]
    assert token_form["client_id"] == ["pprflow-app"]
    assert token_form["scope"] == ["https://graph.microsoft.com/.default"]
    for request in fake.of("find drafts") + fake.of("create") + fake.of("send"):
        assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert request.headers["prefer"] == 'IdType="ImmutableId"'
    assert fake.of("find drafts")[0].query["$filter"] == [expected_filter(KEY)]

    draft = json.loads(fake.of("create")[0].body)
    assert draft["subject"] == "Henvendelse til PPR (æøå)"
    assert draft["body"] == {"contentType": "HTML", "content": "<p>Hej – æøå</p>"}
    assert draft["toRecipients"] == [{"emailAddress": {"address": "leder@skole.example"}}]
    assert draft["ccRecipients"] == [{"emailAddress": {"address": "tovholder@skole.example"}}]
    assert draft["singleValueExtendedProperties"] == [{"id": GRAPH_KEY_PROPERTY_ID, "value": KEY}]
    assert draft["internetMessageId"] == message_id
    pdf, ics = draft["attachments"]
    assert pdf["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert pdf["name"] == "SOS-skema – Ærø.pdf" and base64.b64decode(pdf["contentBytes"]) == b"%PDF-1.7 test"
    assert ics["contentType"].startswith("text/calendar")
    assert fake.of("send")[0].path == f"/v1.0/users/{MAILBOX}/messages/{DRAFT_ID.replace('=', '%3D')}/send"

    assert CLIENT_SECRET not in caplog.text and ACCESS_TOKEN not in caplog.text


def test_the_token_is_cached_between_messages(graph, loopback_cert):
    fake, server = graph
    transport = make(server, loopback_cert)
    transport.send(mail())
    transport.send(mail(idempotency_key="another"))
    assert fake.routes().count("token") == 1


def test_429_with_retry_after_waits_and_retries_once(graph, loopback_cert):
    fake, server = graph
    fake.script["send"] = [Response(429, json.dumps({"error": {"code": "ApplicationThrottled",
                                                                 "message": "Too many requests"}}),
                                    {"Retry-After": "1", "Content-Type": "application/json"})]
    transport = make(server, loopback_cert)
    started = time.monotonic()

    transport.send(mail())

    assert time.monotonic() - started >= 1.0
    assert fake.routes() == ["token", "find drafts", "create", "send", "send"]


def test_429_beyond_max_wait_is_handed_back_without_sleeping(graph, loopback_cert):
    fake, server = graph
    fake.script["send"] = [Response(429, b"", {"Retry-After": "120"})]
    slept: list[float] = []
    transport = make(server, loopback_cert, max_wait=30, sleep=slept.append)

    with pytest.raises(DeliveryError) as caught:
        transport.send(mail())

    assert slept == []
    assert caught.value.transient is True and caught.value.retry_after == 120


def test_retries_are_bounded_by_max_attempts(graph, loopback_cert):
    fake, server = graph
    fake.script["send"] = [Response(429, b"", {"Retry-After": "0"}) for _ in range(5)]
    slept: list[float] = []
    transport = make(server, loopback_cert, max_attempts=3, sleep=slept.append)
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail())
    assert caught.value.transient is True
    assert fake.routes().count("send") == 3 and len(slept) == 2


def test_already_sent_filters_sent_items_on_the_key_property(graph, loopback_cert):
    fake, server = graph
    transport = make(server, loopback_cert)
    assert transport.already_sent(KEY) is None
    fake.sent_items = [{"id": "AAkALgSent==", "internetMessageId": message_id_for(KEY)}]

    assert transport.already_sent(KEY) == message_id_for(KEY)

    request = fake.of("find sentitems")[-1]
    assert request.query["$filter"] == [expected_filter(KEY)]
    assert request.query["$top"] == ["1"]


def test_quotes_in_the_key_are_escaped_in_the_filter(graph, loopback_cert):
    fake, server = graph
    make(server, loopback_cert).already_sent("o'brien")
    assert fake.of("find sentitems")[0].query["$filter"] == [expected_filter("o''brien")]


def test_a_draft_left_by_a_crashed_attempt_is_sent_not_duplicated(graph, loopback_cert):
    fake, server = graph
    fake.drafts = [{"id": "AAkALgEarlierDraft", "internetMessageId": message_id_for(KEY)}]
    make(server, loopback_cert).send(mail())
    assert "create" not in fake.routes()
    assert fake.of("send")[0].path == f"/v1.0/users/{MAILBOX}/messages/AAkALgEarlierDraft/send"


def test_404_on_send_after_a_lost_response_checks_sent_items(graph, loopback_cert):
    fake, server = graph
    fake.script["send"] = [Response(404, json.dumps({"error": {"code": "ErrorItemNotFound", "message": "gone"}}))]
    fake.sent_items = [{"id": "AAkALgSent==", "internetMessageId": message_id_for(KEY)}]
    assert make(server, loopback_cert).send(mail()) == message_id_for(KEY)


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (403, False), (400, False)])
def test_5xx_is_transient_4xx_permanent(graph, loopback_cert, status, transient):
    fake, server = graph
    body = json.dumps({"error": {"code": "SomeCode", "message": "Something happened"}})
    fake.script["create"] = [Response(status, body, {"Content-Type": "application/json"})]
    with pytest.raises(DeliveryError) as caught:
        make(server, loopback_cert, max_attempts=1).send(mail())
    assert caught.value.transient is transient
    assert f"answered {status} SomeCode" in str(caught.value)
    assert ACCESS_TOKEN not in str(caught.value)


def test_invalid_client_secret_is_permanent_and_the_secret_never_shows(graph, loopback_cert, caplog):
    fake, server = graph
    caplog.set_level(logging.DEBUG)
    fake.script["token"] = [Response(401, json.dumps({
        "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
    }), {"Content-Type": "application/json"})]
    with pytest.raises(DeliveryError) as caught:
        make(server, loopback_cert).send(mail())
    assert caught.value.transient is False
    assert "invalid_client" in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value) and CLIENT_SECRET not in caplog.text


def test_an_untrusted_authority_certificate_is_not_accepted(graph):
    _, server = graph
    provider = MsalTokenProvider(tenant_id=TENANT, client_id="pprflow-app", client_secret=SecretStr(CLIENT_SECRET),
                                 authority_base_url=server.url)  # system CAs only
    with pytest.raises(DeliveryError) as caught:
        provider()
    assert caught.value.transient is True
    assert CLIENT_SECRET not in str(caught.value)


def test_header_injection_is_refused_before_any_request(graph, loopback_cert):
    fake, server = graph
    with pytest.raises(DeliveryError) as caught:
        make(server, loopback_cert).send(mail(subject="Hej\nBcc: alle@example.com"))
    assert caught.value.transient is False
    assert fake.requests == []


# --- make_transport ---------------------------------------------------------------------------


def test_make_transport_chooses_by_setting(tmp_path):
    from pprflow.tasks.transports.exchange import ExchangeTransport
    from pprflow.tasks.transports.file import FileTransport
    from pprflow.tasks.transports.smtp import SmtpTransport

    assert isinstance(make_transport(Settings(transport="file", mail_dir=tmp_path)), FileTransport)
    assert isinstance(make_transport(Settings(transport="smtp", smtp_host="127.0.0.1")), SmtpTransport)
    exchange = make_transport(Settings(transport="exchange", exchange_server="mail.vejle.example",
                                       exchange_auth="ntlm", exchange_username="VEJLE\\svc",
                                       exchange_password=SecretStr("x" * 8), profile="vejle"))
    assert isinstance(exchange, ExchangeTransport) and exchange.mailbox == "ppr@vejle.dk"  # the profile's sender
    graph_transport = make_transport(Settings(transport="graph", tenant_id="t", client_id="c",
                                              client_secret=SecretStr("s" * 8)), mailbox=MAILBOX)
    assert isinstance(graph_transport, GraphTransport) and graph_transport.mailbox == MAILBOX


@pytest.mark.parametrize(("settings", "named"), [
    (dict(transport="exchange"), "PPRFLOW_EXCHANGE_SERVER"),
    (dict(transport="exchange", exchange_server="mail.vejle.example", exchange_auth="oauth2"), "PPRFLOW_TENANT_ID"),
    (dict(transport="graph", tenant_id="t", client_id="c"), "PPRFLOW_CLIENT_SECRET"),
    (dict(transport="graph", client_id="c"), "PPRFLOW_TENANT_ID"),
    (dict(transport="smtp", smtp_security="tls"), "PPRFLOW_SMTP_SECURITY"),
    (dict(transport="smtp", smtp_username="relay"), "PPRFLOW_SMTP_PASSWORD"),
    (dict(transport="pigeon"), "PPRFLOW_TRANSPORT"),
])
def test_make_transport_names_the_missing_setting(settings, named):
    with pytest.raises(ConfigurationError) as caught:
        make_transport(Settings(**settings), mailbox=MAILBOX)
    assert named in caught.value.one_line()
