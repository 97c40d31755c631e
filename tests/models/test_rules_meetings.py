"""The meeting rules as pure functions: CAL-2, LVL-3, LVL-4, MEET-2, MEET-3, MEET-5, PATH-8."""

from __future__ import annotations

import datetime as dt

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_meetings import (
    FollowUpInput,
    agenda_dates,
    agenda_form,
    agenda_items,
    check_follow_ups,
    check_level3_consent,
    check_meeting_level,
    check_partner_consent,
    single_responsible,
    stored_kind,
)

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))


def test_agenda_due_five_working_days_before_meeting_over_easter_CAL_2() -> None:
    dates = agenda_dates(CAL, meeting_date=dt.date(2026, 4, 9), today=dt.date(2026, 3, 2), working_days=5,
                         reminder_working_days=3)
    assert dates.deadline == dt.date(2026, 3, 30)
    assert dates.remind_leader_on == dt.date(2026, 3, 25)


def test_agenda_due_the_thursday_before_a_thursday_meeting_CAL_2() -> None:
    dates = agenda_dates(CAL, meeting_date=dt.date(2026, 12, 10), today=dt.date(2026, 11, 23), working_days=5,
                         reminder_working_days=3)
    assert dates.deadline == dt.date(2026, 12, 3)


def test_meeting_whose_agenda_deadline_has_passed_is_refused_with_the_earliest_date_CAL_2() -> None:
    with pytest.raises(RuleViolation) as err:
        agenda_dates(CAL, meeting_date=dt.date(2026, 12, 2), today=dt.date(2026, 11, 30), working_days=5,
                     reminder_working_days=3)
    assert err.value.rule_id == "CAL-2"
    assert "2026-12-07" in err.value.message  # Mon 30 Nov + 5 working days


def test_deadline_today_is_accepted_and_the_reminder_is_not_in_the_past_CAL_2() -> None:
    dates = agenda_dates(CAL, meeting_date=dt.date(2026, 12, 7), today=dt.date(2026, 11, 30), working_days=5,
                         reminder_working_days=3)
    assert dates.deadline == dt.date(2026, 11, 30)
    assert dates.remind_leader_on == dt.date(2026, 11, 30)


def test_network_meeting_needs_a_level_LVL_3() -> None:
    with pytest.raises(InvalidInput) as err:
        check_meeting_level("network", None, 5)
    assert err.value.rule_id == "LVL-3"
    with pytest.raises(InvalidInput):
        check_meeting_level("network", 6, 5)
    check_meeting_level("development", None, 5)


def test_second_level3_meeting_needs_consent_LVL_4() -> None:
    check_level3_consent(level=3, earlier_level3_meetings=0, has_active_consent=False)
    check_level3_consent(level=3, earlier_level3_meetings=1, has_active_consent=True)
    check_level3_consent(level=4, earlier_level3_meetings=3, has_active_consent=False)
    with pytest.raises(RuleViolation) as err:
        check_level3_consent(level=3, earlier_level3_meetings=1, has_active_consent=False)
    assert err.value.rule_id == "LVL-4"


def test_first_and_follow_up_forms_and_the_yellow_form_MEET_3_LVL_3() -> None:
    assert stored_kind("network", first=True) == "network_first"
    assert stored_kind("network", first=False) == "network_followup"
    assert "gult skema" in agenda_form("network", first=True, level=3)
    assert "første" in agenda_form("development", first=True, level=None)
    assert "opfølgende" in agenda_form("development", first=False, level=None)


def test_agenda_items_bring_the_network_map_and_the_parents_perspective_MEET_5_MEET_1() -> None:
    items = agenda_items("network", first=True, open_actions=2, confidential_from_parents=False)
    assert any("Netværkskort" in i for i in items)
    assert "Forældrenes perspektiv" in items
    assert any("2 aftalte handling" in i for i in items)
    hidden = agenda_items("network", first=True, open_actions=0, confidential_from_parents=True)
    assert any("Netværkskort" in i for i in hidden)
    assert not any("Forældre" in i or "derhjemme" in i for i in hidden), "ESC-1: no parents' item"


@pytest.mark.parametrize("value", [None, "", [], ["a@x.example", "b@x.example"], "a@x.example, b@x.example",
                                   "a@x.example og b@x.example", "a@x.example;b@x.example"])
def test_an_action_has_exactly_one_responsible_person_MEET_2(value: object) -> None:
    with pytest.raises(RuleViolation) as err:
        single_responsible(value, what="action 1")  # type: ignore[arg-type]
    assert err.value.rule_id == "MEET-2"


def test_one_responsible_person_is_accepted_MEET_2() -> None:
    assert single_responsible(" laerer@skole.example ", what="a") == "laerer@skole.example"
    assert single_responsible(["laerer@skole.example"], what="a") == "laerer@skole.example"
    with pytest.raises(InvalidInput):
        single_responsible("Sofie", what="a")


def test_every_open_action_is_followed_up_MEET_2() -> None:
    check_follow_ups([1, 2], [FollowUpInput(action_id=1, decision="continue"),
                              FollowUpInput(action_id=2, decision="change")])
    with pytest.raises(RuleViolation, match="need a follow-up"):
        check_follow_ups([1, 2], [FollowUpInput(action_id=1, decision="continue")])
    with pytest.raises(RuleViolation, match="not open actions"):
        check_follow_ups([1], [FollowUpInput(action_id=1, decision="continue"),
                               FollowUpInput(action_id=9, decision="continue")])
    with pytest.raises(RuleViolation, match="adjusted text"):
        check_follow_ups([1], [FollowUpInput(action_id=1, decision="adjust")])


def test_partners_join_only_with_consent_PATH_8() -> None:
    for role in ("health_visitor", "family_department", "open_counselling", "uu", "ungvejle", "ssp"):
        with pytest.raises(RuleViolation) as err:
            check_partner_consent(role, consent_id=None, consent_active=None)
        assert err.value.rule_id == "PATH-8"
    with pytest.raises(RuleViolation, match="anonymous sparring"):
        check_partner_consent("health_visitor", consent_id=None, consent_active=None)
    check_partner_consent("health_visitor", consent_id=3, consent_active=True)
    check_partner_consent("ppr_psychologist", consent_id=None, consent_active=None)
    with pytest.raises(RuleViolation) as err:
        check_partner_consent("ssp", consent_id=3, consent_active=False)
    assert err.value.rule_id == "CONS-1"
