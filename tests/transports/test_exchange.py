"""ExchangeTransport against a loopback EWS endpoint speaking SOAP (and OAuth2 / NTLM) on the wire.

The response documents follow the EWS reference (CreateItem, FindItem, GetFolder responses with
a ServerVersionInfo header) as exchangelib's own tests use them. The requests asserted on are the
real XML exchangelib put on the wire.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import exchangelib
import pytest
from exchangelib import FailFast, FaultTolerance
from pydantic import SecretStr

from pprflow.models.errors import ConfigurationError
from pprflow.tasks.mime import message_id_for
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail, Transport
from pprflow.tasks.transports.common import KEY_PROPERTY_NAME, KEY_PROPERTY_SET_ID
from pprflow.tasks.transports.exchange import ExchangeTransport
from tests.support.ews import CREATE_ITEM_OK, ENVELOPE, MT, NS, find_item_response, get_folder_response
from tests.transports.loopback import LoopbackServer, Request, Response, free_port

MAILBOX = "ppr@vejle.example"
CLIENT_SECRET = "Klient-Hemmelighed~42"
ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.ews-test-token"
NTLM_PASSWORD = "Ntlm-Kodeord-99"

def create_item_error(code: str, text: str, back_off_ms: int | None = None) -> str:
    message_xml = ""
    if back_off_ms is not None:
        message_xml = (f'<m:MessageXml><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value>'
                       "</m:MessageXml>")
    return f"""<m:CreateItemResponse {MT}>
      <m:ResponseMessages>
        <m:CreateItemResponseMessage ResponseClass="Error">
          <m:MessageText>{text}</m:MessageText>
          <m:ResponseCode>{code}</m:ResponseCode>
          <m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>
          {message_xml}
          <m:Items/>
        </m:CreateItemResponseMessage>
      </m:ResponseMessages>
    </m:CreateItemResponse>"""


def ntlm_challenge() -> bytes:
    """An NTLM CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with target info, enough for an NTLMv2 client."""
    target = "VEJLE".encode("utf-16-le")
    av_pairs = b"".join(struct.pack("<HH", av_id, len(value)) + value for av_id, value in (
        (2, "VEJLE".encode("utf-16-le")),       # MsvAvNbDomainName
        (1, "EXCH01".encode("utf-16-le")),      # MsvAvNbComputerName
        (7, struct.pack("<Q", 133_500_000_000_000_000)),  # MsvAvTimestamp
    )) + struct.pack("<HH", 0, 0)               # MsvAvEOL
    flags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 | 0x00080000 | 0x00800000 \
        | 0x02000000 | 0x20000000 | 0x80000000
    header_len = 56
    return (b"NTLMSSP\x00" + struct.pack("<I", 2)
            + struct.pack("<HHI", len(target), len(target), header_len)
            + struct.pack("<I", flags) + b"\x01\x23\x45\x67\x89\xab\xcd\xef" + b"\x00" * 8
            + struct.pack("<HHI", len(av_pairs), len(av_pairs), header_len + len(target))
            + bytes([10, 0]) + struct.pack("<H", 19041) + b"\x00\x00\x00\x0f"
            + target + av_pairs)


@dataclass
class FakeEws:
    """EWS on loopback: a token endpoint, an NTLM handshake, GetFolder, CreateItem and FindItem."""

    create_responses: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    found_item_ids: list[str] = field(default_factory=list)
    soap: list[tuple[str, Request]] = field(default_factory=list)  # (operation, request)
    token_requests: list[Request] = field(default_factory=list)
    ntlm_messages: list[int] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        if request.path.endswith("/oauth2/v2.0/token"):
            self.token_requests.append(request)
            token = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ACCESS_TOKEN}
            return Response(200, json.dumps(token), {"Content-Type": "application/json; charset=utf-8"})
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("NTLM "):
            message_type = struct.unpack("<I", base64.b64decode(authorization[5:])[8:12])[0]
            self.ntlm_messages.append(message_type)
            if message_type == 1:
                challenge = base64.b64encode(ntlm_challenge()).decode()
                return Response(401, b"", {"WWW-Authenticate": f"NTLM {challenge}"})
        elif not authorization:
            return Response(401, b"", {"WWW-Authenticate": "NTLM"})
        root = ET.fromstring(request.body)
        operation_element = root.find("s:Body", NS)[0]  # type: ignore[index]
        operation = operation_element.tag.split("}")[1]
        self.soap.append((operation, request))
        if operation == "GetFolder":
            folder = operation_element.find(".//t:DistinguishedFolderId", NS)
            return self._soap(get_folder_response(folder.get("Id", "root") if folder is not None else "root"))
        if operation == "CreateItem":
            if self.create_responses:
                status, body, headers = self.create_responses.pop(0)
                return Response(status, ENVELOPE.format(body=body) if body.startswith("<m:") else body,
                                {"Content-Type": "text/xml; charset=utf-8", **headers})
            return self._soap(CREATE_ITEM_OK)
        if operation == "FindItem":
            return self._soap(find_item_response(self.found_item_ids))
        return Response(500, b"unexpected operation")

    @staticmethod
    def _soap(body: str) -> Response:
        return Response(200, ENVELOPE.format(body=body), {"Content-Type": "text/xml; charset=utf-8"})

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.soap]

    def last(self, operation: str) -> ET.Element:
        request = [r for op, r in self.soap if op == operation][-1]
        return ET.fromstring(request.body)


@pytest.fixture
def ews() -> Iterator[tuple[FakeEws, LoopbackServer]]:
    fake = FakeEws()
    with LoopbackServer(fake) as server:
        yield fake, server
    exchangelib.close_connections()  # exchangelib pools sessions per endpoint for the whole process


@pytest.fixture
def oauth_over_loopback_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses bearer tokens over plain http; the loopback server has no TLS. Test-only.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def oauth_transport(server: LoopbackServer, *, max_wait: float = 0) -> ExchangeTransport:
    return ExchangeTransport(
        mailbox=MAILBOX, server=f"{server.url}/EWS/Exchange.asmx", auth="oauth2", version="Exchange2016",
        tenant_id="vejle-tenant", client_id="pprflow-app", client_secret=SecretStr(CLIENT_SECRET),
        authority_base_url=server.url, max_wait=max_wait,
    )


def mail(**overrides: object) -> OutgoingMail:
    values: dict[str, object] = dict(
        idempotency_key="case-12:network_agenda:leder@skole.example", sender=MAILBOX, to="leder@skole.example",
        cc=("sundhedsplejerske@vejle.example",), subject="Dagsorden – netværksmøde (æøå)",
        text="Dagsorden", html="<p>Dagsorden</p>",
        attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST",
                                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"),),
    )
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def test_is_a_transport_with_a_bounded_retry_policy():
    transport = ExchangeTransport(mailbox=MAILBOX, server="mail.vejle.example", auth="ntlm",
                                  username="VEJLE\\svc-pprflow", password=SecretStr(NTLM_PASSWORD))
    assert isinstance(transport, Transport)
    assert transport.endpoint == "https://mail.vejle.example/EWS/Exchange.asmx"
    policy = transport._config.retry_policy
    assert isinstance(policy, FaultTolerance) and policy.max_wait == 30  # never exchangelib's 3600 s
    fail_fast = ExchangeTransport(mailbox=MAILBOX, server="mail.vejle.example", auth="ntlm",
                                  username="svc", password=SecretStr(NTLM_PASSWORD), max_wait=0)
    assert isinstance(fail_fast._config.retry_policy, FailFast)
    assert NTLM_PASSWORD not in repr(transport)


def test_send_is_one_create_item_send_and_save_copy_into_the_shared_mailboxs_sent_items(
        ews, oauth_over_loopback_http, caplog):
    fake, server = ews
    caplog.set_level(logging.DEBUG)

    message_id = oauth_transport(server).send(mail())

    assert message_id == message_id_for("case-12:network_agenda:leder@skole.example")
    # OAuth2 client credentials against the configured authority, not login.microsoftonline.com.
    [token_request] = fake.token_requests
    assert token_request.path == "/vejle-tenant/oauth2/v2.0/token"
    form = parse_qs(token_request.text)
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["pprflow-app"]
    assert form["scope"] == ["https://127.0.0.1/.default"]  # the EWS server's own origin is the resource
    # exchangelib resolves the shared mailbox's folders, then sends once.
    assert fake.operations() == ["GetFolder", "GetFolder", "CreateItem"]
    create_request = [r for op, r in fake.soap if op == "CreateItem"][0]
    assert create_request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"

    envelope = fake.last("CreateItem")
    impersonated = envelope.find("s:Header/t:ExchangeImpersonation/t:ConnectingSID/t:PrimarySmtpAddress", NS)
    assert impersonated is not None and impersonated.text == MAILBOX
    assert envelope.find("s:Header/t:RequestServerVersion", NS).get("Version") == "Exchange2016"  # type: ignore[union-attr]
    create = envelope.find("s:Body/m:CreateItem", NS)
    assert create is not None and create.get("MessageDisposition") == "SendAndSaveCopy"
    folder = create.find("m:SavedItemFolderId/t:DistinguishedFolderId", NS)
    assert folder is not None and folder.get("Id") == "sentitems"
    assert folder.find("t:Mailbox/t:EmailAddress", NS).text == MAILBOX  # type: ignore[union-attr]

    [message] = create.findall("m:Items/t:Message", NS)
    prop = message.find("t:ExtendedProperty", NS)
    assert prop is not None
    uri = prop.find("t:ExtendedFieldURI", NS)
    assert uri is not None and uri.attrib == {
        "PropertySetId": KEY_PROPERTY_SET_ID, "PropertyName": KEY_PROPERTY_NAME, "PropertyType": "String",
    }
    assert prop.find("t:Value", NS).text == "case-12:network_agenda:leder@skole.example"  # type: ignore[union-attr]

    # The body is the same MIME the SMTP transport sends: alternatives and the invite intact.
    mime = base64.b64decode(message.find("t:MimeContent", NS).text or "")  # type: ignore[union-attr]
    parsed = email.message_from_bytes(mime, policy=email.policy.default)
    assert parsed["From"] == MAILBOX and parsed["Message-ID"] == message_id
    assert parsed["Subject"] == "Dagsorden – netværksmøde (æøå)"
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar",
                     "application/ics"]

    # Neither the client secret nor the token reached a log line, even at DEBUG.
    assert caplog.records, "exchangelib logs at DEBUG; the check below must have something to look at"
    assert CLIENT_SECRET not in caplog.text and ACCESS_TOKEN not in caplog.text


def test_already_sent_finds_the_key_in_sent_items(ews, oauth_over_loopback_http):
    fake, server = ews
    transport = oauth_transport(server)
    fake.found_item_ids = ["AAMkADk0sentItem1AAA="]

    found = transport.already_sent("case-12:network_agenda:leder@skole.example")

    assert found == message_id_for("case-12:network_agenda:leder@skole.example")
    find = fake.last("FindItem").find("s:Body/m:FindItem", NS)
    assert find is not None and find.get("Traversal") == "Shallow"
    parent = find.find("m:ParentFolderIds/t:DistinguishedFolderId", NS)
    assert parent is not None and parent.get("Id") == "sentitems"
    assert parent.find("t:Mailbox/t:EmailAddress", NS).text == MAILBOX  # type: ignore[union-attr]
    equal = find.find("m:Restriction/t:IsEqualTo", NS)
    assert equal is not None
    assert equal.find("t:ExtendedFieldURI", NS).attrib == {  # type: ignore[union-attr]
        "PropertySetId": KEY_PROPERTY_SET_ID, "PropertyName": KEY_PROPERTY_NAME, "PropertyType": "String",
    }
    constant = equal.find("t:FieldURIOrConstant/t:Constant", NS)
    assert constant is not None and constant.get("Value") == "case-12:network_agenda:leder@skole.example"


def test_already_sent_is_none_when_sent_items_has_no_such_key(ews, oauth_over_loopback_http):
    fake, server = ews
    assert oauth_transport(server).already_sent("never-sent") is None
    assert fake.operations()[-1] == "FindItem"


def test_server_busy_is_transient_with_back_off_and_send_as_denied_is_permanent(ews, oauth_over_loopback_http):
    fake, server = ews
    transport = oauth_transport(server)
    fake.create_responses = [
        (200, create_item_error("ErrorServerBusy", "The server cannot service this request right now.", 2000), {}),
        (200, create_item_error("ErrorSendAsDenied", "The user account doesn't have permission to send as."), {}),
    ]
    with pytest.raises(DeliveryError) as busy:
        transport.send(mail())
    with pytest.raises(DeliveryError) as denied:
        transport.send(mail())
    assert busy.value.transient is True and "ErrorServerBusy" in str(busy.value)
    assert denied.value.transient is False and "ErrorSendAsDenied" in str(denied.value)
    for error in (busy.value, denied.value):
        assert CLIENT_SECRET not in str(error) and ACCESS_TOKEN not in str(error)


def test_fault_tolerance_retries_a_503_within_max_wait(ews, oauth_over_loopback_http):
    fake, server = ews
    fake.create_responses = [(503, "Service Unavailable", {"Retry-After": "1"})]
    started = time.monotonic()
    oauth_transport(server, max_wait=5).send(mail())
    assert time.monotonic() - started >= 1.0
    assert fake.operations().count("CreateItem") == 2


def test_a_bad_client_secret_is_permanent_and_not_repeated(ews, oauth_over_loopback_http):
    fake, server = ews

    def refuse(request: Request) -> Response:
        if request.path.endswith("/token"):
            error = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
            return Response(401, json.dumps(error), {"Content-Type": "application/json"})
        return fake(request)

    server.handler = refuse
    with pytest.raises(DeliveryError) as caught:
        oauth_transport(server).send(mail())
    assert caught.value.transient is False
    assert "invalid_client" in str(caught.value) and CLIENT_SECRET not in str(caught.value)


def test_server_down_is_transient():
    transport = ExchangeTransport(
        mailbox=MAILBOX, server=f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx", auth="ntlm",
        username="VEJLE\\svc-pprflow", password=SecretStr(NTLM_PASSWORD), max_wait=0,
    )
    try:
        with pytest.raises(DeliveryError) as caught:
            transport.send(mail())
    finally:
        exchangelib.close_connections()
    assert caught.value.transient is True
    assert NTLM_PASSWORD not in str(caught.value)


def test_ntlm_service_account_sends_as_delegate(ews, caplog):
    fake, server = ews
    caplog.set_level(logging.DEBUG)
    transport = ExchangeTransport(
        mailbox=MAILBOX, server=f"{server.url}/EWS/Exchange.asmx", auth="ntlm",
        username="VEJLE\\svc-pprflow", password=SecretStr(NTLM_PASSWORD), max_wait=0,
    )
    transport.send(mail())
    assert 1 in fake.ntlm_messages and 3 in fake.ntlm_messages  # negotiate, then authenticate
    envelope = fake.last("CreateItem")
    assert envelope.find("s:Header/t:ExchangeImpersonation", NS) is None  # delegate access, not impersonation
    create = envelope.find("s:Body/m:CreateItem", NS)
    assert create is not None and create.get("MessageDisposition") == "SendAndSaveCopy"
    assert NTLM_PASSWORD not in caplog.text


def test_a_message_from_another_mailbox_is_refused(ews, oauth_over_loopback_http):
    _, server = ews
    with pytest.raises(DeliveryError) as caught:
        oauth_transport(server).send(mail(sender="someone-else@vejle.example"))
    assert caught.value.transient is False


@pytest.mark.parametrize(("kwargs", "setting"), [
    (dict(auth="oauth2", tenant_id=None, client_id="c", client_secret=SecretStr("s")), "PPRFLOW_TENANT_ID"),
    (dict(auth="oauth2", tenant_id="t", client_id="c", client_secret=None), "PPRFLOW_CLIENT_SECRET"),
    (dict(auth="ntlm", username=None, password=SecretStr("p")), "PPRFLOW_EXCHANGE_USERNAME"),
    (dict(auth="kerberos"), "PPRFLOW_EXCHANGE_AUTH"),
    (dict(auth="ntlm", username="u", password=SecretStr("p"), version="Exchange2099"), "EWS version"),
])
def test_missing_settings_are_named(kwargs, setting):
    with pytest.raises(ConfigurationError) as caught:
        ExchangeTransport(mailbox=MAILBOX, server="mail.vejle.example", **kwargs)
    assert setting in caught.value.one_line() and "\n" not in caught.value.one_line()
