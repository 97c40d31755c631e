"""Network, development and start-up meetings: the rules as pure functions (CAL-2, LVL-3, LVL-4, MEET-1…5, PATH-8).

No database, no Prefect, no mail: values in, values (or one RuleViolation) out. The input models
here are the same for the CLI (JSON/options), the flow parameter (the Prefect UI form) and tests.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from pprflow.models.address import EmailAddress, normalise_address
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.input import StrictInput

MeetingKind = Literal["network", "development", "startup"]
FollowUp = Literal["continue", "adjust", "change"]

MEETING_KIND_LABELS: dict[str, str] = {
    "network": "Tværfagligt netværksmøde",
    "development": "Udviklingsmøde",
    "startup": "Opstartsmøde",
}

# MEET-3: one form for the first meeting and one for every follow-up; each is agenda and minutes.
# LVL-3 (Randers): a network meeting is called on the yellow form (gult skema) and minuted on the
# light-blue form (aftaleskema/referat, lyseblåt skema).
YELLOW_FORM = "Tværfagligt netværksmøde (gult skema)"
LIGHT_BLUE_FORM = "Aftaleskema/referat (lyseblåt skema)"
FIRST_MEETING_FORM = "Skema til første møde (dagsorden og referat)"
FOLLOW_UP_FORM = "Skema til opfølgende møde (dagsorden og referat)"

PATH8_PARTNER_ROLES: frozenset[str] = frozenset(
    {"health_visitor", "family_department", "open_counselling", "uu", "ungvejle", "ssp"}
)
"""PATH-8 [002]: the collaboration partners who join network meetings *with consent*."""

ANONYMOUS_SPARRING_ROLES: frozenset[str] = frozenset({"health_visitor"})
"""PATH-8: a health visitor may also give anonymous sparring — without consent, but then not on a named case."""

STORED_KINDS: dict[str, tuple[str, str]] = {
    # kind -> (stored kind of a first meeting, stored kind of a follow-up); Meeting.kind in tables.py
    "network": ("network_first", "network_followup"),
    "development": ("development", "development"),
    "startup": ("startup", "startup"),
}
CASE_MEETING_KINDS: tuple[str, ...] = ("network_first", "network_followup", "development")
"""The meetings that count as the case's development/network meetings (MEET-3 first vs follow-up, LVL-4)."""


class _Input(StrictInput):  # one configuration for every input model (PRIV-2: no CPR number in any text)
    pass


PARENT_ROLE_WORDS = frozenset({
    "parent", "parents", "mother", "father", "mum", "mom", "dad", "guardian", "stepmother", "stepfather",
    "stepparent", "foster_parent", "fosterparent", "foster", "forælder", "forældre", "foraelder", "foraeldre",
    "mor", "far", "moder", "fader", "værge", "vaerge", "bonusmor", "bonusfar", "bonusforælder", "stedmor", "stedfar",
    "plejemor", "plejefar", "plejeforælder", "plejeforældre", "forældremyndighedsindehaver",
})
"""ESC-1, MEET-1: the words for a parent or guardian, in the role of a partner or meeting participant."""


def check_professional_role(role: str) -> str:
    """ESC-1: a partner or meeting participant is a professional; the parents are on the case from the referral
    (`is_parent`), where every rule that keeps a confidential case from them can see them. A role that says
    "parent" (in English or Danish, any spelling of the words above) would make a parent a staff recipient of
    staff mail — case number, level, agenda — on a case kept from the parents, so it is refused here, at the
    one input type every partner and participant passes through."""
    words = {w for w in re.split(r"[\s_\-/,.;:()]+", role.strip().lower()) if w}
    if words & PARENT_ROLE_WORDS or role.strip().lower().replace(" ", "_") in PARENT_ROLE_WORDS:
        raise ValueError(f"rollen {role.strip()!r} er en forælder: forældre kommer på sagen med henvendelsen, ikke "
                         "som samarbejdspartner eller mødedeltager (ESC-1, MEET-1); angiv fagpersonens rolle, "
                         "fx health_visitor eller teacher")
    return role


