"""The operators' alert mail through pprflow's own outbox (issue 20), beside the Teams/JSON webhook block.

Each delivery run (flows/delivery.py) reads Prefect's Failed and Crashed runs of pprflow's flows from the
last day (never a refusal: the state ``Afvist`` is a Failed state by another name) and queues one mail per
job to the profile's ``[mailboxes] operations``, in Danish:

- **once per incident window**: no second alert about the same job within an hour of the last one
  (`ALERT_WINDOW`, the same threshold as the webhook automation); a mail outage that fails a delivery
  run every 5 minutes is one mail, not 12 an hour. A later alert counts only runs that failed after the
  previous one;
- **no personal data**: the job's name, the latest run's name (a day or a case number), counts, states,
  times and a link to Prefect's UI; never parameters, results or error texts;
- **nothing doubled**: the outbox's idempotency key names the job and the latest failed run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from pprflow.models.tables import OutboxMessage
from pprflow.tasks.context import Ctx

ALERT_KIND = "operations_alert"
ALERT_WINDOW = dt.timedelta(hours=1)
"""At most one alert mail per job an hour (deployments/automations.py ALERT_EVERY, the webhook's threshold)."""

LOOK_BACK = dt.timedelta(days=1)
"""How far back a delivery run looks for failed runs (a failure in the night is mailed at 07:00)."""

REFUSED = "Afvist"

STATE_LABELS = {"Failed": "fejlet", "Crashed": "brudt ned", "TimedOut": "tidsgrænsen overskredet",
                "Cancelled": "annulleret"}
"""Prefect's state names in the operators' Danish mail (STYLE: Danish for every user)."""


@dataclass(frozen=True)
class FailedRun:
    """What the alert may say about a failed run: names, state, time and a link; nothing personal."""

    flow_name: str
    run_id: str
    run_name: str
    state: str
    at: dt.datetime
    link: str | None = None


def _serves(flow_name: str) -> str:
    return f"alarm:{flow_name}:"


def queue_operations_alerts(ctx: Ctx, failures: Iterable[FailedRun], *, now: dt.datetime) -> list[int]:
    """Queue one alert per failing job to `[mailboxes] operations`, at most one per job per `ALERT_WINDOW`."""
    from pprflow.db import session_scope
    from pprflow.tasks.casefile import base_context
    from pprflow.tasks.outbox import queue_message

    mailbox = ctx.profile.mailboxes.operations
    by_flow: dict[str, list[FailedRun]] = {}
    for run in failures:
        if run.state != REFUSED:
            by_flow.setdefault(run.flow_name, []).append(run)
    if mailbox is None or not by_flow:
        return []
    queued: list[int] = []
    with session_scope(ctx.engine) as session:
        for flow_name, runs in sorted(by_flow.items()):
            last = session.exec(
                select(OutboxMessage).where(OutboxMessage.template == ALERT_KIND,
                                            col(OutboxMessage.idempotency_key).contains(f"|{_serves(flow_name)}"))
                .order_by(col(OutboxMessage.created_at).desc())).first()
            if last is not None and now - last.created_at < ALERT_WINDOW:
                continue  # the same incident: the operators were told within the hour
            new = sorted((r for r in runs if last is None or r.at > last.created_at), key=lambda r: r.at)
            if not new:
                continue
            latest = new[-1]
            context = {**base_context(ctx.profile, recipient_name="Driften", sender_name="pprflow"),
                       "for_parent": False, "flow_name": flow_name, "failures": len(new),
                       "states": sorted({STATE_LABELS.get(r.state, r.state) for r in new}),
                       "first_at": new[0].at, "last_at": latest.at,
                       "run_name": latest.run_name, "link": latest.link}
            message = queue_message(session, kind=ALERT_KIND, to=mailbox, context=context,
                                    serves=_serves(flow_name) + latest.run_id, sender=ctx.profile.sender,
                                    actor=ctx.actor)
            if message is not None and message.id is not None:
                queued.append(message.id)
    return queued


def failed_runs(flow_names: Sequence[str], *, since: dt.datetime) -> list[FailedRun]:
    """Prefect's Failed and Crashed runs of `flow_names` that ended after `since` (refusals left out)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    found: list[FailedRun] = []
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(
            any_=list(flow_names))))}
        if not flows:
            return []
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=list(flow_names))),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])),
                start_time=FlowRunFilterStartTime(after_=since)),
            limit=200)
    for run in runs:
        if run.state is None or run.state.name == REFUSED:
            continue
        at = run.end_time or run.state.timestamp
        found.append(FailedRun(flow_name=flows.get(run.flow_id, "?"), run_id=str(run.id), run_name=run.name,
                               state=run.state.name or run.state.type.value, at=at,
                               link=f"{ui.rstrip('/')}/runs/flow-run/{run.id}" if ui else None))
    return found
