"""The outbox (udbakke): every message is a row before it is anything else.

Queueing renders the template (pure) and stores the result with a unique idempotency key
(message kind + case + the deadline it serves + recipient), so no code path can queue the same
reminder twice. Delivery claims due rows, re-checks the suppression rules (ESC-1, CONS-1), asks
the transport whether a previous attempt already went out, sends, and records the result.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case as sa_case
from sqlalchemy import or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pprflow.models.address import Mailboxes, address_key, mailbox_key
from pprflow.models.errors import RuleViolation
from pprflow.models.tables import Case, CaseParty, Child, Consent, OutboxAttachment, OutboxMessage, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.transports.base import Attachment, DeliveryError, OutgoingMail, Transport

SYSTEM_ACTOR = "system:pprflow"

ABUSE_NOTIFICATION = "abuse_notification"
"""ESC-2: the notification about suspected violence or abuse. Nothing suppresses or cancels it."""



def not_cancellable(message: OutboxMessage) -> str:
    """ESC-2: why a notification cannot be cancelled, in one Danish line that says whether it was sent."""
    if message.status == "sent":
        state = "underretningen ER sendt" + (f" {message.sent_at:%Y-%m-%d %H:%M} UTC" if message.sent_at else "")
    else:
        state = "underretningen er IKKE sendt endnu, men står i kø og sendes straks"
    return f"besked {message.id} er en underretning om mistanke om vold eller overgreb og kan ikke annulleres: {state}"


def idempotency_key(kind: str, case_id: int | None, serves: str, recipient: str) -> str:
    """kind + case + the deadline/event it serves + recipient: the same reminder can exist once."""
    return f"{kind}|case:{case_id if case_id is not None else '-'}|{serves}|{recipient.strip().lower()}"


def _parents_of(session: Session, case_ids: Iterable[int]) -> Mailboxes:
    ids = list(case_ids)
    if not ids:
        return Mailboxes()
    rows = session.exec(
        select(CaseParty.email).where(col(CaseParty.case_id).in_(ids), CaseParty.is_parent == True)  # noqa: E712
    ).all()
    return Mailboxes(rows)


def _parent_rows(session: Session, addresses: Iterable[str]) -> list[tuple[int, str]]:
    """(case id, address) of every parent party whose mailbox one of these addresses reaches, whatever the
    spelling (ESC-1): indexed lookups of the one stored spelling (migration 0002_esc1 folds older rows) and
    of the mailbox without a sub-address (0014_mailbox)."""
    wanted = list(addresses)
    keys = sorted({address_key(a) for a in wanted} - {""})
    if not keys:
        return []
    mailboxes = sorted({mailbox_key(a) for a in wanted} - {""})
    return list(session.exec(select(CaseParty.case_id, CaseParty.email).where(
        or_(col(CaseParty.email).in_(keys), col(CaseParty.mailbox).in_(mailboxes)),
        CaseParty.is_parent == True)).all())  # noqa: E712


def _cases_with_parents(session: Session, addresses: Iterable[str]) -> set[int]:
    return {case_id for case_id, _ in _parent_rows(session, addresses)}


def same_child_case_ids(session: Session, case_ids: Iterable[int]) -> set[int]:
    """ESC-1: confidentiality follows the child, not one case row. The cases of the same child are the
    cases with the same child row, the cases at the same institution with the same pseudonym and birth
    year (a second referral about the child), and the cases that share a parent with them."""
    found = {i for i in case_ids if i}
    if not found:
        return found
    cases = session.exec(select(Case).where(col(Case.id).in_(list(found)))).all()
    child_ids = {c.child_id for c in cases if c.child_id is not None}
    if child_ids:
        children = session.exec(select(Child).where(col(Child.id).in_(list(child_ids)))).all()
        keys = {(c.pseudonym.strip().lower(), c.birth_year) for c in children}
        institutions = {c.institution_id for c in cases}
        same = session.exec(
            select(Case.id, Child.pseudonym, Child.birth_year).join(Child, col(Case.child_id) == col(Child.id))
            .where(col(Case.institution_id).in_(list(institutions)),
                   col(Child.birth_year).in_(sorted({year for _, year in keys})))
        ).all()
        found |= {case_id for case_id, pseudonym, year in same
                  if case_id is not None and (pseudonym.strip().lower(), year) in keys}
        found |= {i for i in session.exec(select(Case.id).where(col(Case.child_id).in_(list(child_ids)))).all()
                  if i is not None}
    found |= _cases_with_parents(session, _parents_of(session, found))
    return found


def is_confidential(session: Session, case: Case | None) -> bool:
    """ESC-1: the case, or any case of the same child, is confidential from the parents."""
    if case is None:
        return False
    if case.confidential_from_parents:
        return True
    ids = same_child_case_ids(session, [case.id or 0])
    return bool(session.exec(select(Case.id).where(col(Case.id).in_(list(ids)),
                                                   Case.confidential_from_parents == True)).first())  # noqa: E712


def parent_emails(session: Session, case_id: int) -> Mailboxes:
    """The parents of the child of this case, over all its cases (ESC-1): `address in parent_emails(…)` holds
    for any spelling of a parent's address, a sub-address included."""
    return _parents_of(session, same_child_case_ids(session, [case_id]))


