"""Retention (PRIV-1, PRIV-2): closed cases are deleted after the profile's period, audit rows after theirs.

`purge_expired(ctx, today)` deletes every closed case whose last activity (or closing) is
`retention.closed_case_years` or more before `today` — with everything that hangs on it: outbox
messages and their attachments, parties, consents, action plans, meetings with their actions and
topics, deadlines, notifications and the child's pseudonym row — one transaction per case, so a
crash leaves every case either whole or gone. A notification without a case (ESC-2) is purged the same
way, with its outbox messages (tied to it by `outboxmessage.notification_id`) and its LAW-2 deadlines,
once its acknowledgement is that many years old. Then audit rows older than `retention.audit_years`.
The purge itself is audited with counts only. `close_case` starts a case's retention clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from pprflow.models.access import Perm
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_privacy import case_expired, check_no_cpr_number, years_before
from pprflow.models.tables import (
    Action,
    ActionPlan,
    AuditEvent,
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    KVTopic,
    Meeting,
    NetworkPerson,
    Notification,
    OutboxAttachment,
    OutboxMessage,
    RunRequest,
    WebSession,
)
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize, authorize_in
from pprflow.tasks.casefile import get_case
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import cancel_pending

COUNTED = ("cases", "children", "parties", "consents", "action_plans", "meetings", "actions", "kv_topics",
           "deadlines", "notifications", "outbox_messages", "outbox_attachments", "network_map")


def close_case(*, ctx: Ctx, case_id: int, reason: str) -> dict[str, Any]:
    """`pprflow case close CASE --reason TEXT`: the case is closed, its pending mail cancelled and its
    deadlines closed; the retention period (PRIV-2) counts from now."""
    check_no_cpr_number("--reason", reason)
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_CLOSE, case=case, what="case close")  # PRIV-4
        if case.status == "closed":
            return {"case_id": case_id, "status": "closed", "changed": False}
        check_no_open_notification(session, case_id)  # ESC-2/LAW-2
        now = utcnow()
        case.status, case.closed_at, case.last_activity_at = "closed", now, now
        session.add(case)
        cancelled = cancel_pending(session, where=lambda m: True, case_id=case_id, reason="case closed",
                                   actor=ctx.actor)
        open_deadlines = session.exec(select(Deadline).where(Deadline.case_id == case_id,
                                                             col(Deadline.done_at).is_(None))).all()
        for deadline in open_deadlines:
            deadline.done_at = now
            session.add(deadline)
        audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case_id, case_id=case_id,
                     reason=reason, detail={"status": "closed", "cancelled_messages": len(cancelled),
                                            "closed_deadlines": len(open_deadlines)})
        session.commit()
        return {"case_id": case_id, "status": "closed", "changed": True,
                "cancelled_messages": [m.id for m in cancelled], "closed_deadlines": len(open_deadlines)}


def check_no_open_notification(session: Session, case_id: int) -> None:
    """ESC-2/LAW-2: a case with a notification still waiting for its acknowledgement stays open; the
    refusal says, in Danish, that the notification was (or is being) sent and how to go on."""
    from pprflow.tasks.abuse import _subject, unacknowledged

    waiting = unacknowledged(session, {case_id})
    if waiting:
        first = waiting[0]
        message = session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "abuse_notification",
            col(OutboxMessage.idempotency_key).contains(f"|{_subject(first)}|"))).first()
        state = ("underretningen ER sendt" if message is not None and message.status == "sent"
                 else "underretningen står i kø og sendes straks")
        raise RuleViolation(
            "ESC-2", f"sag {case_id} kan ikke lukkes: {state} til {first.sent_to} (underretning {first.id}) og "
                     f"afventer kvittering senest {first.acknowledgement_due.isoformat()}; registrér kvitteringen "
                     f"først med pprflow case acknowledge {case_id}")


def unsent_notifications(session: Session, case_id: int) -> list[OutboxMessage]:
    """ESC-2: the case's abuse notifications still waiting in the outbox (never closed or purged away)."""
    return list(session.exec(select(OutboxMessage).where(
        OutboxMessage.case_id == case_id, OutboxMessage.template == "abuse_notification",
        OutboxMessage.status != "sent")).all())


def _local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone))


