"""The referral model and the pathways' preconditions (pure): PATH-1 … PATH-7, PLAN-1, LAW-3, ROLE-1."""

from __future__ import annotations

import datetime as dt

import pytest

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.referral import STAFF_ROLES, parse_referral
from pprflow.models.rules_intake import check_referral, coordinator_for, route_referral
from tests import referral_data as rd

TODAY = dt.date(2026, 11, 23)


def refused(data: dict, today: dt.date = TODAY) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check_referral(parse_referral(data), today=today)
    return caught.value


# --- the model ----------------------------------------------------------------------------------

def test_every_example_referral_parses_and_the_good_ones_pass_their_rules() -> None:
    good = sorted(p for p in rd.EXAMPLES.glob("*.json"))
    assert len(good) >= 6
    for path in good:
        check_referral(parse_referral(path.read_text(encoding="utf-8")), today=TODAY)
    for path in sorted((rd.EXAMPLES / "refused").glob("*.json")):
        with pytest.raises(RuleViolation):
            check_referral(parse_referral(path.read_text(encoding="utf-8")), today=TODAY)


def test_unknown_field_is_refused_with_one_line_naming_it() -> None:
    data = rd.data()
    data["actionplan"] = data.pop("action_plan")
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith("referral: actionplan: unknown field")


def test_malformed_json_and_a_wrong_role_are_one_line_errors() -> None:
    with pytest.raises(InvalidInput, match=r"^referral: not valid JSON"):
        parse_referral("{not json")
    data = rd.data(submitted_by={"name": "A", "email": "a@skole.example", "role": "Teacher"})
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.one_line().startswith("referral: submitted_by.role: input should be 'teacher'")


def test_roles_are_snake_case() -> None:
    assert all(role == role.lower() and " " not in role for role in STAFF_ROLES)
    assert {"teacher", "pedagogue", "pedagogical_leader", "school_leader", "daycare_leader", "sup"} <= set(STAFF_ROLES)


@pytest.mark.parametrize("part", ["context", "goal", "signs", "measures", "evaluation"])
def test_action_plan_needs_every_smtte_part_non_empty_PLAN_1(part: str) -> None:
    data = rd.data()
    data["action_plan"][part] = "   "
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.rule_id == "PLAN-1"
    assert f"action_plan.{part}: must not be empty" in caught.value.one_line()


@pytest.mark.parametrize("part", ["given_by", "information", "recipients", "purpose", "date"])
def test_consent_states_who_what_to_whom_and_why_LAW_3(part: str) -> None:
    data = rd.data()
    del data["consent"][part]
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.rule_id == "LAW-3"


def test_child_is_a_pseudonym_and_birth_year_only_PRIV_2() -> None:
    data = rd.data(child={"pseudonym": "Elev K", "birth_year": 2017, "cpr": "010117-1234"})
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    assert caught.value.rule_id == "PRIV-2"
    with pytest.raises(InvalidInput, match="CPR"):
        check_referral(rd.referral(child={"pseudonym": "010117-1234", "birth_year": 2017}), today=TODAY)


# --- PATH-1 / PATH-2 / PATH-3 ---------------------------------------------------------------------

@pytest.mark.parametrize("pathway", ["ppr_learning_environment", "ppr_individual", "ppv"])
def test_ppr_request_without_action_plan_is_refused_PATH_1(pathway: str) -> None:
    assert refused(rd.data(pathway, action_plan=None)).rule_id == "PATH-1"


def test_ppv_only_from_a_school_leader_PATH_2() -> None:
    data = rd.data("ppv", submitted_by={"name": "Sofie", "email": "sofie@skovbakke.example", "role": "teacher"})
    violation = refused(data)
    assert violation.rule_id == "PATH-2"
    assert "school leader" in violation.message


def test_ppv_only_at_school_start_PATH_2() -> None:
    assert refused(rd.data("ppv", school_start=False)).rule_id == "PATH-2"
    check_referral(rd.referral("ppv"), today=TODAY)


def test_learning_environment_course_is_for_a_group_not_one_child_PATH_2() -> None:
    assert refused(rd.data("ppr_learning_environment", group=None)).rule_id == "PATH-2"
    named = rd.data("ppr_learning_environment", child={"pseudonym": "Elev A", "birth_year": 2016})
    assert refused(named).rule_id == "PATH-2"


def test_individual_course_is_always_with_the_parents_PATH_2() -> None:
    assert refused(rd.data(parents=[], consent=None)).rule_id in {"PATH-2"}


@pytest.mark.parametrize("pathway", ["ppr_individual", "ppv"])
def test_individual_measures_need_the_community_measures_tried_first_PATH_3(pathway: str) -> None:
    data = rd.data(pathway)
    del data["action_plan"]["community_measures"]
    violation = refused(data)
    assert violation.rule_id == "PATH-3"
    assert "community_measures" in violation.message


def test_learning_environment_course_needs_no_community_measures_PATH_3() -> None:
    data = rd.data("ppr_learning_environment")
    del data["action_plan"]["community_measures"]
    check_referral(parse_referral(data), today=TODAY)


# --- PATH-4 / PATH-5 / PATH-6 / PATH-7 / LAW-3 ----------------------------------------------------

