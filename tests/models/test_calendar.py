"""Worked examples for the working-day calendar and deadline rules: CAL-1 … CAL-9 and LAW-2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pprflow.models.calendar import (
    COPENHAGEN,
    KV_CADENCE_WEEKS,
    ScheduledDate,
    WorkingCalendar,
    danish_public_holidays,
    investigation_deadline,
    local_datetime,
    local_today,
    review_due,
    to_local,
)
from pprflow.models.errors import InvalidInput
from pprflow.profiles import load_profile

D = dt.date
PROFILES = ["vejle", "randers"]


@pytest.fixture(params=PROFILES)
def cal(request: pytest.FixtureRequest) -> WorkingCalendar:
    """The working calendar of each shipped profile (both close 24 Dec, 31 Dec and 5 June)."""
    return WorkingCalendar.for_profile(load_profile(request.param))


@contextmanager
def raises_rule(rule_id: str) -> Iterator[None]:
    """Expect an InvalidInput that names `rule_id` in its one-line message."""
    with pytest.raises(InvalidInput) as caught:
        yield
    assert caught.value.rule_id == rule_id
    assert caught.value.one_line().endswith(f"({rule_id})")


BARE = WorkingCalendar()  # public holidays only: no profile closed days


# --- CAL-1 -----------------------------------------------------------------------------------------

def test_cal1_public_holidays_2026_are_exactly_the_danish_helligdage() -> None:
    assert danish_public_holidays(2026) == {
        D(2026, 1, 1), D(2026, 4, 2), D(2026, 4, 3), D(2026, 4, 5), D(2026, 4, 6),
        D(2026, 5, 14), D(2026, 5, 24), D(2026, 5, 25), D(2026, 12, 25), D(2026, 12, 26),
    }


def test_cal1_holidays_package_optional_days_are_not_public_holidays() -> None:
    """1 May, 5 June, 24 Dec and 31 Dec are the package's OPTIONAL category; only a profile closes them."""
    for d in (D(2026, 5, 1), D(2026, 6, 5), D(2026, 12, 24), D(2026, 12, 31)):
        assert d not in danish_public_holidays(2026)
        assert BARE.is_working_day(d)


def test_cal1_holiday_sets_are_cached_per_year() -> None:
    assert danish_public_holidays(2027) is danish_public_holidays(2027)
    assert BARE.closed_dates(2027) is BARE.closed_dates(2027)


@pytest.mark.parametrize("d", [D(2024, 4, 26), D(2025, 5, 16), D(2027, 4, 23), D(2028, 5, 12)])
def test_cal1_store_bededag_is_a_working_day_from_2024(cal: WorkingCalendar, d: dt.date) -> None:
    assert d.weekday() == 4
    assert cal.is_working_day(d)


def test_cal1_store_bededag_was_closed_up_to_2023(cal: WorkingCalendar) -> None:
    assert cal.is_closed_day(D(2023, 5, 5))


@pytest.mark.parametrize("d", [
    D(2026, 4, 2), D(2026, 4, 3), D(2026, 4, 6),      # Easter 2026: Maundy Thursday, Good Friday, Easter Monday
    D(2027, 3, 25), D(2027, 3, 26), D(2027, 3, 29),   # Easter 2027
    D(2026, 5, 14), D(2027, 5, 6),                    # Ascension Day
    D(2026, 5, 25), D(2027, 5, 17),                   # Whit Monday
    D(2026, 12, 25), D(2026, 12, 26), D(2027, 1, 1),   # Christmas and New Year
])
def test_cal1_public_holidays_are_closed(cal: WorkingCalendar, d: dt.date) -> None:
    assert cal.is_closed_day(d)
    assert not cal.is_working_day(d)