def expired_case_ids(session: Session, *, today: dt.date, years: int, timezone: str) -> list[int]:
    """Closed cases whose last activity and closing are `years` or more before `today` (PRIV-2)."""
    boundary = _local_midnight(years_before(today, years) + dt.timedelta(days=1), timezone)
    tz = ZoneInfo(timezone)
    rows = session.exec(select(Case).where(Case.status == "closed", col(Case.closed_at).is_not(None),
                                           col(Case.closed_at) < boundary, col(Case.last_activity_at) < boundary)
                        .order_by(col(Case.id))).all()
    return [c.id for c in rows if c.id is not None and case_expired(
        status=c.status, last_activity=c.last_activity_at.astimezone(tz).date(),
        closed_on=c.closed_at.astimezone(tz).date() if c.closed_at else None, today=today, years=years)]


Remover = Callable[[type[SQLModel], ColumnElement[bool]], int]


def _remover(session: Session, *, dry_run: bool) -> Remover:
    def remove(model: type[SQLModel], where: ColumnElement[bool]) -> int:
        count = int(session.exec(select(func.count()).select_from(model).where(where)).one())
        if count and not dry_run:
            session.execute(delete(model).where(where))
        return count
    return remove


def _purge_case(session: Session, case_id: int, *, dry_run: bool) -> dict[str, int]:
    """Delete one case and everything that hangs on it, children of a foreign key first."""
    remove = _remover(session, dry_run=dry_run)
    case = session.get(Case, case_id)
    assert case is not None
    messages = [m for m in session.exec(select(OutboxMessage.id).where(OutboxMessage.case_id == case_id)).all()]
    meetings = [m for m in session.exec(select(Meeting.id).where(Meeting.case_id == case_id)).all()]
    counts = {
        "outbox_attachments": remove(OutboxAttachment, col(OutboxAttachment.message_id).in_(messages)),
        "outbox_messages": remove(OutboxMessage, col(OutboxMessage.case_id) == case_id),
        "deadlines": remove(Deadline, or_(col(Deadline.case_id) == case_id, col(Deadline.meeting_id).in_(meetings),
                                          col(Deadline.subject_key) == f"case:{case_id}")),
        "actions": remove(Action, or_(col(Action.case_id) == case_id, col(Action.meeting_id).in_(meetings),
                                      col(Action.followed_up_in_meeting_id).in_(meetings))),
        "kv_topics": remove(KVTopic, col(KVTopic.meeting_id).in_(meetings)),
        "notifications": remove(Notification, col(Notification.case_id) == case_id),
        "parties": remove(CaseParty, col(CaseParty.case_id) == case_id),
        "network_map": remove(NetworkPerson, col(NetworkPerson.case_id) == case_id),  # MEET-5 rows (PRIV-2)
        "consents": remove(Consent, col(Consent.case_id) == case_id),
        "action_plans": remove(ActionPlan, col(ActionPlan.case_id) == case_id),
        "meetings": remove(Meeting, col(Meeting.id).in_(meetings)),
        "cases": remove(Case, col(Case.id) == case_id),
    }
    child_id = case.child_id
    others = session.exec(select(func.count()).select_from(Case).where(Case.child_id == child_id,
                                                                       Case.id != case_id)).one()
    counts["children"] = remove(Child, col(Child.id) == child_id) if child_id is not None and not others else 0
    return counts


def expired_caseless_notifications(session: Session, *, today: dt.date, years: int, timezone: str) -> list[int]:
    """PRIV-2: notifications without a case (ESC-2) whose acknowledgement is `years` or more before `today`.
    The acknowledgement is such a notification's closing: an unacknowledged one is never purged (LAW-2)."""
    boundary = _local_midnight(years_before(today, years) + dt.timedelta(days=1), timezone)
    tz = ZoneInfo(timezone)
    rows = session.exec(select(Notification).where(
        col(Notification.case_id).is_(None), col(Notification.acknowledged_at).is_not(None),
        col(Notification.acknowledged_at) < boundary).order_by(col(Notification.id))).all()
    return [n.id for n in rows if n.id is not None and n.acknowledged_at is not None and case_expired(
        status="closed", last_activity=n.reported_at.astimezone(tz).date(),
        closed_on=n.acknowledged_at.astimezone(tz).date(), today=today, years=years)]


def _purge_notification(session: Session, notification_id: int, *, dry_run: bool) -> dict[str, int]:
    """Delete one case-less notification with its messages (the notification, its LAW-2 reminders, its
    escalation), their attachments and its LAW-2 deadlines (PRIV-2)."""
    remove = _remover(session, dry_run=dry_run)
    messages = list(session.exec(select(OutboxMessage.id).where(
        OutboxMessage.notification_id == notification_id)).all())
    return {
        "outbox_attachments": remove(OutboxAttachment, col(OutboxAttachment.message_id).in_(messages)),
        "outbox_messages": remove(OutboxMessage, col(OutboxMessage.notification_id) == notification_id),
        "deadlines": remove(Deadline, col(Deadline.subject_key).startswith(f"notification:{notification_id}:")),
        "notifications": remove(Notification, col(Notification.id) == notification_id),
    }


