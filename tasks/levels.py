"""Moving a case between the five levels (LVL-1 … LVL-6) and the six-month review (CAL-6), CAL-7.

`pprflow case escalate|deescalate` changes one sphere's level (institution or family, LVL-1),
reports the paperwork the new level needs (LVL-2/LVL-3) in the output and the audit, starts or ends
the level-4 specialised effort with its half-yearly review (CAL-6), checks the outposted social
worker before level 5 (LVL-5) and hands level 5 to the family centre (LVL-6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput
from pprflow.models.profile import Profile
from pprflow.models.rules_deadlines import act_by
from pprflow.models.rules_levels import (
    SPHERE_LABELS,
    Direction,
    LevelChangeInput,
    check_review,
    check_specialised_teaching,
    decide_level_change,
    investigation_dates,
    is_specialised,
    review_dates,
)
from pprflow.models.tables import Case, Deadline, Institution
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import (
    base_context,
    case_context,
    get_case,
    institution_leader,
    level_label,
    parties,
    person_name,
    signer_context,
)
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, close_deadlines, pin_deadline, reminder
from pprflow.tasks.outbox import queue_message

REVIEW_REMINDER = "review_reminder"
REVIEW_OVERDUE = "review_overdue"
INVESTIGATION_DUE = "investigation_due"
OUTPOSTED_SOCIAL_WORKER = "outposted_social_worker"
FAMILY_CENTRE_CASEWORKER = "family_centre_caseworker"
EFFORT_LABEL = "Specialiseret indsats (niveau 4)"


def review_subject(case_id: int | None) -> str:
    return f"case:{case_id}:review"


def _levels(case: Case) -> tuple[int, int]:
    return (case.level_institution, case.level_family)


def pin_review(session: Session, case: Case, *, profile: Profile, start: dt.date) -> Deadline:
    """CAL-6: the next half-yearly review, its reminder (coordinator and leader) and its overdue notice."""
    calendar = WorkingCalendar.for_profile(profile)
    dates = review_dates(calendar, start=start, months=profile.review.months,
                         reminder_days=profile.review.reminder_days)
    subject = review_subject(case.id)
    deadline = pin_deadline(session, calendar=calendar,
                            kind=REVIEW_REMINDER, rule_id="CAL-6", subject_key=subject, due_on=dates.due,
                            remind_on=dates.remind_on, case_id=case.id)
    pin_deadline(session, calendar=calendar,
                 kind=REVIEW_OVERDUE, rule_id="CAL-6", subject_key=subject, due_on=dates.due,
                 remind_on=dates.overdue_on, case_id=case.id)
    return deadline


def _has_party(session: Session, case_id: int, role: str) -> bool:
    return any(p.role == role for p in parties(session, case_id))


def change_level(*, ctx: Ctx, data: LevelChangeInput, direction: Direction, today: dt.date) -> dict[str, Any]:
    """Escalate or de-escalate one sphere (LVL-1). Running it twice changes the level once."""
    profile = ctx.profile
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, data.case_id)
        authorize(session, ctx.actor, Perm.CASE_LEVEL, case=case, what=f"case {direction}")  # PRIV-4
        if case.status != "open":
            raise InvalidInput(f"case {case.id} is {case.status}; only an open case changes level")
        current = case.level_institution if data.sphere == "institution" else case.level_family
        if current == data.to:  # already there (the flow ran twice): nothing changes
            return _result(case, profile, None, changed=False, sphere=data.sphere)
        if data.outposted_social_worker:
            from pprflow.tasks.meetings import _add_party

            _add_party(session, case=case, name=person_name(session, data.outposted_social_worker),
                       email=data.outposted_social_worker, role=OUTPOSTED_SOCIAL_WORKER, actor=ctx.actor)
        decision = decide_level_change(
            direction=direction, sphere=data.sphere, institution_level=case.level_institution,
            family_level=case.level_family, to=data.to, max_level=profile.max_level, reason=data.reason,
            outposted_social_worker_involved=_has_party(session, case.id or 0, OUTPOSTED_SOCIAL_WORKER),
        )
        if data.specialised_teaching is not None:  # LAW-4
            institution = session.get(Institution, case.institution_id)
            check_specialised_teaching(data.specialised_teaching, to_level=data.to if data.sphere == "institution"
                                       else 0, institution_kind=institution.kind if institution else "")
        if data.sphere == "institution":
            case.level_institution = data.to
        else:
            case.level_family = data.to
        if decision.skipped_levels:
            case.level3_reason = data.reason  # LVL-1: why level 2 (or 3) was skipped
        case.last_activity_at = utcnow()
        review = None
        if decision.starts_specialised_effort:  # CAL-6
            case.specialised_effort_started_on = today
            review = pin_review(session, case, profile=profile, start=today)
        if decision.ends_specialised_effort:
            case.specialised_effort_started_on = None
            close_deadlines(session, subject_key=review_subject(case.id), kinds=(REVIEW_REMINDER, REVIEW_OVERDUE))
        session.add(case)
        audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case.id, case_id=case.id,
                     reason="LVL-1", detail={
                         "sphere": data.sphere, "from": decision.from_level, "to": data.to,
                         "direction": direction, "reason": data.reason, "paperwork": list(decision.paperwork),
                         "specialised_teaching": data.specialised_teaching.model_dump(mode="json")
                         if data.specialised_teaching else None})
        messages: list[int] = []
        if decision.reaches_family_centre:
            messages = _contact_family_centre(session, case, profile=profile, data=data,
                                              from_level=decision.from_level, actor=ctx.actor)
        session.commit()
        result = _result(case, profile, decision, changed=True, sphere=data.sphere)
        result["messages"] = messages
        if review is not None:
            result["review_due"] = review.due_on.isoformat()
            result["review_reminder_on"] = review.remind_on.isoformat()
        return result


def _result(case: Case, profile: Profile, decision: Any, *, changed: bool, sphere: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "case_id": case.id, "changed": changed, "sphere": sphere,
        "levels": {"institution": case.level_institution, "family": case.level_family},
        "specialised_effort_started_on": (case.specialised_effort_started_on.isoformat()
                                          if case.specialised_effort_started_on else None),
        "rule_ids": ["LVL-1"],
    }
    if decision is not None:
        result.update({
            "from": decision.from_level, "to": decision.to_level, "level_name": level_label(profile, decision.to_level),
            "paperwork": list(decision.paperwork), "next_steps": decision.steps,
            "skipped_levels": decision.skipped_levels,
        })
        result["rule_ids"] = ["LVL-1", "LVL-2", "LVL-3"] + (["CAL-6"] if decision.starts_specialised_effort else []) + (
            ["LVL-5", "LVL-6"] if decision.reaches_family_centre else [])
        if decision.reaches_family_centre:
            result["notifications_address"] = profile.mailboxes.notifications
    return result


def _contact_family_centre(session: Session, case: Case, *, profile: Profile, data: LevelChangeInput,
                           from_level: int, actor: str) -> list[int]:
    """LVL-6: level 5 is the family centre's; the case goes to its notifications address. LVL-5: if the
    child already has a caseworker there, they are contacted too. Staff only: never a parent."""
    social_workers = [p for p in parties(session, case.id or 0) if p.role == OUTPOSTED_SOCIAL_WORKER]
    caseworkers = [p for p in parties(session, case.id or 0) if p.role == FAMILY_CENTRE_CASEWORKER]
    recipients = [(profile.mailboxes.notifications, "Familie- og Rådgivningscentret, Modtagelsen")]
    recipients += [(p.email, p.name) for p in caseworkers]
    shared = {
        "case": case_context(session, case, profile),
        "sphere_label": SPHERE_LABELS[data.sphere],
        "from_level": level_label(profile, from_level),
        "to_level": level_label(profile, data.to),
        "reason": data.reason,
        "outposted_social_worker_name": social_workers[0].name if social_workers else None,
        "has_caseworker": bool(caseworkers),
        "link": None,
    }
    queued = []
    sender_name = person_name(session, actor, case_id=case.id) or profile.display_name
    for email, name in unique_pairs(recipients):
        # Issue 16: signed by the person who moved the case (Reply-To reaches them), not the unit.
        signer = signer_context(session, actor, case_id=case.id) if "@" in actor else None
        context = {**base_context(profile, recipient_name=name, sender_name=sender_name, signer=signer), **shared,
                   "review": None}
        message = queue_message(session, kind="family_centre_contact", to=email, context=context,
                                serves=f"case:{case.id}:level5:{data.sphere}", sender=profile.sender, case=case,
                                actor=actor)
        if message is not None and message.id is not None:
            queued.append(message.id)
            if email == profile.mailboxes.notifications and profile.notification.review_by_outposted_social_worker:
                reviewer = social_workers[0].email if social_workers else profile.mailboxes.notification_review
                review = _hold_for_review(session, message, reviewer=reviewer, case=case, profile=profile,
                                          shared=shared, sender_name=sender_name, serves_suffix=data.sphere,
                                          actor=actor)
                if review is not None:
                    queued.append(review)
    return queued


def _hold_for_review(session: Session, message: Any, *, reviewer: str | None, case: Case, profile: Profile,
                     shared: dict[str, Any], sender_name: str, serves_suffix: str, actor: str) -> int | None:
    """ESC-3 [003]: a notification that is not about suspected abuse waits (status "held") until the
    outposted social worker has reviewed it; `pprflow outbox retry ID` releases it. Without a reviewer
    to ask, it is not held. The abuse notification never comes here (ESC-2: it is its own intake)."""
    if reviewer is None or message.status != "pending" or message.template == "abuse_notification":
        return None
    message.status = "held"
    session.add(message)
    audit.record(session, actor=actor, action="change", entity="outboxmessage", entity_id=message.id,
                 case_id=case.id, reason="ESC-3", detail={"status": "held", "reviewer": reviewer})
    context = {**base_context(profile, recipient_name=person_name(session, reviewer, case_id=case.id),
                              sender_name=sender_name), **shared, "review": {"message_id": message.id}}
    review = queue_message(session, kind="family_centre_contact", to=reviewer, context=context,
                           serves=f"case:{case.id}:level5:{serves_suffix}:review", sender=profile.sender, case=case,
                           actor=actor)
    return review.id if review is not None else None


def unique_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    names = dict(reversed(pairs))
    return [(email, names[email]) for email in unique_emails([e for e, _ in pairs])]


def escalate(*, ctx: Ctx, data: LevelChangeInput, today: dt.date) -> dict[str, Any]:
    """`pprflow case escalate`."""
    return change_level(ctx=ctx, data=data, direction="up", today=today)


def deescalate(*, ctx: Ctx, data: LevelChangeInput, today: dt.date) -> dict[str, Any]:
    """`pprflow case deescalate`."""
    return change_level(ctx=ctx, data=data, direction="down", today=today)


# --- CAL-6: the review -------------------------------------------------------------------------------

def record_review(*, ctx: Ctx, case_id: int, review_date: dt.date, today: dt.date) -> dict[str, Any]:
    """`pprflow case review CASE --date DATE`: the partners reassessed the specialised effort (CAL-6);
    the open reminders close and the next review is pinned six months on. Twice is once."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_REVIEW, case=case, what="case review")  # PRIV-4
        check_review(specialised=is_specialised(_levels(case)), review_date=review_date,
                     started_on=case.specialised_effort_started_on, today=today)
        closed = close_deadlines(session, subject_key=review_subject(case.id), kinds=(REVIEW_REMINDER, REVIEW_OVERDUE))
        nxt = pin_review(session, case, profile=ctx.profile, start=review_date)
        case.last_activity_at = utcnow()
        session.add(case)
        audit.record(session, actor=ctx.actor, action="create", entity="review", entity_id=case.id, case_id=case.id,
                     reason="CAL-6", detail={"review_date": review_date.isoformat(),
                                             "next_due": nxt.due_on.isoformat()})
        session.commit()
        return {"case_id": case_id, "reviewed_on": review_date.isoformat(), "deadlines_closed": closed,
                "next_review_due": nxt.due_on.isoformat(), "next_reminder_on": nxt.remind_on.isoformat(),
                "rule_id": "CAL-6"}