def is_protected_parent(session: Session, case_id: int | None, email: str | None) -> bool:
    """ESC-1: `email` is a parent of this case's child (over all its cases) or of any child with a confidential
    case — never a coordinator, a case's leader, a rung of an escalation ladder (tasks/escalation.py) or a
    staff mail's recipient. Without a case (a notification before its case exists) only the second holds."""
    key = address_key(email)
    if not key:
        return False
    if case_id is not None and key in parent_emails(session, case_id):
        return True
    return bool(protected_among(session, [key]))


def protected_among(session: Session, addresses: Iterable[str]) -> Mailboxes:
    """ESC-1: which of these addresses belong to a parent of a child with a confidential case (over all the
    child's cases). Nothing pprflow sends may reach one of them, whatever case (or none) it is about.
    One indexed lookup of the addresses, then the confidentiality of the few cases they are parents on."""
    verdict: dict[int, bool] = {}
    protected: set[str] = set()
    for case_id, email in _parent_rows(session, addresses):
        if case_id not in verdict:
            verdict[case_id] = is_confidential(session, session.get(Case, case_id))
        if verdict[case_id]:
            protected.add(email)
    return Mailboxes(protected)


@dataclass(frozen=True)
class Suppressed:
    """Why a message was not queued or not delivered."""

    rule_id: str
    reason: str


def suppression(
    session: Session, *, case: Case | None, to: str, is_parent: bool, consent_id: int | None,
    cc: Sequence[str] = (),
    kind: str | None = None,
) -> Suppressed | None:
    """The rules that keep a message from its recipient, applied at queueing and again at delivery.

    ESC-1: after suspected violence or abuse, nothing reaches the parents — of this case or of any case
    of the same child, in To or in Cc, whatever the spelling (addresses compared bare and case-folded).
    CONS-1: after consent is withdrawn, nothing more is shared with partners on that consent.
    """
    if kind == ABUSE_NOTIFICATION:
        return None  # ESC-2: no other rule may hold it; it goes only to the profile's notifications address
    recipients = {address_key(a) for a in (to, *cc)}
    if is_parent and is_confidential(session, case):
        return Suppressed("ESC-1", "suspected abuse: the parents are not informed")
    if protected_among(session, recipients):
        return Suppressed("ESC-1", "suspected abuse: the parents are not informed")
    if consent_id is not None:
        consent = session.get(Consent, consent_id)
        if consent is None or consent.withdrawn_at is not None:
            return Suppressed("CONS-1", "consent withdrawn: nothing more is shared on it")
    return None


