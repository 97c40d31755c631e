"""Shared fixtures: a migrated SQLite database per test, the real PostgreSQL server, one Prefect server."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

# Hypothesis checks behaviour, never speed (benchmarks/ measure that): no per-example deadline and no "too slow"
# health check, which fail on a loaded 2-core machine for a first call that fills a cache.
settings.register_profile("pprflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pprflow")

# Tests never reach a real mailbox and never send Prefect telemetry.
os.environ.setdefault("PPRFLOW_TRANSPORT", "file")
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)

PG_ADMIN_URL = os.environ.get("PPRFLOW_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pprflow.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head per test process: `engine` copies it instead of running the
    migrations again for every test (0.35 s each when there were nine).
    tests/models/test_migrations.py still runs the migrations themselves on fresh files."""
    from pprflow.db import get_engine, upgrade

    path = tmp_path_factory.mktemp("migrated") / "pprflow.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def engine(sqlite_url: str, migrated_sqlite_file: Path) -> Engine:
    """A migrated SQLite database (the embedded default), fresh for each test: a copy (SQLite's backup
    API) of the file migrated once, into a file made owner-only (0600) first as pprflow.db makes it."""
    from pprflow.db import _create_private, get_engine

    path = Path(sqlite_url.split("///", 1)[1])
    _create_private(path)
    with closing(sqlite3.connect(migrated_sqlite_file)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return get_engine(sqlite_url)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh database on the real PostgreSQL server, migrated once, dropped at the end."""
    from sqlalchemy import create_engine

    from pprflow.db import upgrade

    name = f"pprflow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    from pprflow.db import get_engine

    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_database_url: str) -> Iterator[Engine]:
    """The PostgreSQL test database, emptied before each test."""
    from pprflow.db import get_engine

    engine = get_engine(pg_database_url)
    import pprflow.models.tables  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """Run the test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("engine")  # type: ignore[no-any-return]
    return request.getfixturevalue("pg_engine")  # type: ignore[no-any-return]


@pytest.fixture
def vejle():  # type: ignore[no-untyped-def]
    from pprflow.profiles import load_profile

    return load_profile("vejle")


@pytest.fixture
def randers():  # type: ignore[no-untyped-def]
    from pprflow.profiles import load_profile

    return load_profile("randers")


@pytest.fixture
def ctx(engine: Engine, vejle):  # type: ignore[no-untyped-def]
    from pprflow.tasks.context import Ctx
    from tests.factories import directory

    directory(engine)  # PRIV-4: the tests' people are known staff
    return Ctx(engine=engine, profile=vejle, actor="leder@skole.example")


@pytest.fixture
def rctx(engine: Engine, randers):  # type: ignore[no-untyped-def]
    """The service context on the Randers profile (five levels, underretning@randers.dk)."""
    from pprflow.tasks.context import Ctx
    from tests.factories import directory

    directory(engine)  # PRIV-4: the tests' people are known staff
    return Ctx(engine=engine, profile=randers, actor="leder@skole.example")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One real Prefect server for the whole test session (starting one takes 10-30 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock", default=os.environ.get("PPRFLOW_TEST_CLOCK", ""),
        help="run every test with the wall clock moved to this local date or datetime (ISO, e.g. 2028-02-29 or "
             "2031-06-01T23:30; Europe/Copenhagen), with time-machine; env PPRFLOW_TEST_CLOCK. Finds tests whose "
             "fixed dates meet the real clock (scripts/test_date_sensitive.sh).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alone: starts its own Prefect server on SQLite and times its scheduler; "
                                       "CI runs these one at a time after the other fault tests (a busy SQLite "
                                       "server answers 503)")
    config.addinivalue_line("markers", "slow: a fault test that takes more than a few seconds (run in its own CI "
                                       "step with -m slow; never skipped)")


def _test_clock(value: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    try:
        moment = dt.datetime.fromisoformat(value if "T" in value else f"{value}T12:00")
    except ValueError:
        raise pytest.UsageError(f"--clock/PPRFLOW_TEST_CLOCK {value!r} is not an ISO date: use e.g. 2028-02-29"
                                ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


@pytest.fixture(autouse=True)
def moved_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """With --clock, the wall clock of this test process starts at that moment and runs on (tick=True).
    Subprocesses and servers (PostgreSQL's now(), a Prefect server) keep the real clock."""
    value = request.config.getoption("--clock")
    if not value:
        yield
        return
    import time_machine

    with time_machine.travel(_test_clock(value), tick=True):
        yield
