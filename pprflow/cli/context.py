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
        """Who acts (PRIV-1): --as, PPRFLOW_USER, else the operating-system account."""
        if self.actor:
            return self.actor
        if self.settings.user:
            return self.settings.user
        import getpass

        return f"system:{getpass.getuser()}"

    def reading_user(self) -> str:
        """Who reads case data: a named person (PRIV-1, PRIV-3) unless PPRFLOW_REQUIRE_NAMED_USER=false."""
        from pprflow.models.errors import AccessDenied
        from pprflow.models.rules_privacy import is_named_user

        actor = self.acting_user()
        if self.settings.require_named_user and not is_named_user(actor):
            raise AccessDenied("this command reads case data and must act as a named person: pass --as EMAIL or "
                               f"set PPRFLOW_USER (acting user is {actor!r})", rule_id="PRIV-1")
        return actor

    def reading_ctx(self):  # type: ignore[no-untyped-def]
        """The service context for a command that reads case data (a named user, PRIV-1)."""
        from pprflow.tasks.context import Ctx

        return Ctx(engine=self.engine(), profile=self.profile(), actor=self.reading_user())


STATE = CliState()
