"""Adversary round: the merged web app, transfer, escalation and quota attacked (ESC-1, PRIV-3, CAL-10…)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, Case, Institution
from pprflow.web.accounts import set_password
from tests import factories
from tests.web import world
from tests.web.conftest import csrf, sign_in

DEPUTY = "viceleder@skovbakke.example"
"""A second leader at the same school who is also the child's parent (a small town: the child goes there)."""


def _confidential_case_with_deputy_as_parent(client: TestClient, engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        school = session.exec(select(Institution).where(Institution.name == "Skovbakkeskolen")).one()
        factories.staff(session, DEPUTY, "school_leader", name="Vice Leder", institution=school)
        session.commit()
    set_password(engine, actor=world.ADMIN, email=DEPUTY, password=world.PASSWORD)
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual",
                           data={**world.individual_form(parent1_email=DEPUTY), "csrf_token": csrf(page.text)})
    assert response.status_code == 200, response.text
    case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.confidential_from_parents = True
        session.add(case)
        session.commit()
    client.post("/logout", data={"csrf_token": csrf(client.get("/").text)})
    return case_id


def test_our_cases_list_hides_a_confidential_case_from_the_parent_ESC_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: a leader who is the child's parent may not see the child's confidential case in "Vores sager"
    (the case page refuses it; the list must too)."""
    case_id = _confidential_case_with_deputy_as_parent(client, web_ctx.engine)
    sign_in(client, DEPUTY)
    assert client.get(f"/sager/{case_id}").status_code == 403, "the case page refuses the parent"
    listing = client.get("/sager")
    assert listing.status_code == 200
    assert f"/sager/{case_id}\"" not in listing.text and "Elev K-417" not in listing.text
    with Session(web_ctx.engine) as session:
        searches = session.exec(select(AuditEvent).where(AuditEvent.actor == DEPUTY,
                                                         AuditEvent.reason == "web: vores sager")).all()
    assert searches, "the list is audited (PRIV-1)"


def test_an_abuse_report_typed_past_the_idle_timeout_still_goes_out_ESC_1(web_ctx) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: nothing may block the abuse report — not the idle timeout while a teacher writes it carefully
    (the typed report must not be thrown away at a sign-in page)."""
    import time

    import time_machine

    from pprflow.models.tables import OutboxMessage
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="s" * 48, idle_timeout_minutes=5), ctx=web_ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client, world.TEACHER)
        token = csrf(client.get("/underretning").text)
        with time_machine.travel(time.time() + 20 * 60, tick=False):
            response = client.post("/underretning", data={**world.report_form(), "csrf_token": token},
                                   follow_redirects=False)
    assert response.status_code == 200, response.text[:300]
    with Session(web_ctx.engine) as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.lane == "urgent")).all(), "it was queued"


