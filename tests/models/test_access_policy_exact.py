"""The access policy (models/access.py, PRIV-3, PRIV-4) pinned exactly: every fact it derives, every basis it
audits and every Danish refusal line a user reads. Every value is built inside the test (not at import), so a
mutation run (scripts/mutation.sh access) sees each test call the code it checks."""

from __future__ import annotations

import pytest

from pprflow.models.access import (
    ADMIN_PERMS,
    ANY_STAFF_PERMS,
    CASE_PERMS,
    CHANGE_PERMS,
    JOB_PERMS,
    READ_PERMS,
    Actor,
    CaseFacts,
    Decision,
    MessageFacts,
    Perm,
    case_facts,
    decide,
    has_perm,
    is_system_actor,
)


def person(email: str, role: str = "teacher", institution_id: int | None = None,
           district: str | None = None) -> Actor:
    return Actor(id=email, kind="person", role=role, institution_id=institution_id, district=district)


def facts() -> CaseFacts:
    return case_facts(
        case_id=7, coordinator=" Laerer@Skole.example ", assigned_ppr="Psykolog@PPR.example",
        submitted_by="LAERER@skole.example",
        staff_parties=[("hs@sund.example", "health_visitor"), ("HS@sund.example", "partner"), ("", "teacher"),
                       ("pprleder@ppr.example", "ppr")],
        leader_of={"laerer@skole.example": " Leder@Skole.example", "psykolog@ppr.example": "pprleder@ppr.example",
                   "hs@sund.example": "leder@skole.example"},
        institution_leaders=["PaedLeder@skole.example", "", "leder@skole.example", "hs@sund.example"],
        institution_id=3, district="Nord",
    )


ADMIN = person("admin@ppr.example", "administrator")
STRANGER = person("fremmed@andenkommune.example")


def test_case_facts_are_the_people_of_the_case_each_with_why_lower_case_first_reason_wins_PRIV_3() -> None:
    assert facts() == CaseFacts(
        case_id=7, coordinator="laerer@skole.example", assigned_ppr="psykolog@ppr.example",
        assigned={"laerer@skole.example": "coordinator", "psykolog@ppr.example": "assigned PPR employee",
                  "hs@sund.example": "on the case (health_visitor)", "pprleder@ppr.example": "on the case (ppr)"},
        leaders={"leder@skole.example": "leader of laerer@skole.example",
                 "paedleder@skole.example": "leader of the institution"},
        institution_leaders=frozenset({"paedleder@skole.example", "leder@skole.example", "hs@sund.example"}),
        institution_id=3, district="Nord",
    )


def test_case_facts_without_a_ppr_employee_or_leaders_PRIV_3() -> None:
    bare = case_facts(case_id=None, coordinator="a@skole.example", assigned_ppr=None, submitted_by="B@skole.example",
                      staff_parties=[], leader_of={"a@skole.example": None, "b@skole.example": ""},
                      institution_leaders=[])
    assert bare == CaseFacts(case_id=None, coordinator="a@skole.example", assigned_ppr=None,
                             assigned={"a@skole.example": "coordinator", "b@skole.example": "submitter"},
                             leaders={}, institution_leaders=frozenset(), institution_id=None, district=None)
    blank_ppr = case_facts(case_id=1, coordinator="a@skole.example", assigned_ppr="  ", submitted_by="a@skole.example",
                           staff_parties=[], leader_of={}, institution_leaders=[])
    assert blank_ppr.assigned_ppr is None and blank_ppr.assigned == {"a@skole.example": "coordinator"}


def test_a_system_job_an_unknown_and_a_person_are_told_apart_PRIV_4() -> None:
    assert is_system_actor(" System:Sweep ") and is_system_actor("system:outbox")
    assert not is_system_actor("sweep") and not is_system_actor("mor@hjem.example")
    assert Actor.system(" System:Sweep ") == Actor(id="system:sweep", kind="system")
    assert Actor.unknown(" Mor@Hjem.example ") == Actor(id="mor@hjem.example", kind="unknown")
    assert Actor.unknown(None) == Actor(id="", kind="unknown")  # type: ignore[arg-type]
    assert ADMIN.is_person and ADMIN.is_administrator
    assert STRANGER.is_person and not STRANGER.is_administrator
    inactive_admin = Actor(id="admin@ppr.example", kind="inactive", role="administrator")
    assert not inactive_admin.is_person and not inactive_admin.is_administrator


