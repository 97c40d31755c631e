"""The web app's command-line hooks: `pprflow serve` refuses a busy web port before starting anything, and
`pprflow staff add --password` / `staff set-password` store only an argon2 hash (passwords on stdin)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from pprflow.db import get_engine
from pprflow.web.accounts import check_login

PPRFLOW = Path(sys.executable).parent / "pprflow"


def _run(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PREFECT_API_URL", "PPRFLOW_USER"}}
    env |= {"PPRFLOW_HOME": str(home), "PPRFLOW_TRANSPORT": "file"}
    return subprocess.run([str(PPRFLOW), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_serve_refuses_a_busy_web_port_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            prefect_port = probe.getsockname()[1]
        result = _run("serve", "--port", str(prefect_port), "--web-port", str(port), home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: port {port} (the web app) is in use: stop what runs there, "
                                     "choose --web-port, or --no-web")
    assert not (tmp_path / "prefect").exists()


def test_staff_add_with_password_and_set_password_PRIV_4(tmp_path: Path, sqlite_url: str) -> None:
    from pprflow.db import upgrade

    upgrade(sqlite_url)
    first = _run("--db", sqlite_url, "staff", "add", "chef@ppr.example", "--name", "Chef", "--role", "administrator",
                 "--password", home=tmp_path, stdin="første-adgangskode-1\n")
    assert first.returncode == 0, first.stderr
    assert '"password": "sat"' in first.stdout
    teacher = _run("--db", sqlite_url, "--as", "chef@ppr.example", "staff", "add", "l@skole.example", "--name", "L",
                   "--role", "teacher", home=tmp_path)
    assert teacher.returncode == 0, teacher.stderr
    short = _run("--db", sqlite_url, "--as", "chef@ppr.example", "staff", "set-password", "l@skole.example",
                 home=tmp_path, stdin="kort\n")
    assert short.returncode == 2 and "mindst 12 tegn" in short.stderr
    stranger = _run("--db", sqlite_url, "--as", "l@skole.example", "staff", "set-password", "chef@ppr.example",
                    home=tmp_path, stdin="overtag-kontoen-nu\n")
    assert stranger.returncode == 2 and stranger.stderr.rstrip().endswith("(PRIV-4)")
    ok = _run("--db", sqlite_url, "--as", "chef@ppr.example", "staff", "set-password", "l@skole.example",
              home=tmp_path, stdin="lærerens-adgangskode\n")
    assert ok.returncode == 0, ok.stderr
    engine = get_engine(sqlite_url)
    assert check_login(engine, email="l@skole.example", password="lærerens-adgangskode") == "l@skole.example"
    assert check_login(engine, email="chef@ppr.example", password="overtag-kontoen-nu") is None
