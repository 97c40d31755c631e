"""On-premises Exchange through EWS (exchangelib), sending as the shared mailbox (fællespostkasse).

How a message goes out: one EWS ``CreateItem`` with ``MessageDisposition="SendAndSaveCopy"`` and
``SavedItemFolderId`` = the shared mailbox's ``sentitems``. The item carries

* ``MimeContent``: the same RFC 5322 message the SMTP and file transports produce
  (``pprflow.tasks.mime``), so the text/HTML alternatives and the ``text/calendar; method=REQUEST``
  invite reach Exchange intact and Exchange's content conversion turns it into a meeting request
  (EWS's own Body + FileAttachment fields would reduce the invite to an .ics attachment);
* an ``ExtendedProperty`` (named property ``PprflowIdempotencyKey`` in pprflow's property set,
  a string) holding the idempotency key.

Exactly-once: ``already_sent(key)`` runs a ``FindItem`` on the shared mailbox's Sent Items
restricted to that property being equal to the key. The outbox asks before it re-sends a
message whose earlier attempt may have gone out.

Retries inside exchangelib are bounded: ``FaultTolerance(max_wait=...)`` (30 s by default, never
exchangelib's one hour), or ``FailFast()`` when max_wait is 0. Everything longer is the outbox's
job, driven by the transient/permanent split of DeliveryError.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Configuration,
    Credentials,
    EWSTimeZone,
    ExtendedProperty,
    FailFast,
    FaultTolerance,
    Message,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.fields import InvalidField
from exchangelib.protocol import RetryPolicy
from exchangelib.version import VERSIONS
from oauthlib.oauth2 import OAuth2Error
from pydantic import SecretStr

from pprflow.models.errors import ConfigurationError
from pprflow.tasks.mime import message_id_for, mime_bytes
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.tasks.transports.common import KEY_PROPERTY_NAME, KEY_PROPERTY_SET_ID, check_sender, guard_logs, safe_text

log = logging.getLogger(__name__)

KEY_FIELD = "pprflow_idempotency_key"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_API_VERSION = "Exchange2016"
AuthType = Literal["oauth2", "ntlm"]


class IdempotencyKeyProperty(ExtendedProperty):
    """The idempotency key as a named string property in pprflow's own property set."""

    property_set_id = KEY_PROPERTY_SET_ID
    property_name = KEY_PROPERTY_NAME
    property_type = "String"


def _register_key_property() -> None:
    # exchangelib resolves filter fields and parses responses through the Message class itself,
    # so the property is registered there, once per process.
    try:
        Message.get_field_by_fieldname(KEY_FIELD)
    except InvalidField:
        Message.register(KEY_FIELD, IdempotencyKeyProperty)


_register_key_property()


