"""Outbox delivery: send what is due, every few minutes in working hours."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pprflow.tasks.context import Ctx
from pprflow.tasks.delivery import deliver

deliver_due_messages = task(name="send due messages", retries=0, cache_policy=NO_CACHE)(deliver)


@flow(name="udbakke-afsendelse", description="Sender forfaldne mails fra udbakken (file, SMTP, Exchange, Graph).")
def deliver_outbox(limit: int | None = None, acting_user: str | None = None) -> dict[str, Any]:
    """Deliver the outbox; a mail server that is down leaves everything pending, visible on the dashboard."""
    ctx = Ctx.from_environment(actor=acting_user or "system:outbox")  # a job (PRIV-4)
    report = deliver_due_messages(ctx=ctx, limit=limit)
    if report.get("stopped_because"):
        create_markdown_artifact(
            key="udbakke-fejl",
            markdown=(f"**Afsendelsen stoppede:** {report['stopped_because']}\n\n"
                      f"Sendt: {report['sent']}. Resten venter og sendes, når forbindelsen er tilbage."),
            description="Udbakken kunne ikke sende alle mails",
        )
        raise RuntimeError(f"delivery stopped: {report['stopped_because']}")
    return report
