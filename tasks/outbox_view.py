"""What people do with the outbox by hand: list, preview, retry, cancel (`pprflow outbox ...`).

Every one asks the one policy first (PRIV-3, PRIV-4, `tasks/access.py`): the list shows only the
messages the actor may read (never all or nothing) and is audited on every case it showed; a
preview is a read of the message's case (or, for a message that belongs to no case, of every case it
shows); retry and cancel change the case. Delivery itself is `tasks/delivery.py` (a system job).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.errors import InvalidInput, NotFound, RuleViolation
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import OutboxMessage
from pprflow.tasks import audit
from pprflow.tasks.access import audit_list, authorize, readable_messages, shown_case_ids
from pprflow.tasks.casefile import MAX_ID
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import cancel_message, message_public, retry_message

STATUSES = ("pending", "held", "sent", "failed", "cancelled")  # held: waits for review (ESC-3)


def get_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id) if 0 < message_id <= MAX_ID else None
    if message is None:
        raise NotFound(f"besked {message_id} findes ikke i udbakken; se id'erne med pprflow outbox list")
    return message


def list_messages(ctx: Ctx, *, status: str | None = None, case_id: int | None = None) -> list[dict[str, Any]]:
    """`pprflow outbox list`: the messages the actor may read (PRIV-3), audited as a search (PRIV-1)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status {status!r} findes ikke; brug en af {', '.join(STATUSES)}")
    query = select(OutboxMessage).order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))
    if status:
        query = query.where(OutboxMessage.status == status)
    if case_id is not None:
        query = query.where(OutboxMessage.case_id == case_id)
    with Session(ctx.engine) as session:
        if case_id is not None:  # asking for one case is reading it: refused (and audited) if not allowed
            authorize(session, ctx.actor, Perm.CASE_READ, case=case_id, what="outbox list")
        else:
            authorize(session, ctx.actor, Perm.OUTBOX_LIST, what="outbox list")
        found = list(session.exec(query).all())
        shown = readable_messages(session, ctx.actor, found)
        rows = [message_public(m) for m in shown]
        audit_list(session, actor=ctx.actor, entity="outboxmessage", reason="outbox list",
                   terms={"status": status, "case": case_id},
                   shown=[c for m in shown for c in shown_case_ids(session, m)], hidden=len(found) - len(shown))
        session.commit()
    return rows


def preview_message(ctx: Ctx, *, message_id: int) -> dict[str, Any]:
    """`pprflow outbox preview ID`: the message as its recipient will see it, for those who may read it."""
    with Session(ctx.engine) as session:
        message = get_message(session, message_id)
        authorize(session, ctx.actor, Perm.MESSAGE_READ, message=message, what=f"outbox preview {message_id}")
        shows: list[int | None] = [*shown_case_ids(session, message)]
        for case_id in shows or [None]:  # PRIV-1: on every case it shows
            audit.record(session, actor=ctx.actor, action="read", entity="outboxmessage", entity_id=message_id,
                         case_id=case_id, reason="outbox preview")
        session.commit()
        return {"sender": message.sender, "to": message.to, "cc": list(message.cc), "subject": message.subject,
                "status": message.status, "body_text": message.body_text, "body_html": message.body_html}


def retry(ctx: Ctx, *, message_id: int) -> dict[str, Any]:
    """`pprflow outbox retry ID`: a failed message back in the queue — a change to its case (PRIV-4)."""
    with Session(ctx.engine) as session:
        message = get_message(session, message_id)
        authorize(session, ctx.actor, Perm.MESSAGE_RETRY, message=message, what=f"outbox retry {message_id}")
        if message.status == "sent":
            raise InvalidInput(f"besked {message_id} blev sendt {message.sent_at:%Y-%m-%d %H:%M} UTC og sendes ikke to "
                               "gange; lav en ny besked, hvis modtageren skal have den igen")
        if message.status == "cancelled" and message.cancelled_reason in {"ESC-1", "CONS-1"}:
            raise RuleViolation(message.cancelled_reason, f"besked {message_id} blev annulleret efter reglen "
                                f"{message.cancelled_reason} og må ikke sendes")
        retry_message(session, message, actor=ctx.actor)
        session.commit()
    return {"message_id": message_id, "status": "pending"}


def cancel(ctx: Ctx, *, message_id: int, reason: str) -> dict[str, Any]:
    """`pprflow outbox cancel ID`: cancel a pending message — a change to its case (PRIV-4)."""
    check_no_cpr_number("--reason", reason)  # PRIV-2
    with Session(ctx.engine) as session:
        message = get_message(session, message_id)
        authorize(session, ctx.actor, Perm.MESSAGE_CANCEL, message=message, what=f"outbox cancel {message_id}")
        try:
            cancelled = cancel_message(session, message, reason=reason, actor=ctx.actor)
        except RuleViolation:
            session.commit()  # ESC-2: the refused attempt stays in the audit log
            raise
        if not cancelled:
            raise InvalidInput(f"besked {message_id} har status {message.status}; kun beskeder, der venter i køen "
                               "(pending), kan annulleres")
        session.commit()
    return {"message_id": message_id, "status": "cancelled"}
