"""The case's journey in real Chromium (issue 19), axe-core on every page of part 2: 0 WCAG 2.1 A/AA violations.

A leader's referral becomes a case; on its page (PRIV-1, PRIV-3) a development meeting is planned at the earliest
date CAL-2 allows and its agenda sent with the calendar invite (MEET-3); the case escalates to level 3 (LVL-1);
consent is withdrawn after its consequences were shown and the partner loses access (CONS-1); the coordinator
hands over (ROLE-1); the administrator's directory, mail health and the KV page. Minutes need the meeting's day
to have come and are tested with a moved clock in tests/web/test_case_pages.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_web import browser, check, sign_in, web_url  # noqa: F401 - fixtures and helpers of part 1
from tests.web import world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_case_journey_in_chromium_with_axe(browser: Any, web_url: str) -> None:  # noqa: F811
    base = web_url
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
    check(leader, "20-sagen")

    # a partner on the consent, so withdrawing it has a consequence to show
    leader.locator("summary", has_text="Tilføj samarbejdspartner").click()
    leader.locator("#p-name").fill("Sune Sundhed")
    leader.locator("#p-email").fill("sune@sund.example")
    leader.locator("#p-consent").select_option(index=1)
    leader.get_by_role("button", name="Tilføj samarbejdspartner").click()
    assert "Sune Sundhed er tilføjet" in leader.content()

    leader.get_by_role("link", name="Planlæg møde").click()
    check(leader, "21-planlaeg-moede")
    assert "Tidligste dato er" in leader.content()
    leader.locator("#address").fill("Skovbakkevej 1, 7100 Vejle")
    leader.locator("#leader_phone").fill("+45 75 00 00 00")
    leader.get_by_role("button", name="Planlæg mødet").click()
    assert "Mødet er planlagt" in leader.content(), leader.content()[-3000:]
    check(leader, "22-moedet")
    leader.get_by_role("button", name="Send dagsorden med kalenderinvitation").click()
    assert "Dagsordenen er sendt med kalenderinvitation" in leader.content()

    leader.goto(f"{base}/sager/{case_id}")
    for to in ("2", "3"):
        leader.locator("summary", has_text="Skift niveau").click()
        leader.locator("#to").select_option(to)
        leader.get_by_role("button", name="Skift niveau").click()
        assert f"Niveauet er nu Niveau {to}" in leader.content()

    leader.get_by_role("link", name=re.compile("Træk samtykke .* tilbage")).first.click()
    assert "Sune Sundhed" in leader.content() and "mister adgangen" in leader.content()
    check(leader, "23-traek-samtykke-tilbage")
    leader.get_by_role("button", name="Bekræft: træk samtykket tilbage").click()
    assert "trukket tilbage: modtager intet" in leader.content()

    leader.locator("#new-coordinator").fill(world.TEACHER)
    leader.get_by_role("button", name="Overdrag tovholderrollen").click()
    assert f"{world.TEACHER} er nu tovholder" in leader.content()
    check(leader, "24-sagen-efter-overdragelse")
    leader.goto(f"{base}/kv")
    check(leader, "25-kv")

    stranger = sign_in(browser, base, world.STRANGER)
    stranger.goto(f"{base}/sager/{case_id}")
    assert "Elev K-417" not in stranger.content()

    admin = sign_in(browser, base, world.ADMIN)
    admin.goto(f"{base}/admin/medarbejdere")
    check(admin, "26-medarbejderkartotek")
    admin.goto(f"{base}/admin/post")
    check(admin, "27-postens-tilstand")
