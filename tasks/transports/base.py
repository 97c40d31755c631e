"""What every mail transport takes and promises. Injectable, like httpx's transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pprflow.models.errors import PprflowError

ICS_CONTENT_TYPE = "text/calendar; method=REQUEST; charset=utf-8"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the iCalendar invite, a form)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """One rendered message for one recipient, as the outbox hands it to a transport."""

    idempotency_key: str
    sender: str
    to: str
    subject: str
    text: str
    html: str
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    reply_to: str | None = None
    """The person who signs the mail (issue 16): a reply reaches them, not the shared mailbox."""
    sensitive: bool = False
    """About a named child or a notification: SMTP sends it only over verified TLS (issue 16)."""
    sender_name: str = ""
    """The sending unit's display name (`PPR Vejle Kommune`), from the profile; empty for none."""
    to_name: str = ""
    """The recipient's display name (issue 13/16: staff directory, the case's parties, the profile's
    mailboxes); a name is data beside the bare address, never parsed out of one. Empty for none."""
    cc_names: tuple[str, ...] = ()
    """Display names parallel to `cc` (empty string, or a shorter tuple, where none is known)."""

    def cc_name(self, index: int) -> str:
        return self.cc_names[index] if index < len(self.cc_names) else ""


class DeliveryError(PprflowError):
    """A transport could not deliver. `transient` errors are retried; permanent ones fail the message."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


@runtime_checkable
class Transport(Protocol):
    """Delivers an OutgoingMail. Must never put a credential into an exception, a log line or a header."""

    name: str

    def send(self, mail: OutgoingMail) -> str:
        """Deliver and return the transport's message id; raise DeliveryError on failure."""
        ...

    def already_sent(self, idempotency_key: str) -> str | None:
        """The message id if a message with this key was already delivered (exactly-once), else None.

        Exchange and Graph look in the mailbox's Sent Items; the file transport looks on disk;
        SMTP cannot know and returns None (at most the one message in flight can repeat).
        """
        ...
