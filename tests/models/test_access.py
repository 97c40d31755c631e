"""The one access policy (PRIV-3, PRIV-4) as a pure function: who reads, who changes, who runs jobs."""

from __future__ import annotations

import pytest

from pprflow.models.access import (
    ANY_STAFF_PERMS,
    CHANGE_PERMS,
    JOB_PERMS,
    READ_PERMS,
    Actor,
    CaseFacts,
    MessageFacts,
    Perm,
    case_facts,
    decide,
    has_perm,
)

FACTS = case_facts(
    case_id=7, coordinator="Laerer@Skole.example", assigned_ppr="psykolog@ppr.example",
    submitted_by="laerer@skole.example", staff_parties=[("hs@sund.example", "health_visitor")],
    leader_of={"laerer@skole.example": "leder@skole.example", "psykolog@ppr.example": "pprleder@ppr.example"},
    institution_leaders=["paedleder@skole.example"], institution_id=3, district="Nord",
)


def person(email: str, role: str = "teacher", institution_id: int | None = None,
           district: str | None = None) -> Actor:
    return Actor(id=email.lower(), kind="person", role=role, institution_id=institution_id, district=district)


ADMIN = person("admin@ppr.example", "administrator")
STRANGER = person("fremmed@andenkommune.example")
SYSTEM = Actor.system("system:sweep")


@pytest.mark.parametrize(("actor", "allowed"), [
    (person("laerer@skole.example"), True),          # coordinator and submitter
    (person("psykolog@ppr.example"), True),          # the assigned PPR employee
    (person("hs@sund.example"), True),               # a partner on the case
    (person("leder@skole.example"), True),           # the coordinator's leader
    (person("pprleder@ppr.example"), True),          # the PPR employee's leader
    (person("paedleder@skole.example"), True),       # the institution's leader
    (ADMIN, True),                                   # PPR's administration
    (STRANGER, False),                               # a known colleague not on the case
    (SYSTEM, False),                                 # a system job reads no case through an entrance
    (Actor.unknown("mor@hjem.example"), False),      # not in the staff directory (a parent)
    (Actor(id="laerer@skole.example", kind="inactive"), False),  # deactivated
])
def test_only_assigned_staff_and_their_leaders_read_a_case_PRIV_3(actor: Actor, allowed: bool) -> None:
    assert has_perm(actor, Perm.CASE_READ, FACTS) is allowed
    assert has_perm(actor, Perm.AUDIT_READ, FACTS) is allowed
    assert has_perm(actor, Perm.MESSAGE_READ, MessageFacts(case=FACTS)) is allowed


@pytest.mark.parametrize(("actor", "allowed"), [
    (person("laerer@skole.example"), True),          # the coordinator
    (person("psykolog@ppr.example"), True),          # the assigned PPR employee
    (person("paedleder@skole.example"), True),       # the institution's leader
    (ADMIN, True),
    (person("hs@sund.example"), False),              # a partner reads, but changes nothing
    (person("leder@skole.example"), False),          # a leader of someone on it reads, but does not change
    (STRANGER, False),
    (SYSTEM, False),
    (Actor.unknown("fremmed@andenkommune.example"), False),
])
def test_changing_needs_a_right_not_a_name_PRIV_4(actor: Actor, allowed: bool) -> None:
    for perm in CHANGE_PERMS:
        assert has_perm(actor, perm, FACTS) is allowed, perm


def test_the_refusal_names_the_rule_and_is_danish_PRIV_3_PRIV_4() -> None:
    read = decide(STRANGER, Perm.CASE_READ, FACTS)
    assert not read.allowed and read.rule_id == "PRIV-3" and "må ikke læse sag 7" in read.refusal
    change = decide(STRANGER, Perm.CASE_HANDOVER, FACTS)
    assert not change.allowed and change.rule_id == "PRIV-4" and "må ikke ændre sag 7" in change.refusal
    unknown = decide(Actor.unknown("os:root"), Perm.CASE_CLOSE, FACTS)
    assert unknown.rule_id == "PRIV-4" and "ikke en kendt, aktiv medarbejder" in unknown.refusal


