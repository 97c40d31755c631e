"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import pprflow.models.tables  # noqa: F401


def test_migrations_match_the_models(any_engine) -> None:
    with any_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_db_upgrade_command_creates_the_schema(tmp_path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run([sys.executable, "-m", "pprflow", "--db", url, "db", "upgrade"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    from alembic.script import ScriptDirectory

    from pprflow.db import _alembic_config

    head = ScriptDirectory.from_config(_alembic_config(url)).get_current_head()
    assert head is not None and f"revision {head}" in result.stdout
