"""Who may read a case (PRIV-3), enforced in the read paths, and the audit trail (PRIV-1).

`authorize_case_read` loads the case's people, asks the pure rule (`pprflow.models.rules_privacy.can_read_case`)
and, when it says no, writes a "refused" audit row in its own transaction (it must survive the
caller's rollback) and raises `AccessDenied` (PRIV-3). `audit_trail` is `pprflow audit show`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.errors import AccessDenied
from pprflow.models.rules_privacy import CaseAccess, case_access, is_system_actor
from pprflow.models.tables import AuditEvent, Case, CaseParty, Consent, StaffMember
from pprflow.tasks import audit
from pprflow.tasks.casefile import LEADER_ROLES, get_case
from pprflow.tasks.context import Ctx


def access_for(session: Session, case: Case) -> CaseAccess:
    """The staff assigned to `case` and their leaders (PRIV-3), from the case, its parties and the staff table."""
    withdrawn = {c for c in session.exec(select(Consent.id).where(
        Consent.case_id == case.id, col(Consent.withdrawn_at).is_not(None))).all()}
    staff_parties = [
        (p.email, p.role) for p in session.exec(select(CaseParty).where(CaseParty.case_id == case.id)).all()
        if not p.is_parent and (p.consent_id is None or p.consent_id not in withdrawn)  # CONS-1
    ]
    people = {e.strip().lower() for e in (case.coordinator_email, case.assigned_ppr_email, case.submitted_by_email,
                                          *(e for e, _ in staff_parties)) if e}
    members = session.exec(select(StaffMember).where(col(StaffMember.email).in_(people))).all() \
        if people else []
    leaders = session.exec(select(StaffMember.email).where(
        StaffMember.institution_id == case.institution_id, col(StaffMember.role).in_(LEADER_ROLES))).all()
    return case_access(
        coordinator=case.coordinator_email, assigned_ppr=case.assigned_ppr_email,
        submitted_by=case.submitted_by_email, staff_parties=staff_parties,
        leader_of={m.email.strip().lower(): m.leader_email for m in members}, institution_leaders=leaders,
    )


def record_refusal(engine: Engine, *, actor: str, case_id: int | None, what: str, entity: str = "case",
                   entity_id: object | None = None) -> None:
    """A refused read is itself audited (PRIV-1, PRIV-3), committed on its own."""
    with Session(engine) as session:
        audit.record(session, actor=actor, action="refused", entity=entity,
                     entity_id=entity_id if entity_id is not None else case_id, case_id=case_id,
                     reason="PRIV-3", detail={"what": what})
        session.commit()


def authorize_case_read(session: Session, *, actor: str, case: Case, what: str) -> str:
    """Return why `actor` may read `case`; else audit the refusal and raise AccessDenied (PRIV-3)."""
    if is_system_actor(actor):
        return "system"
    basis = access_for(session, case).basis(actor)
    if basis is not None:
        return basis
    record_refusal(session.get_bind(), actor=actor, case_id=case.id, what=what)  # type: ignore[arg-type]
    raise AccessDenied(f"{actor} may not read case {case.id}: only the staff assigned to it and their leaders "
                       "can; ask the case's coordinator (tovholder) to add you")


def audit_trail(*, ctx: Ctx, case_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """`pprflow audit show --case ID`: the case's audit rows, oldest first (PRIV-1), for those who may read it.

    The look itself is audited (action "read", entity "audit").
    """
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize_case_read(session, actor=ctx.actor, case=case, what="audit show")
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
