"""The iCalendar invite (kalenderinvitation) sent with a meeting agenda. Pure: values in, bytes out.

Times are written with TZID=Europe/Copenhagen and a VTIMEZONE, so Outlook shows the meeting at the
same local time on both sides of a summer-time switch (CAL-9).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from pprflow.models.address import normalise_address
from pprflow.models.errors import InvalidInput

TIMEZONE = ZoneInfo("Europe/Copenhagen")
PRODID = "-//pprflow//Danish children's services meetings//DA"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def _param(value: str) -> str:
    # A parameter value (CN) cannot hold a double quote even when quoted (RFC 5545 §3.1).
    return _one_line(value).replace('"', "'")


def _address(email: str, name: str, **params: str) -> vCalAddress:
    # The one address type (ESC-1): every character it lets through is safe in a mailto: line, so
    # sean.o'brien@skole.example is invited as itself; a display name or brackets never get this far.
    try:
        bare = normalise_address(email)
    except ValueError as exc:
        raise InvalidInput(f"calendar invite: {exc}") from None
    address = vCalAddress(f"mailto:{bare}")
    address.params["CN"] = _param(name)
    for key, value in params.items():
        address.params[key] = value
    return address


def meeting_invite(
    *,
    uid: str,
    start: dt.datetime,
    duration_minutes: int,
    summary: str,
    location: str,
    description: str,
    organizer_email: str,
    attendees: Sequence[tuple[str, str]],
    organizer_name: str = "",
    sequence: int = 0,
    dtstamp: dt.datetime | None = None,
) -> bytes:
    """A METHOD:REQUEST calendar with one VEVENT and the Europe/Copenhagen VTIMEZONE.

    `start` must be timezone-aware. Send the same `uid` with a higher `sequence` to move a meeting.
    `attendees` are (name, email) pairs; each is a required participant asked to reply.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput("a meeting start must be timezone-aware", rule_id="CAL-9")
    if duration_minutes <= 0:
        raise InvalidInput("a meeting must last at least one minute")
    if not uid or _CONTROL.search(uid):
        raise InvalidInput("a calendar UID must be a non-empty single line")
    local_start = start.astimezone(TIMEZONE)
    # Duration is elapsed time: add it in UTC, then show the end in local time.
    local_end = (start.astimezone(dt.UTC) + dt.timedelta(minutes=duration_minutes)).astimezone(TIMEZONE)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    cal.add("calscale", "GREGORIAN")

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", (dtstamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    event.add("sequence", sequence)
    event.add("summary", vText(_one_line(summary)))
    event.add("location", vText(_one_line(location)))
    event.add("description", vText(description.replace("\r\n", "\n").replace("\r", "\n")))
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer_email, organizer_name or organizer_email))
    for name, email in attendees:
        event.add(
            "attendee",
            _address(email, name, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE", CUTYPE="INDIVIDUAL"),
            encode=False,
        )
    cal.add_component(event)
    # Only the transitions around the meeting: a VTIMEZONE back to 1970 would bloat every invite.
    cal.add_missing_timezones(
        first_date=dt.date(local_start.year - 1, 1, 1),
        last_date=dt.date(local_end.year + 2, 1, 1),
    )
    return cal.to_ical()
