"""The five levels (LVL-1…LVL-6), the six-month review (CAL-6) and the §20 deadline (CAL-7) as flows.

Parameters are ids, dates and the input model only; every flow is safe to run twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import case_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.models.rules_levels import LevelChangeInput
from pprflow.tasks import levels
from pprflow.tasks.context import Ctx

change_level = task(name="skift niveau og meld papirerne", cache_policy=NO_CACHE,
                    **RETRY_ON_DATABASE_OUTAGE)(levels.change_level)
record_review = task(name="registrér halvårsvurdering", cache_policy=NO_CACHE,
                     **RETRY_ON_DATABASE_OUTAGE)(levels.record_review)
start_investigation = task(name="fastlæg frist for børnefaglig undersøgelse", cache_policy=NO_CACHE,
                           **RETRY_ON_DATABASE_OUTAGE)(
    levels.start_investigation)


@flow(name="niveau-skift", flow_run_name=case_run_name("niveau"),
      description="Flyt sagen op eller ned i niveau for dagtilbud/skole eller familien "
      "(LVL-1); fremskudt rådgiver før niveau 5 (LVL-5); niveau 4 starter halvårsvurderingen (CAL-6).")
@observed("sag.niveau_skiftet", rule_id="LVL-1")
def change_case_level(data: LevelChangeInput, direction: Literal["up", "down"], today: dt.date | None = None,
                      request_id: str | None = None) -> dict[str, Any]:
    """Escalate or de-escalate one sphere."""
    ctx = Ctx.for_run(request_id)
    return change_level(ctx=ctx, data=data, direction=direction, today=today or local_today())


def escalate_case(data: LevelChangeInput, today: dt.date | None = None,
                  request_id: str | None = None) -> dict[str, Any]:
    """`pprflow case escalate` under a server: the level flow, going up."""
    return change_case_level(data=data, direction="up", today=today, request_id=request_id)


def deescalate_case(data: LevelChangeInput, today: dt.date | None = None,
                    request_id: str | None = None) -> dict[str, Any]:
    """`pprflow case deescalate` under a server: the level flow, going down."""
    return change_case_level(data=data, direction="down", today=today, request_id=request_id)


escalate_case.flow = change_case_level  # type: ignore[attr-defined]  # the flow a request is recorded for
deescalate_case.flow = change_case_level  # type: ignore[attr-defined]


@flow(name="halvaarsvurdering", flow_run_name=case_run_name("halvaarsvurdering"),
      description="Registrér at den specialiserede indsats er vurderet, og fastlæg "
      "næste vurdering om et halvt år (CAL-6).")
@observed("sag.vurderet", rule_id="CAL-6")
def review_case(case_id: int, review_date: dt.date, today: dt.date | None = None,
                request_id: str | None = None) -> dict[str, Any]:
    """Record the half-yearly review of a level-4 effort."""
    ctx = Ctx.for_run(request_id)
    return record_review(ctx=ctx, case_id=case_id, review_date=review_date, today=today or local_today())


@flow(name="undersoegelse-frist", flow_run_name=case_run_name("undersoegelse"),
      description="Børnefaglig undersøgelse (§20): frist 4 måneder (CAL-7).")
@observed("frist.fastlagt", rule_id="CAL-7")
def investigation_deadline(case_id: int, aware_on: dt.date, today: dt.date | None = None,
                           request_id: str | None = None) -> dict[str, Any]:
    """Pin the §20 investigation deadline."""
    ctx = Ctx.for_run(request_id)
    return start_investigation(ctx=ctx, case_id=case_id, aware_on=aware_on, today=today or local_today())
