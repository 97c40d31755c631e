"""Every operator mistake is one line (issue 13): a real `pprflow` process per mistake, asserting one
line on stderr, a non-zero exit code, no traceback, and nothing written."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import pprflow_cli
from tests.transports.loopback import free_port

PROFILE = Path(__file__).resolve().parents[2] / "pprflow" / "profiles" / "vejle.toml"


def pprflow(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PPRFLOW_HOME": str(home), "PPRFLOW_USER": "leder@skole.example",
           "PYTHONWARNINGS": "ignore"}
    env.pop("PPRFLOW_DATABASE_URL", None)
    env.pop("PREFECT_API_URL", None)
    return pprflow_cli(*args, env=env, timeout=180)


def _deep_json(tmp: Path) -> list[str]:
    path = tmp / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    return ["referral", "submit", str(path)]


def _non_utf8(tmp: Path) -> list[str]:
    path = tmp / "latin1.json"
    path.write_bytes('{"concern": "Bekymring for Søren"}'.encode("latin-1"))
    return ["referral", "submit", str(path)]


def _unknown_timezone(tmp: Path) -> list[str]:
    path = tmp / "profile.toml"
    path.write_text(PROFILE.read_text(encoding="utf-8").replace('"Europe/Copenhagen"', '"Europe/Vejle"', 1),
                    encoding="utf-8")
    return ["--profile", str(path), "sweep", "--today", "2026-12-01"]


MISTAKES = {
    "unparseable database URL": (lambda tmp: ["--db", "not a url", "outbox", "list"], "cannot read the database URL"),
    "mysql URL": (lambda tmp: ["--db", "mysql://pprflow@127.0.0.1/pprflow", "outbox", "list"],
                  "SQLite or PostgreSQL, not mysql"),
    "PostgreSQL port where nothing listens": (
        lambda tmp: ["--db", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/pprflow", "outbox", "list"],
        "the database could not be used"),
    "case id 2^63": (lambda tmp: ["case", "show", str(2**63)], "does not exist"),
    "a date near 9999-12-31": (lambda tmp: ["district", "schedule", "--district", "Nord", "--from", "9999-12-28",
                                            "--count", "6"], "out of range"),
    "a 200,000-deep JSON referral": (_deep_json, "nested too deeply"),
    "a non-UTF-8 file": (_non_utf8, "not UTF-8"),
    "a profile with an unknown timezone": (_unknown_timezone, "unknown timezone 'Europe/Vejle'"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_an_operator_mistake_is_one_line_and_a_non_zero_exit(mistake: str, tmp_path: Path) -> None:
    build, expected = MISTAKES[mistake]
    result = pprflow(*build(tmp_path), home=tmp_path / "home")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]


def test_a_postgresql_database_never_upgraded_says_to_run_db_upgrade_and_is_not_migrated(tmp_path: Path) -> None:
    import uuid

    from sqlalchemy import create_engine, inspect, text

    from tests.conftest import PG_ADMIN_URL

    name = f"pprflow_never_upgraded_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        result = pprflow("--db", url, "outbox", "list", home=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr == "error: the database has no pprflow tables: run `pprflow db upgrade` first\n"
        engine = create_engine(url)
        assert inspect(engine).get_table_names() == [], "PostgreSQL is never migrated silently"
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_embedded_sqlite_database_migrates_itself_on_first_use_owner_only(tmp_path: Path) -> None:
    # The first administrator may add themselves (the directory's bootstrap, PRIV-4): a command that writes.
    result = pprflow("--as", "admin@ppr.example", "staff", "add", "admin@ppr.example", "--name", "Anne Admin",
                     "--role", "administrator", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    database = tmp_path / "home" / "pprflow.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
