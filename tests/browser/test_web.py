"""The Danish web app in real Chromium (issue 18): `pprflow web` as a subprocess on loopback, Debian's chromium
driven by Playwright, axe-core (npm, node_modules) injected into every page: 0 WCAG 2.1 A/AA violations.

The journey: a leader signs in, sees a refused referral explained at its field (PATH-3), submits it, a teacher
reports a suspicion of abuse (ESC-1), the administrator sees the case on "I dag" and assigns it (PATH-4) and
plans district meetings across Christmas (CAL-5), a leader of another school sees none of it (PRIV-3).
Screenshots of every page go to tests/browser/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web import world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
PPRFLOW = Path(sys.executable).parent / "pprflow"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--lang=da-DK"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pprflow web` on a migrated SQLite database holding the web tests' staff (with passwords)."""
    from pprflow.db import get_engine, upgrade

    home = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{home / 'pprflow.db'}"
    upgrade(url)
    world.build(get_engine(url))
    port, idp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    issuer = start_provider(home, idp_port, f"{base}/auth/callback")
    drop = {"PREFECT_API_URL", "PPRFLOW_USER", "PPRFLOW_DATABASE_URL", "PPRFLOW_PROFILE"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "PPRFLOW_HOME": str(home), "PPRFLOW_DATABASE_URL": url, "PPRFLOW_PROFILE": "vejle",
        "PPRFLOW_TRANSPORT": "file", "PPRFLOW_WEB_SECRET_KEY": "browser-test-" + "k" * 40,
        "PPRFLOW_WEB_OIDC_ISSUER": issuer, "PPRFLOW_WEB_OIDC_CLIENT_ID": CLIENT_ID,
        "PPRFLOW_WEB_OIDC_CLIENT_SECRET": CLIENT_SECRET}
    log = home / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(PPRFLOW), "web", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"pprflow web did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=20)
    for idp in PROVIDERS:
        idp.terminate()
        idp.wait(timeout=20)


CLIENT_ID = "pprflow-web"
CLIENT_SECRET = "test-only-" + "c" * 32
PROVIDERS: list[subprocess.Popen[bytes]] = []


def start_provider(home: Path, port: int, redirect_uri: str) -> str:
    """A real OpenID provider (npm oidc-provider on Node) on loopback: tests/support/oidc_provider.js."""
    script = ROOT / "tests" / "support" / "oidc_provider.js"
    assert (ROOT / "node_modules" / "oidc-provider").exists(), "oidc-provider missing: run npm ci (scripts/setup.sh)"
    log = home / "oidc.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["node", str(script), str(port), CLIENT_ID, CLIENT_SECRET, redirect_uri],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    PROVIDERS.append(process)
    deadline = time.monotonic() + 30
    while "ready " not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"oidc-provider did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def check(page: Any, name: str) -> None:
    """axe-core on the page as it is: 0 WCAG 2.1 A/AA violations; then a screenshot."""
    assert AXE.exists(), "axe-core missing: run npm ci (scripts/setup.sh)"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert problems == [], f"{name}: {problems}"


def sign_in(browser: Any, base: str, email: str, shot: str | None = None) -> Any:
    page = browser.new_page(locale="da-DK")
    page.goto(f"{base}/")
    assert "/login" in page.url
    if shot:
        check(page, shot)
    page.get_by_label("Arbejdsmail").fill(email)
    page.get_by_label("Adgangskode").fill(world.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base}/")
    return page


