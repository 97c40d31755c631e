"""The daily sweep (daglig gennemgang) as a service step: `pprflow sweep --today DATE`.

Queues every reminder due as of `today` from the pinned deadlines (`pprflow.tasks.deadlines.run_sweep`).
Safe to run twice: handlers queue through the idempotent outbox and mark their deadline done, or (issue 17)
climb its escalation ladder one rung per day that has come; after the last rung the deadline stays overdue
but the sweep no longer picks it up (tasks/escalation.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pprflow.models.access import Perm
from pprflow.tasks.access import authorize_in
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep


def sweep(ctx: Ctx, *, today: dt.date) -> dict[str, Any]:
    """Run the sweep for `today` and return its JSON report (handled per kind, closed, queued)."""
    authorize_in(ctx.engine, ctx.actor, Perm.JOB_SWEEP, what="sweep")  # PRIV-4: a job
    from pprflow.tasks.ppr import keep_district_meetings_ahead

    # issue 17: plans never run out — district meetings are extended on the cadence before the deadlines
    # are swept, so a waiting case finds the new meeting instead of raising an alert
    planned = keep_district_meetings_ahead(ctx.engine, ctx.profile, today=today, actor=ctx.actor)
    report = run_sweep(ctx.engine, ctx.profile, today=today, actor=ctx.actor).as_dict()
    report["district_meetings_planned"] = planned
    return report
