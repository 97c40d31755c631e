"""What every service function needs: the database, the municipality profile and who is acting."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from pprflow.models.profile import Profile


@dataclass(frozen=True)
class Ctx:
    """Engine + profile + actor. Built by the CLI from its options, by a flow from the environment."""

    engine: Engine
    profile: Profile
    actor: str
    profile_ref: str | None = None  # the name or file path the profile was loaded from

    @classmethod
    def from_environment(cls, *, actor: str | None = None, profile: str | None = None,
                         database_url: str | None = None) -> Ctx:
        """PPRFLOW_DATABASE_URL / PPRFLOW_PROFILE / PPRFLOW_USER, as a flow run sees them."""
        from pprflow.config import Settings
        from pprflow.db import get_engine
        from pprflow.profiles import load_profile

        settings = Settings()
        ref = profile or settings.profile
        return cls(
            engine=get_engine(database_url or settings.resolved_database_url()),
            profile=load_profile(ref),
            actor=actor or settings.user or "system:pprflow",
            profile_ref=ref,
        )

    def export_to_environment(self) -> None:
        """Let an in-process flow run see the same database and profile as the CLI that started it."""
        os.environ["PPRFLOW_DATABASE_URL"] = self.engine.url.render_as_string(hide_password=False)
        os.environ["PPRFLOW_PROFILE"] = self.profile_ref or self.profile.name  # a file path survives
        os.environ["PPRFLOW_USER"] = self.actor
