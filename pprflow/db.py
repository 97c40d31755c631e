"""The database: engine, sessions and migrations (Alembic). SQLite by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL. SQLite gets foreign keys, WAL and a busy timeout for concurrent writers.

    pysqlite's own transaction handling does not BEGIN before a SAVEPOINT, so a savepoint opened
    first in a session would commit on release and survive a later rollback. The SQLAlchemy recipe
    below turns that off and emits BEGIN itself, so a session is all or nothing on SQLite too.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
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
            # BEGIN IMMEDIATE for writers that read first (the outbox claim): the write lock is taken
            # at once, under the busy timeout, instead of failing with "database is locked" when a
            # read snapshot has to become a write after another writer committed.
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
