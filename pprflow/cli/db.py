"""`pprflow db`: create and upgrade the database schema."""

from __future__ import annotations

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit

app = typer.Typer(help="Databasen: opret eller opgrader skemaet.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Opret/opgrader databaseskemaet (Alembic-migreringer) på SQLite eller PostgreSQL."""
    from pprflow.db import current_revision, upgrade

    url = STATE.url()
    upgrade(url)
    emit(f"database upgraded to revision {current_revision(url)}: {_redacted(url)}")


def _redacted(url: str) -> str:
    """Never print a password from a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
