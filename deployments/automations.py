"""The operators' alerts as Prefect Automation objects, created idempotently (issue 20).

`pprflow serve` and `python -m pprflow.deployments` call `ensure_automations`: each automation is
found by its name and updated in place, created when missing, and extra copies are deleted, so
running it twice (or on every restart) leaves exactly one of each.

1. **Zombie runs** (Prefect's "detect zombie flows" guide): a run that sent a heartbeat and then
   neither another heartbeat nor an end state within three heartbeat periods is marked Crashed. On
   a self-hosted server nothing else reads heartbeats.
2. **Failed or crashed runs of pprflow's flows** notify the operators through the configured
   notification block (`PPRFLOW_ALERT_TEAMS_WEBHOOK_URL`: a Microsoft Teams webhook;
   `PPRFLOW_ALERT_WEBHOOK_URL`: any JSON webhook). Reactive with ``within`` one hour, per flow:
   Prefect fires at the first failure and then waits out the hour, so a one-hour mail outage (a
   failed delivery run every 5 minutes) alerts once, not 12 or 24 times. A rule refusal ends in the
   state named ``Afvist`` (flows/observe.py), whose event is ``prefect.flow-run.Afvist``: no alert.
   Without a configured block this automation is not created (`pprflow serve` says so).
3. **The morning sweep is not done by 07:00**: the `morgen-gennemgang` run of 06:30 announces
   itself (``Late`` when nobody picked it up, ``Pending`` when a worker did); when no ``Completed``
   follows within 30 minutes, the automation runs the sweep deployment again (it is idempotent) and
   notifies the operators.

The notification says which flow and run, the state and a link: never parameters or results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from prefect.automations import Automation

PREFIX = "pprflow: "
ZOMBIE = PREFIX + "zombie-kørsler markeres som nedbrudt"
FAILED = PREFIX + "fejlede kørsler giver alarm"
SWEEP_LATE = PREFIX + "morgengennemgangen er ikke færdig kl. 7"
ALERT_BLOCK = "pprflow-alarm"

ALERT_EVERY = dt.timedelta(hours=1)
"""At most one alert per flow per hour: the first failure alerts, the rest of the hour is quiet."""

SWEEP_GRACE = dt.timedelta(minutes=30)
"""The sweep is scheduled 06:30; not Completed 30 minutes after it was due means not done by 07:00."""

HEARTBEAT_PERIODS = 3
"""A run is a zombie after three heartbeat periods without a heartbeat (the guide's advice)."""

END_STATES = ("Completed", "Failed", "Cancelled", "Crashed", "Afvist", "TimedOut", "Cached", "Paused",
              "Suspended")
ALERT_STATES = ("Failed", "Crashed", "TimedOut")

_BODY = ("Kørslen {{ flow_run.name }} af {{ flow.name }} endte i tilstanden {{ flow_run.state.name }}.\n"
         "Se kørslen: {{ flow_run|ui_url }}\n"
         "Der sendes ikke flere alarmer for dette flow den næste time.")
_SWEEP_BODY = ("Morgengennemgangen ({{ flow.name }}) var ikke færdig 30 minutter efter planen og startes igen. "
               "Se kørslen: {{ flow_run|ui_url }}")


def pprflow_flow_names() -> list[str]:
    """The names of every flow pprflow serves (the alerts match these and nothing else on the server)."""
    import importlib
    import pkgutil

    from prefect import Flow

    import pprflow.deployments.scheduled
    import pprflow.flows

    names = {flow.name for flow in vars(pprflow.deployments.scheduled).values() if isinstance(flow, Flow)}
    for module in pkgutil.iter_modules(pprflow.flows.__path__):
        loaded = importlib.import_module(f"pprflow.flows.{module.name}")
        names |= {obj.name for obj in vars(loaded).values() if isinstance(obj, Flow)}
    return sorted(names)


def alert_block_id(settings: Any) -> UUID | None:
    """Save the configured notification block (overwriting, so it is idempotent) and return its id."""
    teams = settings.alert_teams_webhook_url
    webhook = settings.alert_webhook_url
    if teams is not None:
        from prefect.blocks.notifications import MicrosoftTeamsWebhook

        block: Any = MicrosoftTeamsWebhook(url=teams)
    elif webhook:
        from prefect.blocks.notifications import CustomWebhookNotificationBlock

        block = CustomWebhookNotificationBlock(name="pprflow", url=webhook,
                                               json_data={"title": "{{subject}}", "text": "{{body}}"})
    else:
        return None
    return block.save(ALERT_BLOCK, overwrite=True)  # type: ignore[no-any-return]


def desired_automations(*, flow_names: Sequence[str], block_id: UUID | None, sweep_deployment_id: UUID | None,
                        heartbeat_seconds: int | None, sweep_grace: dt.timedelta = SWEEP_GRACE) -> list[Automation]:
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState, RunDeployment, SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    ours = {"prefect.resource.role": "flow", "prefect.resource.name": list(flow_names)}
    runs = {"prefect.resource.id": "prefect.flow-run.*"}
    wanted: list[Automation] = []
    if heartbeat_seconds:
        wanted.append(Automation(
            name=ZOMBIE, description="Prefects vejledning 'detect zombie flows': ingen heartbeat i tre perioder.",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in END_STATES)},
                match=runs, match_related=ours, for_each={"prefect.resource.id"}, posture=Posture.Proactive,
                threshold=1, within=dt.timedelta(seconds=HEARTBEAT_PERIODS * heartbeat_seconds)),
            actions=[ChangeFlowRunState(state=StateType.CRASHED, name="Crashed",
                                        message="Ingen heartbeat: kørslen er markeret som nedbrudt.")]))
    if block_id is not None:
        wanted.append(Automation(
            name=FAILED, description="Fejlede og nedbrudte kørsler af pprflows flows; højst én alarm i timen pr. flow.",
            trigger=EventTrigger(
                expect={f"prefect.flow-run.{s}" for s in ALERT_STATES}, match=runs, match_related=ours,
                for_each={"related:flow:prefect.resource.id"}, posture=Posture.Reactive, threshold=1,
                within=ALERT_EVERY),
            actions=[SendNotification(block_document_id=block_id, subject="pprflow: en kørsel fejlede",
                                      body=_BODY)]))
    if sweep_deployment_id is not None:
        actions: list[Any] = [RunDeployment(source="selected", deployment_id=sweep_deployment_id)]
        if block_id is not None:
            actions.append(SendNotification(block_document_id=block_id, subject="pprflow: morgengennemgangen",
                                            body=_SWEEP_BODY))
        wanted.append(Automation(
            name=SWEEP_LATE, description="Morgengennemgangen (06.30) er ikke færdig kl. 7: kør den igen (idempotent).",
            trigger=EventTrigger(
                after={"prefect.flow-run.Late", "prefect.flow-run.Pending"},
                expect={"prefect.flow-run.Completed"}, match=runs,
                match_related={"prefect.resource.role": "deployment",
                               "prefect.resource.id": f"prefect.deployment.{sweep_deployment_id}"},
                for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1, within=sweep_grace),
            actions=actions))
    return wanted


