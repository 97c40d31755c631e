"""`pprflow web`: the Danish web app alone (development and tests); `pprflow serve` runs it next to Prefect."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit


def build_app(dashboard_url: str | None = None) -> Any:
    """The app on the CLI's database and profile; PPRFLOW_WEB_* settings (pprflow/web/settings.py)."""
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    settings = WebSettings()
    if dashboard_url and not settings.prefect_dashboard_url:
        settings = settings.model_copy(update={"prefect_dashboard_url": dashboard_url})
    ctx = STATE.ctx() if STATE.actor else STATE.job_ctx("system:web")
    return create_app(settings, ctx=ctx)


def start_in_thread(host: str, port: int, dashboard_url: str | None = None) -> Any:
    """The web app in a daemon thread of `pprflow serve` (uvicorn installs signal handlers only in the main thread)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(build_app(dashboard_url), host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="pprflow-web", daemon=True).start()
    return server


def web(
    host: Annotated[str | None, typer.Option(help="Adresse (standard 127.0.0.1) [PPRFLOW_WEB_HOST].")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (standard 8000) [PPRFLOW_WEB_PORT].")]
    = None,
) -> None:
    """Webappen alene (udvikling og test): log ind, ny henvendelse, underretning, vores sager, i dag."""
    import uvicorn

    from pprflow.web.settings import WebSettings

    settings = WebSettings()
    host, port = host or settings.host, port or settings.port
    app = build_app()
    emit(f"webappen kører på http://{host}:{port} (stop med Ctrl-C)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
