"""Retention (PRIV-1, PRIV-2) as a scheduled flow: delete what has outlived its period, weekly.

1. closed cases `retention.closed_case_years` after their last activity, with their outbox rows,
   attachments, parties, consents, plans, meetings, deadlines and notifications; audit rows after
   `retention.audit_years` (tasks/retention.py, `pprflow retention purge`);
2. Prefect's own copy: the runs of the form flows — the human steps whose parameters carry names
   or free text (the intake form above all) — are deleted through the Prefect API
   `retention.flow_run_parameter_days` after they ended, with their logs and artifacts. The
   server's database vacuum (PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED=events,flow_runs with
   PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD) is the second line: it deletes every run.

The flow's own parameters, logs and artifact hold dates and counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import day_run_name, form_help
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.tasks import retention
from pprflow.tasks.context import Ctx

FORM_FLOWS: frozenset[str] = frozenset({
    "henvendelse-modtag",        # the referral form: child pseudonym, parents' names and emails, concern
    "samtykke-givet",            # the consent: the parents' names (LAW-3)
    "moede-planlaeg",            # participants' names, purpose
    "moede-referat",             # the minutes' free text
    "samarbejdspartner-tilfoej",  # a partner's name and email
    "niveau-skift",              # the reason for a level change
    "kv-emne",                   # a KV topic's free text (anonymous, KV-1, but free text)
    "underretning",              # the notification: the child's name, the reporter, what was observed (ESC-2)
})
"""Flows whose parameters carry personal data or free text (tests/flows check every flow against this)."""

purge_case_data = task(name="slet lukkede sager og gammel logning efter fristen",
                       cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(retention.purge_expired)


@task(name="slet gamle formular-kørsler i Prefect", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def delete_form_flow_runs(*, ended_before: dt.datetime, dry_run: bool = False,
                          flow_names: frozenset[str] = FORM_FLOWS) -> int:
    """Delete the ended runs of the form flows (their parameters, logs, artifacts) through the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterEndTime
    from prefect.client.schemas.sorting import FlowRunSort

    deleted = 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=sorted(flow_names))),
                flow_run_filter=FlowRunFilter(end_time=FlowRunFilterEndTime(before_=ended_before)),
                sort=FlowRunSort.END_TIME_DESC, limit=200, offset=deleted if dry_run else 0,
            )
            if not runs:
                return deleted
            for run in runs:
                if not dry_run:
                    client.delete_flow_run(run.id)
                deleted += 1


@flow(name="sletning-efter-frist", flow_run_name=day_run_name("sletning"),
      description="Slet lukkede sager efter opbevaringsfristen med alt, der hører til (udbakke, vedhæftninger, "
                  "parter, samtykker, møder, frister), gammel logning og gamle formular-kørsler i Prefect "
                  "(PRIV-1, PRIV-2). Kun antal logges.")
@form_help
def retention_purge(today: dt.date | None = None, dry_run: bool = False,
                    request_id: str | None = None) -> dict[str, Any]:
    """Delete what has outlived its retention period; report counts only."""
    ctx = Ctx.for_run(request_id, job="system:retention")
    day = today or local_today()
    report = purge_case_data(ctx=ctx, today=day, dry_run=dry_run)
    days = ctx.profile.retention.flow_run_parameter_days
    ended_before = dt.datetime.combine(day - dt.timedelta(days=days), dt.time(0),
                                       tzinfo=ZoneInfo(ctx.profile.timezone))
    report["form_flow_runs"] = delete_form_flow_runs(ended_before=ended_before, dry_run=dry_run)
    retention.record_flow_run_purge(ctx, deleted=report["form_flow_runs"], dry_run=dry_run)
    create_markdown_artifact(
        key="sletning-efter-frist",
        markdown=(f"## Sletning efter frist {day.isoformat()}{' (prøvekørsel)' if dry_run else ''}\n\n"
                  f"- Lukkede sager slettet: **{report['cases']}** (lukket senest {report['closed_cases_before']})\n"
                  f"- Mails i udbakken: {report['outbox_messages']}, vedhæftninger: {report['outbox_attachments']}\n"
                  f"- Logrækker ældre end {report['audit_rows_before']}: {report['audit_rows']}\n"
                  f"- Formular-kørsler i Prefect: {report['form_flow_runs']}\n\n"
                  "_Kun antal: ingen sager, børn eller personer nævnes._"),
        description="Sletning efter opbevaringsfristen (PRIV-2)",
    )
    return report