def test_the_basis_says_why_PRIV_3() -> None:
    assert decide(person("laerer@skole.example"), Perm.CASE_READ, FACTS).basis == "coordinator"
    assert decide(person("pprleder@ppr.example"), Perm.CASE_READ, FACTS).basis == "leader of psykolog@ppr.example"
    assert decide(person("paedleder@skole.example"), Perm.CASE_CLOSE, FACTS).basis == "leader of the institution"


def test_reporting_abuse_is_never_blocked_by_access_ESC_1_LAW_1() -> None:
    assert has_perm(STRANGER, Perm.CASE_REPORT_ABUSE, FACTS)
    assert not has_perm(Actor.unknown("x@y.example"), Perm.CASE_REPORT_ABUSE, FACTS), "a known person reports"


def test_jobs_are_for_system_jobs_and_administrators() -> None:
    for perm in JOB_PERMS:
        assert has_perm(SYSTEM, perm) and has_perm(ADMIN, perm)
        assert not has_perm(person("laerer@skole.example"), perm)
        assert not has_perm(Actor.unknown("os:root"), perm)


def test_any_active_staff_member_lists_filtered_and_submits() -> None:
    for perm in ANY_STAFF_PERMS - {Perm.CASE_REPORT_ABUSE}:
        assert has_perm(STRANGER, perm) and not has_perm(SYSTEM, perm)
        assert not has_perm(Actor(id="a@b.example", kind="inactive"), perm)


def test_administrators_keep_the_directory_and_the_district_meetings() -> None:
    for perm in (Perm.STAFF_MANAGE, Perm.STAFF_LIST, Perm.DISTRICT_SCHEDULE):
        assert has_perm(ADMIN, perm) and not has_perm(person("paedleder@skole.example", "pedagogical_leader"), perm)


def test_kv_is_scheduled_by_the_institutions_leader_or_an_administrator() -> None:
    leader = person("paedleder@skole.example", "pedagogical_leader", institution_id=3)
    assert has_perm(leader, Perm.KV_SCHEDULE, institution_id=3)
    assert not has_perm(leader, Perm.KV_SCHEDULE, institution_id=4)
    assert not has_perm(leader, Perm.KV_SCHEDULE, institution_id=None), "a new institution: administrators"
    assert has_perm(ADMIN, Perm.KV_SCHEDULE, institution_id=None)


def test_a_message_of_no_case_is_read_only_by_those_who_may_read_every_case_it_shows_PRIV_3() -> None:
    other = case_facts(case_id=8, coordinator="andre@skole.example", assigned_ppr=None,
                       submitted_by="andre@skole.example", staff_parties=[], leader_of={}, institution_leaders=[])
    case_list = MessageFacts(shows=(FACTS, other), district="Nord")
    assert not has_perm(person("laerer@skole.example"), Perm.MESSAGE_READ, case_list), "one of two cases only"
    assert has_perm(ADMIN, Perm.MESSAGE_READ, case_list)
    both = case_facts(case_id=8, coordinator="laerer@skole.example", assigned_ppr=None,
                      submitted_by="laerer@skole.example", staff_parties=[], leader_of={}, institution_leaders=[])
    assert has_perm(person("laerer@skole.example"), Perm.MESSAGE_READ, MessageFacts(shows=(FACTS, both)))
    topic_list = MessageFacts(shows=(), institution_id=3, district="Nord")
    assert has_perm(person("kollega@skole.example", institution_id=3), Perm.MESSAGE_READ, topic_list)
    assert not has_perm(STRANGER, Perm.MESSAGE_READ, topic_list)


def test_every_permission_has_exactly_one_home() -> None:
    groups = [READ_PERMS, CHANGE_PERMS, ANY_STAFF_PERMS, JOB_PERMS]
    for perm in Perm:
        homes = sum(perm in g for g in groups)
        assert homes <= 1, perm
    assert isinstance(FACTS, CaseFacts)
