"""`pprflow demo`: a synthetic municipality and several weeks of its pathways, day by day.

Everything here is made up: the municipality ("Demo Kommune"), its `.example` mailboxes (never a
real address), staff and parents with Danish names from Faker's `da_DK` locale (seeded), and
children who are only pseudonyms ("Barn D-417") and birth years (PRIV-2).

The simulation is a small table-driven script:

- `ACTIONS` names each thing the demo does: the service function (tasks/, no Prefect) and the flow
  that wraps it (flows/, `module:attribute`). One line adds an action.
- `build_script` lays the events on the calendar: every working day the morning sweep and an
  outbox delivery (as the schedules would); referrals through the first weeks; district meetings
  that distribute cases (CAL-5, PATH-4); start-up meetings; a case that goes up to level 3 with two
  network meetings, agendas and minutes (LVL-3, CAL-2, MEET-2); a level-4 effort whose six-month
  review falls due during the demo (CAL-6); a teacher's notification of suspected abuse (ESC-1,
  LAW-1/2); KV sessions with anonymous topics, one of them too late (CAL-3).
- `run_script` executes the events with a caller: `call_service` (plain function calls: fast, no
  server) or `call_flow` (real flow runs, so the Prefect dashboard shows runs and artifacts).

The simulated weeks end today, so every message is due and goes to the file transport at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import PprflowError
from pprflow.tasks.context import Ctx

# --- The synthetic municipality ---------------------------------------------------------------------

DOMAIN = "demokommune.example"
ADMIN = f"administration@ppr.{DOMAIN}"
"""The PPR administrator who schedules district meetings and distributes cases in the demo."""
DISTRICTS = ("Nord", "Syd", "Vest")
SCHOOLS = (("Engvangskolen", "Nord"), ("Fjordskolen", "Syd"), ("Lindeskolen", "Vest"))
DAYCARES = (("Børnehuset Mælkebøtten", "Nord"), ("Børnehuset Regnbuen", "Syd"), ("Vuggestuen Spiren", "Vest"))


_DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


def email_part(text: str) -> str:
    """'Søren Østergård' -> 'soeren.oestergaard' (ASCII local parts for .example addresses)."""
    text = text.translate(_DANISH_LETTERS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return ".".join(part for part in "".join(c if c.isalnum() else " " for c in text).split())


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class School:
    """A school (skole) or daycare (dagtilbud) with its leader and staff."""

    name: str
    kind: str
    district: str
    leader: Person
    staff: tuple[Person, ...]

    @property
    def domain(self) -> str:
        return f"{email_part(self.name).replace('.', '')}.{DOMAIN}"


@dataclass(frozen=True)
class World:
    """The synthetic municipality: institutions, PPR staff per district, a pool of families."""

    institutions: tuple[School, ...]
    ppr_staff: dict[str, tuple[Person, ...]]
    families: tuple[tuple[Person, ...], ...]
    seed: int


def make_world(seed: int) -> World:
    """Danish names from Faker da_DK, seeded: the same seed gives the same municipality."""
    from faker import Faker

    fake = Faker("da_DK")
    fake.seed_instance(seed)
    used: set[str] = set()

    def person(role: str, domain: str) -> Person:
        while True:
            first, last = fake.first_name(), fake.last_name()
            email = f"{email_part(first)}.{email_part(last)}@{domain}"
            if email not in used:
                used.add(email)
                return Person(f"{first} {last}", email, role)

    institutions = []
    for (name, district), kind in [(s, "school") for s in SCHOOLS] + [(d, "daycare") for d in DAYCARES]:
        domain = f"{email_part(name).replace('.', '')}.{DOMAIN}"
        leader = person("school_leader" if kind == "school" else "pedagogical_leader", domain)
        staff = tuple(person("teacher" if kind == "school" else "pedagogue", domain) for _ in range(3))
        institutions.append(School(name, kind, district, leader, staff))
    ppr: dict[str, tuple[Person, ...]] = {
        d: (person("ppr_psychologist", f"ppr.{DOMAIN}"), person("ppr_consultant", f"ppr.{DOMAIN}")) for d in DISTRICTS}
    families = []
    for _ in range(40):
        last = fake.last_name()
        parents = []
        for _ in range(1 if fake.random_int(0, 3) == 0 else 2):
            first = fake.first_name()
            parents.append(Person(f"{first} {last}", f"{email_part(first)}.{email_part(last)}@hjem.{DOMAIN}",
                                  "parent"))
        families.append(tuple(parents))
    return World(tuple(institutions), ppr, tuple(families), seed)


def seed_directory(ctx: Ctx, world: World) -> int:
    """PRIV-4: the demo's people are members of the staff directory before they act — the administrator,
    every institution's leader (linked to the institution: they lead its cases) and staff, PPR per district.
    Running it twice adds nobody twice. Returns the number of members added."""
    from sqlmodel import Session, select

    from pprflow.models.tables import Institution, StaffMember

    added = 0
    with Session(ctx.engine) as session:
        def member(person: Person, *, institution_id: int | None = None, district: str | None = None) -> None:
            nonlocal added
            if session.exec(select(StaffMember).where(StaffMember.email == person.email)).first() is None:
                session.add(StaffMember(name=person.name, email=person.email, role=person.role,
                                        institution_id=institution_id, district=district))
                added += 1

        member(Person("PPR Administration", ADMIN, "administrator"))
        for school in world.institutions:
            inst = session.exec(select(Institution).where(Institution.name == school.name)).first()
            if inst is None:
                inst = Institution(name=school.name, kind=school.kind, district=school.district)
                session.add(inst)
                session.flush()
            for person in (school.leader, *school.staff):
                member(person, institution_id=inst.id, district=school.district)
        for district, people in world.ppr_staff.items():
            for person in people:
                member(person, district=district)
        session.commit()
    return added


def demo_profile_toml(world: World) -> str:
    """The demo municipality's profile: Vejle's rules, `.example` mailboxes only."""
    teams = "\n".join(f'"{d}" = "ppr-{email_part(d)}@{DOMAIN}"' for d in DISTRICTS)
    directory = "\n".join(
        f'"{s.name}" = {{ pedagogical = "smaaboern@{DOMAIN}", disability = "specialkonsulent@{DOMAIN}" }}'
        for s in world.institutions if s.kind == "daycare")
    # Synthetic street addresses in a town that does not exist: the agendas need a place parents can find.
    places = "\n".join(f'"{s.name}" = "Demovej {i + 1}, 7999 Demoby"'
                       for i, s in enumerate(world.institutions))
    return f'''# Demo Kommune: a synthetic municipality written by `pprflow demo` (seed {world.seed}).
# Every address is .example: nothing here can reach a real mailbox.
name = "demo"
display_name = "Demo Kommune"
artifact_prefix = "demo-"          # issue 17: the demo's dashboard artifacts never overwrite a real municipality's
timezone = "Europe/Copenhagen"
sender = "ppr@{DOMAIN}"
closed_days = ["12-24", "12-31", "06-05"]

[contact]
unit_name = "PPR Demo Kommune"
phone = "+45 00 00 00 00"
address = "Rådhustorvet 1, 7999 Demoby"

[mailboxes]
ppr = "ppr@{DOMAIN}"
intervention_team = "indsatsteam@{DOMAIN}"
notifications = "underretning@{DOMAIN}"
social_advisers = "raadgivning@{DOMAIN}"
early_years_consultants = "smaaboern@{DOMAIN}"

[pathways]
ppr_learning_environment = "ppr"
ppr_individual = "ppr"
ppv = "ppr"
intervention_team = "intervention_team"
social_adviser = "social_advisers"
early_years_consultant = "early_years_consultants"

[kv]
cadence_weeks = {{ school = 2, daycare = 6 }}
notice_days = 5
reminder_days_before_notice = 2

[district_meeting]
weekday = "thursday"
cadence_weeks = 2
time = "09:00"

[meetings]
agenda_working_days = 5
agenda_reminder_working_days = 3
startup_meeting_lead_working_days = 10

[review]
months = 6
reminder_days = 14
investigation_months = 4

[notification]
acknowledgement_working_days = 6

[retention]
closed_case_years = 5
audit_years = 5
flow_run_parameter_days = 7

[escalation]                       # issue 17: a missed deadline climbs leader -> coordinator -> the PPR leader
                                   # (kinds not listed climb their default: LAW-2, PATH-4, KV-1)
top = "ppr-leder@{DOMAIN}"
ladders.review_overdue = [
  {{ after_working_days = 1, to = "leader" }},
  {{ after_working_days = 4, to = "coordinator" }},
  {{ after_working_days = 9, to = "top" }},
]

[levels]
model = "five_levels"
names = ["Almenområdet", "Sparring", "Tværfagligt netværksmøde", "Specialiseret indsats", "Familiecentret"]

[district_teams]
{teams}

[early_years_directory]
{directory}

[places]
"PPR, mødelokale 1" = "Rådhustorvet 1, 7999 Demoby"
{places}
'''


def write_demo_profile(home: Path, world: World) -> Path:
    path = home / "demo" / "demokommune.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(demo_profile_toml(world), encoding="utf-8")
    return path


# --- Referrals -----------------------------------------------------------------------------------------

CONCERNS = (
    "Eleven har siden sommerferien trukket sig fra fællesskabet og har flere dage om ugen ondt i maven om morgenen.",
    "Barnet har svært ved overgange og reagerer med gråd og vrede, når dagen ikke går som planlagt.",
    "Vi er bekymrede for barnets sprog og deltagelse i leg med de andre børn.",
    "Eleven kommer ofte for sent, virker træt og har svært ved at koncentrere sig i timerne.",
    "Barnet trækker sig fra voksne og andre børn og siger sjældent noget i samling.",
)
GROUP_CONCERNS = (
    "Teamet ønsker sparring på klasseledelse og læringsmiljøet i klassen.",
    "Uro i overgangene og mange konflikter i gruppearbejdet; vi vil styrke fællesskabet.",
)
ACTION_PLAN = {
    "context": "Udfordringerne viser sig især i overgange og i gruppearbejde.",
    "goal": "Barnet deltager i fællesskabet flere gange om ugen; de voksne har faste rammer.",
    "signs": "Barnet bliver i aktiviteten; de voksne bruger samme struktur hver dag.",
    "measures": "Fast makker, visuel dagsplan og korte samtaler med en fast voksen hver uge.",
    "evaluation": "Teammøde efter seks uger med forældrene.",
}
COMMUNITY_MEASURES = "Faste grupper og fællesskabsaktiviteter i otte uger; drøftet anonymt på KV."

PATHWAY_MIX = ("ppr_individual", "ppr_learning_environment", "early_years_consultant", "ppr_individual",
               "intervention_team", "ppv", "social_adviser", "ppr_individual")
"""The order the demo's referrals come in: mostly PPR, one of each other pathway."""


