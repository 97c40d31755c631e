"""The scheduled main-job flow that deployments add around the pathways: the morning sweep.

`morgen-gennemgang` (morning sweep) runs the daily sweep flow (flows/sweep.py, `pprflow sweep`) as a
subflow and publishes the dashboard artifacts (flows/dashboard.py). Decisions:

- CAL-1: the schedule says Monday-Friday 06:30; a weekday that is a closed day (a public holiday
  or a profile closed day) skips the sweep: nobody is asked to act on a day the office is shut,
  and the next working day's sweep picks up anything due (`remind_on <= today`). The sweep never
  runs "ahead" for the coming closed days: handlers read `today` to decide what is overdue, so an
  early run would send an overdue notice before the deadline has passed. That a reminder reaches
  people *the working day before* a deadline is decided where the deadline is pinned: `remind_on`
  is a working day (models/calendar.py: a deadline never lands on a closed day).
- Idempotent: Prefect's scheduler can start a run twice (#17508, #17703, #18894); a second sweep
  queues nothing new (tasks/deadlines.py) and the artifacts are simply versioned again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from prefect import flow
from prefect.states import Failed, State

from pprflow.flows.dashboard import publish_dashboard
from pprflow.flows.observe import day_run_name
from pprflow.flows.sweep import daily_sweep, stuck_message
from pprflow.models.calendar import WorkingCalendar, local_today
from pprflow.tasks.context import Ctx

MORNING_SWEEP_JOB = "system:morgengennemgang"


def sweep_days(today: dt.date, calendar: WorkingCalendar) -> list[dt.date]:
    """The days a scheduled sweep on `today` sweeps for: today on a working day, none on a closed day."""
    return [today] if calendar.is_working_day(today) else []


@flow(name="morgen-gennemgang", flow_run_name=day_run_name("morgen-gennemgang"),
      description="Daglig gennemgang af frister (arbejdsdage kl. 6.30) og overblik "
                                            "over frister pr. distrikt som artefakter.")
def morning_sweep(today: dt.date | None = None) -> dict[str, Any] | State:
    """Sweep the pinned deadlines of today (a working day) and publish the dashboard.

    A scheduled job: it acts as the named system job `system:morgengennemgang` (issue 20, PRIV-4), whoever
    started it (the schedule, the 07:00 automation, an operator's quick run in Prefect's UI)."""
    ctx = Ctx.for_run(None, job=MORNING_SWEEP_JOB)
    today = today or local_today()
    days = sweep_days(today, WorkingCalendar.for_profile(ctx.profile))
    report: dict[str, Any] | None = None
    for day in days:
        # the sweep flow, as a subflow; with stuck deadlines it completes with a message and its report
        report = cast("dict[str, Any]", daily_sweep(today=day))  # the subflow acts as the sweep job
    keys = publish_dashboard(today, sweep=report, engine=ctx.engine, timezone=ctx.profile.timezone,
                             closed_day=not days, key_prefix=ctx.profile.artifact_prefix)
    result = {"today": today.isoformat(), "swept": [d.isoformat() for d in days], "sweep": report,
              "artifacts": keys}
    message = stuck_message(report)
    if message is not None:  # every other deadline was handled; the stuck ones must be seen, not green
        return Failed(message=message, data=result)
    return result
