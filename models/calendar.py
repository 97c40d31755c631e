"""The Danish working-day calendar (arbejdsdage) and every deadline rule: CAL-1 … CAL-9, LAW-2.

Pure: takes dates and settings, returns dates. No Prefect, no database, no mail. The municipality
profile decides the numbers; callers pass them in (`WorkingCalendar.for_profile(profile)` plus
`profile.meetings.agenda_working_days` and friends).

Conventions every function here keeps:

* **Counting working days** (`WorkingCalendar.add_working_days`): the start day itself never
  counts, whether or not it is a working day. ``+n`` is the n-th working day strictly after the
  start, ``-n`` the n-th working day strictly before it. So a notification sent on a Saturday has
  Monday as working day 1, and a meeting on a Thursday has Wednesday as working day 1 before it.
  ``n == 0`` returns the start if it is a working day, else the next working day.
* **A working-day or notice deadline never lands on a closed day.** Where a rule counts calendar
  days (CAL-3) and the result is a weekend, holiday or profile closed day, the deadline moves
  *earlier* to the previous working day: the rule says "at least" so many days' notice, and
  moving it later would shorten the notice; nobody is asked to act on a day the office is shut.
* **Calendar-month deadlines** (CAL-6, CAL-7) are the legal/guideline dates themselves, month-end
  clamped (31 Aug + 6 months = 28/29 Feb) and *not* moved off closed days; a reminder that must
  fall on a working day uses ``calendar.previous_working_day(review_due(...))``.
* **Schedules** (CAL-4, CAL-5) keep their cadence; a session that falls on a closed day is flagged
  with the next working day proposed, never silently held on a holiday.
* **Times** are Europe/Copenhagen wall-clock (CAL-9); instants are timezone-aware.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pprflow.models.errors import InvalidInput

if TYPE_CHECKING:
    from pprflow.models.profile import Profile

__all__ = [
    "ACKNOWLEDGEMENT_WORKING_DAYS", "AGENDA_WORKING_DAYS", "COPENHAGEN", "DISTRICT_MEETING_CADENCE_WEEKS",
    "EARLY_YEARS_CLOSES", "EARLY_YEARS_OPENS", "INVESTIGATION_MONTHS", "KV_CADENCE_WEEKS", "KV_NOTICE_DAYS",
    "REVIEW_MONTHS", "STORE_BEDEDAG_LAST_YEAR", "KVKind", "ScheduledDate", "WorkingCalendar", "add_months",
    "danish_public_holidays", "investigation_deadline", "local_datetime", "local_today", "review_due",
    "to_local",
]

# --- The rules as data ----------------------------------------------------------------------------

AGENDA_WORKING_DAYS = 5
"""CAL-2: the agenda goes out *no later than 5 working days before the meeting date* [003]."""

KV_NOTICE_DAYS = 5
"""CAL-3: the pedagogical leader gives PPR *at least 5 days' notice* of the KV topic [001] (calendar days)."""

KVKind = Literal["school", "daycare"]
KV_CADENCE_WEEKS: dict[str, int] = {"school": 2, "daycare": 6}
"""CAL-4: KV every 2 weeks at schools, every 6 weeks at daycare (dagtilbud, DAG) [001]."""

DISTRICT_MEETING_CADENCE_WEEKS = 2
"""CAL-5: district meetings (distriktsmøder) inside PPR every 2 weeks [001]."""

REVIEW_MONTHS = 6
"""CAL-6: level-4 specialised effort is reassessed *at least every half year* [003]."""

INVESTIGATION_MONTHS = 4
"""CAL-7: a child-welfare investigation (børnefaglig undersøgelse, Barnets Lov §20) takes at most 4 months."""

EARLY_YEARS_OPENS = dt.time(8, 0)
EARLY_YEARS_CLOSES = dt.time(15, 0)
"""CAL-8: early-years consultants (småbørnskonsulenter) answer "dagligt mellem kl. 8.00 og 15.00" [000]."""

ACKNOWLEDGEMENT_WORKING_DAYS = 6
"""LAW-2: a professional notifier gets an acknowledgement (kvittering) within 6 working days."""

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
"""CAL-9: every time in pprflow is Europe/Copenhagen wall-clock time."""

STORE_BEDEDAG_LAST_YEAR = 2023
"""CAL-1: Store Bededag (4th Friday after Easter) was abolished by Act no. 214 of 6 March 2023
(lov om afskaffelse af store bededag), in force 1 January 2024. The holidays package already
omits it from 2024; `danish_public_holidays` removes it again so an older package cannot bring it back."""

_ONE_DAY = dt.timedelta(days=1)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- CAL-1: public holidays -----------------------------------------------------------------------

