"""The leader's, the coordinator's and the administrator's pages, through the same service functions as the CLI."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from pprflow.models.tables import AuditEvent, Case, Meeting, Notification, OutboxMessage
from tests.web import world
from tests.web.conftest import csrf, sign_in


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _submit(client: TestClient, form: dict[str, str], pathway: str = "ppr_individual"):  # type: ignore[no-untyped-def]
    page = client.get(f"/henvendelse/ny/{pathway}")
    assert page.status_code == 200
    return client.post(f"/henvendelse/ny/{pathway}", data={**form, "csrf_token": csrf(page.text)})


def test_referral_is_received_with_case_number_recipients_and_next_steps(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    response = _submit(client, world.individual_form())
    assert response.status_code == 200, response.text
    case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
    assert "Det er sendt" in response.text and "Det sker nu" in response.text
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.submitted_by_email == world.LEADER  # from the session, not the form
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    assert messages and all(m.to in response.text for m in messages)


def test_refusal_is_a_danish_sentence_at_the_field_and_nothing_is_stored_PATH_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    before = (_count(web_ctx.engine, Case), _count(web_ctx.engine, OutboxMessage))
    response = _submit(client, world.individual_form(plan_community=""))
    assert response.status_code == 400
    assert "Fællesskabet først" in response.text and "(PATH-3)" in response.text
    field = re.search(r'<span class="form-error-message" id="plan_community-error">', response.text)
    assert field, "the sentence sits at the field it concerns"
    assert "Intet er gemt eller sendt" in response.text
    assert (_count(web_ctx.engine, Case), _count(web_ctx.engine, OutboxMessage)) == before


def test_a_missing_plan_field_is_named_in_danish_PLAN_1(client: TestClient) -> None:
    sign_in(client, world.LEADER)
    response = _submit(client, world.individual_form(plan_goal=""))
    assert response.status_code == 400 and 'id="plan_goal-error"' in response.text
    assert "Mål skal udfyldes" in response.text


def test_ppv_only_by_the_school_leader_PATH_2(client: TestClient) -> None:
    sign_in(client, world.TEACHER)
    response = _submit(client, world.individual_form(school_start="ja"), pathway="ppv")
    assert response.status_code == 400 and "Kun skolelederen kan starte en PPV" in response.text


def test_abuse_report_is_queued_at_once_from_any_page_ESC_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.TEACHER)
    for path in ("/", "/sager", "/henvendelse/ny"):
        assert 'href="/underretning"' in client.get(path).text, f"one click from {path}"
    form = client.get("/underretning")
    response = client.post("/underretning", data={**world.report_form(), "csrf_token": csrf(form.text)})
    assert response.status_code == 200 and "Underretningen er sendt" in response.text
    with Session(web_ctx.engine) as session:
        notification = session.exec(select(Notification)).one()
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
    assert notification.reported_by_email == world.TEACHER
    assert queued and queued[0].lane == "urgent" and queued[0].to in response.text


def test_abuse_report_refusal_says_it_was_not_sent_ESC_2(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.TEACHER)
    form = client.get("/underretning")
    response = client.post("/underretning", data={**world.report_form(child_name=""), "csrf_token": csrf(form.text)})
    assert response.status_code == 400 and "IKKE sendt" in response.text
    assert _count(web_ctx.engine, Notification) == 0


def test_our_cases_shows_the_institution_and_hides_it_from_a_stranger_PRIV_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    _submit(client, world.individual_form())
    cases = client.get("/sager")
    assert "Elev K-417" in cases.text and "Næste frist" in cases.text
    stranger = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(stranger, world.STRANGER)
    assert "Elev K-417" not in stranger.get("/sager").text
    assert "Elev K-417" not in stranger.get("/i-dag", follow_redirects=True).text
    with Session(web_ctx.engine) as session:
        searches = session.exec(select(AuditEvent).where(AuditEvent.actor == world.LEADER,
                                                         AuditEvent.action == "search")).all()
    assert any(e.case_id is not None for e in searches), "every case a page lists is audited (PRIV-1)"


def test_coordinator_sees_today_and_assigns_in_one_step_PATH_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    _submit(client, world.individual_form())
    admin = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(admin, world.ADMIN)
    today = admin.get("/i-dag")
    assert "Nye sager til fordeling" in today.text and "Elev K-417" in today.text
    assert 'hx-get="/i-dag/r' in today.text
    case_id = int(re.search(r'action="/sager/(\d+)/tildel"', today.text).group(1))  # type: ignore[union-attr]
    response = admin.post(f"/sager/{case_id}/tildel", data={"to": world.PSYCHOLOGIST, "csrf_token": csrf(today.text)})
    assert response.status_code == 200 and f"Sag {case_id} er tildelt" in response.text
    with Session(web_ctx.engine) as session:
        assert session.get(Case, case_id).assigned_ppr_email == world.PSYCHOLOGIST  # type: ignore[union-attr]


def test_a_leader_cannot_assign_another_schools_case_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    _submit(client, world.individual_form())
    with Session(web_ctx.engine) as session:
        case_id = session.exec(select(Case.id)).one()
    stranger = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(stranger, world.STRANGER)
    home = stranger.get("/")
    response = stranger.post(f"/sager/{case_id}/tildel", data={"to": world.PSYCHOLOGIST,
                                                               "csrf_token": csrf(home.text)})
    # PRIV-3: a case the stranger may not read answers as a case that does not exist (no probing)
    assert response.status_code == 403 and "findes ikke, eller du har ikke adgang til den" in response.text


def test_administrator_plans_district_meetings_across_christmas_CAL_5(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.ADMIN)
    page = client.get("/admin/distriktsmoeder")
    response = client.post("/admin/distriktsmoeder", data={"district": "Nord", "start": "2026-12-14", "count": "4",
                                                           "csrf_token": csrf(page.text)})
    assert response.status_code == 200 and "distriktsmøder planlagt for Nord" in response.text
    with Session(web_ctx.engine) as session:
        meetings = session.exec(select(Meeting).where(Meeting.kind == "district")).all()
    assert len(meetings) == 4
    # Vejle: every other Thursday; 31 December is a closed day (the Christmas holiday), moved to 4 January
    moved = [m for m in meetings if m.flagged_closed_day]
    assert [m.date.isoformat() for m in moved] == ["2027-01-04"]
    assert "1 flyttet fra en lukkedag (CAL-5)" in response.text
    assert "4. januar 2027" in response.text and "Flyttet fra en lukkedag (CAL-5)" in response.text


def test_only_administrators_reach_the_district_meetings_PRIV_4(client: TestClient) -> None:
    sign_in(client, world.LEADER)
    response = client.get("/admin/distriktsmoeder")
    assert response.status_code == 403 and "kun en administrator" in response.text


def _submit_with_file(client: TestClient, form: dict[str, str], filename: str, content: bytes):  # type: ignore[no-untyped-def]
    page = client.get("/henvendelse/ny/ppr_individual")
    return client.post("/henvendelse/ny/ppr_individual", data={**form, "csrf_token": csrf(page.text)},
                       files={"plan_file": (filename, content, "application/octet-stream")})


def test_the_action_plan_file_goes_with_the_request_PLAN_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.models.tables import OutboxAttachment

    sign_in(client, world.LEADER)
    pdf = b"%PDF-1.7\n% handleplan\n" + b"0" * 2000
    response = _submit_with_file(client, world.individual_form(), "Handleplan 3.B.pdf", pdf)
    assert response.status_code == 200 and "Vedhæftet henvendelsen: Handleplan 3.B.pdf" in response.text
    with Session(web_ctx.engine) as session:
        files = session.exec(select(OutboxAttachment)).all()
        requests = {m.id: m for m in session.exec(select(OutboxMessage)).all() if m.template != "receipt"}
    assert files and all(f.content == pdf and f.content_type == "application/pdf" for f in files)
    assert {f.message_id for f in files} == set(requests), "the request mail(s) carry it, not the receipt"


def test_a_wrong_or_too_large_file_is_refused_at_the_field_and_nothing_stored_PLAN_1(  # type: ignore[no-untyped-def]
        client: TestClient, web_ctx) -> None:
    sign_in(client, world.LEADER)
    for name, content, says in (("plan.exe", b"MZ...", "PDF- eller Word-fil"),
                                ("plan.pdf", b"<html>not a pdf</html>", "ikke en rigtig .pdf-fil"),
                                ("plan.pdf", b"%PDF-" + b"0" * 11_000_000, "højst 10 MB")):
        response = _submit_with_file(client, world.individual_form(), name, content)
        assert response.status_code == 400 and says in response.text, name
        assert 'id="plan_file-error"' in response.text
    assert _count(web_ctx.engine, Case) == 0 and _count(web_ctx.engine, OutboxMessage) == 0
