"""The privacy rules as pure functions: no CPR numbers (PRIV-2), who may read a case (PRIV-3), retention."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_privacy import (
    NoCprNumbers,
    can_read_case,
    case_access,
    case_expired,
    check_no_cpr_number,
    contains_cpr_number,
    is_named_user,
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


# --- PRIV-3 -----------------------------------------------------------------------------------------

ACCESS = case_access(
    coordinator="Laerer@Skole.example", assigned_ppr="psykolog@ppr.example", submitted_by="laerer@skole.example",
    staff_parties=[("hs@sund.example", "health_visitor")],
    leader_of={"laerer@skole.example": "leder@skole.example", "psykolog@ppr.example": "pprleder@ppr.example"},
    institution_leaders=["paedleder@skole.example"],
)


@pytest.mark.parametrize(("actor", "allowed"), [
    ("laerer@skole.example", True),        # coordinator and submitter, any case
    ("PSYKOLOG@ppr.example", True),        # the assigned PPR employee
    ("hs@sund.example", True),             # staff on the case
    ("leder@skole.example", True),         # the coordinator's leader
    ("pprleder@ppr.example", True),        # the PPR employee's leader
    ("paedleder@skole.example", True),     # the institution's leader
    ("system:sweep", True),                # a scheduled job doing its own work
    ("kollega@skole.example", False),      # a colleague not on the case
    ("mor@hjem.example", False),           # a parent is not staff
    ("", False),
])
def test_only_assigned_staff_and_their_leaders_read_a_case_PRIV_3(actor: str, allowed: bool) -> None:
    assert can_read_case(actor, ACCESS) is allowed


def test_the_basis_says_why() -> None:
    assert ACCESS.basis("laerer@skole.example") == "coordinator"
    assert ACCESS.basis("pprleder@ppr.example") == "leader of psykolog@ppr.example"
    assert ACCESS.basis("paedleder@skole.example") == "leader of the institution"


@pytest.mark.parametrize(("actor", "named"), [
    ("leder@skole.example", True), ("system:jens", False), ("jens", False), (None, False), ("", False),
])
def test_a_named_user_is_a_work_email_PRIV_1(actor: str | None, named: bool) -> None:
    assert is_named_user(actor) is named


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


# --- found by the mutation run (scripts/mutation.sh privacy) ---------------------------------------

def test_the_access_list_is_exactly_the_people_on_the_case_and_their_leaders_with_why_PRIV_3() -> None:
    access = case_access(
        coordinator="Laerer@Skole.example", assigned_ppr=None, submitted_by="sofie@skole.example",
        staff_parties=[("hs@sund.example", "health_visitor"), (" Laerer@skole.example ", "teacher")],
        leader_of={"laerer@skole.example": "Leder@Skole.example", "sofie@skole.example": "leder@skole.example",
                   "hs@sund.example": "Sofie@skole.example"},  # a leader who is on the case keeps that reason
        institution_leaders=["paedleder@skole.example", "LEDER@skole.example", "", "hs@sund.example"],
    )
    assert dict(access.assigned) == {"laerer@skole.example": "coordinator", "sofie@skole.example": "submitter",
                                     "hs@sund.example": "on the case (health_visitor)"}, \
        "no PPR employee assigned: nobody stands in for one; the first reason for a person wins"
    assert dict(access.leaders) == {"leder@skole.example": "leader of laerer@skole.example",
                                    "paedleder@skole.example": "leader of the institution"}
    with_ppr = case_access(coordinator="a@skole.example", assigned_ppr="P@ppr.example", submitted_by="a@skole.example",
                           staff_parties=[], leader_of={}, institution_leaders=[])
    assert dict(with_ppr.assigned) == {"a@skole.example": "coordinator", "p@ppr.example": "assigned PPR employee"}
    assert not can_read_case("xxxx", access) and access.basis("") is None


@pytest.mark.parametrize(("actor", "named"), [
    ("system:sweep@pprflow.example", False),  # a system job is never a named user, whatever it looks like
    (" System:Delivery@x.example", False),
    ("Leder@Skole.example", True),
])
def test_a_system_job_with_an_address_is_not_a_named_user_PRIV_1(actor: str, named: bool) -> None:
    assert is_named_user(actor) is named


def test_check_no_cpr_number_refuses_only_a_cpr_number_naming_the_field_PRIV_2() -> None:
    check_no_cpr_number("concern", "Ring på 12 34 56 78 efter 12-05-2026")  # ordinary text passes
    check_no_cpr_number("concern", None)
    check_no_cpr_number("concern", "")
    with pytest.raises(RuleViolation) as caught:
        check_no_cpr_number("topic", "Barnet 010203-1234 trives ikke")
    assert caught.value.rule_id == "PRIV-2" and "topic: looks like a CPR number" in str(caught.value)
    assert "010203" not in str(caught.value)
