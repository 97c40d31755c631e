"""Network, development and start-up meetings as flows (CAL-2, LVL-3, LVL-4, MEET-1…5, PATH-8).

Each flow is one human step (a form in the Prefect UI, a command in the CLI) and reads like the
guideline: plan the meeting and pin its deadlines; send the agenda (the sweep does it at the
deadline at the latest); record the minutes. Parameters are ids, dates and the input models only.
Every flow is safe to run twice (Prefect's scheduler can start a run twice).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import case_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.calendar import local_today
from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput
from pprflow.tasks import meetings
from pprflow.tasks.context import Ctx

schedule_meeting = task(name="planlæg møde og fastlæg dagsordensfrist", cache_policy=NO_CACHE,
                        **RETRY_ON_DATABASE_OUTAGE)(
    meetings.schedule_meeting)
send_agenda = task(name="send dagsorden med kalenderinvitation", cache_policy=NO_CACHE,
                   **RETRY_ON_DATABASE_OUTAGE)(meetings.send_agenda)
record_minutes = task(name="registrér referat og send det", cache_policy=NO_CACHE,
                      **RETRY_ON_DATABASE_OUTAGE)(meetings.record_minutes)
add_partner = task(name="tilføj samarbejdspartner på samtykke", cache_policy=NO_CACHE,
                   **RETRY_ON_DATABASE_OUTAGE)(meetings.add_partner)


@flow(name="moede-planlaeg", flow_run_name=case_run_name("moede"),
      description="Planlæg netværks-, udviklings- eller opstartsmøde: dagsordensfrist "
      "5 arbejdsdage før (CAL-2), påmindelse til mødelederen, samtykke ved 2. møde på niveau 3 (LVL-4).")
@observed("moede.planlagt", rule_id="CAL-2")
def plan_meeting(data: MeetingInput, today: dt.date | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Plan a meeting: pin the agenda deadline and the leader's reminder."""
    ctx = Ctx.for_run(request_id)
    return schedule_meeting(ctx=ctx, data=data, today=today or local_today())


@flow(name="moede-send-dagsorden", flow_run_name="moede-{meeting_id}-dagsorden",
      description="Send dagsordenen (gult skema) med kalenderinvitation til "
      "forældre og samarbejdspartnere nu — aldrig to gange, aldrig til forældre ved mistanke om overgreb (ESC-1).")
@observed("moede.dagsorden_sendt", rule_id="CAL-2")
def send_meeting_agenda(meeting_id: int, today: dt.date | None = None,
                        request_id: str | None = None) -> dict[str, Any]:
    """The leader sends the agenda before the deadline (CAL-2)."""
    ctx = Ctx.for_run(request_id)
    return send_agenda(ctx=ctx, meeting_id=meeting_id, today=today or local_today())


@flow(name="moede-referat", flow_run_name="moede-{meeting_id}-referat",
      description="Referat (lyseblåt skema): handlinger med én ansvarlig og opfølgning "
      "på sidste mødes handlinger (MEET-2); sendes til deltagerne.")
@observed("moede.referat_sendt", rule_id="MEET-2")
def meeting_minutes(meeting_id: int, data: MinutesInput, today: dt.date | None = None,
                    request_id: str | None = None) -> dict[str, Any]:
    """Record the minutes and send them to the participants."""
    ctx = Ctx.for_run(request_id)
    return record_minutes(ctx=ctx, meeting_id=meeting_id, data=data, today=today or local_today())


@flow(name="samarbejdspartner-tilfoej", flow_run_name=case_run_name("samarbejdspartner"),
      description="Tilføj en samarbejdspartner (sundhedspleje, "
      "familieafdeling, åben rådgivning, UU, UngVejle, SSP) på forældrenes samtykke (PATH-8).")
@observed("sag.samarbejdspartner_tilfoejet", rule_id="PATH-8")
def add_case_partner(data: PartnerInput, request_id: str | None = None) -> dict[str, Any]:
    """A partner joins the case on a consent."""
    ctx = Ctx.for_run(request_id)
    return add_partner(ctx=ctx, data=data)
