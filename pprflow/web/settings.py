"""The web app's settings: PPRFLOW_WEB_* environment variables (pydantic-settings), failing fast."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Where the web app listens, how it signs sessions, and the municipality's OpenID provider."""

    model_config = SettingsConfigDict(env_prefix="PPRFLOW_WEB_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on; loopback unless told otherwise.")
    port: int = Field(8000, ge=1, le=65535, description="Port of the web app.")
    secret_key: SecretStr | None = Field(
        None, description="Signs the session cookie; default: a random key kept in PPRFLOW_HOME/web-secret (0600).")
    https: bool = Field(False, description="Served over https (behind a proxy): the session cookie is Secure.")
    idle_timeout_minutes: int = Field(30, ge=1, description="Signed out after this many minutes without a request.")
    max_session_hours: int = Field(10, ge=1, description="A session lasts at most this long (cookie max-age).")
    oidc_issuer: str | None = Field(None, description="OpenID Connect issuer URL (Entra ID / AD FS); off when unset.")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid email profile"
    oidc_email_claim: str = Field("email", description="The claim that holds the work e-mail (staff directory).")
    prefect_dashboard_url: str | None = Field(None, description="Link to Prefect's dashboard (operations view).")
    max_upload_mb: int = Field(10, ge=1, description="Largest attachment (action plan) in MB.")
    today: dt.date | None = Field(
        None, description="The date the case and meeting pages take as today (an injectable clock for tests and "
                          "demos: record the minutes of a meeting planned for next week); default: the real date.")

    def signing_key(self, home: Path) -> str:
        """The configured key, or one generated once and kept next to the database (owner-only)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = home / "web-secret"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key, encoding="utf-8")
        return key

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
