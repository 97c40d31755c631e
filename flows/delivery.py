"""Outbox delivery: routine mail every few minutes in working hours; the urgent lane every minute, always."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import day_run_name, form_help
from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import URGENT_WATCH_SECONDS, deliver, deliver_urgent

deliver_due_messages = task(name="send due messages", retries=0, cache_policy=NO_CACHE)(deliver)
deliver_urgent_messages = task(name="send urgent messages", retries=0, cache_policy=NO_CACHE)(deliver_urgent)


@task(name="alarmér driften om fejlede job", cache_policy=NO_CACHE, retries=0)
def alert_operators(ctx: Ctx) -> int:
    """Issue 20: queue the operators' alert mail (tasks/alerts.py) for Prefect's failed pprflow runs, before the
    delivery sends it. Only with `[mailboxes] operations` in the profile; a failure here never stops delivery."""
    if ctx.profile.mailboxes.operations is None:
        return 0
    from prefect.logging import get_run_logger

    from pprflow.deployments.automations import pprflow_flow_names
    from pprflow.models.types import utcnow
    from pprflow.tasks.alerts import LOOK_BACK, failed_runs, queue_operations_alerts

    now = utcnow()
    try:
        return len(queue_operations_alerts(ctx, failed_runs(pprflow_flow_names(), since=now - LOOK_BACK), now=now))
    except Exception as exc:  # the alert is for the operators; the outbox is delivered regardless
        get_run_logger().warning("Alarmen til driften kunne ikke lægges i udbakken: %s", type(exc).__name__)
        return 0


def publish_escalations(escalated: list[dict[str, Any]]) -> None:
    """ESC-1: the first alert on the dashboard — a notification the transport keeps refusing, escalated
    (once, tasks/abuse.py `escalate_undelivered`). No child is named: the message, notification and case ids."""
    if not escalated:
        return
    lines = ["**HASTER: en underretning om mistanke om vold eller overgreb kan ikke leveres.** "
             "Ring den videre til modtageren nu; pprflow prøver fortsat at sende den.", ""]
    for item in escalated:
        case = f", sag {item['case_id']}" if item.get("case_id") is not None else ""
        to = item.get("escalated_to") or "ingen anden vej i profilen – sæt [mailboxes] escalation"
        lines.append(f"- Besked {item['message_id']} (underretning {item.get('notification_id') or '–'}{case}): "
                     f"i kø siden {item['since']}, eskaleret til {to}. Sidste fejl: {item['last_error']}")
    create_markdown_artifact(key="underretning-eskaleret", markdown="\n".join(lines),
                             description="Underretning ikke leveret – eskaleret (ESC-1)")


@flow(name="udbakke-afsendelse", flow_run_name=day_run_name("udbakke"),
      description="Sender forfaldne mails fra udbakken (file, SMTP, Exchange, Graph).")
@form_help
def deliver_outbox(limit: int | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Deliver the outbox; a mail server that is down leaves everything pending, visible on the dashboard."""
    ctx = Ctx.for_run(request_id, job="system:outbox")  # a job (PRIV-4)
    alerts = alert_operators(ctx)
    report = deliver_due_messages(ctx=ctx, limit=limit)
    if alerts:
        report["operations_alerts"] = alerts
    publish_escalations(report.get("escalated", []))
    if report.get("stopped_because"):
        create_markdown_artifact(
            key="udbakke-fejl",
            markdown=(f"**Afsendelsen stoppede:** {report['stopped_because']}\n\n"
                      f"Sendt: {report['sent']}. Resten venter og sendes, når forbindelsen er tilbage."),
            description="Udbakken kunne ikke sende alle mails",
        )
        raise RuntimeError(f"delivery stopped: {report['stopped_because']}")
    return report


@flow(name="udbakke-straks", flow_run_name=day_run_name("udbakke-straks"),
      description="Sender underretninger (ESC-1, LAW-1) straks: hvert minut, hele døgnet, før al anden post.")
@form_help
def deliver_urgent_outbox(watch_seconds: float = URGENT_WATCH_SECONDS,
                          request_id: str | None = None) -> dict[str, Any]:
    """Deliver the urgent lane (the abuse notification) within seconds, day and night (ESC-1/LAW-1)."""
    ctx = Ctx.for_run(request_id, job="system:outbox")  # a job (PRIV-4)
    report = deliver_urgent_messages(ctx=ctx, watch_seconds=watch_seconds)
    publish_escalations(report.get("escalated", []))
    if report.get("stopped_because"):
        create_markdown_artifact(
            key="underretning-fejl",
            markdown=(f"**En underretning kunne ikke sendes:** {report['stopped_because']}\n\n"
                      "Den forsøges igen om få minutter. Ring til modtageren, hvis fejlen varer ved."),
            description="En underretning venter på at blive sendt",
        )
        raise RuntimeError(f"urgent delivery stopped: {report['stopped_because']}")
    return report