def test_an_abuse_report_with_a_superscript_birth_year_is_refused_at_the_field_not_a_500_ESC_1(
        client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: nothing may block the report — "²" passed `str.isdigit` and `int()` raised: a traceback instead of
    a Danish line at the field. Now: 400, the field named, nothing queued; fixed, the report goes out."""
    from pprflow.models.tables import OutboxMessage

    sign_in(client, world.TEACHER)
    token = csrf(client.get("/underretning").text)
    refused = client.post("/underretning", data={**world.report_form(child_birth_year="²"), "csrf_token": token})
    assert refused.status_code == 400 and "Traceback" not in refused.text
    with Session(web_ctx.engine) as session:
        assert not session.exec(select(OutboxMessage)).all(), "nothing stored on refusal"
    sent = client.post("/underretning", data={**world.report_form(child_birth_year="2017"), "csrf_token": token})
    assert sent.status_code == 200


def test_case_forms_refuse_odd_numbers_in_danish_not_a_500(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    """Bad input (STYLE): "²" or a 20-digit id in a number field, or /sager/abc, is one Danish line, never a
    traceback (int("²") raised; a 20-digit consent id overflowed SQLite's INTEGER)."""
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual",
                           data={**world.individual_form(), "csrf_token": csrf(page.text)})
    case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
    token = csrf(client.get(f"/sager/{case_id}").text)
    for path, data in ((f"/sager/{case_id}/niveau", {"to": "²", "sphere": "institution", "direction": "up"}),
                       (f"/sager/{case_id}/partner", {"consent_id": "9" * 20, "name": "A", "email": "a@b.example",
                                                      "role": "teacher"}),
                       (f"/sager/{case_id}/partner", {"consent_id": "²", "name": "A", "email": "a@b.example",
                                                      "role": "teacher"}),
                       (f"/sager/{case_id}/moeder/ny", {"kind": "network", "date": "2026-12-20", "level": "²"})):
        answer = client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
        assert answer.status_code in (200, 400), (path, answer.status_code)
        assert "ikke" in answer.text, path
    wrong = client.get("/sager/abc")
    assert wrong.status_code == 404 and "Adressen er forkert" in wrong.text


def test_an_abuse_report_does_not_wait_behind_another_members_flow_run_ESC_1(
        client: TestClient, web_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: with a Prefect server configured, the web app runs one flow at a time (`_FLOW_LOCK`); a slow
    referral run of another member held the abuse report back for as long as it ran. Now the report waits
    a moment, then runs its service function directly (same queue, urgent lane)."""
    import threading
    import time

    from pprflow.models.tables import OutboxMessage
    from pprflow.web import steps as web_app

    sign_in(client, world.TEACHER)
    token = csrf(client.get("/underretning").text)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # a server the slow run is talking to
    held, release = threading.Event(), threading.Event()

    def slow_flow_run() -> None:
        with web_app._FLOW_LOCK:
            held.set()
            release.wait(30)

    runner = threading.Thread(target=slow_flow_run)
    runner.start()
    held.wait(5)
    try:
        started = time.monotonic()
        response = client.post("/underretning", data={**world.report_form(), "csrf_token": token})
        waited = time.monotonic() - started
    finally:
        release.set()
        runner.join()
    assert response.status_code == 200, response.text[:300]
    assert waited < 20, waited
    with Session(web_ctx.engine) as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.lane == "urgent")).all()


def test_an_abuse_report_is_received_while_the_prefect_server_is_down_ESC_1(
        client: TestClient, web_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ESC-1: the dashboard's server being unreachable must not turn the abuse report into a 500: the flow run
    never started, so the same service function runs directly (urgent lane)."""
    from pprflow.models.tables import OutboxMessage

    sign_in(client, world.TEACHER)
    token = csrf(client.get("/underretning").text)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens there
    response = client.post("/underretning", data={**world.report_form(), "csrf_token": token})
    assert response.status_code == 200, response.text[:300]
    with Session(web_ctx.engine) as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.lane == "urgent")).all()) == 1


def test_a_partner_in_a_leader_role_is_refused_in_danish_at_the_case_page_PRIV_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    """PRIV-3/PATH-8 wording: the refusal of a partner in a leader role reads in Danish on the case page."""
    from pprflow.models.tables import Consent

    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual",
                           data={**world.individual_form(), "csrf_token": csrf(page.text)})
    case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
    with Session(web_ctx.engine) as session:
        consent = session.exec(select(Consent).where(Consent.case_id == case_id)).first()
        assert consent is not None
    token = csrf(client.get(f"/sager/{case_id}").text)
    answer = client.post(f"/sager/{case_id}/partner", data={
        "consent_id": str(consent.id), "name": "Gammel Leder", "email": "leder@gammel.example",
        "role": "pedagogical_leader", "csrf_token": token}, follow_redirects=True)
    assert "Samarbejdspartneren er ikke tilføjet" in answer.text
    assert "institutionens leder findes i medarbejderkartoteket" in answer.text
