"""Intake (modtagelse) as a flow: a referral from a school or daycare becomes a case.

Reads like the pathway [000, 001]: check the pathway's preconditions → open the case, name its
coordinator, queue the request and the receipt, put it on the district meeting — in one
transaction. The referral is the flow's parameter (the Prefect UI renders it as a form); it is
the one flow whose parameters hold personal data (the intake form itself, PRIV). Safe to run twice:
the same referral on the same day opens one case.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import day_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.models.referral import Referral
from pprflow.models.rules_intake import check_referral
from pprflow.tasks import intake
from pprflow.tasks.context import Ctx
from pprflow.tasks.intake import IntakeResult

check_preconditions = task(name="kontrollér sporets forudsætninger (PATH-1 … PATH-7, LAW-3)",
                           cache_policy=NO_CACHE)(check_referral)
open_case = task(name="opret sag, tovholder, beskeder og frister", cache_policy=NO_CACHE,
                 **RETRY_ON_DATABASE_OUTAGE)(intake.submit_referral)  # one transaction: safe to run again


@flow(name="henvendelse-modtag", flow_run_name=day_run_name("henvendelse"),
      description="Modtag en henvendelse fra skole/dagtilbud: kontrollér forudsætningerne (handleplan, samtykke, "
                  "PPV kun fra skoleleder ved skolestart), opret sagen med én tovholder, send henvendelsen og "
                  "kvitteringen, og sæt PPR-sager på næste distriktsmøde.")
@observed("sag.oprettet", rule_id="PATH-1", action="modtag", facts=lambda r: {"spor": r.pathway})
def referral_intake(referral: Referral, today: dt.date | None = None, request_id: str | None = None) -> IntakeResult:
    """A referral becomes a case, or is refused with the rule it breaks (nothing stored)."""
    ctx = Ctx.for_run(request_id)
    day = today or local_today()
    if not referral.suspected_abuse:  # ESC-2: with suspected abuse the notification goes before any check
        check_preconditions(referral, today=day)
    return open_case(ctx=ctx, referral=referral, today=day)


@flow(name="henvendelse-modtag-med-fil", flow_run_name=day_run_name("henvendelse-med-fil"),
      description="Modtag en henvendelse fra webappen med vedhæftet handleplan: henvendelsen og filen ligger i "
                  "pprflows database bag login, og flowet tager kun dens nummer (aldrig filen) som parameter.")
@observed("sag.oprettet", rule_id="PATH-1", action="modtag", facts=lambda r: {"spor": r.pathway})
def referral_intake_stored(upload_id: int, today: dt.date | None = None, request_id: str | None = None
                           ) -> IntakeResult:
    """A stored web referral (tasks/web_intake.py) becomes a case with its file, or is refused (nothing kept)."""
    ctx = Ctx.for_run(request_id)
    return open_stored_case(ctx=ctx, upload_id=upload_id, today=today or local_today())


def _open_stored_case(ctx: Ctx, upload_id: int, today: dt.date) -> IntakeResult:
    from pprflow.tasks.web_intake import submit_stored_referral

    return submit_stored_referral(ctx, upload_id, today=today)


open_stored_case = task(name="opret sag fra webhenvendelse med fil", cache_policy=NO_CACHE,
                        **RETRY_ON_DATABASE_OUTAGE)(_open_stored_case)
