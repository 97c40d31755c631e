"""models/rules_kv.py and models/rules_ppr.py, exactly (issue 15: `scripts/mutation.sh rules`): each refusal's
rule ID and whole line, and the boundaries of the KV and district-meeting calendars (KV-1, KV-2, CAL-3, CAL-4,
CAL-5, PATH-4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, PprflowError, RuleViolation
from pprflow.models.rules_kv import (
    KVTopicIn,
    Participant,
    check_topic_in_time,
    check_topic_text,
    kv_participants,
    next_session_dates,
    notice_reminder_day,
    parse_kv_topic,
    participants_context,
    speech_therapist_takes_part,
    topic_list_day,
)
from pprflow.models.rules_ppr import (
    MAX_MEETINGS_PER_CALL,
    PlannedMeeting,
    case_list_day,
    check_assignable,
    plan_district_meetings,
    startup_meeting_due,
)

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))
D = dt.date


def refusal(call: Any) -> tuple[type, str | None, str]:
    with pytest.raises(PprflowError) as caught:
        call()
    return type(caught.value), caught.value.rule_id, caught.value.message


def test_a_kv_topic_is_anonymous_KV_1_PRIV_2() -> None:
    topic = {"institution": " Skovbakkeskolen ", "session_date": "2026-12-01", "text": " Uro i garderoben "}
    assert parse_kv_topic(topic) == KVTopicIn(institution="Skovbakkeskolen", session_date=D(2026, 12, 1),
                                              text="Uro i garderoben")
    assert refusal(lambda: parse_kv_topic({**topic, "child": "Emil", "age": 3})) == (
        RuleViolation, "KV-1", "KV topics are anonymous and carry no child identity: remove age, child")
    assert refusal(lambda: parse_kv_topic({**topic, "institution": ""})) == (
        InvalidInput, None, "kv topic: institution: must not be empty")
    assert refusal(lambda: check_topic_text("Barnet 010203-1234 larmer")) == (
        RuleViolation, "KV-1", "KV topics are anonymous and hold no CPR number (PRIV-2): remove the CPR number and "
                               "anything that identifies a child")
    check_topic_text("Uro i garderoben")


def test_a_topic_after_the_notice_deadline_or_the_list_is_refused_pointing_to_the_next_session_CAL_3() -> None:
    head = "too late for KV on 2026-12-01: topics must reach PPR by 2026-11-23 (at least 5 days' notice)"
    assert refusal(lambda: check_topic_in_time(today=D(2026, 11, 24), session_date=D(2026, 12, 1),
                                               notice_deadline=D(2026, 11, 23), list_sent=False,
                                               next_session=D(2026, 12, 15))) == (
        RuleViolation, "CAL-3", head + "; submit it for the next session on 2026-12-15")
    assert refusal(lambda: check_topic_in_time(today=D(2026, 11, 23), session_date=D(2026, 12, 1),
                                               notice_deadline=D(2026, 11, 23), list_sent=True,
                                               next_session=None)) == (
        RuleViolation, "CAL-3", head + "; ask the pedagogical leader to schedule the next session")
    check_topic_in_time(today=D(2026, 11, 23), session_date=D(2026, 12, 1), notice_deadline=D(2026, 11, 23),
                               list_sent=False, next_session=None)


def test_kv_dates_keep_the_rhythm_and_fall_on_working_days_CAL_3_CAL_4() -> None:
    assert next_session_dates(anchor=D(2026, 1, 5), last=D(2026, 1, 19), cadence_weeks=2, until=D(2026, 2, 16)) == [
        D(2026, 2, 2), D(2026, 2, 16)]
    assert next_session_dates(anchor=D(2026, 1, 5), last=D(2026, 1, 20), cadence_weeks=2, until=D(2026, 2, 15)) == [
        D(2026, 2, 2)]
    assert next_session_dates(anchor=D(2026, 1, 5), last=D(2025, 12, 1), cadence_weeks=1, until=D(2026, 1, 19)) == [
        D(2026, 1, 12), D(2026, 1, 19)]
    assert next_session_dates(anchor=D(2026, 1, 5), last=D(2026, 1, 5), cadence_weeks=1, until=D(2026, 1, 11)) == []
    assert refusal(lambda: next_session_dates(anchor=D(2026, 1, 5), last=D(2026, 1, 5), cadence_weeks=0,
                                              until=D(2026, 1, 19))) == (
        InvalidInput, "CAL-4", "cadence_weeks must be at least 1, got 0")
    assert notice_reminder_day(CAL, D(2026, 11, 30), 2) == D(2026, 11, 27)  # Saturday 28th: the Friday before
    assert notice_reminder_day(CAL, D(2026, 11, 30), 0) == D(2026, 11, 30)
    assert refusal(lambda: notice_reminder_day(CAL, D(2026, 11, 30), -1)) == (
        InvalidInput, "CAL-3", "reminder_days_before_notice must be 0 or more, got -1")
    assert topic_list_day(CAL, D(2026, 11, 27)) == D(2026, 11, 30)  # Friday's deadline: the list goes on Monday
    assert topic_list_day(CAL, D(2026, 11, 24)) == D(2026, 11, 25)


def test_who_takes_part_in_kv_KV_2() -> None:
    assert [speech_therapist_takes_part("daycare", D(2026, 12, d), 2) for d in (1, 14, 15, 31)] == [True] * 4
    assert [speech_therapist_takes_part("school", D(2026, 12, d), 2) for d in (1, 14, 15, 31)] == [
        True, True, False, False]
    assert [speech_therapist_takes_part("school", D(2026, 12, d), 4) for d in (28, 29)] == [True, False]
    leader = Participant("pedagogical_leader", "Pædagogisk leder")
    ppr = Participant("ppr_psychologist|ppr_consultant|sup", "Psykolog, konsulent eller SUP")
    speech = Participant("speech_therapist", "Logopæd")
    assert kv_participants("school", D(2026, 12, 15), 2) == [leader, ppr]
    assert kv_participants("school", D(2026, 12, 14), 2) == [leader, ppr, speech]
    assert kv_participants("daycare", D(2026, 12, 15), 2) == [leader, ppr, speech]
    assert participants_context([leader, ppr, speech], leader_name="Lene Holm") == [
        {"name": "Lene Holm", "role": "Pædagogisk leder – samler deltagerne fra huset"},
        {"name": "Psykolog, konsulent eller SUP", "role": "PPR – deltager altid"},
        {"name": "Logopæd", "role": "PPR"}]
    assert participants_context([leader], leader_name=None) == [
        {"name": "Pædagogisk leder", "role": "Pædagogisk leder – samler deltagerne fra huset"}]


def test_district_meetings_move_off_closed_days_and_only_open_ppr_cases_are_assigned_CAL_5_PATH_4() -> None:
    assert MAX_MEETINGS_PER_CALL == 52
    for count in (0, 53):
        assert refusal(lambda c=count: plan_district_meetings(CAL, start=D(2026, 12, 1), count=c, weekday="thursday",
                                                              cadence_weeks=2)) == (
            InvalidInput, "CAL-5", f"count must be 1 to 52, got {count}")
    plan = plan_district_meetings(CAL, start=D(2026, 12, 10), count=2, weekday="thursday", cadence_weeks=2)
    assert plan == [PlannedMeeting(D(2026, 12, 10), D(2026, 12, 10)), PlannedMeeting(D(2026, 12, 24), D(2026, 12, 28))]
    assert [p.moved for p in plan] == [False, True]
    weekly = plan_district_meetings(CAL, start=D(2026, 12, 10), count=3, weekday="thursday", cadence_weeks=1)
    assert [p.held_on for p in weekly] == [D(2026, 12, 10), D(2026, 12, 17), D(2026, 12, 28)]  # the profile's cadence
    assert len(plan_district_meetings(CAL, start=D(2026, 1, 1), count=1, weekday="thursday", cadence_weeks=2)) == 1
    assert len(plan_district_meetings(CAL, start=D(2026, 1, 1), count=52, weekday="thursday", cadence_weeks=2)) == 52
    assert case_list_day(CAL, D(2026, 12, 28)) == D(2026, 12, 23)
    assert startup_meeting_due(CAL, D(2026, 12, 23), 1) == D(2026, 12, 28)
    assert refusal(lambda: startup_meeting_due(CAL, D(2026, 12, 23), 0)) == (
        InvalidInput, "PATH-4", "startup_meeting_lead_working_days must be at least 1, got 0")
    assert refusal(lambda: check_assignable(pathway="social_adviser", status="open", case_id=4)) == (
        RuleViolation, "PATH-4", "case 4 is on the social_adviser pathway: only requests to PPR are distributed at the "
                                 "district meeting")
    assert refusal(lambda: check_assignable(pathway="ppv", status="closed", case_id=4)) == (
        RuleViolation, "PATH-4", "case 4 is closed: only an open case can be assigned")
    check_assignable(pathway="ppv", status="open", case_id=4)
