"""Strict input as properties (issue 14): one configuration for every input model (models/input.py).

Control and direction-override characters, megabyte texts, strings for booleans and integers, absurd
dates and the same parent twice are refused with one line naming the field; ordinary Danish text passes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pprflow.models.errors import InvalidInput
from pprflow.models.input import MAX_TEXT, forbidden_character
from pprflow.models.referral import parse_referral
from pprflow.models.rules_kv import KVTopicIn
from pprflow.models.rules_meetings import MinutesInput
from pprflow.models.staff import parse_staff
from tests import referral_data as rd
from tests.property.test_privacy_properties import ordinary_text

# --- named strategies ------------------------------------------------------------------------------

forbidden_characters = st.one_of(
    st.sampled_from(["\x00", "\x1b", "\x07", "\x7f", "\x85", "\u202e", "\u202d", "\u2066", "\u2067", "\u2068",
                     "\u2069", "\u200e", "\u200f", "\u061c", "\u202a"]),
    st.characters(min_codepoint=0, max_codepoint=31).filter(lambda c: c not in "\n\r\t"),
)
"""NUL, ESC, BEL, DEL, the C1 controls and every bidirectional override/isolate/mark."""

TEXT_FIELDS = ["concern", "group", "child.pseudonym", "action_plan.goal", "consent.purpose", "parents.0.name",
               "submitted_by.name", "institution.name", "local_lead"]
BOOL_FIELDS = ["suspected_abuse", "school_start", "local_resources_involved", "assessment_for_minigroup_or_solen"]
not_booleans = st.sampled_from(["yes", "true", "1", "ja", "no", 1, 0, "on"])
not_integers = st.one_of(st.integers(min_value=1990, max_value=2030).map(str), st.booleans(),
                         st.sampled_from(["2017 ", "to tusind"]))


def _put(data: dict, path: str, value: object) -> None:  # type: ignore[type-arg]
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]  # type: ignore[index]
    node[last] = value


def _refused(data: dict, field: str) -> str:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as caught:
        parse_referral(data)
    line = caught.value.one_line()
    assert line.startswith(f"referral: {field}") and "\n" not in line, line
    return line


# --- properties ------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(TEXT_FIELDS), char=forbidden_characters, before=ordinary_text, after=ordinary_text)
def test_a_control_or_bidi_character_in_any_text_is_refused_naming_the_field(
        field: str, char: str, before: str, after: str) -> None:
    data = rd.data("intervention_team") if field == "local_lead" else rd.data()
    _put(data, field, f"{before[:40]}{char}{after[:40]}")
    assert "control or direction-override" in _refused(data, field)


@settings(max_examples=200, deadline=None)
@given(text=ordinary_text)
def test_ordinary_danish_text_is_accepted_everywhere(text: str) -> None:
    assert forbidden_character(text) is None
    data = rd.data()
    data["concern"] = f"Bekymring: {text}"
    data["action_plan"]["goal"] = text[:2000] or "Mål"
    assert parse_referral(data).concern.startswith("Bekymring")
    MinutesInput.model_validate({"summary": text, "actions": [{"text": text[:2000] or "x"}]})


@settings(max_examples=50, deadline=None)
@given(field=st.sampled_from(BOOL_FIELDS), value=not_booleans)
def test_a_boolean_is_true_or_false_not_a_word(field: str, value: object) -> None:
    data = rd.data()
    data[field] = value
    assert "must be true or false" in _refused(data, field)


@settings(max_examples=50, deadline=None)
@given(value=not_integers)
def test_a_birth_year_is_a_number_not_a_string(value: object) -> None:
    data = rd.data()
    data["child"]["birth_year"] = value
    _refused(data, "child.birth_year")


@settings(max_examples=20, deadline=None)
@given(extra=st.integers(min_value=1, max_value=5_000_000))
def test_a_text_longer_than_a_person_writes_is_refused(extra: int) -> None:
    data = rd.data()
    data["concern"] = "x" * (MAX_TEXT + extra)
    assert "at most 10000" in _refused(data, "concern")


@settings(max_examples=50, deadline=None)
@given(day=st.one_of(st.dates(max_value=dt.date(1989, 12, 31)), st.dates(min_value=dt.date(2101, 1, 1))))
def test_dates_outside_sensible_bounds_are_refused(day: dt.date) -> None:
    data = rd.data()
    data["consent"]["date"] = day.isoformat()
    _refused(data, "consent.date")
    with pytest.raises(ValueError):
        KVTopicIn(institution="Skolen", session_date=day, text="Overgange")


@settings(max_examples=50, deadline=None)
@given(upper=st.booleans(), spaces=st.booleans())
def test_the_same_parent_twice_is_refused_not_dropped(upper: bool, spaces: bool) -> None:
    data = rd.data()
    email = data["parents"][0]["email"]
    again = email.upper() if upper else email
    data["parents"].append({"name": "Samme Forælder", "email": f" {again} " if spaces else again})
    assert "the same address" in _refused(data, "parents")


def test_a_consent_before_the_childs_birth_year_is_refused_LAW_3() -> None:
    from pprflow.models.errors import RuleViolation
    from pprflow.models.rules_intake import check_referral

    data = rd.data()
    data["consent"]["date"] = f"{data['child']['birth_year'] - 1}-06-01"
    with pytest.raises(RuleViolation) as caught:
        check_referral(parse_referral(data), today=dt.date(2026, 11, 23))
    assert caught.value.rule_id == "LAW-3" and "birth year" in caught.value.one_line()


@settings(max_examples=50, deadline=None)
@given(char=forbidden_characters)
def test_the_staff_directory_input_is_strict_too(char: str) -> None:
    with pytest.raises(InvalidInput):
        parse_staff({"name": f"Ny{char}Lærer", "email": "ny@skole.example", "role": "teacher"})
    with pytest.raises(InvalidInput):
        parse_staff({"name": "Ny Lærer", "email": "ny@skole.example", "role": "rektor"})  # roles from the list
    with pytest.raises(InvalidInput):
        parse_staff({"name": "Ny Lærer", "email": "ny@skole.example", "role": "teacher", "active": "ja"})