def _same(a: Automation, b: Automation) -> bool:
    keep = {"name", "description", "enabled", "trigger", "actions"}
    return a.model_dump(mode="json", include=keep) == b.model_dump(mode="json", include=keep)


def ensure(wanted: Iterable[Automation]) -> dict[str, UUID]:
    """Create, update or de-duplicate each automation by name; return name -> id. Safe to run again."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    ids: dict[str, UUID] = {}
    with get_client(sync_client=True) as client:
        for automation in wanted:
            existing = client.read_automations_by_name(automation.name)
            # owner_resource is Prefect Cloud's: the self-hosted server's update (PUT) refuses it even as null (422)
            core = AutomationCore(**automation.model_dump(exclude={"id", "owner_resource"}))
            if not existing:
                ids[automation.name] = client.create_automation(core)
                continue
            first, *extra = existing
            for duplicate in extra:  # two starts at once: keep one
                client.delete_automation(duplicate.id)
            if not _same(first, automation):  # type: ignore[arg-type]
                client.update_automation(first.id, core)
            ids[automation.name] = first.id
    return ids


SWEEP_DEPLOYMENT = "morgen-gennemgang/arbejdsdage-0630"


def sweep_deployment_id() -> UUID | None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(SWEEP_DEPLOYMENT).id
        except ObjectNotFound:
            return None


def ensure_automations(settings: Any, *, sweep_deployment: UUID | None = None) -> dict[str, UUID]:
    """What `pprflow serve` and `python -m pprflow.deployments` call after the deployments exist."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    heartbeat = PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()
    sweep = sweep_deployment or sweep_deployment_id()
    return ensure(desired_automations(flow_names=pprflow_flow_names(), block_id=alert_block_id(settings),
                                      sweep_deployment_id=sweep, heartbeat_seconds=heartbeat))
