"""models/rules_levels.py, exactly (issue 15: `scripts/mutation.sh rules`): every refusal's rule ID and whole line,
whole `LevelDecision`s for each kind of move, and the boundaries of LVL-1, LVL-5, LAW-4, CAL-6 and CAL-7."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, PprflowError, RuleViolation
from pprflow.models.rules_levels import (
    DARK_BLUE_FORM,
    GREEN_FORM,
    LEVEL_STEPS,
    LIGHT_BLUE_FORM,
    NOTIFICATION_FORM,
    YELLOW_FORM,
    LevelDecision,
    SpecialisedTeaching,
    check_review,
    check_specialised_teaching,
    decide_level_change,
    investigation_dates,
    is_specialised,
    review_dates,
)

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))


def move(direction: str, sphere: str, levels: tuple[int, int], to: int, *, reason: str | None = None,
         social_worker: bool = False, max_level: int = 5) -> LevelDecision:
    return decide_level_change(direction=direction, sphere=sphere, institution_level=levels[0],  # type: ignore[arg-type]
                               family_level=levels[1], to=to, max_level=max_level, reason=reason,
                               outposted_social_worker_involved=social_worker)


def refusal(call: Any) -> tuple[type, str | None, str]:
    with pytest.raises(PprflowError) as caught:
        call()
    return type(caught.value), caught.value.rule_id, caught.value.message


def test_each_level_refusal_has_its_rule_and_its_whole_line_LVL_1_LVL_5() -> None:
    assert refusal(lambda: move("up", "institution", (1, 1), 6)) == (
        InvalidInput, "LVL-1", "level 6 is not between 1 and 5")
    assert refusal(lambda: move("down", "institution", (2, 1), 0)) == (
        InvalidInput, "LVL-1", "level 0 is not between 1 and 5")
    assert refusal(lambda: move("up", "family", (3, 2), 2)) == (
        RuleViolation, "LVL-1", "the family level is 2; escalate goes up (use deescalate to go down)")
    assert refusal(lambda: move("down", "institution", (2, 1), 2)) == (
        RuleViolation, "LVL-1", "the institution level is 2; deescalate goes down (use escalate to go up)")
    assert refusal(lambda: move("up", "institution", (1, 1), 3)) == (
        RuleViolation, "LVL-1", "going from level 1 to 3 skips a level; a problem is normally discussed at level 2 "
                                "first — record why with --reason")
    assert refusal(lambda: move("up", "institution", (1, 1), 3, reason="   ")) == (
        RuleViolation, "LVL-1", "going from level 1 to 3 skips a level; a problem is normally discussed at level 2 "
                                "first — record why with --reason")
    assert refusal(lambda: move("up", "family", (1, 4), 5)) == (
        RuleViolation, "LVL-5", "an outposted social worker (fremskudt rådgiver) must have been involved before the "
                                "family centre: add them with --outposted-social-worker EMAIL or `pprflow case "
                                "add-partner --role outposted_social_worker`")


def test_each_move_is_described_whole_LVL_1_to_LVL_6_CAL_6() -> None:
    assert move("up", "institution", (1, 3), 2) == LevelDecision(
        sphere="institution", from_level=1, to_level=2, direction="up", skipped_levels=False,
        paperwork=(GREEN_FORM,), steps=LEVEL_STEPS[2], starts_specialised_effort=False,
        ends_specialised_effort=False, reaches_family_centre=False)
    assert move("up", "family", (1, 3), 4) == LevelDecision(
        sphere="family", from_level=3, to_level=4, direction="up", skipped_levels=False,
        paperwork=(YELLOW_FORM, LIGHT_BLUE_FORM, DARK_BLUE_FORM), steps=LEVEL_STEPS[4],
        starts_specialised_effort=True, ends_specialised_effort=False, reaches_family_centre=False)
    assert move("up", "institution", (2, 1), 4, reason="Akut behov") == LevelDecision(
        sphere="institution", from_level=2, to_level=4, direction="up", skipped_levels=True,
        paperwork=(YELLOW_FORM, LIGHT_BLUE_FORM, DARK_BLUE_FORM), steps=LEVEL_STEPS[4],
        starts_specialised_effort=True, ends_specialised_effort=False, reaches_family_centre=False)
    assert move("up", "family", (1, 4), 5, social_worker=True) == LevelDecision(
        sphere="family", from_level=4, to_level=5, direction="up", skipped_levels=False,
        paperwork=(NOTIFICATION_FORM,), steps=LEVEL_STEPS[5], starts_specialised_effort=False,
        ends_specialised_effort=True, reaches_family_centre=True)
    # Down from 5 skips nothing and reaches no one; level 4 in the other sphere keeps the effort running.
    assert move("down", "family", (4, 5), 3) == LevelDecision(
        sphere="family", from_level=5, to_level=3, direction="down", skipped_levels=False,
        paperwork=(YELLOW_FORM, LIGHT_BLUE_FORM), steps=LEVEL_STEPS[3], starts_specialised_effort=False,
        ends_specialised_effort=False, reaches_family_centre=False)
    assert move("down", "institution", (4, 1), 1) == LevelDecision(
        sphere="institution", from_level=4, to_level=1, direction="down", skipped_levels=False,
        paperwork=(), steps=LEVEL_STEPS[1], starts_specialised_effort=False,
        ends_specialised_effort=True, reaches_family_centre=False)
    # A profile with more levels than the seed's five: no paperwork or steps are invented for them.
    assert move("up", "institution", (5, 1), 6, max_level=6) == LevelDecision(
        sphere="institution", from_level=5, to_level=6, direction="up", skipped_levels=False,
        paperwork=(), steps="", starts_specialised_effort=False, ends_specialised_effort=False,
        reaches_family_centre=False)
    assert move("up", "institution", (1, 1), 5, max_level=5, reason="Akut", social_worker=True).to_level == 5
    assert is_specialised((4, 1)) and is_specialised((1, 4)) and not is_specialised((3, 5))


@pytest.mark.parametrize(("teaching", "to_level", "kind", "line"), [
    (SpecialisedTeaching(lessons_per_week=12), 3, "school",
     "specialised teaching is a school's level-4 effort: escalate the institution sphere of a school case to level 4"),
    (SpecialisedTeaching(lessons_per_week=12), 4, "daycare",
     "specialised teaching is a school's level-4 effort: escalate the institution sphere of a school case to level 4"),
    (SpecialisedTeaching(lessons_per_week=8), 4, "school",
     "specialised teaching is at least 9 lessons a week (Folkeskoleloven §3 stk. 2), not 8; fewer lessons are "
     "support within ordinary teaching (level 3)"),
    (SpecialisedTeaching(lessons_per_week=9, temporary=False), 4, "school",
     "a referral to specialised teaching that is not temporary follows PPR's advice (Folkeskoleloven §12 stk. 2): "
     "record the date of the PPV with --ppr-advice DATE"),
    (SpecialisedTeaching(lessons_per_week=9), 4, "school", None),
    (SpecialisedTeaching(lessons_per_week=9, temporary=False, ppr_advice_on=dt.date(2026, 11, 2)), 4, "school", None),
])
def test_specialised_teaching_is_nine_lessons_at_a_schools_level_4_on_ppr_advice_LAW_4(
        teaching: SpecialisedTeaching, to_level: int, kind: str, line: str | None) -> None:
    if line is None:
        check_specialised_teaching(teaching, to_level=to_level, institution_kind=kind)
    else:
        assert refusal(lambda: check_specialised_teaching(teaching, to_level=to_level, institution_kind=kind)) == (
            RuleViolation, "LAW-4", line)


def test_a_review_is_of_a_running_effort_on_a_day_between_its_start_and_today_CAL_6() -> None:
    today, started = dt.date(2027, 1, 5), dt.date(2027, 1, 2)
    assert refusal(lambda: check_review(specialised=False, review_date=today, started_on=started, today=today)) == (
        RuleViolation, "CAL-6", "the case has no specialised effort (level 4) to review")
    assert refusal(lambda: check_review(specialised=True, review_date=dt.date(2027, 1, 6), started_on=started,
                                        today=today)) == (
        InvalidInput, "CAL-6", "the review date 2027-01-06 is in the future")
    assert refusal(lambda: check_review(specialised=True, review_date=dt.date(2027, 1, 1), started_on=started,
                                        today=today)) == (
        InvalidInput, "CAL-6", "the review date is before the effort started (2027-01-02)")
    check_review(specialised=True, review_date=today, started_on=started, today=today)
    check_review(specialised=True, review_date=started, started_on=started, today=today)
    check_review(specialised=True, review_date=dt.date(2020, 1, 1), started_on=None, today=today)


def test_review_dates_remind_before_on_a_working_day_and_are_overdue_the_working_day_after_CAL_6() -> None:
    # Due Thursday 24 Dec 2026 (closed in this calendar): reminded Thursday 10 Dec, overdue Monday 28 Dec.
    dates = review_dates(CAL, start=dt.date(2026, 6, 24), months=6, reminder_days=14)
    assert (dates.due, dates.remind_on, dates.overdue_on) == (
        dt.date(2026, 12, 24), dt.date(2026, 12, 10), dt.date(2026, 12, 28))
    assert review_dates(CAL, start=dt.date(2026, 6, 24), months=3, reminder_days=14).due == dt.date(2026, 9, 24)
    # The reminder day itself closed (Saturday 12 Dec): the Friday before.
    dates = review_dates(CAL, start=dt.date(2026, 6, 19), months=6, reminder_days=7)
    assert (dates.due, dates.remind_on, dates.overdue_on) == (
        dt.date(2026, 12, 19), dt.date(2026, 12, 11), dt.date(2026, 12, 21))


def test_an_investigation_is_due_four_months_after_awareness_which_is_not_in_the_future_CAL_7() -> None:
    assert investigation_dates(aware_on=dt.date(2026, 11, 30), months=4, today=dt.date(2026, 11, 30)) == \
        dt.date(2027, 3, 30)
    assert investigation_dates(aware_on=dt.date(2026, 11, 30), months=3, today=dt.date(2026, 11, 30)) == \
        dt.date(2027, 2, 28)  # the profile's months, not the default four; month-end clamped
    assert refusal(lambda: investigation_dates(aware_on=dt.date(2026, 12, 1), months=4,
                                               today=dt.date(2026, 11, 30))) == (
        InvalidInput, "CAL-7", "--aware-on 2026-12-01 is in the future")