class Participant(_Input):
    """A professional who takes part (MEET-1), added to the case's network map (MEET-5)."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress
    role: str = Field(min_length=1, max_length=40, description="e.g. ppr_psychologist, teacher")

    @field_validator("role")
    @classmethod
    def _professional(cls, value: str) -> str:  # ESC-1: never a parent under a partner's or participant's role
        return check_professional_role(value)


class MeetingInput(_Input):
    """`pprflow meeting schedule`: a network, development or start-up meeting on a case."""

    case_id: int = Field(gt=0)
    kind: MeetingKind = Field(description="network (netværksmøde) | development (udviklingsmøde) | startup")
    level: int | None = Field(default=None, ge=1, le=9, description="The level the meeting is held at (LVL-3).")
    date: dt.date
    starts_at: dt.time = Field(default=dt.time(9, 0), description="Wall-clock time, Europe/Copenhagen (CAL-9).")
    ends_at: dt.time | None = Field(default=None, description="End time; default: start + 90 minutes.")
    location: str | None = Field(default=None, max_length=300,
                                 description="Sted, e.g. 'Søndervangskolen, mødelokale 2'; default: the institution.")
    address: str | None = Field(default=None, max_length=300,
                                description="Street address of the place; default: the profile's [places] entry.")
    leader_email: EmailAddress | None = Field(default=None, description="Mødeleder (MEET-4).")
    leader_phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9][0-9 ]{5,}$",
                                     description="The leader's phone; default: the staff directory.")
    purpose: str | None = Field(default=None, max_length=2000)
    participants: list[Participant] = Field(default_factory=list)
    urgent_reason: str | None = Field(
        default=None, min_length=3, max_length=500,
        description="CAL-2 (issue 17): why a meeting inside the 5-working-day window cannot wait; the agenda goes "
                    "out at once and the minutes say the meeting was called at short notice.")


DEFAULT_MEETING_MINUTES = 90
"""A meeting without an end time lasts 90 minutes (the invite said 9.00–10.30 before there was a field)."""


def meeting_place(*, location: str | None, address: str | None, institution: str,
                  places: Mapping[str, str]) -> tuple[str, str]:
    """Where a meeting is held, as (place, street address). Issue 16: parents must be able to find it.

    The place defaults to the institution; the address comes from the input, else from the profile's
    meeting places (the place itself, then the institution it is at). No address: refused here, at the
    input, never discovered in a mail.
    """
    place = (location or "").strip() or institution
    found = (address or "").strip() or places.get(place) or places.get(institution)
    if not found:
        raise InvalidInput(f"meeting place {place!r} has no address: give address (--address) or add "
                           f"{place!r} to the profile's [places]; parents must be able to find the meeting",
                           rule_id="MEET-1")
    return place, found


def leader_phone(*, given: str | None, directory: str | None, leader: str) -> str:
    """How the parents reach the meeting leader (MEET-4, issue 16): the phone given, else the staff
    directory's; none at all is refused here, not discovered in the agenda."""
    phone = (given or "").strip() or (directory or "").strip()
    if not phone:
        raise InvalidInput(f"the meeting leader {leader} has no phone number in the staff directory: give "
                           "leader_phone (--leader-phone); parents must be able to reach the leader", rule_id="MEET-4")
    return phone


def meeting_end(starts_at: dt.time, ends_at: dt.time | None) -> dt.time:
    """The end time: given, or start + 90 minutes; an end not after the start is refused."""
    if ends_at is None:
        start = dt.datetime.combine(dt.date(2000, 1, 1), starts_at)
        end = start + dt.timedelta(minutes=DEFAULT_MEETING_MINUTES)
        if end.date() != start.date():
            raise InvalidInput(f"a meeting starting at {starts_at:%H:%M} would end after midnight; give ends_at")
        return end.time()
    if ends_at <= starts_at:
        raise InvalidInput(f"the meeting ends ({ends_at:%H:%M}) before it starts ({starts_at:%H:%M}); "
                           "give an end time after the start")
    return ends_at


