"""Reading one case for its page (issue 19): levels with history, consent, people, deadlines, timeline.

Reads only, in the caller's session; the caller asks the access policy first (PRIV-3) and audits the read
(PRIV-1). Never a child's name: the pseudonym and birth year (PRIV-2). The timeline is built from the audit
log (every change a service function made, PRIV-1) and the outbox (every message, with why it was cancelled),
newest first; reads and searches are not events on the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.calendar import to_local
from pprflow.models.profile import Profile
from pprflow.models.rules_levels import LEVEL_PAPERWORK, LEVEL_STEPS
from pprflow.models.tables import (
    Action,
    AuditEvent,
    Case,
    Consent,
    Deadline,
    Institution,
    Meeting,
    OutboxMessage,
)
from pprflow.tasks.casefile import (
    PATHWAY_LABELS,
    child_label,
    level_label,
    parties,
    person_name,
    role_label,
)

TIMELINE_LIMIT = 500
"""The most events one timeline page may ask for (an old case keeps its whole history in the audit log)."""
CASE_PAGE_EVENTS = 50
"""The newest events on the case page itself; the rest on the paged timeline (/sager/{id}/tidslinje)."""
TIMELINE_PAGE_SIZE = 100
MAX_TIMELINE_PAGE = 50
"""Paging goes back 5,000 events; older history stays in `audit show` (each page reads at most page × size rows
per source on the (case_id, at) indexes: no scan)."""

EVENT_ACTIONS = ("create", "change", "send", "suppress")
"""Audit actions that are events on the case; reads, searches and refusals are not (they stay in `audit show`)."""

ENTITY_LABELS: dict[tuple[str, str], str] = {
    ("case", "create"): "Sagen er oprettet",
    ("case", "change"): "Sagen er ændret",
    ("child", "create"): "Barnet er registreret (pseudonym)",
    ("caseparty", "create"): "En person er kommet på sagen",
    ("caseparty", "change"): "En person på sagen er ændret",
    ("consent", "create"): "Samtykke er givet",
    ("consent", "change"): "Samtykke er ændret",
    ("actionplan", "create"): "Handleplan er modtaget",
    ("meeting", "create"): "Møde er planlagt",
    ("meeting", "change"): "Møde er ændret",
    ("minutes", "create"): "Referat er skrevet",
    ("review", "create"): "Halvårsvurdering er registreret",
    ("notification", "create"): "Underretning er sendt",
    ("notification", "change"): "Underretning er ændret",
    ("deadline", "create"): "Frist er sat",
    ("deadline", "change"): "Frist er ændret",
    ("alert", "create"): "Advarsel er sendt",
}

MESSAGE_STATUS = {"pending": "venter", "sent": "sendt", "failed": "fejlet", "cancelled": "annulleret",
                  "held": "tilbageholdt", "sending": "sendes"}
SPHERE_LABELS = {"institution": "Dagtilbud/skole", "family": "Familien"}
CANCEL_REASONS = {
    "ESC-1": "sagen holdes fortrolig over for forældrene (ESC-1)",
    "CONS-1": "samtykket er trukket tilbage (CONS-1)",
}


@dataclass
class TimelineEvent:
    at: dt.datetime
    what: str
    who: str
    detail: str = ""
    rule_id: str | None = None
    kind: str = "event"


@dataclass
class CasePage:
    case: Case
    pathway_label: str
    child: str
    institution: str
    district: str | None
    coordinator: str
    coordinator_name: str
    assigned_ppr: str | None
    confidential: bool
    levels: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    people: list[dict[str, Any]]
    deadlines_ahead: list[Deadline]
    deadlines_behind: list[Deadline]
    meetings: list[Meeting]
    open_actions: list[Action]
    timeline: list[TimelineEvent] = field(default_factory=list)
    timeline_more: bool = False
    network_map: list[dict[str, Any]] = field(default_factory=list)


def _cancel_reason(reason: str | None) -> str:
    if not reason:
        return "annulleret"
    for rule, text in CANCEL_REASONS.items():
        if reason.startswith(rule):
            return text
    return reason


def level_history(session: Session, case_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every level change per sphere (LVL-1), oldest first, from the audit log the level service writes."""
    rows = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.entity == "case",
                                 AuditEvent.action == "change", AuditEvent.reason == "LVL-1")
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    history: dict[str, list[dict[str, Any]]] = {"institution": [], "family": []}
    for row in rows:
        sphere = str(row.detail.get("sphere", ""))
        if sphere in history:
            history[sphere].append({"at": row.at, "from": row.detail.get("from"), "to": row.detail.get("to"),
                                    "reason": row.detail.get("reason"), "by": row.actor})
    return history


def _describe(event: AuditEvent) -> tuple[str, str]:
    detail = event.detail or {}
    if event.entity == "case" and event.reason == "LVL-1":
        sphere = SPHERE_LABELS.get(str(detail.get("sphere")), str(detail.get("sphere")))
        return (f"Niveau ændret ({sphere.lower()}): {detail.get('from')} → {detail.get('to')}",
                str(detail.get("reason") or ""))
    if event.entity == "case" and event.reason and event.reason.startswith("ROLE-1"):
        change = detail.get("coordinator") or {}
        return "Ny tovholder", f"{change.get('from', '')} → {change.get('to', '')}"
    if event.entity == "consent" and detail.get("withdrawn"):
        return "Samtykke er trukket tilbage", ""
    if event.action == "suppress":
        return "En besked blev ikke lagt i kø", str(event.reason or "")
    label = ENTITY_LABELS.get((event.entity, event.action), f"{event.entity} ({event.action})")
    return label, ""


