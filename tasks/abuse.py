"""Suspected violence or abuse (mistanke om vold eller overgreb): ESC-1, ESC-2, LAW-1, LAW-2.

ESC-1 [003]: "Ved bekymring for, om et barn/ung har været udsat for vold eller overgreb, sendes
straks en underretning til Familie- og Rådgivningscentret. Forældrene orienteres ikke." At any
level. ESC-2: the notification (underretning) is its own intake — `record_report` needs only the
`AbuseReport` (who reports, the institution, who the child is, what was observed and when); a case
is optional and no other rule can refuse it. It is queued at once (send_after = now, kind
``abuse_notification``) to the profile's notifications address and nowhere else, and nothing can
cancel it (the outbox refuses, `tasks.outbox.cancel_message`). With a case, the case — and every
case of the same child — is confidential from the parents: whatever was queued for a parent is
cancelled (audited) and the outbox refuses anything new to them.

LAW-1 (Barnets Lov §133): the duty is personal, so any staff member may report, not only a leader.
LAW-2: the acknowledgement (kvittering) is due within 6 working days; if it is late the notifier's
leader, then the case's coordinator, then the profile's escalation address are told, each once. The
LAW-2 deadlines close only by acknowledgement; then the child's name is reduced to the pseudonym
(PRIV-2, audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pprflow.models.abuse import (
    ACKNOWLEDGEMENT_KINDS,
    NOT_SENT,
    AbuseReport,
    ReportedChild,
    Reporter,
    parse_report,
)
from pprflow.models.access import Perm
from pprflow.models.address import address_key, is_placeholder, parse_address
from pprflow.models.calendar import WorkingCalendar, local_datetime
from pprflow.models.errors import InvalidInput, NotFound, PprflowError, RuleViolation
from pprflow.models.profile import EscalationStep, Profile
from pprflow.models.rules_deadlines import escalation_day
from pprflow.models.tables import Case, Child, Deadline, Institution, Notification, OutboxMessage, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import (
    LEADER_ROLES,
    MAX_ID,
    base_context,
    case_context,
    get_case,
    leader_of,
    person_name,
    person_role,
    role_label,
    staff_phone,
)
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, close_deadlines, pin_deadline, reminder
from pprflow.tasks.escalation import climb, ladder
from pprflow.tasks.outbox import (
    ABUSE_NOTIFICATION,
    SYSTEM_ACTOR,
    cancel_pending,
    is_protected_parent,
    parent_emails,
    queue_message,
    same_child_case_ids,
    writer,
)

ACKNOWLEDGEMENT_OVERDUE, ACKNOWLEDGEMENT_OVERDUE_COORDINATOR, ACKNOWLEDGEMENT_OVERDUE_ESCALATION = ACKNOWLEDGEMENT_KINDS


def _subject(notification: Notification) -> str:
    """The key the notification's message and LAW-2 deadlines serve: its id AND its report's fingerprint, so
    an id SQLite hands out again after a retention purge can never match an old, sent message (ESC-2)."""
    return f"notification:{notification.id}:{(notification.report_key or '')[:16]}"


def reported_now(profile: Profile, today: dt.date) -> dt.datetime:
    """One clock (ESC-1 wording): the report's instant is now, on the (possibly simulated) day `today`,
    in local time; the acknowledgement deadline is counted from the same day."""
    tz = ZoneInfo(profile.timezone)
    now_local = utcnow().astimezone(tz)
    if now_local.date() == today:
        return now_local
    return local_datetime(today, now_local.time().replace(microsecond=0, tzinfo=None), tz)


def protect_from_parents(session: Session, case: Case, *, actor: str) -> int:
    """ESC-1: the case (and so the child) is confidential from the parents; what is queued for a parent of
    the child, on any of its cases, is cancelled (audited). Returns how many messages were cancelled."""
    case_id = case.id or 0
    if not case.confidential_from_parents:
        case.confidential_from_parents = True
        case.last_activity_at = utcnow()
        session.add(case)
        audit.record(session, actor=actor, action="change", entity="case", entity_id=case_id, case_id=case_id,
                     reason="ESC-1", detail={"confidential_from_parents": True})
    parents = parent_emails(session, case_id)
    cancelled = 0
    for other in sorted(same_child_case_ids(session, [case_id])):
        other_case = session.get(Case, other)
        if other_case is not None and not other_case.confidential_from_parents:
            # ESC-1 follows the child: every case of it is marked, so closing or purging one case
            # never lifts the confidentiality of another.
            other_case.confidential_from_parents = True
            session.add(other_case)
            audit.record(session, actor=actor, action="change", entity="case", entity_id=other, case_id=other,
                         reason="ESC-1", detail={"confidential_from_parents": True, "same_child_as": case_id})
        cancelled += len(cancel_pending(
            session, case_id=other, reason="ESC-1", actor=actor,
            where=lambda m: m.to_is_parent or address_key(m.to) in parents
            or any(address_key(c) in parents for c in m.cc)))
    return cancelled


def record_report(session: Session, *, profile: Profile, data: AbuseReport, today: dt.date, actor: str,
                  case: Case | None = None) -> Notification:
    """ESC-2: store the notification and queue it at once, in the caller's transaction. The same report on
    the same day returns the stored notification (a flow run twice notifies once). Nothing here refuses:
    an unknown case id is noted and the notification goes anyway."""
    key = data.fingerprint(today)
    existing = session.exec(select(Notification).where(Notification.report_key == key)).first()
    if existing is not None:
        return existing
    if case is None and data.case_id is not None:
        # an unknown case id (one no database stores included) does not stop the notification (ESC-2)
        case = session.get(Case, data.case_id) if 0 < data.case_id <= MAX_ID else None
    if case is not None and case.id is None:
        session.flush()
    if case is not None and case.status == "closed":  # LAW-2: a report reopens the case until acknowledged
        case.status, case.closed_at = "open", None
        session.add(case)
        audit.record(session, actor=actor, action="change", entity="case", entity_id=case.id, case_id=case.id,
                     reason="ESC-2", detail={"status": "open", "why": "underretning på en lukket sag"})
    case_id = case.id if case is not None else None
    calendar = WorkingCalendar.for_profile(profile)
    # LAW-2: the acknowledgement (kvittering) is due 6 working days after the day it is sent.
    due = calendar.acknowledgement_due(today, profile.notification.acknowledgement_working_days)
    reported_at = reported_now(profile, today)
    pseudonym = _pseudonym(session, case)
    notification = Notification(
        case_id=case_id, report_key=key, reported_by_email=data.reporter.email, reporter_name=data.reporter.name,
        reporter_role=data.reporter.role, institution_name=data.institution, child_name=data.child.name,
        child_pseudonym=pseudonym, child_group=data.child.group, child_birth_year=data.child.birth_year,
        observation=data.observation, observed_on=data.observed_on,
        observed_time=data.observed_time.strftime("%H:%M") if data.observed_time else None,
        sent_to=profile.mailboxes.notifications, reported_at=reported_at, acknowledgement_due=due,
    )
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:  # a concurrent run stored the same report first: keep theirs
        return session.exec(select(Notification).where(Notification.report_key == key)).one()
    audit.record(session, actor=actor, action="create", entity="notification", entity_id=notification.id,
                 case_id=case_id, reason="ESC-1",
                 detail={"sent_to": notification.sent_to, "acknowledgement_due": due.isoformat(),
                         "case": case_id, "unknown_case_id": data.case_id if case is None else None})
    if case is not None:
        protect_from_parents(session, case, actor=actor)
    # Issue 16/LAW-1: the duty is personal, so the reporter signs (name, role, institution, phone) and a
    # reply reaches them (Reply-To), not the unit's mailbox.
    phone = data.reporter.phone or staff_phone(session, data.reporter.email)
    role = role_label(data.reporter.role)
    signer = {"name": data.reporter.name, "email": data.reporter.email, "phone": phone,
              "role": role if data.institution.lower() in role.lower() else f"{role}, {data.institution}"}
    context: dict[str, Any] = {
        **base_context(profile, recipient_name=profile.notification.recipient_name, signer=signer),
        "case": case_context(session, case, profile) if case is not None else None,
        "institution": data.institution,
        "child": {"name": data.child.name, "group": data.child.group, "birth_year": data.child.birth_year},
        "reported_by_name": data.reporter.name,
        "reported_by_role": role,
        "reported_by_email": data.reporter.email,
        "reported_by_phone": phone,
        "actions_taken": data.actions_taken,
        "out_of_hours": profile.notification.out_of_hours,
        "reported_at": reported_at,
        "observation": data.observation,
        "observed_on": data.observed_on,
        "observed_time": notification.observed_time,
        "acknowledgement_due": due,
        "link": None,
    }
    # ESC-2: at once (send_after = now, the urgent lane), to the notifications address only.
    message = queue_message(session, kind="abuse_notification", to=profile.mailboxes.notifications,
                            context=context, serves=_subject(notification), sender=profile.sender, case=case,
                            actor=actor, send_after=utcnow(), notification_id=notification.id)
    if message is None:  # pragma: no cover - the outbox never suppresses this kind (ESC-2)
        raise RuntimeError("ESC-2: the abuse notification was not queued")
    # LAW-2 + issue 17: one deadline climbs the profile's ladder (`[escalation] ladders.acknowledgement_overdue`,
    # default: the notifier's leader, the coordinator, the escalation address on working days 1, 2, 3 after it).
    steps = ladder(profile, ACKNOWLEDGEMENT_OVERDUE)
    pin_deadline(session, calendar=calendar, kind=ACKNOWLEDGEMENT_OVERDUE, rule_id="LAW-2",
                 subject_key=_subject(notification), due_on=due,
                 remind_on=escalation_day(calendar, due, steps[0].after_working_days), case_id=case_id)
    return notification


def _pseudonym(session: Session, case: Case | None) -> str | None:
    if case is None or case.child_id is None:
        return None
    child = session.get(Child, case.child_id)
    return child.pseudonym if child is not None else None


def notification_public(notification: Notification, *, cancelled_parent_messages: int = 0) -> dict[str, Any]:
    return {
        "notification_id": notification.id,
        "case_id": notification.case_id,
        "sent_to": notification.sent_to,
        "notification_sent": True,
        "acknowledgement_due": notification.acknowledgement_due.isoformat(),
        "confidential_from_parents": notification.case_id is not None,
        "cancelled_parent_messages": cancelled_parent_messages,
        "rule_ids": ["ESC-1", "ESC-2", "LAW-1", "LAW-2"],
    }


def report(ctx: Ctx, data: AbuseReport | dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """`pprflow case report-abuse` (with or without a case): the notification, at once (ESC-2)."""
    report_data = data if isinstance(data, AbuseReport) else parse_report(data)
    with Session(ctx.engine, expire_on_commit=False) as session:
        notification = record_report(session, profile=ctx.profile, data=report_data, today=today, actor=ctx.actor)
        session.commit()
        return notification_public(notification, cancelled_parent_messages=_cancelled_for(session, notification))


def _cancelled_for(session: Session, notification: Notification) -> int:
    if notification.case_id is None:
        return 0
    return len(session.exec(select(OutboxMessage.id).where(
        OutboxMessage.case_id == notification.case_id, OutboxMessage.status == "cancelled",
        OutboxMessage.cancelled_reason == "ESC-1")).all())


def report_from_case(session: Session, case: Case, *, reporter_email: str, today: dt.date,
                     observation: str | None = None) -> AbuseReport:
    """The report for a case whose child we know only as a pseudonym (the reporter is a staff member)."""
    staff = session.exec(select(StaffMember).where(StaffMember.email == reporter_email)).first()
    institution = session.get(Institution, case.institution_id)
    child = session.get(Child, case.child_id) if case.child_id is not None else None
    name = child.pseudonym if child is not None else (f"Barn i {case.group_name}" if case.group_name else "Se sagen")
    return AbuseReport(
        reporter=Reporter(name=person_name(session, reporter_email, case_id=case.id),
                          email=reporter_email, role=staff.role if staff is not None
                          else person_role(session, reporter_email, case_id=case.id)),
        institution=institution.name if institution is not None else "Ikke oplyst",
        child=ReportedChild(name=name, group=case.group_name, birth_year=child.birth_year if child else None),
        observation=observation or case.concern or "Se sagen.", observed_on=today, case_id=case.id,
    )


def complete_from_case(engine: Engine, raw: dict[str, Any], case_id: int, *, today: dt.date) -> dict[str, Any]:
    """ESC-2: a report on a case needs only what the case does not already say. Every field of `raw` (the
    shape `parse_report` reads) left empty is filled from the case — the reporter's name and role from the
    directory, the institution, the child's pseudonym, group and birth year — so `report-abuse CASE
    --observation …` is never refused for them. An unknown case fills nothing (the report goes without it)."""
    reporter: dict[str, Any] = raw["reporter"] if isinstance(raw.get("reporter"), dict) else {}
    with Session(engine) as session:
        case = session.get(Case, case_id) if 0 < case_id <= MAX_ID else None  # ESC-2: never an OverflowError
        if case is None:
            return raw
        try:
            known = report_from_case(session, case, reporter_email=parse_address(str(reporter.get("email") or ""),
                                                                                 "reporter"),
                                     today=today, observation="-").model_dump()
        except (ValueError, PprflowError):  # no usable reporter address: parse_report says so, in Danish
            return raw
    filled = dict(raw)
    for part in ("reporter", "child"):
        given: dict[str, Any] = raw[part] if isinstance(raw.get(part), dict) else {}
        filled[part] = {**given, **{k: v for k, v in known[part].items() if given.get(k) is None and v is not None}}
    if raw.get("institution") is None:
        filled["institution"] = known["institution"]
    return filled


def report_abuse(ctx: Ctx, case_id: int, *, today: dt.date, observation: str | None = None,
                 reported_by_email: str | None = None) -> dict[str, Any]:
    """`pprflow case report-abuse CASE`: any staff member (LAW-1) reports suspected abuse on a case (ESC-1).

    The duty is personal, so the report names a person: the acting user's email (`--as EMAIL`).
    """
    reporter = (reported_by_email or ctx.actor).strip()
    # PRIV-2 without refusing (ESC-2): a CPR number in what was observed is blanked by the report model.
    if "@" not in reporter:
        raise InvalidInput(f"underretningen er IKKE sendt: hvem underretter? Pligten er personlig: kør med --as EMAIL "
                           f"(handlende bruger er {reporter!r})", rule_id="LAW-1")
    reporter = parse_address(reporter, "--as")
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
        if case is None:  # ESC-2: say in Danish that nothing was sent, and how to send it without a case
            raise InvalidInput(f"{NOT_SENT}: sag {case_id} findes ikke; send underretningen uden sag med "
                               "--child-name, --institution og --observation (eller --file)", rule_id="ESC-2")
        # ESC-1/LAW-1: nothing blocks a report — not the staff directory, not the access policy: the duty
        # is personal and the reporter is named (audited); the answer shows nothing of the case.
        data = report_from_case(session, case, reporter_email=reporter, today=today, observation=observation)
        notification = record_report(session, profile=ctx.profile, data=data, today=today, actor=ctx.actor,
                                     case=case)
        session.commit()
        return notification_public(notification, cancelled_parent_messages=_cancelled_for(session, notification))


def report_abuse_in_session(session: Session, *, profile: Profile, case: Case, reported_by_email: str,
                            today: dt.date, actor: str, observation: str | None = None) -> Notification:
    """ESC-1/LAW-1/LAW-2 on a case inside the caller's transaction (nothing is committed here)."""
    data = report_from_case(session, case, reporter_email=parse_address(reported_by_email, "reporter"),
                            today=today, observation=observation)
    return record_report(session, profile=profile, data=data, today=today, actor=actor, case=case)


def attach_to_case(session: Session, notification: Notification, case: Case, *, actor: str) -> None:
    """A referral's notification was sent before its case existed (ESC-2): link them, and the case (and the
    child) is confidential from the parents from now on (ESC-1)."""
    if notification.case_id is None:
        notification.case_id = case.id
        notification.child_pseudonym = notification.child_pseudonym or _pseudonym(session, case)
        session.add(notification)
        for deadline in session.exec(select(Deadline).where(Deadline.subject_key == _subject(notification))):
            deadline.case_id = case.id
            session.add(deadline)
        audit.record(session, actor=actor, action="change", entity="notification", entity_id=notification.id,
                     case_id=case.id, reason="ESC-1", detail={"case": case.id})
    protect_from_parents(session, case, actor=actor)


def unacknowledged(session: Session, case_ids: set[int]) -> list[Notification]:
    """LAW-2: the notifications on these cases still waiting for their acknowledgement."""
    if not case_ids:
        return []
    return list(session.exec(select(Notification).where(
        col(Notification.case_id).in_(list(case_ids)), col(Notification.acknowledged_at).is_(None))).all())


def acknowledge(ctx: Ctx, case_id: int | None = None, *, notification_id: int | None = None,
                today: dt.date | None = None) -> dict[str, Any]:
    """`pprflow case acknowledge [CASE] [--notification ID]`: the acknowledgement (kvittering) came (LAW-2).

    The LAW-2 deadlines close (the only way they close) and the child's name is reduced to the
    pseudonym (PRIV-2), audited.
    """
    if case_id is None and notification_id is None:
        raise InvalidInput("angiv sagen eller underretningen: pprflow case acknowledge SAG eller --notification ID",
                           rule_id="LAW-2")
    with Session(ctx.engine, expire_on_commit=False) as session:
        query = select(Notification)
        if case_id is not None:
            case = get_case(session, case_id)
            notifiers = session.exec(
                select(Notification.reported_by_email).where(Notification.case_id == case_id)).all()
            authorize(session, ctx.actor, Perm.CASE_ACKNOWLEDGE, case=case, what="case acknowledge",
                      also=dict.fromkeys(notifiers, "notifier (LAW-2)"))  # PRIV-4
            query = query.where(Notification.case_id == case_id)
        else:
            single = session.get(Notification, notification_id)
            if single is not None:  # PRIV-4: a case-less notification: its notifier or an administrator
                authorize(session, ctx.actor, Perm.CASE_ACKNOWLEDGE, case=single.case_id,
                          what="case acknowledge", also={single.reported_by_email: "notifier (LAW-2)"})
        if notification_id is not None:
            query = query.where(Notification.id == notification_id)
        rows = list(session.exec(query.order_by(col(Notification.id))).all())
        if not rows:
            which = "" if notification_id is None else f" {notification_id}"
            where = f"sag {case_id} har ingen" if case_id is not None else "der er ingen"
            raise NotFound(f"{where} underretning{which} at kvittere for; se pprflow case show", rule_id="LAW-2")
        open_rows = [n for n in rows if n.acknowledged_at is None]
        check_sent(session, open_rows)  # LAW-2: nothing is stored when one of them was not sent
        for notification in open_rows:
            notification.acknowledged_at = utcnow()
            reduced = notification.child_name is not None
            notification.child_name = None  # PRIV-2: kept only until acknowledged
            notification.child_pseudonym = notification.child_pseudonym or f"Barn (underretning {notification.id})"
            session.add(notification)
            close_deadlines(session, subject_key=_subject(notification), kinds=ACKNOWLEDGEMENT_KINDS,
                            acknowledged=True)
            audit.record(session, actor=ctx.actor, action="change", entity="notification",
                         entity_id=notification.id, case_id=notification.case_id, reason="LAW-2",
                         detail={"acknowledged": True, "child_name_reduced_to_pseudonym": reduced})
        session.commit()
        late = [n.id for n in open_rows if today is not None and today > n.acknowledgement_due]
        return {"case_id": case_id, "acknowledged": [n.id for n in open_rows],
                "already_acknowledged": [n.id for n in rows if n not in open_rows], "late": late,
                "rule_id": "LAW-2"}


def notification_message(session: Session, notification: Notification) -> OutboxMessage | None:
    """The outbox row of the notification itself (the abuse_notification message it was queued as)."""
    by_id = session.exec(select(OutboxMessage).where(
        OutboxMessage.template == ABUSE_NOTIFICATION, OutboxMessage.notification_id == notification.id)).first()
    if by_id is not None:
        return by_id
    return session.exec(select(OutboxMessage).where(  # a row queued before migration 0009_mail
        OutboxMessage.template == ABUSE_NOTIFICATION,
        col(OutboxMessage.idempotency_key).contains(f"|{_subject(notification)}|"))).first()


def check_sent(session: Session, notifications: list[Notification]) -> None:
    """LAW-2: an acknowledgement (kvittering) confirms receipt, so a notification still waiting in the
    outbox (or failed at the transport) cannot be acknowledged: one line saying which and why."""
    for notification in notifications:
        message = notification_message(session, notification)
        if message is None or message.status == "sent":
            continue
        state = ("står stadig i kø" if message.status == "pending" else f"har status {message.status}")
        error = f"; sidste fejl: {message.last_error}" if message.last_error else ""
        raise RuleViolation(
            "LAW-2", f"underretning {notification.id} kan ikke kvitteres: den er IKKE sendt endnu til "
                     f"{message.to} (besked {message.id} {state}{error}); en kvittering kan kun komme for en sendt "
                     f"underretning – vent på afsendelsen (pprflow outbox list), og kvittér så")


def _notifier_leader(session: Session, notification: Notification, case: Case | None) -> str | None:
    if case is not None:
        return leader_of(session, notification.reported_by_email, case)
    member = session.exec(select(StaffMember).where(StaffMember.email == notification.reported_by_email)).first()
    if member is not None and member.leader_email:
        return member.leader_email
    institution = session.exec(select(Institution).where(Institution.name == notification.institution_name)).first()
    if institution is None:
        return None
    for role in LEADER_ROLES:  # MEET-4's order: the pedagogical leader, then the institution's leader
        leader = session.exec(select(StaffMember).where(StaffMember.institution_id == institution.id,
                                                        StaffMember.role == role)).first()
        if leader is not None:
            return leader.email
    return None


def _acknowledgement_overdue(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """LAW-2: the acknowledgement is late — the profile's ladder (tasks/escalation.py `climb`): the notifier's
    leader, the coordinator, the escalation address, each once; a parent of the child is passed over (ESC-1).
    The deadline stays open (overdue on the dashboard) until the acknowledgement closes it."""
    notification = session.get(Notification, int(deadline.subject_key.split(":")[1]))
    if notification is None or notification.acknowledged_at is not None:
        return True
    case = session.get(Case, notification.case_id) if notification.case_id is not None else None
    steps = ladder(sweep.profile, ACKNOWLEDGEMENT_OVERDUE)
    legacy = ACKNOWLEDGEMENT_KINDS.index(deadline.kind)  # 0 for the one row pinned since issue 17
    if legacy and deadline.escalation_step < legacy:
        # A row pinned before issue 17 for the 2nd/3rd step (its first row closed after one mail): it climbs
        # the ladder from its own rung on, so a notification in flight at the upgrade loses no rung.
        deadline.escalation_step = min(legacy, len(steps))

    def notify(to: str, number: int, step: EscalationStep) -> None:
        child = notification.child_pseudonym or "et barn"  # PRIV-2: never the name outside the notification
        context: dict[str, Any] = {
            **base_context(sweep.profile, recipient_name=person_name(session, to, case_id=notification.case_id),
                           sender_name=sweep.profile.display_name),
            "case": case_context(session, case, sweep.profile) if case is not None else None,
            "institution": notification.institution_name or "",
            "child_label": child,
            "notifier_name": notification.reporter_name or person_name(session, notification.reported_by_email),
            "reported_at": notification.reported_at,
            "sent_to": notification.sent_to,
            "deadline": notification.acknowledgement_due,
            "escalation": {"step": number, "of": len(steps), "to_role": step.to},
            "link": None,
        }
        # the key of the step's kind before issue 17, so a message already queued by it is not sent twice
        key = ACKNOWLEDGEMENT_KINDS[number - 1] if number <= len(ACKNOWLEDGEMENT_KINDS) else f"step{number}"
        queue_message(session, kind="acknowledgement_overdue", to=to, context=context,
                      serves=f"{deadline.subject_key}:{key}", sender=sweep.profile.sender, case=case,
                      actor=sweep.actor, notification_id=notification.id)

    climb(session, deadline, sweep, notify=notify, recipients={
        "leader": _notifier_leader(session, notification, case),
        "coordinator": case.coordinator_email if case is not None else None,
        "top": sweep.profile.mailboxes.escalation or sweep.profile.escalation.top}, kind=ACKNOWLEDGEMENT_OVERDUE)
    if legacy == 1 and deadline.escalation_step >= 2:
        return True  # the old coordinator row has told its rung; the old escalation row carries the rest
    return False  # closed only by the acknowledgement (ESC-2/LAW-2)


NOTIFICATION_UNDELIVERED = "notification_undelivered"


def escalation_route(session: Session, profile: Profile, notification: Notification | None,
                     case: Case | None) -> str | None:
    """ESC-1: where a notification the transport keeps refusing is escalated — another route than the
    notifications address: the profile's escalation mailbox, else the notifier's leader, else the PPR
    mailbox. Placeholders (.invalid), the failing address itself and a parent of the child (the one check,
    `is_protected_parent`) are skipped."""
    failing = address_key(profile.mailboxes.notifications)
    candidates = [address_key(c) for c in (
        profile.mailboxes.escalation,
        _notifier_leader(session, notification, case) if notification is not None else None,
        profile.mailboxes.ppr) if c]
    for candidate in candidates:
        if (not is_placeholder(candidate) and candidate != failing
                and not is_protected_parent(session, case.id if case is not None else None, candidate)):
            return candidate
    return None


def escalate_undelivered(engine: Engine, profile: Profile, *, now: dt.datetime | None = None,
                         actor: str = SYSTEM_ACTOR) -> list[dict[str, Any]]:
    """ESC-1: every abuse notification the transport keeps refusing — failed for good, or still failing
    `[notification] escalate_after_minutes` after it was queued — is escalated exactly once: one
    conditional UPDATE sets `outboxmessage.escalated_at` (so overlapping delivery runs escalate it once),
    and in the same transaction a `notification_undelivered` mail is queued in the urgent lane to another
    route (`escalation_route`), audited. Returns what was escalated (for the delivery flow's dashboard
    alert); the notification itself stays in the queue and is still retried (ESC-2: never given up)."""
    when = now or utcnow()
    cutoff = when - dt.timedelta(minutes=profile.notification.escalate_after_minutes)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    escalated: list[dict[str, Any]] = []
    with Session(writer(engine), expire_on_commit=False) as session:
        failing = session.exec(select(OutboxMessage).where(
            OutboxMessage.template == ABUSE_NOTIFICATION, col(OutboxMessage.escalated_at).is_(None),
            col(OutboxMessage.last_error).is_not(None), col(OutboxMessage.status).in_(["pending", "failed"]),
            or_(col(OutboxMessage.status) == "failed", col(OutboxMessage.created_at) <= cutoff),
        ).order_by(col(OutboxMessage.id))).all()
        for message in failing:
            claimed = session.execute(update(table).where(table.c.id == message.id, table.c.escalated_at.is_(None))
                                      .values(escalated_at=when))
            if getattr(claimed, "rowcount", 0) != 1:
                continue  # another run escalated it first
            notification = session.get(Notification, message.notification_id) if message.notification_id else None
            case = session.get(Case, message.case_id) if message.case_id is not None else None
            to = escalation_route(session, profile, notification, case)
            queued = None
            if to is not None:
                queued = queue_message(session, kind=NOTIFICATION_UNDELIVERED, to=to,
                                       context=_undelivered_context(session, profile, message, notification, case,
                                                                    to),
                                       serves=f"undelivered:{message.id}:{message.idempotency_key[-40:]}",
                                       sender=profile.sender, case=case, actor=actor,
                                       notification_id=message.notification_id)
            audit.record(session, actor=actor, action="change", entity="outboxmessage", entity_id=message.id,
                         case_id=message.case_id, reason="ESC-1",
                         detail={"escalated": True, "escalated_to": to, "status": message.status,
                                 "escalation_message": queued.id if queued is not None else None})
            escalated.append({"message_id": message.id, "notification_id": message.notification_id,
                              "case_id": message.case_id, "escalated_to": to, "status": message.status,
                              "since": message.created_at.isoformat(), "last_error": message.last_error})
        session.commit()
    return escalated


def _undelivered_context(session: Session, profile: Profile, message: OutboxMessage,
                         notification: Notification | None, case: Case | None, to: str) -> dict[str, Any]:
    notifier = notification.reported_by_email if notification is not None else None
    settings = profile.notification
    return {
        **base_context(profile, recipient_name=person_name(session, to, case_id=message.case_id),
                       sender_name=profile.display_name),
        "case": case_context(session, case, profile) if case is not None else None,
        "institution": (notification.institution_name if notification is not None else None) or "ikke oplyst",
        # PRIV-2: never the child's name outside the notification itself
        "child_label": (notification.child_pseudonym if notification is not None else None) or "et barn",
        "notifier_name": (notification.reporter_name if notification is not None else None)
        or (person_name(session, notifier) if notifier else "underretter"),
        "notifier_phone": staff_phone(session, notifier),
        "reported_at": notification.reported_at if notification is not None else message.created_at,
        "sent_to": message.to,
        "sent_to_name": settings.recipient_name + (f", tlf. {settings.recipient_phone}"
                                                   if settings.recipient_phone else ""),
        "out_of_hours": settings.out_of_hours,
        "last_error": message.last_error or "ukendt fejl",
        "link": None,
    }


for _kind in ACKNOWLEDGEMENT_KINDS:
    reminder(_kind)(_acknowledgement_overdue)