_HOLIDAY_CACHE: dict[int, frozenset[dt.date]] = {}


def danish_public_holidays(year: int) -> frozenset[dt.date]:
    """CAL-1: Danish public holidays (helligdage) in `year`, from `holidays.Denmark`, cached per year.

    Only the PUBLIC category: New Year's Day, Maundy Thursday, Good Friday, Easter Sunday and
    Monday, Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing Day (plus Store Bededag
    up to 2023). The package's OPTIONAL category (1 May, 5 June, 24 Dec, 31 Dec) is *not* included:
    whether those are closed is a profile setting (`closed_days`).
    """
    cached = _HOLIDAY_CACHE.get(year)
    if cached is not None:
        return cached
    import holidays  # imported here: loading it costs ~70 ms, and only day arithmetic needs it
    from dateutil.easter import easter  # python-dateutil is a dependency of holidays

    days = set(holidays.Denmark(years=year, categories=(holidays.PUBLIC,)).keys())
    if year > STORE_BEDEDAG_LAST_YEAR:
        days.discard(easter(year) + dt.timedelta(days=26))
    result = frozenset(days)
    _HOLIDAY_CACHE[year] = result
    return result


# --- CAL-4/CAL-5: a scheduled date ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScheduledDate:
    """One session of a cadence (CAL-4, CAL-5). On a closed day it is flagged, with a proposal (CAL-5)."""

    date: dt.date
    closed: bool = False
    proposed: dt.date | None = None

    @property
    def effective(self) -> dt.date:
        """The day the session is actually held: the proposal if the planned day is closed."""
        return self.proposed or self.date

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date.isoformat()} closed -> {self.proposed.isoformat() if self.proposed else '?'}"
        return self.date.isoformat()