@pytest.mark.parametrize(("actor", "read", "change"), [
    (person("laerer@skole.example"), "coordinator", "coordinator"),
    (person("psykolog@ppr.example"), "assigned PPR employee", "assigned PPR employee"),
    (person("hs@sund.example"), "on the case (health_visitor)", "leader of the institution"),
    (person("leder@skole.example"), "leader of laerer@skole.example", "leader of the institution"),
    (person("paedleder@skole.example"), "leader of the institution", "leader of the institution"),
    (person("pprleder@ppr.example"), "on the case (ppr)", None),
    (ADMIN, "administrator", "administrator"),
    (STRANGER, None, None),
])
def test_the_audited_basis_of_every_reader_and_changer_PRIV_3_PRIV_4(actor: Actor, read: str | None,
                                                                    change: str | None) -> None:
    case = facts()
    for perm in READ_PERMS - {Perm.MESSAGE_READ}:
        assert decide(actor, perm, case).basis == (read or "")
        assert decide(actor, perm, case).allowed is (read is not None)
    assert decide(actor, Perm.MESSAGE_READ, MessageFacts(case=case)).basis == (read or "")
    for perm in CHANGE_PERMS:
        assert decide(actor, perm, case).basis == (change or ""), perm
        assert has_perm(actor, perm, case) is (change is not None), perm


def test_the_one_named_by_the_entrance_may_change_but_only_that_one_MEET_4_LAW_2() -> None:
    case = facts()
    also = {" Referent@Skole.example": "leads the meeting (MEET-4)"}
    assert decide(person("referent@skole.example"), Perm.MEETING_MINUTES, case, also=also).basis == \
        "leads the meeting (MEET-4)"
    assert not has_perm(person("referent@skole.example"), Perm.MEETING_MINUTES, case)
    assert not has_perm(STRANGER, Perm.MEETING_MINUTES, case, also=also)
    no_ppr = case_facts(case_id=2, coordinator="a@skole.example", assigned_ppr=None, submitted_by="a@skole.example",
                        staff_parties=[], leader_of={}, institution_leaders=[])
    assert not has_perm(person(""), Perm.CASE_CLOSE, no_ppr), "no assigned PPR employee is nobody's right"
    assert decide(person(""), Perm.CASE_CLOSE, no_ppr).refusal.startswith("(ingen) må ikke ændre sag 2")


@pytest.mark.parametrize(("actor", "text"), [
    (Actor(id="x@skole.example", kind="inactive", role="administrator"),
     "x@skole.example er deaktiveret i medarbejderkartoteket og kan ikke handle; bed en administrator om at "
     "genaktivere (pprflow staff add)"),
    (Actor.unknown("os:root"),
     "os:root er ikke en kendt, aktiv medarbejder; handl som en navngiven medarbejder med --as EMAIL (en "
     "administrator tilføjer dig med pprflow staff add)"),
    (Actor.unknown(""),
     "(ingen) er ikke en kendt, aktiv medarbejder; handl som en navngiven medarbejder med --as EMAIL (en "
     "administrator tilføjer dig med pprflow staff add)"),
    (Actor.system("system:sweep"),
     "system:sweep er et systemjob og kører kun job; en sag læses og ændres af en navngiven medarbejder: brug "
     "--as EMAIL"),
])
def test_who_is_not_a_known_active_person_is_refused_in_one_danish_line_PRIV_4(actor: Actor, text: str) -> None:
    case = facts()
    for perm in (*CASE_PERMS, *ANY_STAFF_PERMS, *ADMIN_PERMS, Perm.KV_SCHEDULE):
        assert decide(actor, perm, case, institution_id=3) == Decision(False, refusal=text, rule_id="PRIV-4"), perm
    assert decide(actor, Perm.MESSAGE_READ, MessageFacts(case=case)) == Decision(False, refusal=text,
                                                                                rule_id="PRIV-4")


def test_jobs_run_as_the_system_or_an_administrator_and_the_refusal_says_so_PRIV_4() -> None:
    for perm in JOB_PERMS:
        assert decide(Actor.system("system:sweep"), perm) == Decision(True, basis="system job")
        assert decide(ADMIN, perm) == Decision(True, basis="administrator")
        assert decide(STRANGER, perm) == Decision(
            False, refusal=f"fremmed@andenkommune.example må ikke køre job ({perm.value}); det gør systemet eller en "
                           "administrator", rule_id="PRIV-4")
        inactive = decide(Actor(id="x@skole.example", kind="inactive"), perm)
        assert inactive.rule_id == "PRIV-4" and inactive.refusal.startswith("x@skole.example er deaktiveret")


def test_any_active_staff_member_lists_and_submits_and_reports_ESC_2_LAW_1() -> None:
    for perm in ANY_STAFF_PERMS:
        assert decide(STRANGER, perm, facts()) == Decision(True, basis="active staff member")
        assert decide(ADMIN, perm) == Decision(True, basis="administrator")


def test_the_directory_and_district_meetings_are_for_administrators_in_one_danish_line_PRIV_4() -> None:
    leader = person("paedleder@skole.example", "pedagogical_leader", institution_id=3)
    for perm in ADMIN_PERMS:
        assert decide(ADMIN, perm) == Decision(True, basis="administrator")
        assert decide(leader, perm) == Decision(
            False, refusal=f"paedleder@skole.example må ikke {perm.value}: kun en administrator (rolle administrator "
                           "i medarbejderkartoteket)", rule_id="PRIV-4")


