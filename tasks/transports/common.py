"""What the mailbox transports share: the idempotency-key property and keeping secrets out of logs."""

from __future__ import annotations

import logging
import re
import threading

from pprflow.tasks.transports.base import DeliveryError

# One named MAPI property (PS_PUBLIC_STRINGS-style named property in our own property set) carries
# the idempotency key on every message pprflow sends through a mailbox. EWS and Graph address the
# same property, so a municipality can move from on-premises Exchange to Graph without re-sending:
#   EWS:   ExtendedFieldURI PropertySetId=KEY_PROPERTY_SET_ID PropertyName=KEY_PROPERTY_NAME String
#   Graph: singleValueExtendedProperties id "String {KEY_PROPERTY_SET_ID} Name KEY_PROPERTY_NAME"
KEY_PROPERTY_SET_ID = "8a3f6c2e-5b1d-4e7a-9c40-2d6f1b7e9a53"
KEY_PROPERTY_NAME = "PprflowIdempotencyKey"
GRAPH_KEY_PROPERTY_ID = f"String {{{KEY_PROPERTY_SET_ID}}} Name {KEY_PROPERTY_NAME}"

# Third-party loggers that write request headers or bodies at DEBUG: requests-oauthlib logs the
# token request body (client_secret) and the token; exchangelib logs request headers
# (Authorization). A filter on each rewrites the record before any handler sees it.
_NOISY_LOGGERS = (
    "exchangelib.util",
    "exchangelib.util.xml",
    "exchangelib.protocol",
    "requests_oauthlib.oauth2_session",
    "oauthlib",
    "msal.application",
    "msal.authority",
    "msal.token_cache",
    "msal.oauth2cli.oauth2",
    "msal.oauth2cli.oidc",
    "msal.throttled_http_client",
    "httpx",
    "httpcore",
    "urllib3.connectionpool",
)

_PATTERNS = (
    # 'Authorization': 'Bearer eyJ...' / Authorization: NTLM TlRM...
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:[A-Za-z]+\s+)?)[^'\",\s}]+"),
    re.compile(r"(?i)(['\"](?:access_token|refresh_token|id_token|client_secret|password)['\"]\s*:\s*['\"])[^'\"]*"),
    re.compile(r"(?i)((?:client_secret|password|access_token|client_assertion)=)[^&\s'\"]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
)


class Redactor(logging.Filter):
    """Rewrites log records and error texts so no registered secret or bearer token survives."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        """Remember a secret value (a password, a client secret, an access token) to scrub."""
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; never block the record
            return True
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


REDACTOR = Redactor()


def guard_logs(*secrets: str | None) -> Redactor:
    """Register secrets and make sure the noisy third-party loggers pass through the redactor."""
    for secret in secrets:
        REDACTOR.add(secret)
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)
    return REDACTOR


def safe_text(exc: BaseException) -> str:
    """An exception as one redacted line: type and message, never a credential."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return REDACTOR.redact(f"{type(exc).__name__}: {text}"[:500])


def check_sender(mailbox: str, sender: str, transport: str) -> None:
    """Refuse a message whose sender is not the mailbox this transport sends as and searches."""
    if sender.strip().lower() != mailbox.strip().lower():
        raise DeliveryError(
            f"{transport} transport sends as {mailbox}, not {sender}: exactly-once needs one Sent Items "
            "to search; configure a transport per sending mailbox",
            transient=False,
        )