def timeline_page(session: Session, case_id: int, *, page: int = 1,
                  size: int = TIMELINE_PAGE_SIZE) -> tuple[list[TimelineEvent], bool]:
    """One page of the timeline (1 = newest) and whether an older page exists. Both sources are read newest first
    on their (case_id, at) index, `page × size + 1` rows at most, and merged."""
    page = max(1, min(page, MAX_TIMELINE_PAGE))
    upto = page * size
    events = timeline(session, case_id, limit=upto + 1)
    return events[upto - size:upto], len(events) > upto


def timeline(session: Session, case_id: int, *, limit: int = TIMELINE_LIMIT) -> list[TimelineEvent]:
    """Everything that happened on the case and every message sent or cancelled (with why), newest first."""
    events: list[TimelineEvent] = []
    audit_rows = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, col(AuditEvent.action).in_(EVENT_ACTIONS),
                                 AuditEvent.entity != "outboxmessage")
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    ).all()
    for row in audit_rows:
        what, detail = _describe(row)
        events.append(TimelineEvent(at=row.at, what=what, who=row.actor, detail=detail, rule_id=_rule(row.reason)))
    messages = session.exec(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id)
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()).limit(limit)
    ).all()
    for m in messages:
        status = MESSAGE_STATUS.get(m.status, m.status)
        detail = f"Til {m.to}: {status}"
        if m.status == "cancelled":
            detail += f", fordi {_cancel_reason(m.cancelled_reason)}"
        elif m.status == "failed" and m.last_error:
            detail += f" ({m.last_error[:120]})"
        at = m.sent_at or m.created_at
        events.append(TimelineEvent(at=at, what=f"Besked: {m.subject}", who=m.sender, detail=detail,
                                    rule_id=m.rule_id, kind=f"message-{m.status}"))
    events.sort(key=lambda e: _aware(e.at), reverse=True)
    for event in events:  # CAL-9: shown in Copenhagen time
        event.at = to_local(_aware(event.at))
    return events[:limit]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _rule(reason: str | None) -> str | None:
    if reason and len(reason) <= 12 and "-" in reason and reason.split("-")[0].isupper():
        return reason
    return None


def consent_rows(session: Session, case_id: int, *, people: list[Any] | None = None) -> list[dict[str, Any]]:
    """Every consent on the case: who gave it, what, to whom, for what, until withdrawn (CONS-1, LAW-3)."""
    rows = session.exec(select(Consent).where(Consent.case_id == case_id).order_by(col(Consent.id))).all()
    people = parties(session, case_id) if people is None else people
    return [{"id": c.id, "given_by": c.given_by, "given_on": c.given_on, "information": c.information,
             "recipients": c.recipients, "purpose": c.purpose, "withdrawn_at": c.withdrawn_at,
             "partners": [p.name for p in people if p.consent_id == c.id]} for c in rows]


def read_case_page(session: Session, case: Case, profile: Profile, *, today: dt.date) -> CasePage:
    """The case page's content. The caller has asked the policy (CASE_READ) and audits the read."""
    from pprflow.tasks.outbox import is_confidential

    case_id = case.id or 0
    institution = session.get(Institution, case.institution_id)
    history = level_history(session, case_id)
    levels = []
    for sphere, current in (("institution", case.level_institution), ("family", case.level_family)):
        levels.append({"sphere": sphere, "label": SPHERE_LABELS[sphere], "level": current,
                       "name": level_label(profile, current), "steps": LEVEL_STEPS.get(current, ""),
                       "paperwork": LEVEL_PAPERWORK.get(current, ()), "history": history[sphere]})
    on_case = parties(session, case_id)  # read once for the people and the consents
    consents = consent_rows(session, case_id, people=on_case)
    withdrawn = {c["id"] for c in consents if c["withdrawn_at"] is not None}
    people = [{"name": p.name, "email": p.email, "role": role_label(p.role), "is_parent": p.is_parent,
               "consent_id": p.consent_id, "consent_withdrawn": p.consent_id in withdrawn}
              for p in on_case]
    open_deadlines = session.exec(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.done_at == None)  # noqa: E711
        .order_by(col(Deadline.due_on), col(Deadline.id))
    ).all()
    done = session.exec(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.done_at != None)  # noqa: E711
        .order_by(col(Deadline.due_on).desc()).limit(20)
    ).all()
    meetings = list(session.exec(select(Meeting).where(Meeting.case_id == case_id)
                                 .order_by(col(Meeting.date).desc(), col(Meeting.id).desc())).all())
    actions = list(session.exec(select(Action).where(Action.case_id == case_id, Action.follow_up == None)  # noqa: E711
                                .order_by(col(Action.id))).all())
    from pprflow.tasks.meetings import network_map_rows

    events, more = timeline_page(session, case_id, page=1, size=CASE_PAGE_EVENTS)
    confidential = is_confidential(session, case)
    return CasePage(
        case=case, pathway_label=PATHWAY_LABELS.get(case.pathway, case.pathway), child=child_label(session, case),
        institution=institution.name if institution else "", district=institution.district if institution else None,
        coordinator=case.coordinator_email, coordinator_name=person_name(session, case.coordinator_email,
                                                                         case_id=case_id),
        assigned_ppr=case.assigned_ppr_email, confidential=confidential, levels=levels,
        consents=consents, people=people,
        deadlines_ahead=[d for d in open_deadlines if d.due_on >= today],
        deadlines_behind=[d for d in open_deadlines if d.due_on < today] + list(done),
        meetings=meetings, open_actions=actions, timeline=events, timeline_more=more,
        network_map=network_map_rows(session, case_id),  # MEET-5
    )
