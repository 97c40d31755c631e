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


STATE = CliState()
