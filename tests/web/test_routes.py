"""Every route of the web app declares its access kind, and the one guard enforces it (PRIV-3, PRIV-4).

The tests enumerate `app.routes`, so a new route cannot skip the policy: an undeclared route fails here and
answers nothing at run time; a `case_data` route that answers without asking the policy answers an error.
"""

from __future__ import annotations

import re

import pytest
from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from pprflow.web.app import PUBLIC_MOUNTS
from pprflow.web.security import ACCESS, page
from tests.web import world
from tests.web.conftest import sign_in

KINDS = {"public", "staff", "case_data", "admin"}
PUBLIC_PATHS = {"/login", "/login/oidc", "/auth/callback", "/tilgaengelighed"}
"""The only routes anyone may reach without signing in (reviewed by hand: none shows case data)."""


def _routes(app) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    return [r for r in app.routes if isinstance(r, APIRoute)]


def test_every_route_declares_its_access_kind_PRIV_3(app) -> None:  # type: ignore[no-untyped-def]
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.name in PUBLIC_MOUNTS, f"mount {route.path} is not a known public mount"
            continue
        assert isinstance(route, APIRoute), f"{route!r}: only declared API routes and the static mount"
        kind = ACCESS.get(route.endpoint)
        assert kind in KINDS, f"{route.path} ({route.endpoint.__name__}) declares no access kind: use @page(...)"
        if kind == "public":
            assert route.path in PUBLIC_PATHS, f"{route.path} is public but not reviewed as such"


def _url(route: APIRoute) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if "id" in m.group(0) else "ppr_individual", route.path)


def test_no_route_but_the_public_ones_answers_without_sign_in_PRIV_4(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    for route in _routes(app):
        if ACCESS[route.endpoint] == "public":
            continue
        for method in route.methods:
            response = client.request(method, _url(route), follow_redirects=False,
                                      data={"csrf_token": "x"} if method == "POST" else None)
            assert response.status_code in (303, 403), (method, route.path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), (method, route.path)
            assert "Elev" not in response.text


def test_every_post_needs_the_session_csrf_token(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    for route in _routes(app):
        if "POST" in route.methods:
            response = client.post(_url(route), data={"csrf_token": "forged"}, follow_redirects=False)
            assert response.status_code == 403, route.path
            assert "Formularen er udløbet" in response.text


def test_an_undeclared_route_answers_nothing(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    @app.get("/udeklareret")
    async def undeclared(request: Request) -> dict[str, str]:
        return {"case": "Elev K-417"}

    sign_in(client, world.ADMIN)
    response = client.get("/udeklareret")
    assert response.status_code == 404 and "Elev" not in response.text


def test_a_case_data_route_that_skips_the_policy_fails_PRIV_3(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    @app.get("/glemt-politik")
    @page("case_data")
    async def forgot_policy(request: Request) -> dict[str, str]:
        return {"case": "Elev K-417"}

    sign_in(client, world.ADMIN)
    with pytest.raises(RuntimeError, match="without asking the access policy"):
        client.get("/glemt-politik")