@dataclass
class DemoState:
    """What the script learns while it runs: case ids by story name, meeting ids, what happened."""

    cases: dict[str, int] = field(default_factory=dict)
    meetings: dict[str, int] = field(default_factory=dict)
    notifications: int = 0
    done: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)
    flow_runs: int = 0


def referral_data(world: World, rng: random.Random, pathway: str, number: int, today: dt.date) -> dict[str, Any]:
    """A valid referral of the given pathway, as the referral JSON (models/referral.py)."""
    schools = [s for s in world.institutions if s.kind == "school"]
    daycares = [s for s in world.institutions if s.kind == "daycare"]
    inst = rng.choice(daycares if pathway in {"early_years_consultant", "intervention_team"} else schools)
    submitter = inst.leader if pathway in {"ppv", "intervention_team", "ppr_learning_environment"} \
        else rng.choice(inst.staff)
    family = world.families[number % len(world.families)]
    birth_year = today.year - (5 if pathway == "ppv" else rng.randint(3, 6) if inst.kind == "daycare"
                                else rng.randint(7, 13))
    data: dict[str, Any] = {
        "pathway": pathway,
        "institution": {"name": inst.name, "kind": inst.kind, "district": inst.district},
        "submitted_by": {"name": submitter.name, "email": submitter.email, "role": submitter.role},
        "concern": rng.choice(CONCERNS),
    }
    one_child = pathway in {"ppr_individual", "ppv", "early_years_consultant"}
    if one_child:
        data["child"] = {"pseudonym": f"Barn {chr(65 + number % 26)}-{100 + number * 7 % 900}",
                         "birth_year": birth_year}
        data["parents"] = [{"name": p.name, "email": p.email} for p in family]
        data["consent"] = {
            "given_by": [p.name for p in family], "date": today.isoformat(),
            "information": "Oplysninger om barnets trivsel, udvikling og læring.",
            "recipients": ["PPR Demo Kommune", inst.name], "purpose": "Sparring og et forløb for barnet.",
        }
    else:
        data["group"] = rng.choice(["3.B", "5.A", "Mariehønestuen", "Sommerfuglene"])
        data["concern"] = rng.choice(GROUP_CONCERNS)
    if pathway in {"ppr_individual", "ppv", "ppr_learning_environment", "intervention_team"}:
        data["action_plan"] = dict(ACTION_PLAN)
        if pathway in {"ppr_individual", "ppv"}:
            data["action_plan"]["community_measures"] = COMMUNITY_MEASURES
    if pathway == "ppv":
        data["school_start"] = True
        data["concern"] = "Vi ønsker en PPV forud for skolestart, så skolen kan tilrettelægge de rette rammer."
    if pathway == "intervention_team":
        data["local_resources_involved"] = True
        data["local_lead"] = f"{rng.choice(inst.staff).name}, sprogansvarlig"
    if pathway == "social_adviser":
        data["concern"] = ("Et barn bliver ofte hentet sent og virker træt. Vi vil gerne have sparring på en god "
                           "samtale med forældrene (anonymt).")
    return data