# --- The working calendar -------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkingCalendar:
    """CAL-1: working days (arbejdsdage) are Monday–Friday minus Danish public holidays minus the
    profile's closed days (e.g. 24 Dec, 31 Dec, 5 June). Closed-day sets are cached per year
    (a benign race under threads: two threads may both compute the same immutable set)."""

    closed_month_days: frozenset[tuple[int, int]] = frozenset()
    timezone: str = "Europe/Copenhagen"
    _closed_by_year: dict[int, frozenset[dt.date]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "closed_month_days", frozenset(self.closed_month_days))
        for month, day in self.closed_month_days:
            if not (1 <= month <= 12 and 1 <= day <= 31):
                raise InvalidInput(f"closed day ({month}, {day}) is not a (month, day) pair", rule_id="CAL-1")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown timezone {self.timezone!r}", rule_id="CAL-9") from None

    @classmethod
    def for_profile(cls, profile: Profile) -> WorkingCalendar:
        """The calendar of a municipality profile: its closed days and its timezone (CAL-1, CAL-9).

        Profiles with the same settings share one instance, and so its per-year closed-day cache:
        a national sweep that asks once per case computes each year's set once per municipality.
        """
        return _shared_calendar(profile.closed_month_days, profile.timezone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key

    def closed_dates(self, year: int) -> frozenset[dt.date]:
        """CAL-1: public holidays plus the profile's closed days in `year` (weekends not listed)."""
        cached = self._closed_by_year.get(year)
        if cached is not None:
            return cached
        days = set(danish_public_holidays(year))
        for month, day in self.closed_month_days:
            if day <= _stdlib_calendar.monthrange(year, month)[1]:  # 29 Feb only in leap years
                days.add(dt.date(year, month, day))
        result = frozenset(days)
        self._closed_by_year[year] = result
        return result

    # CAL-1 -------------------------------------------------------------------------------------

    def is_closed_day(self, d: dt.date) -> bool:
        """CAL-1: a weekend, a Danish public holiday or one of the profile's closed days."""
        return d.weekday() >= 5 or d in self.closed_dates(d.year)

    def is_working_day(self, d: dt.date) -> bool:
        """CAL-1: a working day (arbejdsdag): Monday–Friday, not a holiday, not a profile closed day."""
        return not self.is_closed_day(d)

    def next_working_day(self, d: dt.date) -> dt.date:
        """CAL-1: the first working day on or after `d`."""
        while self.is_closed_day(d):
            d += _ONE_DAY
        return d

    def previous_working_day(self, d: dt.date) -> dt.date:
        """CAL-1: the last working day on or before `d`."""
        while self.is_closed_day(d):
            d -= _ONE_DAY
        return d

    def add_working_days(self, d: dt.date, n: int) -> dt.date:
        """CAL-1: the n-th working day after `d` (n > 0) or before it (n < 0).

        `d` itself never counts, working day or not: from Saturday, +1 is Monday and -1 is
        Friday; from Thursday, -5 is the Thursday before. n == 0 returns `d` if it is a working
        day, else the next working day. The result is always a working day.
        """
        if n == 0:
            return self.next_working_day(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if not self.is_closed_day(d):
                remaining -= 1
        return d

    def working_days(self, start: dt.date, end: dt.date) -> Iterator[dt.date]:
        """CAL-1: the working days from `start` to `end`, both inclusive, in order."""
        d = start
        while d <= end:
            if not self.is_closed_day(d):
                yield d
            d += _ONE_DAY

    # CAL-2 ------------------------------------------------------------------------------------

    def agenda_deadline(self, meeting_date: dt.date, working_days: int = AGENDA_WORKING_DAYS) -> dt.date:
        """CAL-2: the leader sends the agenda (dagsorden) for a network meeting to parents and partners
        *no later than 5 working days before the meeting date* [003].

        Meeting Thursday, no holidays → the Thursday before; meeting Thu 2026-04-09 → Mon 2026-03-30
        (Easter Monday, Good Friday and Maundy Thursday do not count). `working_days == 0` means
        "by the meeting day", moved earlier to a working day if the meeting day is closed.
        """
        _non_negative(working_days, "working_days", "CAL-2")
        if working_days == 0:
            return self.previous_working_day(meeting_date)
        return self.add_working_days(meeting_date, -working_days)

    # CAL-3 ------------------------------------------------------------------------------------

    def kv_notice_deadline(self, kv_date: dt.date, days: int = KV_NOTICE_DAYS) -> dt.date:
        """CAL-3: the pedagogical leader tells PPR what is to be discussed at KV (konsultativ
        vejledning) with *at least 5 days' notice* [001]: `days` calendar days before the session.

        If that day is closed, the deadline moves *earlier* to the previous working day: the notice
        stays at least `days` days and the leader is never asked to act on a closed day.
        """
        _non_negative(days, "days", "CAL-3")
        return self.previous_working_day(kv_date - dt.timedelta(days=days))

    # LAW-2 ------------------------------------------------------------------------------------

    def acknowledgement_due(self, sent_on: dt.date, working_days: int = ACKNOWLEDGEMENT_WORKING_DAYS) -> dt.date:
        """LAW-2: the municipality acknowledges a professional's notification (kvittering for
        underretning) within 6 working days of it being sent; the day it was sent does not count."""
        _non_negative(working_days, "working_days", "LAW-2")
        return self.add_working_days(sent_on, working_days)

    # CAL-4 / CAL-5 ----------------------------------------------------------------------------

    def schedule(self, first: dt.date, count: int, cadence_weeks: int, *, rule_id: str) -> list[ScheduledDate]:
        """`count` sessions every `cadence_weeks` weeks from `first`; a closed day is flagged (CAL-5)."""
        _non_negative(count, "count", rule_id)
        if cadence_weeks < 1:
            raise InvalidInput(f"cadence_weeks must be at least 1, got {cadence_weeks}", rule_id=rule_id)
        step = dt.timedelta(weeks=cadence_weeks)
        sessions = []
        for i in range(count):
            d = first + i * step
            if self.is_closed_day(d):
                sessions.append(ScheduledDate(d, closed=True, proposed=self.next_working_day(d)))
            else:
                sessions.append(ScheduledDate(d))
        return sessions

    def district_meetings(
        self,
        start: dt.date,
        count: int,
        weekday: int | str = "thursday",
        cadence_weeks: int = DISTRICT_MEETING_CADENCE_WEEKS,
    ) -> list[ScheduledDate]:
        """CAL-5: district meetings (distriktsmøder) every `cadence_weeks` weeks on `weekday`
        (0 = Monday or a name such as "thursday"), the first on or after `start`. A meeting on a
        closed day is flagged with the next working day proposed, never silently held on a holiday."""
        target = _weekday_number(weekday)
        first = start + dt.timedelta(days=(target - start.weekday()) % 7)
        return self.schedule(first, count, cadence_weeks, rule_id="CAL-5")

    def kv_sessions(
        self, kind: str, start: dt.date, count: int, cadence_weeks: int | None = None
    ) -> list[ScheduledDate]:
        """CAL-4: KV sessions (konsultativ vejledning) from `start`, every 2 weeks at a school and
        every 6 weeks at a daycare (dagtilbud) unless the profile says otherwise (`cadence_weeks`).
        A session on a closed day is flagged with the next working day proposed (CAL-5)."""
        if kind not in KV_CADENCE_WEEKS:
            raise InvalidInput(f"KV kind {kind!r} is not one of: school, daycare", rule_id="CAL-4")
        weeks = KV_CADENCE_WEEKS[kind] if cadence_weeks is None else cadence_weeks
        return self.schedule(start, count, weeks, rule_id="CAL-4")

    # CAL-8 ------------------------------------------------------------------------------------

    def early_years_consultants_available(self, at: dt.datetime) -> bool:
        """CAL-8: early-years consultants (småbørnskonsulenter) answer 08:00–15:00 local time on
        working days ("dagligt" read as every working day); 08:00 is open, 15:00 is closed."""
        local = to_local(at, self.tz)
        return (
            self.is_working_day(local.date())
            and EARLY_YEARS_OPENS <= local.time() < EARLY_YEARS_CLOSES
        )


@lru_cache(maxsize=256)
def _shared_calendar(closed_month_days: frozenset[tuple[int, int]], timezone: str) -> WorkingCalendar:
    return WorkingCalendar(closed_month_days=closed_month_days, timezone=timezone)


# --- CAL-6 / CAL-7: calendar months ----------------------------------------------------------------

def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar-month arithmetic with month-end clamping: 31 Aug + 6 → 28/29 Feb (CAL-6)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:  # one line at the CLI ("out of range"), like every other date
        raise OverflowError(f"{d.isoformat()} + {months} months is past {dt.MAXYEAR}-12-31")
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(d.day, last))


def review_due(start: dt.date, months: int = REVIEW_MONTHS) -> dt.date:
    """CAL-6: partners reassess a level-4 specialised effort *at least every half year* [003]:
    due `months` calendar months after `start`, month-end clamped (31 Aug 2026 → 28 Feb 2027,
    31 Aug 2027 → 29 Feb 2028). The date is not moved off a closed day; see the module docstring."""
    if months < 1:
        raise InvalidInput(f"review months must be at least 1, got {months}", rule_id="CAL-6")
    return add_months(start, months)


def investigation_deadline(aware_on: dt.date, months: int = INVESTIGATION_MONTHS) -> dt.date:
    """CAL-7: a child-welfare investigation (børnefaglig undersøgelse, Barnets Lov §20) is done at
    most `months` (4) calendar months after the municipality became aware (`aware_on`), month-end
    clamped. Mapping (afdækning, §19) has no deadline, so it has no function here."""
    if months < 1:
        raise InvalidInput(f"investigation months must be at least 1, got {months}", rule_id="CAL-7")
    return add_months(aware_on, months)


# --- CAL-9: local time -----------------------------------------------------------------------------

def local_datetime(d: dt.date, t: dt.time, tz: ZoneInfo = COPENHAGEN) -> dt.datetime:
    """CAL-9: the aware instant of wall-clock time `t` on day `d` in Copenhagen.

    Across the summer-time switches: a time that does not exist (29 Mar 2026 02:30) moves forward
    by the gap (→ 03:30+02:00); a time that happens twice (25 Oct 2026 02:30) is its first
    occurrence (+02:00). So a daily schedule runs exactly once on both days.
    """
    if t.tzinfo is not None:
        raise InvalidInput(f"wall-clock time {t.isoformat()} must not carry a timezone", rule_id="CAL-9")
    naive = dt.datetime.combine(d, t.replace(fold=0))
    # Through UTC and back: normalises a non-existent time to the real instant's wall clock.
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)