def test_individual_course_without_parental_consent_is_refused_PATH_4() -> None:
    assert refused(rd.data(consent=None)).rule_id == "PATH-4"


def test_individual_course_without_a_child_is_refused_PATH_4() -> None:
    assert refused(rd.data(child=None)).rule_id == "PATH-4"


def test_a_named_child_needs_consent_on_any_pathway_PATH_4() -> None:
    data = rd.data("intervention_team", child={"pseudonym": "Barn A", "birth_year": 2021})
    assert refused(data).rule_id == "PATH-4"


def test_intervention_team_needs_an_action_plan_PATH_5() -> None:
    assert refused(rd.data("intervention_team", action_plan=None)).rule_id == "PATH-5"


def test_intervention_team_needs_the_local_akt_language_lead_involved_PATH_5() -> None:
    violation = refused(rd.data("intervention_team", local_resources_involved=False))
    assert violation.rule_id == "PATH-5"
    assert "AKT" in violation.message


def test_intervention_team_goes_to_the_team_leader_PATH_5(vejle) -> None:
    assert route_referral(rd.referral("intervention_team"), vejle).recipients == ("metrm@vejle.dk",)


def test_ppr_requests_go_to_the_ppr_mailbox_and_the_district_meeting_PATH_1(vejle) -> None:
    for pathway in ("ppr_learning_environment", "ppr_individual", "ppv"):
        routing = route_referral(rd.referral(pathway), vejle)
        assert routing.recipients == ("ppr@vejle.dk",)
        assert routing.template == "ppr_request"
        assert routing.district_meeting


def test_social_adviser_may_be_anonymous_without_consent_PATH_6(vejle) -> None:
    anonymous = rd.referral("social_adviser")
    check_referral(anonymous, today=TODAY)
    assert route_referral(anonymous, vejle).recipients == (vejle.mailboxes.social_advisers,)


def test_social_adviser_without_consent_refuses_any_child_identity_PATH_6() -> None:
    named = rd.data("social_adviser", child={"pseudonym": "Barn A", "birth_year": 2021})
    violation = refused(named)
    assert violation.rule_id == "PATH-6"
    assert refused(rd.data("social_adviser", parents=rd.PARENTS)).rule_id == "PATH-6"


def test_social_adviser_with_consent_may_name_the_child_PATH_6(vejle) -> None:
    named = rd.referral("social_adviser", child={"pseudonym": "Barn A", "birth_year": 2021}, parents=rd.PARENTS,
                        consent=rd.CONSENT, social_adviser_email="raadgiver@vejle.example")
    check_referral(named, today=TODAY)
    assert route_referral(named, vejle).recipients == ("raadgiver@vejle.example",)


def _with_directory(profile):  # type: ignore[no-untyped-def]
    from pprflow.models.profile import EarlyYearsContacts

    return profile.model_copy(update={"early_years_directory": {"Børnehuset Solsikken": EarlyYearsContacts(
        pedagogical="anne.paed@vejle.example", disability="bo.special@vejle.example")}})


def test_early_years_request_goes_to_the_institutions_named_consultant_PATH_7(vejle) -> None:
    routing = route_referral(rd.referral("early_years_consultant"), _with_directory(vejle))
    assert routing.recipients == ("anne.paed@vejle.example",)
    assert routing.specialist is None
    fallback = route_referral(rd.referral("early_years_consultant"), vejle)
    assert fallback.recipients == (vejle.mailboxes.early_years_consultants,)


def test_minigroup_or_solen_assessment_adds_the_disability_specialist_PATH_7(vejle) -> None:
    profile = _with_directory(vejle)
    routing = route_referral(rd.referral("early_years_consultant", assessment_for_minigroup_or_solen=True), profile)
    assert routing.recipients == ("anne.paed@vejle.example", "bo.special@vejle.example")
    assert routing.specialist == "bo.special@vejle.example"
    # "whenever": also on another pathway from the same daycare
    other = route_referral(rd.referral("intervention_team", assessment_for_minigroup_or_solen=True), profile)
    assert other.recipients == ("metrm@vejle.dk", "bo.special@vejle.example")


def test_early_years_consultants_serve_daycares_PATH_7() -> None:
    data = rd.data("early_years_consultant",
                   institution={"name": "Skovbakkeskolen", "kind": "school", "district": "Nord"})
    assert refused(data).rule_id == "PATH-7"


def test_consent_is_given_by_the_parents_LAW_3() -> None:
    data = rd.data()
    data["consent"]["given_by"] = ["Hanne Berg", "Naboen"]
    violation = refused(data)
    assert violation.rule_id == "LAW-3"
    assert "Naboen" in violation.message


def test_consent_dated_in_the_future_is_refused_LAW_3() -> None:
    data = rd.data()
    data["consent"]["date"] = "2026-12-01"
    assert refused(data).rule_id == "LAW-3"


def test_the_submitter_becomes_the_one_coordinator_ROLE_1() -> None:
    assert coordinator_for(rd.referral()) == "sofie@skovbakke.example"
    assert coordinator_for(rd.referral("ppv")) == "lene@skovbakke.example"
