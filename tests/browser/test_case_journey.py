"""The case's journey in real Chromium (issue 19), axe-core on every page of part 2: 0 WCAG 2.1 A/AA violations.

Two `pprflow web` processes on one database: one on today's date and one whose injectable clock
(`PPRFLOW_WEB_TODAY`) stands three weeks ahead, on the day after the meeting (the session cookie is valid on
both: same host, same signing key). A leader's referral becomes a case; on its page (PRIV-1, PRIV-3) the network
map gets a row (MEET-5); a development meeting is planned at the earliest date CAL-2 allows, its first-meeting form
filled in and the agenda sent with the calendar invite, which an independent iCalendar parser (`icalendar`) reads
(MEET-3); three weeks on the minutes are recorded with an action and one responsible person (MEET-2), and the
follow-up meeting shows it to follow up; the case escalates to level 3 (LVL-1), a first level-3 meeting is
planned, the referral's consent is withdrawn and a second level-3 meeting is refused until a consent is recorded
(LVL-4); a partner joins on the consent that names them (CONS-1, LAW-3) and reads the case; the coordinator hands
over (ROLE-1); the consent is withdrawn after its consequences were shown and the partner loses access (CONS-1).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.test_web import PPRFLOW, browser, check, free_port, sign_in  # noqa: F401 - fixtures of part 1
from tests.web import world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

PARTNER = "sune@sund.example"
LATER = dt.timedelta(days=21)


def _start(home: Path, url: str, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    drop = {"PREFECT_API_URL", "PPRFLOW_USER", "PPRFLOW_DATABASE_URL", "PPRFLOW_PROFILE", "PPRFLOW_WEB_TODAY"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "PPRFLOW_HOME": str(home), "PPRFLOW_DATABASE_URL": url, "PPRFLOW_PROFILE": "vejle",
        "PPRFLOW_TRANSPORT": "file", "PPRFLOW_WEB_SECRET_KEY": "journey-test-" + "k" * 40, **extra}
    log = home / f"web-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(PPRFLOW), "web", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"pprflow web did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(today's app, the app three weeks on, the database URL); the web tests' staff and a health visitor."""
    from sqlmodel import Session

    from pprflow.db import get_engine, upgrade
    from pprflow.web.accounts import set_password
    from tests import factories

    home = tmp_path_factory.mktemp("journey")
    url = f"sqlite:///{home / 'pprflow.db'}"
    upgrade(url)
    engine = get_engine(url)
    world.build(engine)
    with Session(engine) as session:
        factories.staff(session, PARTNER, "health_visitor", name="Sune Sundhed")
        session.commit()
    set_password(engine, actor=world.ADMIN, email=PARTNER, password=world.PASSWORD)
    now, base = _start(home, url, {})
    later_day = (dt.date.today() + LATER).isoformat()
    later, base_later = _start(home, url, {"PPRFLOW_WEB_TODAY": later_day})
    yield base, base_later, url
    for process in (now, later):
        process.terminate()
        process.wait(timeout=20)


def _alerts(page: Any) -> list[str]:
    return re.findall(r'alert-text">([^<]+)', page.content())


def _invite(url: str, meeting_id: int) -> Any:
    import icalendar
    from sqlmodel import Session, select

    from pprflow.db import get_engine
    from pprflow.models.tables import OutboxAttachment, OutboxMessage

    with Session(get_engine(url)) as session:
        message = session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "network_agenda",
            OutboxMessage.idempotency_key.contains(f"meeting:{meeting_id}:agenda"))).first()  # type: ignore[attr-defined]
        assert message is not None
        attachment = session.exec(select(OutboxAttachment).where(OutboxAttachment.message_id == message.id)).one()
        return next(iter(icalendar.Calendar.from_ical(attachment.content).walk("VEVENT")))


