"""A child who moves keeps the case (ROLE-3), and the youngest belong to the health visitors (ROLE-2).

ROLE-2 [003, niveau 3 og 4 "Før institutionsalderen"]: before daycare age a case belongs to the health
visitors' team (sundhedsplejen, an institution kind in the directory), and the health visitor
(sundhedsplejerske) is the central professional who calls the network meeting.
ROLE-3: a child who moves (daycare → school, school → school, and from the health visitors to a daycare)
keeps the case — history, consent, levels, confidentiality and open deadlines go with it — and the new
institution's leader takes over; the old one is not reminded again.

Pure: kinds and roles in, decisions out.
"""

from __future__ import annotations

from pprflow.models.access import LEADER_ROLES
from pprflow.models.errors import InvalidInput, RuleViolation

__all__ = ["HEALTH_VISITORS", "INSTITUTION_KINDS", "INSTITUTION_KIND_LABELS", "check_transfer", "leader_roles_for"]

HEALTH_VISITORS = "health_visitors"
"""ROLE-2: the health visitors' team (sundhedsplejen) as an institution kind."""

INSTITUTION_KINDS: tuple[str, ...] = (HEALTH_VISITORS, "daycare", "school")
"""In the order a child passes them: before daycare age, daycare (dagtilbud), school (skole)."""

INSTITUTION_KIND_LABELS: dict[str, str] = {HEALTH_VISITORS: "sundhedsplejen", "daycare": "dagtilbud",
                                           "school": "skole"}


def leader_roles_for(institution_kind: str | None) -> tuple[str, ...]:
    """ROLE-2/MEET-4: who leads a case of an institution of this kind and calls its network meetings — the
    health visitor for the health visitors' team (before institution age), else the institution's leaders."""
    if institution_kind == HEALTH_VISITORS:
        return ("health_visitor", *LEADER_ROLES)
    return LEADER_ROLES


def check_transfer(*, case_id: int, status: str, from_name: str, from_kind: str, to_name: str,
                   to_kind: str) -> None:
    """ROLE-3: an open case moves to another institution the child actually moves on to: the same kind
    (school → school) or older (health visitors → daycare → school), never back."""
    if status != "open":
        raise InvalidInput(f"case {case_id} is {status}; only an open case moves with the child", rule_id="ROLE-3")
    if from_name == to_name:
        raise InvalidInput(f"case {case_id} already belongs to {to_name!r}", rule_id="ROLE-3")
    if to_kind not in INSTITUTION_KINDS:
        raise InvalidInput(f"{to_name!r} is a {to_kind!r}, not one of {', '.join(INSTITUTION_KINDS)}",
                           rule_id="ROLE-3")
    if from_kind in INSTITUTION_KINDS and INSTITUTION_KINDS.index(to_kind) < INSTITUTION_KINDS.index(from_kind):
        raise RuleViolation("ROLE-3", f"a child moves on from {INSTITUTION_KIND_LABELS[from_kind]} to "
                                      f"{INSTITUTION_KIND_LABELS[to_kind]}, not back: check the institution "
                                      f"({to_name!r})")