# --- The actions: service function + flow -----------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """One thing the demo does: a label, the flow that wraps it, and the plain service call."""

    label: str
    flow: str
    service: Callable[..., Any]


def _intake(ctx: Ctx, *, referral: Any, today: dt.date) -> Any:
    from pprflow.tasks.intake import submit_referral

    return submit_referral(ctx, referral, today=today)


def _district_schedule(ctx: Ctx, *, district: str, start: dt.date, count: int, today: dt.date) -> Any:
    from pprflow.tasks.ppr import schedule_district_meetings

    return schedule_district_meetings(ctx, district=district, start=start, count=count, today=today)


def _assign(ctx: Ctx, *, case_id: int, to_email: str, today: dt.date, name: str | None = None,
            role: str | None = None) -> Any:
    from pprflow.tasks.ppr import assign_case

    return assign_case(ctx, case_id=case_id, to_email=to_email, today=today, name=name, role=role)


def _district_prepare(ctx: Ctx, *, today: dt.date) -> Any:
    from pprflow.tasks.ppr import prepare_district_meetings

    return prepare_district_meetings(ctx, today=today)


def _kv_schedule(ctx: Ctx, **params: Any) -> Any:
    from pprflow.tasks.kv import schedule_kv_sessions

    return schedule_kv_sessions(ctx, **params)


