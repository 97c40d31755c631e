"""Loopback mail servers with a memory: what they accepted, per idempotency key, survives a client that
is killed mid-request. The fault tests count on them; nothing here is ever a real mailbox.

- `SentItemsEws`: EWS (OAuth2 token endpoint, GetFolder, CreateItem SendAndSaveCopy, FindItem on
  Sent Items restricted to the idempotency-key property), speaking the SOAP of tests/support/ews.py;
- `SentItemsGraph`: Entra ID discovery + token, and Graph's draft → send with Sent Items search;
- `RecordingSmtp`: an aiosmtpd handler that records every accepted message and its key header.

Each stores a message *before* it answers, then waits `latency` seconds: a client killed in that
window has sent the message without learning so — the window the outbox must survive. Each also has a
`Tripwire`: armed at the k-th accepted message, the server signals the test and holds its answer until
the test has killed the client, so the fault tests kill exactly inside that window, not on a timer.
Each counts its Sent Items lookups per key (`lookups`, `found`), so a test can prove the lookup ran.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pprflow.tasks.mime import KEY_HEADER
from pprflow.tasks.transports.common import KEY_PROPERTY_NAME
from tests.support.ews import CREATE_ITEM_OK, ENVELOPE, NS, find_item_response, get_folder_response
from tests.transports.loopback import Request, Response

ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.loopback-token"
TENANT = "vejle-tenant"


class Tripwire:
    """Counts accepted messages; when the armed k-th one arrives, signals and holds the answer until released."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.accepted = 0
        self._at: int | None = None
        self._hit: str | None = None
        self._released = threading.Event()
        self._released.set()

    def arm(self, k: int) -> None:
        """Trip on the k-th message accepted from now on (k >= 1)."""
        with self._cond:
            self._at = self.accepted + k
            self._hit = None
            self._released.clear()

    def accepted_one(self, key: str) -> bool:
        """Called by a server after it stored a message; True if this is the armed one (hold the answer)."""
        with self._cond:
            self.accepted += 1
            if self._at is not None and self.accepted == self._at:
                self._hit = key
                self._cond.notify_all()
                return True
            return False

    def hold(self, timeout: float = 60) -> None:
        """Block the server's answer until the test releases it (after killing the client)."""
        self._released.wait(timeout)

    def wait_hit(self, timeout: float) -> str | None:
        """The key of the message the armed trip caught, or None if none arrived within `timeout`."""
        with self._cond:
            self._cond.wait_for(lambda: self._hit is not None, timeout)
            return self._hit

    def release(self) -> None:
        with self._cond:
            self._at = None
            self._released.set()


def _token(request: Request) -> Response:
    body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ACCESS_TOKEN}
    return Response(200, json.dumps(body), {"Content-Type": "application/json"})


@dataclass
class SentItemsEws:
    """An EWS endpoint whose Sent Items remembers every CreateItem by its idempotency-key property."""

    latency: float = 0.0
    sent: Counter[str] = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)
    lookups: Counter[str] = field(default_factory=Counter)  # FindItem on Sent Items, per key
    found: Counter[str] = field(default_factory=Counter)  # ... that found the message
    tripwire: Tripwire = field(default_factory=Tripwire)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        if request.path.endswith("/oauth2/v2.0/token"):
            return _token(request)
        root = ET.fromstring(request.body)
        operation = root.find("s:Body", NS)[0]  # type: ignore[index]
        name = operation.tag.split("}")[1]
        if name == "GetFolder":
            folder = operation.find(".//t:DistinguishedFolderId", NS)
            return self._soap(get_folder_response(folder.get("Id", "root") if folder is not None else "root"))
        if name == "CreateItem":
            key = self._key(operation.find("m:Items/t:Message", NS))
            with self.lock:
                self.sent[key] += 1
                self.order.append(key)
            if self.tripwire.accepted_one(key):
                self.tripwire.hold()
            time.sleep(self.latency)
            return self._soap(CREATE_ITEM_OK)
        if name == "FindItem":
            constant = operation.find("m:Restriction/t:IsEqualTo/t:FieldURIOrConstant/t:Constant", NS)
            key = constant.get("Value", "") if constant is not None else ""
            with self.lock:
                found = [f"AAMkSent{i}" for i in range(min(self.sent[key], 1))]
                self.lookups[key] += 1
                self.found[key] += bool(found)
            return self._soap(find_item_response(found))
        return Response(500, b"unexpected operation")

    @staticmethod
    def _key(message: ET.Element | None) -> str:
        for prop in message.findall("t:ExtendedProperty", NS) if message is not None else []:
            uri = prop.find("t:ExtendedFieldURI", NS)
            if uri is not None and uri.get("PropertyName") == KEY_PROPERTY_NAME:
                return prop.findtext("t:Value", default="", namespaces=NS)
        raise ValueError("CreateItem without the idempotency-key property")

    @staticmethod
    def _soap(body: str) -> Response:
        return Response(200, ENVELOPE.format(body=body), {"Content-Type": "text/xml; charset=utf-8"})


