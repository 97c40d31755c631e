"""Fixtures for the web app: the real app on a migrated SQLite database, driven over HTTP in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.web import world


@pytest.fixture
def web_ctx(engine: Engine, vejle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from pprflow.tasks.context import Ctx

    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path / "home"))
    world.build(engine)
    return Ctx(engine=engine, profile=vejle, actor="system:web")


@pytest.fixture
def app(web_ctx):  # type: ignore[no-untyped-def]
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    return create_app(WebSettings(secret_key="test-secret-" + "x" * 40), ctx=web_ctx)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "every POST form carries a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = world.PASSWORD) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": password, "next": "/",
                                           "csrf_token": csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
