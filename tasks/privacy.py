"""The audit trail (PRIV-1): `pprflow audit show`, for those who may read the case (PRIV-3).

Who may read is decided by the one policy through `pprflow.tasks.access.authorize`.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.tables import AuditEvent
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import get_case
from pprflow.tasks.context import Ctx


def audit_trail(*, ctx: Ctx, case_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """`pprflow audit show --case ID`: the case's audit rows, oldest first (PRIV-1), for those who may read it.

    The look itself is audited (action "read", entity "audit").
    """
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.AUDIT_READ, case=case, what="audit show")
        query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.at),
                                                                                 col(AuditEvent.id))
        if limit is not None:
            query = query.limit(limit)
        rows = [audit_public(e) for e in session.exec(query).all()]
        audit.record(session, actor=ctx.actor, action="read", entity="audit", entity_id=case_id, case_id=case_id,
                     reason="audit show", detail={"rows": len(rows)})
        session.commit()
        return rows


def audit_public(event: AuditEvent) -> dict[str, Any]:
    """The JSON shape of one audit row: who, when, what, why."""
    return {"id": event.id, "at": event.at.isoformat(), "actor": event.actor, "action": event.action,
            "entity": event.entity, "entity_id": event.entity_id, "case_id": event.case_id,
            "reason": event.reason, "detail": event.detail}