@pytest.mark.parametrize("d", [D(2026, 12, 24), D(2026, 12, 31), D(2026, 6, 5), D(2027, 12, 31)])
def test_cal1_profile_closed_days_christmas_eve_new_years_eve_constitution_day(
    cal: WorkingCalendar, d: dt.date
) -> None:
    assert cal.is_closed_day(d)
    assert BARE.is_working_day(d)


@pytest.mark.parametrize("d", [D(2026, 4, 1), D(2026, 4, 7), D(2026, 5, 1), D(2026, 5, 15), D(2026, 12, 30)])
def test_cal1_ordinary_weekdays_around_holidays_are_working_days(cal: WorkingCalendar, d: dt.date) -> None:
    assert cal.is_working_day(d)


def test_cal1_weekends_are_closed(cal: WorkingCalendar) -> None:
    assert cal.is_closed_day(D(2026, 1, 10)) and cal.is_closed_day(D(2026, 1, 11))


def test_cal1_for_profile_reads_closed_days_and_timezone() -> None:
    profile = load_profile("vejle")
    cal = WorkingCalendar.for_profile(profile)
    assert cal.closed_month_days == {(12, 24), (12, 31), (6, 5)}
    assert cal.tz == COPENHAGEN


def test_cal1_a_29_february_closed_day_only_closes_leap_years() -> None:
    cal = WorkingCalendar(closed_month_days=frozenset({(2, 29)}))
    assert cal.is_closed_day(D(2028, 2, 29))
    assert cal.is_working_day(D(2027, 3, 1))


def test_cal1_unknown_timezone_is_refused() -> None:
    with raises_rule("CAL-9"):
        WorkingCalendar(timezone="Europe/Atlantis")


def test_cal1_next_and_previous_working_day_over_christmas(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(D(2026, 12, 24)) == D(2026, 12, 28)
    assert cal.previous_working_day(D(2027, 1, 1)) == D(2026, 12, 30)
    assert cal.next_working_day(D(2026, 12, 23)) == D(2026, 12, 23)
    assert cal.previous_working_day(D(2026, 12, 23)) == D(2026, 12, 23)


def test_cal1_add_working_days_does_not_count_the_start_day(cal: WorkingCalendar) -> None:
    saturday = D(2026, 1, 10)
    assert cal.add_working_days(saturday, 1) == D(2026, 1, 12)
    assert cal.add_working_days(saturday, -1) == D(2026, 1, 9)
    assert cal.add_working_days(D(2026, 1, 12), 1) == D(2026, 1, 13)


def test_cal1_add_zero_working_days_rolls_a_closed_day_forward(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 1, 11), 0) == D(2026, 1, 12)
    assert cal.add_working_days(D(2026, 1, 13), 0) == D(2026, 1, 13)


def test_cal1_add_working_days_over_easter_2027(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2027, 3, 24), 1) == D(2027, 3, 30)
    assert cal.add_working_days(D(2027, 3, 30), -1) == D(2027, 3, 24)


def test_cal1_working_days_lists_the_inclusive_range(cal: WorkingCalendar) -> None:
    assert list(cal.working_days(D(2026, 4, 1), D(2026, 4, 8))) == [D(2026, 4, 1), D(2026, 4, 7), D(2026, 4, 8)]


# --- CAL-2 -----------------------------------------------------------------------------------------

def test_cal2_agenda_due_five_working_days_before_a_thursday_meeting_is_the_thursday_before(
    cal: WorkingCalendar,
) -> None:
    assert cal.agenda_deadline(D(2026, 1, 15)) == D(2026, 1, 8)


def test_cal2_agenda_due_five_working_days_before_meeting_over_easter(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2026, 4, 9)) == D(2026, 3, 30)
    assert cal.agenda_deadline(D(2027, 4, 1)) == D(2027, 3, 22)


def test_cal2_agenda_due_over_ascension_and_whitsun(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2026, 5, 19)) == D(2026, 5, 11)
    assert cal.agenda_deadline(D(2026, 5, 28)) == D(2026, 5, 20)