def _last_review(session: Session, case: Case) -> dt.date | None:
    from pprflow.models.tables import AuditEvent

    rows = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.entity == "review")
                        .order_by(col(AuditEvent.id).desc())).first()
    if rows is None:
        return None
    return dt.date.fromisoformat(rows.detail["review_date"])


def _review_context(session: Session, case: Case, deadline: Deadline, profile: Profile,
                    recipient: str) -> dict[str, Any]:
    return {
        **base_context(profile, recipient_name=person_name(session, recipient, case_id=case.id)),
        "case": case_context(session, case, profile),
        "effort_label": EFFORT_LABEL,
        "started_on": case.specialised_effort_started_on or deadline.created_at.date(),
        "last_review_on": _last_review(session, case),
        "deadline": deadline.due_on,
        # CAL-10: six months is counted in calendar days; the reader acts by the working day before.
        "act_by": act_by(WorkingCalendar.for_profile(profile), deadline.due_on),
        "link": None,
    }


@reminder(REVIEW_REMINDER)
def _review_reminder(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-6: remind the coordinator and the leader before the half-yearly review is due."""
    case = get_case(session, deadline.case_id or 0)
    if case.status != "open" or not is_specialised(_levels(case)):
        return True
    for to in unique_emails([case.coordinator_email, institution_leader(session, case)]):
        queue_message(session, kind="review_reminder", to=to,
                      context=_review_context(session, case, deadline, sweep.profile, to),
                      serves=f"{deadline.subject_key}:{deadline.due_on.isoformat()}:reminder",
                      sender=sweep.profile.sender, case=case, actor=sweep.actor)
    return True


@reminder(REVIEW_OVERDUE)
def _review_overdue(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-6 + issue 17: the review is overdue. With a ladder in the profile, the leader, then the coordinator,
    then the PPR / family-centre leader (`[escalation] top`) are told, each once, recorded; the deadline stays
    open (overdue on the dashboard) until the review is recorded (`record_review` closes it). Without a ladder
    the leader is told once and the deadline still stays open."""
    from pprflow.tasks.escalation import climb, ladder

    case = get_case(session, deadline.case_id or 0)
    if case.status != "open" or not is_specialised(_levels(case)):
        return True  # nothing awaited any more: the effort ended or the case closed
    leader = institution_leader(session, case)
    steps = ladder(sweep.profile, REVIEW_OVERDUE)

    def notify(to: str, number: int, step: Any) -> None:
        context = _review_context(session, case, deadline, sweep.profile, to)
        context["escalation"] = {"step": number, "of": len(steps), "to_role": step.to}
        key = "overdue" if number == 1 else f"overdue:step{number}"
        queue_message(session, kind="review_overdue", to=to, context=context,
                      serves=f"{deadline.subject_key}:{deadline.due_on.isoformat()}:{key}",
                      sender=sweep.profile.sender, case=case, actor=sweep.actor)

    if steps:
        climb(session, deadline, sweep, notify=notify, recipients={
            "leader": leader, "coordinator": case.coordinator_email, "top": sweep.profile.escalation.top})
    elif deadline.escalation_step == 0:
        queue_message(session, kind="review_overdue", to=leader,
                      context={**_review_context(session, case, deadline, sweep.profile, leader), "escalation": None},
                      serves=f"{deadline.subject_key}:{deadline.due_on.isoformat()}:overdue",
                      sender=sweep.profile.sender, case=case, actor=sweep.actor)
        deadline.escalation_step = 1
        session.add(deadline)
    return False  # issue 17: overdue stays overdue until the review is recorded


def unique_emails(emails: list[str]) -> list[str]:
    """One message per address, in order."""
    seen: set[str] = set()
    result = []
    for email in emails:
        if email and email.strip().lower() not in seen:
            seen.add(email.strip().lower())
            result.append(email.strip())
    return result


# --- CAL-7 -----------------------------------------------------------------------------------------

def start_investigation(*, ctx: Ctx, case_id: int, aware_on: dt.date, today: dt.date) -> dict[str, Any]:
    """`pprflow case start-investigation CASE --aware-on DATE`: pin the §20 deadline (4 months, CAL-7).

    The family centre runs the investigation; pprflow keeps the date visible on the case (`case show`)
    until it has passed. Mapping (afdækning, §19) has no deadline and pins nothing.
    """
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_INVESTIGATION, case=case, what="case start-investigation")  # PRIV-4
        due = investigation_dates(aware_on=aware_on, months=ctx.profile.review.investigation_months, today=today)
        deadline = pin_deadline(session, calendar=WorkingCalendar.for_profile(ctx.profile),
                                kind=INVESTIGATION_DUE, rule_id="CAL-7", subject_key=f"case:{case.id}",
                                due_on=due, remind_on=due, case_id=case.id)
        audit.record(session, actor=ctx.actor, action="create", entity="deadline", entity_id=deadline.id,
                     case_id=case.id, reason="CAL-7", detail={"aware_on": aware_on.isoformat(),
                                                              "due": due.isoformat()})
        session.commit()
        return {"case_id": case_id, "aware_on": aware_on.isoformat(), "investigation_due": due.isoformat(),
                "rule_id": "CAL-7"}


@reminder(INVESTIGATION_DUE)
def _investigation_due(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-7: the 4 months have passed; the deadline leaves the case's open list (audited, no mail)."""
    audit.record(session, actor=sweep.actor, action="change", entity="deadline", entity_id=deadline.id,
                 case_id=deadline.case_id, reason="CAL-7", detail={"due": deadline.due_on.isoformat(),
                                                                    "reached": True})
    return True
