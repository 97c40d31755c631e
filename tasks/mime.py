"""Build the RFC 5322 message for an OutgoingMail (standard library only).

Shape::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain; charset=utf-8
    │   ├── text/html; charset=utf-8
    │   └── text/calendar; method=REQUEST; charset=utf-8      (only when there is an invite)
    ├── <each attachment>                                     (filenames RFC 2231-encoded)
    └── application/ics; name=invite.ics                      (the invite again, as a file)

Why the invite appears twice: Outlook and Exchange turn a message into a meeting request only
when a ``text/calendar; method=REQUEST`` part sits inside the ``multipart/alternative`` (Exchange's
content conversion reads it from there; a calendar file that is merely attached shows as a
paper-clip ``.ics``). Clients that do not read calendar alternatives (some webmail, phones) show
the attached file instead, which opens as an invite. The attached copy is labelled
``application/ics`` rather than ``text/calendar`` so Outlook does not see two competing calendar
bodies; this is the layout Google Calendar and Microsoft 365 use for invites sent by mail.

Headers are refused, not cleaned, when a value contains CR, LF or another line break: a header
with a newline must never go out (header injection), so the message fails permanently.

Subject and address headers are folded by `WIRE` (below), not by the standard library's modern
folder: that one loses the space between encoded words and can open a folded header with a
line break that unfolds into a leading space ("… 2026 – Børnehuset" arrived as "… 2026  –Børnehuset").
A subject with non-ASCII letters goes out as RFC 2047 encoded words that carry every space inside
them; a display name as one encoded phrase per address (`formataddr`). Every other header keeps the
standard folding. Tests decode the wire bytes with an independent parser (tests/support/eml.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, cast

from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail

KEY_HEADER = "X-Pprflow-Key"
MESSAGE_ID_DOMAIN = "pprflow"
INVITE_FILENAME = "invite.ics"

# Everything str.splitlines() breaks on, plus NUL: any of these in a header would start a new line
# on some parser.
_LINE_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})


def _fold_ascii(name: str, text: str, width: int, linesep: str) -> str:
    """Fold at spaces only, never right after the field name: unfolding gives back `text` exactly."""
    lines: list[str] = []
    line = ""
    used = len(name) + 2
    for i, word in enumerate(text.split(" ")):
        if i == 0:
            line = word
        elif used + len(line) + 1 + len(word) > width and line.strip():
            lines.append(line)
            used = 0
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return linesep.join(lines)


class WirePolicy(EmailPolicy):
    """policy.SMTP, with Subject, the key header and address headers folded so they decode to exactly
    what was written."""

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:  # type: ignore[override]
        key = name.lower()
        width = self.max_line_length or 78
        if key in ("subject", KEY_HEADER.lower()):
            text = str(value)
            if text.isascii():
                folded = _fold_ascii(name, text, width, self.linesep)
            else:
                folded = Header(text, "utf-8", header_name=name).encode(linesep=self.linesep, maxlinelen=width)
            return f"{name}: {folded}{self.linesep}"
        if key in _ADDRESS_HEADERS and hasattr(value, "addresses"):
            parts = [formataddr((" ".join(a.display_name.split()), a.addr_spec), charset="utf-8")
                     for a in value.addresses]
            return f"{name}: {(',' + self.linesep + ' ').join(parts)}{self.linesep}"
        return str(super()._fold(name, value, refold_binary))  # type: ignore[misc]


WIRE = WirePolicy(linesep="\r\n", max_line_length=78)
"""The policy mail is serialised with for the wire and for .eml files (CRLF, 78-column folding)."""


def _mailbox(name: str, address: str) -> Address | str:
    """`Name <address>` as a header value; the bare address when no name is known."""
    name = " ".join(name.split())
    if not name:
        return address
    _, bare = parseaddr(address)
    username, _, domain = bare.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def _as_address(value: Address | str) -> Address:
    if isinstance(value, Address):
        return value
    username, _, domain = parseaddr(value)[1].rpartition("@")
    return Address(username=username, domain=domain)


class UnsafeHeaderError(DeliveryError):
    """A header value (subject, address, filename, key) contains a line break; never retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def key_digest(idempotency_key: str) -> str:
    """32 hex characters that name a message everywhere: Message-ID, .eml file name."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id_for(idempotency_key: str) -> str:
    """The deterministic RFC 5322 Message-ID of the message with this key."""
    return f"<{key_digest(idempotency_key)}@{MESSAGE_ID_DOMAIN}>"


def is_invite(attachment: Attachment) -> bool:
    return attachment.content_type.split(";", 1)[0].strip().lower() == "text/calendar"


def check_header_value(field: str, value: str) -> str:
    """Return value unchanged, or raise UnsafeHeaderError if it could break out of its header line."""
    if any(ch in _LINE_BREAKS for ch in value):
        raise UnsafeHeaderError(f"refusing to send: the {field} contains a line break (header injection)")
    return value


def _address(field: str, value: str) -> str:
    check_header_value(field, value)
    _, addr = parseaddr(value)
    if "@" not in addr:
        raise DeliveryError(f"refusing to send: the {field} {value!r} is not an email address", transient=False)
    return value


def check_headers(mail: OutgoingMail) -> None:
    """Every value that ends up in a header line, checked before anything is built or sent."""
    _address("sender", mail.sender)
    check_header_value("sender name", mail.sender_name)
    check_header_value("recipient name", mail.to_name)
    for name in mail.cc_names:
        check_header_value("cc recipient name", name)
    _address("recipient", mail.to)
    for cc in mail.cc:
        _address("cc recipient", cc)
    if mail.reply_to:
        _address("reply-to", mail.reply_to)
    check_header_value("subject", mail.subject)
    check_header_value("idempotency key", mail.idempotency_key)
    for attachment in mail.attachments:
        check_header_value("attachment filename", attachment.filename)
        check_header_value("attachment content type", attachment.content_type)


def _split_type(content_type: str) -> tuple[str, str]:
    main = content_type.split(";", 1)[0].strip().lower()
    maintype, _, subtype = main.partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype, subtype


def build_mime(mail: OutgoingMail, *, date: dt.datetime | None = None) -> EmailMessage:
    """The complete message: headers, text and HTML alternatives, calendar invite, attachments.

    Serialise with ``msg.as_bytes(policy=WIRE)`` for the wire (CRLF line ends).
    Raises UnsafeHeaderError (a permanent DeliveryError) for a header value with a line break.
    """
    check_headers(mail)
    msg = EmailMessage(policy=policy.default)
    msg["From"] = _mailbox(mail.sender_name, mail.sender)
    # Issue 13/16: `Name <address>`, the name RFC 2047-encoded by WIRE when it is not ASCII (WirePolicy).
    msg["To"] = _mailbox(mail.to_name, mail.to)
    if mail.cc:
        msg["Cc"] = [_as_address(_mailbox(mail.cc_name(i), cc)) for i, cc in enumerate(mail.cc)]
    if mail.reply_to:  # issue 16: replies reach the person who signed, not the shared mailbox
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id_for(mail.idempotency_key)
    msg[KEY_HEADER] = mail.idempotency_key
    msg["MIME-Version"] = "1.0"

    # quoted-printable keeps the bodies 7-bit, so no server needs 8BITMIME.
    body = MIMEPart(policy=policy.default)
    body.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    body.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    invites = [a for a in mail.attachments if is_invite(a)]
    if invites:
        # Bytes, not str: the iCalendar text keeps its CRLF line ends (RFC 5545) exactly.
        calendar = MIMEPart(policy=policy.default)
        calendar.set_content(invites[0].content, maintype="text", subtype="calendar", cte="base64",
                             params={"method": "REQUEST", "charset": "utf-8"})
        body.attach(calendar)
    # A multipart/mixed even without files: every transport and test sees one shape.
    msg.make_mixed()
    msg.attach(cast(EmailMessage, body))  # a MIMEPart: no MIME-Version header inside the message

    for attachment in mail.attachments:
        part = MIMEPart(policy=policy.default)
        if is_invite(attachment):
            part.set_content(attachment.content, maintype="application", subtype="ics",
                             disposition="attachment", filename=attachment.filename or INVITE_FILENAME)
        else:
            maintype, subtype = _split_type(attachment.content_type)
            part.set_content(attachment.content, maintype=maintype, subtype=subtype,
                             disposition="attachment", filename=attachment.filename)
        msg.attach(cast(EmailMessage, part))
    return msg


def mime_bytes(mail: OutgoingMail, *, date: dt.datetime | None = None) -> bytes:
    """The message as it goes on the wire (CRLF line ends)."""
    return build_mime(mail, date=date).as_bytes(policy=WIRE)
