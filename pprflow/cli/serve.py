"""`pprflow serve`: the main job. A local Prefect server, pprflow's migrations, every deployment served.

1. starts `prefect server start` as a child process: its database is SQLite under
   PPRFLOW_HOME/prefect (PREFECT_HOME too, so ~/.prefect is never touched), or PostgreSQL when
   PREFECT_API_DATABASE_CONNECTION_URL says so; analytics off and DO_NOT_TRACK=1 (a municipality
   cannot leak telemetry); the UI ships in the wheel and works offline;
2. waits for /api/health (a fresh SQLite database takes ~25 s to migrate, PostgreSQL ~14 s);
3. applies pprflow's own migrations (`pprflow db upgrade`);
4. serves every deployment (deployments/catalogue.py) in this process with `prefect.serve`: the
   schedules in Europe/Copenhagen and the human steps as forms in the UI;
5. on Ctrl-C or SIGTERM: stops serving (Prefect pauses the schedules), then stops the server.

Flow runs keep Prefect's heartbeat (every 180 s): a scheduled run every few minutes does not
notice the ~1 s each run waits for its heartbeat thread at exit, and the heartbeats let the server
tell a crashed run from a running one. (`pprflow demo` switches them off: it makes many short runs.)

Prefect is imported only inside the command, after the environment is set: commands that touch no
flow stay fast, and Prefect reads its settings from the environment once, at import.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit
from pprflow.models.errors import ConfigurationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4200
STARTUP_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 20.0

TELEMETRY_OFF: dict[str, str] = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
DATABASE_VARIABLES = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")


def connect_host(host: str) -> str:
    """Where this machine reaches a server listening on `host` (0.0.0.0 listens everywhere)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def base_url(host: str, port: int) -> str:
    h = connect_host(host)
    return f"http://[{h}]:{port}" if ":" in h else f"http://{h}:{port}"


def server_environment(home: Path, *, host: str, port: int, environ: Mapping[str, str]) -> dict[str, str]:
    """The Prefect settings for the server and for this process. Pure: returns the variables to set.

    A database URL already in the environment wins (PostgreSQL in production); otherwise SQLite
    under PPRFLOW_HOME/prefect.
    """
    prefect_home = (home / "prefect").resolve()
    api_url = f"{base_url(host, port)}/api"
    env = {"PREFECT_HOME": environ.get("PREFECT_HOME") or str(prefect_home), **TELEMETRY_OFF,
           "PREFECT_SERVER_UI_ENABLED": "true", "PREFECT_API_URL": api_url,
           "PREFECT_SERVER_API_HOST": host, "PREFECT_SERVER_API_PORT": str(port),
           # Where the browser finds the API; behind a DNS name or proxy set PREFECT_UI_API_URL yourself.
           "PREFECT_UI_API_URL": environ.get("PREFECT_UI_API_URL") or api_url}
    if not any(environ.get(name) for name in DATABASE_VARIABLES):
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
    return env


PAUSE_MARKER = "paused-by-shutdown.json"
"""The deployments `pprflow serve` itself paused when it stopped (see `keep_administrators_pauses`)."""

VACUUM_TYPES = "events,flow_runs"


def vacuum_environment(retention_days: int, environ: Mapping[str, str]) -> dict[str, str]:
    """Issue 20 (PRIV-2): Prefect's own vacuum deletes flow runs (with their parameters, logs and
    artifacts) and events older than the profile's retention; by default it keeps flow runs forever
    and events 7 days. A value already in the environment is the administrator's and wins."""
    seconds = str(retention_days * 86_400)
    wanted = {"PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": VACUUM_TYPES,
              "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": seconds,
              "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": f"P{retention_days}D"}  # a plain timedelta: ISO 8601
    return {name: value for name, value in wanted.items() if not environ.get(name)}


def uses_postgres(environ: Mapping[str, str]) -> bool:
    return any((environ.get(name) or "").startswith("postgresql") for name in DATABASE_VARIABLES)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in connect_host(host) else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host or "0.0.0.0", port))
        except OSError:
            return False
    return True


def wait_for_health(url: str, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Poll GET {url}/api/health until it answers 200; fail if the server process exits first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ConfigurationError(f"the Prefect server stopped while starting (exit code {process.returncode})")
        try:
            if httpx.get(f"{url}/api/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise ConfigurationError(f"the Prefect server did not answer on {url} within {timeout:.0f} s")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if `pprflow serve` itself is killed (no orphaned server)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(host: str, port: int, env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`prefect server start` in its own session: Ctrl-C reaches us first, and we stop it after serving."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server_env = {k: v for k, v in {**os.environ, **env}.items() if k != "PREFECT_API_URL"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port),
             "--analytics-off"],
            env=server_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )


