"""Sign-in with a local account (argon2), the session cookie, timeout and logout (PRIV-4)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, StaffMember
from tests.web import world
from tests.web.conftest import csrf, sign_in


def test_password_is_stored_only_as_an_argon2_hash(web_ctx) -> None:  # type: ignore[no-untyped-def]
    with Session(web_ctx.engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.email == world.LEADER)).one()
    assert member.password_hash and member.password_hash.startswith("$argon2id$")
    assert world.PASSWORD not in member.password_hash


def test_wrong_password_is_refused_and_audited_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    response = client.post("/login", data={"email": world.LEADER, "password": "forkert-forkert-1",
                                           "csrf_token": csrf(page.text)})
    assert response.status_code == 400 and "E-mail eller adgangskode er forkert" in response.text
    assert client.get("/sager", follow_redirects=False).status_code == 303
    with Session(web_ctx.engine) as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.actor == world.LEADER,
                                                        AuditEvent.action == "refused")).all()
    assert refused


def test_session_cookie_is_httponly_and_lax(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": world.LEADER, "password": world.PASSWORD,
                                           "csrf_token": csrf(page.text)}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_https_makes_the_cookie_secure(web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="s" * 48, https=True), ctx=web_ctx)
    with TestClient(app, base_url="https://127.0.0.1") as client:
        page = client.get("/login")
        response = client.post("/login", data={"email": world.LEADER, "password": world.PASSWORD,
                                               "csrf_token": csrf(page.text)}, follow_redirects=False)
        assert "secure" in response.headers["set-cookie"].lower()


def test_deactivated_member_is_signed_out_on_the_next_request_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.TEACHER)
    assert client.get("/").status_code == 200
    with Session(web_ctx.engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.email == world.TEACHER)).one()
        member.active = False
        session.add(member)
        session.commit()
    response = client.get("/", follow_redirects=True)
    assert "ikke (længere) aktiv" in response.text


def test_idle_session_times_out(web_ctx) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="s" * 48, idle_timeout_minutes=5), ctx=web_ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client, world.LEADER)
        assert client.get("/").status_code == 200
        with time_machine.travel(time.time() + 6 * 60, tick=False):
            response = client.get("/", follow_redirects=True)
        assert "ikke har været aktiv" in response.text
        assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(client: TestClient) -> None:
    sign_in(client, world.LEADER)
    home = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf(home.text)}, follow_redirects=True)
    assert "Du er logget ud" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_next_is_never_an_open_redirect(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": world.LEADER, "password": world.PASSWORD,
                                           "next": "//evil.example/", "csrf_token": csrf(page.text)},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_set_password_refuses_a_short_one_and_non_admins(web_ctx) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from pprflow.models.errors import AccessDenied, InvalidInput
    from pprflow.web.accounts import set_password

    with pytest.raises(InvalidInput, match="mindst 12 tegn"):
        set_password(web_ctx.engine, actor=world.ADMIN, email=world.LEADER, password="kort")
    with pytest.raises(AccessDenied):
        set_password(web_ctx.engine, actor=world.TEACHER, email=world.LEADER, password="et-helt-nyt-kodeord")


def test_a_session_ends_after_max_session_hours_even_when_kept_busy_PRIV_4(web_ctx) -> None:  # type: ignore[no-untyped-def]
    """PRIV-4: `max_session_hours` is an absolute limit: a cookie used every 20 minutes does not live forever
    (the cookie's max-age is renewed on every response, so the session itself must count from sign-in)."""
    import time_machine

    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="s" * 48, idle_timeout_minutes=30, max_session_hours=1), ctx=web_ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client, world.LEADER)
        start = time.time()
        for minutes in (20, 40, 59):
            with time_machine.travel(start + minutes * 60, tick=False):
                assert client.get("/", follow_redirects=False).status_code == 200
        with time_machine.travel(start + 61 * 60, tick=False):
            response = client.get("/", follow_redirects=False)
        assert response.status_code == 303, "signed out after max_session_hours"
