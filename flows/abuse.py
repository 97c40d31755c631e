"""Suspected violence or abuse (ESC-1, LAW-1, LAW-2) as flows.

Any staff member may run it (LAW-1: the duty is personal). The notification goes to the family
centre at once; the parents are not informed. Parameters: the case id, a date,
the request that names who acts (issue 20).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.observe import day_run_name, observed
from pprflow.flows.resilience import RETRY_ON_DATABASE_OUTAGE
from pprflow.models.abuse import AbuseReport
from pprflow.models.calendar import local_today
from pprflow.tasks import abuse
from pprflow.tasks.context import Ctx

report = task(name="send underretningen straks", cache_policy=NO_CACHE, **RETRY_ON_DATABASE_OUTAGE)(abuse.report)
report_abuse = task(name="send underretning og skærm forældrene", cache_policy=NO_CACHE,
                    **RETRY_ON_DATABASE_OUTAGE)(abuse.report_abuse)


def _notification(result: dict[str, Any]) -> dict[str, str] | None:
    """The event's resource: the notification, never the case (ESC-1: that it exists is personal data)."""
    if not result.get("notification_id"):
        return None
    return {"prefect.resource.id": f"pprflow.underretning.{result['notification_id']}"}


def _acknowledged(result: dict[str, Any]) -> dict[str, str] | None:
    ids = result.get("acknowledged") or []
    return {"prefect.resource.id": f"pprflow.underretning.{ids[0]}"} if ids else None


acknowledge = task(name="registrér kvittering for underretning", cache_policy=NO_CACHE,
                   **RETRY_ON_DATABASE_OUTAGE)(abuse.acknowledge)


@flow(name="mistanke-om-overgreb", flow_run_name=day_run_name("underretning"),
      description="Mistanke om vold eller overgreb: underretning straks til "
      "Familie- og Rådgivningscentret; forældrene orienteres ikke (ESC-1). Alle medarbejdere kan (LAW-1).")
@observed("underretning.sendt", rule_id="ESC-1", label_case=False, resource=_notification)
def report_suspected_abuse(case_id: int, today: dt.date | None = None,
                           request_id: str | None = None) -> dict[str, Any]:
    """Notify the family centre now and keep everything from the parents."""
    ctx = Ctx.for_run(request_id)
    return report_abuse(ctx=ctx, case_id=case_id, today=today or local_today())


FROM_PREFECT_FORM = "system:prefect-formular"
"""ESC-2: the actor of a notification started from Prefect's form; the reporter is the one named in the report."""


@flow(name="underretning", flow_run_name=day_run_name("underretning"),
      description="Underretning ved mistanke om vold eller overgreb, med eller uden sag: "
      "sendes straks til Familie- og Rådgivningscentret; ingen anden regel kan standse den (ESC-1, ESC-2, LAW-1).")
@observed("underretning.sendt", rule_id="ESC-2", label_case=False, resource=_notification)
def report_notification(data: AbuseReport, today: dt.date | None = None,
                        request_id: str | None = None) -> dict[str, Any]:
    """The notification as its own intake: who reports, the institution, the child, what was observed.

    ESC-2: the report names its reporter, so a run started from Prefect's form (no request) is received, never
    refused (`Afvist`): it acts as FROM_PREFECT_FORM, which the policy lets read no case; a request's actor
    (web app, CLI) is used when there is one."""
    ctx = Ctx.for_run(request_id, job=FROM_PREFECT_FORM)
    return report(ctx=ctx, data=data, today=today or local_today())


@flow(name="underretning-kvittering", flow_run_name=day_run_name("underretning-kvittering"),
      description="Kvittering for underretningen er modtaget (LAW-2).")
@observed("underretning.kvitteret", rule_id="LAW-2", label_case=False, resource=_acknowledged)
def acknowledge_notification(case_id: int | None = None, notification_id: int | None = None,
                             today: dt.date | None = None,
                             request_id: str | None = None) -> dict[str, Any]:
    """Record the acknowledgement; the overdue notice to the notifier's leader is cancelled."""
    ctx = Ctx.for_run(request_id)
    return acknowledge(ctx=ctx, case_id=case_id, notification_id=notification_id, today=today or local_today())
