"""District meetings (CAL-5, PATH-4) and the KV cycle (CAL-3, CAL-4, KV-1, KV-2): the pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_kv import (
    KVTopicIn,
    check_topic_in_time,
    check_topic_text,
    kv_participants,
    next_session_dates,
    notice_reminder_day,
    parse_kv_topic,
    topic_list_day,
)
from pprflow.models.rules_ppr import case_list_day, check_assignable, plan_district_meetings, startup_meeting_due

D = dt.date


@pytest.fixture
def calendar(vejle) -> WorkingCalendar:  # type: ignore[no-untyped-def]
    return WorkingCalendar.for_profile(vejle)


def test_district_meetings_every_two_weeks_on_the_profiles_weekday_CAL_5(calendar) -> None:
    plan = plan_district_meetings(calendar, start=D(2026, 9, 1), count=3, weekday="thursday", cadence_weeks=2)
    assert [p.held_on for p in plan] == [D(2026, 9, 3), D(2026, 9, 17), D(2026, 10, 1)]
    assert not any(p.moved for p in plan)


def test_district_meeting_on_a_holiday_is_moved_and_flagged_never_held_on_it_CAL_5(calendar) -> None:
    # Ascension Day (Kristi himmelfartsdag) is Thursday 14 May 2026; 24 Dec is a Vejle closed day.
    plan = plan_district_meetings(calendar, start=D(2026, 4, 30), count=2, weekday="thursday", cadence_weeks=2)
    assert plan[1].planned == D(2026, 5, 14)
    assert plan[1].held_on == D(2026, 5, 15) and plan[1].moved
    christmas = plan_district_meetings(calendar, start=D(2026, 12, 24), count=1, weekday="thursday",
                                       cadence_weeks=2)[0]
    assert christmas.held_on == D(2026, 12, 28) and calendar.is_working_day(christmas.held_on)


def test_district_meeting_count_is_bounded_CAL_5(calendar) -> None:
    with pytest.raises(InvalidInput):
        plan_district_meetings(calendar, start=D(2026, 9, 1), count=0, weekday="thursday", cadence_weeks=2)


def test_case_list_goes_one_working_day_before_the_meeting_CAL_5(calendar) -> None:
    assert case_list_day(calendar, D(2026, 9, 3)) == D(2026, 9, 2)
    assert case_list_day(calendar, D(2026, 4, 7)) == D(2026, 4, 1)  # Tuesday after Easter: before Maundy Thursday


def test_startup_meeting_is_due_within_the_lead_working_days_PATH_4(calendar) -> None:
    assert startup_meeting_due(calendar, D(2026, 11, 26), 10) == D(2026, 12, 10)
    with pytest.raises(InvalidInput):
        startup_meeting_due(calendar, D(2026, 11, 26), 0)


def test_only_open_ppr_cases_are_distributed_PATH_4() -> None:
    check_assignable(pathway="ppr_individual", status="open", case_id=1)
    with pytest.raises(RuleViolation, match="PPR") as caught:
        check_assignable(pathway="intervention_team", status="open", case_id=1)
    assert caught.value.rule_id == "PATH-4"
    with pytest.raises(RuleViolation):
        check_assignable(pathway="ppv", status="closed", case_id=1)


# --- KV -------------------------------------------------------------------------------------------

def test_kv_cadence_school_two_weeks_daycare_six_CAL_4(calendar) -> None:
    school = calendar.kv_sessions("school", D(2026, 9, 1), 3, 2)
    daycare = calendar.kv_sessions("daycare", D(2026, 9, 1), 3, 6)
    assert [s.date for s in school] == [D(2026, 9, 1), D(2026, 9, 15), D(2026, 9, 29)]
    assert [s.date for s in daycare] == [D(2026, 9, 1), D(2026, 10, 13), D(2026, 11, 24)]


def test_kv_cycle_continues_the_rhythm_after_a_moved_session_CAL_4() -> None:
    dates = next_session_dates(anchor=D(2026, 9, 1), last=D(2026, 9, 16), cadence_weeks=2, until=D(2026, 10, 31))
    assert dates == [D(2026, 9, 29), D(2026, 10, 13), D(2026, 10, 27)]
    assert next_session_dates(anchor=D(2026, 9, 1), last=D(2026, 10, 27), cadence_weeks=2,
                              until=D(2026, 10, 31)) == []


def test_leader_is_reminded_before_the_five_day_notice_deadline_CAL_3(calendar) -> None:
    deadline = calendar.kv_notice_deadline(D(2026, 12, 1), 5)
    assert deadline == D(2026, 11, 26)
    assert notice_reminder_day(calendar, deadline, 2) == D(2026, 11, 24)
    assert topic_list_day(calendar, deadline) == D(2026, 11, 27)


def test_topic_list_after_a_friday_notice_deadline_goes_on_monday_CAL_10(calendar) -> None:
    """CAL-10: issue 17 saw 'planlagt 2026-12-05' (a Saturday) for the KV topic list."""
    deadline = calendar.kv_notice_deadline(D(2026, 12, 9), 5)
    assert deadline == D(2026, 12, 4)  # a Friday
    assert topic_list_day(calendar, deadline) == D(2026, 12, 7)


def test_a_topic_after_the_notice_deadline_is_refused_naming_CAL_3() -> None:
    check_topic_in_time(today=D(2026, 11, 26), session_date=D(2026, 12, 1), notice_deadline=D(2026, 11, 26),
                        list_sent=False, next_session=None)
    with pytest.raises(RuleViolation) as caught:
        check_topic_in_time(today=D(2026, 11, 27), session_date=D(2026, 12, 1), notice_deadline=D(2026, 11, 26),
                            list_sent=False, next_session=D(2026, 12, 15))
    assert caught.value.rule_id == "CAL-3"
    assert "2026-12-15" in caught.value.message
    with pytest.raises(RuleViolation):
        check_topic_in_time(today=D(2026, 11, 20), session_date=D(2026, 12, 1), notice_deadline=D(2026, 11, 26),
                            list_sent=True, next_session=None)


def test_kv_topic_has_no_child_field_at_all_KV_1() -> None:
    assert set(KVTopicIn.model_fields) == {"institution", "session_date", "text"}
    with pytest.raises(RuleViolation) as caught:
        parse_kv_topic({"institution": "X", "session_date": "2026-12-01", "text": "t",
                        "child": {"pseudonym": "A", "birth_year": 2020}})
    assert caught.value.rule_id == "KV-1"


def test_kv_topic_with_a_cpr_number_is_refused_KV_1() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_topic_text("Drengen med cpr 0101201234 forstyrrer")
    assert caught.value.rule_id == "KV-1"
    check_topic_text("Hvordan organiserer vi overgangene fra leg til samling?")


def test_psychologist_consultant_or_sup_always_takes_part_KV_2() -> None:
    for kind, date in (("school", D(2026, 9, 22)), ("daycare", D(2026, 9, 22))):
        roles = [p.role for p in kv_participants(kind, date, 2 if kind == "school" else 6)]
        assert "ppr_psychologist|ppr_consultant|sup" in roles
        assert "pedagogical_leader" in roles


def test_speech_therapist_at_daycare_always_and_at_school_at_intervals_KV_2() -> None:
    def speech(kind: str, date: dt.date, cadence: int) -> bool:
        return any(p.role == "speech_therapist" for p in kv_participants(kind, date, cadence))

    assert all(speech("daycare", D(2026, 9, 1) + dt.timedelta(weeks=6 * i), 6) for i in range(8))
    school = [D(2026, 9, 1) + dt.timedelta(weeks=2 * i) for i in range(26)]
    with_speech = [d for d in school if speech("school", d, 2)]
    assert 0 < len(with_speech) < len(school)
    assert sorted({(d.year, d.month) for d in with_speech}) == sorted({(d.year, d.month) for d in school})
    assert len(with_speech) == len({(d.year, d.month) for d in with_speech}), "once a month at a school"