def queue_message(
    session: Session,
    *,
    kind: str,
    to: str,
    context: Mapping[str, Any],
    serves: str,
    sender: str,
    case: Case | None = None,
    cc: Sequence[str] = (),
    is_parent: bool = False,
    consent_id: int | None = None,
    send_after: dt.datetime | None = None,
    attachments: Iterable[Attachment] = (),
    actor: str = SYSTEM_ACTOR,
    reply_to: str | None = None,
    notification_id: int | None = None,
) -> OutboxMessage | None:
    """Render and queue one message for one recipient, or return the one already queued.

    Returns None when a rule suppresses it (ESC-1, CONS-1); the suppression is audited. The template
    learns whether it speaks to a parent (`for_parent`, decided here, where ESC-1 is); Reply-To is the
    person who signs (`signer.email` in the context) unless given (issue 16). `notification_id` ties a
    message about a notification to it, so retention purges it with its report even without a case (PRIV-2).
    """
    from pprflow.templates.catalogue import MESSAGE_KINDS, lane_of
    from pprflow.templates.render import render_message

    message_kind = MESSAGE_KINDS[kind]
    case_id = case.id if case is not None else None
    if kind == ABUSE_NOTIFICATION and cc:
        raise RuleViolation("ESC-1", "the abuse notification goes to the notifications address only, without cc")
    if case is not None and not is_parent:
        is_parent = address_key(to) in parent_emails(session, case.id or 0)
    if is_parent and not message_kind.may_reach_parents:
        raise RuleViolation("ESC-1", f"message kind {kind!r} is for staff only and may not be sent to a parent")
    key = idempotency_key(kind, case_id, serves, to)
    existing = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()
    if existing is not None:
        return existing
    blocked = suppression(session, case=case, to=to, cc=cc, is_parent=is_parent, consent_id=consent_id, kind=kind)
    if blocked is not None:
        audit.record(session, actor=actor, action="suppress", entity="outboxmessage", case_id=case_id,
                     reason=blocked.rule_id, detail={"kind": kind, "serves": serves, "why": blocked.reason})
        return None
    rendered = render_message(kind, {**context, "for_parent": is_parent})
    signer = context.get("signer")
    if reply_to is None and isinstance(signer, Mapping) and signer.get("email"):
        reply_to = str(signer["email"])
    message = OutboxMessage(
        idempotency_key=key, template=kind, lane=lane_of(kind), rule_id=message_kind.rule_id, case_id=case_id,
        consent_id=consent_id, sender=sender, reply_to=reply_to.strip() if reply_to else None,
        to=address_key(to), cc=[address_key(c) for c in cc],
        to_is_parent=is_parent, subject=rendered.subject.strip(), body_text=rendered.text, body_html=rendered.html,
        send_after=send_after or utcnow(), notification_id=notification_id,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:  # a concurrent run queued the same key first: keep theirs
        found = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
        return found
    for attachment in attachments:
        session.add(OutboxAttachment(message_id=message.id or 0, filename=attachment.filename,
                                     content_type=attachment.content_type, content=attachment.content))
    audit.record(session, actor=actor, action="create", entity="outboxmessage", entity_id=message.id,
                 case_id=case_id, detail={"kind": kind, "serves": serves})
    return message


def cancel_message(session: Session, message: OutboxMessage, *, reason: str, actor: str) -> bool:
    """Cancel a pending message (audited). Returns False if it was no longer pending.

    ESC-2, in this one place: the abuse notification cannot be cancelled — not by `outbox cancel`, a
    case closing, a consent withdrawal, a retention run or any other caller. The refusal is audited.
    """
    if message.template == ABUSE_NOTIFICATION:
        audit.record(session, actor=actor, action="refused", entity="outboxmessage", entity_id=message.id,
                     case_id=message.case_id, reason="ESC-2", detail={"cancel": reason})
        raise RuleViolation("ESC-2", not_cancellable(message))
    if message.status != "pending":
        return False
    message.status = "cancelled"
    message.cancelled_reason = reason
    session.add(message)
    audit.record(session, actor=actor, action="change", entity="outboxmessage", entity_id=message.id,
                 case_id=message.case_id, reason=reason, detail={"status": "cancelled"})
    return True


def cancel_pending(session: Session, *, where: Callable[[OutboxMessage], bool], case_id: int,
                   reason: str, actor: str) -> list[OutboxMessage]:
    """Cancel every pending message of a case that matches `where` (ESC-1, CONS-1)."""
    pending = session.exec(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id, OutboxMessage.status == "pending",
                                    OutboxMessage.template != ABUSE_NOTIFICATION)  # ESC-2: never cancelled
    ).all()
    cancelled = [m for m in pending if where(m) and cancel_message(session, m, reason=reason, actor=actor)]
    return cancelled


