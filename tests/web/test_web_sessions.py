"""Session security of the web app (issue 18): a signed-out cookie is dead on the server, wrong passwords are
limited per account, and a case number cannot be probed (PRIV-3, PRIV-4)."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, Case, WebSession
from tests.web import world
from tests.web.conftest import csrf, sign_in


def _copy(client: TestClient) -> TestClient:
    thief = TestClient(client.app, base_url="http://127.0.0.1")
    for name, value in client.cookies.items():
        thief.cookies.set(name, value)
    return thief


def test_a_copied_session_cookie_stops_working_after_logout_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    thief = _copy(client)
    assert thief.get("/sager", follow_redirects=False).status_code == 200, "the copy works while signed in"
    home = client.get("/")
    client.post("/logout", data={"csrf_token": csrf(home.text)})
    response = thief.get("/sager", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with Session(web_ctx.engine) as session:
        rows = session.exec(select(WebSession).where(WebSession.email == world.LEADER)).all()
    assert len(rows) == 1 and rows[0].ended_at is not None
    assert all(len(r.id) == 64 and r.id not in str(client.cookies) for r in rows), "only the id's hash is stored"


def test_signing_in_again_keeps_other_sessions_but_logout_ends_only_its_own_PRIV_4(client: TestClient) -> None:
    sign_in(client, world.LEADER)
    other = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(other, world.LEADER)  # the same member on a second device
    home = client.get("/")
    client.post("/logout", data={"csrf_token": csrf(home.text)})
    assert other.get("/", follow_redirects=False).status_code == 200


def _login(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(page.text)},
                       follow_redirects=False)


def _error(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'class="alert-text">([^<]+)<', response.text)
    assert found, response.text[:2000]
    return found.group(0)


def test_five_wrong_passwords_lock_the_account_for_15_minutes_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for _ in range(5):
            assert _login(client, world.LEADER, "forkert-forkert-1").status_code == 400
        traveller.shift(dt.timedelta(minutes=3))
        locked = _login(client, world.LEADER, world.PASSWORD)  # even the right password: not now
        assert locked.status_code == 429
        assert "For mange forsøg med forkert adgangskode. Prøv igen om 12 minutter." in locked.text
        assert client.get("/sager", follow_redirects=False).status_code == 303, "not signed in"
        traveller.shift(dt.timedelta(minutes=12, seconds=1))
        assert _login(client, world.LEADER, world.PASSWORD).status_code == 303, "open again after 15 minutes"
    with Session(web_ctx.engine) as session:
        throttled = session.exec(select(AuditEvent).where(AuditEvent.actor == world.LEADER,
                                                          AuditEvent.action == "refused",
                                                          AuditEvent.entity == "websession")).all()
    assert len(throttled) == 1 and throttled[0].detail["retry_minutes"] == 12, "the lock is in the audit log"


def test_an_unknown_account_gets_the_same_answers_as_a_known_one_PRIV_4(client: TestClient) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False):
        known = [_login(client, world.LEADER, "forkert-forkert-1") for _ in range(6)]
        unknown = [_login(client, "ingen@skovbakke.example", "forkert-forkert-1") for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [400] * 5 + [429]
    assert [_error(r) for r in known] == [_error(r) for r in unknown]


def _new_case(client: TestClient) -> int:
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual", data={**world.individual_form(),
                                                                    "csrf_token": csrf(page.text)})
    assert response.status_code == 200, response.text
    return int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]


def test_an_unreadable_case_answers_as_a_missing_one_PRIV_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    missing = case_id + 1000
    stranger = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(stranger, world.STRANGER)
    home = stranger.get("/")
    for method, suffix in (("GET", ""), ("POST", "/tildel")):
        data = {"to": world.PSYCHOLOGIST, "csrf_token": csrf(home.text)} if method == "POST" else None
        real = stranger.request(method, f"/sager/{case_id}{suffix}", data=data)
        fake = stranger.request(method, f"/sager/{missing}{suffix}", data=data)
        assert real.status_code == fake.status_code == 403, (suffix, real.status_code, fake.status_code)
        assert _error(real).replace(f"Sag {case_id} ", "Sag N ") == _error(fake).replace(f"Sag {missing} ", "Sag N ")
        assert len(real.text) - len(str(case_id)) == len(fake.text) - len(str(missing)), "the same page"
        assert "findes ikke, eller du har ikke adgang til den" in real.text and "Elev K-417" not in real.text
    with Session(web_ctx.engine) as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.actor == world.STRANGER,
                                                        AuditEvent.action == "refused",
                                                        AuditEvent.case_id == case_id)).all()
        assert session.get(Case, case_id).assigned_ppr_email is None  # type: ignore[union-attr]
    assert refused, "the refusal is still audited (PRIV-1)"
