"""Adversary 3 (ESC-2): the web lockout (5 wrong passwords per typed e-mail, 15 minutes) can be triggered by anyone
who knows a teacher's e-mail, and repeated every 15 minutes. A teacher who must report suspected abuse then meets
only "Prøv igen om 12 minutter" — the report is held. ESC-2: nothing may hold it; the locked page must say where the
notification goes now (the profile's notifications address), for a known and an unknown account alike (PRIV-4)."""

from __future__ import annotations

import datetime as dt

import time_machine
from fastapi.testclient import TestClient

from tests.web import world
from tests.web.conftest import csrf


def _login(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(page.text)},
                       follow_redirects=False)


def test_a_locked_out_teacher_is_told_where_to_send_a_notification_now_ESC_2(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    notifications = web_ctx.profile.mailboxes.notifications
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(5):  # someone else, with her e-mail
            assert _login(client, world.TEACHER, "forkert-forkert-1").status_code == 400
        locked = _login(client, world.TEACHER, world.PASSWORD)
    assert locked.status_code == 429
    assert notifications in locked.text and "overgreb" in locked.text, locked.text[:3000]
