"""`pprflow serve`: the main job's environment (offline, no telemetry, nothing in ~/.prefect) and its
one-line refusals. The whole job (server, migrations, deployments, dashboard, SIGTERM) runs for real in
tests/browser/test_dashboard.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from pprflow.cli.serve import base_url, connect_host, server_environment, uses_postgres

PPRFLOW = Path(sys.executable).parent / "pprflow"


def test_sqlite_under_pprflow_home_and_no_telemetry(tmp_path: Path) -> None:
    env = server_environment(tmp_path, host="127.0.0.1", port=4200, environ={})
    assert env["PREFECT_HOME"] == str((tmp_path / "prefect").resolve())
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"] == \
        f"sqlite+aiosqlite:///{(tmp_path / 'prefect').resolve() / 'prefect.db'}"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["DO_NOT_TRACK"] == "1"
    assert env["PREFECT_API_URL"] == env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4200/api"


def test_postgresql_when_the_environment_says_so(tmp_path: Path) -> None:
    environ = {"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://prefect@db/prefect",
               "PREFECT_HOME": "/srv/prefect", "PREFECT_UI_API_URL": "https://prefect.kommune.example/api"}
    env = server_environment(tmp_path, host="0.0.0.0", port=8080, environ=environ)
    assert "PREFECT_API_DATABASE_CONNECTION_URL" not in env  # the configured database is kept
    assert env["PREFECT_HOME"] == "/srv/prefect"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:8080/api"  # 0.0.0.0 listens; we connect locally
    assert env["PREFECT_UI_API_URL"] == "https://prefect.kommune.example/api"  # what browsers elsewhere use
    assert uses_postgres(environ) and not uses_postgres({})


def test_addresses() -> None:
    assert connect_host("0.0.0.0") == "127.0.0.1"
    assert base_url("::", 4200) == "http://[::1]:4200"
    assert base_url("prefect.kommune.example", 4200) == "http://prefect.kommune.example:4200"


def test_the_cli_imports_no_prefect_until_a_command_needs_it() -> None:
    code = "import sys, pprflow.cli, pprflow.cli.serve, pprflow.cli.demo; print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | env
    return subprocess.run([str(PPRFLOW), *args], capture_output=True, text=True, env=environ, timeout=60)


def test_no_server_needs_prefect_api_url(tmp_path: Path) -> None:
    result = run("serve", "--no-server", PPRFLOW_HOME=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == \
        "error: --no-server needs PREFECT_API_URL, e.g. http://prefect.kommune.dk:4200/api"


def test_a_busy_port_is_one_line_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), PPRFLOW_HOME=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: port {port} is in use: stop what runs there or choose --port"
    assert not (tmp_path / "prefect").exists()
