"""Coordinator handover (skift af tovholder, ROLE-1) and the case overview (`pprflow case show`).

ROLE-1 [003]: every open case has exactly one coordinator; on a handover "er det 'afgivende
tovholders' ansvar at sikre, at alle er bekendte med dette" — so everyone on the case is told who
takes over (the parents too, unless the case is confidential from them, ESC-1).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.address import parse_address
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_deadlines import LADDER_END
from pprflow.models.tables import Deadline, Meeting, Notification
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import (
    Recipient,
    case_context,
    case_recipients,
    get_case,
    party_by_email,
    person_name,
    queue_for_recipients,
    signer_context,
    unique,
)
from pprflow.tasks.context import Ctx

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def check_new_coordinator(to_email: str, *, is_parent: bool) -> str:
    """ROLE-1: exactly one coordinator (one address), a professional on the case, never a parent."""
    value = to_email.strip()
    if not _EMAIL.match(value):
        raise RuleViolation("ROLE-1", f"a case has exactly one coordinator: give one email address, got {value!r}")
    value = parse_address(value, "--to")  # the one address type: bare, case-folded (ESC-1)
    if is_parent:
        raise RuleViolation("ROLE-1", f"{value} is a parent on the case; the coordinator is a professional")
    return value


def handover(*, ctx: Ctx, case_id: int, to_email: str, today: dt.date) -> dict[str, Any]:
    """`pprflow case handover CASE --to EMAIL`: set the one new coordinator and tell everyone on the case.
    Running it twice hands over once and informs once."""
    from pprflow.templates.catalogue import MESSAGE_KINDS

    profile = ctx.profile
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_HANDOVER, case=case, what="case handover")  # PRIV-4
        if case.status != "open":
            raise InvalidInput(f"case {case_id} is {case.status}; only an open case has a coordinator")
        existing = party_by_email(session, case_id, to_email)
        new = check_new_coordinator(to_email, is_parent=bool(existing and existing.is_parent))
        from pprflow.tasks.outbox import is_protected_parent

        if is_protected_parent(session, case_id, new):  # ESC-1, every case
            raise RuleViolation("ROLE-1", f"{new} is a parent of a child on a case; the coordinator is a "
                                          "professional (ESC-1: a parent never coordinates)")
        old = case.coordinator_email
        if old.strip().lower() == new.lower():
            return {"case_id": case_id, "coordinator": old, "changed": False, "messages": [], "rule_id": "ROLE-1"}
        case.coordinator_email = new
        case.last_activity_at = utcnow()
        session.add(case)
        if existing is None:
            from pprflow.tasks.meetings import _add_party

            _add_party(session, case=case, name=person_name(session, new, case_id=case_id), email=new,
                       role="coordinator", actor=ctx.actor)
        audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case_id, case_id=case_id,
                     reason="ROLE-1", detail={"coordinator": {"from": old, "to": new}})
        # ESC-1: case_recipients leaves the parents out when the case is confidential from them.
        include_parents = MESSAGE_KINDS["coordinator_handover"].may_reach_parents
        recipients = unique([
            Recipient(email=new, name=person_name(session, new, case_id=case_id), role="coordinator"),
            Recipient(email=old, name=person_name(session, old, case_id=case_id), role="coordinator"),
            *case_recipients(session, case, include_parents=include_parents),
        ])
        shared = {
            "case": case_context(session, case, profile),
            "new_coordinator": signer_context(session, new, case_id=case_id),  # issue 16: who, and how to reach
            "previous_coordinator_name": person_name(session, old, case_id=case_id),
            "handover_on": today,
            "link": None,
        }
        queued = queue_for_recipients(
            session, kind="coordinator_handover", recipients=recipients, shared=shared, profile=profile,
            signer=signer_context(session, old, case_id=case_id), case=case,
            serves=f"handover:{today.isoformat()}:{new.lower()}", actor=ctx.actor)
        session.commit()
        return {"case_id": case_id, "coordinator": new, "previous_coordinator": old, "changed": True,
                "messages": queued, "parents_informed": include_parents and not case.confidential_from_parents,
                "rule_id": "ROLE-1"}


def show_case(*, ctx: Ctx, case_id: int) -> dict[str, Any]:
    """`pprflow case show CASE`: levels, coordinator, parties, open deadlines, the ESC-1 flag (audited read)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        from pprflow.tasks.casefile import active_consents, parties

        authorize(session, ctx.actor, Perm.CASE_READ, case=case, what="case show")  # PRIV-3

        people = parties(session, case_id)
        deadlines = session.exec(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.done_at == None)  # noqa: E711
            .order_by(col(Deadline.due_on), col(Deadline.id))
        ).all()
        meetings = session.exec(select(Meeting).where(Meeting.case_id == case_id)
                                .order_by(col(Meeting.date), col(Meeting.id))).all()
        notifications = session.exec(select(Notification).where(Notification.case_id == case_id)).all()
        audit.record(session, actor=ctx.actor, action="read", entity="case", entity_id=case_id, case_id=case_id,
                     reason="case show")
        session.commit()
        return {
            "case_id": case.id,
            "pathway": case.pathway,
            "status": case.status,
            "levels": {"institution": case.level_institution, "family": case.level_family},
            "level_reason": case.level3_reason,
            "coordinator": case.coordinator_email,
            "assigned_ppr": case.assigned_ppr_email,
            "confidential_from_parents": case.confidential_from_parents,
            "specialised_effort_started_on": (case.specialised_effort_started_on.isoformat()
                                              if case.specialised_effort_started_on else None),
            "parties": {
                "total": len(people),
                "parents": sum(1 for p in people if p.is_parent),
                "partners_on_consent": sum(1 for p in people if p.consent_id is not None),
                "professionals": sum(1 for p in people if not p.is_parent),
            },
            "active_consents": [c.id for c in active_consents(session, case_id)],
            "deadlines": [{"kind": d.kind, "rule_id": d.rule_id, "due_on": d.due_on.isoformat(),
                           # issue 17: past its ladder's last rung nothing more is sent: no reminder day
                           "remind_on": None if d.remind_on == LADDER_END else d.remind_on.isoformat(),
                           "escalation_step": d.escalation_step, "meeting_id": d.meeting_id} for d in deadlines],
            "meetings": [{"id": m.id, "kind": m.kind, "date": m.date.isoformat(), "level": m.level,
                          "status": m.status, "agenda_deadline": m.agenda_deadline.isoformat()
                          if m.agenda_deadline else None} for m in meetings],
            "notifications": [{"id": n.id, "acknowledgement_due": n.acknowledgement_due.isoformat(),
                               "acknowledged": n.acknowledged_at is not None} for n in notifications],
        }
