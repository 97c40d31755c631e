"""Alembic environment: migrations run against SQLModel.metadata."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import pprflow.models.tables  # noqa: F401  (registers the tables)
from pprflow.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