def _schedule(page: Any, base: str, case_id: str, *, kind: str = "development", level: str = "",
              days_after_earliest: int = 0) -> None:
    page.goto(f"{base}/sager/{case_id}/moeder/ny")
    page.locator("#kind").select_option(kind)
    if level:
        page.locator("#level").select_option(level)
    if days_after_earliest:
        earliest = dt.date.fromisoformat(page.locator("#date").input_value())
        page.locator("#date").fill((earliest + dt.timedelta(days=days_after_earliest)).isoformat())
    page.locator("#address").fill("Skovbakkevej 1, 7100 Vejle")
    page.locator("#leader_phone").fill("+45 75 00 00 00")
    page.get_by_role("button", name="Planlæg mødet").click()


def test_case_journey_in_chromium_with_axe(browser: Any, servers: tuple[str, str, str]) -> None:  # noqa: F811
    base, later, url = servers
    leader = sign_in(browser, base, world.LEADER)
    leader.get_by_role("link", name="Ny henvendelse").first.click()
    leader.get_by_role("link", name="PPR – individforløb").click()
    for name, value in world.individual_form().items():
        leader.locator(f"#{name}").fill(value)
    leader.get_by_role("button", name="Send henvendelsen").click()
    case_id = re.search(r"sag (\d+)", leader.get_by_role("heading", level=1).inner_text()).group(1)  # type: ignore[union-attr]
    leader.get_by_role("link", name="Vores sager").first.click()
    leader.get_by_role("link", name=case_id, exact=True).click()
    assert leader.url.endswith(f"/sager/{case_id}")

    # MEET-5: the network map, structured rows on the case
    leader.locator("summary", has_text="Tilføj person på netværkskortet").click()
    leader.locator("#n_name").fill("Birthe Berg")
    leader.locator("#n_relation").fill("mormor")
    leader.locator("#n_circle").select_option("family")
    leader.get_by_role("button", name="Tilføj på netværkskortet").click()
    assert "Birthe Berg er tilføjet netværkskortet" in leader.content()
    check(leader, "20-sagen")

    # a development meeting at the earliest date CAL-2 allows; the first-meeting form (MEET-3); agenda + invite
    leader.get_by_role("link", name="Planlæg møde").click()
    check(leader, "21-planlaeg-moede")
    assert "Tidligste dato er" in leader.content()
    _schedule(leader, base, case_id)
    assert "Mødet er planlagt" in leader.content(), _alerts(leader)
    meeting_id = int(re.search(r"/moeder/(\d+)", leader.url).group(1))  # type: ignore[union-attr]
    assert "Skema til første møde (MEET-3)" in leader.content()
    leader.locator("#a_background").fill("Eleven trækker sig i frikvartererne.")
    leader.locator("#a_question").fill("Hvordan får vi ro i frikvartererne?")
    leader.get_by_role("button", name="Gem skemaet").click()
    assert "Skemaet er gemt" in leader.content(), _alerts(leader)
    check(leader, "22-moedet")
    leader.get_by_role("button", name="Send dagsorden med kalenderinvitation").click()
    assert "Dagsordenen er sendt med kalenderinvitation" in leader.content()
    event = _invite(url, meeting_id)
    meeting_day = event.decoded("dtstart").date()
    assert dt.date.today() < meeting_day < dt.date.today() + LATER
    assert "Hvordan får vi ro i frikvartererne?" in str(event.get("description")), "the form in the invite"

    # three weeks on (the app's injectable clock): the minutes with an action, one responsible (MEET-2)
    leader.goto(f"{later}/moeder/{meeting_id}")
    check(leader, "23-referat")
    leader.locator("#action_1_text").fill("Ugentlig samtale med eleven")
    leader.locator("#action_1_responsible").fill(world.TEACHER)
    leader.get_by_role("button", name="Gem og send referatet").click()
    assert "Referatet er gemt med 1 aftaler" in leader.content(), _alerts(leader)
    _schedule(leader, later, case_id)
    assert "Mødet er planlagt" in leader.content(), _alerts(leader)
    assert "Opfølgning på aftaler fra sidste møde" in leader.content()
    assert "Ugentlig samtale med eleven" in leader.content() and "Skema til opfølgende møde" in leader.content()
    check(leader, "24-opfoelgningsmoede")

    # level 3; a first level-3 meeting; without consent a second one is refused (LVL-4)
    leader.goto(f"{later}/sager/{case_id}")
    for to in ("2", "3"):
        leader.locator("summary", has_text="Skift niveau").click()
        leader.locator("#to").select_option(to)
        leader.get_by_role("button", name="Skift niveau").click()
        assert f"Niveauet er nu Niveau {to}" in leader.content(), _alerts(leader)
    _schedule(leader, later, case_id, kind="network", level="3", days_after_earliest=1)
    assert "Mødet er planlagt" in leader.content(), _alerts(leader)
    leader.goto(f"{later}/sager/{case_id}")
    leader.get_by_role("link", name=re.compile("Træk samtykke .* tilbage")).first.click()
    leader.get_by_role("button", name="Bekræft: træk samtykket tilbage").click()
    _schedule(leader, later, case_id, kind="network", level="3", days_after_earliest=8)
    assert "LVL-4" in leader.content() and "Mødet er ikke planlagt" in leader.content(), _alerts(leader)
    check(leader, "25-andet-moede-paa-niveau-3-afvist")
    leader.goto(f"{later}/sager/{case_id}")
    leader.locator("summary", has_text="Registrér nyt samtykke").click()
    leader.locator("#given_by").fill(world.individual_form()["parent1_name"])
    leader.locator("#date").fill(dt.date.today().isoformat())
    leader.locator("#information").fill("Trivsel og skolegang")
    leader.locator("#recipients").fill("PPR Vejle, Sundhedsplejen")
    leader.locator("#purpose").fill("Tværfaglige netværksmøder")
    leader.get_by_role("button", name="Registrér samtykke").click()
    assert "Samtykket er registreret" in leader.content(), _alerts(leader)
    _schedule(leader, later, case_id, kind="network", level="3", days_after_earliest=8)
    assert "Mødet er planlagt" in leader.content(), _alerts(leader)

    # a partner on the consent that names them (CONS-1, LAW-3) reads the case
    leader.goto(f"{later}/sager/{case_id}")
    leader.locator("summary", has_text="Tilføj samarbejdspartner").click()
    leader.locator("#p-name").fill("Sune Sundhed")
    leader.locator("#p-email").fill(PARTNER)
    leader.locator("#p-consent").select_option(index=1)
    leader.get_by_role("button", name="Tilføj samarbejdspartner").click()
    assert "Sune Sundhed er tilføjet" in leader.content(), _alerts(leader)
    partner = sign_in(browser, later, PARTNER)
    partner.goto(f"{later}/sager/{case_id}")
    assert "Elev K-417" in partner.content(), "on the case while the consent stands"

    # the coordinator hands over (ROLE-1); the consent is withdrawn and the partner loses access (CONS-1)
    leader.goto(f"{later}/sager/{case_id}")
    leader.locator("#new-coordinator").fill(world.TEACHER)
    leader.get_by_role("button", name="Overdrag tovholderrollen").click()
    assert f"{world.TEACHER} er nu tovholder" in leader.content(), _alerts(leader)
    check(leader, "26-sagen-efter-overdragelse")
    leader.get_by_role("link", name=re.compile("Træk samtykke .* tilbage")).first.click()
    assert "Sune Sundhed" in leader.content() and "mister adgangen" in leader.content()
    check(leader, "27-traek-samtykke-tilbage")
    leader.get_by_role("button", name="Bekræft: træk samtykket tilbage").click()
    assert "trukket tilbage: modtager intet" in leader.content()
    partner.goto(f"{later}/sager/{case_id}")
    assert "Elev K-417" not in partner.content(), "CONS-1: the partner has lost access"
    leader.goto(f"{later}/sager/{case_id}/tidslinje")
    check(leader, "28-tidslinje")
    leader.goto(f"{base}/kv")
    check(leader, "29-kv")

    stranger = sign_in(browser, base, world.STRANGER)
    stranger.goto(f"{base}/sager/{case_id}")
    assert "Elev K-417" not in stranger.content()

    admin = sign_in(browser, base, world.ADMIN)
    admin.goto(f"{base}/admin/medarbejdere")
    check(admin, "30-medarbejderkartotek")
    admin.goto(f"{base}/admin/post")
    check(admin, "31-postens-tilstand")
