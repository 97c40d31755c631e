"""The one e-mail address type (e-mailadresse) of pprflow: parsed once, at the boundary (ESC-1).

Every address that enters pprflow — a referral's JSON, a flow parameter, a CLI option, a profile's
mailboxes — is parsed into an `EmailAddress`: a bare address (no display name, no ``<>``, no spaces),
case-folded, and made only of characters that are safe both in a mail header (RFC 5322 dot-atom)
and in an iCalendar ``mailto:`` line (RFC 5545). ``sean.o'brien@skole.example`` is a valid address
and stays one end to end. Because every stored address has one spelling, "is this a parent?" is a
set lookup on `address_key` — never a raw string comparison that ``Name <addr>`` could slip past.

Pure: no I/O. Errors are one line, in Danish, naming the field.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Iterator
from typing import Annotated

from pydantic import AfterValidator

from pprflow.models.errors import InvalidInput

MAX_LENGTH = 254
"""RFC 5321: the longest address a mail server accepts (a forward-path of 256 minus the brackets)."""

# RFC 5322 atext, minus the characters that mean something in a mailto: URI ("#", "%", "?") or
# that a calendar client may mangle ("{", "|", "}"): what is left is safe in a header and an ics line.
_LOCAL_CHAR = r"[a-z0-9!$&'*+/=^_`~-]"
_LOCAL = re.compile(rf"^{_LOCAL_CHAR}+(\.{_LOCAL_CHAR}+)*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

PLACEHOLDER_DOMAIN = ".invalid"
"""RFC 2606: a mailbox under .invalid is a placeholder the municipality must fill in; never sent to."""


class AddressError(ValueError):
    """Why a text is not a usable e-mail address (one Danish line, without the field name)."""


def _refuse(value: str, why: str) -> AddressError:
    from pprflow.models.rules_privacy import contains_cpr_number

    if contains_cpr_number(value):  # PRIV-2: a refusal never echoes a CPR number
        return AddressError(f"teksten er ikke en brugbar e-mailadresse: {why}")
    shown = value if len(value) <= 80 else value[:77] + "..."
    return AddressError(f"{shown!r} er ikke en brugbar e-mailadresse: {why}")


def normalise_address(value: str) -> str:
    """The bare, case-folded address, or `AddressError` saying what is wrong and how to fix it."""
    if not isinstance(value, str):
        raise AddressError(f"en e-mailadresse skal være tekst, ikke {type(value).__name__}")
    text = value.strip()
    if not text:
        raise AddressError("e-mailadressen mangler")
    if "<" in text or ">" in text or '"' in text:
        bare = email.utils.parseaddr(text)[1].strip()
        hint = f", fx {bare.lower()}" if bare and "@" in bare and bare != text else ""
        raise _refuse(value, f"skriv kun selve adressen uden navn og uden <>{hint}")
    if any(c.isspace() for c in text):
        raise _refuse(value, "adressen må ikke indeholde mellemrum; skriv én adresse ad gangen")
    if any(c in text for c in ",;"):
        raise _refuse(value, "kun én adresse ad gangen (ingen komma eller semikolon)")
    if not text.isascii():
        raise _refuse(value, "kun bogstaverne a-z (ingen æ, ø, å eller andre tegn uden for ASCII) i adressen")
    address = text.lower()
    if address.count("@") != 1:
        raise _refuse(value, "en adresse har præcis ét @, fx navn@skole.dk")
    local, domain = address.split("@")
    if not local or not _LOCAL.match(local) or len(local) > 64:
        raise _refuse(value, "delen før @ må kun have bogstaver, tal og . ' - _ + (ikke to punktummer i træk "
                             "eller punktum først/sidst)")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise _refuse(value, "delen efter @ skal være et domæne, fx skole.dk")
    if len(address) > MAX_LENGTH:
        raise _refuse(value, f"adressen er længere end {MAX_LENGTH} tegn")
    return address


def _validate(value: str) -> str:
    return normalise_address(value)


EmailAddress = Annotated[str, AfterValidator(_validate)]
"""An e-mail address: bare, case-folded, valid in a mail header and in an iCalendar line (ESC-1)."""


def parse_address(value: str, what: str = "e-mail", *, rule_id: str | None = None) -> str:
    """One address from a CLI option, a flow parameter or a stored row: `InvalidInput` naming `what`
    (and the rule the option serves, e.g. ROLE-1 for the one new coordinator)."""
    try:
        return normalise_address(value)
    except AddressError as exc:
        raise InvalidInput(f"{what}: {exc}", rule_id=rule_id) from None


def address_key(value: str | None) -> str:
    """The comparison key of an address already in the database (older rows may differ in case or
    surrounding space); a value that does not parse is compared as its trimmed, lower-case text."""
    if not value:
        return ""
    try:
        return normalise_address(value)
    except AddressError:
        return email.utils.parseaddr(value)[1].strip().lower() or value.strip().lower()


def mailbox_key(value: str | None) -> str:
    """ESC-1 "whatever the spelling": the mailbox an address reaches, `address_key` without a sub-address
    (mor+skole@hjem.dk and mor@hjem.dk are one mailbox at Gmail, Outlook.com, iCloud and Fastmail). Used
    only to recognise a parent: treating a stranger's tagged address as the parent's errs on the safe side."""
    key = address_key(value)
    local, at, domain = key.partition("@")
    base = local.split("+", 1)[0]
    return f"{base}@{domain}" if at and base else key


class Mailboxes:
    """A set of mailboxes that answers `address in it` for any spelling of an address (ESC-1): the parents
    of a child, or the protected parents among some addresses (tasks/outbox.py)."""

    __slots__ = ("_keys",)

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._keys = frozenset(k for k in (mailbox_key(a) for a in addresses) if k)

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and mailbox_key(address) in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        """Equal to another set of addresses that reaches the same mailboxes."""
        if isinstance(other, Mailboxes):
            return self._keys == other._keys
        if isinstance(other, set | frozenset):
            return self == Mailboxes(a for a in other if isinstance(a, str))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared like a set, never a key

    def __repr__(self) -> str:
        return f"Mailboxes({sorted(self._keys)!r})"


def is_placeholder(address: str) -> bool:
    """A mailbox under the reserved .invalid domain: a setting the municipality must fill in."""
    return address_key(address).endswith(PLACEHOLDER_DOMAIN)
