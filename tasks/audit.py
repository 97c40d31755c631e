"""The audit log (PRIV-1): every use of personal data, who, when, what and why. Append-only."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from pprflow.models.tables import AuditEvent

ACTIONS = frozenset({"read", "create", "search", "change", "export", "delete", "refused", "send", "suppress"})


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: object | None = None,
    case_id: int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row in the caller's transaction (PRIV-1), so the log and the change commit together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor=actor, action=action, entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        case_id=case_id, reason=reason, detail=detail or {},
    )
    session.add(event)
    return event
