"""build_mime: one shape for every transport, Danish text intact, no header injection."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest

from pprflow.tasks.mime import KEY_HEADER, UnsafeHeaderError, build_mime, key_digest, message_id_for, mime_bytes
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//pprflow//test//DA\r\nMETHOD:REQUEST\r\n"
       b"BEGIN:VEVENT\r\nUID:m1@pprflow\r\nSUMMARY:Netv\xc3\xa6rksm\xc3\xb8de\r\n"
       b"DTSTART;TZID=Europe/Copenhagen:20260409T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def mail(**overrides: object) -> OutgoingMail:
    values: dict[str, object] = dict(
        idempotency_key="case-7:ppr_request:ppr@vejle.example", sender="ppr@vejle.example",
        to="ppr-modtager@vejle.example", cc=("leder@skole.example", "tovholder@skole.example"),
        subject="Henvendelse til PPR – Æblehaven (æøå)", text="Hej PPR\nSe vedhæftet.\n",
        html="<p>Hej PPR</p><p>Se vedhæftet.</p>",
        attachments=(Attachment("SOS-skema – Ærø.pdf", "application/pdf", b"%PDF-1.7"),
                     Attachment("invite.ics", "text/calendar; method=REQUEST; charset=utf-8", ICS)),
    )
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def reparse(msg: EmailMessage) -> EmailMessage:
    raw = msg.as_bytes(policy=email.policy.SMTP)
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_shape_is_mixed_with_alternative_text_html_calendar_then_files():
    msg = reparse(build_mime(mail()))
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["multipart/alternative", "application/pdf", "application/ics"]
    assert [p.get_content_type() for p in parts[0].iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    calendar = list(parts[0].iter_parts())[2]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert parts[2].get_filename() == "invite.ics"
    assert parts[2].get_content_disposition() == "attachment"


def test_calendar_bytes_keep_their_crlf_line_ends():
    msg = reparse(build_mime(mail()))
    alternative = next(msg.iter_parts())
    calendar = list(alternative.iter_parts())[2]
    assert calendar.get_payload(decode=True) == ICS


def test_without_invite_alternative_has_text_and_html_only_and_is_still_mixed():
    msg = reparse(build_mime(mail(attachments=())))
    assert msg.get_content_type() == "multipart/mixed"
    [alternative] = msg.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]


def test_danish_subject_and_filename_are_encoded_and_round_trip():
    raw = mime_bytes(mail())
    raw.decode("ascii")  # nothing 8-bit on the wire
    assert b"=?utf-8?" in raw  # RFC 2047 subject
    assert b"filename*=utf-8''SOS-skema%20%E2%80%93%20%C3%86r%C3%B8.pdf" in raw  # RFC 2231
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Henvendelse til PPR – Æblehaven (æøå)"
    pdf = list(msg.iter_parts())[1]
    assert pdf.get_filename() == "SOS-skema – Ærø.pdf"
    assert pdf.get_payload(decode=True) == b"%PDF-1.7"
    text = next(next(msg.iter_parts()).iter_parts())
    assert text.get_content().replace("\r\n", "\n") == "Hej PPR\nSe vedhæftet.\n"  # CRLF on the wire


def test_message_id_is_derived_from_the_key_and_the_key_travels_in_a_header():
    msg = build_mime(mail(), date=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    key = "case-7:ppr_request:ppr@vejle.example"
    assert msg["Message-ID"] == f"<{key_digest(key)}@pprflow>" == message_id_for(key)
    assert len(key_digest(key)) == 32
    assert msg[KEY_HEADER] == key
    assert msg["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"
    assert build_mime(mail())["Message-ID"] == msg["Message-ID"]
    assert message_id_for("another key") != msg["Message-ID"]


def test_addresses_and_cc_are_headers():
    msg = build_mime(mail())
    assert msg["From"] == "ppr@vejle.example"
    assert msg["To"] == "ppr-modtager@vejle.example"
    assert msg["Cc"] == "leder@skole.example, tovholder@skole.example"


@pytest.mark.parametrize("field", ["subject", "to", "sender", "cc", "idempotency_key", "filename"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\x00"])
def test_a_line_break_in_any_header_value_is_refused_permanently(field: str, breaker: str):
    evil = f"x@skole.example{breaker}Bcc: alle@example.com"
    if field == "cc":
        outgoing = mail(cc=("ok@skole.example", evil))
    elif field == "filename":
        outgoing = mail(attachments=(Attachment(f"plan{breaker}.pdf", "application/pdf", b"x"),))
    else:
        outgoing = mail(**{field: evil})
    with pytest.raises(UnsafeHeaderError) as caught:
        build_mime(outgoing)
    assert isinstance(caught.value, DeliveryError)
    assert caught.value.transient is False


def test_a_recipient_that_is_not_an_address_is_refused():
    with pytest.raises(DeliveryError) as caught:
        build_mime(mail(to="Forældre"))
    assert caught.value.transient is False