class PartnerInput(_Input):
    """`pprflow case add-partner`: a collaboration partner joins the case on a consent (PATH-8, CONS-1)."""

    case_id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress
    role: str = Field(min_length=1, max_length=40,
                      description="health_visitor | family_department | open_counselling | uu | ungvejle | ssp | "
                                  "ppr_psychologist | outposted_social_worker | family_centre_caseworker | …")
    consent_id: int | None = Field(default=None, gt=0, description="The consent they join on (PATH-8).")

    @field_validator("role")
    @classmethod
    def _professional(cls, value: str) -> str:  # ESC-1: never a parent under a partner's or participant's role
        return check_professional_role(value)


class ActionInput(_Input):
    """An action (handling): concrete, with exactly one responsible person (MEET-2)."""

    text: str = Field(min_length=1, max_length=2000)
    responsible: str | list[str] | None = Field(
        default=None, description="The ONE responsible person's email (MEET-2).")
    due: dt.date | None = None


class FollowUpInput(_Input):
    """The follow-up of an open action from an earlier meeting: continue, adjust or change (MEET-2)."""

    action_id: int = Field(gt=0)
    decision: FollowUp
    text: str | None = Field(default=None, max_length=2000, description="The adjusted text (adjust).")
    responsible: str | list[str] | None = None
    due: dt.date | None = None


class MinutesInput(_Input):
    """`pprflow meeting minutes MEETING --file minutes.json`: the light-blue form (LVL-3, MEET-2)."""

    summary: str | None = Field(default=None, max_length=10000)
    actions: list[ActionInput] = Field(default_factory=list)
    follow_ups: list[FollowUpInput] = Field(default_factory=list)
    next_meeting_date: dt.date | None = None

    @field_validator("follow_ups")
    @classmethod
    def _one_decision_per_action(cls, values: list[FollowUpInput]) -> list[FollowUpInput]:
        ids = [v.action_id for v in values]
        if len(ids) != len(set(ids)):
            raise ValueError("each earlier action is followed up once (MEET-2)")
        return values


# --- CAL-2 ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgendaDates:
    """The agenda deadline (CAL-2) and the day the leader is reminded before it."""

    deadline: dt.date
    remind_leader_on: dt.date
    short_notice: bool = False
    """CAL-2: an urgent meeting inside the window (a reason recorded): the agenda goes out at once."""


def agenda_dates(calendar: WorkingCalendar, *, meeting_date: dt.date, today: dt.date, working_days: int,
                 reminder_working_days: int, urgent_reason: str | None = None) -> AgendaDates:
    """CAL-2: the agenda goes to parents and partners *no later than 5 working days before the meeting*.

    A meeting whose deadline has already passed is refused: the parents would not get the agenda in
    time. The reminder to the leader is `reminder_working_days` before the deadline, but not before today.
    """
    deadline = calendar.agenda_deadline(meeting_date, working_days)
    if meeting_date < today:
        raise InvalidInput(f"the meeting date {meeting_date.isoformat()} is in the past", rule_id="CAL-2")
    urgent = (urgent_reason or "").strip()
    if deadline < today:
        if urgent:  # CAL-2 (issue 17): the seed sets when the agenda goes out, it does not forbid urgent meetings
            return AgendaDates(deadline=today, remind_leader_on=today, short_notice=True)
        earliest = _earliest_meeting(calendar, today, working_days)
        raise RuleViolation(
            "CAL-2",
            f"the agenda for a meeting on {meeting_date.isoformat()} had to go out by {deadline.isoformat()}, "
            f"{working_days} working days before; choose {earliest.isoformat()} or later, or give the reason it "
            "cannot wait (--urgent-reason) and the agenda goes out at once",
        )
    if urgent:
        raise InvalidInput(f"--urgent-reason is for a meeting inside the {working_days}-working-day window; the "
                           f"agenda for {meeting_date.isoformat()} can go out by {deadline.isoformat()}: "
                           "leave --urgent-reason out", rule_id="CAL-2")
    remind = calendar.add_working_days(deadline, -reminder_working_days) if reminder_working_days else deadline
    return AgendaDates(deadline=deadline, remind_leader_on=max(remind, today))