# --- delivery -----------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: list[int] = field(default_factory=list)
    already_sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    stopped_because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent), "already_sent": len(self.already_sent), "failed": len(self.failed),
            "cancelled": len(self.cancelled), "deferred": len(self.deferred),
            "stopped_because": self.stopped_because,
        }


class Throttle:
    """The interface delivery needs from a per-sending-mailbox throttle: production's is the database
    window every run shares (tasks/mailbox_quota.py), tests may use tasks/throttle.py's in-memory one."""

    def acquire(self, mailbox: str, recipients: int, now: float, lane: str = "routine") -> float:  # pragma: no cover
        """Take the slot (0.0) or return the seconds to wait, nothing taken; atomic across runs."""
        return 0.0


URGENT = "urgent"
ROUTINE = "routine"
LANES: tuple[str, ...] = (URGENT, ROUTINE)

CLAIM_LEASE = dt.timedelta(minutes=15)
"""A claim older than this is taken over by the next run (a run on another machine that died). Far
longer than any transport's timeout, so a live run never loses a message it is still sending."""

MINUTE_WAIT = 60.0
"""The longest an urgent message waits for its mailbox's rolling minute (ESC-1: never deferred by it)."""

URGENT_RETRY = dt.timedelta(minutes=2)
"""An urgent message whose transport failed transiently is tried again this much later (ESC-1/LAW-1)."""

_ACTIVE_RUNS: set[str] = set()
"""The claimant ids of the delivery runs alive in this process (see `dead_claimants`)."""


def new_claimant() -> str:
    """host:pid:token of one delivery run: who holds a claim, and whether that run can still be alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def dead_claimants(claimants: Iterable[str]) -> list[str]:
    """The claimants that cannot be running any more: on this host, and either their process is gone
    (SIGKILL, power cut of a worker) or it is this process and the run has ended (an exception, a lost
    database connection). Their claims are taken over at once; others only after CLAIM_LEASE."""
    host, me = socket.gethostname(), os.getpid()
    dead = []
    for claimant in claimants:
        claim_host, _, rest = claimant.partition(":")
        pid_text, _, _token = rest.partition(":")
        if claim_host != host or not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if (pid == me and claimant not in _ACTIVE_RUNS) or (pid != me and not _process_alive(pid)):
            dead.append(claimant)
    return dead


def writer(engine: Engine) -> Engine:
    """The engine whose transactions begin with BEGIN IMMEDIATE on SQLite (pprflow/db.py): the write
    lock is taken first, so the busy timeout applies instead of "database is locked"."""
    return engine.execution_options(pprflow_begin_immediate=True)


def claim_next(session: Session, *, claimant: str, now: dt.datetime, lanes: Sequence[str] = LANES,
               only: Sequence[int] | None = None, skip_senders: Iterable[str] = (),
               takeover: Sequence[str] = ()) -> int | None:
    """Take the next due message for this run with one conditional statement, or None.

    Urgent before routine, then oldest first. PostgreSQL: UPDATE ... WHERE id = (SELECT ... FOR UPDATE
    SKIP LOCKED LIMIT 1) RETURNING id, so concurrent runs split the work (procrastinate's fetch_job);
    SQLite: the same statement inside a BEGIN IMMEDIATE transaction (pprflow/db.py). A message is
    free when nobody claimed it, its claim is older than CLAIM_LEASE, or its claimant is dead.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    c = table.c
    free = or_(c.claimed_at.is_(None), c.claimed_at < now - CLAIM_LEASE)
    if takeover:
        free = or_(free, c.claimed_by.in_(list(takeover)))
    candidate = (
        sa_select(c.id)
        .where(c.status == "pending", c.send_after <= now, c.lane.in_(list(lanes)), free)
        .order_by(sa_case((c.lane == URGENT, 0), else_=1), c.send_after, c.id)
        .limit(1)
    )
    senders = list(skip_senders)
    if senders:
        candidate = candidate.where(c.sender.not_in(senders))
    if only is not None:
        candidate = candidate.where(c.id.in_(list(only)))
    if session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(c.id == candidate.scalar_subquery())
        .values(claimed_at=now, claimed_by=claimant)
        .returning(c.id)
    )
    claimed = session.execute(statement).scalar_one_or_none()
    session.commit()
    return int(claimed) if claimed is not None else None


