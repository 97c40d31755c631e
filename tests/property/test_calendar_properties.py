"""Properties of the working calendar (CAL-1 … CAL-5, LAW-2) over many dates, with named strategies."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pprflow.models.calendar import WorkingCalendar
from pprflow.profiles import load_profile

# --- named strategies ------------------------------------------------------------------------------

CALENDARS = {name: WorkingCalendar.for_profile(load_profile(name)) for name in ("vejle", "randers")}
CALENDARS["public-holidays-only"] = WorkingCalendar()

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
"""A shipped profile's calendar, or one with public holidays only (CAL-1)."""

any_dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))
"""Any day, closed or not: meeting dates, sending dates, KV dates."""

christmas_to_easter = st.dates(min_value=dt.date(2026, 12, 15), max_value=dt.date(2027, 4, 10))
"""The dense-holiday stretch where bugs hide: Christmas, New Year, Easter 2027."""

days = st.one_of(any_dates, christmas_to_easter)

working_day_counts = st.integers(min_value=0, max_value=40)
"""n in `add_working_days(d, ±n)` and deadline lengths from a profile."""

calendar_day_counts = st.integers(min_value=0, max_value=30)
"""Notice in calendar days (CAL-3)."""


@st.composite
def working_days_in(draw: st.DrawFn, calendar: WorkingCalendar) -> dt.date:
    """A day that is a working day in `calendar` (the start for a round trip)."""
    return calendar.next_working_day(draw(days))


# --- properties ------------------------------------------------------------------------------------

@given(calendar=calendars, d=days, n=working_day_counts, notice=calendar_day_counts)
def test_cal2_cal3_law2_a_deadline_never_lands_on_a_closed_day(
    calendar: WorkingCalendar, d: dt.date, n: int, notice: int
) -> None:
    assert calendar.is_working_day(calendar.agenda_deadline(d, n))
    assert calendar.is_working_day(calendar.kv_notice_deadline(d, notice))
    assert calendar.is_working_day(calendar.acknowledgement_due(d, n))


@given(calendar=calendars, d=days, notice=calendar_day_counts)
def test_cal3_kv_notice_is_at_least_the_notice_days(calendar: WorkingCalendar, d: dt.date, notice: int) -> None:
    assert (d - calendar.kv_notice_deadline(d, notice)).days >= notice


@given(data=st.data(), calendar=calendars, n=working_day_counts)
def test_cal1_n_working_days_forward_then_back_returns_the_start(
    data: st.DataObject, calendar: WorkingCalendar, n: int
) -> None:
    start = data.draw(working_days_in(calendar), label="start")
    assert calendar.add_working_days(calendar.add_working_days(start, n), -n) == start
    assert calendar.add_working_days(calendar.add_working_days(start, -n), n) == start


@given(calendar=calendars, d=days, n=st.integers(min_value=-40, max_value=40))
def test_cal1_add_working_days_result_is_always_a_working_day(calendar: WorkingCalendar, d: dt.date, n: int) -> None:
    result = calendar.add_working_days(d, n)
    assert calendar.is_working_day(result)
    if n > 0:
        assert result > d
    elif n < 0:
        assert result < d


@given(calendar=calendars, d=days, n=st.integers(min_value=1, max_value=40))
def test_cal1_add_working_days_skips_exactly_n_working_days(calendar: WorkingCalendar, d: dt.date, n: int) -> None:
    result = calendar.add_working_days(d, n)
    assert len(list(calendar.working_days(d + dt.timedelta(days=1), result))) == n


@given(calendar=calendars, first=days, later_by=st.integers(min_value=1, max_value=60), n=working_day_counts)
def test_cal2_a_later_meeting_never_has_an_earlier_agenda_deadline(
    calendar: WorkingCalendar, first: dt.date, later_by: int, n: int
) -> None:
    later = first + dt.timedelta(days=later_by)
    assert calendar.agenda_deadline(later, n) >= calendar.agenda_deadline(first, n)
    assert calendar.agenda_deadline(first, n) <= first


@given(calendar=calendars, d=days)
def test_cal1_next_and_previous_working_day_bracket_the_day(calendar: WorkingCalendar, d: dt.date) -> None:
    before, after = calendar.previous_working_day(d), calendar.next_working_day(d)
    assert before <= d <= after
    assert calendar.is_working_day(before) and calendar.is_working_day(after)
    assert (before == d == after) is calendar.is_working_day(d)


@settings(max_examples=50)
@given(
    calendar=calendars,
    start=days,
    count=st.integers(min_value=0, max_value=12),
    weekday=st.integers(min_value=0, max_value=4),
    weeks=st.integers(min_value=1, max_value=6),
)
def test_cal5_a_scheduled_meeting_is_never_silently_held_on_a_closed_day(
    calendar: WorkingCalendar, start: dt.date, count: int, weekday: int, weeks: int
) -> None:
    meetings = calendar.district_meetings(start, count, weekday, weeks)
    assert len(meetings) == count
    for i, meeting in enumerate(meetings):
        assert meeting.date.weekday() == weekday
        assert meeting.date == meetings[0].date + dt.timedelta(weeks=weeks * i)
        assert meeting.closed is calendar.is_closed_day(meeting.date)
        assert calendar.is_working_day(meeting.effective)
        assert (meeting.proposed is None) is not meeting.closed