def earliest_meeting_date(calendar: WorkingCalendar, today: dt.date, working_days: int) -> dt.date:
    """CAL-2: the earliest meeting date that still leaves `working_days` working days for the agenda (the web
    app's date field starts here)."""
    return _earliest_meeting(calendar, today, working_days)


def _earliest_meeting(calendar: WorkingCalendar, today: dt.date, working_days: int) -> dt.date:
    """The first working day whose agenda deadline is today or later."""
    candidate = calendar.add_working_days(today, working_days) if working_days else calendar.next_working_day(today)
    while calendar.agenda_deadline(candidate, working_days) < today:  # pragma: no cover - defensive
        candidate = calendar.add_working_days(candidate, 1)
    return candidate


# --- LVL-3 / LVL-4 / MEET-1 / MEET-3 ---------------------------------------------------------------

def check_meeting_level(kind: str, level: int | None, max_level: int) -> None:
    """LVL-3: a network meeting is held at a level (3 or 4 in Randers; any stage of the profile's model)."""
    if kind == "network" and level is None:
        raise InvalidInput("a network meeting needs --level (the level it is held at)", rule_id="LVL-3")
    if level is not None and not 1 <= level <= max_level:
        raise InvalidInput(f"level {level} is not between 1 and {max_level}", rule_id="LVL-1")


def check_level3_consent(*, level: int | None, earlier_level3_meetings: int, has_active_consent: bool) -> None:
    """LVL-4 [003]: "Husk forældresamtykke ved mere end 1 møde på niveau 3" — a second meeting at
    level 3 needs the parents' written consent (samtykke)."""
    if level == 3 and earlier_level3_meetings >= 1 and not has_active_consent:
        raise RuleViolation(
            "LVL-4",
            "more than one meeting at level 3 needs the parents' consent: record it first with "
            "`pprflow consent give CASE --file consent.json`",
        )


def stored_kind(kind: str, *, first: bool) -> str:
    """MEET-3: a first meeting and a follow-up meeting use different forms."""
    first_kind, follow_kind = STORED_KINDS[kind]
    return first_kind if first else follow_kind


def agenda_form(kind: str, *, first: bool, level: int | None) -> str:
    """The form the agenda is written on: yellow for network meetings (LVL-3), first/follow-up (MEET-3)."""
    base = FIRST_MEETING_FORM if first else FOLLOW_UP_FORM
    if kind == "network":
        return f"{YELLOW_FORM}; {base.lower()}"
    return base


def agenda_items(kind: str, *, first: bool, open_actions: int, confidential_from_parents: bool) -> list[str]:
    """The standing agenda: first meeting vs follow-up (MEET-3); follow-up of open actions (MEET-2);
    the network map at every meeting (MEET-5); the parents' perspective unless ESC-1 (MEET-1)."""
    items = ["Velkomst og præsentation af deltagerne"]
    items.append("Netværkskort: familiens private og professionelle netværk (medbringes)")  # MEET-5
    if first:
        items.append("Baggrunden for mødet: hvad ser vi i dagtilbud/skole" +
                     ("" if confidential_from_parents else ", og hvad ser I derhjemme?"))
    if not confidential_from_parents:
        items.append("Forældrenes perspektiv")  # MEET-1: parents always take part (unless ESC-1)
    items.append("Barnets perspektiv")
    if open_actions:
        items.append(f"Opfølgning på {open_actions} aftalte handling(er): fortsætter, justeres eller ændres")
    items.append("Nye aftaler: konkrete handlinger, hver med én ansvarlig")
    items.append("Tovholder og næste møde")
    return items


