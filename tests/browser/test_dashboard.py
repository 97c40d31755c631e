"""The main job for real: `pprflow serve` on a free port (the test harness serves no UI), a short demo
through real flow runs against it, the dashboard in headless Chromium, and a clean stop on SIGTERM.

Chromium is Debian's (/usr/bin/chromium, installed by scripts/setup.sh), driven by Playwright for
Python; no browser is ever downloaded. The screenshot goes to artifacts/dashboard.png (gitignored).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pprflow.tasks.demo import make_world, write_demo_profile

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]

PPRFLOW = Path(sys.executable).parent / "pprflow"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts"
SEED = 7
LAST_DAY = "2026-11-20"  # a Friday


@dataclass
class Served:
    url: str
    api: str
    home: Path
    profile: Path
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the test session's Prefect or database settings leaks in."""
    drop = {"PREFECT_API_URL", "PREFECT_HOME", "PPRFLOW_DATABASE_URL", "PPRFLOW_PROFILE", "PPRFLOW_USER",
            "PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env | {"PPRFLOW_HOME": str(home), "PYTHONWARNINGS": "ignore"} | extra


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("main-job")
    profile = write_demo_profile(home, make_world(SEED))
    port = free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(PPRFLOW), "--profile", str(profile), "serve", "--port", str(port),
                                    "--web-port", str(free_port())],
                                   env=environment(home), stdout=out, stderr=subprocess.STDOUT)
    job = Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api", home, profile, process, log, port)
    deadline = time.monotonic() + 180
    while "Dashboard:" not in job.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"pprflow serve did not start:\n{job.output()[-3000:]}")
        time.sleep(0.5)
    yield job
    if process.poll() is None:  # the SIGTERM test did not run or failed
        process.kill()
        process.wait()


def api_post(served: Served, path: str, body: dict) -> list[dict]:
    response = httpx.post(f"{served.api}{path}", json={"limit": 200, "offset": 0, **body}, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def test_serve_migrates_and_serves_every_deployment_offline_without_telemetry(served: Served) -> None:
    from pprflow.db import current_revision

    assert current_revision(f"sqlite:///{served.home / 'pprflow.db'}") is not None  # pprflow's migrations
    assert (served.home / "prefect" / "prefect.db").exists()  # Prefect's SQLite under PPRFLOW_HOME
    assert f"Dashboard: {served.url}" in served.output()
    settings = httpx.get(f"{served.api}/admin/settings", timeout=10).json()
    assert settings["server"]["analytics_enabled"] is False
    assert settings["server"]["ui"]["api_url"] == served.api
    deployments = {d["name"]: d for d in api_post(served, "/deployments/filter", {})}
    scheduled = {name: [s["schedule"] for s in d["schedules"]] for name, d in deployments.items() if d["schedules"]}
    assert scheduled["arbejdsdage-0630"] == [{"cron": "30 6 * * 1-5", "timezone": "Europe/Copenhagen",
                                              "day_or": True}]
    assert scheduled["hvert-5-minut-i-arbejdstiden"][0]["cron"] == "*/5 7-17 * * 1-5"
    assert {"ugentlig-kv-cyklus", "dagen-foer-distriktsmoedet", "ugentlig-sletning"} <= set(scheduled)
    assert all(s["timezone"] == "Europe/Copenhagen" for schedules in scheduled.values() for s in schedules)
    # the human steps are forms: no schedule, the parameters' schema for the UI
    assert "formular" in deployments and not deployments["formular"]["schedules"]
    assert deployments["formular"]["parameter_openapi_schema"]["properties"]


def test_the_scheduler_plans_the_morning_sweep_at_0630_copenhagen(served: Served) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    (deployment,) = [d for d in api_post(served, "/deployments/filter", {}) if d["name"] == "arbejdsdage-0630"]
    runs: list[dict] = []
    deadline = time.monotonic() + 30
    while not runs and time.monotonic() < deadline:
        runs = api_post(served, "/flow_runs/filter", {"deployments": {"id": {"any_": [deployment["id"]]}},
                                                      "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                                                      "sort": "EXPECTED_START_TIME_ASC"})
        time.sleep(1)
    # With SQLAlchemy 2.1 Prefect 3.8's scheduler created none at all (hence sqlalchemy<2.1 in pyproject.toml).
    assert runs, "no scheduled run: the server's scheduler does not work"
    for run in runs:
        start = dt.datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo("Europe/Copenhagen"))
        assert (start.hour, start.minute) == (6, 30) and start.weekday() < 5, start


def test_the_demo_runs_as_real_flow_runs_against_the_main_job(served: Served) -> None:
    result = subprocess.run(
        [str(PPRFLOW), "demo", "--weeks", "1", "--seed", str(SEED), "--today", LAST_DAY],
        env=environment(served.home, PREFECT_API_URL=served.api), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Flow-kørsler" in result.stdout and f"Dashboard:     {served.url}" in result.stdout
    names = {r["key"] for r in api_post(served, "/artifacts/latest/filter", {})}
    # the demo's artifacts carry its own keys (profile artifact_prefix), apart from a real municipality's (issue 17)
    assert "demo-daglig-gennemgang" in names and any(n.startswith("demo-frister-") for n in names)
    assert not any(n == "daglig-gennemgang" or n.startswith("frister-") for n in names)


@pytest.mark.browser
def test_the_dashboard_shows_the_flow_runs_and_the_deadline_table_in_chromium(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    latest = {a["key"]: a for a in api_post(served, "/artifacts/latest/filter", {})}
    table_key = sorted(k for k in latest if k.startswith("demo-frister-"))[0]
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{served.url}/runs")
        expect(page.get_by_text("morgen-gennemgang").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("henvendelse-modtag").first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "dashboard-runs.png"))
        page.goto(f"{served.url}/artifacts")
        expect(page.get_by_text(table_key).first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("demo-daglig-gennemgang").first).to_be_visible()
        page.goto(f"{served.url}/artifacts/artifact/{latest[table_key]['latest_id']}")
        for header in ("Frist", "Hvad", "Sag", "Status", "Påmindelse"):
            expect(page.get_by_text(header, exact=True).first).to_be_visible(timeout=30_000)
        body = page.inner_text("body")
        assert "Barn " not in body and "@" not in body  # case ids only: no child, no address
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
        browser.close()
    assert (SCREENSHOTS / "dashboard.png").stat().st_size > 10_000


def test_sigterm_pauses_the_schedules_and_stops_the_server(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0, served.output()[-3000:]
    assert "Prefect-serveren er stoppet" in served.output()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{served.api}/health", timeout=2)
