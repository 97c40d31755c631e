"""One reader for the mail the tests look at: .eml files, wire bytes from the loopback servers.

Every ESC-1 and mail assertion reads recipients through here, so `Name <addr>`, `<ADDR>` and folded
headers are compared as the bare, case-folded address a mail server would deliver to — never as raw
header strings (a raw comparison let `Hanne Berg <hanne.berg@hjem.example>` past a parent check).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

ADDRESS_HEADERS = ("To", "Cc", "Bcc", "Reply-To", "From", "Sender")


def bare(address: str) -> str:
    """`Name <Addr@X>` -> `addr@x`; what a mail server delivers to."""
    return email.utils.parseaddr(address)[1].strip().lower()


@dataclass(frozen=True)
class ReadMail:
    """A parsed mail: its headers decoded by the standard library's modern policy, addresses bare."""

    message: EmailMessage
    source: str

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def addresses(self, *headers: str) -> set[str]:
        """Every bare, case-folded address in the named headers (all address headers by default)."""
        values: list[str] = []
        for header in headers or ADDRESS_HEADERS:
            values.extend(str(v) for v in self.message.get_all(header, []))
        return {addr.strip().lower() for _, addr in email.utils.getaddresses(values) if addr.strip()}

    @property
    def recipients(self) -> set[str]:
        """Everyone the mail was addressed to (To, Cc, Bcc)."""
        return self.addresses("To", "Cc", "Bcc")

    def text(self) -> str:
        """Every text part decoded and joined (plain text and HTML, calendar parts included)."""
        parts = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        return "\n".join(parts)


def parse(raw: bytes, source: str = "<bytes>") -> ReadMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return ReadMail(message, source)


def read(path: Path) -> ReadMail:
    return parse(path.read_bytes(), str(path))


def read_folder(folder: Path) -> list[ReadMail]:
    """Every .eml under `folder` (recursively), oldest name first; temporary files are not mail."""
    return [read(p) for p in sorted(folder.rglob("*.eml")) if not p.name.startswith(".")]


def reaching(mails: Iterable[ReadMail], addresses: Iterable[str]) -> list[ReadMail]:
    """The mails addressed to any of `addresses` (compared bare and case-folded)."""
    wanted = {bare(a) for a in addresses}
    return [m for m in mails if m.recipients & wanted]
