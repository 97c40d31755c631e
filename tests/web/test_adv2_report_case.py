"""Adversary (adv2), ESC-1 through the web app: the abuse report form has no way to name the child's case, so a
report made on the web about a child who has a case never makes that case (and the child) confidential from the
parents: the agendas, reminders and level mails to them go on as before, and staff mails still say "invite the
parents". The CLI (`case report-abuse CASE`) and the flow could; now the web form does too (fixed at merge:
pprflow/web/forms.py `report_from_form` passes the form's `case_id` into the AbuseReport, which the service already
reads, and the case page links /underretning?sag=N with the field filled in)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from pprflow.models.tables import Case
from tests.support.refusing_server import refusing_prefect_api
from tests.web import world
from tests.web.conftest import csrf, sign_in


def test_a_web_report_on_a_childs_case_keeps_the_case_from_the_parents_ESC_1(
        client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    received = client.post("/henvendelse/ny/ppr_individual", data={**world.individual_form(),
                                                                   "csrf_token": csrf(page.text)})
    case_id = int(re.search(r"sag (\d+)", received.text).group(1))  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf(client.get("/").text)})
    sign_in(client, world.TEACHER)
    form = client.get(f"/underretning?sag={case_id}")
    sent = client.post("/underretning", data={**world.report_form(child_name="Elev K-417"), "case_id": str(case_id),
                                              "csrf_token": csrf(form.text)})
    assert sent.status_code == 200, sent.text[:300]
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.confidential_from_parents, "the report named the case (ESC-1)"


def test_a_web_report_is_received_when_the_prefect_server_refuses_the_run_ESC_2(
        client: TestClient, web_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ESC-2: a Prefect server that answers 401 (an API auth string that does not match) or 500 turned the report
    into an error page and nothing was queued. Fix: pprflow/web/app.py `run_service`'s urgent branch calls
    pprflow.cli.runner.run_urgent_step (which now falls back after any failure but a refusal of the report)."""
    from sqlmodel import select

    from pprflow.models.tables import OutboxMessage

    sign_in(client, world.TEACHER)
    token = csrf(client.get("/underretning").text)
    with refusing_prefect_api() as api:
        monkeypatch.setenv("PREFECT_API_URL", api)
        response = client.post("/underretning", data={**world.report_form(), "csrf_token": token})
    assert response.status_code == 200, response.text[:300]
    with Session(web_ctx.engine) as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.lane == "urgent")).all()) == 1
