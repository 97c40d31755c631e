"""The KV cycle (konsultativ vejledning) as flows: sessions on the profile's cadence (CAL-4),
anonymous topics with at least 5 days' notice (CAL-3, KV-1). Reminders and topic lists go out with
the daily sweep. Parameters are ids, dates, the topic model and the acting user; safe to run twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import day_run_name, form_help, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.models.rules_kv import KVTopicIn
from pprflow.tasks import kv
from pprflow.tasks.context import Ctx

plan_sessions = task(name="planlæg KV-møder efter kadencen (skole 2 uger, dagtilbud 6 uger)",
                     cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(kv.schedule_kv_sessions)
store_topic = task(name="gem anonymt KV-emne (mindst 5 dages varsel)", cache_policy=NO_CACHE,
                   **RETRY_ON_DATABASE_OUTAGE)(kv.submit_kv_topic)
extend_sessions = task(name="hold KV-møderne planlagt 12 uger frem", cache_policy=NO_CACHE,
                       **RETRY_ON_DATABASE_OUTAGE)(kv.kv_cycle)


@flow(name="kv-planlaeg", flow_run_name=day_run_name("kv-planlaeg"),
      description="Planlæg KV-møder for en institution efter profilens kadence (CAL-4) med påmindelse til den "
                  "pædagogiske leder før 5-dagesfristen (CAL-3).")
@observed()
def schedule_kv(institution: str, start: dt.date, count: int, leader_email: str | None = None,
                leader_name: str | None = None, kind: Literal["school", "daycare"] | None = None,
                district: str | None = None, time: dt.time | None = None,
                request_id: str | None = None) -> dict[str, Any]:
    """Plan an institution's KV sessions."""
    ctx = Ctx.for_run(request_id)
    return plan_sessions(ctx=ctx, institution=institution, start=start, count=count, leader_email=leader_email,
                         leader_name=leader_name, kind=kind, district=district, time=time)


@flow(name="kv-emne", flow_run_name=day_run_name("kv-emne"),
      description="Meld et anonymt emne til KV — pædagogik og didaktik, ikke enkelte børn (KV-1) — senest 5 dage "
                  "før mødet (CAL-3).")
@observed()
def kv_submit_topic(topic: KVTopicIn, request_id: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Submit an anonymous KV topic."""
    ctx = Ctx.for_run(request_id)
    return store_topic(ctx=ctx, topic=topic, today=today or local_today())


@flow(name="kv-cyklus", flow_run_name=day_run_name("kv-cyklus"),
      description="Ugentlig KV-cyklus: hver institution med KV har sine møder planlagt 12 uger frem efter "
                  "profilens kadence (CAL-4).")
@form_help
def kv_cycle(today: dt.date | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Keep every institution's KV sessions planned ahead."""
    ctx = Ctx.for_run(request_id, job="system:kv")
    return extend_sessions(ctx=ctx, today=today or local_today())