def _kv_topic(ctx: Ctx, *, topic: Any, today: dt.date) -> Any:
    from pprflow.tasks.kv import submit_kv_topic

    return submit_kv_topic(ctx, topic, today=today)


def _kv_cycle(ctx: Ctx, *, today: dt.date) -> Any:
    from pprflow.tasks.kv import kv_cycle

    return kv_cycle(ctx, today=today)


def _meeting(ctx: Ctx, *, data: Any, today: dt.date) -> Any:
    from pprflow.tasks.meetings import schedule_meeting

    return schedule_meeting(ctx=ctx, data=data, today=today)


def _minutes(ctx: Ctx, *, meeting_id: int, data: Any, today: dt.date) -> Any:
    from pprflow.tasks.meetings import record_minutes

    return record_minutes(ctx=ctx, meeting_id=meeting_id, data=data, today=today)


def _level(ctx: Ctx, *, data: Any, direction: str, today: dt.date) -> Any:
    from pprflow.tasks.levels import change_level

    return change_level(ctx=ctx, data=data, direction=direction, today=today)  # type: ignore[arg-type]


def _review(ctx: Ctx, *, case_id: int, review_date: dt.date, today: dt.date) -> Any:
    from pprflow.tasks.levels import record_review

    return record_review(ctx=ctx, case_id=case_id, review_date=review_date, today=today)


def _abuse(ctx: Ctx, *, case_id: int, today: dt.date) -> Any:
    from pprflow.tasks.abuse import report_abuse

    return report_abuse(ctx, case_id, today=today)


def _transfer(ctx: Ctx, *, case_id: int, to_institution: str, today: dt.date) -> Any:
    from pprflow.tasks.transfer import transfer_case

    return transfer_case(ctx=ctx, case_id=case_id, to_institution=to_institution, today=today)


def _sweep(ctx: Ctx, *, today: dt.date) -> Any:
    from pprflow.tasks.sweep import sweep

    if not WorkingCalendar.for_profile(ctx.profile).is_working_day(today):  # as the morning sweep (CAL-1)
        return {"today": today.isoformat(), "swept": []}
    return sweep(ctx, today=today)


def _deliver(ctx: Ctx) -> Any:
    from pprflow.config import Settings
    from pprflow.tasks.delivery import deliver
    from pprflow.tasks.transports.file import FileTransport

    return deliver(ctx=ctx, transport=FileTransport(Settings().resolved_mail_dir()))


ACTIONS: dict[str, Action] = {
    "referral": Action("henvendelse modtaget", "pprflow.flows.intake:referral_intake", _intake),
    "district_schedule": Action("distriktsmøder planlagt", "pprflow.flows.ppr:schedule_district", _district_schedule),
    "district_prepare": Action("sagsliste til distriktsmødet", "pprflow.flows.ppr:prepare_district_meetings",
                               _district_prepare),
    "assign": Action("sag fordelt på distriktsmødet", "pprflow.flows.ppr:assign_district_case", _assign),
    "kv_schedule": Action("KV-møder planlagt", "pprflow.flows.kv:schedule_kv", _kv_schedule),
    "kv_topic": Action("anonymt KV-emne", "pprflow.flows.kv:kv_submit_topic", _kv_topic),
    "kv_cycle": Action("KV-cyklus", "pprflow.flows.kv:kv_cycle", _kv_cycle),
    "meeting": Action("møde planlagt", "pprflow.flows.meetings:plan_meeting", _meeting),
    "minutes": Action("referat (lyseblåt skema)", "pprflow.flows.meetings:meeting_minutes", _minutes),
    "level": Action("niveauskift", "pprflow.flows.levels:change_case_level", _level),
    "review": Action("halvårsvurdering", "pprflow.flows.levels:review_case", _review),
    "abuse": Action("underretning (mistanke om overgreb)", "pprflow.flows.abuse:report_suspected_abuse", _abuse),
    "transfer": Action("sag flyttet med barnet", "pprflow.flows.handover:transfer_case_flow", _transfer),
    "sweep": Action("morgengennemgang", "pprflow.deployments.scheduled:morning_sweep", _sweep),
    "deliver": Action("udbakken sendt", "pprflow.flows.delivery:deliver_outbox", _deliver),
}
"""Every action of the demo. A new pathway step is one line here plus its events in `build_script`."""

Caller = Callable[[Action, Ctx, dict[str, Any]], Any]


def call_service(action: Action, ctx: Ctx, params: dict[str, Any]) -> Any:
    """Plain function call: same code, same database, same outbox as the flow, no server."""
    return action.service(ctx, **params)


