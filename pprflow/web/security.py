"""Every route declares its access kind; one guard enforces it (PRIV-3, PRIV-4) — invariants by construction.

- `public`: sign-in, the accessibility statement, static files: no session needed.
- `staff`: any signed-in, active member of the staff directory; shows no case data.
- `case_data`: shows or changes case data. The route MUST ask the one access policy through this module
  (`authorize` / `readable_case_ids`, which call tasks/access.py) before it answers; a route that returns
  without asking is answered with an error, never with the data (and tests/web/test_routes.py catches it).
- `admin`: administrators only (checked by the guard with the policy, `staff.manage`).

A route that declares nothing is refused (fail closed); tests/web/test_routes.py enumerates `app.routes`.
The session holds only the member's e-mail, a CSRF token and timestamps; the role always comes from the
staff directory (resolve_actor), never from the session or a form field.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from pprflow.models.access import Actor, Perm
from pprflow.tasks import access as policy

AccessKind = Literal["public", "staff", "case_data", "admin"]
ACCESS: dict[Callable[..., Any], AccessKind] = {}
"""Endpoint function -> its declared access kind (filled by `@page`)."""

F = TypeVar("F", bound=Callable[..., Any])


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page (with a Danish reason)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """The guard refuses (CSRF, an undeclared route, a role the route needs): a Danish one-line page."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def page(kind: AccessKind) -> Callable[[F], F]:
    """Declare a route's access kind. A `case_data` route must ask the policy before it answers. A page that
    does blocking database work is a plain `def`: it runs in the threadpool (the event loop stays free)."""

    def decorate(func: F) -> F:
        if "request" not in inspect.signature(func).parameters:
            raise TypeError(f"{func.__name__}: a page takes `request: Request`")

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request: Request = kwargs["request"]
            request.state.policy_asked = False
            if inspect.iscoroutinefunction(func):
                result = await func(*args, **kwargs)
            else:  # a plain `def` page does blocking database work: in the threadpool, never on the event loop
                result = await run_in_threadpool(func, *args, **kwargs)
            if kind == "case_data" and not request.state.policy_asked:
                raise RuntimeError(f"{func.__name__} shows case data without asking the access policy (PRIV-3)")
            return result

        ACCESS[wrapper] = kind
        return wrapper  # type: ignore[return-value]

    return decorate


def declared_kind(endpoint: Callable[..., Any] | None) -> AccessKind | None:
    return ACCESS.get(endpoint) if endpoint is not None else None


# --- the session ---------------------------------------------------------------------------------

def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every POST form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(str(expected), str(submitted)):
        raise Forbidden("Formularen er udløbet eller kom ikke fra pprflow. Gå tilbage, genindlæs siden og prøv igen.")


def _session_key(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


def sign_in(request: Request, engine: Engine, email: str, method: str) -> None:
    """A fresh session for `email` (no fixation: the old session's contents are dropped), with its server side:
    a `websession` row keyed by the SHA-256 of a random session id the cookie carries (PRIV-4)."""
    from pprflow.models.tables import WebSession

    request.session.clear()
    now = int(time.time())
    sid = secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(WebSession(id=_session_key(sid), email=email, method=method))
        session.commit()
    request.session.update({"user": email, "method": method, "since": now, "seen": now, "sid": sid,
                            "csrf": secrets.token_urlsafe(32)})


def sign_out(request: Request, engine: Engine) -> None:
    """Ends the session on the server too: a copy of the cookie (same signature, still within its max-age) is
    refused from now on, because its `websession` row is ended (PRIV-4)."""
    from pprflow.models.tables import WebSession
    from pprflow.models.types import utcnow

    sid = request.session.get("sid")
    request.session.clear()
    if isinstance(sid, str):
        with Session(engine) as session:
            row = session.get(WebSession, _session_key(sid))
            if row is not None and row.ended_at is None:
                row.ended_at = utcnow()
                session.add(row)
                session.commit()


def session_is_live(request: Request, session: Session, email: str) -> bool:
    """Is the cookie's session id one this server signed in and nobody signed out (one primary-key lookup)?"""
    from pprflow.models.tables import WebSession

    sid = request.session.get("sid")
    row = session.get(WebSession, _session_key(sid)) if isinstance(sid, str) else None
    return row is not None and row.ended_at is None and row.email == email


def session_user(request: Request, idle_timeout_s: int, max_age_s: int | None = None) -> str | None:
    """The signed-in e-mail, or None; an idle session ends here (session timeout), and so does a session older
    than `max_age_s` from sign-in (the cookie's max-age is renewed on every response, so it is no limit)."""
    user = request.session.get("user")
    if not user:
        return None
    now = int(time.time())
    if max_age_s is not None and now - int(request.session.get("since", 0)) > max_age_s:
        request.session.clear()
        raise SignInRequired("Du er logget ud, fordi din session er udløbet. Log ind igen.")
    if now - int(request.session.get("seen", 0)) > idle_timeout_s:
        request.session.clear()
        raise SignInRequired("Du er logget ud, fordi du ikke har været aktiv et stykke tid. Log ind igen.")
    request.session["seen"] = now
    return str(user)


# --- the policy, asked through here so the guard knows it was asked ----------------------------------

def current_actor(request: Request) -> Actor:
    actor: Actor = request.state.actor
    return actor


def authorize(request: Request, session: Session, perm: Perm, **kw: Any) -> None:
    """tasks/access.py `authorize` for the signed-in member (PRIV-3/PRIV-4; a refusal is audited there)."""
    request.state.policy_asked = True
    policy.authorize(session, current_actor(request).id, perm, **kw)


def readable_case_ids(request: Request, session: Session, case_ids: Iterable[int]) -> set[int]:
    """tasks/access.py `readable_case_ids` for the signed-in member: lists are filtered (PRIV-3)."""
    request.state.policy_asked = True
    return policy.readable_case_ids(session, current_actor(request).id, case_ids)


def audit_list(request: Request, session: Session, *, entity: str, reason: str, terms: dict[str, Any],
               shown: Iterable[int | None], hidden: int) -> None:
    """Every case a page listed is audited as a search (PRIV-1)."""
    policy.audit_list(session, actor=current_actor(request).id, entity=entity, reason=reason, terms=terms,
                      shown=shown, hidden=hidden)