class _ClientCredentials(OAuth2Credentials):
    """OAuth2 client credentials with the token endpoint taken from settings, not hard-wired to Entra ID."""

    def __init__(self, *, token_url: str, scope: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token_url = token_url
        self._scope = scope

    @property
    def token_url(self) -> str:
        return self._token_url

    @property
    def scope(self) -> list[str]:
        return [self._scope]

    def on_token_auto_refreshed(self, access_token: Any) -> None:
        if isinstance(access_token, dict):
            guard_logs(access_token.get("access_token"))
        super().on_token_auto_refreshed(access_token)


def ews_version(api_version: str) -> Version:
    """A Version from an EWS schema name (Exchange2013_SP1, Exchange2016): no version guessing on the wire."""
    # The oldest build that speaks this schema: an on-premises server is at least that.
    for build, name, _ in reversed(VERSIONS):
        if name.lower() == api_version.lower():
            return Version(build=build, api_version=name)
    names = sorted({name for _, name, _ in VERSIONS})
    raise ConfigurationError(f"unknown EWS version {api_version!r}: use one of {', '.join(names)}")


def service_endpoint(server: str) -> str:
    """The EWS endpoint URL from a host name or a full URL."""
    if "://" in server:
        return server
    return f"https://{server}/EWS/Exchange.asmx"


def ews_scope(endpoint: str) -> str:
    """The app-only token scope for an EWS endpoint: its own origin (``https://outlook.office365.com/.default``
    for Exchange Online; with hybrid modern auth an on-premises server's external URL is the resource)."""
    parts = urlsplit(endpoint)
    return f"https://{parts.hostname}/.default"


def retry_policy(max_wait: float) -> RetryPolicy:
    """FaultTolerance bounded by max_wait seconds, or FailFast for 0: never exchangelib's hour-long default."""
    return FaultTolerance(max_wait=max_wait) if max_wait > 0 else FailFast()


class ExchangeTransport:
    """Sends as ``mailbox`` through EWS and keeps a copy in its Sent Items.

    ``auth="oauth2"``: client credentials (app-only) from ``{authority_base_url}/{tenant_id}/oauth2/v2.0/token``,
    acting on the mailbox by EWS impersonation (the app needs the ``full_access_as_app`` role or an
    ApplicationImpersonation grant scoped to the shared mailbox).
    ``auth="ntlm"``: a service account with Full Access and Send As on the shared mailbox (delegate access).
    """

    name = "exchange"

    def __init__(
        self,
        *,
        mailbox: str,
        server: str,
        auth: AuthType | str = "oauth2",
        version: str = DEFAULT_API_VERSION,
        username: str | None = None,
        password: SecretStr | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: SecretStr | None = None,
        authority_base_url: str = DEFAULT_AUTHORITY,
        oauth_scope: str | None = None,
        max_wait: float = 30.0,
        timezone: str = "Europe/Copenhagen",
    ) -> None:
        self.mailbox = mailbox
        self.endpoint = service_endpoint(server)
        self.version = ews_version(version)
        self.max_wait = max_wait
        self._timezone = timezone
        credentials: Credentials | OAuth2Credentials
        if auth == "oauth2":
            missing = [n for n, v in (("tenant_id", tenant_id), ("client_id", client_id),
                                      ("client_secret", client_secret)) if not v]
            if missing:
                raise ConfigurationError(f"exchange oauth2 needs PPRFLOW_{missing[0].upper()}")
            assert client_secret is not None and tenant_id is not None
            secret = client_secret.get_secret_value()
            guard_logs(secret)
            credentials = _ClientCredentials(
                client_id=client_id, client_secret=secret, tenant_id=tenant_id,
                token_url=f"{authority_base_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token",
                scope=oauth_scope or ews_scope(self.endpoint),
            )
            self._auth_type, self._access_type = OAUTH2, IMPERSONATION
        elif auth == "ntlm":
            if not username or password is None:
                setting = "PPRFLOW_EXCHANGE_USERNAME" if not username else "PPRFLOW_EXCHANGE_PASSWORD"
                raise ConfigurationError(f"exchange ntlm needs {setting}")
            guard_logs(password.get_secret_value())
            credentials = Credentials(username=username, password=password.get_secret_value())
            self._auth_type, self._access_type = NTLM, DELEGATE
        else:
            raise ConfigurationError(f"PPRFLOW_EXCHANGE_AUTH must be oauth2 or ntlm, not {auth!r}")
        self._config = Configuration(
            credentials=credentials, service_endpoint=self.endpoint, auth_type=self._auth_type,
            version=self.version, retry_policy=retry_policy(max_wait),
        )
        self._account: Account | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ExchangeTransport(mailbox={self.mailbox!r}, endpoint={self.endpoint!r}, auth={self._auth_type!r})"

    def _get_account(self) -> Account:
        with self._lock:
            if self._account is None:
                self._account = Account(
                    primary_smtp_address=self.mailbox, config=self._config, autodiscover=False,
                    access_type=self._access_type, default_timezone=EWSTimeZone(self._timezone),
                )
            return self._account

    def send(self, mail: OutgoingMail) -> str:
        """CreateItem SendAndSaveCopy into the mailbox's Sent Items; return the Message-ID."""
        check_sender(self.mailbox, mail.sender, self.name)
        content = mime_bytes(mail)
        try:
            account = self._get_account()
            message = Message(account=account, folder=account.sent, mime_content=content)
            setattr(message, KEY_FIELD, mail.idempotency_key)
            message.send_and_save()
        except Exception as exc:
            raise _delivery_error(exc, "send") from None
        return message_id_for(mail.idempotency_key)

    def already_sent(self, idempotency_key: str) -> str | None:
        """FindItem on the mailbox's Sent Items where the key property equals the key.

        Returns the Message-ID pprflow gave the message (Exchange keeps a Message-ID supplied in
        MimeContent), so ``send`` and ``already_sent`` report the same id.
        """
        try:
            account = self._get_account()
            found = list(account.sent.filter(**{KEY_FIELD: idempotency_key}).values_list("id", flat=True)[:1])
        except Exception as exc:
            raise _delivery_error(exc, "search Sent Items") from None
        return message_id_for(idempotency_key) if found else None


_TRANSIENT_RESPONSES: tuple[type[Exception], ...] = (
    ews_errors.ErrorServerBusy,
    ews_errors.ErrorTimeoutExpired,
    ews_errors.ErrorInternalServerTransientError,
    ews_errors.ErrorInternalServerError,
    ews_errors.ErrorMailboxStoreUnavailable,
    ews_errors.ErrorMailboxMoveInProgress,
    ews_errors.ErrorConnectionFailed,
    ews_errors.ErrorConnectionFailedTransientError,
    ews_errors.ErrorADUnavailable,
    ews_errors.ErrorTooManyObjectsOpened,
    ews_errors.ErrorBatchProcessingStopped,
)


def _delivery_error(exc: Exception, doing: str) -> DeliveryError:
    """exchangelib, oauthlib and requests errors as DeliveryError; the text is redacted."""
    if isinstance(exc, DeliveryError):
        return exc
    text = f"Exchange could not {doing}: {safe_text(exc)}"
    if isinstance(exc, ews_errors.RateLimitError):
        return DeliveryError(text, transient=True, retry_after=float(exc.wait) if exc.wait else None)
    if isinstance(exc, ews_errors.ErrorServerBusy):
        back_off = getattr(exc, "back_off", None)
        return DeliveryError(text, transient=True, retry_after=float(back_off) if back_off else None)
    if isinstance(exc, _TRANSIENT_RESPONSES):
        return DeliveryError(text, transient=True)
    if isinstance(exc, ews_errors.ResponseMessageError):
        # Access denied, unknown mailbox, invalid recipients, size limits: retrying changes nothing.
        return DeliveryError(text, transient=False)
    if isinstance(exc, ews_errors.RedirectError | ews_errors.UnauthorizedError):
        return DeliveryError(text, transient=False)
    if isinstance(exc, ews_errors.EWSError):
        # Connection trouble, SOAP faults, malformed responses, CAS errors: the server may recover.
        return DeliveryError(text, transient=True)
    if isinstance(exc, OAuth2Error):
        transient = exc.error in ("temporarily_unavailable", "server_error")
        return DeliveryError(f"Exchange could not get a token: {exc.error}", transient=transient)
    if isinstance(exc, requests.RequestException | OSError):
        return DeliveryError(text, transient=True)
    # Not a known failure: fail this message loudly rather than retry it forever.
    log.warning("unexpected error from Exchange: %s", text)
    return DeliveryError(text, transient=False)
