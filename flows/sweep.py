"""The daily sweep (daglig gennemgang) as a flow: every reminder due as of today is queued from
the pinned deadlines. Safe to run twice (Prefect #17508, #17703, #18894): nothing new is queued.
The scheduled deployment wraps this with the dashboard (deployments/scheduled.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.tasks import sweep as sweep_service
from pprflow.tasks.context import Ctx

queue_due_reminders = task(name="kø påmindelser for forfaldne frister", cache_policy=NO_CACHE,
                           **RETRY_ON_DATABASE_OUTAGE)(sweep_service.sweep)  # idempotent: safe to run again


@flow(name="daglig-gennemgang",
      description="Gennemgå de fastlagte frister og kø alle påmindelser, der er forfaldne i dag. Sikker at køre "
                  "to gange.")
def daily_sweep(today: dt.date | None = None, acting_user: str | None = None) -> dict[str, Any]:
    """Queue every reminder due as of `today` (default: today in Europe/Copenhagen)."""
    ctx = Ctx.from_environment(actor=acting_user or "system:sweep")
    return queue_due_reminders(ctx=ctx, today=today or local_today())