def test_leader_teacher_coordinator_and_stranger_in_chromium_with_axe(browser: Any, web_url: str) -> None:
    base = web_url
    page = browser.new_page(locale="da-DK")
    page.goto(f"{base}/tilgaengelighed")
    check(page, "01-tilgaengelighedserklaering")
    page.close()

    leader = sign_in(browser, base, world.LEADER, shot="02-log-ind")
    check(leader, "03-forside-leder")
    leader.get_by_role("link", name="Ny henvendelse").first.click()
    check(leader, "04-ny-henvendelse")
    leader.get_by_role("link", name="PPR – individforløb").click()
    check(leader, "05-individforloeb")
    for name, value in world.individual_form(plan_community="").items():
        field = leader.locator(f"#{name}")
        field.fill(value)
    leader.get_by_role("button", name="Send henvendelsen").click()
    error = leader.locator("#plan_community-error")
    assert "Fællesskabet først" in error.inner_text() and "(PATH-3)" in error.inner_text()
    check(leader, "06-afvist-ved-feltet")
    leader.locator("#plan_community").fill(world.individual_form()["plan_community"])
    leader.get_by_role("button", name="Send henvendelsen").click()
    heading = leader.get_by_role("heading", level=1).inner_text()
    case_id = re.search(r"sag (\d+)", heading).group(1)  # type: ignore[union-attr]
    assert "Det sker nu" in leader.content()
    check(leader, "07-henvendelse-modtaget")
    leader.get_by_role("link", name="Vores sager").first.click()
    assert "Elev K-417" in leader.content()
    check(leader, "08-vores-sager")

    teacher = sign_in(browser, base, world.TEACHER)
    teacher.get_by_role("link", name="Underret om mistanke om vold eller overgreb").first.click()
    check(teacher, "09-underretning")
    teacher.locator("#child_name").fill("Test Barn")
    teacher.locator("#observation").fill("Blå mærker på begge overarme.")
    teacher.get_by_role("button", name="Send underretningen nu").click()
    assert "Underretningen er sendt" in teacher.get_by_role("heading", level=1).inner_text()
    check(teacher, "10-underretning-sendt")

    admin = sign_in(browser, base, world.ADMIN)
    admin.get_by_role("link", name="I dag").first.click()
    assert f"Sag {case_id}" in admin.content()
    check(admin, "11-i-dag")
    admin.get_by_label(f"PPR-medarbejder til sag {case_id}").select_option(world.PSYCHOLOGIST)
    admin.get_by_role("button", name=f"Tildel sag {case_id}").click()
    assert f"Sag {case_id} er tildelt" in admin.content()
    check(admin, "12-tildelt")
    admin.get_by_role("link", name="Distriktsmøder").first.click()
    admin.get_by_label("Første mulige dato").fill("2026-12-14")
    admin.get_by_label("Antal møder").fill("4")
    admin.get_by_role("button", name="Planlæg møderne").click()
    assert "Flyttet fra en lukkedag (CAL-5)" in admin.content()
    check(admin, "13-distriktsmoeder")
    first = admin.locator("details").first  # move ONE meeting: a closed day is refused in Danish (CAL-5)
    first.locator("summary").click()
    first.get_by_label("Ny dato").fill("2026-12-25")
    first.get_by_label("Hvorfor flyttes mødet?").fill("Sygdom i teamet")
    first.get_by_role("button", name="Flyt mødet").click()
    assert "Mødet er ikke flyttet: 25.12.2026 er en lukkedag" in admin.content()
    first = admin.locator("details").first
    first.locator("summary").click()
    first.get_by_label("Ny dato").fill("2026-12-16")
    first.get_by_label("Hvorfor flyttes mødet?").fill("Sygdom i teamet")
    first.get_by_role("button", name="Flyt mødet").click()
    assert "Mødet er flyttet" in admin.content() and "16. december 2026" in admin.content()
    admin.locator("details").first.locator("summary").click()
    check(admin, "13b-distriktsmoede-flyt")  # axe with the move/cancel forms open
    admin.goto(f"{base}/admin/kv-moeder")
    admin.get_by_label("Skole eller dagtilbud").select_option("Skovbakkeskolen")
    admin.get_by_label("Første KV-dato").fill("2027-01-11")
    admin.get_by_label("Antal møder").fill("3")
    admin.get_by_role("button", name="Planlæg KV-møderne").click()
    assert "KV-møder planlagt for Skovbakkeskolen" in admin.content()
    kv = admin.locator("details").first
    kv.locator("summary").click()
    kv.get_by_label("Hvorfor aflyses mødet?").fill("Temadag")
    kv.get_by_role("button", name="Aflys mødet").click()
    assert "Mødet er aflyst" in admin.content() and "Aflyst" in admin.content()
    check(admin, "13c-kv-moeder")

    stranger = sign_in(browser, base, world.STRANGER)
    stranger.get_by_role("link", name="Vores sager").first.click()
    assert "Elev K-417" not in stranger.content() and f"Sag {case_id}" not in stranger.content()
    check(stranger, "14-fremmed-leder")
    for p in (leader, teacher, admin, stranger):
        p.close()


def test_a_referral_by_keyboard_alone(browser: Any, web_url: str) -> None:
    """WCAG 2.1.1: sign in and send a learning-environment referral with the keyboard only."""
    from tests.referral_data import PLAN

    page = browser.new_page(locale="da-DK")
    page.goto(f"{web_url}/login")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent").strip() == "Gå til sidens indhold"
    page.locator("#email").focus()
    page.keyboard.type(world.LEADER)
    page.keyboard.press("Tab")
    page.keyboard.type(world.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{web_url}/")
    page.goto(f"{web_url}/henvendelse/ny/ppr_learning_environment")
    page.locator("#group").focus()
    answers = ["5.A", PLAN["context"], PLAN["goal"], PLAN["signs"], PLAN["measures"], PLAN["evaluation"],
               PLAN["community_measures"], None, "Uro i klassen i overgangene."]  # None: no file attached
    for i, text in enumerate(answers):
        if text is not None:
            page.keyboard.type(text)
        if i < len(answers) - 1:
            page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # to the submit button
    assert page.evaluate("document.activeElement.textContent").strip() == "Send henvendelsen"
    page.keyboard.press("Enter")
    # the answer page, waited for (wait_for_load_state() can return before the POST's navigation begins)
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_contain_text("Henvendelsen er modtaget", timeout=30_000)
    page.close()


def _sign_in_at_provider(browser: Any, base: str, email: str) -> Any:
    page = browser.new_page(locale="da-DK")
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Log ind med kommunens konto").click()
    page.locator("input[name=login]").fill(email)  # the provider's development sign-in page
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if page.url.startswith(base):
        return page
    page.locator("button[type=submit]").click()  # the provider's consent page ("Continue")
    page.wait_for_url(f"{base}/**")
    return page


def test_sign_in_through_the_municipal_openid_provider(browser: Any, web_url: str) -> None:
    """OpenID Connect with Authlib against a real provider; the role comes from the staff directory (PRIV-4)."""
    page = _sign_in_at_provider(browser, web_url, world.LEADER)
    assert page.url == f"{web_url}/"
    assert f"{world.LEADER} (Skoleleder)" in page.content()
    check(page, "15-logget-ind-via-idp")
    page.close()


def test_an_identity_unknown_to_the_staff_directory_is_refused_PRIV_4(browser: Any, web_url: str) -> None:
    page = _sign_in_at_provider(browser, web_url, "ukendt@kommune.example")
    assert "ikke en aktiv medarbejder" in page.content()
    page.goto(f"{web_url}/sager")
    assert "/login" in page.url, "no session was made"
    page.close()
