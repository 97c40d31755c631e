"""Issue 16: every kind, as each reader gets it, carries what that reader needs to act and nothing they must not see.

Audiences (templates/catalogue.py): staff, parent (only the kinds that may reach parents, ESC-1) and
confidential (a staff mail on a case kept from the parents). Facts are asserted on both the text and
the HTML part; the subject is checked where it is the instruction.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from pprflow.profiles import load_profile
from pprflow.templates.catalogue import AUDIENCES, MESSAGE_KINDS, audience_context
from pprflow.templates.render import RenderedMessage, after_comma, render_message, time_range

KINDS = sorted(MESSAGE_KINDS)
CASES = [(kind, audience) for kind in KINDS for audience in AUDIENCES if audience_context(kind, audience)]
PARENT_KINDS = sorted(k for k, m in MESSAGE_KINDS.items() if m.may_reach_parents)
MEETING_KINDS = ("network_agenda", "minutes", "agenda_deadline_reminder", "startup_meeting_reminder",
                 "kv_notice_reminder", "kv_topic_list", "district_case_list")
WORKING_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag")
PHONE = re.compile(r"\+45 \d\d \d\d \d\d \d\d")
# The ESC-1 notification and its LAW-2 reminder: their subjects name the case in their own words.
NOTIFICATION_KINDS = {"abuse_notification", "acknowledgement_overdue"}


# What people typed (a concern, a purpose, an action plan) is theirs; these tests judge the templates' words.
FREE_TEXT = ("purpose", "concern", "tried", "question", "summary", "reason")


def rendered(kind: str, audience: str, *, neutral_text: bool = False) -> tuple[dict[str, Any], RenderedMessage]:
    context = audience_context(kind, audience)
    assert context is not None
    if neutral_text:
        for key in FREE_TEXT:
            if context.get(key):
                context[key] = "Fri tekst."
        if context.get("action_plan"):
            context["action_plan"] = dict.fromkeys(context["action_plan"], "Fri tekst.")
    return context, render_message(kind, context)


def both(message: RenderedMessage) -> tuple[str, str]:
    return message.text, message.html


def test_every_kind_renders_for_every_audience_that_receives_it() -> None:
    assert {k for k, _ in CASES} == set(KINDS)
    assert {k for k, a in CASES if a == "parent"} == {"network_agenda", "minutes", "coordinator_handover"}
    for kind, audience in CASES:
        rendered(kind, audience)


# ---- parents: "jeres barn", never a pseudonym, a level, a form colour or a case number -----------------

@pytest.mark.parametrize("kind", PARENT_KINDS)
def test_a_mail_to_parents_speaks_of_jeres_barn_and_shows_no_internal_label(kind: str) -> None:
    context, message = rendered(kind, "parent")
    case = context["case"]
    everything = "\n".join((message.subject, message.text, message.html))
    assert "jeres barn" in message.subject and "jeres barn" in message.text and "jeres barn" in message.html
    assert case["child_label"] not in everything  # the pseudonym "Elev R-233 (født 2015)"
    assert "R-233" not in everything
    for forbidden in ("Niveau", "niveau", "gult", "GULT", "lyseblå", "LYSEBLÅ", "skema", "Skema", "SKEMA"):
        assert forbidden not in everything, forbidden
    assert f"sag {case['id']}" not in everything.lower()  # an internal number means nothing to a parent
    assert "#fff8d6" not in message.html or kind == "network_agenda"  # the panel tint, never named


@pytest.mark.parametrize("kind", ["network_agenda", "minutes"])
def test_a_meeting_mail_to_parents_gives_date_time_range_address_and_how_to_reach_the_leader(kind: str) -> None:
    context, message = rendered(kind, "parent")
    meeting = context["meeting"]
    for part in both(message):
        assert "torsdag den 10. december 2026" in part
        assert "kl. 9.00–10.30" in part  # start AND end
        assert meeting["address"] in part  # "Søndervangs Allé 10, 8920 Randers NV"
    if kind == "network_agenda":
        leader = meeting["leader"]
        for part in both(message):
            assert leader["name"] in part and leader["email"] in part and leader["phone"] in part
            assert "skoleleder" in part  # the leader's role, lower case after the comma
        # Who takes part, in which role.
        for person in context["participants"]:
            assert f"{person['name']}, {after_comma(person['role'])}" in message.text
        assert "netværkskortet" in message.text and "oversigt over de mennesker" in message.text  # explained


def test_the_handover_to_parents_says_who_the_new_coordinator_is_and_how_to_reach_them() -> None:
    context, message = rendered("coordinator_handover", "parent")
    new = context["new_coordinator"]
    for part in both(message):
        assert new["name"] in part and new["phone"] in part and new["email"] in part
        assert "klasselærer" in part  # their role to the family
        assert "tovholder" in part and "holder sammen på samarbejdet" in part  # what a tovholder is
        assert "overtager efter Jens Østergaard" in part


# ---- staff: the case number and the level stay ----------------------------------------------------------

@pytest.mark.parametrize(("kind", "audience"), [(k, a) for k, a in CASES if a != "parent"])
def test_a_staff_mail_keeps_the_case_number_and_the_level(kind: str, audience: str) -> None:
    context, message = rendered(kind, audience)
    case = context.get("case")
    if case is None:
        pytest.skip("no case: KV is anonymous (KV-1); the district list names each case")
    assert str(case["id"]) in message.text and str(case["id"]) in message.html
    if kind not in NOTIFICATION_KINDS and kind not in {"receipt", "social_adviser_request"}:
        assert str(case["id"]) in message.subject  # "Sag 2087: ..." — staff sort by case number
    for level in (case["level_institution"], case["level_family"]):
        if level:
            assert level in message.text


@pytest.mark.parametrize("kind", MEETING_KINDS)
def test_a_staff_meeting_mail_gives_the_time_range_and_the_address(kind: str) -> None:
    context, message = rendered(kind, "staff")
    meeting = context["meeting"]
    span = time_range(meeting["starts_at"], meeting["ends_at"])
    assert "–" in span
    for part in both(message):
        assert span in part and meeting["address"] in part


# ---- confidential case (ESC-1): staff mails never suggest involving the parents -----------------------

INVOLVE_PARENTS = ("Inviter forældrene", "forældre og samarbejdspartnere", "Bed familien", "netværkskort",
                   "samtykke fra forældrene, hvis", "derhjemme", "Forældrenes perspektiv",
                   "forældre, samarbejdspartnere", "Dagtilbud/skole, forældre")


@pytest.mark.parametrize("kind", sorted({k for k, a in CASES if a == "confidential"}))
def test_ESC_1_a_staff_mail_on_a_confidential_case_never_suggests_involving_the_parents(kind: str) -> None:
    _, message = rendered(kind, "confidential", neutral_text=True)
    everything = "\n".join((message.subject, message.text, message.html))
    for phrase in INVOLVE_PARENTS:
        assert phrase.lower() not in everything.lower(), (kind, phrase)


def test_ESC_1_the_same_kinds_do_suggest_it_when_the_case_is_not_confidential() -> None:
    # The test above can fail: on an ordinary case these mails do ask for the parents.
    for kind in ("agenda_deadline_reminder", "review_reminder", "review_overdue", "network_agenda"):
        _, message = rendered(kind, "staff", neutral_text=True)
        assert any(p.lower() in message.text.lower() for p in INVOLVE_PARENTS), kind


# ---- deadlines: on a working day, with its weekday (CAL-10) ----------------------------------------------

@pytest.mark.parametrize(("kind", "audience"), CASES)
def test_CAL_10_every_deadline_asked_for_falls_on_a_working_day(kind: str, audience: str) -> None:
    _, message = rendered(kind, audience)
    for part in (message.subject, message.text):
        for weekday in re.findall(r"senest (\w+dag) den", part):
            assert weekday in WORKING_WEEKDAYS, (kind, part)


def test_CAL_10_the_examples_deadlines_are_working_days_of_the_profile_calendar() -> None:
    from pprflow.models.calendar import WorkingCalendar

    calendar = WorkingCalendar.for_profile(load_profile("randers"))
    for kind in KINDS:
        context = MESSAGE_KINDS[kind].example_context()
        asked = [context.get("act_by") or context.get("deadline"), context.get("acknowledgement_due")]
        meeting = context.get("meeting") or {}
        asked.append(meeting.get("agenda_deadline"))
        for day in asked:
            if isinstance(day, dt.date):
                assert calendar.is_working_day(day), (kind, day)


@pytest.mark.parametrize("kind", ["assignment", "agenda_deadline_reminder", "review_reminder", "kv_notice_reminder"])
def test_a_reminder_subject_is_an_instruction_with_verb_object_and_deadline(kind: str) -> None:
    _, message = rendered(kind, "staff")
    assert re.search(r"\b(kontakt|send|vurder)\b", message.subject.lower()), message.subject
    assert re.search(r"senest (mandag|tirsdag|onsdag|torsdag|fredag) den \d+\. \w+", message.subject)


def test_the_assignment_subject_reads_as_the_issue_asks() -> None:
    _, message = rendered("assignment", "staff")
    assert message.subject.startswith("Ny sag 1042: kontakt Børnehuset Solsikken senest tirsdag den 8. december")


# ---- everyone: a phone number, a signer, no doubled signature, roles in lower case -----------------------

@pytest.mark.parametrize(("kind", "audience"), CASES)
def test_every_mail_carries_a_phone_number(kind: str, audience: str) -> None:
    _, message = rendered(kind, audience)
    assert PHONE.search(message.text) and PHONE.search(message.html)


@pytest.mark.parametrize(("kind", "audience"), CASES)
def test_the_signature_is_never_doubled(kind: str, audience: str) -> None:
    context, message = rendered(kind, audience)
    signature = message.text.split("Med venlig hilsen", 1)[1]
    lines = [line for line in signature.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), lines
    assert signature.count(context["municipality"]) <= 1 + signature.count(context["unit"]["name"])


def test_a_person_who_signs_is_named_with_role_phone_and_email_and_the_unit_is_not_doubled() -> None:
    context, message = rendered("network_agenda", "parent")
    signature = message.text.split("Med venlig hilsen", 1)[1]
    assert "Jens Østergaard, skoleleder, Søndervangskolen" in signature
    assert "+45 89 15 42 00" in signature and "jens.ostergaard@randers.example" in signature
    assert "et svar går direkte til Jens Østergaard" in signature  # Reply-To explained
    unit_signed = render_message("agenda_deadline_reminder", audience_context("agenda_deadline_reminder", "staff")
                                 or {})
    tail = unit_signed.text.split("Med venlig hilsen", 1)[1]
    assert tail.count("Randers Kommune") == 1  # "Børn og Skole, Randers Kommune" — not again below it


def test_roles_after_a_comma_are_lower_case_and_names_keep_their_capitals() -> None:
    assert after_comma("Psykolog, PPR") == "psykolog, PPR"
    assert after_comma("Mor") == "mor"
    assert after_comma("PPR-psykolog") == "PPR-psykolog"
    assert after_comma("De Åbne Rådgivninger") == "De Åbne Rådgivninger"
    _, message = rendered("kv_topic_list", "staff")
    assert "Ahmed Khalil, psykolog, PPR" in message.text and "Mette Hansen, pædagogisk leder" in message.text


# ---- the smaller Danish fixes -------------------------------------------------------------------------------

def test_the_level_3_consent_line_appears_only_at_level_3() -> None:
    context = audience_context("agenda_deadline_reminder", "staff")
    assert context is not None
    line = "mere end ét møde på niveau 3"
    assert line in render_message("agenda_deadline_reminder", context).text
    for level in (4, None):
        changed = {**context, "meeting": {**context["meeting"], "level_number": level}}
        assert line not in render_message("agenda_deadline_reminder", changed).text


def test_consent_withdrawn_says_the_duty_to_notify_still_applies() -> None:
    _, message = rendered("consent_withdrawn", "staff")
    for part in both(message):
        assert "Underretningspligten gælder stadig" in part
    assert "på grundlag af dette samtykke" in message.text and "på dette samtykke" not in message.text


def test_the_receipt_starts_its_sentences_with_a_capital_and_keeps_its_articles() -> None:
    context = audience_context("receipt", "staff")
    assert context is not None
    message = render_message("receipt", {**context, "received_by": "de socialfaglige rådgivere i Vejle Kommune"})
    assert "De socialfaglige rådgivere i Vejle Kommune modtog henvendelsen" in message.text
    assert ". de " not in message.text


@pytest.mark.parametrize(("kind", "audience"), CASES)
def test_the_phrases_the_issue_names_are_gone(kind: str, audience: str) -> None:
    _, message = rendered(kind, audience)
    for phrase in ("der kan genkende et barn", "hos os er det", "mødeleder for tværfagligt", "giv Nikolaj",
                   "Barn: ", "Niveau: Niveau", "(GULT SKEMA)"):
        assert phrase not in message.text, (kind, phrase)


def test_the_kv_topic_list_without_topics_does_not_ask_the_leader_to_agree_with_herself() -> None:
    context = audience_context("kv_topic_list", "staff")
    assert context is not None
    message = render_message("kv_topic_list", {**context, "topics": []})
    assert "pædagogiske leder" not in message.text
    assert "Ring eller skriv til mig" in message.text and "ingen emner" in message.subject


# ---- the preview script writes where it is told, never into the repository --------------------------------

def test_preview_templates_writes_every_audience_to_the_folder_named(tmp_path: Path) -> None:
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("preview_templates", root / "scripts" / "preview_templates.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    pages = script.write_previews(tmp_path / "preview")
    assert len(pages) == len(CASES)
    assert (tmp_path / "preview" / "network_agenda.parent.txt").read_text(encoding="utf-8").startswith("Emne: ")
    with pytest.raises(SystemExit) as refused:
        script.output_folder(str(root / "artifacts" / "template-preview"))
    assert "inside the repository" in str(refused.value)


# ---- the family centre: the notification reads like a Danish underretning (ESC-1, LAW-1, LAW-2) ----------

@pytest.mark.parametrize("audience", ["staff", "confidential"])
def test_ESC_1_LAW_1_the_notification_says_who_reports_about_whom_what_when_what_was_done_and_how_to_reach(
        audience: str) -> None:
    _, message = rendered("abuse_notification", audience)
    for part in both(message):
        assert "Sofie Mikkelsen" in part and "+45 89 15 42 17" in part, "who reports, and her phone"
        assert "klasselærer, Søndervangskolen" in part and ", Klasselærer" not in part
        assert "Emil Jensen" in part and "4.A" in part and "2015" in part, "enough to identify the child"
        assert "blå mærker" in part and "tirsdag den 24. november 2026 kl. 10.15" in part, "what and when"
        assert "AKT-læreren" in part, "what has been done"
        assert "døgnvagt" in part and "114" in part, "the out-of-hours route"
        assert "senest onsdag den 2. december 2026" in part, "the acknowledgement deadline (LAW-2)"
        assert "må ikke orienteres" in part
    assert message.text.count("ikke orienteret") == 1 and "FORÆLDRENE" not in message.text, "said once, not shouted"
    assert "Med venlig hilsen\nSofie Mikkelsen, klasselærer, Søndervangskolen" in message.text, "signed by the person"
    assert "Kære Familie- og Rådgivningscentret, Modtagelsen" in message.text


def test_LAW_1_a_reporter_without_a_phone_in_the_directory_is_still_reachable_through_the_unit() -> None:
    context = audience_context("abuse_notification", "staff")
    assert context is not None
    context.update(reported_by_phone=None, actions_taken=None)
    context["signer"]["phone"] = None
    message = render_message("abuse_notification", context)
    for part in both(message):
        assert context["unit"]["phone"] in part and "mit eget nummer er ikke registreret" in part
        assert "Ikke andet end denne underretning." in part
