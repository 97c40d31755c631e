"""What every command needs: settings, the municipality profile, the database and who is acting."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pprflow.config import Settings
    from pprflow.models.profile import Profile


_SCHEMA_CHECKED: set[str] = set()


@dataclass
class CliState:
    """Global options (--profile, --db, --as) over the PPRFLOW_* environment."""

    profile_name: str | None = None
    database_url: str | None = None
    actor: str | None = None

    @property
    def settings(self) -> Settings:
        """PPRFLOW_* settings, loaded on first use (pydantic-settings costs ~0.1 s to import)."""
        from pprflow.config import get_settings

        return get_settings()

    def profile_ref(self) -> str:
        """--profile, else PPRFLOW_PROFILE, else vejle (read directly: the calendar path stays fast)."""
        from pprflow import DEFAULT_PROFILE

        return self.profile_name or os.environ.get("PPRFLOW_PROFILE") or DEFAULT_PROFILE

    def profile(self) -> Profile:
        from pprflow.profiles import load_profile

        return load_profile(self.profile_ref())

    def url(self) -> str:
        from pprflow.db import check_url

        return check_url(self.database_url or self.settings.resolved_database_url())

    def engine(self) -> Engine:
        """The database, its schema checked once per command (SQLite upgrades itself; PostgreSQL says so)."""
        from pprflow.db import ensure_schema, get_engine

        url = self.url()
        if url not in _SCHEMA_CHECKED:
            ensure_schema(url)
            _SCHEMA_CHECKED.add(url)
        return get_engine(url)

    def ctx(self):  # type: ignore[no-untyped-def]
        """The service-layer context (tasks.context.Ctx) for this command."""
        from pprflow.tasks.context import Ctx

        return Ctx(engine=self.engine(), profile=self.profile(), actor=self.acting_user(),
                   profile_ref=self.profile_ref())

    def acting_user(self) -> str:
        """Who acts (PRIV-1, PRIV-4): --as, PPRFLOW_USER, else the operating-system account (`os:NAME`), which
        is nobody the staff directory knows: it reads and changes nothing (pprflow.models.access)."""
        if self.actor:
            return self.actor
        if self.settings.user:
            return self.settings.user
        import getpass

        return f"os:{getpass.getuser()}"

    def job_ctx(self, job: str):  # type: ignore[no-untyped-def]
        """The context for a job command (sweep, outbox send, retention purge): `--as` a named person must be an
        administrator (PRIV-4); without --as the operator runs it as the system job `system:JOB`, exactly what
        the schedule would run (PPRFLOW_USER, the default person, does not turn a job into theirs)."""
        from pprflow.tasks.context import Ctx

        actor = self.actor or f"system:{job}"
        return Ctx(engine=self.engine(), profile=self.profile(), actor=actor, profile_ref=self.profile_ref())


STATE = CliState()