def due_message_ids(session: Session, *, now: dt.datetime, limit: int | None = None,
                    only: Sequence[int] | None = None, lanes: Sequence[str] = LANES,
                    senders: Sequence[str] | None = None) -> list[int]:
    """The due pending messages, urgent first, then oldest first (what `outbox list` and reports show)."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.send_after <= now, col(OutboxMessage.lane).in_(list(lanes))
    ).order_by(sa_case((col(OutboxMessage.lane) == URGENT, 0), else_=1), col(OutboxMessage.send_after),
               col(OutboxMessage.id))
    if only is not None:
        query = query.where(col(OutboxMessage.id).in_(list(only)))
    if senders is not None:
        query = query.where(col(OutboxMessage.sender).in_(list(senders)))
    if limit is not None:
        query = query.limit(limit)
    return [i for i in session.exec(query).all() if i is not None]


NOTIFICATION_KINDS = frozenset({"abuse_notification", "acknowledgement_overdue", "notification_undelivered"})
ANONYMOUS_KINDS = frozenset({"kv_notice_reminder", "kv_topic_list"})  # KV-1: no child identity by construction


def is_sensitive(template: str, case: Case | None) -> bool:
    """Issue 16: is this message about a named child or a notification (then SMTP needs verified TLS)?

    A notification always is; a KV message never is (KV-1); a message without a case is treated as
    sensitive (the district case list names several children); otherwise: does the case have a child?
    """
    if template in NOTIFICATION_KINDS:
        return True
    if template in ANONYMOUS_KINDS:
        return False
    if case is None:
        return True
    return case.child_id is not None


def display_names(session: Session, addresses: Iterable[str], *, case_id: int | None,
                  mailbox_names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Issue 13/16: the display name of each recipient address, from the staff directory, then the case's
    parties (partners, and parents where a mail may reach them), then the profile's mailboxes
    (`mailbox_names`: the unit, the notifications reception, each district team). An address with none
    maps to "". The name is data stored beside the bare address (the one address type, ESC-1); nothing
    here parses a name out of free text."""
    keys = {address_key(a) for a in addresses} - {""}
    found: dict[str, str] = {}
    if not keys:
        return found
    rows: list[tuple[str, str | None]] = list((mailbox_names or {}).items())
    if case_id is not None:
        rows += list(session.exec(select(CaseParty.email, CaseParty.name).where(
            CaseParty.case_id == case_id, col(CaseParty.email).in_(sorted(keys)))).all())
    rows += list(session.exec(select(StaffMember.email, StaffMember.name).where(
        col(StaffMember.email).in_(sorted(keys)))).all())
    for email, name in rows:  # later sources win: the staff directory over the case's parties over the profile
        shown = _display_name(name)
        if address_key(email) in keys and shown:
            found[address_key(email)] = shown
    return found


def _display_name(name: str | None) -> str:
    """A stored name as one header-safe line: line breaks and other control characters (a hostile or
    careless entry) are folded to single spaces, so a name can never stop a mail nor add a header."""
    text = "".join(c if c.isprintable() else " " for c in (name or ""))
    return " ".join(text.split())[:200]