# --- MEET-2 ---------------------------------------------------------------------------------------

_SEVERAL = re.compile(r"[,;/&+]|\s(?:og|and)\s", re.IGNORECASE)


def single_responsible(responsible: str | Sequence[str] | None, *, what: str) -> str:
    """MEET-2: each action has exactly one responsible person, named by email."""
    if responsible is None or (isinstance(responsible, str) and not responsible.strip()):
        raise RuleViolation("MEET-2", f"{what} has no responsible person; name exactly one (an email)")
    if not isinstance(responsible, str):
        names = [r.strip() for r in responsible if r and r.strip()]
        if len(names) != 1:
            raise RuleViolation(
                "MEET-2", f"{what} has {len(names) or 'no'} responsible persons; name exactly one (an email)")
        responsible = names[0]
    value = responsible.strip()
    if _SEVERAL.search(value) or value.count("@") > 1:
        raise RuleViolation("MEET-2", f"{what} names several responsible persons ({value!r}); name exactly one")
    if value.count("@") != 1 or " " in value:
        raise InvalidInput(f"{what}: the responsible person must be an email address, got {value!r}",
                           rule_id="MEET-2")
    try:
        return normalise_address(value)  # the one address type (ESC-1: compared bare and case-folded)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}", rule_id="MEET-2") from None


def check_follow_ups(open_action_ids: Iterable[int], follow_ups: Sequence[FollowUpInput]) -> None:
    """MEET-2: the next meeting follows up *each* open action: continue, adjust or change."""
    open_ids = set(open_action_ids)
    given = {f.action_id for f in follow_ups}
    unknown = sorted(given - open_ids)
    if unknown:
        raise RuleViolation("MEET-2", f"action(s) {unknown} are not open actions of an earlier meeting of this case")
    missing = sorted(open_ids - given)
    if missing:
        raise RuleViolation("MEET-2", f"open action(s) {missing} from the previous meeting need a follow-up: "
                                      "continue, adjust or change")
    for follow_up in follow_ups:
        if follow_up.decision == "adjust" and not follow_up.text:
            raise RuleViolation("MEET-2", f"action {follow_up.action_id} is adjusted: give the adjusted text")


# --- PATH-8 ---------------------------------------------------------------------------------------

def check_partner_consent(role: str, *, consent_id: int | None, consent_active: bool | None) -> None:
    """PATH-8: the collaboration partners (health visitor, family department, open counselling, UU,
    UngVejle, SSP) join network meetings *with consent*; a health visitor may otherwise give
    anonymous sparring, which needs no case."""
    if role in PATH8_PARTNER_ROLES and consent_id is None:
        hint = (" (a health visitor may give anonymous sparring without consent, but then not on a named case)"
                if role in ANONYMOUS_SPARRING_ROLES else "")
        raise RuleViolation("PATH-8",
                            f"a {role} joins the case only with the parents' consent: give --consent ID{hint}")
    if consent_id is not None and not consent_active:
        raise RuleViolation("CONS-1", f"consent {consent_id} is withdrawn or not on this case; nothing is shared on it")