def purge_expired(ctx: Ctx, *, today: dt.date, dry_run: bool = False) -> dict[str, Any]:
    """`pprflow retention purge --today DATE [--dry-run]`: delete what has outlived its retention period."""
    retention = ctx.profile.retention
    if retention.closed_case_years < 1 or retention.audit_years < 1:
        raise InvalidInput("retention periods must be at least one year (profile [retention])", rule_id="PRIV-2")
    authorize_in(ctx.engine, ctx.actor, Perm.JOB_PURGE, what="retention purge")  # PRIV-4: a job
    totals = dict.fromkeys(COUNTED, 0)
    with Session(ctx.engine) as session:
        case_ids = expired_case_ids(session, today=today, years=retention.closed_case_years,
                                    timezone=ctx.profile.timezone)
    for case_id in case_ids:
        with Session(ctx.engine) as session:  # one transaction per case: whole or gone
            if session.get(Case, case_id) is None:
                continue  # a parallel purge took it
            from pprflow.tasks.abuse import unacknowledged

            if unacknowledged(session, {case_id}) or unsent_notifications(session, case_id):
                continue  # ESC-2/LAW-2: a notification waiting for its acknowledgement is never purged
            for key, value in _purge_case(session, case_id, dry_run=dry_run).items():
                totals[key] += value
            session.commit()
    with Session(ctx.engine) as session:
        notification_ids = expired_caseless_notifications(session, today=today, years=retention.closed_case_years,
                                                          timezone=ctx.profile.timezone)
    for notification_id in notification_ids:
        with Session(ctx.engine) as session:  # one transaction per notification: whole or gone
            if session.get(Notification, notification_id) is None:
                continue  # a parallel purge took it
            if session.exec(select(OutboxMessage.id).where(
                    OutboxMessage.notification_id == notification_id, OutboxMessage.template == "abuse_notification",
                    OutboxMessage.status != "sent")).first() is not None:
                continue  # ESC-2: a notification still waiting in the outbox is never purged
            for key, value in _purge_notification(session, notification_id, dry_run=dry_run).items():
                totals[key] += value
            session.commit()
    audit_cutoff = _local_midnight(years_before(today, retention.audit_years), ctx.profile.timezone)
    with Session(ctx.engine) as session:
        if session.get_bind().dialect.name == "postgresql" and not dry_run:
            from pprflow.db import AUDIT_PURGE_SETTING

            # The append-only trigger lets this transaction, and only this one, delete audit rows.
            session.execute(text("SELECT set_config(:name, 'on', true)"), {"name": AUDIT_PURGE_SETTING})
        audit_rows = _remover(session, dry_run=dry_run)(AuditEvent, col(AuditEvent.at) < audit_cutoff)
        # PRIV-1: who asked a flow run (issue 20) and who signed in when are logs too: the audit log's period
        run_requests = _remover(session, dry_run=dry_run)(RunRequest, col(RunRequest.created_at) < audit_cutoff)
        web_sessions = _remover(session, dry_run=dry_run)(WebSession, col(WebSession.created_at) < audit_cutoff)
        result = {"today": today.isoformat(), "dry_run": dry_run,
                  "closed_cases_before": years_before(today, retention.closed_case_years).isoformat(),
                  "audit_rows_before": audit_cutoff.date().isoformat(), **totals, "audit_rows": audit_rows,
                  "run_requests": run_requests, "web_sessions": web_sessions}
        # Counts only: the purge log names no case, no child and no person (PRIV-2).
        audit.record(session, actor=ctx.actor, action="search" if dry_run else "delete", entity="retention",
                     reason="PRIV-2", detail=dict(result))
        session.commit()
    return result


def record_flow_run_purge(ctx: Ctx, *, deleted: int, dry_run: bool) -> None:
    """Audit the deletion of old form-flow runs in Prefect (counts only, PRIV-1)."""
    with Session(ctx.engine) as session:
        audit.record(session, actor=ctx.actor, action="search" if dry_run else "delete", entity="prefect_flow_run",
                     reason="PRIV-2", detail={"form_flow_runs": deleted, "dry_run": dry_run})
        session.commit()
