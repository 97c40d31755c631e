"""KV topics (KV-1, CAL-3), the staff directory and the mail's health (issue 19), through the service functions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import Case, KVTopic, OutboxMessage, StaffMember
from tests.web import world
from tests.web.conftest import csrf, sign_in


def _new_case(client: TestClient) -> int:
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual",
                           data={**world.individual_form(), "csrf_token": csrf(page.text)})
    return int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]


def _notice(html: str) -> list[str]:
    return re.findall(r'alert-text">([^<]+)', html)


def test_kv_topic_anonymous_with_deadline_and_ppr_sees_the_list_KV_1_CAL_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.models.calendar import local_today
    from pprflow.tasks.kv import schedule_kv_sessions

    admin = dataclasses.replace(web_ctx, actor=world.ADMIN)
    start = local_today() + dt.timedelta(days=14)
    schedule_kv_sessions(admin, institution="Skovbakkeskolen", start=start, count=1, leader_email=world.LEADER)
    sign_in(client, world.LEADER)
    page = client.get("/kv")
    assert page.status_code == 200 and "Frist for emner" in page.text and "skriv ingen navne (KV-1)" in page.text
    date = re.search(r'<option value="(\d{4}-\d\d-\d\d)">', page.text).group(1)  # type: ignore[union-attr]
    sent = client.post("/kv", data={"csrf_token": csrf(page.text), "institution": "Skovbakkeskolen",
                                    "session_date": date, "text": "Overgange mellem timer i 3. klasse",
                                    "child": "Elev K-417"})
    assert "Emnet er modtaget" in sent.text, _notice(sent.text)
    with Session(web_ctx.engine) as session:
        topic = session.exec(select(KVTopic)).one()
    assert topic.text == "Overgange mellem timer i 3. klasse" and "K-417" not in topic.text
    client.cookies.clear()
    sign_in(client, world.PSYCHOLOGIST)
    assert "Overgange mellem timer i 3. klasse" in client.get("/kv").text
    client.cookies.clear()
    sign_in(client, world.STRANGER)
    assert "Overgange mellem timer" not in client.get("/kv").text


def test_staff_directory_is_for_administrators_only(client: TestClient) -> None:
    sign_in(client, world.LEADER)
    assert client.get("/admin/medarbejdere").status_code == 403
    assert client.get("/admin/post").status_code == 403


def test_add_change_import_and_a_leaver_hands_over_every_case_ROLE_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    client.cookies.clear()
    sign_in(client, world.ADMIN)
    page = client.get("/admin/medarbejdere")
    assert page.status_code == 200 and world.LEADER in page.text
    added = client.post("/admin/medarbejdere", data={"csrf_token": csrf(page.text), "name": "Ny Lærer",
                                                     "email": "ny@skovbakke.example", "role": "teacher",
                                                     "institution": "Skovbakkeskolen"})
    assert "er gemt i medarbejderkartoteket" in added.text, _notice(added.text)
    changed = client.post("/admin/medarbejdere", data={"csrf_token": csrf(page.text), "name": "Ny Lærer",
                                                       "email": "ny@skovbakke.example", "role": "pedagogue",
                                                       "institution": "Skovbakkeskolen"})
    assert "er gemt" in changed.text
    csv = "name,email,role,institution\nImporteret Person,imp@skovbakke.example,teacher,Skovbakkeskolen\n"
    imported = client.post("/admin/medarbejdere/import", data={"csrf_token": csrf(page.text)},
                           files={"file": ("staff.csv", csv.encode(), "text/csv")})
    assert "1 medarbejdere importeret" in imported.text, _notice(imported.text)
    refused = client.post("/admin/medarbejdere/fratraed", data={"csrf_token": csrf(page.text),
                                                                "email": world.LEADER, "to": ""})
    assert "vælg, hvem der overtager" in refused.text
    left = client.post("/admin/medarbejdere/fratraed", data={"csrf_token": csrf(page.text),
                                                             "email": world.LEADER, "to": world.TEACHER})
    assert "1 sag(er) er overdraget" in left.text, _notice(left.text)
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        leader = session.exec(select(StaffMember).where(StaffMember.email == world.LEADER)).one()
        new = session.exec(select(StaffMember).where(StaffMember.email == "ny@skovbakke.example")).one()
        told = session.exec(select(OutboxMessage).where(OutboxMessage.template == "coordinator_handover")).all()
    assert case is not None and case.coordinator_email == world.TEACHER and not leader.active
    assert new.role == "pedagogue" and told


def test_mail_health_shows_pending_and_refuses_to_cancel_an_abuse_notification(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.TEACHER)
    form = client.get("/underretning")
    client.post("/underretning", data={**world.report_form(), "csrf_token": csrf(form.text)})
    client.cookies.clear()
    sign_in(client, world.ADMIN)
    page = client.get("/admin/post")
    assert page.status_code == 200 and "Ventende beskeder" in page.text
    with Session(web_ctx.engine) as session:
        abuse = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).first()
    assert abuse is not None and f"Annullér besked {abuse.id}" in page.text
    refused = client.post(f"/admin/post/{abuse.id}/annuller", data={"csrf_token": csrf(page.text),
                                                                    "reason": "fejl"})
    assert f"Besked {abuse.id} er ikke annulleret" in refused.text
    with Session(web_ctx.engine) as session:
        assert session.get(OutboxMessage, abuse.id).status == "pending"  # type: ignore[union-attr]
