"""Local accounts (the embedded default): argon2-hashed passwords on the staff directory (PRIV-4).

`set_password` is `pprflow staff set-password` / `staff add --password`; `check_login` is the sign-in form.
A password is never stored, logged or shown; only its argon2 hash, on the member's directory row.
"""

from __future__ import annotations

import datetime as dt
import math

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.access import ADMINISTRATOR, Perm
from pprflow.models.errors import InvalidInput, NotFound
from pprflow.models.tables import AuditEvent, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize

MIN_PASSWORD_LENGTH = 12
LOGIN_FAILURE_LIMIT = 5
LOGIN_WINDOW = dt.timedelta(minutes=15)
"""PRIV-4: at most LOGIN_FAILURE_LIMIT wrong passwords per account within LOGIN_WINDOW."""
LOGIN_REFUSED = "PRIV-4: web login refused"
LOGIN_THROTTLED = "PRIV-4: web login throttled"
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("pprflow-timing-equaliser")


def check_password_strength(password: str) -> None:
    """One Danish line when the password is too weak; nothing stored."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"adgangskoden skal være mindst {MIN_PASSWORD_LENGTH} tegn; vælg en længere")
    if password.strip() != password:
        raise InvalidInput("adgangskoden må ikke begynde eller slutte med mellemrum")


def _bootstrap(session: Session, member: StaffMember) -> bool:
    """The operator gives the first administrator a password (same trust as adding the first administrator)."""
    if member.role != ADMINISTRATOR:
        return False
    has = session.exec(select(StaffMember.id).where(StaffMember.role == ADMINISTRATOR,
                                                    col(StaffMember.password_hash).is_not(None))).first()
    return has is None


def authorize_set_password(engine: Engine, *, actor: str, email: str) -> None:
    """May `actor` set `email`'s password? Asked before a password is even typed (PRIV-4; a refusal is audited)."""
    needle = email.strip().lower()
    with Session(engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
        if member is None or not _bootstrap(session, member):
            authorize(session, actor, Perm.STAFF_MANAGE, what="staff set-password")


def set_password(engine: Engine, *, actor: str, email: str, password: str) -> dict[str, object]:
    """`pprflow staff set-password EMAIL`: an administrator sets a member's password (audited, PRIV-1)."""
    check_password_strength(password)
    needle = email.strip().lower()
    with Session(engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
        if member is None:
            raise NotFound(f"{needle} er ikke i medarbejderkartoteket; tilføj først med pprflow staff add")
        if not _bootstrap(session, member):
            authorize(session, actor, Perm.STAFF_MANAGE, what="staff set-password")  # PRIV-4
        member.password_hash = _HASHER.hash(password)
        session.add(member)
        audit.record(session, actor=actor, action="change", entity="staffmember", entity_id=member.id,
                     reason="staff directory", detail={"password": "set"})
        session.commit()
    return {"email": needle, "password": "sat"}


class TooManyAttempts(Exception):
    """PRIV-4: LOGIN_FAILURE_LIMIT wrong passwords for one account within LOGIN_WINDOW; retry in `minutes`."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"too many failed sign-ins; retry in {minutes} minutes")
        self.minutes = minutes

    def danish(self) -> str:
        unit = "minut" if self.minutes == 1 else "minutter"
        return f"For mange forsøg med forkert adgangskode. Prøv igen om {self.minutes} {unit}."


def _check_throttle(session: Session, account: str, now: dt.datetime) -> None:
    """PRIV-4: refuse a sign-in (before the password is even checked) after LOGIN_FAILURE_LIMIT failures for the
    account within LOGIN_WINDOW, counted from the audit log, where each failure is recorded. Counted per typed
    e-mail, known or not, so the answer never tells whether an account exists."""
    failures = session.exec(select(AuditEvent.at).where(
        AuditEvent.actor == account, AuditEvent.action == "refused", AuditEvent.reason == LOGIN_REFUSED,
        col(AuditEvent.at) >= now - LOGIN_WINDOW).order_by(col(AuditEvent.at))).all()
    if len(failures) < LOGIN_FAILURE_LIMIT:
        return
    opens_at = failures[-LOGIN_FAILURE_LIMIT] + LOGIN_WINDOW
    minutes = max(1, math.ceil((opens_at - now).total_seconds() / 60))
    audit.record(session, actor=account, action="refused", entity="websession", reason=LOGIN_THROTTLED,
                 detail={"what": "web login", "failures": len(failures), "retry_minutes": minutes})
    session.commit()
    raise TooManyAttempts(minutes)


def check_login(engine: Engine, *, email: str, password: str, now: dt.datetime | None = None) -> str | None:
    """The member's e-mail when `password` is theirs and they are active (PRIV-4), else None (same time either way).
    Raises TooManyAttempts after too many failures for the account (PRIV-4), known or unknown alike."""
    needle = email.strip().lower()
    now = now or utcnow()
    with Session(engine) as session:
        _check_throttle(session, needle or "(ingen)", now)
        member = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
        stored = member.password_hash if member is not None else None
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password)
            ok = stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and member is not None and member.active:
            if _HASHER.check_needs_rehash(stored or ""):
                member.password_hash = _HASHER.hash(password)
                session.add(member)
            audit.record(session, actor=needle, action="create", entity="websession", entity_id=member.id,
                         reason="web login", detail={"method": "password"})
            session.commit()
            return needle
        audit.record(session, actor=needle or "(ingen)", action="refused", entity="staffmember",
                     entity_id=member.id if member else None, reason=LOGIN_REFUSED, detail={"what": "web login"})
        session.commit()
        return None
