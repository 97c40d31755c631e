"""Every flow as a deployment: the scheduled main job and the human steps the Prefect UI offers as forms.

Two tables, so adding a deployment is one line:

- `SCHEDULED`: the flows that run by themselves, each with cron schedules in the profile's timezone
  (Europe/Copenhagen, CAL-9) computed from the municipality profile;
- every other flow found in `flows/` becomes a deployment without a schedule: a human step
  (an administrator schedules district meetings, a leader submits a referral, a coordinator
  assigns a case) that the UI renders as a form from the flow's pydantic parameters.

A plan whose flow does not exist yet (a pathway still being written, the retention flow) is listed
as skipped, never an error: the main job serves what exists.

Cron times are wall-clock times in the profile's timezone. None falls between 02:00 and 03:00, the
hour that is skipped in March and repeated in October, so every schedule runs exactly once on
each day it names across both summer-time switches (CAL-9; tests/deployments/test_schedules.py).
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pprflow.models.profile import WEEKDAYS, Profile

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Schedule

# --- When things run (wall-clock, profile timezone) ----------------------------------------------

SWEEP_AT = dt.time(6, 30)
"""The daily sweep runs on weekdays before the working day starts, so reminders are out by 07:00."""

DELIVERY_EVERY_MINUTES = 5
DELIVERY_HOURS = (7, 17)
"""The outbox is delivered every 5 minutes from 07:00 to 17:55 on weekdays (working hours)."""

URGENT_EVERY = dt.timedelta(minutes=1)
"""The urgent lane (the abuse notification, ESC-1/LAW-1) is delivered every minute, day and night, every
day of the year. An interval, not a cron: no wall-clock hour to skip or repeat at the summer-time switch."""

ONE_AT_A_TIME = 1
"""Delivery deployments run one at a time (a second guard; the atomic claim is the first): a run that
would overlap a running one is cancelled, not queued, since the running one takes what is due."""

DISTRICT_PREPARATION_AT = dt.time(12, 0)
"""District-meeting preparation: noon on the weekday before the profile's meeting weekday (CAL-5)."""

KV_CYCLE_AT = dt.time(6, 0)
KV_CYCLE_WEEKDAY = "monday"
"""KV cycle (CAL-3/CAL-4): weekly, Monday 06:00, ahead of the week's notice deadlines."""

RETENTION_AT = dt.time(5, 0)
RETENTION_WEEKDAY = "sunday"
"""Weekly retention purge (PRIV-1/PRIV-2): Sunday 05:00, when nobody works."""

DST_UNSAFE_HOURS = frozenset({2})
"""Local hours that do not exist (last Sunday of March) or happen twice (last Sunday of October)."""

WEEKDAYS_CRON = "1-5"


def _dow(weekday: str) -> int:
    """Cron day of week: sunday=0, monday=1 ... saturday=6."""
    return (WEEKDAYS.index(weekday) + 1) % 7


def daily_on_weekdays(at: dt.time) -> str:
    return f"{at.minute} {at.hour} * * {WEEKDAYS_CRON}"


def weekly(weekday: str, at: dt.time) -> str:
    return f"{at.minute} {at.hour} * * {_dow(weekday)}"


def sweep_crons(profile: Profile) -> list[str]:
    return [daily_on_weekdays(SWEEP_AT)]


def delivery_crons(profile: Profile) -> list[str]:
    first, last = DELIVERY_HOURS
    return [f"*/{DELIVERY_EVERY_MINUTES} {first}-{last} * * {WEEKDAYS_CRON}"]


def district_preparation_crons(profile: Profile) -> list[str]:
    meeting_day = WEEKDAYS.index(profile.district_meeting.weekday)
    day_before = WEEKDAYS[meeting_day - 1] if meeting_day > 0 else "friday"
    return [weekly(day_before, DISTRICT_PREPARATION_AT)]


def kv_cycle_crons(profile: Profile) -> list[str]:
    return [weekly(KV_CYCLE_WEEKDAY, KV_CYCLE_AT)]