PARTNER_ROLE_TERMS: dict[str, tuple[str, ...]] = {
    # How a consent names a partner by function (LAW-3: "the recipients"): the Danish words a parent writes on the
    # consent form, matched at the start of a word ("sundhedspleje" matches Sundhedsplejen and sundhedsplejerske).
    "health_visitor": ("sundhedspleje",),
    "family_department": ("familieafdeling", "familiecent", "familie- og rådgivningscent"),
    "family_centre_caseworker": ("familiecent", "familie- og rådgivningscent"),
    "caseworker": ("sagsbehandler", "myndighed", "familieafdeling"),
    "open_counselling": ("åbne rådgivning", "åben rådgivning"),
    "uu": ("uu", "ungdommens uddannelsesvejledning"),
    "ungvejle": ("ungvejle",),
    "ssp": ("ssp",),
    "outposted_social_worker": ("fremskudt", "socialrådgiv"),
    "ppr_psychologist": ("ppr", "psykolog"),
    "speech_therapist": ("ppr", "logopæd"),
    "physiotherapist": ("ppr", "fysioterapeut", "ergoterapeut"),
}


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def consent_names_partner(recipients: Sequence[str], *, name: str, email: str, role: str) -> bool:
    """CONS-1, LAW-3: does the consent name this partner among its recipients — by their name, their e-mail
    address, or their function (PARTNER_ROLE_TERMS)? A consent to "PPR Vejle" does not reach the health visitor."""
    texts = [_fold(r) for r in recipients if r and r.strip()]
    person = _fold(name)
    address = email.strip().casefold()
    for text in texts:
        # the whole address, never a part of another one (r@vejle.dk is not named by ppr@vejle.dk)
        if address and re.search(rf"(?<![\w.+%-]){re.escape(address)}(?![\w.-]*\w)", text):
            return True
        # a whole name (two words or more): a first name alone ("Anne") names no one in particular
        if len(person.split()) >= 2 and re.search(rf"(?<!\w){re.escape(person)}(?!\w)", text):
            return True
        if any(re.search(rf"(?<!\w){re.escape(term)}", text) for term in PARTNER_ROLE_TERMS.get(role, ())):
            return True
    return False


def check_consent_names_partner(recipients: Sequence[str], *, consent_id: int, name: str, email: str,
                                role: str) -> None:
    """CONS-1, LAW-3: a partner joins only on a consent that names them; "consent is active" is not enough."""
    if not consent_names_partner(recipients, name=name, email=email, role=role):
        raise RuleViolation(
            "LAW-3", f"consent {consent_id} does not name {name} ({role}) among its recipients "
                     f"({', '.join(recipients) or 'none'}); a partner joins only on a consent that names them "
                     "(CONS-1): record a consent that names them first")


# --- MEET-3 / MEET-5 / level 4: the forms, field by field ------------------------------------------

@dataclass(frozen=True)
class FormField:
    """One field of a seed's paper form as the web app and the agenda mail show it."""

    name: str
    label: str
    hint: str
    required: bool


