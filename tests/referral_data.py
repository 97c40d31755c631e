"""Synthetic referrals for tests (the JSON of `pprflow referral submit`; .example addresses only)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pprflow.models.referral import Referral, parse_referral

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "referrals"

PLAN: dict[str, Any] = {
    "context": "Eleven trækker sig fra fællesskabet i 3.B.",
    "goal": "Eleven deltager i gruppearbejde tre gange om ugen; de voksne skaber faste rammer.",
    "signs": "Eleven bliver i gruppen; de voksne bruger samme struktur i alle fag.",
    "measures": "Fast makker, visuel dagsplan, samtale med klasselæreren hver fredag.",
    "evaluation": "Teammøde efter seks uger sammen med forældrene.",
    "community_measures": "Faste grupper og klassemøder for hele 3.B i otte uger.",
}

CONSENT: dict[str, Any] = {
    "given_by": ["Hanne Berg", "Jonas Berg"],
    "date": "2026-11-16",
    "information": "Trivsel, læring og forhold i hjemmet af betydning for trivslen.",
    "recipients": ["PPR Vejle", "Skovbakkeskolen"],
    "purpose": "Individforløb i PPR.",
}

PARENTS = [{"name": "Hanne Berg", "email": "hanne.berg@hjem.example"},
           {"name": "Jonas Berg", "email": "jonas.berg@hjem.example"}]


def data(pathway: str = "ppr_individual", **overrides: Any) -> dict[str, Any]:
    """A valid referral of `pathway` as a dict; `overrides` replace top-level fields."""
    base: dict[str, Any] = {
        "pathway": pathway,
        "institution": {"name": "Skovbakkeskolen", "kind": "school", "district": "Nord"},
        "submitted_by": {"name": "Sofie Mikkelsen", "email": "sofie@skovbakke.example", "role": "teacher"},
        "child": {"pseudonym": "Elev K-417", "birth_year": 2017},
        "group": "3.B",
        "parents": copy.deepcopy(PARENTS),
        "consent": copy.deepcopy(CONSENT),
        "action_plan": copy.deepcopy(PLAN),
        "local_resources_involved": False,
        "school_start": False,
        "suspected_abuse": False,
        "concern": "Eleven har trukket sig fra klassefællesskabet siden sommerferien.",
    }
    if pathway == "ppr_learning_environment":
        base.update(child=None, parents=[], consent=None, group="5.A")
    elif pathway == "ppv":
        base.update(submitted_by={"name": "Lene Holm", "email": "lene@skovbakke.example", "role": "school_leader"},
                    school_start=True)
    elif pathway == "intervention_team":
        base.update(institution={"name": "Børnehuset Solsikken", "kind": "daycare", "district": "Nord"},
                    submitted_by={"name": "Mette Hansen", "email": "mette@solsikken.example",
                                  "role": "pedagogical_leader"},
                    child=None, parents=[], consent=None, group="Mariehønestuen", local_resources_involved=True)
    elif pathway == "social_adviser":
        base.update(institution={"name": "Børnehuset Solsikken", "kind": "daycare", "district": "Nord"},
                    submitted_by={"name": "Mette Hansen", "email": "mette@solsikken.example",
                                  "role": "pedagogical_leader"},
                    child=None, parents=[], consent=None, action_plan=None, group=None)
    elif pathway == "early_years_consultant":
        base.update(institution={"name": "Børnehuset Solsikken", "kind": "daycare", "district": "Nord"},
                    submitted_by={"name": "Mette Hansen", "email": "mette@solsikken.example",
                                  "role": "pedagogical_leader"},
                    child={"pseudonym": "Barn L-208", "birth_year": 2023}, action_plan=None, group=None)
    base.update(overrides)
    return base


def referral(pathway: str = "ppr_individual", **overrides: Any) -> Referral:
    return parse_referral(data(pathway, **overrides))


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
