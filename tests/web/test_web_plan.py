"""The administrator moves or cancels ONE district meeting or KV session, with a reason (issue 18; CAL-5, CAL-3,
KV-1, PRIV-4), through tasks/planning.py (cancelling as `cancel_meeting` does)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pprflow.models.tables import AuditEvent, Deadline, Meeting
from tests.web import world
from tests.web.conftest import csrf, sign_in


def _plan(client: TestClient, path: str, data: dict[str, str]) -> list[Meeting]:
    page = client.get(path)
    response = client.post(path, data={**data, "csrf_token": csrf(page.text)})
    assert response.status_code == 200 and "planlagt for" in response.text, response.text[-3000:]
    return []


def _meetings(engine, kind: str) -> list[Meeting]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Meeting).where(Meeting.kind == kind).order_by(col(Meeting.date))).all())


def _post(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    home = client.get("/")
    return client.post(path, data={**data, "csrf_token": csrf(home.text)})


def _open_deadlines(engine, meeting_id: int) -> list[Deadline]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Deadline).where(Deadline.subject_key == f"meeting:{meeting_id}",
                                                        col(Deadline.done_at).is_(None))).all())


def test_move_one_district_meeting_to_a_working_day_with_a_reason_CAL_5(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    _plan(client, "/admin/distriktsmoeder", {"district": "Nord", "start": "2026-12-14", "count": "4"})
    first = _meetings(web_ctx.engine, "district")[0]
    page = client.get("/admin/distriktsmoeder")
    assert f'action="/admin/moeder/{first.id}/flyt"' in page.text
    assert f'action="/admin/moeder/{first.id}/aflys"' in page.text
    new = first.date + dt.timedelta(days=1)
    moved = _post(client, f"/admin/moeder/{first.id}/flyt", {"date": new.isoformat(), "reason": "Sygdom i teamet"})
    assert moved.status_code == 200 and "Mødet er flyttet" in moved.text
    after = _meetings(web_ctx.engine, "district")[0]
    assert after.id == first.id and after.date == new
    assert [d.due_on for d in _open_deadlines(web_ctx.engine, first.id)] == [new], "the case list follows (CAL-5)"
    with Session(web_ctx.engine) as session:
        change = session.exec(select(AuditEvent).where(AuditEvent.entity == "meeting", AuditEvent.action == "change",
                                                       AuditEvent.entity_id == str(first.id))).one()
    assert change.actor == world.ADMIN and change.reason == "Sygdom i teamet"


def test_a_closed_day_or_no_reason_is_refused_in_danish_and_nothing_changes_CAL_5(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    _plan(client, "/admin/distriktsmoeder", {"district": "Nord", "start": "2026-12-14", "count": "2"})
    first = _meetings(web_ctx.engine, "district")[0]
    christmas = _post(client, f"/admin/moeder/{first.id}/flyt", {"date": "2026-12-25", "reason": "Travlhed"})
    assert "Mødet er ikke flyttet: 25.12.2026 er en lukkedag" in christmas.text
    assert "fx 28.12.2026" in christmas.text
    silent = _post(client, f"/admin/moeder/{first.id}/flyt", {"date": "2026-12-16", "reason": " "})
    assert "Mødet er ikke flyttet: Skriv kort, hvorfor mødet flyttes" in silent.text
    assert _meetings(web_ctx.engine, "district")[0].date == first.date


def test_cancel_one_district_meeting_with_a_reason(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    _plan(client, "/admin/distriktsmoeder", {"district": "Nord", "start": "2026-12-14", "count": "3"})
    first, second, third = _meetings(web_ctx.engine, "district")
    response = _post(client, f"/admin/moeder/{second.id}/aflys", {"reason": "Personaledag"})
    assert response.status_code == 200 and "Mødet er aflyst" in response.text
    statuses = [m.status for m in _meetings(web_ctx.engine, "district")]
    assert statuses == ["scheduled", "cancelled", "scheduled"], "only that one"
    assert _open_deadlines(web_ctx.engine, second.id) == [] and _open_deadlines(web_ctx.engine, third.id)
    again = _post(client, f"/admin/moeder/{second.id}/flyt", {"date": "2027-01-05", "reason": "Igen"})
    assert "Mødet er aflyst og kan ikke ændres" in again.text


def test_kv_sessions_planned_moved_and_cancelled_CAL_3_KV_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    _plan(client, "/admin/kv-moeder", {"institution": "Skovbakkeskolen", "start": "2027-01-11", "count": "3"})
    sessions = _meetings(web_ctx.engine, "kv")
    assert len(sessions) == 3
    first = sessions[0]
    new = dt.date(2027, 1, 20)
    moved = _post(client, f"/admin/moeder/{first.id}/flyt", {"date": new.isoformat(), "reason": "Temadag"})
    assert "Mødet er flyttet" in moved.text and "KV-møder" in moved.text
    after = _meetings(web_ctx.engine, "kv")[0]
    assert after.date == new and after.agenda_deadline is not None and after.agenda_deadline < new
    assert after.agenda_deadline != first.agenda_deadline, "the CAL-3 notice deadline is counted from the new date"
    assert {d.due_on for d in _open_deadlines(web_ctx.engine, first.id)} == {after.agenda_deadline}
    cancelled = _post(client, f"/admin/moeder/{sessions[1].id}/aflys", {"reason": "Skolen lukket"})
    assert "Mødet er aflyst" in cancelled.text
    assert [m.status for m in _meetings(web_ctx.engine, "kv")] == ["scheduled", "cancelled", "scheduled"]


def test_only_administrators_plan_move_or_cancel_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    admin = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(admin, world.ADMIN)
    _plan(admin, "/admin/distriktsmoeder", {"district": "Nord", "start": "2026-12-14", "count": "1"})
    meeting = _meetings(web_ctx.engine, "district")[0]
    sign_in(client, world.LEADER)
    assert client.get("/admin/kv-moeder").status_code == 403
    refused = _post(client, f"/admin/moeder/{meeting.id}/aflys", {"reason": "Vil ikke"})
    assert refused.status_code == 403
    assert _meetings(web_ctx.engine, "district")[0].status == "scheduled"