def test_kv_is_scheduled_by_a_leader_of_that_institution_or_an_administrator_PRIV_4() -> None:
    refusal = ("{} må ikke planlægge KV for institutionen: kun dens leder eller en administrator")
    for role in ("pedagogical_leader", "school_leader", "daycare_leader"):
        leader = person("leder@skole.example", role, institution_id=3)
        assert decide(leader, Perm.KV_SCHEDULE, institution_id=3) == Decision(True, basis="leader of the institution")
        assert decide(leader, Perm.KV_SCHEDULE, institution_id=4) == Decision(
            False, refusal=refusal.format("leder@skole.example"), rule_id="PRIV-4")
    teacher = person("laerer@skole.example", "teacher", institution_id=3)
    assert not has_perm(teacher, Perm.KV_SCHEDULE, institution_id=3), "a teacher of the institution is no leader"
    no_institution = person("leder@skole.example", "school_leader", institution_id=None)
    assert not has_perm(no_institution, Perm.KV_SCHEDULE, institution_id=None)
    assert decide(ADMIN, Perm.KV_SCHEDULE, institution_id=None) == Decision(True, basis="administrator")


def test_reading_and_changing_are_refused_in_one_danish_line_naming_the_rule_PRIV_3_PRIV_4() -> None:
    case = facts()
    assert decide(STRANGER, Perm.CASE_READ, case) == Decision(
        False, refusal="fremmed@andenkommune.example må ikke læse sag 7: kun sagens medarbejdere og deres ledere; "
                       "bed sagens tovholder om at tilføje dig", rule_id="PRIV-3")
    assert decide(STRANGER, Perm.CASE_HANDOVER, case) == Decision(
        False, refusal="fremmed@andenkommune.example må ikke ændre sag 7 (case.handover): kun tovholderen, den "
                       "tildelte PPR-medarbejder, institutionens leder eller en administrator", rule_id="PRIV-4")
    assert decide(STRANGER, Perm.MESSAGE_READ, MessageFacts(case=case)) == Decision(
        False, refusal="fremmed@andenkommune.example må ikke læse mails i sag 7: kun sagens medarbejdere og deres "
                       "ledere", rule_id="PRIV-3")


def test_a_permission_asked_without_its_target_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="^message.read needs MessageFacts$"):
        decide(STRANGER, Perm.MESSAGE_READ, facts())
    with pytest.raises(TypeError, match=r"^case\.read needs the case's facts$"):
        decide(STRANGER, Perm.CASE_READ, MessageFacts(case=facts()))
    with pytest.raises(TypeError, match=r"^case\.close needs the case's facts$"):
        decide(ADMIN, Perm.CASE_CLOSE)


def _other(case_id: int, coordinator: str) -> CaseFacts:
    return case_facts(case_id=case_id, coordinator=coordinator, assigned_ppr=None, submitted_by=coordinator,
                      staff_parties=[], leader_of={}, institution_leaders=[])


def test_a_message_of_no_case_exactly_PRIV_3() -> None:
    mine, theirs = _other(1, "laerer@skole.example"), _other(2, "andre@skole.example")
    me = person("laerer@skole.example", institution_id=3, district="Nord")
    assert decide(me, Perm.MESSAGE_READ, MessageFacts(shows=(mine, theirs), institution_id=3, district="Nord")) == \
        Decision(False, refusal="laerer@skole.example må ikke læse mailen: den viser sager, du ikke må læse (1 af 2)")
    assert decide(ADMIN, Perm.MESSAGE_READ, MessageFacts(shows=(theirs,))) == Decision(True, basis="administrator")
    assert decide(me, Perm.MESSAGE_READ, MessageFacts(shows=(mine,))) == Decision(
        True, basis="may read every case it shows")
    staff = "staff of its district or institution"
    nobody = "laerer@skole.example må ikke læse mailen: kun distriktets eller institutionens medarbejdere"
    assert decide(me, Perm.MESSAGE_READ, MessageFacts(district="Nord")) == Decision(True, basis=staff)
    assert decide(me, Perm.MESSAGE_READ, MessageFacts(institution_id=3)) == Decision(True, basis=staff)
    assert decide(me, Perm.MESSAGE_READ, MessageFacts(district="Syd", institution_id=4)) == Decision(False,
                                                                                                  refusal=nobody)
    homeless = person("laerer@skole.example")  # no district, no institution
    assert decide(homeless, Perm.MESSAGE_READ, MessageFacts()) == Decision(False, refusal=nobody)
    assert not has_perm(homeless, Perm.MESSAGE_READ, MessageFacts(institution_id=3))
    assert not has_perm(homeless, Perm.MESSAGE_READ, MessageFacts(district="Nord"))


def test_a_permission_the_policy_does_not_know_is_an_error_never_an_answer_PRIV_4() -> None:
    """A new permission added to an entrance but not to a group of the policy fails loudly, naming it."""
    with pytest.raises(ValueError, match=r"^unknown permission 'case\.teleport'$"):
        decide(ADMIN, "case.teleport", facts())  # type: ignore[arg-type]