def to_outgoing(session: Session, message: OutboxMessage, *, sender_name: str = "",
                mailbox_names: Mapping[str, str] | None = None) -> OutgoingMail:
    files = session.exec(select(OutboxAttachment).where(OutboxAttachment.message_id == message.id)).all()
    case = session.get(Case, message.case_id) if message.case_id is not None else None
    names = display_names(session, [message.to, *message.cc], case_id=message.case_id, mailbox_names=mailbox_names)
    return OutgoingMail(
        idempotency_key=message.idempotency_key, sender=message.sender, to=message.to,
        cc=tuple(message.cc), subject=message.subject, text=message.body_text, html=message.body_html,
        attachments=tuple(Attachment(f.filename, f.content_type, f.content) for f in files),
        reply_to=message.reply_to, sensitive=is_sensitive(message.template, case), sender_name=sender_name,
        to_name=names.get(address_key(message.to), ""),
        cc_names=tuple(names.get(address_key(c), "") for c in message.cc),
    )


def deliver_due(
    engine: Engine,
    transport: Transport,
    *,
    now: Callable[[], dt.datetime] = utcnow,
    limit: int | None = None,
    only: Sequence[int] | None = None,
    lanes: Sequence[str] = LANES,
    throttle: Throttle | None = None,
    max_throttle_wait: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    close_transport: bool = True,
    sender_names: Mapping[str, str] | None = None,
    mailbox_names: Mapping[str, str] | None = None,
) -> DeliveryReport:
    """Deliver every due message, urgent first, then oldest first, one transaction per state change.

    Each message is claimed atomically (`claim_next`), so runs that overlap split the work and no
    message goes out twice. A transient error (mail server down) stops the run and leaves the message
    pending with its error, so nothing is lost and order is kept — except in the urgent lane, where the
    failing message is retried URGENT_RETRY later and the run goes on to the next urgent message (another
    notification, or the escalation of this one, ESC-1); a permanent error marks that message
    failed. Urgent messages (ESC-1/LAW-1) go before routine mail and never wait for the routine
    throttle. Before re-sending a message that was claimed before (a crash mid-send), the transport is
    asked whether it already went out (Exchange and Graph look in Sent Items): no double send there.
    """
    claimant = new_claimant()
    _ACTIVE_RUNS.add(claimant)
    try:
        return _deliver(engine, transport, claimant=claimant, now=now, limit=limit, only=only, lanes=lanes,
                        throttle=throttle, max_throttle_wait=max_throttle_wait, clock=clock, sleep=sleep,
                        sender_names=sender_names or {}, mailbox_names=mailbox_names or {})
    finally:
        _ACTIVE_RUNS.discard(claimant)
        close = getattr(transport, "close", None)
        if close_transport and callable(close):  # e.g. end the SMTP session that served the whole run
            close()


def _release(message: OutboxMessage) -> None:
    message.claimed_at = None
    message.claimed_by = None


