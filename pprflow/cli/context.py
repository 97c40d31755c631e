"""What every command needs: settings, the municipality profile, the database and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pprflow.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from models.profile import Profile


@dataclass
class CliState:
    """Global options (--profile, --db, --as) over the PPRFLOW_* environment."""

    profile_name: str | None = None
    database_url: str | None = None
    actor: str | None = None
    settings: Settings = field(default_factory=get_settings)

    def profile(self) -> Profile:
        from pprflow.profiles import load_profile

        return load_profile(self.profile_name or self.settings.profile)

    def url(self) -> str:
        return self.database_url or self.settings.resolved_database_url()

    def engine(self) -> Engine:
        from pprflow.db import get_engine

        return get_engine(self.url())

    def ctx(self):  # type: ignore[no-untyped-def]
        """The service-layer context (tasks.context.Ctx) for this command."""
        from tasks.context import Ctx

        return Ctx(engine=self.engine(), profile=self.profile(), actor=self.acting_user())

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
        from models.errors import AccessDenied
        from models.rules_privacy import is_named_user

        actor = self.acting_user()
        if self.settings.require_named_user and not is_named_user(actor):
            raise AccessDenied("this command reads case data and must act as a named person: pass --as EMAIL or "
                               f"set PPRFLOW_USER (acting user is {actor!r})", rule_id="PRIV-1")
        return actor

    def reading_ctx(self):  # type: ignore[no-untyped-def]
        """The service context for a command that reads case data (a named user, PRIV-1)."""
        from tasks.context import Ctx

        return Ctx(engine=self.engine(), profile=self.profile(), actor=self.reading_user())


STATE = CliState()
