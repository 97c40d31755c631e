"""The privacy rules as pure functions: no CPR numbers (PRIV-2), who may read a case (PRIV-3), retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_privacy import (
    NoCprNumbers,
    case_expired,
    check_no_cpr_number,
    contains_cpr_number,
    years_before,
)


@pytest.mark.parametrize("text", [
    "Barnet har cpr 120517-1234",
    "0101201234",
    "CPR:311299-0001 står i journalen",
    "29 02 00? nej: 290200-1234",
    "født 010117 1234",
])
def test_a_cpr_number_is_found_PRIV_2(text: str) -> None:
    assert contains_cpr_number(text)


@pytest.mark.parametrize("text", [
    "Mødet er 12-05-2026 kl. 9",
    "Ring på 12 34 56 78 eller +45 76812345",
    "2026-05-12 og 12.05.2026",
    "Sagsnummer 123456789012",  # twelve digits: not a CPR number
    "320199-1234 er ikke en dato",  # day 32
    "011399-1234 er ikke en dato",  # month 13
    "300299-1234 er ikke en dato",  # 30 February
    "Barn A, født 2017, klasse 3.B",
])
def test_ordinary_text_with_dates_and_phone_numbers_passes_PRIV_2(text: str) -> None:
    assert not contains_cpr_number(text)


def test_the_refusal_names_the_field_and_never_echoes_the_number_PRIV_2() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_no_cpr_number("--reason", "se 120517-1234")
    assert caught.value.rule_id == "PRIV-2"
    assert caught.value.one_line().startswith("--reason: looks like a CPR number")
    assert "120517" not in caught.value.one_line()


def test_every_input_model_refuses_a_cpr_number_in_any_text_field_PRIV_2() -> None:
    from pprflow.models.referral import ActionPlanIn, ConsentIn, Referral
    from pprflow.models.rules_levels import LevelChangeInput
    from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput

    for model in (Referral, ConsentIn, ActionPlanIn, MeetingInput, MinutesInput, PartnerInput, LevelChangeInput):
        assert issubclass(model, NoCprNumbers), model
    with pytest.raises(ValidationError) as caught:
        MinutesInput.model_validate({"summary": "ok", "actions": [{"text": "Tal med 120517-1234"}]})
    error = caught.value.errors()[0]
    assert error["type"] == "cpr_number" and error["loc"] == ("actions", 0, "text")
    with pytest.raises(ValidationError):
        ConsentIn.model_validate({"given_by": ["Mor 120517-1234"], "date": "2026-01-05", "information": "x",
                                  "recipients": ["PPR"], "purpose": "y"})


def test_the_referral_error_is_one_line_naming_the_field_and_PRIV_2() -> None:
    from pprflow.models.referral import parse_referral
    from tests import referral_data as rd

    data = rd.data()
    data["action_plan"]["goal"] = "Barnet (120517-1234) skal trives"
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.rule_id == "PRIV-2"
    assert caught.value.one_line().startswith("referral: action_plan.goal: looks like a CPR number")


# PRIV-3 / PRIV-4 (the one access policy): tests/models/test_access.py


# --- retention ------------------------------------------------------------------------------------

def test_years_before_clamps_29_february() -> None:
    assert years_before(dt.date(2028, 2, 29), 5) == dt.date(2023, 2, 28)
    assert years_before(dt.date(2031, 6, 1), 5) == dt.date(2026, 6, 1)


@pytest.mark.parametrize(("status", "last", "closed", "expired"), [
    ("closed", dt.date(2026, 6, 1), dt.date(2026, 6, 1), True),     # exactly five years: deleted that day
    ("closed", dt.date(2026, 6, 2), dt.date(2026, 6, 2), False),    # one day short
    ("closed", dt.date(2026, 6, 1), dt.date(2027, 1, 1), False),    # closed later: counts from the closing
    ("open", dt.date(2020, 1, 1), None, False),                      # an open case is never deleted
    ("closed", dt.date(2020, 1, 1), None, False),                    # closed without a date: kept, visible
])
def test_a_closed_case_is_deleted_five_years_after_its_last_activity_PRIV_2(
        status: str, last: dt.date, closed: dt.date | None, expired: bool) -> None:
    assert case_expired(status=status, last_activity=last, closed_on=closed, today=dt.date(2031, 6, 1),
                        years=5) is expired


# --- PRIV-2: the shapes from issue 14 ---------------------------------------------------------------

@pytest.mark.parametrize("shape", ["24.03.17-1234", "24-03-17-1234", "240317\u20131234", "240317\u20141234",
                                   "240317\u22121234", "240317/1234", "240317 1234", "2403171234",
                                   "CPR: 2403171234", "cpr-nr. 240317-1234", "cpr 99 99 99 99 99"])
@pytest.mark.parametrize("field", ["concern", "parents.0.name", "institution.name"])
def test_every_cpr_shape_is_refused_in_any_field_PRIV_2(shape: str, field: str) -> None:
    from pprflow.models.errors import InvalidInput
    from pprflow.models.referral import parse_referral
    from tests import referral_data as rd

    data = rd.data()
    node: Any = data
    *path, last = field.split(".")
    for key in path:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = f"Hanne {shape}"
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.rule_id == "PRIV-2" and shape not in caught.value.one_line()


@pytest.mark.parametrize("text", ["Mødet 24.03.2017 kl. 10.30", "tlf. 25 10 33 44 2019", "+45 12345678",
                                  "12 34 56 78", "klasse 3.B og 10.A", "2026-05-12", "12/5-2026", "sag 1234567890"])
def test_dates_phone_numbers_and_class_names_pass_PRIV_2(text: str) -> None:
    assert not contains_cpr_number(text)


def test_cli_free_text_is_checked_too_PRIV_2(ctx: Any) -> None:
    from pprflow.models.errors import RuleViolation
    from pprflow.tasks.ppr import schedule_district_meetings
    from tests.factories import as_admin

    with pytest.raises(RuleViolation) as caught:
        schedule_district_meetings(as_admin(ctx), district="Nord 240317\u20131234", start=dt.date(2026, 12, 3),
                                   count=1)
    assert caught.value.rule_id == "PRIV-2" and "--district" in caught.value.one_line()


def test_check_no_cpr_number_refuses_only_a_cpr_number_naming_the_field_PRIV_2() -> None:
    check_no_cpr_number("concern", "Ring på 12 34 56 78 efter 12-05-2026")  # ordinary text passes
    check_no_cpr_number("concern", None)
    check_no_cpr_number("concern", "")
    with pytest.raises(RuleViolation) as caught:
        check_no_cpr_number("topic", "Barnet 010203-1234 trives ikke")
    assert caught.value.rule_id == "PRIV-2" and "topic: looks like a CPR number" in str(caught.value)
    assert "010203" not in str(caught.value)
