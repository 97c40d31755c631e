"""Each message says what its rule requires. Test names carry the rule ID (RULES.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pprflow.models.errors import InvalidInput
from pprflow.templates.catalogue import MESSAGE_KINDS
from pprflow.templates.render import RenderedMessage, render_message


def example(kind: str) -> dict[str, Any]:
    return MESSAGE_KINDS[kind].example_context()


def render(kind: str, **changes: Any) -> RenderedMessage:
    return render_message(kind, {**example(kind), **changes})


SMTTE = ("Sammenhæng", "Mål", "Tegn", "Tiltag", "Evaluering")


# ---- the catalogue ------------------------------------------------------------------------------

def test_ESC_1_only_the_agenda_the_minutes_and_the_handover_may_ever_reach_parents() -> None:
    # ROLE-1 [003]: "alle involverede fagprofessionelle og familien" must know who the coordinator is.
    assert {k for k, m in MESSAGE_KINDS.items() if m.may_reach_parents} == {
        "network_agenda", "minutes", "coordinator_handover"}


def test_catalogue_entries_are_complete() -> None:
    for kind, entry in MESSAGE_KINDS.items():
        assert entry.kind == kind
        assert re.fullmatch(r"[A-Z]+-\d+", entry.rule_id), entry.rule_id
        assert entry.description and entry.audience
        context = entry.example_context()
        assert entry.optional_keys <= set(context), (kind, entry.optional_keys - set(context))
        assert {"municipality", "recipient_name", "sender_name"} <= set(context)
        # the two kinds for parents carry no link into the staff system; every staff kind may
        if entry.may_reach_parents:  # no link into the staff system in a mail a parent may get
            assert context.get("link") is None, kind
        else:
            assert "link" in context, kind


def test_example_context_is_a_fresh_copy_each_call() -> None:
    first = MESSAGE_KINDS["minutes"].example_context()
    first["actions"].clear()
    first["case"]["id"] = -1
    second = MESSAGE_KINDS["minutes"].example_context()
    assert second["actions"] and second["case"]["id"] != -1


# ---- pathways -------------------------------------------------------------------------------------

def test_PATH_1_PLAN_1_ppr_request_carries_the_form_and_all_five_SMTTE_fields() -> None:
    context = example("ppr_request")
    message = render_message("ppr_request", context)
    for part in (message.text, message.html):
        assert "Henvendelsesskema".lower() in part.lower()
        for heading in SMTTE:
            assert heading in part
        for field in ("context", "goal", "signs", "measures", "evaluation"):
            assert context["action_plan"][field] in part


def test_PATH_1_ppr_request_without_consent_says_it_concerns_a_group() -> None:
    message = render("ppr_request", consent_given_on=None)
    assert "ikke indhentet" in message.text and "gruppe eller klasse" in message.text


def test_PATH_5_PLAN_1_intervention_team_request_names_the_local_lead_and_the_plan() -> None:
    message = render("intervention_team_request")
    assert "Lene Holm, sprogansvarlig" in message.text
    assert "AKT/sprogansvarlig" in message.text
    for heading in SMTTE:
        assert heading in message.text and heading in message.html


def test_PATH_6_anonymous_social_adviser_request_hides_the_child_and_says_so() -> None:
    context = example("social_adviser_request")
    context["case"]["child_label"] = "Barn K-417 (født 2019)"  # even if a caller passes one
    message = render_message("social_adviser_request", context)
    assert "Barn K-417" not in message.text and "Barn K-417" not in message.html
    assert "anonym" in message.text.lower() and "uden samtykke" in message.text
    assert message.subject.startswith("Anonym sparring")


def test_PATH_6_social_adviser_request_with_consent_shows_the_child() -> None:
    import datetime as dt

    context = example("social_adviser_request")
    context["case"]["child_label"] = "Barn K-417 (født 2019)"
    message = render_message("social_adviser_request", {**context, "consent_given_on": dt.date(2026, 11, 2)})
    assert "Barn K-417 (født 2019)" in message.text
    assert "2. november 2026" in message.text
    assert not message.subject.startswith("Anonym")


def test_PATH_7_early_years_request_says_the_disability_specialist_must_be_involved() -> None:
    message = render("early_years_request")
    assert "funktionsnedsættelser og sygdom" in message.text and "minigruppe eller Solen" in message.text
    assert "Anne Bech" in message.text
    plain = render("early_years_request", specialist_required=False, specialist_name=None)
    assert "skal derfor være med" not in plain.text
    assert "minigruppe" not in plain.subject


def test_PATH_4_receipt_names_the_district_meeting_and_the_next_step() -> None:
    message = render("receipt")
    assert "distriktsmødet tirsdag den 1. december 2026" in message.text
    assert "opstartsmøde" in message.text


def test_PATH_4_assignment_asks_the_ppr_employee_to_arrange_the_startup_meeting() -> None:
    message = render("assignment")
    assert "aftal et opstartsmøde" in message.text
    assert "Kontakt Mette Hansen senest tirsdag den 8. december 2026" in message.text
    assert "telefon +45 76 81 52 10, e-mail mette.hansen@vejle.example" in message.text  # issue 16
    # Issue 16: the subject is the instruction: verb, object, deadline on a working day (CAL-10), case number.
    assert message.subject.startswith("Ny sag 1042: kontakt Børnehuset Solsikken senest tirsdag den 8. december")
    assert "opstartsmøde" in message.subject


def test_PATH_4_startup_meeting_reminder_gives_date_time_and_place() -> None:
    message = render("startup_meeting_reminder")
    assert "mandag den 14. december 2026 kl. 14.30–16.00" in message.text
    assert "Børnehuset Solsikken, mødelokalet" in message.text


# ---- calendar -----------------------------------------------------------------------------------

def test_CAL_2_agenda_deadline_reminder_names_the_deadline_and_the_yellow_form() -> None:
    message = render("agenda_deadline_reminder")
    assert "senest torsdag den 3. december" in message.subject and "send dagsordenen" in message.subject
    assert "gule skema" in message.text and "5 arbejdsdage før mødet" in message.text
    assert "forældre og samarbejdspartnere" in message.text
    assert "#fff8d6" in message.html  # the yellow form colour


def test_CAL_2_network_agenda_is_the_yellow_form_with_the_items_and_the_invite_note() -> None:
    context = example("network_agenda")
    message = render_message("network_agenda", context)
    assert "Gult skema" in message.text and "Gult skema" in message.html  # staff see the form
    assert "#fff8d6" in message.html
    for item in context["agenda_items"]:
        assert item in message.text
    assert "kalenderinvitation" in message.text
    assert "torsdag den 10. december kl. 9.00–10.30" in message.subject
    assert "netværkskortet" in message.text  # MEET-5
    parent = render_message("network_agenda", {**context, "for_parent": True})
    assert "skema" not in parent.text.lower() and "netværkskortet" in parent.text  # issue 16: explained, no form


def test_CAL_3_kv_notice_reminder_asks_for_topics_with_five_days_notice_KV_1() -> None:
    message = render("kv_notice_reminder")
    assert "senest torsdag den 3. december 2026" in message.text
    assert "mindst 5 dages varsel" in message.text
    assert "anonym" in message.text and "børns navne" in message.text


def test_CAL_5_district_case_list_lists_every_new_case() -> None:
    context = example("district_case_list")
    message = render_message("district_case_list", context)
    for case in context["cases"]:
        assert f"Sag {case['id']}" in message.text
        assert case["institution"] in message.html
    assert "Nye sager (2)" in message.html
    empty = render("district_case_list", cases=[])
    assert "ingen nye sager" in empty.text


def test_CAL_6_review_reminder_names_the_half_year_deadline() -> None:
    message = render("review_reminder")
    # CAL-10: six months after 31 Aug is Sunday 28 Feb 2027; the reader is asked to act by Friday.
    assert "senest fredag den 26. februar 2027" in message.text
    assert "søndag den 28. februar 2027" in message.text and "senest søndag" not in message.text + message.subject
    assert "hvert halve år" in message.text and "nødvendig og relevant" in message.text


def test_CAL_6_review_overdue_says_the_deadline_has_passed() -> None:
    message = render("review_overdue")
    assert message.subject.startswith("Sag 2087: indkald straks")
    assert "skulle have været vurderet senest fredag den 26. februar 2027" in message.text


# ---- meetings -------------------------------------------------------------------------------------

def test_MEET_2_minutes_list_each_action_with_one_responsible_and_its_follow_up() -> None:
    context = example("minutes")
    message = render_message("minutes", context)
    for action in context["actions"]:
        assert action["text"] in message.text
    assert message.text.count("Ansvarlig:") == len(context["actions"])
    for word in ("Fortsætter", "Justeres", "Ny"):
        assert word in message.text and word in message.html
    assert "#e8f4fc" in message.html  # the light-blue form colour
    assert "skema" not in message.text.lower()  # the example goes to a parent: no form names (issue 16)
    assert "Næste møde: torsdag den 4. februar 2027" in message.text
    assert "fortsætter den, skal den justeres, eller skal den ændres" in message.text


def test_MEET_2_an_unknown_follow_up_is_refused() -> None:
    context = example("minutes")
    context["actions"][0]["follow_up"] = "maybe"
    with pytest.raises(InvalidInput) as caught:
        render_message("minutes", context)
    assert caught.value.rule_id == "MEET-2"


def test_MEET_2_minutes_without_actions_say_so() -> None:
    message = render("minutes", actions=[], next_meeting_date=None, summary=None)
    assert "ikke aftalt handlinger" in message.text
    assert "Næste møde er ikke fastlagt" in message.text


def test_KV_1_kv_topic_list_is_anonymous_and_carries_no_case() -> None:
    context = example("kv_topic_list")
    assert "case" not in context and "cases" not in context
    message = render_message("kv_topic_list", context)
    assert "Emnerne er anonyme" in message.text
    for topic in context["topics"]:
        assert topic in message.text
    empty = render("kv_topic_list", topics=[])
    assert "ingen emner" in empty.text
    # The leader signs the list: it never asks to agree with the pedagogical leader (issue 16).
    assert "pædagogiske leder" not in empty.text and "Ring eller skriv til mig" in empty.text


# ---- escalation, law, consent, roles ----------------------------------------------------------------

def test_ESC_1_abuse_notification_says_the_parents_are_not_to_be_informed() -> None:
    message = render("abuse_notification")
    assert "Forældrene er ikke orienteret" in message.text
    assert "må ikke orienteres" in message.text and "må ikke orienteres" in message.html
    assert message.subject.startswith("HASTER")
    assert "vold eller overgreb" in message.subject
    assert "#c53030" in message.html


def test_ESC_1_LAW_2_abuse_notification_asks_for_the_acknowledgement_by_its_deadline() -> None:
    message = render("abuse_notification")
    assert "kvittering for modtagelsen senest onsdag den 2. december 2026" in message.text
    assert "sofie.mikkelsen@randers.example" in message.text


def test_LAW_2_acknowledgement_overdue_tells_the_leader_the_acknowledgement_is_late() -> None:
    message = render("acknowledgement_overdue")
    assert "ikke kommet kvittering" in message.text
    assert "Fristen var onsdag den 2. december 2026 (6 arbejdsdage)" in message.text
    assert "forældrene ikke må orienteres" in message.text  # ESC-1 still holds


def test_CONS_1_consent_withdrawn_says_no_more_information_may_be_exchanged() -> None:
    context = example("consent_withdrawn")
    message = render_message("consent_withdrawn", context)
    assert "må der ikke udveksles oplysninger" in message.text
    for partner in context["partners"]:
        assert partner in message.text
    assert "mandag den 30. november 2026 kl. 15.05" in message.text


def test_ROLE_1_handover_names_the_new_and_the_previous_coordinator() -> None:
    message = render("coordinator_handover")
    assert "er Sofie Mikkelsen tovholder" in message.text
    assert "overtager efter Jens Østergaard" in message.text
    assert "Sofie Mikkelsen" in message.subject
    assert "sofie.mikkelsen@randers.example" in message.text


def test_KV_2_kv_topic_list_names_the_participants() -> None:
    message = render("kv_topic_list")
    # Roles read in lower case after a comma; PPR keeps its capitals (issue 16).
    assert "Ahmed Khalil, psykolog, PPR" in message.text and "logopæd" in message.text


def test_LVL_5_LVL_6_family_centre_contact_says_whether_the_outposted_social_worker_was_involved() -> None:
    message = render("family_centre_contact")
    assert "niveau 5 i familien (før niveau 4)" in message.text
    assert "Den fremskudte socialrådgiver, Birgitte Dam, har været inddraget" in message.text
    assert "allerede en sag hos jer" not in message.text
    without = render("family_centre_contact", outposted_social_worker_name=None, has_caseworker=True)
    assert "ikke registreret en fremskudt socialrådgiver" in without.text
    assert "allerede en sag hos jer" in without.text


@pytest.mark.parametrize("kind", ["agenda_deadline_reminder", "review_reminder", "review_overdue"])
def test_ESC_1_staff_reminders_on_a_confidential_case_never_tell_staff_to_involve_the_parents(kind: str) -> None:
    from pprflow.templates.render import render_message

    context = MESSAGE_KINDS[kind].example_context()
    context["case"]["confidential_from_parents"] = True
    message = render_message(kind, context)
    for body in (message.text, message.html):
        assert "forældrene må ikke orienteres eller inviteres" in body or "må ikke orienteres, inviteres" in body
        for wording in ("Inviter forældrene", "forældre og samarbejdspartnere", "Bed familien",
                        "forældresamtykke", "dagtilbud/skole, forældre"):
            assert wording.lower() not in body.lower(), (kind, wording)
    ordinary = render_message(kind, MESSAGE_KINDS[kind].example_context())
    assert "fortrolig over for forældrene" not in ordinary.text
