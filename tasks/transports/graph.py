"""Microsoft Graph (Exchange Online): draft, then send, from the shared mailbox; tokens from MSAL.

Exactly-once, draft-then-send:

1. ``GET /users/{mailbox}/mailFolders/drafts/messages`` filtered on the key property: a draft
   left by an attempt that died before sending is reused, not duplicated;
2. otherwise ``POST /users/{mailbox}/messages`` creates the draft (HTML body, cc, attachments as
   ``fileAttachment``, the idempotency key as a ``singleValueExtendedProperties`` entry, the
   deterministic ``internetMessageId``) → its id;
3. ``POST /users/{mailbox}/messages/{id}/send`` → 202. A draft can be sent only once, so
   repeating this call after a lost response cannot send twice; a 404 there means the draft
   already went, which ``already_sent`` confirms.

``already_sent(key)`` looks in Sent Items with
``$filter=singleValueExtendedProperties/Any(ep: ep/id eq '<property id>' and ep/value eq '<key>')``.
Requests ask for immutable ids (``Prefer: IdType="ImmutableId"``) so a message keeps its id
when sending moves it from Drafts to Sent Items.

Tokens: the transport takes a token provider (any ``() -> str``). Production uses
``MsalTokenProvider`` (``msal.ConfidentialClientApplication``, client credentials, authority
``{authority_base_url}/{tenant_id}``). MSAL only accepts https authorities, so its tests run
against a loopback HTTPS server with a throw-away certificate, through MSAL's own
``http_client`` hook (a requests Session trusting that certificate). Nothing is patched.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import msal
import requests
from pydantic import SecretStr

from pprflow.models.errors import ConfigurationError
from pprflow.tasks.mime import KEY_HEADER, check_headers, message_id_for
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.tasks.transports.common import GRAPH_KEY_PROPERTY_ID, REDACTOR, check_sender, guard_logs, safe_text

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
# Graph takes attachments inline up to about 3 MB each (4 MB request); larger ones need an
# upload session, which pprflow does not use (forms and invites are small).
MAX_INLINE_ATTACHMENT = 3 * 1024 * 1024

TokenProvider = Callable[[], str]

# Entra ID token errors that a retry cannot fix: wrong secret, unknown app, missing consent.
_PERMANENT_TOKEN_ERRORS = {"invalid_client", "unauthorized_client", "invalid_request", "invalid_scope",
                           "invalid_grant", "unsupported_grant_type"}


def graph_scope(graph_base_url: str) -> str:
    """The client-credentials scope of a Graph endpoint: ``https://graph.microsoft.com/.default``."""
    parts = urlsplit(graph_base_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


class MsalTokenProvider:
    """App-only access tokens from Entra ID via MSAL; MSAL caches them and renews before expiry."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: SecretStr,
        authority_base_url: str = DEFAULT_AUTHORITY,
        scope: str = graph_scope(DEFAULT_GRAPH_URL),
        http_client: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.authority = f"{authority_base_url.rstrip('/')}/{tenant_id}"
        self.client_id = client_id
        self.scope = scope
        self._secret = client_secret
        self._http_client = http_client
        self._timeout = timeout
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        guard_logs(client_secret.get_secret_value())

    def __repr__(self) -> str:
        return f"MsalTokenProvider(authority={self.authority!r}, client_id={self.client_id!r})"

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                # Construction fetches the authority's OpenID configuration. instance_discovery=False:
                # Entra's own hosts need none, and a configured sovereign or test authority is trusted.
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._secret.get_secret_value(),
                    authority=self.authority,
                    instance_discovery=False,
                    http_client=self._http_client,
                    timeout=self._timeout,
                )
            return self._app

    def __call__(self) -> str:
        try:
            result = self._application().acquire_token_for_client(scopes=[self.scope])
        except requests.RequestException as exc:
            raise DeliveryError(f"could not reach the token authority: {safe_text(exc)}", transient=True) from None
        except ValueError as exc:
            # MSAL raises ValueError when the authority's OpenID configuration is missing (wrong tenant).
            raise DeliveryError(f"token authority {self.authority} refused: {safe_text(exc)}",
                                transient=False) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if token:
            guard_logs(token)
            return str(token)
        error = str(result.get("error", "unknown_error")) if isinstance(result, dict) else "unknown_error"
        description = str(result.get("error_description", "")).splitlines()[0] if isinstance(result, dict) else ""
        raise DeliveryError(REDACTOR.redact(f"no Graph token: {error} {description}".strip()),
                            transient=error not in _PERMANENT_TOKEN_ERRORS)


class GraphError(DeliveryError):
    """Graph answered with an error status."""

    def __init__(self, message: str, *, status: int, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message, transient=transient, retry_after=retry_after)
        self.status = status


def _retry_after(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


class GraphTransport:
    """Sends as ``mailbox`` with Microsoft Graph (application permission Mail.Send, Mail.ReadWrite).

    429 and 503 answers are retried here, honouring ``Retry-After``, at most ``max_attempts``
    requests and ``max_wait`` seconds in total; beyond that the transient DeliveryError carries
    ``retry_after`` for the outbox.
    """

    name = "graph"

    def __init__(
        self,
        *,
        mailbox: str,
        token_provider: TokenProvider,
        base_url: str = DEFAULT_GRAPH_URL,
        http_client: httpx.Client | None = None,
        timeout: float = 30.0,
        max_wait: float = 30.0,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.mailbox = mailbox
        self.base_url = base_url.rstrip("/")
        self._token = token_provider
        self._client = http_client or httpx.Client(timeout=timeout)
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self._sleep = sleep
        guard_logs()

    def __repr__(self) -> str:
        return f"GraphTransport(mailbox={self.mailbox!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # --- the Transport protocol ---------------------------------------------------------------

    def send(self, mail: OutgoingMail) -> str:
        """Reuse or create the draft, then send it; return the Message-ID."""
        check_sender(self.mailbox, mail.sender, self.name)
        check_headers(mail)
        draft = self._find("drafts", mail.idempotency_key)
        draft_id = draft["id"] if draft else self._create_draft(mail)
        try:
            self._request("POST", f"{self._user()}/messages/{quote(draft_id, safe='')}/send", expected=(202,))
        except GraphError as exc:
            if exc.status == 404 and self.already_sent(mail.idempotency_key):
                return message_id_for(mail.idempotency_key)  # an earlier attempt's send went through
            raise
        return message_id_for(mail.idempotency_key)

    def already_sent(self, idempotency_key: str) -> str | None:
        """The Message-ID of the message in Sent Items carrying this key, else None."""
        found = self._find("sentitems", idempotency_key)
        if not found:
            return None
        return str(found.get("internetMessageId") or message_id_for(idempotency_key))

    # --- Graph calls ----------------------------------------------------------------------------

    def _user(self) -> str:
        return f"/users/{quote(self.mailbox, safe='@')}"

    def _find(self, folder: str, idempotency_key: str) -> dict[str, Any] | None:
        key = idempotency_key.replace("'", "''")  # OData string literal
        params = {
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{GRAPH_KEY_PROPERTY_ID}' "
                       f"and ep/value eq '{key}')",
            "$select": "id,internetMessageId",
            "$top": "1",
        }
        response = self._request("GET", f"{self._user()}/mailFolders/{folder}/messages", params=params)
        values = response.json().get("value") or []
        return values[0] if values else None

    def _create_draft(self, mail: OutgoingMail) -> str:
        response = self._request("POST", f"{self._user()}/messages", json=self.message_json(mail),
                                 expected=(201,))
        draft_id = response.json().get("id")
        if not draft_id:
            raise DeliveryError("Graph created a draft without an id", transient=True)
        return str(draft_id)

    @staticmethod
    def message_json(mail: OutgoingMail) -> dict[str, Any]:
        """The Graph message resource for a draft."""
        attachments = []
        for attachment in mail.attachments:
            if len(attachment.content) > MAX_INLINE_ATTACHMENT:
                raise DeliveryError(
                    f"attachment {attachment.filename!r} is over 3 MB; Graph needs an upload session for it",
                    transient=False,
                )
            attachments.append({
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": attachment.filename,
                "contentType": attachment.content_type,
                "contentBytes": base64.b64encode(attachment.content).decode("ascii"),
            })
        reply_to = [{"emailAddress": {"address": mail.reply_to}}] if mail.reply_to else []
        return {
            "subject": mail.subject,
            "replyTo": reply_to,
            "body": {"contentType": "HTML", "content": mail.html},
            # Issue 13/16: the recipient's display name beside the bare address, where one is known.
            "toRecipients": [_recipient(mail.to, mail.to_name)],
            "ccRecipients": [_recipient(cc, mail.cc_name(i)) for i, cc in enumerate(mail.cc)],
            "internetMessageId": message_id_for(mail.idempotency_key),
            "internetMessageHeaders": [{"name": KEY_HEADER, "value": mail.idempotency_key}],
            "singleValueExtendedProperties": [{"id": GRAPH_KEY_PROPERTY_ID, "value": mail.idempotency_key}],
            "attachments": attachments,
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        expected: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        waited = 0.0
        attempt = 0
        what = f"{method} {path.split('?')[0]}"
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self._token()}", "Prefer": 'IdType="ImmutableId"'}
            try:
                response = self._client.request(method, self.base_url + path, params=params, json=json,
                                                headers=headers)
            except httpx.HTTPError as exc:
                raise DeliveryError(f"Graph {what} failed: {safe_text(exc)}", transient=True) from None
            if response.status_code in expected:
                return response
            retry_after = _retry_after(response)
            if response.status_code in (429, 503) and attempt < self.max_attempts:
                delay = retry_after if retry_after is not None else 2.0 ** attempt
                if waited + delay <= self.max_wait:
                    self._sleep(delay)
                    waited += delay
                    continue
            raise self._error(what, response, retry_after)

    @staticmethod
    def _error(what: str, response: httpx.Response, retry_after: float | None) -> GraphError:
        status = response.status_code
        code, message = "", ""
        try:
            error = response.json().get("error") or {}
            code, message = str(error.get("code", "")), str(error.get("message", ""))
        except ValueError:
            message = response.text[:200]
        # 429/5xx: throttled or the service is struggling. 401: the token may be stale; the next
        # attempt fetches a fresh one. Other 4xx (403 missing permission, 404 unknown mailbox,
        # 400 bad message) will not get better by retrying.
        transient = status == 429 or status >= 500 or status == 401
        text = REDACTOR.redact(" ".join(f"Graph {what} answered {status} {code}: {message}".split()))
        return GraphError(text, status=status, transient=transient, retry_after=retry_after)


def make_graph_transport(
    *,
    mailbox: str,
    tenant_id: str | None,
    client_id: str | None,
    client_secret: SecretStr | None,
    base_url: str = DEFAULT_GRAPH_URL,
    authority_base_url: str = DEFAULT_AUTHORITY,
    max_wait: float = 30.0,
    max_attempts: int = 3,
) -> GraphTransport:
    """A GraphTransport with MSAL client-credentials tokens; names the first missing setting."""
    for setting, value in (("PPRFLOW_TENANT_ID", tenant_id), ("PPRFLOW_CLIENT_ID", client_id),
                           ("PPRFLOW_CLIENT_SECRET", client_secret)):
        if not value:
            raise ConfigurationError(f"the graph transport needs {setting}")
    assert tenant_id and client_id and client_secret is not None
    provider = MsalTokenProvider(tenant_id=tenant_id, client_id=client_id, client_secret=client_secret,
                                 authority_base_url=authority_base_url, scope=graph_scope(base_url))
    return GraphTransport(mailbox=mailbox, token_provider=provider, base_url=base_url, max_wait=max_wait,
                          max_attempts=max_attempts)


def _recipient(address: str, name: str) -> dict[str, Any]:
    """A Graph recipient: `{"emailAddress": {"address": ..., "name": ...}}`, the name only when known."""
    entry: dict[str, str] = {"address": address}
    if " ".join(name.split()):
        entry["name"] = " ".join(name.split())
    return {"emailAddress": entry}
