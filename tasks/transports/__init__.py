"""Mail transports: file, SMTP, Exchange (EWS) and Microsoft Graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pprflow.models.errors import ConfigurationError
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail, Transport

if TYPE_CHECKING:
    from pprflow.config import Settings

TRANSPORTS = ("file", "smtp", "exchange", "graph")

__all__ = ["TRANSPORTS", "Attachment", "DeliveryError", "OutgoingMail", "Transport", "make_transport"]


def make_transport(settings: Settings, *, mailbox: str | None = None) -> Transport:
    """The transport ``settings.transport`` names, built from PPRFLOW_* settings.

    Exchange and Graph send as one shared mailbox and search its Sent Items: ``mailbox``, or
    the municipality profile's ``sender`` when not given. A missing setting raises a one-line
    ConfigurationError naming it.
    """
    kind = settings.transport.strip().lower()
    if kind == "file":
        from pprflow.tasks.transports.file import FileTransport

        return FileTransport(settings.resolved_mail_dir())
    if kind == "smtp":
        from pprflow.tasks.transports.smtp import SECURITIES, SmtpTransport

        if not settings.smtp_host:
            raise ConfigurationError("the smtp transport needs PPRFLOW_SMTP_HOST")
        if settings.smtp_security not in SECURITIES:
            raise ConfigurationError(f"PPRFLOW_SMTP_SECURITY must be one of {', '.join(SECURITIES)}")
        if settings.smtp_username and settings.smtp_password is None:
            raise ConfigurationError("PPRFLOW_SMTP_USERNAME is set, so the smtp transport needs PPRFLOW_SMTP_PASSWORD")
        return SmtpTransport(settings.smtp_host, settings.smtp_port, settings.smtp_security,
                             settings.smtp_username, settings.smtp_password, settings.smtp_timeout)
    if kind == "exchange":
        from pprflow.tasks.transports.exchange import ExchangeTransport

        if not settings.exchange_server:
            raise ConfigurationError("the exchange transport needs PPRFLOW_EXCHANGE_SERVER")
        return ExchangeTransport(
            mailbox=mailbox or _profile_sender(settings), server=settings.exchange_server,
            auth=settings.exchange_auth, version=settings.exchange_version,
            username=settings.exchange_username, password=settings.exchange_password,
            tenant_id=settings.tenant_id, client_id=settings.client_id, client_secret=settings.client_secret,
            authority_base_url=settings.authority_base_url, max_wait=settings.transport_max_wait,
        )
    if kind == "graph":
        from pprflow.tasks.transports.graph import make_graph_transport

        return make_graph_transport(
            mailbox=mailbox or _profile_sender(settings), tenant_id=settings.tenant_id,
            client_id=settings.client_id, client_secret=settings.client_secret,
            base_url=settings.graph_base_url, authority_base_url=settings.authority_base_url,
            max_wait=settings.transport_max_wait, max_attempts=settings.transport_max_requests,
        )
    raise ConfigurationError(f"PPRFLOW_TRANSPORT must be one of {', '.join(TRANSPORTS)}, not {settings.transport!r}")


def _profile_sender(settings: Settings) -> str:
    from pprflow.profiles import load_profile

    return load_profile(settings.profile).sender
