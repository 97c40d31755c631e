"""Typed settings that fail fast: PPRFLOW_* environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from pprflow import DEFAULT_PROFILE


class Settings(BaseSettings):
    """Where pprflow keeps its data and how it sends mail. Secrets are SecretStr and never logged."""

    model_config = SettingsConfigDict(env_prefix="PPRFLOW_", extra="ignore")

    home: Path = Field(Path(".pprflow"), description="Folder for the SQLite database and the mail folder.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///$PPRFLOW_HOME/pprflow.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db"
    )
    profile: str = Field(DEFAULT_PROFILE, description="Municipality profile: a shipped name or a path to a TOML file.")
    user: str | None = Field(None, description="Who acts (email); the audit log records it (PRIV-1).")
    transport: str = Field("file", description="Mail transport: file, smtp, exchange or graph.")
    mail_dir: Path | None = Field(None, description="Folder for the file transport; default $PPRFLOW_HOME/mail.")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: str = Field("starttls", description="none, starttls or ssl.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP connection or reply times out.")

    exchange_server: str | None = Field(None, description="EWS host or service endpoint URL.")
    exchange_auth: str = Field("oauth2", description="oauth2 (client credentials) or ntlm.")
    exchange_username: str | None = None
    exchange_password: SecretStr | None = None
    exchange_version: str = Field("Exchange2016", description="EWS schema version sent as RequestServerVersion "
                                  "(Exchange2013_SP1, Exchange2016, ...); no version guessing on the wire.")
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    authority_base_url: str = "https://login.microsoftonline.com"

    throttle_per_minute: int = Field(30, description="Messages a minute per sending mailbox (Exchange Online: 30).")
    alert_teams_webhook_url: SecretStr | None = Field(None, description="Microsoft Teams webhook (Workflows) "
                                                      "the operators' alerts go to (deployments/automations.py).")
    alert_webhook_url: str | None = Field(None, description="Any JSON webhook for the operators' alerts "
                                          "(used when no Teams webhook is set).")
    throttle_recipients_per_day: int = Field(10_000, description="Recipients a day per sending mailbox "
                                             "(Exchange Online: 10,000).")
    throttle_urgent_reserve_per_minute: int = Field(5, description="ESC-1: of the minute's messages, this many "
                                                    "are kept free of routine mail for the abuse notification.")
    throttle_urgent_reserve_per_day: int = Field(200, description="ESC-1: of the day's recipients, this many "
                                                 "are kept free of routine mail for the abuse notification.")
    transport_max_wait: float = Field(30.0, description="Longest a transport waits inside one call (EWS back-off, "
                                      "Graph Retry-After) before the outbox takes over; 0 = fail fast.")
    transport_max_requests: int = Field(3, description="Requests per Graph call when it answers 429/503.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'pprflow.db').resolve()}"

    def resolved_mail_dir(self) -> Path:
        return self.mail_dir if self.mail_dir is not None else self.home / "mail"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