def call_flow(action: Action, ctx: Ctx, params: dict[str, Any]) -> Any:
    """A real flow run (PREFECT_API_URL): the flow rebuilds its Ctx from the environment."""
    import importlib
    import inspect

    module_name, _, attr = action.flow.partition(":")
    from pprflow.tasks.context import record_request

    flow = getattr(importlib.import_module(module_name), attr)
    if "request_id" not in inspect.signature(getattr(flow, "fn", flow)).parameters:
        return flow(**params)  # a scheduled job's flow (the morning sweep) acts as its named system job
    target = getattr(flow, "flow", flow)  # issue 20: the actor is a request row, never a flow parameter
    return flow(**params, request_id=record_request(ctx.engine, ctx.actor, target.name))


# --- The script --------------------------------------------------------------------------------------

Params = dict[str, Any] | list[dict[str, Any]] | None


@dataclass(frozen=True)
class Event:
    """On `day`, `actor` does `action` with `params` (or what `resolve(state, ctx)` returns then)."""

    day: dt.date
    action: str
    actor: str
    params: dict[str, Any] = field(default_factory=dict)
    resolve: Callable[[DemoState, Ctx], Params] | None = None
    story: str | None = None  # remember the case id under this name (referrals)


def first_weekday_on_or_after(d: dt.date, weekday: int) -> dt.date:
    return d + dt.timedelta(days=(weekday - d.weekday()) % 7)


