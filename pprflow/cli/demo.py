"""`pprflow demo`: a newcomer's first five minutes — a synthetic municipality, several weeks of it.

Writes the Demo Kommune profile (`.example` mailboxes only) under PPRFLOW_HOME/demo, submits a mix
of referrals and simulates the weeks up to today day by day (tasks/demo.py), with a progress bar.
Mail goes to the file transport (.eml under PPRFLOW_HOME/mail) whatever PPRFLOW_TRANSPORT says.

Plain service calls by default (fast, no server); real flow runs when a Prefect server is configured
(PREFECT_API_URL, e.g. next to `pprflow serve`), so the dashboard shows the runs and the artifacts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit
from pprflow.models.errors import InvalidInput

MAX_WEEKS = 26


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the demo's flow runs and put the old values back afterwards."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _demo_flow_runs(home: Path) -> Iterator[None]:
    """Flow runs for the demo without the heartbeat thread: each run would wait ~1 s for it at exit
    (measured here: 1.11 s vs 0.18 s per run). The environment variable cannot unset it; settings can.
    Whatever Prefect would store locally (result storage) stays under the demo's own PPRFLOW_HOME."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # read when Prefect is first imported
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                                     PREFECT_LOCAL_STORAGE_PATH: home / "prefect" / "storage"}):
        yield


def demo(
    weeks: Annotated[int, typer.Option(min=1, max=MAX_WEEKS, help="Antal uger der simuleres (frem til i dag).")] = 4,
    seed: Annotated[int, typer.Option(help="Tilfældighedsfrø: samme frø giver samme kommune.")] = 2026,
    fast: Annotated[bool, typer.Option(
        "--fast", help="Altid direkte kald, også når en Prefect-server er sat op (ingen flow-kørsler).")] = False,
    today: Annotated[str | None, typer.Option(help="Sidste simulerede dag, ÅÅÅÅ-MM-DD (standard: i dag).")] = None,
) -> None:
    """Demo: en syntetisk kommune og flere ugers henvisninger, møder og mails — på fem minutter."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from pprflow.cli.runner import prefect_server_configured
    from pprflow.db import upgrade
    from pprflow.models.calendar import WorkingCalendar, local_today
    from pprflow.profiles import load_profile
    from pprflow.tasks import demo as script
    from pprflow.tasks.context import Ctx

    try:
        last_day = dt.date.fromisoformat(today) if today else local_today()
    except ValueError:
        raise InvalidInput(f"--today {today!r} is not a date, e.g. 2026-12-10") from None
    home = STATE.settings.home.resolve()
    url = STATE.url()
    world = script.make_world(seed)
    profile_path = script.write_demo_profile(home, world)
    profile = load_profile(str(profile_path))
    mail_dir = home / "mail"
    upgrade(url)
    with_flows = prefect_server_configured() and not fast
    env = {"PPRFLOW_HOME": str(home), "PPRFLOW_DATABASE_URL": url, "PPRFLOW_PROFILE": str(profile_path),
           "PPRFLOW_TRANSPORT": "file", "PPRFLOW_MAIL_DIR": str(mail_dir),
           # The file transport has no server limits; a simulated month is delivered in a real minute.
           "PPRFLOW_THROTTLE_PER_MINUTE": "1000000"}
    ctx = Ctx(engine=STATE.engine(), profile=profile, actor="system:demo")
    script.seed_directory(ctx, world)  # PRIV-4: every demo person is a known member before acting
    sign_ins = _demo_passwords(ctx, world, script.ADMIN)  # the web app: sign in as each kind of user
    calendar = WorkingCalendar.for_profile(profile)
    days = script.simulation_days(last_day, weeks)
    events = script.build_script(world, calendar, days=days, seed=seed)
    err = Console(stderr=True)
    err.print(f"[bold]{profile.display_name}[/] (syntetisk, frø {seed}): {weeks} uger "
              f"{days[0].isoformat()} – {days[-1].isoformat()}, "
              f"{'flow-kørsler på ' + os.environ.get('PREFECT_API_URL', '') if with_flows else 'direkte kald'}")
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=False)
    with _environment(env), progress, (_demo_flow_runs(home) if with_flows else contextlib.nullcontext()):
        bar = progress.add_task("starter", total=len(events))

        def on_step(event: script.Event, label: str) -> None:
            progress.update(bar, description=f"{event.day.strftime('%d-%m')} {label:<34}")

        def step_done(event: script.Event) -> None:
            progress.advance(bar)

        state = script.run_script(ctx, events, call=script.call_flow if with_flows else script.call_service,
                                  on_step=on_step, on_event=step_done)
    table = Table(title=f"{profile.display_name}: {weeks} uger simuleret", show_header=False)
    for what, value in script.summary_rows(ctx, state, mail_dir):
        table.add_row(what, value)
    Console().print(table)
    for line in state.refusals[:5]:
        emit(f"afvist efter reglerne: {line}")
    api = os.environ.get("PREFECT_API_URL", "")
    emit(f"Mails (.eml):  {mail_dir}")
    emit(f"Profil:        {profile_path}")
    emit(f"Udbakken:      pprflow --profile {profile_path} --as {script.ADMIN} outbox list")
    for role, email in sign_ins:
        emit(f"Webapp:        {role}: {email} / adgangskode {DEMO_PASSWORD}  (pprflow --profile {profile_path} web)")
    if with_flows:
        dashboard = api.rstrip("/").removesuffix("/api")
        emit(f"Dashboard:     {dashboard}  (flow-kørsler og artefakterne frister-<distrikt>)")
    else:
        emit(f"Dashboard:     pprflow --profile {profile_path} serve, og kør demoen igen i et andet vindue med "
             f"PREFECT_API_URL=http://127.0.0.1:4200/api")


DEMO_PASSWORD = "demo-adgangskode"
"""The demo's synthetic staff sign in to the web app with this password (demo data only, .example addresses)."""


def _demo_passwords(ctx: Any, world: Any, admin: str) -> list[tuple[str, str]]:
    """A leader, a PPR employee and the administrator of the demo get a local password (issue 18)."""
    from pprflow.web.accounts import set_password

    school = world.institutions[0]
    ppr = next(iter(world.ppr_staff.values()))[0]
    people = [("leder", school.leader.email), ("PPR", ppr.email), ("administrator", admin)]
    for _, email in people:
        set_password(ctx.engine, actor=admin, email=email, password=DEMO_PASSWORD)
    return people
