"""The message kinds pprflow sends, the rule each serves, and the exact context each template needs.

Context shape, shared by every kind (build it from the database; pass Danish strings, not codes):

- `municipality` (str), `recipient_name` (str), `sender_name` (str) — every kind.
- `unit` (dict): the sending unit from the profile's [contact]: `name`, `phone`, `address`, `email` — every kind.
- `signer` (dict | None): the person who signs — `name`, `role`, `phone` (str | None), `email`; the mail's
  Reply-To is this e-mail. None: the unit signs.
- `for_parent` (bool): the recipient is a parent (set by the outbox, where ESC-1 is decided). Mails to
  parents speak of "jeres barn" and never show a pseudonym, a level or a form colour.
- `link` (str | None, http/https only) — every kind except the two that may reach parents.
- `case` (dict): `id`, `pathway_label`, `child_label` (pseudonym + birth year, "anonym" or
  "gruppe: 3.B" — never a name, PRIV-2), `institution`, `district` (str | None), `coordinator_name`,
  `coordinator_email`, `coordinator_phone` (str | None), `level_institution` (str | None, e.g. "Niveau 3"),
  `level_family` (str | None), `confidential_from_parents` (bool: ESC-1, staff mails never suggest
  involving the parents).
- `meeting` (dict): `kind_label`, `date` (date), `starts_at` and `ends_at` (aware datetime | None),
  `location` and `address` (str | None; required for a case meeting, refused at scheduling without),
  `level` (str | None), `level_number` (int | None), `agenda_deadline` (date | None; the CAL-2 or CAL-3
  deadline, required by `agenda_deadline_reminder` and `kv_notice_reminder`), `leader_name` (str | None),
  `leader` (a person dict like `signer`, or None).
- `action_plan` (dict, SMTTE, PLAN-1; keys as the ActionPlan table): `context` (Sammenhæng),
  `goal` (Mål), `signs` (Tegn), `measures` (Tiltag), `evaluation` (Evaluering).
- an action (dict, MEET-2): `text`, `responsible_name`, `due` (date | None), `follow_up`
  ("continue" | "adjust" | "change" | None for a new action).
- a participant (dict): `name`, `role`.
- `deadline` (date): the day the recipient must act by, where it is not a meeting's own deadline;
  `act_by` (date): the working day to act on when a deadline counted in calendar days is not one (CAL-10).

Every top-level key listed in an example is required; the ones in `optional_keys` may be None
(or an empty list). A missing key raises `jinja2.exceptions.UndefinedError`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")

Context = dict[str, Any]


@dataclass(frozen=True)
class MessageKind:
    """One kind of message (beskedtype): its templates are `<kind>.subject.j2`, `.txt.j2`, `.html.j2`."""

    kind: str
    description: str
    rule_id: str
    audience: str
    may_reach_parents: bool
    optional_keys: frozenset[str]
    build_example: Callable[[], Context] = field(repr=False, compare=False)

    def example_context(self) -> Context:
        """A complete, realistic context (synthetic names, `.example` addresses); a fresh copy each call."""
        return copy.deepcopy(self.build_example())  # the shared people (METTE, JENS, ...) stay untouched


# ---- shared example pieces (synthetic people and places) -------------------------------------

METTE: Context = {"name": "Mette Hansen", "role": "pædagogisk leder, Børnehuset Solsikken",
                  "phone": "+45 76 81 52 10", "email": "mette.hansen@vejle.example"}
JENS: Context = {"name": "Jens Østergaard", "role": "skoleleder, Søndervangskolen", "phone": "+45 89 15 42 00",
                 "email": "jens.ostergaard@randers.example"}
SOFIE: Context = {"name": "Sofie Mikkelsen", "role": "klasselærer, Søndervangskolen", "phone": "+45 89 15 42 17",
                  "email": "sofie.mikkelsen@randers.example"}

def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CPH)


def _vejle_case(**changes: Any) -> Context:
    case: Context = {
        "id": 1042,
        "pathway_label": "Henvendelse til PPR",
        "child_label": "Barn K-417 (født 2019)",
        "institution": "Børnehuset Solsikken",
        "district": "Distrikt Nord",
        "coordinator_name": "Mette Hansen",
        "coordinator_email": "mette.hansen@vejle.example",
        "coordinator_phone": "+45 76 81 52 10",
        "level_institution": None,
        "level_family": None,
        "confidential_from_parents": False,
    }
    case.update(changes)
    return case


def _randers_case(**changes: Any) -> Context:
    case: Context = {
        "id": 2087,
        "pathway_label": "Den tværfaglige samarbejdsmodel",
        "child_label": "Elev R-233 (født 2015)",
        "institution": "Søndervangskolen",
        "district": None,
        "coordinator_name": "Jens Østergaard",
        "coordinator_email": "jens.ostergaard@randers.example",
        "coordinator_phone": "+45 89 15 42 00",
        "level_institution": "Niveau 3",
        "level_family": "Niveau 2",
        "confidential_from_parents": False,
    }
    case.update(changes)
    return case


def _network_meeting(**changes: Any) -> Context:
    meeting: Context = {
        "kind_label": "Tværfagligt netværksmøde",
        "date": dt.date(2026, 12, 10),
        "starts_at": _at(2026, 12, 10, 9),
        "ends_at": _at(2026, 12, 10, 10, 30),
        "location": "Søndervangskolen, mødelokale 2",
        "address": "Søndervangs Allé 10, 8920 Randers NV",
        "level": "Niveau 3",
        "level_number": 3,
        "agenda_deadline": dt.date(2026, 12, 3),  # CAL-2: 5 working days before Thu 10 Dec
        "leader_name": "Jens Østergaard",
        "leader": JENS,
    }
    meeting.update(changes)
    return meeting


def _action_plan() -> Context:
    return {
        "context": "Gruppen på 12 børn på Mariehønestuen har svært ved overgangene mellem leg og samling. "
                   "Et barn trækker sig ofte og går under bordet, når der er larm.",
        "goal": "Barnet deltager i samling sammen med de andre børn mindst fire dage om ugen. "
                "De voksne skaber rolige overgange med faste signaler.",
        "signs": "Barnet: sidder med i samlingen og deltager i sangen. De voksne: bruger samme signal "
                 "ved hver overgang. Forældrene: fortæller om roligere morgener.",
        "measures": "Visuel dagsplan på stuen, fast plads ved siden af en kendt voksen, "
                    "små grupper ved frokost. Forældrene bruger dagsplanen derhjemme i weekenden.",
        "evaluation": "Stuemøde den 15. januar: de voksne gennemgår registreringer og justerer tiltagene "
                      "sammen med forældrene.",
    }


UNITS: dict[str, Context] = {
    "Vejle Kommune": {"name": "PPR Vejle", "phone": "+45 76 81 00 00", "address": "Kirketorvet 22, 7100 Vejle",
                      "email": "ppr@vejle.example"},
    "Randers Kommune": {"name": "Børn og Skole, Randers Kommune", "phone": "+45 89 15 15 15",
                        "address": "Laksetorvet 1, 8900 Randers", "email": "boern-og-skole@randers.example"},
}


def _base(municipality: str, recipient_name: str, sender_name: str, signer: Context | None = None) -> Context:
    """`sender_name` of a unit: the unit signs; of a person: pass `signer` too."""
    return {"municipality": municipality, "unit": dict(UNITS[municipality]), "recipient_name": recipient_name,
            "sender_name": signer["name"] if signer else sender_name, "signer": dict(signer) if signer else None,
            "for_parent": False}


# ---- one example per kind ---------------------------------------------------------------------

def _ppr_request() -> Context:
    return {
        **_base("Vejle Kommune", "PPR Vejle", "Mette Hansen", METTE),
        "case": _vejle_case(),
        "request_type_label": "Individforløb",
        "concern": "Barnet trækker sig fra fællesskabet og har svært ved at deltage i samling og leg. "
                   "Bekymringen har varet siden august.",
        "tried": "Drøftet i teamet og med pædagogisk leder. Drøftet anonymt på konsultativ vejledning "
                 "den 4. november. Visuel dagsplan afprøvet i seks uger.",
        "consent_given_on": dt.date(2026, 11, 18),
        "submitter_name": "Mette Hansen",
        "submitter_email": "mette.hansen@vejle.example",
        "submitter_phone": "+45 76 81 52 10",
        "action_plan": _action_plan(),
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _intervention_team_request() -> Context:
    return {
        **_base("Vejle Kommune", "Pædagogisk Indsatsteam", "Mette Hansen", METTE),
        "case": _vejle_case(id=1057, pathway_label="Pædagogisk Indsatsteam",
                            child_label="gruppe: Mariehønestuen"),
        "concern": "Børnefællesskabet på Mariehønestuen er præget af konflikter ved overgange. "
                   "Vi ønsker at styrke den igangværende indsats med en indsatspædagog i en periode.",
        "local_lead": "Lene Holm, sprogansvarlig",
        "action_plan": _action_plan(),
        "submitter_name": "Mette Hansen",
        "submitter_email": "mette.hansen@vejle.example",
        "submitter_phone": "+45 76 81 52 10",
        "link": "https://pprflow.vejle.example/sager/1057",
    }


def _social_adviser_request() -> Context:
    return {
        **_base("Vejle Kommune", "Søren Ærø Kristensen", "Mette Hansen", METTE),
        "case": _vejle_case(id=1063, pathway_label="Socialfaglig rådgiver", child_label="anonym",
                            district=None),
        "question": "Vi oplever, at et barn ofte bliver hentet meget sent og virker træt om morgenen. "
                    "Vi vil gerne have sparring på, hvordan vi tager en god samtale med forældrene, "
                    "og hvor bekymrede vi bør være.",
        "consent_given_on": None,  # PATH-6: anonymous, without consent
        "submitter_name": "Mette Hansen",
        "submitter_email": "mette.hansen@vejle.example",
        "submitter_phone": "+45 76 81 52 10",
        "link": None,
    }


def _early_years_request() -> Context:
    return {
        **_base("Vejle Kommune", "småbørnskonsulenter", "Mette Hansen", METTE),
        "case": _vejle_case(id=1071, pathway_label="Småbørnskonsulent", child_label="Barn L-208 (født 2022)"),
        "question": "Vi ønsker sparring på, om barnet skal målgruppeafklares til minigruppe eller Solen. "
                    "Barnet har et meget begrænset sprog og brug for hjælp i de fleste overgange.",
        "specialist_required": True,
        "specialist_name": "Anne Bech",
        "consent_given_on": dt.date(2026, 11, 20),
        "action_plan": None,
        "submitter_name": "Mette Hansen",
        "submitter_email": "mette.hansen@vejle.example",
        "submitter_phone": "+45 76 81 52 10",
        "link": "https://pprflow.vejle.example/sager/1071",
    }


def _receipt() -> Context:
    return {
        **_base("Vejle Kommune", "Mette Hansen", "PPR Vejle"),
        "case": _vejle_case(),
        "request_label": "henvendelse til PPR (individforløb)",
        "received_by": "PPR Vejle",
        "received_at": _at(2026, 11, 23, 10, 12),
        "district_meeting_date": dt.date(2026, 12, 1),
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _kv_meeting() -> Context:
    return {
        "kind_label": "Konsultativ vejledning (KV)",
        "date": dt.date(2026, 12, 8),
        "starts_at": _at(2026, 12, 8, 13),
        "ends_at": _at(2026, 12, 8, 14, 30),
        "location": "Børnehuset Solsikken, personalerummet",
        "address": "Solsikkevej 4, 7100 Vejle",
        "level": None,
        "level_number": None,
        "agenda_deadline": dt.date(2026, 12, 3),  # CAL-3: at least 5 calendar days' notice
        "leader_name": "Mette Hansen",
        "leader": METTE,
    }


def _kv_notice_reminder() -> Context:
    return {
        **_base("Vejle Kommune", "Mette Hansen", "PPR Vejle"),
        "meeting": _kv_meeting(),
        "institution": "Børnehuset Solsikken",
        "ppr_team_email": "ppr-nord@vejle.example",
        "link": "https://pprflow.vejle.example/kv/311",
    }


def _kv_topic_list() -> Context:
    return {
        **_base("Vejle Kommune", "PPR-team Nord", "Mette Hansen", METTE),
        "meeting": _kv_meeting(),
        "institution": "Børnehuset Solsikken",
        "topics": [
            "Hvordan skaber vi rolige overgange fra leg til samling på en stue med mange yngre børn?",
            "Et par børn i gruppen kommer ofte i konflikt om legetøjet udendørs. Hvordan kan de voksne "
            "organisere legepladsen?",
        ],
        # KV-2: a psychologist/consultant/SUP always; a speech therapist at daycare
        "participants": [
            {"name": "Ahmed Khalil", "role": "Psykolog, PPR"},
            {"name": "Louise Winther", "role": "Logopæd, PPR"},
            {"name": "Mette Hansen", "role": "Pædagogisk leder"},
        ],
        "link": "https://pprflow.vejle.example/kv/311",
    }


def _district_case_list() -> Context:
    return {
        **_base("Vejle Kommune", "PPR Distrikt Nord", "PPR Vejle"),
        "meeting": {
            "kind_label": "Distriktsmøde",
            "date": dt.date(2026, 12, 1),
            "starts_at": _at(2026, 12, 1, 9),
            "ends_at": _at(2026, 12, 1, 11),
            "location": "PPR, lokale 3",
            "address": "Kirketorvet 22, 7100 Vejle",
            "level": None,
            "level_number": None,
            "agenda_deadline": None,
            "leader_name": "Karen Nielsen",
            "leader": None,
        },
        "district": "Distrikt Nord",
        "cases": [
            {**_vejle_case(), "pathway_label": "Henvendelse til PPR – individforløb",
             "received_on": dt.date(2026, 11, 23),
             "concern": "Barnet trækker sig fra fællesskabet og har svært ved samling."},
            {**_vejle_case(id=1066, child_label="gruppe: 3.B", institution="Nørremarkskolen",
                           coordinator_name="Peter Lund", coordinator_email="peter.lund@vejle.example"),
             "pathway_label": "Henvendelse til PPR – læringsmiljøforløb",
             "received_on": dt.date(2026, 11, 25),
             "concern": "Uro i klassen i overgangene; ønske om sparring på klasseledelse."},
        ],
        "link": "https://pprflow.vejle.example/distriktsmoeder/88",
    }


def _assignment() -> Context:
    return {
        **_base("Vejle Kommune", "Karin Ørum", "PPR Vejle"),
        "case": _vejle_case(),
        "district_meeting_date": dt.date(2026, 12, 1),
        "institution_contact_name": "Mette Hansen",
        "institution_contact_email": "mette.hansen@vejle.example",
        "institution_contact_phone": "+45 76 81 52 10",
        "deadline": dt.date(2026, 12, 8),
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _startup_meeting_reminder() -> Context:
    return {
        **_base("Vejle Kommune", "Karin Ørum", "PPR Vejle"),
        "case": _vejle_case(),
        "meeting": {
            "kind_label": "Opstartsmøde",
            "date": dt.date(2026, 12, 14),
            "starts_at": _at(2026, 12, 14, 14, 30),
            "ends_at": _at(2026, 12, 14, 16),
            "location": "Børnehuset Solsikken, mødelokalet",
            "address": "Solsikkevej 4, 7100 Vejle",
            "level": None,
            "level_number": None,
            "agenda_deadline": None,
            "leader_name": "Karin Ørum",
            "leader": {"name": "Karin Ørum", "role": "psykolog, PPR", "phone": "+45 76 81 52 33",
                       "email": "karin.orum@vejle.example"},
        },
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _agenda_deadline_reminder() -> Context:
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole, Randers Kommune"),
        "case": _randers_case(),
        "meeting": _network_meeting(),
        "link": "https://pprflow.randers.example/moeder/512",
    }


def _participants() -> list[Context]:
    return [
        {"name": "Jens Østergaard", "role": "skoleleder, Søndervangskolen (mødeleder)"},
        {"name": "Sofie Mikkelsen", "role": "Klasselærer"},
        {"name": "Ahmed Khalil", "role": "Psykolog, PPR"},
        {"name": "Birgitte Dam", "role": "Fremskudt socialrådgiver"},
        {"name": "Hanne Berg", "role": "Mor"},
    ]


def _network_agenda() -> Context:
    return {
        **_base("Randers Kommune", "Ahmed Khalil", "Jens Østergaard", JENS),
        "case": _randers_case(),
        "meeting": _network_meeting(),
        "form": "Gult skema; skema til første møde",  # staff only: a mail to parents names no form colour
        "purpose": "At få et fælles billede af, hvordan skoledagen fungerer, og aftale konkrete tiltag "
                   "i skolen og derhjemme.",
        "agenda_items": [
            "Velkomst og præsentation",
            "Baggrunden for mødet: hvad ser vi i skolen, og hvad ser I derhjemme?",
            "Barnets perspektiv",
            "Opfølgning på aftaler fra sidste møde",
            "Nye aftaler: hvem gør hvad, og hvornår?",
            "Tovholder og næste møde",
        ],
        "participants": _participants(),
        "previous_actions": [
            {"text": "Fast voksen tager imod ved skoledagens start.", "responsible_name": "Sofie Mikkelsen",
             "due": None, "follow_up": None},
        ],
        # MEET-3: the form as filled in; MEET-5: the family's network map; level 4: the dark-blue form
        "agenda_form_fields": [
            {"label": "Hvad er sket siden sidste møde?", "text": "Morgenerne er blevet roligere."},
            {"label": "Hvad skal drøftes og besluttes i dag?", "text": "Frikvartererne."},
        ],
        "network_map": [{"name": "Birthe", "relation": "mormor", "circle_label": "Familien"}],
        "parents_form": [],
    }


def _minutes() -> Context:
    return {
        **_base("Randers Kommune", "Hanne Berg", "Jens Østergaard", JENS),
        "case": _randers_case(),
        "meeting": _network_meeting(),
        "for_parent": True,
        "participants": _participants(),
        "summary": "Forældrene oplever roligere morgener. I skolen deltager barnet mere i frikvartererne, "
                   "men har fortsat svært ved gruppearbejde.",
        "actions": [
            {"text": "Fast voksen tager imod ved skoledagens start.", "responsible_name": "Sofie Mikkelsen",
             "due": None, "follow_up": "continue"},
            {"text": "Gruppearbejde i makkerpar i stedet for grupper på fire.", "responsible_name": "Sofie Mikkelsen",
             "due": dt.date(2027, 1, 15), "follow_up": "adjust"},
            {"text": "PPR observerer i klassen og giver sparring til teamet.", "responsible_name": "Ahmed Khalil",
             "due": dt.date(2027, 1, 29), "follow_up": None},
            {"text": "Forældrene bruger ugeplanen sammen med barnet søndag aften.",
             "responsible_name": "Hanne Berg", "due": None, "follow_up": None},
        ],
        "next_meeting_date": dt.date(2027, 2, 4),
    }


def _review_base() -> Context:
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole, Randers Kommune"),
        "case": _randers_case(level_institution="Niveau 4", pathway_label="Specialiseret indsats"),
        "effort_label": "Specialpædagogisk bistand (over 9 timer om ugen)",
        "started_on": dt.date(2026, 8, 31),
        "last_review_on": None,
        "deadline": dt.date(2027, 2, 28),  # CAL-6: six months after 31 Aug, month-end clamped
        "act_by": dt.date(2027, 2, 26),  # CAL-10: 28 Feb 2027 is a Sunday: act by Friday
        "link": "https://pprflow.randers.example/sager/2087",
    }


def _review_overdue() -> Context:
    # Issue 17: the second rung of the profile's ladder (leader, coordinator, PPR / family-centre leader).
    return {**_review_base(), "escalation": {"step": 2, "of": 3, "to_role": "coordinator"}}


def _deadline_escalation() -> Context:
    # Issue 17: a rung of a kind's ladder (here PATH-4's start-up meeting), one template for every kind
    # without its own overdue mail.
    return {
        **_base("Vejle Kommune", "Karin Ørum", "PPR Vejle"),
        "case": _vejle_case(),
        "label": "Opstartsmøde aftales",
        "awaits": "opstartsmødet er aftalt",
        "what": "Sagen blev fordelt til PPR-medarbejderen Mette Hansen på distriktsmødet; opstartsmødet med "
                "skolen/dagtilbuddet skal aftales inden for 10 arbejdsdage.",
        "rule_id": "PATH-4",
        "deadline": dt.date(2026, 12, 14),
        "escalation": {"step": 2, "of": 3, "to_role": "coordinator"},
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _district_waiting() -> Context:
    # Issue 17: a case that waited two district meetings unassigned; the coordinator is told once.
    return {
        **_base("Vejle Kommune", "Mette Hansen", "PPR Vejle"),
        "case": _vejle_case(),
        "district": "Nord",
        "reason": "unassigned",
        "meetings_waited": 2,
        "received_on": dt.date(2026, 11, 2),
        "link": "https://pprflow.vejle.example/sager/1042",
    }


def _case_transferred() -> Context:
    # ROLE-3: the child moved from daycare to school; the new leader is told and takes over.
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole, Randers Kommune"),
        "case": _randers_case(),
        "from_institution": "Børnehuset Solsikken",
        "transferred_on": dt.date(2027, 8, 2),
        "open_deadlines": [{"label": "Halvårsvurdering", "due": dt.date(2027, 9, 15)}],
        "link": "https://pprflow.randers.example/sager/2087",
    }


def _abuse_notification() -> Context:
    return {
        # LAW-1: the duty is personal — the reporter signs, and a reply reaches her (Reply-To)
        **_base("Randers Kommune", "Familie- og Rådgivningscentret, Modtagelsen", "Sofie Mikkelsen", SOFIE),
        "case": _randers_case(),
        "institution": "Søndervangskolen",
        "child": {"name": "Emil Jensen", "group": "4.A", "birth_year": 2015},
        "reported_by_name": "Sofie Mikkelsen",
        "reported_by_role": "klasselærer, Søndervangskolen",
        "reported_by_email": "sofie.mikkelsen@randers.example",
        "reported_by_phone": "+45 89 15 42 17",
        "actions_taken": "Eleven er hos AKT-læreren resten af skoledagen. Skolelederen er orienteret.",
        "out_of_hours": "den sociale døgnvagt via politiet, tlf. 114 – ved akut fare 112",
        "reported_at": _at(2026, 11, 24, 11, 40),
        "observation": "Eleven havde i dag blå mærker på begge overarme. Adspurgt sagde eleven: "
                       "\"Det var far, da jeg ikke ville i seng.\"",
        "observed_on": dt.date(2026, 11, 24),
        "observed_time": "10:15",
        "acknowledgement_due": dt.date(2026, 12, 2),  # LAW-2: 6 working days
        "link": None,
    }


def _acknowledgement_overdue() -> Context:
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole"),
        "case": _randers_case(),
        "institution": "Søndervangskolen",
        "child_label": "Elev R-233",
        "notifier_name": "Sofie Mikkelsen",
        "reported_at": _at(2026, 11, 24, 11, 40),
        "sent_to": "underretning@randers.example",
        "deadline": dt.date(2026, 12, 2),
        "escalation": {"step": 1, "of": 3, "to_role": "leader"},
        "link": "https://pprflow.randers.example/sager/2087",
    }


def _notification_undelivered() -> Context:
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole"),
        "case": _randers_case(),
        "institution": "Søndervangskolen",
        "child_label": "Elev R-233",
        "notifier_name": "Sofie Mikkelsen",
        "notifier_phone": "+45 89 15 42 17",
        "reported_at": _at(2026, 11, 24, 11, 40),
        "sent_to": "underretning@randers.example",
        "sent_to_name": "Familie- og Rådgivningscentret",
        "out_of_hours": "Socialvagten, tlf. +45 89 15 10 00",
        "last_error": "451 4.3.0 modtagerens postkasse svarer ikke; prøv igen senere",
        "link": "https://pprflow.randers.example/sager/2087",
    }


def _consent_withdrawn() -> Context:
    return {
        **_base("Randers Kommune", "Jens Østergaard", "Børn og Skole, Randers Kommune"),
        "case": _randers_case(),
        "withdrawn_at": _at(2026, 11, 30, 15, 5),
        "consent_given_on": dt.date(2026, 9, 14),
        "consent_purpose": "Udveksling af oplysninger på tværfaglige netværksmøder om elevens skolegang og trivsel.",
        "partners": ["PPR – psykolog", "Fremskudt socialrådgiver", "Sundhedsplejen"],
        "link": "https://pprflow.randers.example/sager/2087",
    }


def _coordinator_handover() -> Context:
    return {
        **_base("Randers Kommune", "Ahmed Khalil", "Jens Østergaard", JENS),
        "case": _randers_case(coordinator_name="Sofie Mikkelsen", coordinator_email="sofie.mikkelsen@randers.example",
                              coordinator_phone="+45 89 15 42 17"),
        "new_coordinator": SOFIE,
        "previous_coordinator_name": "Jens Østergaard",
        "handover_on": dt.date(2026, 12, 11),
        # ROLE-1 [003]: the family is told too, so the mail carries no link into the staff system.
        "link": None,
    }


def _family_centre_contact() -> Context:
    return {
        **_base("Randers Kommune", "Familie- og Rådgivningscentret", "Jens Østergaard", JENS),
        "case": _randers_case(level_family="Niveau 5"),
        "sphere_label": "familien",
        "from_level": "Niveau 4",
        "to_level": "Niveau 5",
        "reason": "Trods den specialiserede indsats er der fortsat store udfordringer i familien. "
                  "Den fremskudte socialrådgiver vurderer, at der er behov for en indsats efter Barnets Lov.",
        "outposted_social_worker_name": "Birgitte Dam",  # LVL-5: involved before the family centre
        "has_caseworker": False,
        "review": None,  # ESC-3: {"message_id": …} in the copy to the outposted social worker who reviews it
        "link": None,
    }


def _operations_alert() -> Context:
    return {
        **_base("Vejle Kommune", "Driften", "pprflow"),
        "flow_name": "udbakke-afsendelse",
        "failures": 3,
        "states": ["Failed", "Crashed"],
        "first_at": dt.datetime(2026, 12, 10, 9, 5, tzinfo=CPH),
        "last_at": dt.datetime(2026, 12, 10, 9, 15, tzinfo=CPH),
        "run_name": "udbakke-2026-12-10",
        "link": "https://prefect.kommune.example/runs/flow-run/0b6c",
    }


def _kind(kind: str, rule_id: str, description: str, audience: str, example: Callable[[], Context],
          *, optional: tuple[str, ...] = (), may_reach_parents: bool = False) -> MessageKind:
    return MessageKind(kind=kind, description=description, rule_id=rule_id, audience=audience,
                       may_reach_parents=may_reach_parents,
                       # signer: None means the unit signs; a phone we do not know is left out (issue 16)
                       optional_keys=frozenset(optional) | {"signer"},
                       build_example=example)


_KINDS = (
    _kind("ppr_request", "PATH-1", "Henvendelse til PPR: henvendelsesskema og handleplan (SMTTE, PLAN-1).",
          "PPR-postkassen", _ppr_request, optional=("consent_given_on", "link", "submitter_phone")),
    _kind("intervention_team_request", "PATH-5",
          "Henvendelse til Pædagogisk Indsatsteam med handleplan og inddraget AKT/sprogansvarlig.",
          "Lederen af Pædagogisk Indsatsteam", _intervention_team_request, optional=("link", "submitter_phone")),
    _kind("social_adviser_request", "PATH-6",
          "Henvendelse til socialfaglig rådgiver, med samtykke eller anonymt uden samtykke.",
          "Den socialfaglige rådgiver", _social_adviser_request,
          optional=("consent_given_on", "link", "submitter_phone")),
    _kind("early_years_request", "PATH-7",
          "Henvendelse til småbørnskonsulent; specialist i funktionsnedsættelser og sygdom ved minigruppe/Solen.",
          "Småbørnskonsulenterne", _early_years_request,
          optional=("specialist_name", "consent_given_on", "action_plan", "link", "submitter_phone")),
    _kind("receipt", "PATH-1", "Kvittering til den, der har sendt en henvendelse.",
          "Afsenderen af henvendelsen", _receipt, optional=("district_meeting_date", "link")),
    _kind("kv_notice_reminder", "CAL-3",
          "Påmindelse til pædagogisk leder: send emner til konsultativ vejledning med mindst 5 dages varsel.",
          "Pædagogisk leder", _kv_notice_reminder, optional=("link",)),
    _kind("kv_topic_list", "KV-1", "Anonyme emner til konsultativ vejledning, til PPR-teamet.",
          "PPR-teamet", _kv_topic_list, optional=("topics", "participants", "link")),
    _kind("district_case_list", "CAL-5", "Nye sager til distriktsmødet i PPR.",
          "PPR-distriktet", _district_case_list, optional=("cases", "link")),
    _kind("district_waiting", "PATH-4",
          "Sagen venter: intet distriktsmøde planlagt i distriktet, eller flere møder uden fordeling (issue 17).",
          "Tovholderen (ellers distriktets PPR-team)", _district_waiting, optional=("link",)),
    _kind("case_transferred", "ROLE-3",
          "Barnet er flyttet: sagen følger med til den nye institution, hvis leder overtager.",
          "Den nye institutions leder", _case_transferred, optional=("open_deadlines", "link")),
    _kind("assignment", "PATH-4",
          "Sagen er fordelt på distriktsmødet: kontakt skole/dagtilbud og aftal opstartsmøde.",
          "Den PPR-medarbejder, der har fået sagen", _assignment,
          optional=("deadline", "link", "institution_contact_phone")),
    _kind("startup_meeting_reminder", "PATH-4", "Påmindelse om et aftalt opstartsmøde.",
          "PPR-medarbejder og skole/dagtilbud", _startup_meeting_reminder, optional=("link",)),
    _kind("agenda_deadline_reminder", "CAL-2",
          "Påmindelse til mødelederen: dagsorden (gult skema) skal sendes senest 5 arbejdsdage før mødet.",
          "Mødelederen", _agenda_deadline_reminder, optional=("link",)),
    _kind("network_agenda", "CAL-2",
          "Dagsorden til tværfagligt netværksmøde (gult skema); kalenderinvitation vedhæftes.",
          "Forældre og samarbejdspartnere", _network_agenda,
          optional=("previous_actions", "form", "agenda_form_fields", "network_map", "parents_form"),
          may_reach_parents=True),
    _kind("minutes", "MEET-2", "Aftaleskema/referat (lyseblåt skema): handlinger med én ansvarlig og opfølgning.",
          "Forældre og samarbejdspartnere", _minutes, optional=("summary", "next_meeting_date"),
          may_reach_parents=True),
    _kind("review_reminder", "CAL-6",
          "Påmindelse: vurder mindst hvert halve år, om den specialiserede indsats fortsat er nødvendig.",
          "Tovholder/leder", _review_base, optional=("last_review_on", "link")),
    _kind("review_overdue", "CAL-6", "Halvårsvurderingen af en specialiseret indsats er overskredet.",
          "Lederen, så tovholderen, så PPR-/familiecenterlederen (profilens eskaleringsstige)", _review_overdue,
          optional=("last_review_on", "link", "escalation")),
    _kind("family_centre_contact", "LVL-6",
          "Sagen går til Familie- og Rådgivningscentret (niveau 5); fremskudt socialrådgiver inddraget først (LVL-5).",
          "Familie- og Rådgivningscentret og en evt. socialrådgiver på barnets sag", _family_centre_contact,
          optional=("from_level", "reason", "outposted_social_worker_name", "review", "link")),
    _kind("abuse_notification", "ESC-1",
          "Underretning til Familie- og Rådgivningscentret ved mistanke om vold eller overgreb. "
          "Forældrene orienteres ikke.",
          "Familie- og Rådgivningscentret (underretningsadressen)", _abuse_notification,
          optional=("case", "observed_time", "reported_by_phone", "actions_taken", "link")),
    _kind("acknowledgement_overdue", "LAW-2",
          "Kvitteringen for en underretning er forsinket (6 arbejdsdage); besked til underretterens leder.",
          "Underretterens leder, så tovholderen, så profilens eskaleringsadresse", _acknowledgement_overdue,
          optional=("case", "link", "escalation")),
    _kind("deadline_escalation", "CAL-10",
          "En frist er overskredet: næste trin i profilens eskaleringsstige (opstartsmøde, KV-emner).",
          "Lederen, så tovholderen, så PPR-/familiecenterlederen (aldrig forældre, ESC-1)", _deadline_escalation,
          optional=("case", "what", "link")),
    _kind("notification_undelivered", "ESC-1",
          "En underretning kan ikke leveres (mailsystemet fejler efter profilens frist): ring den videre.",
          "Profilens eskaleringsadresse, ellers underretterens leder, ellers PPR-postkassen",
          _notification_undelivered, optional=("case", "notifier_phone", "out_of_hours", "link")),
    _kind("consent_withdrawn", "CONS-1",
          "Samtykket er trukket tilbage: der må ikke længere udveksles oplysninger på det.",
          "Tovholderen", _consent_withdrawn, optional=("partners", "link")),
    _kind("operations_alert", "PRIV-2",
          "Alarm til driften: et af pprflows job fejlede (højst én pr. job i timen; ingen personoplysninger).",
          "Driftens postkasse ([mailboxes] operations)", _operations_alert, optional=("link",)),
    _kind("coordinator_handover", "ROLE-1", "Ny tovholder på sagen.",
          "Alle på sagen, også forældrene (ikke ved ESC-1)", _coordinator_handover, optional=("link",),
          may_reach_parents=True),
)

MESSAGE_KINDS: dict[str, MessageKind] = {k.kind: k for k in _KINDS}


# ---- audiences: the same kind as each reader gets it (issue 16) ------------------------------------

AUDIENCES = ("staff", "parent", "confidential")
"""staff: a professional on the case; parent: a holder of parental authority (only the kinds that may reach
parents); confidential: a staff mail on a case kept from the parents (ESC-1)."""


def audience_context(kind: str, audience: str) -> Context | None:
    """The example context of `kind` as `audience` receives it, or None when that reader never gets it."""
    entry = MESSAGE_KINDS[kind]
    context = entry.example_context()
    if audience == "staff":
        context["for_parent"] = False
        return context
    if audience == "parent":
        if not entry.may_reach_parents:
            return None
        context.update(for_parent=True, recipient_name="Hanne Berg")
        return context
    if audience == "confidential":
        if "case" not in context:
            return None
        context["for_parent"] = False
        context["case"]["confidential_from_parents"] = True
        if "agenda_items" in context:  # as models.rules_meetings.agenda_items builds them under ESC-1
            context["agenda_items"] = [i for i in context["agenda_items"] if "derhjemme" not in i]
        return context
    raise ValueError(f"unknown audience {audience!r}; expected one of {AUDIENCES}")


URGENT_KINDS: frozenset[str] = frozenset({"abuse_notification", "notification_undelivered"})
"""Kinds that travel in the outbox's urgent lane: delivered within a minute, day and night, ahead of
routine mail and outside its throttle (ESC-1, LAW-1: "straks"). Everything else is routine."""


def lane_of(kind: str) -> str:
    """The outbox lane of a message kind: 'urgent' or 'routine' (ESC-1/LAW-1)."""
    return "urgent" if kind in URGENT_KINDS else "routine"
