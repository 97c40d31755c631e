"""The case page and its actions (issue 19): the access policy decides, reads are audited, changes go
through the same service functions as the CLI (LVL-*, ROLE-1, CONS-1, PRIV-1, PRIV-3, ESC-1)."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, Case, CaseParty, Consent, OutboxMessage
from tests.referral_data import PARENTS
from tests.web import world
from tests.web.conftest import csrf, sign_in


def _new_case(client: TestClient) -> int:
    sign_in(client, world.LEADER)
    page = client.get("/henvendelse/ny/ppr_individual")
    response = client.post("/henvendelse/ny/ppr_individual",
                           data={**world.individual_form(), "csrf_token": csrf(page.text)})
    assert response.status_code == 200, response.text
    return int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]


def _post(client: TestClient, case_id: int, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf(client.get(f"/sager/{case_id}").text)
    return client.post(f"/sager/{case_id}{path}", data={**data, "csrf_token": token})


def test_case_page_shows_the_case_and_the_read_is_audited_PRIV_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    response = client.get(f"/sager/{case_id}")
    assert response.status_code == 200, response.text
    text = response.text
    for heading in ("Niveau", "Samtykke", "Personer på sagen", "Frister", "Tidslinje", "Tovholder"):
        assert f">{heading}</h2>" in text, heading
    assert "Elev K-417" in text and "Sagen er oprettet" in text
    assert "Fortrolig over for forældrene" not in text
    with Session(web_ctx.engine) as session:
        reads = session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "read",
                                                      AuditEvent.actor == world.LEADER)).all()
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    assert [r.reason for r in reads] == ["web: sagen"]
    assert messages and all(f"Besked: {m.subject}" in text for m in messages), "every message on the timeline"


def test_a_stranger_is_refused_and_the_refusal_audited_PRIV_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    client.cookies.clear()
    sign_in(client, world.STRANGER)
    response = client.get(f"/sager/{case_id}")
    assert response.status_code == 403 and "Elev K-417" not in response.text
    refused = _post(client, case_id, "/niveau", {"direction": "up", "sphere": "institution", "to": "2"})
    assert refused.status_code == 403
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.level_institution == 1
        refusals = session.exec(select(AuditEvent).where(AuditEvent.actor == world.STRANGER,
                                                         AuditEvent.action == "refused")).all()
    assert len(refusals) >= 2


def test_escalation_through_the_level_service_with_history_LVL_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    response = _post(client, case_id, "/niveau", {"direction": "up", "sphere": "institution", "to": "2"})
    assert response.status_code == 200 and "Niveauet er nu Niveau 2" in response.text
    assert "1 → 2" in response.text, "the level's history"
    skipped = _post(client, case_id, "/niveau", {"direction": "up", "sphere": "family", "to": "3"})
    assert "Niveauet er ikke ændret" in skipped.text and "LVL-1" in skipped.text
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and (case.level_institution, case.level_family) == (2, 1)


def test_handover_tells_everyone_ROLE_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    response = _post(client, case_id, "/tovholder", {"to": world.TEACHER})
    assert response.status_code == 200 and f"{world.TEACHER} er nu tovholder" in response.text
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        told = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                        OutboxMessage.template == "coordinator_handover")).all()
    assert case is not None and case.coordinator_email == world.TEACHER
    assert {world.TEACHER, world.LEADER} <= {m.to for m in told}


def test_partner_only_on_a_consent_naming_them_refused_at_field_CONS_1_LAW_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    """CONS-1, LAW-3: the referral's consent (to PPR Vejle and the school) does not name the health visitor; the
    service refuses, the page shows the Danish line at the consent field with the form as filled in."""
    case_id = _new_case(client)
    partner = {"name": "Sune Sundhed", "email": "sune@sund.example", "role": "health_visitor"}
    refused = _post(client, case_id, "/partner", {**partner, "consent_id": ""})
    assert "Samarbejdspartneren er ikke tilføjet" in refused.text
    with Session(web_ctx.engine) as session:
        referral_consent = session.exec(select(Consent).where(Consent.case_id == case_id)).one()
    unnamed = _post(client, case_id, "/partner", {**partner, "consent_id": str(referral_consent.id)})
    field = re.search(r'<div class="form-group form-error"><label class="form-label" for="p-consent">.*?</span>'
                      r'([^<]+)</span>', unnamed.text, re.S)
    assert field and "Samtykket nævner ikke samarbejdspartneren" in field.group(1) and "(LAW-3)" in field.group(1)
    assert 'value="Sune Sundhed"' in unnamed.text, "the form keeps what was typed"
    with Session(web_ctx.engine) as session:
        assert not session.exec(select(CaseParty).where(CaseParty.email == "sune@sund.example")).all()
    given = _post(client, case_id, "/samtykke", {"given_by": PARENTS[0]["name"], "date": "2026-11-20",
                                                 "information": "Trivsel", "recipients": "Sundhedsplejen",
                                                 "purpose": "Netværksmøder"})
    assert "Samtykket er registreret" in given.text
    with Session(web_ctx.engine) as session:
        named = session.exec(select(Consent).where(Consent.case_id == case_id, Consent.id != referral_consent.id)).one()
    added = _post(client, case_id, "/partner", {**partner, "consent_id": str(named.id)})
    assert "Sune Sundhed er tilføjet" in added.text


def test_withdrawal_consequences_first_partner_loses_access_and_mail_CONS_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.web.accounts import set_password
    from tests import factories

    partner = "sune@sund.example"
    with Session(web_ctx.engine) as session:
        factories.staff(session, partner, "health_visitor", name="Sune Sundhed")
        session.commit()
    set_password(web_ctx.engine, actor=world.ADMIN, email=partner, password=world.PASSWORD)
    case_id = _new_case(client)
    _post(client, case_id, "/samtykke", {"given_by": PARENTS[0]["name"], "date": "2026-11-20", "information": "Trivsel",
                                         "recipients": "Sundhedsplejen", "purpose": "Netværksmøder"})
    with Session(web_ctx.engine) as session:
        consent = session.exec(select(Consent).where(Consent.case_id == case_id).order_by(Consent.id.desc())).first()  # type: ignore[union-attr]
    assert consent is not None
    added = _post(client, case_id, "/partner", {"name": "Sune Sundhed", "email": partner, "role": "health_visitor",
                                                "consent_id": str(consent.id)})
    assert "Sune Sundhed er tilføjet" in added.text
    client.cookies.clear()
    sign_in(client, partner)
    assert client.get(f"/sager/{case_id}").status_code == 200, "on the case while the consent stands"
    client.cookies.clear()
    sign_in(client, world.LEADER)
    confirm = client.get(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage")
    assert confirm.status_code == 200 and "mister adgangen" in confirm.text and "Sune Sundhed" in confirm.text
    with Session(web_ctx.engine) as session:
        assert session.get(Consent, consent.id).withdrawn_at is None, "nothing changes before confirming"  # type: ignore[union-attr]
    done = client.post(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage", data={"csrf_token": csrf(confirm.text)})
    assert "Samtykket er trukket tilbage" in done.text and "trukket tilbage: modtager intet" in done.text
    client.cookies.clear()
    sign_in(client, partner)
    gone = client.get(f"/sager/{case_id}")
    assert gone.status_code == 403 and "Elev K-417" not in gone.text, "CONS-1: the partner loses access"
    with Session(web_ctx.engine) as session:
        assert session.get(Consent, consent.id).withdrawn_at is not None  # type: ignore[union-attr]
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.to == partner,
                                                           OutboxMessage.status == "pending")).all()
    assert pending == [], "CONS-1: no mail to them"


def test_our_cases_links_each_row_to_its_case_page(client: TestClient) -> None:
    case_id = _new_case(client)
    assert f'href="/sager/{case_id}"' in client.get("/sager").text


def _schedule(client: TestClient, case_id: int, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/sager/{case_id}/moeder/ny")
    assert page.status_code == 200
    data = {"kind": "development", "address": "Skovbakkevej 1, 7100 Vejle", "starts_at": "09:00",
            "leader_phone": "+45 75 00 00 00", **fields}
    data.setdefault("date", re.search(r'id="date" name="date" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return client.post(f"/sager/{case_id}/moeder/ny", data={**data, "csrf_token": csrf(page.text)})


def test_the_date_field_starts_at_the_earliest_date_and_says_why_CAL_2(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.models.calendar import WorkingCalendar, local_today

    case_id = _new_case(client)
    page = client.get(f"/sager/{case_id}/moeder/ny")
    calendar = WorkingCalendar.for_profile(web_ctx.profile)
    shown = dt.date.fromisoformat(re.search(r'id="date" name="date" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    today = local_today()
    assert calendar.agenda_deadline(shown, 5) >= today, "the agenda can still go out 5 working days before"
    day_before = calendar.add_working_days(shown, -1)
    assert day_before <= today or calendar.agenda_deadline(day_before, 5) < today, "and no earlier day would do"
    assert "5 arbejdsdage før mødet (CAL-2)" in page.text
    inside = _schedule(client, case_id, date=local_today().isoformat())
    assert inside.status_code == 400 and "CAL-2" in inside.text and "Intet er gemt" in inside.text
    urgent = _schedule(client, case_id, date=local_today().isoformat(), urgent_reason="Barnet er i krise i dag.")
    assert urgent.status_code == 200, re.findall(r"alert-text\">([^<]+)", urgent.text)
    assert "kort varsel" in urgent.text


def test_agenda_with_invite_minutes_with_actions_and_follow_up_MEET_2_MEET_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    import time

    import icalendar
    import time_machine

    from pprflow.models.tables import Meeting, OutboxAttachment

    case_id = _new_case(client)
    meeting_page = _schedule(client, case_id)
    assert meeting_page.status_code == 200 and "Mødelederens tjekliste (MEET-4)" in meeting_page.text
    assert "Netværkskort (MEET-5)" in meeting_page.text and "første møde" in meeting_page.text
    meeting_id = int(re.search(r'action="/moeder/(\d+)/dagsorden"', meeting_page.text).group(1))  # type: ignore[union-attr]
    sent = client.post(f"/moeder/{meeting_id}/dagsorden", data={"csrf_token": csrf(meeting_page.text)})
    assert "Dagsordenen er sendt med kalenderinvitation" in sent.text
    with Session(web_ctx.engine) as session:
        meeting = session.get(Meeting, meeting_id)
        invites = session.exec(select(OutboxAttachment).where(OutboxAttachment.content_type.startswith(  # type: ignore[attr-defined]
            "text/calendar"))).all()
    assert meeting is not None and invites
    event = next(iter(icalendar.Calendar.from_ical(invites[0].content).walk("VEVENT")))
    assert event.decoded("dtstart").date() == meeting.date  # an independent iCalendar parser reads it
    days = (meeting.date - dt_today()).days
    with time_machine.travel(time.time() + days * 86400 + 3600, tick=True):
        sign_in(client, world.LEADER)
        page = client.get(f"/moeder/{meeting_id}")
        several = client.post(f"/moeder/{meeting_id}/referat", data={
            "csrf_token": csrf(page.text), "action_1_text": "Ugentlig samtale med eleven",
            "action_1_responsible": f"{world.TEACHER}, {world.LEADER}"})
        assert "Referatet er ikke gemt" in several.text and "MEET-2" in several.text, "one responsible person"
        done = client.post(f"/moeder/{meeting_id}/referat", data={
            "csrf_token": csrf(page.text), "action_1_text": "Ugentlig samtale med eleven",
            "action_1_responsible": world.TEACHER, "summary": "Godt møde."})
        assert "Referatet er gemt med 1 aftaler" in done.text and "Ugentlig samtale med eleven" in done.text
        follow = _schedule(client, case_id)
        assert "Opfølgning på aftaler fra sidste møde" in follow.text and "Ugentlig samtale med eleven" in follow.text
        assert "opfølgningsskemaet" in follow.text


def dt_today():  # type: ignore[no-untyped-def]
    from pprflow.models.calendar import local_today

    return local_today()


def test_confidential_banner_for_staff_ESC_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    assert "Fortrolig over for forældrene" not in client.get(f"/sager/{case_id}").text
    with Session(web_ctx.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.confidential_from_parents = True
        session.add(case)
        session.commit()
    page = client.get(f"/sager/{case_id}").text
    assert page.index("Fortrolig over for forældrene (ESC-1)") < page.index("<h1>"), "at the top"


def test_second_level_3_meeting_refused_until_consent_LVL_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.models.calendar import WorkingCalendar

    case_id = _new_case(client)
    for to in ("2", "3"):
        changed = _post(client, case_id, "/niveau", {"direction": "up", "sphere": "institution", "to": to})
        assert f"Niveauet er nu Niveau {to}" in changed.text
    first = _schedule(client, case_id, kind="network", level="3")
    assert first.status_code == 200, re.findall(r"alert-text\">([^<]+)", first.text)
    assert "Tværfagligt netværksmøde" in first.text
    with Session(web_ctx.engine) as session:
        consent = session.exec(select(Consent).where(Consent.case_id == case_id)).one()
    confirm = client.get(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage")
    client.post(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage", data={"csrf_token": csrf(confirm.text)})
    page = client.get(f"/sager/{case_id}/moeder/ny")
    later = WorkingCalendar.for_profile(web_ctx.profile).add_working_days(
        dt.date.fromisoformat(re.search(r'name="date" value="([^"]+)"', page.text).group(1)), 5)  # type: ignore[union-attr]
    refused = _schedule(client, case_id, kind="network", level="3", date=later.isoformat())
    assert refused.status_code == 400 and "LVL-4" in refused.text
    given = _post(client, case_id, "/samtykke", {"given_by": PARENTS[0]["name"], "date": "2026-11-20",
                                                 "information": "Skolefaglige oplysninger",
                                                 "recipients": "PPR", "purpose": "Netværksmøde"})
    assert "Samtykket er registreret" in given.text, re.findall(r"alert-text\">([^<]+)", given.text)
    second = _schedule(client, case_id, kind="network", level="3", date=later.isoformat())
    assert second.status_code == 200 and "Mødet er planlagt" in second.text