def retention_crons(profile: Profile) -> list[str]:
    return [weekly(RETENTION_WEEKDAY, RETENTION_AT)]


def cron_hours(cron: str) -> set[int]:
    """The hours a (simple) cron expression names: '7-17' -> 7..17, '*/2' -> 0,2,..."""
    hours: set[int] = set()
    for part in cron.split()[1].split(","):
        rng, _, step = part.partition("/")
        if rng == "*":
            lo, hi = 0, 23
        elif "-" in rng:
            lo, hi = (int(x) for x in rng.split("-"))
        else:
            lo = hi = int(rng)
        hours.update(range(lo, hi + 1, int(step) if step else 1))
    return hours


# --- The plans -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One deployment with a schedule: which flow, its name, and when it runs.

    `flow` is "module:attribute", or "module" when the module defines exactly one flow (a slot for a
    flow whose function name is not known yet).
    """

    flow: str
    name: str
    crons: Callable[[Profile], list[str]]
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    every: dt.timedelta | None = None
    concurrency_limit: int | None = None


def no_crons(profile: Profile) -> list[str]:
    return []


SCHEDULED: tuple[Plan, ...] = (
    Plan("pprflow.deployments.scheduled:morning_sweep", "arbejdsdage-0630", sweep_crons,
         "Daglig gennemgang af frister og overblik pr. distrikt (CAL-1: springer lukkedage over).",
         tags=("sweep",)),
    Plan("pprflow.flows.delivery:deliver_outbox", "hvert-5-minut-i-arbejdstiden", delivery_crons,
         "Sender forfaldne mails fra udbakken hvert 5. minut kl. 7-18 på hverdage.", tags=("outbox",),
         concurrency_limit=ONE_AT_A_TIME),
    Plan("pprflow.flows.delivery:deliver_urgent_outbox", "underretning-straks", no_crons,
         "Sender underretninger (ESC-1, LAW-1) straks: hvert minut, hele døgnet, alle dage, før al anden post.",
         tags=("outbox", "urgent"), every=URGENT_EVERY, concurrency_limit=ONE_AT_A_TIME),
    Plan("pprflow.flows.ppr:prepare_district_meetings", "dagen-foer-distriktsmoedet", district_preparation_crons,
         "Forbereder distriktsmøderne: listen over nye sager til distriktets PPR-team (CAL-5).",
         tags=("district",)),
    Plan("pprflow.flows.kv:kv_cycle", "ugentlig-kv-cyklus", kv_cycle_crons,
         "KV-cyklus: planlægger sessioner efter profilens kadence (CAL-4).", tags=("kv",)),
    # The retention purge (PRIV-1/PRIV-2, flows/retention.py).
    Plan("pprflow.flows.retention:retention_purge", "ugentlig-sletning", retention_crons,
         "Sletter lukkede sager og gamle logposter efter profilens opbevaringsperiode (PRIV-2).",
         tags=("retention",)),
)

FLOW_PACKAGES: tuple[str, ...] = ("pprflow.flows", "pprflow.deployments")
"""Where flows are discovered; every flow found becomes a deployment."""

NOT_DEPLOYED: frozenset[str] = frozenset({"pprflow.flows.sweep:daily_sweep"})
"""Flows ('module:attribute') that are building blocks of other flows, not deployments of their own.

