"""The level rules as pure functions: LVL-1 … LVL-6, CAL-6, CAL-7."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_levels import (
    DARK_BLUE_FORM,
    GREEN_FORM,
    LIGHT_BLUE_FORM,
    YELLOW_FORM,
    check_review,
    decide_level_change,
    investigation_dates,
    review_dates,
)

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))


def _decide(**kw: Any):  # type: ignore[no-untyped-def]
    base: dict[str, Any] = dict(direction="up", sphere="institution", institution_level=1, family_level=1, to=2,
                                max_level=5, reason=None, outposted_social_worker_involved=False)
    base.update(kw)
    return decide_level_change(**base)


def test_level_2_before_3_unless_a_reason_is_recorded_LVL_1() -> None:
    with pytest.raises(RuleViolation) as err:
        _decide(to=3)
    assert err.value.rule_id == "LVL-1"
    assert _decide(to=3, reason="Akut bekymring; drøftet med leder").skipped_levels


def test_movement_goes_both_ways_and_the_direction_must_fit_LVL_1() -> None:
    assert _decide(institution_level=3, to=2, direction="down").to_level == 2
    with pytest.raises(RuleViolation):
        _decide(institution_level=3, to=4, direction="down")
    with pytest.raises(RuleViolation):
        _decide(institution_level=3, to=2, direction="up")
    with pytest.raises(InvalidInput):
        _decide(to=6)


def test_spheres_are_independent_LVL_1() -> None:
    decision = _decide(sphere="family", institution_level=1, family_level=3, to=4)
    assert decision.from_level == 3 and decision.starts_specialised_effort


def test_paperwork_per_level_LVL_2_LVL_3() -> None:
    assert _decide(to=2).paperwork == (GREEN_FORM,)
    assert _decide(institution_level=2, to=3).paperwork == (YELLOW_FORM, LIGHT_BLUE_FORM)
    assert _decide(institution_level=3, to=4).paperwork == (YELLOW_FORM, LIGHT_BLUE_FORM, DARK_BLUE_FORM)


def test_outposted_social_worker_before_level_5_LVL_5() -> None:
    with pytest.raises(RuleViolation) as err:
        _decide(sphere="family", family_level=4, to=5)
    assert err.value.rule_id == "LVL-5"
    decision = _decide(sphere="family", family_level=4, to=5, outposted_social_worker_involved=True)
    assert decision.reaches_family_centre  # LVL-6


def test_specialised_effort_starts_at_4_and_ends_below_it_CAL_6() -> None:
    assert _decide(institution_level=3, to=4).starts_specialised_effort
    assert not _decide(institution_level=3, family_level=4, to=4).starts_specialised_effort
    assert _decide(institution_level=4, to=3, direction="down").ends_specialised_effort
    assert not _decide(institution_level=4, family_level=4, to=3, direction="down").ends_specialised_effort


def test_review_six_months_on_month_end_clamped_CAL_6() -> None:
    dates = review_dates(CAL, start=dt.date(2026, 8, 31), months=6, reminder_days=14)
    assert dates.due == dt.date(2027, 2, 28)
    assert dates.remind_on == dt.date(2027, 2, 12)  # Sun 14 Feb -> Fri 12 Feb
    assert dates.overdue_on == dt.date(2027, 3, 1)
    assert review_dates(CAL, start=dt.date(2027, 8, 31), months=6, reminder_days=14).due == dt.date(2028, 2, 29)


def test_review_needs_a_running_specialised_effort_CAL_6() -> None:
    with pytest.raises(RuleViolation) as err:
        check_review(specialised=False, review_date=dt.date(2027, 1, 5), started_on=None, today=dt.date(2027, 1, 5))
    assert err.value.rule_id == "CAL-6"
    with pytest.raises(InvalidInput):
        check_review(specialised=True, review_date=dt.date(2027, 1, 6), started_on=None, today=dt.date(2027, 1, 5))


def test_investigation_within_four_months_CAL_7() -> None:
    assert investigation_dates(aware_on=dt.date(2026, 10, 31), months=4, today=dt.date(2026, 11, 2)) == \
        dt.date(2027, 2, 28)
    with pytest.raises(InvalidInput):
        investigation_dates(aware_on=dt.date(2026, 12, 1), months=4, today=dt.date(2026, 11, 2))
