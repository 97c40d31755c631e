"""Adversary 3: a meeting or institution number too large for the database on the new plan pages answers in
Danish, never with a traceback (the web's bad-input rule: "Adressen er forkert ..."; PRIV-4 pages)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web import world
from tests.web.conftest import csrf, sign_in

HUGE = "99999999999999999999"


def test_move_or_cancel_a_meeting_number_too_large_is_answered_in_danish_PRIV_4(client: TestClient) -> None:
    sign_in(client, world.ADMIN)
    home = client.get("/")
    for action in ("flyt", "aflys"):
        response = client.post(f"/admin/moeder/{HUGE}/{action}",
                               data={"date": "2026-12-15", "reason": "x", "csrf_token": csrf(home.text)})
        assert response.status_code < 500, response.text[-2000:]
        assert "Traceback" not in response.text


def test_kv_page_with_an_institution_number_too_large_is_answered_in_danish_PRIV_4(client: TestClient) -> None:
    sign_in(client, world.ADMIN)
    response = client.get(f"/admin/kv-moeder?institution={HUGE}")
    assert response.status_code < 500, response.text[-2000:]


def test_new_case_and_meeting_routes_with_numbers_too_large_answer_without_a_traceback_PRIV_4(
        client: TestClient) -> None:
    sign_in(client, world.LEADER)
    token = csrf(client.get("/").text)
    posts = [f"/sager/{HUGE}/netvaerkskort", f"/sager/1/netvaerkskort/{HUGE}/fjern", f"/moeder/{HUGE}/skema",
             f"/sager/{HUGE}/partner"]
    for path in posts:
        response = client.post(path, data={"n_name": "Mormor", "n_relation": "mormor", "n_circle": "family",
                                           "csrf_token": token}, follow_redirects=False)
        assert response.status_code < 500, (path, response.text[-2000:])
    for path in (f"/sager/{HUGE}/tidslinje", f"/sager/1/tidslinje?side={HUGE}"):
        response = client.get(path)
        assert response.status_code < 500, (path, response.text[-2000:])