def test_cal2_agenda_due_over_christmas_and_new_year(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2027, 1, 4)) == D(2026, 12, 22)


def test_cal2_agenda_due_over_constitution_day_depends_on_the_profile(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2026, 6, 11)) == D(2026, 6, 3)
    assert BARE.agenda_deadline(D(2026, 6, 11)) == D(2026, 6, 4)


def test_cal2_agenda_due_for_a_saturday_meeting_counts_back_from_friday(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2026, 1, 17)) == D(2026, 1, 12)


def test_cal2_agenda_working_days_come_from_the_profile(cal: WorkingCalendar) -> None:
    assert cal.agenda_deadline(D(2026, 1, 15), 3) == D(2026, 1, 12)
    assert cal.agenda_deadline(D(2026, 1, 17), 0) == D(2026, 1, 16)
    with raises_rule("CAL-2"):
        cal.agenda_deadline(D(2026, 1, 15), -1)


# --- CAL-3 -----------------------------------------------------------------------------------------

def test_cal3_kv_notice_is_five_calendar_days_before(cal: WorkingCalendar) -> None:
    assert cal.kv_notice_deadline(D(2026, 1, 14)) == D(2026, 1, 9)


def test_cal3_kv_notice_on_a_weekend_moves_earlier_to_friday(cal: WorkingCalendar) -> None:
    assert cal.kv_notice_deadline(D(2026, 1, 15)) == D(2026, 1, 9)


def test_cal3_kv_notice_on_good_friday_moves_earlier(cal: WorkingCalendar) -> None:
    assert cal.kv_notice_deadline(D(2026, 4, 8)) == D(2026, 4, 1)


def test_cal3_kv_notice_on_constitution_day_moves_earlier_only_where_the_profile_closes_it(
    cal: WorkingCalendar,
) -> None:
    assert cal.kv_notice_deadline(D(2026, 6, 10)) == D(2026, 6, 4)
    assert BARE.kv_notice_deadline(D(2026, 6, 10)) == D(2026, 6, 5)


# --- CAL-4 / CAL-5 ---------------------------------------------------------------------------------

def test_cal4_kv_cadence_constants_match_the_seed() -> None:
    assert KV_CADENCE_WEEKS == {"school": 2, "daycare": 6}


def test_cal4_school_kv_every_two_weeks(cal: WorkingCalendar) -> None:
    sessions = cal.kv_sessions("school", D(2026, 1, 6), 3)
    assert [s.date for s in sessions] == [D(2026, 1, 6), D(2026, 1, 20), D(2026, 2, 3)]
    assert not any(s.closed for s in sessions)


def test_cal4_daycare_kv_every_six_weeks_flags_christmas_eve(cal: WorkingCalendar) -> None:
    sessions = cal.kv_sessions("daycare", D(2026, 11, 12), 3)
    assert sessions == [
        ScheduledDate(D(2026, 11, 12)),
        ScheduledDate(D(2026, 12, 24), closed=True, proposed=D(2026, 12, 28)),
        ScheduledDate(D(2027, 2, 4)),
    ]
    assert str(sessions[1]) == "2026-12-24 closed -> 2026-12-28"
    assert sessions[1].effective == D(2026, 12, 28)


def test_cal4_unknown_kv_kind_is_refused(cal: WorkingCalendar) -> None:
    with raises_rule("CAL-4"):
        cal.kv_sessions("gymnasium", D(2026, 1, 6), 3)


def test_cal5_district_meetings_every_two_weeks_flag_new_years_eve() -> None:
    vejle = load_profile("vejle")
    cal = WorkingCalendar.for_profile(vejle)
    meetings = cal.district_meetings(
        D(2026, 12, 1), 4, vejle.district_meeting.weekday, vejle.district_meeting.cadence_weeks
    )
    assert [str(m) for m in meetings] == ["2026-12-03", "2026-12-17", "2026-12-31 closed -> 2027-01-04", "2027-01-14"]


