"""The Danish message catalogue (models/messages.py): every rule error of intake gets a Danish line that keeps
its rule ID, and the CLI prints the same line (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest

from pprflow.models.errors import PprflowError, RuleViolation
from pprflow.models.messages import CATALOGUE, danish, danish_line
from pprflow.models.rules_intake import check_referral
from tests.referral_data import referral

REFUSED = [
    (dict(action_plan=None), "PATH-1"),
    (dict(school_start=False), "PATH-2"),
    (dict(parents=[], consent=None), "PATH-2"),
    (dict(action_plan={**referral().action_plan.model_dump(), "community_measures": None}), "PATH-3"),  # type: ignore[union-attr]
    (dict(consent=None), "PATH-4"),
]


@pytest.mark.parametrize(("overrides", "rule_id"), REFUSED)
def test_intake_refusals_are_danish_and_keep_the_rule_id(overrides: dict, rule_id: str) -> None:  # type: ignore[type-arg]
    pathway = "ppv" if overrides.get("school_start") is False else "ppr_individual"
    with pytest.raises(PprflowError) as caught:
        check_referral(referral(pathway, **overrides), today=dt.date(2026, 11, 20))
    message = danish(caught.value)
    assert caught.value.rule_id == rule_id
    assert message.text.endswith(f"({rule_id})") and message.field is not None
    assert message.text != caught.value.one_line(), "the catalogue knows this refusal"
    assert danish_line(caught.value) == message.text


def test_every_catalogue_entry_is_reachable_only_by_its_rule() -> None:
    for entry in CATALOGUE:
        other = RuleViolation("XYZ-9", entry.pattern)
        assert danish(other).text == other.one_line(), "a phrase alone does not match another rule's error"


def test_the_cli_keeps_the_json_path_of_an_input_error() -> None:
    from pprflow.models.errors import InvalidInput

    exc = InvalidInput("referral: action_plan.goal: must not be empty", rule_id="PLAN-1")
    assert danish_line(exc) == exc.one_line()
    assert danish(exc).field == "plan_goal" and "skal udfyldes" in danish(exc).text


def test_unknown_errors_keep_their_own_line() -> None:
    exc = PprflowError("sag 7 findes ikke")
    assert danish_line(exc) == "sag 7 findes ikke"