def stop_server(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> int:
    """SIGTERM to the server's process group (uvicorn shuts down gracefully), SIGKILL if it hangs."""
    if process.poll() is not None:
        return process.returncode
    try:
        os.killpg(process.pid, signal.SIGTERM)
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()
    except ProcessLookupError:
        return process.wait()


_STOP_REQUESTED = threading.Event()


def _stop_on_signals() -> None:
    """Until serving starts, Ctrl-C and SIGTERM (systemd, docker stop) stop the job: the request is
    remembered (Prefect's synchronous calls swallow a KeyboardInterrupt) and interrupts what runs."""

    def handler(signum: int, frame: object) -> None:
        _STOP_REQUESTED.set()
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def _deployment_name(deployment: Any) -> str:
    return f"{deployment.flow_name}/{deployment.name}"


def keep_administrators_pauses(deployments: list[Any], marker: Path | None) -> list[str]:
    """Issue 20: an administrator's pause survives a restart.

    The runner pauses every schedule when it stops (pause_on_shutdown) and applying a deployment
    un-pauses it, so a plain restart would resume what an administrator paused. On a clean stop we
    write down which deployments *we* are about to pause (`record_our_pauses`); at start, a deployment
    the server has paused that is not on that list was paused by an administrator (or by nobody we
    know of after a crash, when the runner paused nothing): it is applied paused. Returns those names.
    """
    import json

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    ours: set[str] = set()
    if marker is not None and marker.exists():
        try:
            ours = set(json.loads(marker.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            ours = set()
    paused: list[Any] = []
    known = 0
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            try:
                existing = client.read_deployment_by_name(_deployment_name(deployment))
            except ObjectNotFound:
                continue
            known += 1
            if existing.paused:
                paused.append(deployment)
    if marker is not None and not marker.exists() and known and len(paused) == known:
        paused = []  # every one paused and no list: the stop of a version that kept none; resume all
    kept: list[str] = []
    for deployment in paused:
        if _deployment_name(deployment) not in ours:
            deployment.paused = True
            kept.append(_deployment_name(deployment))
    if marker is not None:
        marker.unlink(missing_ok=True)
    return kept


async def record_our_pauses(deployments: list[Any], marker: Path | None) -> None:
    """Before the runner pauses everything on its way out: which deployments are running now."""
    import json

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    if marker is None:
        return
    active: list[str] = []
    async with get_client() as client:
        for deployment in deployments:
            try:
                existing = await client.read_deployment_by_name(_deployment_name(deployment))
            except ObjectNotFound:
                continue
            if not existing.paused:
                active.append(_deployment_name(deployment))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(sorted(active)), encoding="utf-8")


def register_deployments(runner: Any, deployments: list[Any], pause_marker: Path | None) -> dict[str, int]:
    """Hand every deployment to the runner, applying only the changed ones (deployments/apply.py, issue 20);
    an administrator's pause is kept. Returns how many were created, updated and left unchanged."""
    from pprflow.deployments.apply import apply_if_changed

    for name in keep_administrators_pauses(deployments, pause_marker):
        emit(f"  på pause (af en administrator, forbliver på pause)  {name}")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for deployment in deployments:
        _, outcome = apply_if_changed(deployment, runner=runner)
        counts[outcome] += 1
    emit(f"  deployments: {counts['created']} nye, {counts['updated']} ændrede, {counts['unchanged']} uændrede")
    return counts


def serve_deployments(deployments: list[Any], on_ready: Callable[[], None] = lambda: None,
                      pause_marker: Path | None = None) -> None:
    """`prefect.serve` with a dependable stop: SIGTERM or Ctrl-C asks the runner to stop (it pauses the
    schedules on its way out); a second signal cancels it outright.

    Prefect 3.8's own SIGTERM handler calls the async `stop` without awaiting it and exits from inside
    the event loop, and a plain task cancellation during start-up is swallowed by the runner's task
    groups; both left the process running. So we replace the handler and wait for the runner to be up.
    """
    import asyncio

    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    try:
        register_deployments(runner, deployments, pause_marker)
    except KeyboardInterrupt:
        _STOP_REQUESTED.set()
    if _STOP_REQUESTED.is_set():
        return
    on_ready()  # every deployment is registered with the server

    async def main() -> None:
        task = asyncio.create_task(runner.start())
        await asyncio.sleep(0)  # runner.start() installs its SIGTERM handler first thing; replace it
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []

        async def stop() -> None:
            for _ in range(300):  # a runner registering its deployments is not started yet
                if runner.started or task.done():
                    break
                await asyncio.sleep(0.1)
            if runner.started and not task.done():
                try:
                    await record_our_pauses(deployments, pause_marker)
                except Exception:  # the server is gone: after a crash nothing is known to be ours
                    pass
                await runner.astop()
            else:
                task.cancel()

        def on_signal() -> None:
            if stopping:
                task.cancel()
            else:
                stopping.append(loop.create_task(stop()))

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        if _STOP_REQUESTED.is_set():
            on_signal()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())


def serve(
    host: Annotated[str, typer.Option(help="Adresse serveren lytter på (0.0.0.0: alle netkort).")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port til dashboard og API.")] = DEFAULT_PORT,
    no_server: Annotated[bool, typer.Option(
        "--no-server", help="Start ingen Prefect-server; brug den i PREFECT_API_URL.")] = False,
    web_port: Annotated[int, typer.Option(min=1, max=65535, help="Port til webappen.")] = 8000,
    web_host: Annotated[str | None, typer.Option(help="Adresse webappen lytter på (standard som --host).")] = None,
    no_web: Annotated[bool, typer.Option("--no-web", help="Start ikke webappen.")] = False,
) -> None:
    """Hovedjobbet: Prefect-server, migreringer og alle deployments (frister, udbakke, formularer)."""
    settings = STATE.settings
    home = settings.home.resolve()
    profile = STATE.profile()  # fail fast on a bad profile, before anything starts
    from pprflow.models.profile import check_mailboxes_for_transport

    check_mailboxes_for_transport(profile, settings.transport)  # ESC-2: no placeholder mailbox on a real transport
    if no_server:
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            raise ConfigurationError("--no-server needs PREFECT_API_URL, e.g. http://prefect.kommune.dk:4200/api")
        env = {**TELEMETRY_OFF, "PREFECT_HOME": os.environ.get("PREFECT_HOME") or str(home / "prefect")}
        url = api_url.rstrip("/").removesuffix("/api")
    else:
        if not port_is_free(host, port):
            raise ConfigurationError(f"port {port} is in use: stop what runs there or choose --port")
        env = server_environment(home, host=host, port=port, environ=os.environ)
        env |= vacuum_environment(profile.retention.flow_run_parameter_days, os.environ)
        url = base_url(host, port)
    if not no_web and not port_is_free(host if web_host is None else web_host, web_port):
        raise ConfigurationError(f"port {web_port} (the web app) is in use: stop what runs there, choose --web-port, "
                                 "or --no-web")
    # pprflow's settings for every flow run this process starts (they run in child processes).
    profile_ref = STATE.profile_name or settings.profile
    if Path(profile_ref).suffix == ".toml" or Path(profile_ref).exists():
        profile_ref = str(Path(profile_ref).resolve())
    env |= {"PPRFLOW_HOME": str(home), "PPRFLOW_DATABASE_URL": STATE.url(), "PPRFLOW_PROFILE": profile_ref}
    if STATE.actor:
        env["PPRFLOW_USER"] = STATE.actor
    os.environ.update(env)

    server: subprocess.Popen[bytes] | None = None
    log_path = home / "prefect" / "server.log"
    _stop_on_signals()
    try:
        if not no_server:
            emit(f"starter Prefect-serveren på {url} (log: {log_path}) ...")
            server = start_server(host, port, env, log_path)
        wait_for_health(url, server, STARTUP_TIMEOUT_SECONDS)

        from pprflow.db import upgrade

        upgrade(STATE.url())
        emit(f"database klar: {_display_url(STATE.url())}")
        if not no_web:  # the Danish web app next to Prefect's dashboard (issue 18)
            from pprflow.cli.web import start_in_thread

            start_in_thread(host if web_host is None else web_host, web_port, dashboard_url=url)
            emit(f"Webapp: {base_url(host if web_host is None else web_host, web_port)}")
        if uses_postgres(os.environ) and not os.environ.get("PREFECT_SERVER_ENCRYPTION_KEY"):
            emit("bemærk: sæt PREFECT_SERVER_ENCRYPTION_KEY i produktion (krypterer Secret-blokke).")

        from pprflow.deployments.catalogue import build_catalogue

        catalogue = build_catalogue(profile)
        for name in catalogue.names():
            emit(f"  deployment  {name}")
        for ref, why in catalogue.skipped.items():
            emit(f"  springer over {ref}: {why}")

        def ready() -> None:
            announce_automations(settings)
            emit(f"Dashboard: {url}  ({profile.display_name}; stop med Ctrl-C)")

        serve_deployments(catalogue.deployments, on_ready=ready, pause_marker=home / "prefect" / PAUSE_MARKER)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            code = stop_server(server)
            emit(f"Prefect-serveren er stoppet (exit {code}).")


def announce_automations(settings: Any) -> None:
    """Create or update the operators' alerts (deployments/automations.py); say what exists, never stop."""
    from pprflow.deployments.automations import ensure_automations

    try:
        names = ensure_automations(settings)
    except Exception as exc:  # the job runs on without alerts, but says so
        emit(f"advarsel: alarmerne kunne ikke oprettes ({type(exc).__name__}: {exc})")
        return
    for name in names:
        emit(f"  automation  {name}")
    if not (settings.alert_teams_webhook_url or settings.alert_webhook_url):
        emit("bemærk: ingen alarmkanal: sæt PPRFLOW_ALERT_TEAMS_WEBHOOK_URL, så driften får besked om fejl.")


def _display_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