FIRST_MEETING_FIELDS: tuple[FormField, ...] = (
    # MEET-3 [004] the first development/network meeting; LVL-3 [003] the yellow form: unfold the problem from a
    # cross-professional angle and the parents' perspective, follow up measures tried, give new options, roles.
    FormField("background", "Baggrunden for mødet: hvad ser vi i dagtilbud/skole?",
              "Beskriv konkret, hvad I ser, og hvornår det sker.", True),
    FormField("tried", "Hvad er afprøvet indtil nu?",
              "Indsatserne fra handleplanen (niveau 1–2) og hvordan de er gået.", False),
    FormField("parents_view", "Forældrenes perspektiv: hvad ser I derhjemme?",
              "Udfyldes sammen med forældrene (MEET-1).", False),
    FormField("child_view", "Barnets perspektiv", "Hvad siger og viser barnet selv?", False),
    FormField("question", "Hvad skal mødet give svar på?",
              "Den konkrete udfordring, mødet skal finde handlemuligheder for.", True),
)
FOLLOW_UP_FIELDS: tuple[FormField, ...] = (
    # MEET-3 [004] every follow-up meeting; MEET-2: do the agreed actions work, continue, adjust or change.
    FormField("since_last", "Hvad er sket siden sidste møde?", "Kort status fra dagtilbud/skole og hjem.", True),
    FormField("progress", "Virker handlingerne? Ses der fremgang?",
              "Fører de aftalte handlinger til den ønskede forandring (MEET-2)?", True),
    FormField("parents_view", "Forældrenes perspektiv", "Udfyldes sammen med forældrene (MEET-1).", False),
    FormField("child_view", "Barnets perspektiv", "Er handlingerne meningsgivende for barnet?", False),
    FormField("question", "Hvad skal drøftes og besluttes i dag?", "", True),
)
PARENTS_FORM_FIELDS: tuple[FormField, ...] = (
    # LVL-3 [003] level 4: the parents' information form (forældreoplysningsskema, dark-blue), filled in by the
    # parents before the network meeting at level 4.
    FormField("family", "Familien: hvem bor barnet sammen med?", "Forældre, søskende og andre i hjemmet.", True),
    FormField("strengths", "Barnets styrker og det, der går godt", "", True),
    FormField("concerns", "Forældrenes bekymringer", "Hvad bekymrer jer mest lige nu?", True),
    FormField("wishes", "Forældrenes ønsker til indsatsen", "", False),
    FormField("others", "Andre fagpersoner og tilbud i familiens liv", "Fx læge, fritidstilbud, sagsbehandler.",
              False),
)
PARENTS_FORM = "Forældreoplysningsskema (mørkeblåt skema)"
PARENTS_FORM_LEVEL = 4
NETWORK_CIRCLES: dict[str, str] = {"family": "Familien", "private": "Privat netværk",
                                   "professional": "Professionelt netværk"}


def agenda_fields_for(*, first: bool) -> tuple[FormField, ...]:
    """MEET-3: the first-meeting form or the follow-up form."""
    return FIRST_MEETING_FIELDS if first else FOLLOW_UP_FIELDS


def parents_form_applies(level: int | None) -> bool:
    """LVL-3: level 4 adds the parents' information form (dark-blue)."""
    return level == PARENTS_FORM_LEVEL


def missing_fields(fields: Sequence[FormField], values: Mapping[str, str | None]) -> list[str]:
    """The required fields of a form left empty (MEET-3): their names, in the form's order."""
    return [f.name for f in fields if f.required and not (values.get(f.name) or "").strip()]


def filled_rows(fields: Sequence[FormField], values: Mapping[str, str | None] | None) -> list[dict[str, str]]:
    """The filled-in fields as label/text rows, in the form's order (for the agenda mail and the invite)."""
    values = values or {}
    return [{"name": f.name, "label": f.label, "text": str(values[f.name]).strip()} for f in fields
            if (values.get(f.name) or "").strip()]


class AgendaFormInput(_Input):
    """The agenda form (MEET-3): the first-meeting (yellow) form or the follow-up form; and at level 4 the parents'
    information form. Every text is optional here; which are required depends on the meeting (`missing_fields`)."""

    fields: dict[str, str] = Field(default_factory=dict)
    parents: dict[str, str] = Field(default_factory=dict)

    @field_validator("fields", "parents")
    @classmethod
    def _known_and_short(cls, values: dict[str, str]) -> dict[str, str]:
        known = {f.name for f in (*FIRST_MEETING_FIELDS, *FOLLOW_UP_FIELDS, *PARENTS_FORM_FIELDS)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown form field(s): {', '.join(unknown)}")
        for name, text in values.items():
            if len(text) > 4000:
                raise ValueError(f"{name} is longer than 4000 characters")
        return {k: v.strip() for k, v in values.items() if v and v.strip()}


class NetworkPersonInput(_Input):
    """One row of the network map (MEET-5): who, how they relate to the child, which circle."""

    case_id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=200)
    relation: str = Field(min_length=1, max_length=200, description="e.g. mormor, fodboldtræner")
    circle: Literal["family", "private", "professional"]
    contact: str | None = Field(default=None, max_length=254)
    note: str | None = Field(default=None, max_length=500)
