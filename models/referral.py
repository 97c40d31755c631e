"""The referral (henvendelse) as input: the JSON of `pprflow referral submit`, the intake flow's
parameter (the Prefect UI renders it as a form) and the tests' fixture — one model for all three.

Strict: an unknown field is refused (a typo such as ``"actionplan"`` must not silently drop the
action plan). Minimal data (PRIV-2): a child is a pseudonym and a birth year, nothing more.
Pure: no database, no Prefect. `parse_referral` turns pydantic's errors into ONE line,
``referral: <field path>: <what is wrong>``, raised as `InvalidInput` (exit 2 in the CLI).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from pprflow.models.address import EmailAddress
from pprflow.models.errors import InvalidInput
from pprflow.models.input import StrictInput
from pprflow.models.rules_privacy import is_cpr_error

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A required text: surrounding whitespace is stripped, and an empty text is refused."""

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

StaffRole = Literal[
    "teacher", "pedagogue", "pedagogical_leader", "school_leader", "daycare_leader",
    "ppr_psychologist", "ppr_consultant", "sup", "speech_therapist", "social_adviser",
    "intervention_team_leader", "health_visitor", "family_centre_caseworker",
]
"""Staff roles in snake_case: lærer, pædagog, pædagogisk leder, skoleleder, dagtilbudsleder,
PPR-psykolog, PPR-konsulent, SUP (specialpædagogisk udviklingsperson), logopæd, socialfaglig
rådgiver, leder af Pædagogisk Indsatsteam, sundhedsplejerske, sagsbehandler i familiecentret."""

STAFF_ROLES: tuple[str, ...] = StaffRole.__args__  # type: ignore[attr-defined]

ReferralPathway = Literal[
    "ppr_learning_environment", "ppr_individual", "ppv", "intervention_team", "social_adviser",
    "early_years_consultant",
]
PPR_PATHWAYS: frozenset[str] = frozenset({"ppr_learning_environment", "ppr_individual", "ppv"})
"""PATH-1/PATH-2: the three PPR request types (læringsmiljøforløb, individforløb, PPV)."""

INDIVIDUAL_PATHWAYS: frozenset[str] = frozenset({"ppr_individual", "ppv"})
"""PATH-2/PATH-3: the PPR request types about one child (individforløb, PPV)."""


class _Strict(StrictInput):  # one configuration for every input model; PRIV-2: no CPR number in any text
    pass


class InstitutionIn(_Strict):
    """The school (skole) or daycare (dagtilbud) that refers, and its district (distrikt, CAL-5)."""

    name: ShortText = Field(description="Institutionens navn, fx 'Skovbakkeskolen'.")
    kind: Literal["daycare", "school", "health_visitors"] = Field(
        description="daycare (dagtilbud), school (skole) eller health_visitors (sundhedsplejen, før "
                    "institutionsalderen, ROLE-2).")
    district: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="PPR-distrikt; sagen kommer på distriktets næste distriktsmøde (CAL-5).")


class SubmitterIn(_Strict):
    """Who sends the request (afsender): a staff member of the institution."""

    name: ShortText
    email: EmailAddress
    role: StaffRole = Field(description="Rolle, fx teacher, pedagogue, pedagogical_leader, school_leader.")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9][0-9 ]{5,}$",
                              description="Direkte telefon: mails giver den, så modtageren kan ringe (issue 16).")


class ChildIn(_Strict):
    """The child (barnet): a pseudonym and a birth year only — never a CPR number (PRIV-2)."""

    pseudonym: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="Et pseudonym, fx 'Barn A' — aldrig CPR-nummer eller fulde navn (PRIV-2).")
    birth_year: int = Field(ge=1990, le=2100, description="Fødselsår, fx 2017.")


class ParentIn(_Strict):
    """A holder of parental authority (forældremyndighedsindehaver)."""

    name: ShortText
    email: EmailAddress


class ConsentIn(_Strict):
    """Written consent (samtykke, Forvaltningsloven §28, LAW-3): who gave it, when, which kinds of
    information, to which recipients, for what purpose. Every part is required."""

    given_by: list[ShortText] = Field(min_length=1, description="Forældremyndighedsindehavernes navne.")
    date: dt.date = Field(description="Dato for det skriftlige samtykke.")
    information: Text = Field(description="Hvilke slags oplysninger der må udveksles.")
    recipients: list[ShortText] = Field(min_length=1, description="Hvem oplysningerne må gå til.")
    purpose: Text = Field(description="Formålet med udvekslingen.")


