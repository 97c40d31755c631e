"""models/rules_meetings.py, exactly (issue 15: `scripts/mutation.sh rules`): each refusal's rule ID and whole line,
the whole agenda, and the boundaries of CAL-2, LVL-1/3/4, MEET-1/2/4 and PATH-8."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, PprflowError, RuleViolation
from pprflow.models.rules_meetings import (
    AgendaDates,
    FollowUpInput,
    agenda_dates,
    agenda_form,
    agenda_items,
    check_follow_ups,
    check_level3_consent,
    check_meeting_level,
    check_partner_consent,
    earliest_meeting_date,
    leader_phone,
    meeting_end,
    meeting_place,
    single_responsible,
    stored_kind,
)

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))
TODAY = dt.date(2026, 11, 23)  # Monday


def refusal(call: Any) -> tuple[type, str | None, str]:
    with pytest.raises(PprflowError) as caught:
        call()
    return type(caught.value), caught.value.rule_id, caught.value.message


def test_the_place_and_the_leaders_phone_come_from_the_input_then_the_profile_or_are_refused_MEET_1_MEET_4() -> None:
    assert refusal(lambda: meeting_place(location=None, address=None, institution="Skovbakkeskolen", places={})) == (
        InvalidInput, "MEET-1", "meeting place 'Skovbakkeskolen' has no address: give address (--address) or add "
                                "'Skovbakkeskolen' to the profile's [places]; parents must be able to find the meeting")
    places = {"Skovbakkeskolen": "Skolevej 1", "Lokale 3": "Vej 2"}
    assert meeting_place(location=" Lokale 9 ", address=None, institution="Skovbakkeskolen", places=places) == (
        "Lokale 9", "Skolevej 1")
    assert meeting_place(location="Lokale 3", address=None, institution="Skovbakkeskolen", places=places) == (
        "Lokale 3", "Vej 2")
    assert meeting_place(location="  ", address="  Gade 4 ", institution="Skovbakkeskolen", places=places) == (
        "Skovbakkeskolen", "Gade 4")
    assert refusal(lambda: leader_phone(given=" ", directory=None, leader="leder@skole.example")) == (
        InvalidInput, "MEET-4", "the meeting leader leder@skole.example has no phone number in the staff directory: "
                                "give leader_phone (--leader-phone); parents must be able to reach the leader")
    assert leader_phone(given="  ", directory=" 12345678 ", leader="x") == "12345678"
    assert leader_phone(given=None, directory="12345678", leader="x") == "12345678"
    assert refusal(lambda: leader_phone(given=None, directory=None, leader="x"))[1] == "MEET-4"
    assert leader_phone(given=" 87654321 ", directory="12345678", leader="x") == "87654321"


def test_a_meeting_ends_after_it_starts_the_same_day() -> None:
    assert meeting_end(dt.time(9, 0), None) == dt.time(10, 30)
    assert meeting_end(dt.time(22, 29), None) == dt.time(23, 59)
    assert refusal(lambda: meeting_end(dt.time(22, 30), None)) == (
        InvalidInput, None, "a meeting starting at 22:30 would end after midnight; give ends_at")
    assert refusal(lambda: meeting_end(dt.time(9, 0), dt.time(9, 0))) == (
        InvalidInput, None, "the meeting ends (09:00) before it starts (09:00); give an end time after the start")
    assert meeting_end(dt.time(9, 0), dt.time(9, 1)) == dt.time(9, 1)


def agenda(meeting: dt.date, *, reminder: int = 2, urgent: str | None = None, days: int = 5) -> AgendaDates:
    return agenda_dates(CAL, meeting_date=meeting, today=TODAY, working_days=days, reminder_working_days=reminder,
                        urgent_reason=urgent)


def test_the_agenda_goes_out_five_working_days_before_and_an_urgent_meeting_at_once_CAL_2() -> None:
    assert refusal(lambda: agenda(dt.date(2026, 11, 20))) == (
        InvalidInput, "CAL-2", "the meeting date 2026-11-20 is in the past")
    assert refusal(lambda: agenda(dt.date(2026, 11, 27))) == (
        RuleViolation, "CAL-2", "the agenda for a meeting on 2026-11-27 had to go out by 2026-11-20, 5 working days "
                                "before; choose 2026-11-30 or later, or give the reason it cannot wait "
                                "(--urgent-reason) and the agenda goes out at once")
    assert agenda(dt.date(2026, 11, 27), urgent="Akut") == AgendaDates(TODAY, TODAY, short_notice=True)
    assert refusal(lambda: agenda(dt.date(2026, 12, 14), urgent=" Akut ")) == (
        InvalidInput, "CAL-2", "--urgent-reason is for a meeting inside the 5-working-day window; the agenda for "
                               "2026-12-14 can go out by 2026-12-07: leave --urgent-reason out")
    assert agenda(dt.date(2026, 12, 14), urgent="   ") == AgendaDates(dt.date(2026, 12, 7), dt.date(2026, 12, 3))
    assert agenda(dt.date(2026, 12, 14), reminder=0) == AgendaDates(dt.date(2026, 12, 7), dt.date(2026, 12, 7))
    assert agenda(dt.date(2026, 11, 30)) == AgendaDates(TODAY, TODAY)  # the deadline is today: still in time
    assert agenda(dt.date(2026, 12, 2), reminder=3) == AgendaDates(dt.date(2026, 11, 25), TODAY)  # never before today
    assert agenda(TODAY, days=0) == AgendaDates(TODAY, TODAY)
    assert earliest_meeting_date(CAL, TODAY, 5) == dt.date(2026, 11, 30)
    assert earliest_meeting_date(CAL, dt.date(2026, 11, 21), 0) == TODAY  # Saturday: the next working day
    # On a closed day the first guess (5 working days on: Friday the 27th) had its deadline on Friday the 20th,
    # already past: the search walks on to the first meeting day whose agenda can still go out in time.
    assert earliest_meeting_date(CAL, dt.date(2026, 11, 21), 5) == dt.date(2026, 11, 30)
    assert earliest_meeting_date(CAL, dt.date(2026, 11, 21), 1) == dt.date(2026, 11, 24)
    assert earliest_meeting_date(CAL, dt.date(2026, 12, 24), 5) == dt.date(2027, 1, 6)


def test_levels_kinds_and_forms_LVL_1_LVL_3_LVL_4_MEET_3() -> None:
    assert refusal(lambda: check_meeting_level("network", None, 5)) == (
        InvalidInput, "LVL-3", "a network meeting needs --level (the level it is held at)")
    assert refusal(lambda: check_meeting_level("network", 6, 5)) == (
        InvalidInput, "LVL-1", "level 6 is not between 1 and 5")
    assert refusal(lambda: check_meeting_level("development", 0, 5)) == (
        InvalidInput, "LVL-1", "level 0 is not between 1 and 5")
    check_meeting_level("development", None, 5)
    check_meeting_level("network", 5, 5)
    check_meeting_level("network", 1, 5)
    line = ("more than one meeting at level 3 needs the parents' consent: record it first with "
            "`pprflow consent give CASE --file consent.json`")
    assert refusal(lambda: check_level3_consent(level=3, earlier_level3_meetings=1, has_active_consent=False)) == (
        RuleViolation, "LVL-4", line)
    check_level3_consent(level=3, earlier_level3_meetings=0, has_active_consent=False)
    check_level3_consent(level=3, earlier_level3_meetings=2, has_active_consent=True)
    check_level3_consent(level=4, earlier_level3_meetings=2, has_active_consent=False)
    assert [stored_kind(k, first=f) for k in ("network", "development", "startup") for f in (True, False)] == [
        "network_first", "network_followup", "development", "development", "startup", "startup"]
    assert [agenda_form(k, first=f, level=3) for k in ("network", "development") for f in (True, False)] == [
        "Tværfagligt netværksmøde (gult skema); skema til første møde (dagsorden og referat)",
        "Tværfagligt netværksmøde (gult skema); skema til opfølgende møde (dagsorden og referat)",
        "Skema til første møde (dagsorden og referat)", "Skema til opfølgende møde (dagsorden og referat)"]


def test_the_standing_agenda_whole_with_and_without_the_parents_MEET_1_MEET_2_MEET_5_ESC_1() -> None:
    assert agenda_items("network", first=True, open_actions=0, confidential_from_parents=False) == [
        "Velkomst og præsentation af deltagerne",
        "Netværkskort: familiens private og professionelle netværk (medbringes)",
        "Baggrunden for mødet: hvad ser vi i dagtilbud/skole, og hvad ser I derhjemme?",
        "Forældrenes perspektiv", "Barnets perspektiv",
        "Nye aftaler: konkrete handlinger, hver med én ansvarlig", "Tovholder og næste møde"]
    assert agenda_items("network", first=True, open_actions=1, confidential_from_parents=True) == [
        "Velkomst og præsentation af deltagerne",
        "Netværkskort: familiens private og professionelle netværk (medbringes)",
        "Baggrunden for mødet: hvad ser vi i dagtilbud/skole", "Barnets perspektiv",
        "Opfølgning på 1 aftalte handling(er): fortsætter, justeres eller ændres",
        "Nye aftaler: konkrete handlinger, hver med én ansvarlig", "Tovholder og næste møde"]


@pytest.mark.parametrize(("given", "answer"), [
    (None, (RuleViolation, "action 1 has no responsible person; name exactly one (an email)")),
    ("  ", (RuleViolation, "action 1 has no responsible person; name exactly one (an email)")),
    (["a@x.example", "b@x.example"],
     (RuleViolation, "action 1 has 2 responsible persons; name exactly one (an email)")),
    ([" ", ""], (RuleViolation, "action 1 has no responsible persons; name exactly one (an email)")),
    ([" A@X.example ", " "], "a@x.example"),
    ("a@x.example og b@x.example",
     (RuleViolation, "action 1 names several responsible persons ('a@x.example og b@x.example'); name exactly one")),
    ("a@x.example b@x.example",
     (RuleViolation, "action 1 names several responsible persons ('a@x.example b@x.example'); name exactly one")),
    ("kari@x.example/bo", (RuleViolation,
                           "action 1 names several responsible persons ('kari@x.example/bo'); name exactly one")),
    ("Kari", (InvalidInput, "action 1: the responsible person must be an email address, got 'Kari'")),
    ("kari @x.example",
     (InvalidInput, "action 1: the responsible person must be an email address, got 'kari @x.example'")),
    ("kari@", (InvalidInput, "action 1: 'kari@' er ikke en brugbar e-mailadresse: delen efter @ skal være et domæne, "
                             "fx skole.dk")),
    (" Kari@Skole.EXAMPLE ", "kari@skole.example"),
    ("anders.og@x.example", "anders.og@x.example"),
])
def test_each_action_has_exactly_one_responsible_email_MEET_2(given: Any, answer: Any) -> None:
    if isinstance(answer, str):
        assert single_responsible(given, what="action 1") == answer
    else:
        assert refusal(lambda: single_responsible(given, what="action 1")) == (answer[0], "MEET-2", answer[1])


def test_each_open_action_is_followed_up_once_and_an_adjustment_has_its_text_MEET_2() -> None:
    assert refusal(lambda: check_follow_ups([1, 2], [FollowUpInput(action_id=3, decision="continue")])) == (
        RuleViolation, "MEET-2", "action(s) [3] are not open actions of an earlier meeting of this case")
    assert refusal(lambda: check_follow_ups([5, 1, 2], [FollowUpInput(action_id=1, decision="continue")])) == (
        RuleViolation, "MEET-2", "open action(s) [2, 5] from the previous meeting need a follow-up: continue, adjust "
                                 "or change")
    assert refusal(lambda: check_follow_ups([1], [FollowUpInput(action_id=1, decision="adjust")])) == (
        RuleViolation, "MEET-2", "action 1 is adjusted: give the adjusted text")
    check_follow_ups([1, 2], [FollowUpInput(action_id=1, decision="adjust", text="Ny tekst"),
                                     FollowUpInput(action_id=2, decision="change")])
    check_follow_ups([], [])


def test_partners_join_on_a_standing_consent_PATH_8_CONS_1() -> None:
    assert refusal(lambda: check_partner_consent("health_visitor", consent_id=None, consent_active=None)) == (
        RuleViolation, "PATH-8", "a health_visitor joins the case only with the parents' consent: give --consent ID "
                                 "(a health visitor may give anonymous sparring without consent, but then not on a "
                                 "named case)")
    assert refusal(lambda: check_partner_consent("ssp", consent_id=None, consent_active=None)) == (
        RuleViolation, "PATH-8", "a ssp joins the case only with the parents' consent: give --consent ID")
    assert refusal(lambda: check_partner_consent("ssp", consent_id=7, consent_active=False)) == (
        RuleViolation, "CONS-1", "consent 7 is withdrawn or not on this case; nothing is shared on it")
    assert refusal(lambda: check_partner_consent("ppr_psychologist", consent_id=7, consent_active=None)) == (
        RuleViolation, "CONS-1", "consent 7 is withdrawn or not on this case; nothing is shared on it")
    check_partner_consent("ppr_psychologist", consent_id=None, consent_active=None)
    check_partner_consent("ssp", consent_id=7, consent_active=True)
