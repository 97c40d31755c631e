"""The case page and its actions (issue 19): the access policy decides, reads are audited, changes go
through the same service functions as the CLI (LVL-*, ROLE-1, CONS-1, PRIV-1, PRIV-3, ESC-1)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import AuditEvent, Case, CaseParty, Consent, OutboxMessage
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


def test_partner_only_on_a_consent_and_withdrawal_shows_consequences_first_CONS_1(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    refused = _post(client, case_id, "/partner", {"name": "Sune Sundhed", "email": "sune@sund.example",
                                                  "role": "health_visitor", "consent_id": ""})
    assert "Samarbejdspartneren er ikke tilføjet" in refused.text
    with Session(web_ctx.engine) as session:
        consent = session.exec(select(Consent).where(Consent.case_id == case_id)).first()
        assert consent is not None and not session.exec(
            select(CaseParty).where(CaseParty.email == "sune@sund.example")).all()
    added = _post(client, case_id, "/partner", {"name": "Sune Sundhed", "email": "sune@sund.example",
                                                "role": "health_visitor", "consent_id": str(consent.id)})
    assert "Sune Sundhed er tilføjet" in added.text
    confirm = client.get(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage")
    assert confirm.status_code == 200 and "mister adgangen" in confirm.text and "Sune Sundhed" in confirm.text
    with Session(web_ctx.engine) as session:
        assert session.get(Consent, consent.id).withdrawn_at is None, "nothing changes before confirming"  # type: ignore[union-attr]
    done = client.post(f"/sager/{case_id}/samtykke/{consent.id}/traek-tilbage", data={"csrf_token": csrf(confirm.text)})
    assert "Samtykket er trukket tilbage" in done.text and "trukket tilbage: modtager intet" in done.text
    with Session(web_ctx.engine) as session:
        assert session.get(Consent, consent.id).withdrawn_at is not None  # type: ignore[union-attr]


def test_our_cases_links_each_row_to_its_case_page(client: TestClient) -> None:
    case_id = _new_case(client)
    assert f'href="/sager/{case_id}"' in client.get("/sager").text
