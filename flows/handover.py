"""Coordinator handover (skift af tovholder, ROLE-1) as a flow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import case_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.tasks import handover, transfer
from pprflow.tasks.context import Ctx

hand_over = task(name="skift tovholder og orientér alle", cache_policy=NO_CACHE,
                 **RETRY_ON_DATABASE_OUTAGE)(handover.handover)


@flow(name="tovholder-skift", flow_run_name=case_run_name("tovholder"),
      description="Ny tovholder på sagen (præcis én); alle på sagen orienteres — "
      "forældrene ikke ved mistanke om overgreb (ROLE-1, ESC-1).")
@observed("sag.tovholder_skiftet", rule_id="ROLE-1")
def hand_over_case(case_id: int, to_email: str, today: dt.date | None = None,
                   request_id: str | None = None) -> dict[str, Any]:
    """Set the new coordinator and inform everyone on the case."""
    ctx = Ctx.for_run(request_id)
    return hand_over(ctx=ctx, case_id=case_id, to_email=to_email, today=today or local_today())


move_case = task(name="flyt sagen med barnet", cache_policy=NO_CACHE,
                 **RETRY_ON_DATABASE_OUTAGE)(transfer.transfer_case)


@flow(name="sag-flytter-med-barnet", flow_run_name=case_run_name("flyt"),
      description="Barnet flytter: sagen følger med til den nye institution med "
      "historik, samtykke, niveauer, fortrolighed og åbne frister; den nye leder overtager (ROLE-3).")
@observed("sag.flyttet", rule_id="ROLE-3")
def transfer_case_flow(case_id: int, to_institution: str, today: dt.date | None = None,
                       request_id: str | None = None) -> dict[str, Any]:
    """ROLE-3: move the case to the institution the child moved to; its leader is told."""
    ctx = Ctx.for_run(request_id)
    return move_case(ctx=ctx, case_id=case_id, to_institution=to_institution, today=today or local_today())