def _deliver(engine: Engine, transport: Transport, *, claimant: str, now: Callable[[], dt.datetime],
             limit: int | None, only: Sequence[int] | None, lanes: Sequence[str], throttle: Throttle | None,
             max_throttle_wait: float, clock: Callable[[], float], sleep: Callable[[float], None],
             sender_names: Mapping[str, str], mailbox_names: Mapping[str, str]) -> DeliveryReport:
    report = DeliveryReport()
    with Session(writer(engine)) as session:
        held = session.exec(select(OutboxMessage.claimed_by).where(
            OutboxMessage.status == "pending", col(OutboxMessage.claimed_by).is_not(None)).distinct()).all()
        takeover = dead_claimants(c for c in held if c is not None)
    throttled_senders: set[str] = set()
    taken = 0
    with Session(writer(engine), expire_on_commit=False) as session:  # one session, one transaction per change
        while limit is None or taken < limit:
            session.expunge_all()  # nothing stale from the previous message; memory stays flat
            message_id = claim_next(session, claimant=claimant, now=now(), lanes=lanes, only=only,
                                    skip_senders=throttled_senders, takeover=takeover)
            if message_id is None:
                break
            taken += 1
            message = session.get(OutboxMessage, message_id)
            if message is None or message.status != "pending" or message.claimed_by != claimant:
                session.commit()
                continue
            urgent = message.lane == URGENT
            case = session.get(Case, message.case_id) if message.case_id is not None else None
            blocked = suppression(session, case=case, to=message.to, cc=message.cc, is_parent=message.to_is_parent,
                                  consent_id=message.consent_id, kind=message.template)
            if blocked is not None:  # checked again at delivery (ESC-1, CONS-1)
                _release(message)
                cancel_message(session, message, reason=blocked.rule_id, actor=SYSTEM_ACTOR)
                session.commit()
                report.cancelled.append(message_id)
                continue
            if throttle is not None:
                # Both lanes count against the mailbox's limit (Exchange blocks a mailbox over it, which
                # would hold the notification too); routine mail leaves the ESC-1 reserve free, and an
                # urgent message waits for the window (at most a minute) instead of being deferred.
                session.commit()  # no transaction held here: the throttle takes its own write lock
                recipients = 1 + len(message.cc)
                longest = max(max_throttle_wait, MINUTE_WAIT if urgent else 0.0)
                wait = throttle.acquire(message.sender, recipients, clock(), message.lane)
                for _ in range(3):  # another run may take the freed slot first; then defer
                    if not 0 < wait <= longest:
                        break
                    sleep(wait)
                    wait = throttle.acquire(message.sender, recipients, clock(), message.lane)
                if wait > 0:
                    throttled_senders.add(message.sender)
                    _release(message)
                    session.add(message)
                    session.commit()
                    continue
            previously_claimed = message.sending_started_at is not None
            message.attempts += 1
            message.sending_started_at = now()
            session.add(message)
            session.commit()  # the attempt is durable before anything leaves the building
            outgoing = to_outgoing(session, message, sender_name=sender_names.get(message.sender, ""),
                                   mailbox_names=mailbox_names)
            session.commit()  # no transaction (and on SQLite no lock) is held while the transport talks
            try:
                sent_id = transport.already_sent(message.idempotency_key) if previously_claimed else None
                if sent_id is not None:
                    report.already_sent.append(message_id)
                else:
                    sent_id = transport.send(outgoing)
                    report.sent.append(message_id)
            except DeliveryError as exc:
                message.last_error = exc.one_line()[:2000]
                _release(message)
                if exc.transient:
                    if urgent:  # tried again in a few minutes by the every-minute urgent run
                        message.send_after = now() + URGENT_RETRY
                    session.add(message)
                    session.commit()
                    report.errors[message_id] = message.last_error
                    report.stopped_because = message.last_error
                    if urgent:  # ESC-1: the next urgent message (another notification, its escalation) still goes
                        continue
                    break
                message.status = "failed"
                session.add(message)
                audit.record(session, actor=SYSTEM_ACTOR, action="change", entity="outboxmessage",
                             entity_id=message_id, case_id=message.case_id, reason="delivery failed",
                             detail={"status": "failed"})
                session.commit()
                report.failed.append(message_id)
                report.errors[message_id] = message.last_error
                continue
            message.status = "sent"
            message.sent_at = now()
            message.transport_message_id = sent_id
            message.last_error = None
            _release(message)
            session.add(message)
            audit.record(session, actor=SYSTEM_ACTOR, action="send", entity="outboxmessage",
                         entity_id=message_id, case_id=message.case_id, detail={"transport": transport.name})
            session.commit()
    if throttled_senders:
        with Session(engine) as session:
            report.deferred = due_message_ids(session, now=now(), only=only, lanes=lanes,
                                              senders=sorted(throttled_senders))
    return report


def retry_message(session: Session, message: OutboxMessage, *, actor: str) -> None:
    """Put a failed (or cancelled by mistake) message back in the queue, now."""
    message.status = "pending"
    message.send_after = utcnow()
    session.add(message)
    audit.record(session, actor=actor, action="change", entity="outboxmessage", entity_id=message.id,
                 case_id=message.case_id, reason="retry", detail={"status": "pending"})


def message_public(message: OutboxMessage) -> dict[str, Any]:
    """The JSON shape of `pprflow outbox list --json`."""
    return {
        "id": message.id, "to": [message.to], "cc": list(message.cc), "subject": message.subject,
        "template": message.template, "rule_id": message.rule_id, "case_id": message.case_id,
        "status": message.status, "send_after": message.send_after.isoformat(),
        "attempts": message.attempts, "last_error": message.last_error,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "sender": message.sender, "to_is_parent": message.to_is_parent,
    }