def to_local(at: dt.datetime, tz: ZoneInfo = COPENHAGEN) -> dt.datetime:
    """CAL-9: an aware instant as Copenhagen wall-clock time; a naive datetime is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"naive datetime {at.isoformat()}: pprflow needs timezone-aware times", rule_id="CAL-9")
    return at.astimezone(tz)


def local_today(now: dt.datetime | None = None, tz: ZoneInfo = COPENHAGEN) -> dt.date:
    """CAL-9: today's date in Copenhagen (at 23:30 UTC on 31 Dec it is already 1 Jan there)."""
    return to_local(now if now is not None else dt.datetime.now(dt.UTC), tz).date()


# --- helpers --------------------------------------------------------------------------------------

def _non_negative(value: int, name: str, rule_id: str) -> None:
    if value < 0:
        raise InvalidInput(f"{name} must be 0 or more, got {value}", rule_id=rule_id)


def _weekday_number(weekday: int | str) -> int:
    if isinstance(weekday, int) and 0 <= weekday <= 6:
        return weekday
    if isinstance(weekday, str) and weekday.lower() in _WEEKDAYS:
        return _WEEKDAYS.index(weekday.lower())
    raise InvalidInput(f"weekday {weekday!r} is not 0-6 or a name such as 'thursday'", rule_id="CAL-5")