def test_cal5_district_meetings_on_randers_tuesdays_start_on_the_start_day() -> None:
    randers = load_profile("randers")
    cal = WorkingCalendar.for_profile(randers)
    meetings = cal.district_meetings(D(2026, 3, 31), 3, randers.district_meeting.weekday, 2)
    assert meetings == [
        ScheduledDate(D(2026, 3, 31)), ScheduledDate(D(2026, 4, 14)), ScheduledDate(D(2026, 4, 28)),
    ]


def test_cal5_a_meeting_on_a_holiday_is_never_held_there(cal: WorkingCalendar) -> None:
    meetings = cal.district_meetings(D(2026, 5, 14), 1, 3, 2)  # Ascension Day
    assert meetings == [ScheduledDate(D(2026, 5, 14), closed=True, proposed=D(2026, 5, 15))]


def test_cal5_bad_schedule_input_is_refused(cal: WorkingCalendar) -> None:
    with raises_rule("CAL-5"):
        cal.district_meetings(D(2026, 1, 1), 3, "someday")
    with raises_rule("CAL-5"):
        cal.district_meetings(D(2026, 1, 1), 3, "thursday", 0)


# --- CAL-6 / CAL-7 ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "due"), [
    (D(2026, 8, 31), D(2027, 2, 28)),
    (D(2027, 8, 31), D(2028, 2, 29)),
    (D(2026, 3, 15), D(2026, 9, 15)),
    (D(2026, 12, 31), D(2027, 6, 30)),
    (D(2028, 2, 29), D(2028, 8, 29)),
])
def test_cal6_review_due_half_a_year_later_month_end_clamped(start: dt.date, due: dt.date) -> None:
    assert review_due(start) == due


def test_cal6_review_months_come_from_the_profile() -> None:
    assert review_due(D(2026, 8, 31), load_profile("randers").review.months) == D(2027, 2, 28)
    assert review_due(D(2026, 1, 31), 1) == D(2026, 2, 28)
    with raises_rule("CAL-6"):
        review_due(D(2026, 1, 31), 0)


@pytest.mark.parametrize(("aware_on", "due"), [
    (D(2026, 1, 15), D(2026, 5, 15)),
    (D(2026, 10, 31), D(2027, 2, 28)),
    (D(2027, 10, 31), D(2028, 2, 29)),
    (D(2026, 11, 30), D(2027, 3, 30)),
])
def test_cal7_investigation_takes_at_most_four_months(aware_on: dt.date, due: dt.date) -> None:
    assert investigation_deadline(aware_on) == due


# --- CAL-8 -----------------------------------------------------------------------------------------

def _cph(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=COPENHAGEN)  # type: ignore[misc]


@pytest.mark.parametrize(("at", "open_"), [
    (_cph(2026, 4, 9, 8, 0), True),
    (_cph(2026, 4, 9, 7, 59), False),
    (_cph(2026, 4, 9, 14, 59), True),
    (_cph(2026, 4, 9, 15, 0), False),
    (_cph(2026, 4, 3, 10, 0), False),                       # Good Friday
    (_cph(2026, 1, 10, 10, 0), False),                      # Saturday
    (_cph(2026, 12, 24, 10, 0), False),                     # profile closed day
    (dt.datetime(2026, 6, 1, 6, 30, tzinfo=dt.UTC), True),  # 08:30 summer time
    (dt.datetime(2026, 1, 5, 6, 30, tzinfo=dt.UTC), False), # 07:30 winter time
    (dt.datetime(2026, 1, 5, 7, 30, tzinfo=dt.UTC), True),  # 08:30 winter time
])
def test_cal8_early_years_consultants_answer_0800_to_1500_on_working_days(
    cal: WorkingCalendar, at: dt.datetime, open_: bool
) -> None:
    assert cal.early_years_consultants_available(at) is open_


