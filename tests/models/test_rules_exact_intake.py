"""models/rules_intake.py, exactly (issue 15: `scripts/mutation.sh rules`): each pathway precondition refuses with
its rule ID and its whole line — the line a user reads to fix the referral — and the boundaries of LAW-3's dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.referral import parse_referral
from pprflow.models.rules_intake import check_referral
from tests import referral_data as rd

TODAY = dt.date(2026, 11, 23)
TEACHER = {"name": "Sofie Mikkelsen", "email": "sofie@skovbakke.example", "role": "teacher"}
SCHOOL = {"name": "Skovbakkeskolen", "kind": "school", "district": "Nord"}
EMIL = {"pseudonym": "Elev K-417", "birth_year": 2017}
SIF = {"pseudonym": "Barn L-208", "birth_year": 2023}
PATH6 = ("without parental consent the request to the social-work adviser is anonymous: remove child and parents, "
         "or add the parents' consent")

REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("PATH-1 no plan", rd.data("ppr_individual", action_plan=None), "PATH-1",
     "a request to PPR starts with an action plan (handleplan, SMTTE): add action_plan with context, goal, signs, "
     "measures and evaluation"),
    ("PATH-2 PPV from a teacher", rd.data("ppv", submitted_by=TEACHER), "PATH-2",
     "only a school leader (skoleleder) may start a PPV, not a teacher: ask the school leader to submit it, or "
     "choose ppr_individual"),
    ("PATH-2 PPV not at school start", rd.data("ppv", school_start=False), "PATH-2",
     "a PPV is made only in connection with school start (skolestart): set school_start to true if it is, or "
     "choose ppr_individual"),
    ("PATH-2 no group", rd.data("ppr_learning_environment", group=None), "PATH-2",
     'a learning-environment course (læringsmiljøforløb) is for a class or group: name it in group, e.g. "3.B"'),
    ("PATH-2 a child on a group course", rd.data("ppr_learning_environment", child=EMIL), "PATH-2",
     "a learning-environment course concerns a class or group, not one child: remove child, or choose "
     "ppr_individual (with parental consent)"),
    ("PATH-2 no parents", rd.data(parents=[], consent=None), "PATH-2",
     "an individual course (individforløb) is always in cooperation with the parents and the child: list the "
     "parents"),
    ("PATH-5 no plan", rd.data("intervention_team", action_plan=None), "PATH-5",
     "the intervention team (Pædagogisk Indsatsteam) needs the action plan(s) you have already worked with: add "
     "action_plan"),
    ("PATH-5 no local lead", rd.data("intervention_team", local_resources_involved=False), "PATH-5",
     "involve the local AKT/language lead (AKT/sprogansvarlig) before applying to the intervention team, then set "
     "local_resources_involved to true"),
    ("PATH-7 from a school", rd.data("early_years_consultant", institution=SCHOOL), "PATH-7",
     "the early-years consultants serve daycares (dagtilbud): a school contacts PPR instead"),
    ("PATH-6 a child", rd.data("social_adviser", child=SIF), "PATH-6", PATH6),
    ("PATH-6 parents", rd.data("social_adviser", parents=rd.PARENTS), "PATH-6", PATH6),
    ("PATH-4 no child", rd.data(child=None), "PATH-4",
     "a ppr_individual request concerns one child: add child (pseudonym and birth year)"),
    ("PATH-4 PPV no child", rd.data("ppv", child=None), "PATH-4",
     "a ppv request concerns one child: add child (pseudonym and birth year)"),
    ("PATH-4 no consent", rd.data(consent=None), "PATH-4",
     "a request about one child needs the parents' written consent (samtykke): add consent (given_by, date, "
     "information, recipients, purpose)"),
    ("PATH-4 a named child elsewhere", rd.data("intervention_team", child=SIF), "PATH-4",
     "a child may be named only with the parents' consent: add consent, or remove child and describe the concern "
     "without identifying the child"),
    ("LAW-3 no parents", rd.data("intervention_team", consent=rd.CONSENT), "LAW-3",
     "consent is given by the holders of parental authority: list them in parents"),
    ("LAW-3 strangers", rd.data(consent={**rd.CONSENT, "given_by": ["Hanne Berg", "Ukendt Person", "Bo Ny"]}),
     "LAW-3",
     "consent.given_by names 'Ukendt Person', 'Bo Ny', who is not among the parents: consent is given by the "
     "holders of parental authority listed in parents"),
    ("LAW-3 future", rd.data(consent={**rd.CONSENT, "date": "2026-11-24"}), "LAW-3",
     "consent.date 2026-11-24 is in the future: use the date the written consent was signed"),
    ("LAW-3 before birth", rd.data(consent={**rd.CONSENT, "date": "2016-12-31"}), "LAW-3",
     "consent.date 2016-12-31 is before the child's birth year 2017: use the date the written consent was signed"),
    ("PATH-3 community first", rd.data(action_plan={**rd.PLAN, "community_measures": None}), "PATH-3",
     "community first: PPR starts with the learning environment and the child's communities; describe in "
     "action_plan.community_measures what was tried in the class/group before individual measures"),
    ("PATH-3 PPV too", rd.data("ppv", action_plan={**rd.PLAN, "community_measures": None}), "PATH-3",
     "community first: PPR starts with the learning environment and the child's communities; describe in "
     "action_plan.community_measures what was tried in the class/group before individual measures"),
]


@pytest.mark.parametrize(("data", "rule_id", "line"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_each_precondition_refuses_with_its_rule_and_its_whole_line_PATH_1_to_7_LAW_3(
        data: dict[str, Any], rule_id: str, line: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_referral(parse_referral(data), today=TODAY)
    assert (caught.value.rule_id, caught.value.message) == (rule_id, line)


@pytest.mark.parametrize("data", [
    rd.data(consent={**rd.CONSENT, "date": "2026-11-23", "given_by": ["hanne BERG", "JONAS berg"]}),  # today, any case
    rd.data(consent={**rd.CONSENT, "date": "2017-01-01"}),  # in the child's birth year
    rd.data("ppr_learning_environment", action_plan={**rd.PLAN, "community_measures": None}),  # PATH-3: groups
    rd.data("social_adviser"),  # PATH-6: anonymous without consent
    rd.data("social_adviser", consent=rd.CONSENT, parents=rd.PARENTS, child=SIF),  # with consent: named
    rd.data("early_years_consultant"),
    rd.data("intervention_team"),
    rd.data("ppv"),
], ids=["consent today", "consent in birth year", "group course", "anonymous adviser", "named adviser",
        "early years", "intervention team", "ppv"])
def test_the_boundaries_pass_LAW_3_PATH_3_PATH_6(data: dict[str, Any]) -> None:
    check_referral(parse_referral(data), today=TODAY)


@pytest.mark.parametrize("field", ["concern", "pseudonym"])
def test_a_cpr_number_that_got_past_the_model_is_still_refused_PRIV_2(field: str) -> None:
    referral = rd.referral()
    if field == "concern":
        referral.concern = "Eleven 010203-1234 trives ikke."
    else:
        assert referral.child is not None
        referral.child.pseudonym = "Elev 010203-1234"
    with pytest.raises(InvalidInput) as caught:
        check_referral(referral, today=TODAY)
    assert caught.value.rule_id == "PRIV-2"
    assert caught.value.message == ("referral: remove the CPR number: pprflow stores a pseudonym and a birth year "
                                    "only")


def test_each_pathway_is_routed_whole_and_the_specialist_is_added_once_PATH_1_PATH_5_PATH_6_PATH_7(vejle: Any) -> None:
    from pprflow.models.profile import EarlyYearsContacts
    from pprflow.models.rules_intake import Routing, coordinator_for, route_referral

    boxes = vejle.mailboxes
    assert route_referral(rd.referral("ppv"), vejle) == Routing("ppr_request", ("ppr@vejle.dk",), None, True)
    assert route_referral(rd.referral("intervention_team"), vejle) == Routing(
        "intervention_team_request", ("metrm@vejle.dk",), None, False)
    assert route_referral(rd.referral("social_adviser"), vejle) == Routing(
        "social_adviser_request", (boxes.social_advisers,), None, False)
    # No directory entry: the early-years mailbox, named once even as the specialist too.
    assert route_referral(rd.referral("early_years_consultant", assessment_for_minigroup_or_solen=True), vejle) == \
        Routing("early_years_request", (boxes.early_years_consultants,), boxes.early_years_consultants, False)
    shouting = vejle.model_copy(update={"early_years_directory": {"Børnehuset Solsikken": EarlyYearsContacts(
        pedagogical="anne@vejle.example", disability="ANNE@vejle.example")}})
    assert route_referral(rd.referral("early_years_consultant", assessment_for_minigroup_or_solen=True),
                          shouting) == Routing("early_years_request", ("anne@vejle.example",), "anne@vejle.example")
    # Vejle's early-years consultants share the PPR mailbox: one recipient, still named as the specialist.
    assert boxes.early_years_consultants == "ppr@vejle.dk"
    assert route_referral(rd.referral("ppr_individual", assessment_for_minigroup_or_solen=True), vejle) == Routing(
        "ppr_request", ("ppr@vejle.dk",), "ppr@vejle.dk", True)
    assert coordinator_for(rd.referral()) == "sofie@skovbakke.example"
