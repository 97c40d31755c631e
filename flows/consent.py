"""Consent (samtykke): given in writing (LAW-3), withdrawn at any time (CONS-1) — as flows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import case_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.models.referral import ConsentIn
from pprflow.tasks import consent
from pprflow.tasks.context import Ctx

give_consent = task(name="registrér samtykke", cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(consent.give_consent)
withdraw_consent = task(name="træk samtykke tilbage og stop deling", cache_policy=NO_CACHE,
                        **RETRY_ON_DATABASE_OUTAGE)(consent.withdraw_consent)


@flow(name="samtykke-givet", flow_run_name=case_run_name("samtykke"),
      description="Registrér forældrenes skriftlige samtykke: hvem, hvornår, hvilke "
      "oplysninger, til hvem og til hvilket formål (LAW-3).")
@observed("samtykke.givet", rule_id="LAW-3")
def record_consent(case_id: int, data: ConsentIn, today: dt.date | None = None,
                   request_id: str | None = None) -> dict[str, Any]:
    """Record a written consent."""
    ctx = Ctx.for_run(request_id)
    return give_consent(ctx=ctx, case_id=case_id, data=data, today=today or local_today())


@flow(name="samtykke-tilbagekaldt", flow_run_name=case_run_name("samtykke-tilbage"),
      description="Samtykket er trukket tilbage: annullér ventende mails til "
      "samarbejdspartnere på det, del intet mere, og giv tovholderen besked (CONS-1).")
@observed("samtykke.tilbagekaldt", rule_id="CONS-1")
def withdraw_case_consent(case_id: int, consent_id: int | None = None,
                          request_id: str | None = None) -> dict[str, Any]:
    """Withdraw a consent and stop every further sharing on it."""
    ctx = Ctx.for_run(request_id)
    return withdraw_consent(ctx=ctx, case_id=case_id, consent_id=consent_id)
