"""The database: engine, sessions and migrations (Alembic). SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def _create_private(path: Path) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does (it would follow the umask, 0644):
    it holds case data, like the .eml files. Its -wal and -shm files take the same mode."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL. SQLite gets foreign keys, WAL and a busy timeout for concurrent writers.

    pysqlite's own transaction handling does not BEGIN before a SAVEPOINT, so a savepoint opened
    first in a session would commit on release and survive a later rollback. The SQLAlchemy recipe
    below turns that off and emits BEGIN itself, so a session is all or nothing on SQLite too.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _create_private(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
            # BEGIN IMMEDIATE for writers that read first and run beside other writers (the outbox claim,
            # engine.execution_options(pprflow_begin_immediate=True)): the write lock is taken at once,
            # under the busy timeout. With a deferred BEGIN, a transaction that read and then writes after
            # another writer committed fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT).
            # Not the default: a session that writes while an outer session of the same thread is open
            # (tasks/privacy.py record_refusal) would then wait for itself.
            immediate = connection.get_execution_options().get("pprflow_begin_immediate")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # hide_parameters: a database error's text (which Prefect stores as the run's state message and
    # logs) shows the SQL, never the values: those are names, concerns and mail bodies (PRIV-2).
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction per state change: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    import pprflow.migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(pprflow.migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (pprflow db upgrade)."""
    from alembic import command

    engine = get_engine(url)  # creates the SQLite folder
    command.upgrade(_alembic_config(url), revision)
    install_audit_guard(engine)


AUDIT_PURGE_SETTING = "pprflow.audit_purge"
"""Set to 'on' (SET LOCAL) by the retention purge only: the one writer allowed to delete audit rows."""

_AUDIT_GUARD = (
    f"""CREATE OR REPLACE FUNCTION pprflow_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('{AUDIT_PURGE_SETTING}', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only (PRIV-1): % refused', TG_OP;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS auditevent_append_only ON auditevent",
    "CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON auditevent "
    "FOR EACH ROW EXECUTE FUNCTION pprflow_audit_append_only()",
)


def install_audit_guard(engine: Engine) -> None:
    """PostgreSQL: a trigger refuses UPDATE and DELETE on the audit table, except inside the retention
    purge (PRIV-1). Installed after every upgrade, so regenerating the migration cannot lose it.
    SQLite has no session settings to tell the purge apart: there the code is the guard (README)."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('auditevent')")).scalar() is None:
            return  # downgraded below the first migration
        for statement in _AUDIT_GUARD:
            conn.execute(text(statement))


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def check_url(url: str) -> str:
    """The URL unchanged, or one InvalidInput line saying what is wrong with it and what to use instead."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from pprflow.models.errors import InvalidInput

    hint = "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE (--db or PPRFLOW_DATABASE_URL)"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput(f"cannot read the database URL: {hint}") from None
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        raise InvalidInput(f"pprflow runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}: {hint}")
    return url


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(url)).get_current_head()


def ensure_schema(url: str) -> None:
    """Before a command uses the database: the embedded SQLite database migrates itself (first use or
    after an update); PostgreSQL never migrates silently and says, in one line, to run the upgrade."""
    from pprflow.models.errors import InvalidInput

    head = head_revision(url)
    current = current_revision(url)
    if current == head:
        return
    if get_engine(url).dialect.name == "sqlite":
        upgrade(url)
        return
    state = "has no pprflow tables" if current is None else f"is at revision {current}, this pprflow needs {head}"
    raise InvalidInput(f"the database {state}: run `pprflow db upgrade` first")


def database_error_line(exc: BaseException) -> str:
    """One line for a database error an operator can fix: the driver's first line, never SQL or values."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    first = lines[0] if lines else type(original).__name__
    return (f"the database could not be used: {first}; check that it is running and that --db or "
            "PPRFLOW_DATABASE_URL points at it")