def simulation_days(end: dt.date, weeks: int) -> list[dt.date]:
    """The simulated days: `weeks` whole weeks from a Monday, ending with `end` (today)."""
    start = end - dt.timedelta(days=end.weekday()) - dt.timedelta(weeks=weeks - 1)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def build_script(world: World, calendar: WorkingCalendar, *, days: list[dt.date], seed: int,
                 district_weekday: int = 3) -> list[Event]:
    """The demo's events in order: routines every working day, the stories on their days."""
    from pprflow.models.referral import parse_referral
    from pprflow.models.rules_kv import KVTopicIn
    rng = random.Random(seed)
    working = [d for d in days if calendar.is_working_day(d)]
    start, end = days[0], days[-1]
    admin = ADMIN
    schools = [s for s in world.institutions if s.kind == "school"]
    events: list[Event] = []

    def wd(n: int) -> dt.date | None:
        """The n-th working day of the demo (0-based), or None past the end."""
        return working[n] if 0 <= n < len(working) else None

    # Setup: district meetings every 2 weeks (CAL-5), KV sessions on the cadence (CAL-4).
    first_meeting = first_weekday_on_or_after(start, district_weekday)
    for district in DISTRICTS:
        events.append(Event(start, "district_schedule", admin, {
            "district": district, "start": first_meeting, "count": len(days) // 14 + 2, "today": start}))
    for i, inst in enumerate(world.institutions[:4]):
        kv_start = first_weekday_on_or_after(start + dt.timedelta(days=7), 1 + i % 3)
        events.append(Event(start, "kv_schedule", admin, {
            "institution": inst.name, "start": kv_start, "count": 4, "leader_email": inst.leader.email,
            "leader_name": inst.leader.name, "kind": inst.kind, "district": inst.district}))
        on_time = kv_start - dt.timedelta(days=8)
        if on_time >= start:
            events.append(Event(on_time, "kv_topic", inst.leader.email, {"topic": KVTopicIn(
                institution=inst.name, session_date=kv_start,
                text="Hvordan skaber vi rolige overgange efter frikvarteret for hele gruppen?"), "today": on_time}))
        if i == 0:  # too late: 2 days' notice (CAL-3) is refused, naming the rule
            late = kv_start - dt.timedelta(days=2)
            events.append(Event(late, "kv_topic", inst.leader.email, {"topic": KVTopicIn(
                institution=inst.name, session_date=kv_start, text="Sprogarbejde i små grupper"), "today": late}))

    # Referrals through the first weeks: about four a week, in the pathway mix.
    referral_days = [d for d in working[: max(1, len(working) - 5)]]
    story_coordinator: dict[str, str] = {}
    count = max(len(PATHWAY_MIX), 4 * len(days) // 7)
    for n in range(count):
        day = referral_days[(n * len(referral_days)) // count]
        pathway = PATHWAY_MIX[n % len(PATHWAY_MIX)]
        data = referral_data(world, rng, pathway, n, day)
        story = {0: "startup", 3: "network", 7: "abuse"}.get(n)
        if story is not None:  # PRIV-4: the story's later steps are the submitter's, who coordinates the case
            story_coordinator[story] = data["submitted_by"]["email"]
        events.append(Event(day, "referral", data["submitted_by"]["email"],
                            {"referral": parse_referral(data), "today": day}, story=story))

    # A level-4 effort started almost six months ago: its review (CAL-6) falls due during the demo, the
    # coordinator is reminded 14 days before, and the partners record the review on the day.
    review_due = calendar.next_working_day(start + dt.timedelta(days=min(20, len(days) - 2)))
    level4 = calendar.previous_working_day(_add_months(review_due, -6))
    intake_day = calendar.add_working_days(level4, -15)
    old = referral_data(world, rng, "early_years_consultant", count + 1, intake_day)
    events.append(Event(intake_day, "referral", old["submitted_by"]["email"],
                        {"referral": parse_referral(old), "today": intake_day}, story="review"))
    reviewer = old["submitted_by"]["email"]  # the case's coordinator moves its levels and records the review
    for to, when in ((2, calendar.add_working_days(level4, -10)), (3, calendar.add_working_days(level4, -5)),
                     (4, level4)):
        events.append(Event(when, "level", reviewer, resolve=_level_params("review", to, when)))
    due = _add_months(level4, 6)
    review_day = due if calendar.is_working_day(due) else calendar.previous_working_day(due)
    if review_day in working:
        events.append(Event(review_day, "review", reviewer,
                            resolve=_for_case("review", partial(_review_call, review_day))))

    # ROLE-3: after its review the child moves from daycare to school; the case goes along, the school's
    # leader is told and takes over.
    if working and (move_day := working[-1]) >= review_day:
        events.append(Event(move_day, "transfer", reviewer, resolve=_for_case("review", partial(
            _transfer_call, move_day, schools[0].name))))

    # Issue 17: a second level-4 effort whose review nobody records: the overdue review climbs the profile's
    # ladder (leader, coordinator, the PPR leader) and stays overdue on the dashboard.
    if (overdue_due := wd(2)) is not None and len(working) > 12:
        level4_late = calendar.previous_working_day(_add_months(overdue_due, -6))
        late_intake = calendar.add_working_days(level4_late, -15)
        unreviewed = referral_data(world, rng, "early_years_consultant", count + 2, late_intake)
        events.append(Event(late_intake, "referral", unreviewed["submitted_by"]["email"],
                            {"referral": parse_referral(unreviewed), "today": late_intake}, story="overdue"))
        for to, when in ((2, calendar.add_working_days(level4_late, -10)),
                         (3, calendar.add_working_days(level4_late, -5)), (4, level4_late)):
            events.append(Event(when, "level", unreviewed["submitted_by"]["email"],
                                resolve=_level_params("overdue", to, when)))

    # Start-up meeting (PATH-4): arranged by the assigned PPR employee a few days after assignment.
    # Network story (LVL-1..3, CAL-2, MEET-2): level 2, level 3, two network meetings with minutes.
    leader = story_coordinator.get("network", schools[0].leader.email)
    if wd(3) is not None:
        for n, to in ((4, 2), (5, 3)):
            if (d := wd(n)) is not None:
                events.append(Event(d, "level", leader, resolve=_level_params("network", to, d)))
        planned_on, meeting_day, second = wd(6), wd(12), wd(18)
        if planned_on is not None and meeting_day is not None:
            psychologist = world.ppr_staff[DISTRICTS[0]][0]
            events.append(Event(planned_on, "meeting", leader, story="network-1", resolve=_for_case(
                "network", partial(_network_meeting_call, planned_on, meeting_day, psychologist))))
            events.append(Event(meeting_day, "minutes", leader, resolve=_for_meeting(
                "network-1", partial(_minutes_call, meeting_day, second, leader, psychologist.email))))
            if second is not None:  # a second meeting at level 3 needs the parents' consent (LVL-4): given at intake
                events.append(Event(meeting_day, "meeting", leader, story="network-2", resolve=_for_case(
                    "network", partial(_network_meeting_call, meeting_day, second, None))))

    # Suspected abuse (ESC-1): a teacher, not the leader, notifies (LAW-1); the parents hear nothing.
    if (d := wd(9)) is not None:
        teacher = schools[0].staff[0].email
        events.append(Event(d, "abuse", teacher, resolve=_for_case("abuse", partial(_abuse_call, d))))

    # District meetings distribute the cases on them (PATH-4); most start-up meetings are arranged.
    for d in working:
        if d.weekday() == district_weekday:
            events.append(Event(d, "assign", admin, resolve=_assignments(world, d, rng)))
            if (later := next((w for w in working if w > d + dt.timedelta(days=2)), None)) is not None:
                events.append(Event(later, "meeting", admin, resolve=_startups(calendar, later)))

    # The routines, as the schedules run them: sweep 06:30 and deliveries on weekdays; KV cycle on
    # Mondays; district-meeting preparation the day before the meeting weekday.
    routine: list[Event] = []
    for d in days:
        if d.weekday() < 5:
            routine.append(Event(d, "sweep", "system:sweep", {"today": d}))
        if d.weekday() == 0:
            routine.append(Event(d, "kv_cycle", "system:kv", {"today": d}))
        if d.weekday() == (district_weekday - 1) % 7:
            routine.append(Event(d, "district_prepare", "system:district", {"today": d}))
    deliveries = [Event(d, "deliver", "system:outbox", {}) for d in days if d.weekday() < 5]
    order = {"sweep": 0, "kv_cycle": 1, "district_prepare": 1}
    timeline = sorted(routine + events, key=lambda e: (e.day, order.get(e.action, 2)))
    # Deliver at the end of each working day, after the day's events.
    result: list[Event] = []
    for d in days:
        result += [e for e in timeline if e.day == d]
        result += [e for e in deliveries if e.day == d]
    result = [e for e in timeline if e.day < start] + result
    return [e for e in result if e.day <= end]


Resolver = Callable[[DemoState, Ctx], Params]


def _for_case(story: str, build: Callable[[int], dict[str, Any]]) -> Resolver:
    """Params built from the case id a referral earlier in the script stored under `story`."""
    def resolve(state: DemoState, ctx: Ctx) -> Params:
        return build(state.cases[story]) if story in state.cases else None

    return resolve


def _for_meeting(story: str, build: Callable[[int], dict[str, Any]]) -> Resolver:
    def resolve(state: DemoState, ctx: Ctx) -> Params:
        return build(state.meetings[story]) if story in state.meetings else None

    return resolve


def _review_call(day: dt.date, case_id: int) -> dict[str, Any]:
    return {"case_id": case_id, "review_date": day, "today": day}


def _transfer_call(day: dt.date, to_institution: str, case_id: int) -> dict[str, Any]:
    return {"case_id": case_id, "to_institution": to_institution, "today": day}


def _abuse_call(day: dt.date, case_id: int) -> dict[str, Any]:
    return {"case_id": case_id, "today": day}


def _network_meeting_call(today: dt.date, date: dt.date, psychologist: Person | None, case_id: int) -> dict[str, Any]:
    from pprflow.models.rules_meetings import MeetingInput, Participant

    participants = [Participant(name=psychologist.name, email=psychologist.email, role="ppr_psychologist")] \
        if psychologist else []
    return {"data": MeetingInput(case_id=case_id, kind="network", level=3, date=date, location="Mødelokale 2",
                                 leader_phone="+45 00 00 00 01", participants=participants), "today": today}


def _minutes_call(day: dt.date, next_meeting: dt.date | None, leader: str, psychologist: str,
                  meeting_id: int) -> dict[str, Any]:
    """The light-blue form: concrete actions, one responsible person each (MEET-2)."""
    from pprflow.models.rules_meetings import ActionInput, MinutesInput

    return {"meeting_id": meeting_id, "today": day, "data": MinutesInput(
        summary="Vi drøftede overgangene og aftalte konkrete handlinger.",
        actions=[ActionInput(text="Fast makker i frikvarteret", responsible=leader),
                 ActionInput(text="Samtale med forældrene om morgenrutiner", responsible=psychologist)],
        next_meeting_date=next_meeting)}


def _add_months(d: dt.date, months: int) -> dt.date:
    from pprflow.models.calendar import add_months

    return add_months(d, months)


def _level_params(story: str, to: int, when: dt.date) -> Callable[[DemoState, Ctx], Params]:
    from pprflow.models.rules_levels import LevelChangeInput

    def resolve(state: DemoState, ctx: Ctx) -> Params:
        if story not in state.cases:
            return None
        return {"data": LevelChangeInput(case_id=state.cases[story], sphere="institution", to=to,
                                         reason="Partnerne vurderer, at indsatsen skal styrkes." if to >= 3 else None),
                "direction": "up", "today": when}

    return resolve


def _assignments(world: World, day: dt.date, rng: random.Random) -> Callable[[DemoState, Ctx], Params]:
    def resolve(state: DemoState, ctx: Ctx) -> Params:
        from pprflow.tasks.ppr import list_district_meetings

        calls = []
        for meeting in list_district_meetings(ctx, from_date=day):
            if meeting["date"] != day.isoformat():
                continue
            for case_id in meeting["cases"]:
                if str(case_id) in meeting["assigned"]:
                    continue
                employee = rng.choice(world.ppr_staff.get(meeting["district"], world.ppr_staff[DISTRICTS[0]]))
                calls.append({"case_id": case_id, "to_email": employee.email, "name": employee.name,
                              "role": employee.role, "today": day})
        return calls

    return resolve


def _startups(calendar: WorkingCalendar, day: dt.date) -> Callable[[DemoState, Ctx], Params]:
    """Two of three freshly assigned cases get a start-up meeting; the third is reminded (PATH-4)."""

    def resolve(state: DemoState, ctx: Ctx) -> Params:
        from sqlmodel import Session, col, select

        from pprflow.models.rules_meetings import MeetingInput
        from pprflow.models.tables import Case, Meeting

        with Session(ctx.engine) as session:
            assigned = session.exec(select(Case).where(col(Case.assigned_ppr_email).is_not(None),
                                                       Case.status == "open")).all()
            with_startup = set(session.exec(select(Meeting.case_id).where(Meeting.kind == "startup")).all())
        waiting = [c for c in assigned if c.id not in with_startup]
        date = calendar.add_working_days(day, 7)
        return [{"data": MeetingInput(case_id=c.id or 0, kind="startup", date=date,
                                      leader_email=c.assigned_ppr_email, leader_phone="+45 00 00 00 02",
                                      location="PPR, mødelokale 1"),
                 "today": day} for i, c in enumerate(waiting) if i % 3 != 2]

    return resolve


def expand(event: Event, state: DemoState, ctx: Ctx) -> list[dict[str, Any]]:
    """The calls an event makes now: its params, or what its resolver returns (none, one or several)."""
    if event.resolve is None:
        return [event.params]
    resolved = event.resolve(state, ctx)
    if resolved is None:
        return []
    return resolved if isinstance(resolved, list) else [resolved]


def run_script(ctx: Ctx, events: Iterable[Event], *, call: Caller = call_service,
               on_step: Callable[[Event, str], None] | None = None,
               on_event: Callable[[Event], None] | None = None) -> DemoState:
    """Execute the events in order. A rule refusal (e.g. a late KV topic, CAL-3) is counted, not fatal."""
    state = DemoState()
    for event in events:
        action = ACTIONS[event.action]
        actor_ctx = dataclasses.replace(ctx, actor=event.actor)
        if on_step is not None:
            on_step(event, action.label)
        for params in expand(event, state, actor_ctx):
            try:
                result = call(action, actor_ctx, params)
            except PprflowError as exc:
                state.refused[event.action] += 1
                state.refusals.append(f"{event.day.isoformat()} {action.label}: {exc.one_line()}")
            else:
                state.done[event.action] += 1
                if call is call_flow:
                    state.flow_runs += 1
                _remember(state, event, result)
        if on_event is not None:
            on_event(event)
    return state


def _remember(state: DemoState, event: Event, result: Any) -> None:
    if event.story is None:
        return
    data = result.model_dump() if hasattr(result, "model_dump") else result
    if event.action == "referral" and isinstance(data, dict) and data.get("case_id"):
        state.cases[event.story] = int(data["case_id"])
    if event.action == "meeting" and isinstance(data, dict):
        meeting_id = data.get("meeting_id") or data.get("id")
        if meeting_id:
            state.meetings[event.story] = int(meeting_id)


# --- The summary ------------------------------------------------------------------------------------

def summary_rows(ctx: Ctx, state: DemoState, mail_dir: Path) -> list[tuple[str, str]]:
    """What the demo did, in Danish, from the database and the mail folder."""
    from collections import Counter

    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from pprflow.models.rules_deadlines import kind_label
    from pprflow.models.tables import AuditEvent, Case, Deadline, Meeting, Notification, OutboxMessage

    with Session(ctx.engine) as session:
        by_pathway = dict(session.exec(select(Case.pathway, func.count()).group_by(Case.pathway)).all())
        meetings = dict(session.exec(select(Meeting.kind, func.count()).group_by(Meeting.kind)).all())
        outbox = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        notifications = session.exec(select(func.count()).select_from(Notification)).one()
        # issue 17: every kind's rungs (review, acknowledgement, start-up meeting, KV topics), by Danish label
        rungs = session.exec(select(AuditEvent.entity_id, AuditEvent.detail).where(
            AuditEvent.entity == "deadline", AuditEvent.action == "change")).all()
        climbed = [int(i) for i, detail in rungs
                   if i is not None and isinstance(detail, dict) and "escalation_step" in detail]
        kinds = dict(session.exec(select(Deadline.id, Deadline.kind).where(col(Deadline.id).in_(climbed))).all()) \
            if climbed else {}
        moved = session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "case", AuditEvent.reason == "ROLE-3", AuditEvent.action == "change")).one()
    per_kind = Counter(kind_label(kinds.get(i, "")) for i in climbed)
    network = sum(v for k, v in meetings.items() if k.startswith("network"))
    pathways = by_pathway.items()
    rows = [
        ("Sager oprettet", f"{sum(by_pathway.values())} ({', '.join(f'{k} {v}' for k, v in sorted(pathways))})"),
        ("Distriktsmøder", str(meetings.get("district", 0))),
        ("Sager fordelt på distriktsmøder", str(state.done["assign"])),
        ("Opstartsmøder", str(meetings.get("startup", 0))),
        ("Netværksmøder / referater", f"{network} / {state.done['minutes']}"),
        ("Niveauskift / halvårsvurderinger", f"{state.done['level']} / {state.done['review']}"),
        ("Underretninger (ESC-1)", str(notifications)),
        ("Eskaleringstrin for overskredne frister",
         ", ".join(f"{label} {n}" for label, n in sorted(per_kind.items())) or "0"),
        ("Flyttede sager", str(moved)),
        ("KV-møder / KV-emner", f"{meetings.get('kv', 0)} / {state.done['kv_topic']}"),
        ("Morgengennemgange", str(state.done["sweep"])),
        ("Mails sendt / venter / annulleret",
         f"{outbox.get('sent', 0)} / {outbox.get('pending', 0)} / {outbox.get('cancelled', 0)}"),
        (".eml-filer i mailmappen", str(len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0)),
        ("Afvist efter reglerne", str(sum(state.refused.values()))),
    ]
    if state.flow_runs:
        rows.append(("Flow-kørsler", str(state.flow_runs)))
    return rows