class ActionPlanIn(_Strict):
    """The action plan (handleplan) in SMTTE form (PLAN-1): Sammenhæng, Mål, Tegn, Tiltag, Evaluering.

    Every SMTTE part is required and non-empty when a plan is given. `community_measures` is how the
    plan connects to the level-1 measures in the child's communities (PLAN-1, principle 6); an
    individual course or a PPV must fill it in (PATH-3: community first).
    """

    context: Text = Field(description="Sammenhæng.")
    goal: Text = Field(description="Mål — for barnet og for de voksne.")
    signs: Text = Field(description="Tegn — for barnet og for de voksne.")
    measures: Text = Field(description="Tiltag.")
    evaluation: Text = Field(description="Evaluering.")
    community_measures: Text | None = Field(
        default=None,
        description="Tiltag i fællesskabet/læringsmiljøet (trin 1) der er afprøvet; krævet ved individforløb og PPV "
                    "(PATH-3).")


class Referral(_Strict):
    """A referral (henvendelse) from a school or daycare to the external support system.

    One model for the CLI's JSON, the intake flow's parameter and the tests.
    """

    pathway: ReferralPathway = Field(description="Hvilket spor henvendelsen går ad (PATH-1 … PATH-7).")
    institution: InstitutionIn
    submitted_by: SubmitterIn
    child: ChildIn | None = Field(default=None, description="Barnet (pseudonym + fødselsår) eller null.")
    group: ShortText | None = Field(default=None, description="Klasse/gruppe, fx '3.B' eller 'Sommerfuglene'.")
    parents: list[ParentIn] = Field(default_factory=list)
    consent: ConsentIn | None = None
    action_plan: ActionPlanIn | None = None
    local_resources_involved: bool = Field(
        default=False, description="Den lokale AKT-/sprogansvarlige er inddraget (PATH-5).")
    local_lead: ShortText | None = Field(
        default=None, description="Den lokale AKT-/sprogansvarlige, der er inddraget, fx 'Lene Holm, sprogansvarlig' "
                                  "(PATH-5).")
    social_adviser_email: EmailAddress | None = Field(
        default=None, description="Den betjenende socialfaglige rådgiver; ellers kommunens postkasse (PATH-6).")
    school_start: bool = Field(default=False, description="PPV i forbindelse med skolestart (PATH-2).")
    suspected_abuse: bool = Field(
        default=False, description="Mistanke om vold eller overgreb: underretning straks, forældre orienteres ikke "
                                   "(ESC-1).")
    assessment_for_minigroup_or_solen: bool = Field(
        default=False, description="Barnet vurderes til minigruppe eller Solen: specialkonsulenten for "
                                   "funktionsnedsættelser og sygdom inddrages (PATH-7).")
    concern: Text = Field(description="Bekymringen med egne ord.")

    @field_validator("parents")
    @classmethod
    def _each_parent_once(cls, parents: list[ParentIn]) -> list[ParentIn]:
        """The same parent (address) twice is a mistake to fix, not something to drop without a word."""
        seen: dict[str, int] = {}
        for index, parent in enumerate(parents):
            key = str(parent.email).strip().casefold()
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_person", "parents {first} and {again} have the same address {email}: list each "
                    "holder of parental authority once", {"first": seen[key], "again": index, "email": key})
            seen[key] = index
        return parents


# --- one-line validation errors -----------------------------------------------------------------

_RULE_OF_SECTION = {"consent": "LAW-3", "action_plan": "PLAN-1", "child": "PRIV-2"}
"""A malformed consent is a LAW-3 matter, a malformed action plan PLAN-1, a child beyond pseudonym
+ birth year PRIV-2: the one-line error names the rule so the user can look it up."""


def _what(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field (not part of the referral; check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return "must have at least one entry"
    if kind == "value_error" and error.get("ctx", {}).get("error") is not None:
        return str(error["ctx"]["error"])  # our own one-line message (e.g. the e-mail address type)
    message = str(error.get("msg", "invalid value"))
    return message[0].lower() + message[1:] if message else "invalid value"


def validation_error_line(exc: ValidationError, *, what: str = "referral") -> InvalidInput:
    """Turn pydantic's multi-line error into ONE line naming the field path: the first error,
    plus how many more there are (the user fixes one at a time, the message stays readable)."""
    # An unknown field first: a typo ("actionplan") also makes the real field look "missing".
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    first = errors[0]
    path = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    section = str(first["loc"][0]) if first.get("loc") else ""
    rule_id = "PRIV-2" if is_cpr_error(first) else _RULE_OF_SECTION.get(section)
    return InvalidInput(f"{what}: {path}: {_what(first)}{more}", rule_id=rule_id)


def parse_referral(data: str | bytes | dict[str, Any]) -> Referral:
    """A validated `Referral` from JSON text or a dict; any problem is one `InvalidInput` line."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"referral: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InvalidInput("referral: expected a JSON object with pathway, institution, submitted_by, concern ...")
    try:
        return Referral.model_validate(data)
    except ValidationError as exc:
        raise validation_error_line(exc) from None
