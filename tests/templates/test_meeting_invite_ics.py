"""The iCalendar invite: METHOD:REQUEST, Copenhagen local time across summer-time switches (CAL-9)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from pprflow.models.errors import InvalidInput
from pprflow.templates.ics import meeting_invite

CPH = ZoneInfo("Europe/Copenhagen")
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def invite(start: dt.datetime, **changes: object) -> bytes:
    arguments: dict[str, object] = dict(
        uid="meeting-512@pprflow.randers.example",
        start=start,
        duration_minutes=90,
        summary="Tværfagligt netværksmøde – Søndervangskolen",
        location="Søndervangskolen, mødelokale 2",
        description="Dagsorden:\n1. Velkomst\n2. Aftaler; opfølgning, tovholder",
        organizer_email="jens.ostergaard@randers.example",
        organizer_name="Jens Østergaard",
        attendees=[("Hanne Berg", "hanne.berg@randers.example"), ("Ahmed Khalil", "ahmed.khalil@randers.example")],
        dtstamp=STAMP,
    )
    arguments.update(changes)
    return meeting_invite(**arguments)  # type: ignore[arg-type]


def event_of(raw: bytes) -> Calendar:
    calendar = Calendar.from_ical(raw)
    (event,) = calendar.walk("VEVENT")
    return event


def vtimezone_offset(raw: bytes, when: dt.datetime) -> dt.timedelta | None:
    """The offset the invite's own VTIMEZONE gives, as a client without a tz database would read it."""
    (tz,) = Calendar.from_ical(raw).walk("VTIMEZONE")
    return when.replace(tzinfo=tz.to_tz()).utcoffset()


def test_invite_is_a_request_with_organizer_attendees_and_sequence() -> None:
    raw = invite(dt.datetime(2026, 12, 10, 9, 0, tzinfo=CPH), sequence=2)
    text = raw.decode()
    assert "METHOD:REQUEST" in text
    assert "DTSTART;TZID=Europe/Copenhagen:20261210T090000" in text
    assert "DTEND;TZID=Europe/Copenhagen:20261210T103000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Copenhagen" in text
    event = event_of(raw)
    assert event["SEQUENCE"] == 2
    assert str(event["ORGANIZER"]) == "mailto:jens.ostergaard@randers.example"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:hanne.berg@randers.example", "mailto:ahmed.khalil@randers.example"]
    for attendee in attendees:
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["RSVP"] == "TRUE"
    assert attendees[0].params["CN"] == "Hanne Berg"
    assert "\r\n" in text  # RFC 5545 line endings


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2026, 3, 27), 8),   # Friday before the spring switch (29 Mar): CET, UTC+1
        (dt.date(2026, 3, 30), 7),   # Monday after: CEST, UTC+2
        (dt.date(2026, 10, 23), 7),  # Friday before the autumn switch (25 Oct): CEST
        (dt.date(2026, 10, 26), 8),  # Monday after: CET
    ],
)
def test_CAL_9_invite_keeps_nine_oclock_local_on_both_sides_of_a_summer_time_switch(
    day: dt.date, utc_hour: int
) -> None:
    start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=CPH)
    raw = invite(start)
    parsed = event_of(raw).decoded("DTSTART")
    assert parsed.astimezone(CPH).time() == dt.time(9, 0)
    assert parsed.astimezone(dt.UTC).hour == utc_hour
    # The embedded VTIMEZONE agrees, so Outlook without the IANA name shows the same hour.
    assert vtimezone_offset(raw, dt.datetime.combine(day, dt.time(9, 0))) == dt.timedelta(hours=9 - utc_hour)


def test_CAL_9_start_given_in_utc_is_written_in_copenhagen_time() -> None:
    raw = invite(dt.datetime(2026, 6, 10, 7, 0, tzinfo=dt.UTC))
    assert "DTSTART;TZID=Europe/Copenhagen:20260610T090000" in raw.decode()


def test_CAL_9_duration_across_the_switch_night_is_elapsed_time() -> None:
    raw = invite(dt.datetime(2026, 3, 29, 1, 30, tzinfo=CPH), duration_minutes=60)
    event = event_of(raw)
    # Subtract in UTC: Python subtracts wall clocks when both ends share one ZoneInfo.
    elapsed = event.decoded("DTEND").astimezone(dt.UTC) - event.decoded("DTSTART").astimezone(dt.UTC)
    assert elapsed == dt.timedelta(minutes=60)
    assert "DTEND;TZID=Europe/Copenhagen:20260329T033000" in raw.decode()


def test_CAL_9_naive_start_is_refused() -> None:
    with pytest.raises(InvalidInput):
        invite(dt.datetime(2026, 12, 10, 9, 0))


def test_hostile_summary_description_and_names_stay_inside_their_properties() -> None:
    raw = invite(
        dt.datetime(2026, 12, 10, 9, 0, tzinfo=CPH),
        summary='Møde <script>alert(1)</script>\r\nATTENDEE:mailto:x@evil.example',
        location='Lokale "2"; 1. sal, Randers\nBEGIN:VEVENT',
        description='Linje 1\r\nEND:VCALENDAR\n"&<>; æøå',
        organizer_name='Jens "J" Østergaard',
        attendees=[("Anna\r\nBcc: x@evil.example", "anna@randers.example")],
    )
    text = raw.decode()
    lines = text.split("\r\n")
    assert lines.count("END:VCALENDAR") == 1 and lines.count("BEGIN:VEVENT") == 1
    assert not any(line.startswith("ATTENDEE:mailto:x@evil") for line in lines)
    event = event_of(raw)
    assert len(event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]) == 1
    assert str(event["SUMMARY"]) == "Møde <script>alert(1)</script> ATTENDEE:mailto:x@evil.example"
    assert str(event["DESCRIPTION"]) == 'Linje 1\nEND:VCALENDAR\n"&<>; æøå'
    assert str(event["LOCATION"]) == 'Lokale "2"; 1. sal, Randers BEGIN:VEVENT'
    attendee = event["ATTENDEE"]
    attendee = attendee[0] if isinstance(attendee, list) else attendee
    assert attendee.params["CN"] == "Anna Bcc: x@evil.example"
    assert event["ORGANIZER"].params["CN"] == "Jens 'J' Østergaard"


@pytest.mark.parametrize("email", ["x@evil.example\r\nBCC:y@evil.example", "not-an-address", 'a"b@c.example'])
def test_an_unusable_attendee_address_is_refused(email: str) -> None:
    with pytest.raises(InvalidInput):
        invite(dt.datetime(2026, 12, 10, 9, 0, tzinfo=CPH), attendees=[("X", email)])