_FILTER_VALUE = re.compile(r"ep/value eq '((?:[^']|'')*)'")


@dataclass
class SentItemsGraph:
    """Entra ID + Graph for one mailbox: drafts and Sent Items, searchable by the key property."""

    mailbox: str
    base: str = ""
    latency: float = 0.0
    drafts: dict[str, str] = field(default_factory=dict)  # draft id -> key
    sent: Counter[str] = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)
    lookups: Counter[str] = field(default_factory=Counter)  # Sent Items searches, per key
    found: Counter[str] = field(default_factory=Counter)  # ... that found the message
    tripwire: Tripwire = field(default_factory=Tripwire)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        path = unquote(request.path)
        if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            return self._json(200, {"token_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/token",
                                    "authorization_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/authorize",
                                    "issuer": f"{self.base}/{TENANT}/v2.0"})
        if path.endswith("/oauth2/v2.0/token"):
            return _token(request)
        user = f"/v1.0/users/{self.mailbox}"
        if path in (f"{user}/mailFolders/drafts/messages", f"{user}/mailFolders/sentitems/messages"):
            match = _FILTER_VALUE.search(request.query.get("$filter", [""])[0])
            key = match.group(1).replace("''", "'") if match else ""
            with self.lock:
                if path.endswith("/drafts/messages"):
                    found = [{"id": i} for i, k in self.drafts.items() if k == key][:1]
                else:
                    found = [{"id": f"sent-{key}", "internetMessageId": "<x@pprflow>"}] if self.sent[key] else []
                    self.lookups[key] += 1
                    self.found[key] += bool(found)
            return self._json(200, {"value": found})
        if path == f"{user}/messages" and request.method == "POST":
            body = json.loads(request.body)
            key = body["singleValueExtendedProperties"][0]["value"]
            draft_id = uuid.uuid4().hex
            with self.lock:
                self.drafts[draft_id] = key
            return self._json(201, {"id": draft_id, "isDraft": True})
        if path.startswith(f"{user}/messages/") and path.endswith("/send"):
            draft_id = path[len(f"{user}/messages/"):-len("/send")]
            with self.lock:
                key = self.drafts.pop(draft_id, None)  # a draft is sent once; then it is gone
                if key is None:
                    return self._json(404, {"error": {"code": "ErrorItemNotFound", "message": "no such draft"}})
                self.sent[key] += 1
                self.order.append(key)
            if self.tripwire.accepted_one(key):
                self.tripwire.hold()
            time.sleep(self.latency)
            return Response(202)
        return self._json(404, {"error": {"code": "ResourceNotFound", "message": path}})

    @staticmethod
    def _json(status: int, body: object) -> Response:
        return Response(status, json.dumps(body), {"Content-Type": "application/json"})


@dataclass
class RecordingSmtp:
    """An aiosmtpd handler that keeps every accepted message (by its X-Pprflow-Key header), in order."""

    latency: float = 0.0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    auth_attempts: int = 0
    tripwire: Tripwire = field(default_factory=Tripwire)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.tripwire.accepted_one(self._key_of(envelope.original_content)):
            await asyncio.get_running_loop().run_in_executor(None, self.tripwire.hold)
        if self.latency:
            await asyncio.sleep(self.latency)
        return "250 Message accepted for delivery"

    @staticmethod
    def _key_of(content: bytes) -> str:
        message = email.message_from_bytes(content, policy=email.policy.default)
        return " ".join(str(message.get(KEY_HEADER, "")).split())

    def keys(self) -> list[str]:
        return [self._key_of(content) for _, _, content in self.received]

    @property
    def sent(self) -> Counter[str]:
        return Counter(self.keys())
