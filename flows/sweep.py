"""The daily sweep (daglig gennemgang) as a flow: every reminder due as of today is queued from
the pinned deadlines. Safe to run twice (Prefect #17508, #17703, #18894): nothing new is queued.
The scheduled deployment wraps this with the dashboard (deployments/scheduled.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from pprflow.flows.observe import day_run_name, emit, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.tasks import sweep as sweep_service
from pprflow.tasks.context import Ctx

queue_due_reminders = task(name="kø påmindelser for forfaldne frister", cache_policy=NO_CACHE,
                           **RETRY_ON_DATABASE_OUTAGE)(sweep_service.sweep)  # idempotent: safe to run again


@flow(name="daglig-gennemgang", flow_run_name=day_run_name("gennemgang"),
      description="Gennemgå de fastlagte frister og kø alle påmindelser, der er forfaldne i dag. Sikker at køre "
                  "to gange.")
@observed()
def daily_sweep(today: dt.date | None = None, request_id: str | None = None) -> dict[str, Any] | State:
    """Queue every reminder due as of `today` (default: today in Europe/Copenhagen).

    A deadline whose handler failed is stuck, not fatal: the run completes with a Danish message that
    names the stuck count (the scheduled `morgen-gennemgang` fails visibly after the dashboard)."""
    ctx = Ctx.for_run(request_id, job="system:sweep")
    report = queue_due_reminders(ctx=ctx, today=today or local_today())
    for stuck in report.get("stuck_deadlines") or []:  # the case's history shows the deadline that sits fast
        emit("frist.fastlaast", case_id=stuck.get("case_id"), rule_id=stuck.get("rule_id"),
             frist=stuck.get("deadline_id"), art=stuck.get("kind"))
    emit("gennemgang.gennemfoert", case_id=None, rule_id="CAL-10",
         resource={"prefect.resource.id": f"pprflow.gennemgang.{report.get('today')}"},
         paamindelser=report.get("queued", 0), fastlaaste=report.get("stuck", 0))
    message = stuck_message(report)
    if message is not None:
        return Completed(message=message, data=report)
    return report


def stuck_message(report: dict[str, Any] | None) -> str | None:
    """The Danish line a sweep with stuck deadlines ends with, or None when nothing is stuck."""
    stuck = (report or {}).get("stuck_deadlines") or []
    if not stuck:
        return None
    kinds = ", ".join(sorted({f"{s['kind']} ({s['rule_id']})" for s in stuck}))
    noun = "frist sidder" if len(stuck) == 1 else "frister sidder"
    return (f"{len(stuck)} {noun} fast og forsøges igen ved næste gennemgang: {kinds}. "
            "Se 'pprflow sweep' eller overblikket for fejlen.")
