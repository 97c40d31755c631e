"""SmtpTransport against a real aiosmtpd server on 127.0.0.1: what arrives is what Outlook will parse."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from pprflow.tasks.mime import message_id_for
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail
from pprflow.tasks.transports.smtp import SmtpTransport
from tests.transports.loopback import LoopbackCert, free_port

PASSWORD = "Hemmel1gt-smtp-pw"
CPH = ZoneInfo("Europe/Copenhagen")


@dataclass
class RecordingHandler:
    """Keeps every message; answers RCPT/DATA with a configurable reply."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"ppr-relay" and auth_data.password == \
        PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def invite_ics() -> bytes:
    """A small VEVENT at 09:00 Copenhagen time, as the calendar module would render it."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//pprflow//test//DA")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", "meeting-42@pprflow")
    event.add("summary", "Netværksmøde: læringsmiljø")
    event.add("dtstart", dt.datetime(2026, 4, 9, 9, 0, tzinfo=CPH))
    event.add("dtend", dt.datetime(2026, 4, 9, 10, 30, tzinfo=CPH))
    event.add("dtstamp", dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    event.add("organizer", "mailto:ppr@vejle.example")
    event.add("attendee", "mailto:leder@skole.example")
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def mail(**overrides: Any) -> OutgoingMail:
    values: dict[str, Any] = dict(
        idempotency_key="meeting-42:agenda:leder@skole.example",
        sender="ppr@vejle.example",
        to="leder@skole.example",
        cc=("tovholder@skole.example",),
        subject="Dagsorden til netværksmøde – Søndergård Børnehave (æøå ÆØÅ)",
        text="Kære leder\n\nHer er dagsordenen for mødet på torsdag.\n",
        html="<p>Kære leder</p><p>Her er dagsordenen for mødet på torsdag.</p>",
        attachments=(
            Attachment("Handleplan – Åbo Skole.pdf", "application/pdf", b"%PDF-1.4 test\n"),
            Attachment("invite.ics", "text/calendar; method=REQUEST", invite_ics()),
        ),
    )
    values.update(overrides)
    return OutgoingMail(**values)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_send_delivers_alternatives_danish_subject_attachment_and_invite(smtp_server):
    controller, handler = smtp_server
    transport = SmtpTransport("127.0.0.1", controller.port, "none")

    message_id = transport.send(mail())

    assert message_id == message_id_for("meeting-42:agenda:leder@skole.example")
    [(mail_from, rcpt_tos, raw)] = handler.received
    assert mail_from == "ppr@vejle.example"
    assert rcpt_tos == ["leder@skole.example", "tovholder@skole.example"]
    raw.decode("ascii")  # 7-bit on the wire: RFC 2047/2231 and quoted-printable did their job
    received = parse(raw)
    assert received["Subject"] == "Dagsorden til netværksmøde – Søndergård Børnehave (æøå ÆØÅ)"
    assert received["Message-ID"] == message_id
    assert received["X-Pprflow-Key"] == "meeting-42:agenda:leder@skole.example"
    assert received.get_content_type() == "multipart/mixed"

    alternative, pdf, ics_file = received.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "Kære leder" in plain.get_content() and "<p>Kære leder</p>" in html.get_content()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"

    assert pdf.get_filename() == "Handleplan – Åbo Skole.pdf"
    assert pdf.get_content() == b"%PDF-1.4 test\n"
    assert ics_file.get_filename() == "invite.ics"

    # The invite survives the trip: local time and time zone intact (CAL-9).
    for part in (calendar, ics_file):
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parsed = icalendar.Calendar.from_ical(payload)
        [event] = parsed.walk("VEVENT")
        start = event.decoded("dtstart")
        assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Copenhagen"
        assert (start.hour, start.minute) == (9, 0)
        assert str(event["summary"]) == "Netværksmøde: læringsmiljø"
        assert parsed["method"] == "REQUEST"


def test_starttls_and_login_with_the_loopback_certificate(loopback_cert: LoopbackCert):
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            tls_context=loopback_cert.server_context(), require_starttls=True,
                            authenticator=_authenticator, auth_require_tls=True)
    controller.start()
    try:
        transport = SmtpTransport("127.0.0.1", controller.port, "starttls", "ppr-relay", SecretStr(PASSWORD),
                                  ssl_context=loopback_cert.client_context())
        transport.send(mail())
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_wrong_password_is_permanent_and_never_echoed(loopback_cert: LoopbackCert):
    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=free_port(),
                            tls_context=loopback_cert.server_context(), authenticator=_authenticator)
    controller.start()
    try:
        wrong = "Forkert-Kodeord-123"
        transport = SmtpTransport("127.0.0.1", controller.port, "starttls", "ppr-relay", SecretStr(wrong),
                                  ssl_context=loopback_cert.client_context())
        with pytest.raises(DeliveryError) as caught:
            transport.send(mail())
    finally:
        controller.stop()
    assert caught.value.transient is False
    assert "535" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(transport)


def test_untrusted_certificate_is_permanent(loopback_cert: LoopbackCert):
    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=free_port(),
                            tls_context=loopback_cert.server_context())
    controller.start()
    try:
        transport = SmtpTransport("127.0.0.1", controller.port, "starttls")  # system CAs: ours is not there
        with pytest.raises(DeliveryError) as caught:
            transport.send(mail())
    finally:
        controller.stop()
    assert caught.value.transient is False
    assert "certificate" in str(caught.value)


def test_server_down_is_transient_and_names_no_password():
    port = free_port()  # nothing listens here
    transport = SmtpTransport("127.0.0.1", port, "starttls", "ppr-relay", SecretStr(PASSWORD), timeout=2)
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail())
    assert caught.value.transient is True
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


def test_550_recipient_refused_is_permanent(smtp_server):
    controller, handler = smtp_server
    handler.rcpt_reply = "550 5.1.1 User unknown"
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport("127.0.0.1", controller.port, "none").send(mail())
    assert caught.value.transient is False
    assert "550" in str(caught.value)
    assert handler.received == []


def test_550_at_data_is_permanent_451_is_transient(smtp_server):
    controller, handler = smtp_server
    transport = SmtpTransport("127.0.0.1", controller.port, "none")
    handler.data_reply = "550 5.7.1 Message rejected as spam"
    with pytest.raises(DeliveryError) as permanent:
        transport.send(mail())
    handler.data_reply = "451 4.3.0 Try again later"
    with pytest.raises(DeliveryError) as transient:
        transport.send(mail())
    assert (permanent.value.transient, transient.value.transient) == (False, True)


def test_header_injection_is_refused_before_connecting():
    transport = SmtpTransport("127.0.0.1", free_port(), "none")
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail(subject="Hej\r\nBcc: alle@example.com"))
    assert caught.value.transient is False


def test_smtp_cannot_know_and_says_so():
    assert SmtpTransport("127.0.0.1", 25).already_sent("any") is None
