"""Adversary 3 (PRIV-2): a web referral with a file is stored before its flow runs (tasks/web_intake.py). When the
flow never gets to it — Prefect's server does not answer, or the run is refused before the service function
(a stale request, PRIV-4) — the stored referral (the child's data and the action plan) must not stay behind:
nothing deletes `webreferral` rows later (no retention job knows them)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import WebReferral
from tests.web import world
from tests.web.conftest import csrf, sign_in

PDF = b"%PDF-1.7\n% handleplan\n" + b"0" * 2000


@pytest.mark.parametrize("failure", [RuntimeError("Failed to reach API at http://prefect:4200/api/"),
                                     "refused"])
def test_a_stored_referral_is_not_left_behind_when_its_flow_never_ran_PRIV_2(
        app, web_ctx, monkeypatch: pytest.MonkeyPatch, failure) -> None:  # type: ignore[no-untyped-def]
    from pprflow.cli import runner
    from pprflow.models.errors import AccessDenied
    from pprflow.tasks.context import STALE_REQUEST

    def flow_that_never_reaches_the_service(flow_ref, direct, /, **params):  # type: ignore[no-untyped-def]
        if failure == "refused":
            raise AccessDenied(STALE_REQUEST, rule_id="PRIV-4")
        raise failure

    monkeypatch.setattr(runner, "prefect_server_configured", lambda: True)
    monkeypatch.setattr(runner, "run_step", flow_that_never_reaches_the_service)
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)  # a 500 is not the point
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    client.post("/henvendelse/ny/ppr_individual", data={**world.individual_form(), "csrf_token": csrf(page.text)},
                files={"plan_file": ("Handleplan 3.B.pdf", PDF, "application/pdf")})
    with Session(web_ctx.engine) as session:
        assert session.exec(select(WebReferral)).all() == [], "the child's referral and file stay in webreferral"
