"""Issue 18 at scale: "Vores sager" pages through the institution's cases and "I dag" shows bounded groups read
through the indexes of migration 0011_web_speed; both pages do their blocking database work off the event loop.
(The figures at 10k/100k/1M cases: benchmarks/web_pages.py.)"""

from __future__ import annotations

import datetime as dt
import inspect
import re

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session, select

from pprflow.models.calendar import local_today
from pprflow.models.tables import AuditEvent, Case, Deadline, Institution
from pprflow.models.types import utcnow
from pprflow.web import forms
from pprflow.web.app import OUR_CASES_SHOWN
from tests.web import world
from tests.web.conftest import sign_in


def _cases(engine, school: str, count: int, *, assigned: str | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        inst = session.exec(select(Institution).where(Institution.name == school)).one()
        session.execute(insert(Case), [
            {"pathway": "ppr_learning_environment", "status": "open", "institution_id": inst.id,
             "group_name": f"Gruppe {n}", "concern": "", "submitted_by_email": world.LEADER,
             "coordinator_email": world.LEADER, "assigned_ppr_email": assigned, "level_institution": 1,
             "level_family": 1, "confidential_from_parents": False, "created_at": utcnow(),
             "last_activity_at": utcnow()} for n in range(count)])
        session.commit()
        return sorted(i for i in session.exec(select(Case.id).where(Case.institution_id == inst.id)) if i)


def _shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/sager/(\d+)">', html)]


def test_our_cases_pages_through_the_institution_newest_first(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    ids = _cases(web_ctx.engine, "Skovbakkeskolen", 2 * OUR_CASES_SHOWN + 7)
    _cases(web_ctx.engine, "Fjordskolen", 5)  # another school's cases are never on the leader's pages
    sign_in(client, world.LEADER)
    seen: list[int] = []
    page = client.get("/sager")
    while True:
        assert page.status_code == 200
        shown = _shown(page.text)
        assert len(shown) <= OUR_CASES_SHOWN and shown == sorted(shown, reverse=True)
        seen += shown
        older = re.search(r'href="/sager\?foer=(\d+)">Ældre sager', page.text)
        if older is None:
            break
        page = client.get(f"/sager?foer={older.group(1)}")
    assert seen == sorted(ids, reverse=True), "every open case exactly once, newest first"
    with Session(web_ctx.engine) as session:
        audited = session.exec(select(AuditEvent.case_id).where(AuditEvent.actor == world.LEADER,
                                                                AuditEvent.action == "search")).all()
    assert sorted(c for c in audited if c) == sorted(ids), "PRIV-1: each page audits the cases it showed"


def test_today_shows_bounded_groups_of_the_own_district(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    nord = _cases(web_ctx.engine, "Skovbakkeskolen", forms.TODAY_SHOWN + 5)
    syd = _cases(web_ctx.engine, "Fjordskolen", 3)
    today = local_today()
    with Session(web_ctx.engine) as session:
        session.execute(insert(Deadline), [
            *({"kind": "review_reminder", "rule_id": "CAL-6", "subject_key": f"case:{c}", "case_id": c,
               "due_on": today - dt.timedelta(days=1 + n % 9), "remind_on": today - dt.timedelta(days=20),
               "created_at": utcnow()}
              for n, c in enumerate(nord)),
            {"kind": "review_reminder", "rule_id": "CAL-6", "subject_key": "case:x", "case_id": nord[0],
             "due_on": today + dt.timedelta(days=30), "remind_on": today, "created_at": utcnow()},  # next month
            *({"kind": "review_reminder", "rule_id": "CAL-6", "subject_key": f"case:{c}", "case_id": c,
               "due_on": today, "remind_on": today, "created_at": utcnow()} for c in syd)])
        session.commit()
    sign_in(client, world.ADMIN)  # the administrator of district Nord
    page = client.get("/i-dag")
    assert page.status_code == 200
    overdue = page.text.count("<strong>Overskredet:</strong>")
    assert overdue == forms.TODAY_SHOWN, "overdue first, bounded"
    assert f"Der er flere end {forms.TODAY_SHOWN} frister" in page.text
    assert "<strong>I dag:</strong>" not in page.text, "Syd's deadlines due today are not Nord's"
    assert not any(f'href="/sager/{c}"' in page.text for c in syd)
    assert page.text.count('action="/sager/') == forms.UNASSIGNED_SHOWN
    assert f"Viser de {forms.UNASSIGNED_SHOWN} ældste sager" in page.text
    partial = client.get("/i-dag/rækker")
    assert partial.status_code == 200 and partial.text.count("<strong>Overskredet:</strong>") == forms.TODAY_SHOWN


def test_the_list_pages_run_their_database_work_off_the_event_loop(app) -> None:  # type: ignore[no-untyped-def]
    """Blocking DB calls never on the event loop: the list pages are plain `def` (the threadpool runs them)."""
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path in ("/sager", "/i-dag", "/i-dag/rækker", "/logout"):
            assert not inspect.iscoroutinefunction(route.endpoint.__wrapped__), route.path
