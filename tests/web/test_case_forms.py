"""The meeting forms as the seeds give them, the network map and the web app's injectable clock (issue 19):
MEET-3 (first-meeting/yellow and follow-up form, field by field), MEET-5 (the network map as rows on the case,
brought into every agenda), level 4 (the dark-blue parents' information form), MEET-2 (minutes on the meeting's
day through `PPRFLOW_WEB_TODAY`, no moved system clock). Real app, real database, the outbox as written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import Meeting, NetworkPerson, OutboxAttachment, OutboxMessage
from tests.web import world
from tests.web.conftest import csrf, sign_in
from tests.web.test_case_pages import _new_case, _post, _schedule


def _meeting_id(page_text: str) -> int:
    return int(re.search(r'action="/moeder/(\d+)/skema"', page_text).group(1))  # type: ignore[union-attr]


def _agenda_to(web_ctx, meeting_id: int, to: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with Session(web_ctx.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.template == "network_agenda",
                                                        OutboxMessage.to == to)).all()
        meeting = session.get(Meeting, meeting_id)
    assert rows and meeting is not None
    return rows[-1]


def test_network_map_rows_on_the_case_with_danish_field_errors_MEET_5(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    refused = _post(client, case_id, "/netvaerkskort",
                    {"n_name": "Birthe Berg", "n_relation": "", "n_circle": "family"})
    field = re.search(r'<div class="form-group form-error"><label class="form-label" for="n_relation">.*?</span>'
                      r'([^<]+)</span>', refused.text, re.S)
    assert field and "Udfyld feltet »Relation til barnet« (MEET-5)." in field.group(1)
    assert 'value="Birthe Berg"' in refused.text, "what was typed stays"
    for name, relation, circle in (("Birthe Berg", "mormor", "family"), ("Ole Træner", "fodboldtræner", "private"),
                                   ("Dr. Lund", "egen læge", "professional")):
        added = _post(client, case_id, "/netvaerkskort", {"n_name": name, "n_relation": relation, "n_circle": circle})
        assert f"{name} er tilføjet netværkskortet" in added.text
    page = client.get(f"/sager/{case_id}").text
    assert "<td>Birthe Berg</td><td>mormor</td><td>Familien</td>" in page
    assert "<td>Ole Træner</td><td>fodboldtræner</td><td>Privat netværk</td>" in page
    with Session(web_ctx.engine) as session:
        ole = session.exec(select(NetworkPerson).where(NetworkPerson.name == "Ole Træner")).one()
    removed = _post(client, case_id, f"/netvaerkskort/{ole.id}/fjern", {})
    assert "fjernet fra netværkskortet" in removed.text and "<td>Ole Træner</td>" not in removed.text


def test_first_meeting_form_field_by_field_into_the_agenda_mail_and_invite_MEET_3_MEET_5(  # noqa: D103
        client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from tests.referral_data import PARENTS

    case_id = _new_case(client)
    _post(client, case_id, "/netvaerkskort", {"n_name": "Birthe Berg", "n_relation": "mormor", "n_circle": "family"})
    page = _schedule(client, case_id)
    assert "Skema til første møde (MEET-3)" in page.text and "Baggrunden for mødet" in page.text
    assert "Birthe Berg: mormor (familien)" in page.text, "MEET-5: the family's map on the meeting page"
    meeting_id = _meeting_id(page.text)
    empty = client.post(f"/moeder/{meeting_id}/skema", data={"csrf_token": csrf(page.text), "a_background": "",
                                                              "a_question": "Hvordan får vi ro i frikvartererne?"})
    assert empty.status_code == 400
    field = re.search(r'<div class="form-group form-error">\s*<label class="form-label" for="a_background">.*?</span>'
                      r'([^<]+)</span>', empty.text, re.S)
    assert field and "Udfyld feltet »Baggrunden for mødet: hvad ser vi i dagtilbud/skole?« (MEET-3)." in field.group(1)
    assert "Hvordan får vi ro i frikvartererne?" in empty.text, "what was typed stays"
    with Session(web_ctx.engine) as session:
        assert session.get(Meeting, meeting_id).agenda_fields is None, "nothing stored"  # type: ignore[union-attr]
    saved = client.post(f"/moeder/{meeting_id}/skema", data={
        "csrf_token": csrf(page.text), "a_background": "Eleven trækker sig i frikvartererne.",
        "a_tried": "Legepatrulje i 4 uger.", "a_question": "Hvordan får vi ro i frikvartererne?"})
    assert "Skemaet er gemt" in saved.text
    sent = client.post(f"/moeder/{meeting_id}/dagsorden", data={"csrf_token": csrf(saved.text)})
    assert "Dagsordenen er sendt" in sent.text
    to_parent = _agenda_to(web_ctx, meeting_id, PARENTS[0]["email"])
    for text in ("Baggrunden for mødet: hvad ser vi i dagtilbud/skole?", "Eleven trækker sig i frikvartererne.",
                 "Legepatrulje i 4 uger.", "Netværkskort", "Birthe Berg: mormor (familien)"):
        assert text in to_parent.body_text, text
    assert "Eleven trækker sig i frikvartererne." in to_parent.body_html
    with Session(web_ctx.engine) as session:
        invite = session.exec(select(OutboxAttachment).where(OutboxAttachment.message_id == to_parent.id)).one()
    event = next(iter(icalendar.Calendar.from_ical(invite.content).walk("VEVENT")))
    description = str(event.get("description"))
    assert "Hvordan får vi ro i frikvartererne?" in description, "the form travels in the invite (MEET-3)"


def test_level_4_adds_the_dark_blue_parents_information_form_LVL_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from tests.referral_data import PARENTS

    case_id = _new_case(client)
    page = _schedule(client, case_id, kind="network", level="4")
    assert page.status_code == 200, re.findall(r"alert-text\">([^<]+)", page.text)
    assert "Forældreoplysningsskema (mørkeblåt skema) (niveau 4)" in page.text
    meeting_id = _meeting_id(page.text)
    base = {"csrf_token": csrf(page.text), "a_background": "Eleven trækker sig.",
            "a_question": "Specialiseret indsats?"}
    half = client.post(f"/moeder/{meeting_id}/skema", data={**base, "f_family": "Mor, far og lillebror."})
    assert half.status_code == 400 and "i forældreoplysningsskemaet (LVL-3)" in half.text
    saved = client.post(f"/moeder/{meeting_id}/skema", data={
        **base, "f_family": "Mor, far og lillebror.", "f_strengths": "Glad for at tegne.",
        "f_concerns": "Han sover dårligt."})
    assert "Skemaet er gemt" in saved.text
    client.post(f"/moeder/{meeting_id}/dagsorden", data={"csrf_token": csrf(saved.text)})
    body = _agenda_to(web_ctx, meeting_id, PARENTS[0]["email"]).body_text
    assert "Forældreoplysningsskema" in body and "Han sover dårligt." in body
    level_2 = _schedule(client, case_id, kind="development",
                        date=(dt.date.fromisoformat(re.search(r'name="date" value="([^"]+)"', client.get(
                            f"/sager/{case_id}/moeder/ny").text).group(1)) + dt.timedelta(days=7)).isoformat())  # type: ignore[union-attr]
    assert "Forældreoplysningsskema" not in level_2.text, "only at level 4"


@pytest.fixture
def on_the_meeting_day(web_ctx) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A second app on the same database whose clock (PPRFLOW_WEB_TODAY) stands three weeks ahead."""
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    later = create_app(WebSettings(secret_key="test-secret-" + "x" * 40,
                                   today=dt.date.today() + dt.timedelta(days=21)), ctx=web_ctx)
    with TestClient(later, base_url="http://127.0.0.1") as c:
        yield c


