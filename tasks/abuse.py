"""Suspected violence or abuse (mistanke om vold eller overgreb): ESC-1, LAW-1, LAW-2.

ESC-1 [003]: "Ved bekymring for, om et barn/ung har været udsat for vold eller overgreb, sendes
straks en underretning til Familie- og Rådgivningscentret. Forældrene orienteres ikke." At any
level. So a report (1) queues the notification (underretning) to the profile's notifications
address at once, (2) marks the case confidential from the parents, after which the outbox
refuses every message to a parent and every pathway here stops addressing them, and (3) cancels
whatever was already queued for a parent (audited).

LAW-1 (Barnets Lov §133): the duty to notify is personal, so any staff member may report, not
only a leader. LAW-2: the acknowledgement (kvittering) is due within 6 working days; a pinned
deadline tells the notifier's leader when it is late.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, NotFound
from pprflow.models.profile import Profile
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import Case, Deadline, Notification, OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import base_context, case_context, get_case, leader_of, person_name, person_role
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, close_deadlines, pin_deadline, reminder
from pprflow.tasks.outbox import cancel_pending, parent_emails, queue_message

ACKNOWLEDGEMENT_OVERDUE = "acknowledgement_overdue"


def _subject(notification_id: int | None) -> str:
    return f"notification:{notification_id}"


def report_abuse_in_session(
    session: Session,
    *,
    profile: Profile,
    case: Case,
    reported_by_email: str,
    today: dt.date,
    actor: str,
    observation: str | None = None,
) -> Notification:
    """ESC-1/LAW-1/LAW-2 inside the caller's transaction (intake calls this; nothing is committed here).

    Any staff member may report (LAW-1). Reporting the same case again the same day by the same
    person returns the stored notification (a flow run twice notifies once).
    """
    if case.id is None:
        session.flush()
    case_id = case.id or 0
    calendar = WorkingCalendar.for_profile(profile)
    # LAW-2: the acknowledgement (kvittering) is due 6 working days after the day it is sent.
    due = calendar.acknowledgement_due(today, profile.notification.acknowledgement_working_days)
    reporter = reported_by_email.strip()

    # ESC-1: from this moment nothing reaches the parents.
    if not case.confidential_from_parents:
        case.confidential_from_parents = True
        case.last_activity_at = utcnow()
        session.add(case)
        audit.record(session, actor=actor, action="change", entity="case", entity_id=case_id, case_id=case_id,
                     reason="ESC-1", detail={"confidential_from_parents": True})
    parents = parent_emails(session, case_id)
    cancel_pending(session, case_id=case_id, reason="ESC-1", actor=actor,
                   where=lambda m: m.to_is_parent or m.to.strip().lower() in parents)

    existing = session.exec(
        select(Notification).where(
            Notification.case_id == case_id, Notification.reported_by_email == reporter,
            Notification.acknowledgement_due == due,
        )
    ).first()
    if existing is not None:
        return existing

    notification = Notification(case_id=case_id, reported_by_email=reporter,
                                sent_to=profile.mailboxes.notifications, acknowledgement_due=due)
    session.add(notification)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="notification", entity_id=notification.id,
                 case_id=case_id, reason="ESC-1", detail={"sent_to": notification.sent_to,
                                                          "acknowledgement_due": due.isoformat()})
    institution = case_context(session, case, profile)["institution"]
    context: dict[str, Any] = {
        **base_context(profile, recipient_name="Familie- og Rådgivningscentret, Modtagelsen",
                       sender_name=institution or profile.display_name),
        "case": case_context(session, case, profile),
        "reported_by_name": person_name(session, reporter, case_id=case_id),
        "reported_by_role": person_role(session, reporter, case_id=case_id),
        "reported_by_email": reporter,
        "reported_at": notification.reported_at,
        "observation": observation or case.concern or "Se sagen.",
        "acknowledgement_due": due,
        "link": None,
    }
    # ESC-1: at once (send_after = now), to the notifications address (LVL-6), never to a parent.
    queue_message(session, kind="abuse_notification", to=profile.mailboxes.notifications, context=context,
                  serves=_subject(notification.id), sender=profile.sender, case=case, actor=actor)
    # LAW-2: the notifier's leader hears about it the first working day after the acknowledgement is late.
    pin_deadline(session, kind=ACKNOWLEDGEMENT_OVERDUE, rule_id="LAW-2", subject_key=_subject(notification.id),
                 due_on=due, remind_on=calendar.add_working_days(due, 1), case_id=case_id)
    return notification


def report_abuse(ctx: Ctx, case_id: int, *, today: dt.date, observation: str | None = None,
                 reported_by_email: str | None = None) -> dict[str, Any]:
    """`pprflow case report-abuse CASE`: any staff member (LAW-1) reports suspected abuse (ESC-1).

    The duty is personal, so the report names a person: the acting user's email (`--as EMAIL`).
    """
    reporter = (reported_by_email or ctx.actor).strip()
    check_no_cpr_number("observation", observation)  # PRIV-2
    if "@" not in reporter:
        raise InvalidInput(f"who reports? the duty to notify is personal: run with --as EMAIL (acting user is "
                           f"{reporter!r})", rule_id="LAW-1")
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        # ESC-1/LAW-1: any active, named staff member reports; access never blocks it, and the answer
        # below shows nothing of the case.
        authorize(session, ctx.actor, Perm.CASE_REPORT_ABUSE, case=case, what="case report-abuse")
        notification = report_abuse_in_session(
            session, profile=ctx.profile, case=case, reported_by_email=reporter,
            today=today, actor=ctx.actor, observation=observation,
        )
        session.commit()
        cancelled = session.exec(
            select(OutboxMessage.id).where(OutboxMessage.case_id == case_id,
                                           OutboxMessage.status == "cancelled",
                                           OutboxMessage.cancelled_reason == "ESC-1")
        ).all()
        return {
            "case_id": case_id,
            "notification_id": notification.id,
            "sent_to": notification.sent_to,
            "acknowledgement_due": notification.acknowledgement_due.isoformat(),
            "confidential_from_parents": True,
            "cancelled_parent_messages": len(cancelled),
            "rule_ids": ["ESC-1", "LAW-1", "LAW-2"],
        }


def acknowledge(ctx: Ctx, case_id: int, *, notification_id: int | None = None,
                today: dt.date | None = None) -> dict[str, Any]:
    """`pprflow case acknowledge CASE`: the family centre's acknowledgement (kvittering) came (LAW-2)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        notifiers = session.exec(select(Notification.reported_by_email).where(Notification.case_id == case_id)).all()
        authorize(session, ctx.actor, Perm.CASE_ACKNOWLEDGE, case=get_case(session, case_id), what="case acknowledge",
                  also=dict.fromkeys(notifiers, "notifier (LAW-2)"))  # PRIV-4
        query = select(Notification).where(Notification.case_id == case_id)
        if notification_id is not None:
            query = query.where(Notification.id == notification_id)
        rows = list(session.exec(query.order_by(col(Notification.id))).all())
        if not rows:
            which = "" if notification_id is None else f" {notification_id}"
            raise NotFound(f"case {case_id} has no notification{which} to acknowledge", rule_id="LAW-2")
        open_rows = [n for n in rows if n.acknowledged_at is None]
        for notification in open_rows:
            notification.acknowledged_at = utcnow()
            session.add(notification)
            close_deadlines(session, subject_key=_subject(notification.id), kinds=(ACKNOWLEDGEMENT_OVERDUE,))
            audit.record(session, actor=ctx.actor, action="change", entity="notification",
                         entity_id=notification.id, case_id=case_id, reason="LAW-2",
                         detail={"acknowledged": True})
        session.commit()
        late = [n.id for n in open_rows if today is not None and today > n.acknowledgement_due]
        return {"case_id": case_id, "acknowledged": [n.id for n in open_rows],
                "already_acknowledged": [n.id for n in rows if n not in open_rows], "late": late,
                "rule_id": "LAW-2"}


@reminder(ACKNOWLEDGEMENT_OVERDUE)
def _acknowledgement_overdue(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """LAW-2: tell the notifier's leader that the acknowledgement is late (once)."""
    notification_id = int(deadline.subject_key.split(":", 1)[1])
    notification = session.get(Notification, notification_id)
    if notification is None or notification.acknowledged_at is not None:
        return True
    case = get_case(session, notification.case_id)
    leader = leader_of(session, notification.reported_by_email, case)
    context: dict[str, Any] = {
        **base_context(sweep.profile, recipient_name=person_name(session, leader, case_id=case.id),
                       sender_name=sweep.profile.display_name),
        "case": case_context(session, case, sweep.profile),
        "notifier_name": person_name(session, notification.reported_by_email, case_id=case.id),
        "reported_at": notification.reported_at,
        "sent_to": notification.sent_to,
        "deadline": notification.acknowledgement_due,
        "link": None,
    }
    queue_message(session, kind="acknowledgement_overdue", to=leader, context=context,
                  serves=f"{deadline.subject_key}:overdue", sender=sweep.profile.sender, case=case,
                  actor=sweep.actor)
    return True