def test_cal8_naive_datetime_is_refused(cal: WorkingCalendar) -> None:
    with raises_rule("CAL-9"):
        cal.early_years_consultants_available(dt.datetime(2026, 4, 9, 9, 0))


# --- CAL-9 -----------------------------------------------------------------------------------------

def test_cal9_local_datetime_on_a_normal_day() -> None:
    assert local_datetime(D(2026, 3, 28), dt.time(9)).utcoffset() == dt.timedelta(hours=1)
    assert local_datetime(D(2026, 3, 29), dt.time(9)).utcoffset() == dt.timedelta(hours=2)


def test_cal9_spring_forward_29_march_2026_missing_time_moves_forward() -> None:
    at = local_datetime(D(2026, 3, 29), dt.time(2, 30))
    assert (at.hour, at.minute, at.utcoffset()) == (3, 30, dt.timedelta(hours=2))
    assert at.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)


def test_cal9_fall_back_25_october_2026_repeated_time_is_its_first_occurrence() -> None:
    at = local_datetime(D(2026, 10, 25), dt.time(2, 30))
    assert at.utcoffset() == dt.timedelta(hours=2)
    assert at.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert local_datetime(D(2026, 10, 25), dt.time(9)).utcoffset() == dt.timedelta(hours=1)


@pytest.mark.parametrize("wall", [dt.time(2, 30), dt.time(9, 0)])
@pytest.mark.parametrize("around", [D(2026, 3, 29), D(2026, 10, 25)])
def test_cal9_a_daily_run_is_neither_lost_nor_doubled_across_the_switch(wall: dt.time, around: dt.date) -> None:
    runs = [local_datetime(around + dt.timedelta(days=i), wall) for i in range(-2, 3)]
    instants = [r.astimezone(dt.UTC) for r in runs]
    assert len(set(instants)) == 5
    assert instants == sorted(instants)
    assert [r.date() for r in runs] == [around + dt.timedelta(days=i) for i in range(-2, 3)]


def test_cal9_to_local_and_local_today() -> None:
    new_year = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert to_local(new_year).isoformat() == "2027-01-01T00:30:00+01:00"
    assert local_today(new_year) == D(2027, 1, 1)
    assert isinstance(local_today(), dt.date)
    with raises_rule("CAL-9"):
        to_local(dt.datetime(2026, 1, 1, 12, 0))
    with raises_rule("CAL-9"):
        local_datetime(D(2026, 1, 1), dt.time(9, tzinfo=dt.UTC))


# --- LAW-2 -----------------------------------------------------------------------------------------

def test_law2_acknowledgement_due_six_working_days_after_sending(cal: WorkingCalendar) -> None:
    assert cal.acknowledgement_due(D(2026, 1, 5)) == D(2026, 1, 13)


def test_law2_acknowledgement_over_easter_2026(cal: WorkingCalendar) -> None:
    assert cal.acknowledgement_due(D(2026, 4, 1)) == D(2026, 4, 14)


def test_law2_acknowledgement_for_a_saturday_notification_counts_monday_as_day_one(cal: WorkingCalendar) -> None:
    assert cal.acknowledgement_due(D(2026, 1, 10)) == D(2026, 1, 19)


def test_law2_acknowledgement_working_days_come_from_the_profile() -> None:
    profile = load_profile("vejle")
    cal = WorkingCalendar.for_profile(profile)
    assert cal.acknowledgement_due(D(2026, 1, 5), profile.notification.acknowledgement_working_days) == D(2026, 1, 13)


def test_cal1_profiles_with_the_same_settings_share_one_calendar_and_its_cache() -> None:
    vejle = WorkingCalendar.for_profile(load_profile("vejle"))
    assert WorkingCalendar.for_profile(load_profile("vejle")) is vejle
    assert WorkingCalendar.for_profile(load_profile("randers")) == vejle  # same closed days, same zone
