"""Inside PPR as flows: district meetings (CAL-5), distributing a case (PATH-4), the preparation
before each meeting. Parameters are ids, dates and the request that names who acts
(issue 20); every flow is safe to run twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import case_run_name, day_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.tasks import ppr
from pprflow.tasks.context import Ctx

plan_meetings = task(name="planlæg distriktsmøder (hver 2. uge, aldrig på en lukkedag)",
                     cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(ppr.schedule_district_meetings)
assign = task(name="fordel sagen til en PPR-medarbejder og fastlæg opstartsfristen",
              cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(ppr.assign_case)
send_case_lists = task(name="send listen over nye sager til distriktets PPR-team",
                       cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(ppr.prepare_district_meetings)


@flow(name="distriktsmoeder-planlaeg", flow_run_name=day_run_name("distriktsmoeder-planlaeg"),
      description="Planlæg distriktets distriktsmøder efter profilens ugedag hver 2. uge (CAL-5); et møde på en "
                  "lukkedag flyttes til næste arbejdsdag og markeres.")
@observed()
def schedule_district(district: str, start: dt.date, count: int, request_id: str | None = None,
                      today: dt.date | None = None) -> dict[str, Any]:
    """Administrators plan the district meetings."""
    ctx = Ctx.for_run(request_id)
    return plan_meetings(ctx=ctx, district=district, start=start, count=count, today=today or local_today())


@flow(name="sag-fordel", flow_run_name=case_run_name("fordel"),
      description="Distriktsmødet fordeler sagen: PPR-medarbejderen får besked og skal aftale opstartsmøde "
                  "inden for profilens frist (PATH-4).")
@observed("sag.tildelt", rule_id="PATH-4")
def assign_district_case(case_id: int, to_email: str, request_id: str | None = None, today: dt.date | None = None,
                         role: str | None = None, name: str | None = None) -> dict[str, Any]:
    """The district meeting decides which PPR employee starts the case."""
    ctx = Ctx.for_run(request_id)
    return assign(ctx=ctx, case_id=case_id, to_email=to_email, today=today or local_today(), role=role, name=name)


@flow(name="distriktsmoeder-forbered", flow_run_name=day_run_name("distriktsmoeder-forbered"),
      description="Dagen før distriktsmødet: listen over nye sager til distriktets PPR-team (CAL-5), og sager "
                  "der ikke blev fordelt, flyttes til næste møde.")
@observed()
def prepare_district_meetings(today: dt.date | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Send the due case lists; move unassigned cases on."""
    ctx = Ctx.for_run(request_id, job="system:district")
    return send_case_lists(ctx=ctx, today=today or local_today())