def test_minutes_on_the_meeting_day_through_the_injectable_clock_MEET_2(  # noqa: D103
        client: TestClient, on_the_meeting_day: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _new_case(client)
    page = _schedule(client, case_id)
    meeting_id = _meeting_id(page.text)
    early = client.post(f"/moeder/{meeting_id}/referat", data={
        "csrf_token": csrf(page.text), "action_1_text": "Ugentlig samtale", "action_1_responsible": world.TEACHER})
    assert "Referatet er ikke gemt" in early.text, "today's clock: the meeting has not been held"
    later = on_the_meeting_day
    sign_in(later, world.LEADER)
    shown = later.get(f"/moeder/{meeting_id}")
    done = later.post(f"/moeder/{meeting_id}/referat", data={
        "csrf_token": csrf(shown.text), "action_1_text": "Ugentlig samtale", "action_1_responsible": world.TEACHER})
    assert "Referatet er gemt med 1 aftaler" in done.text
    follow = later.get(f"/sager/{case_id}/moeder/ny")
    earliest = re.search(r'id="date" name="date" value="([^"]+)"', follow.text).group(1)  # type: ignore[union-attr]
    assert dt.date.fromisoformat(earliest) > dt.date.today() + dt.timedelta(days=21), "CAL-2 from the app's today"
