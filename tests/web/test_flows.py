"""With a Prefect server configured, the web app's actions are the same flow runs as the CLI's (issue 18: "its
runs still show on the flow dashboard"); without one, the same service functions (the other web tests)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web import world
from tests.web.conftest import csrf, sign_in

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def _flow_runs(flow_name: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), limit=200))


def test_referral_abuse_report_and_assignment_are_flow_runs_when_a_server_is_configured(  # type: ignore[no-untyped-def]
        prefect_server: None, client: TestClient, web_ctx, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    from tests.flows._env import no_heartbeat

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    for name, value in (("PPRFLOW_DATABASE_URL", sqlite_url), ("PPRFLOW_PROFILE", "vejle"),
                        ("PPRFLOW_USER", "system:test")):
        monkeypatch.setenv(name, value)  # run_step exports the context here; restored after the test
    names = ("henvendelse-modtag", "sag-fordel")
    before = {n: _flow_runs(n) for n in names}
    with no_heartbeat():
        sign_in(client, world.LEADER)
        page = client.get("/henvendelse/ny/ppr_individual")
        response = client.post("/henvendelse/ny/ppr_individual",
                               data={**world.individual_form(), "csrf_token": csrf(page.text)})
        assert response.status_code == 200, response.text
        case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
        admin = TestClient(client.app, base_url="http://127.0.0.1")
        sign_in(admin, world.ADMIN)
        today = admin.get("/i-dag")
        assigned = admin.post(f"/sager/{case_id}/tildel", data={"to": world.PSYCHOLOGIST,
                                                                "csrf_token": csrf(today.text)})
        assert f"Sag {case_id} er tildelt" in assigned.text
    assert {n: _flow_runs(n) for n in names} == {n: before[n] + 1 for n in names}


def test_case_page_actions_are_flow_runs_acting_as_the_signed_in_member_PRIV_4(  # type: ignore[no-untyped-def]
        prefect_server: None, client: TestClient, web_ctx, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Part 2's actions (consent, level, handover, meetings, KV, plans) take the CLI's step too: with a server
    configured, consent given on the case page is a `samtykke-givet` run and a level change a `niveau-skift` run,
    each acting as the signed-in leader through its request row (issue 20), never as a typed name."""
    from prefect.settings import PREFECT_API_URL
    from sqlmodel import Session, select

    from pprflow.models.tables import Case, RunRequest
    from tests.flows._env import no_heartbeat
    from tests.referral_data import PARENTS

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    for name, value in (("PPRFLOW_DATABASE_URL", sqlite_url), ("PPRFLOW_PROFILE", "vejle"),
                        ("PPRFLOW_USER", "system:test")):
        monkeypatch.setenv(name, value)
    names = ("samtykke-givet", "niveau-skift")
    before = {n: _flow_runs(n) for n in names}
    with no_heartbeat():
        sign_in(client, world.LEADER)
        page = client.get("/henvendelse/ny/ppr_individual")
        response = client.post("/henvendelse/ny/ppr_individual",
                               data={**world.individual_form(), "csrf_token": csrf(page.text)})
        case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
        token = csrf(client.get(f"/sager/{case_id}").text)
        given = client.post(f"/sager/{case_id}/samtykke", data={
            "given_by": PARENTS[0]["name"], "date": "2026-11-20", "information": "Trivsel",
            "recipients": "Sundhedsplejen", "purpose": "Netværksmøder", "csrf_token": token})
        assert "Samtykket er registreret" in given.text, given.text[:500]
        token = csrf(client.get(f"/sager/{case_id}").text)
        client.post(f"/sager/{case_id}/niveau", data={"direction": "up", "sphere": "institution", "to": "2",
                                                      "reason": "Indsatsen rækker ikke", "csrf_token": token})
    assert {n: _flow_runs(n) for n in names} == {n: before[n] + 1 for n in names}
    with Session(web_ctx.engine) as session:
        requests = session.exec(select(RunRequest).where(RunRequest.flow_name.in_(names))).all()  # type: ignore[attr-defined]
        case = session.get(Case, case_id)
    assert sorted(r.flow_name for r in requests) == sorted(names) and {r.actor for r in requests} == {world.LEADER}
    assert case is not None and case.level_institution == 2