The daily sweep runs inside `morgen-gennemgang`, which adds the dashboard; a manual run of that
deployment takes a date, so one sweep deployment serves both the schedule and the form."""


# --- Discovery and building ------------------------------------------------------------------------

@dataclass
class Catalogue:
    """The deployments to serve, and what was skipped and why."""

    deployments: list[RunnerDeployment] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(f"{d.flow_name}/{d.name}" for d in self.deployments)


def _is_flow(value: object) -> bool:
    from prefect import Flow

    return isinstance(value, Flow)


def flows_in(module_name: str) -> dict[str, Flow[Any, Any]]:
    """The flows a module defines (not the ones it imports), by attribute name."""
    module = importlib.import_module(module_name)
    return {name: value for name, value in vars(module).items()
            if _is_flow(value) and getattr(value.fn, "__module__", None) == module_name}


def discover_flows(packages: Iterable[str] = FLOW_PACKAGES) -> tuple[dict[str, Flow[Any, Any]], dict[str, str]]:
    """Every flow in the packages, as {'module:attribute': flow}, and modules that failed to import."""
    found: dict[str, Flow[Any, Any]] = {}
    broken: dict[str, str] = {}
    for package_name in packages:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
            if info.ispkg or info.name.rsplit(".", 1)[-1].startswith("_"):
                continue
            try:
                flows = flows_in(info.name)
            except Exception as exc:  # a colleague's module that does not import yet must not stop the job
                broken[info.name] = f"{type(exc).__name__}: {exc}"
                continue
            found.update({f"{info.name}:{attr}": value for attr, value in flows.items()})
    return found, broken


def resolve(ref: str, found: dict[str, Flow[Any, Any]]) -> str | None:
    """The 'module:attribute' a plan refers to, or None if that flow does not exist (yet)."""
    if ":" in ref:
        return ref if ref in found else None
    candidates = [key for key in found if key.split(":", 1)[0] == ref]
    return candidates[0] if len(candidates) == 1 else None


def schedules_for(plan: Plan, profile: Profile) -> list[Schedule]:
    """The plan's cron schedules in the profile's timezone (CAL-9), or its interval."""
    from prefect.schedules import Cron, Interval

    if plan.every is not None:
        return [Interval(plan.every, timezone=profile.timezone, slug=plan.name)]
    return [Cron(cron, timezone=profile.timezone, slug=f"{plan.name}-{i}" if i else plan.name)
            for i, cron in enumerate(plan.crons(profile))]


def build_catalogue(profile: Profile, *, plans: Iterable[Plan] = SCHEDULED,
                    packages: Iterable[str] = FLOW_PACKAGES, work_pool_name: str | None = None,
                    only: Iterable[str] | None = None) -> Catalogue:
    """Every flow as a deployment: the planned ones with their schedules, the others as on-demand forms.

    Entrypoints are module paths (`pprflow.flows.delivery.deliver_outbox`), so the same deployments run from
    an installed package anywhere: served in-process, by a process worker, or in a container.
    """
    from prefect.deployments.runner import EntrypointType

    found, broken = discover_flows(packages)
    catalogue = Catalogue(skipped={module: f"import failed ({why})" for module, why in broken.items()})
    planned: dict[str, Plan] = {}
    for plan in plans:
        key = resolve(plan.flow, found)
        if key is None:
            catalogue.skipped[plan.flow] = "flow not written yet" if plan.flow.split(":")[0] not in broken \
                else "module does not import"
            continue
        planned[key] = plan
    wanted = set(only) if only is not None else None
    for key in sorted(found):
        if key in NOT_DEPLOYED:
            continue
        flow = found[key]
        chosen = planned.get(key)
        name = chosen.name if chosen else "formular"
        if wanted is not None and flow.name not in wanted and f"{flow.name}/{name}" not in wanted:
            continue
        kwargs: dict[str, Any] = {
            "name": name,
            "description": chosen.description if chosen else (flow.description or None),
            "tags": ["pprflow", profile.name, *(chosen.tags if chosen else ("formular",))],
            "parameters": dict(chosen.parameters) if chosen else {},
            "entrypoint_type": EntrypointType.MODULE_PATH,
        }
        if chosen is not None:
            kwargs["schedules"] = schedules_for(chosen, profile)
            if chosen.concurrency_limit is not None:
                from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

                kwargs["concurrency_limit"] = ConcurrencyLimitConfig(
                    limit=chosen.concurrency_limit, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
        if work_pool_name:
            kwargs["work_pool_name"] = work_pool_name
        catalogue.deployments.append(cast("RunnerDeployment", flow.to_deployment(**kwargs)))
    return catalogue
