"""Intake (modtagelse): a referral becomes a case in ONE transaction — or nothing at all.

validate (pure rules, `pprflow.models.rules_intake`) → open the case (institution, child as pseudonym +
birth year, parents, submitter, consent, action plan) → name its coordinator (ROLE-1) → on
suspected abuse, notify at once and close the case to the parents (ESC-1, colleague's
`pprflow.tasks.abuse`) → queue the request to the pathway's mailbox and the receipt to the submitter →
PPR requests go on the district's next district meeting (PATH-4, CAL-5).

A refusal raises before anything is written: nothing stored, nothing queued. The same referral
submitted twice on the same day (a Prefect duplicate run) returns the first case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pprflow.models.access import LEADER_ROLES, Perm
from pprflow.models.calendar import local_datetime, local_today
from pprflow.models.errors import InvalidInput, PprflowError
from pprflow.models.profile import Profile
from pprflow.models.referral import PPR_PATHWAYS, Referral
from pprflow.models.rules_intake import REQUEST_TYPE_LABELS, Routing, check_referral, coordinator_for, route_referral
from pprflow.models.tables import (
    ActionPlan,
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    Institution,
    Meeting,
    Notification,
    OutboxMessage,
    StaffMember,
)
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize, resolve_actor
from pprflow.tasks.casefile import base_context, case_context, signer_context
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import queue_message
from pprflow.tasks.ppr import place_on_district_meeting
from pprflow.tasks.transports.base import Attachment

RECEIVED_BY: dict[str, str] = {
    "ppr": "PPR",
    "intervention_team": "Pædagogisk Indsatsteam",
    "social_advisers": "de socialfaglige rådgivere",
    "early_years_consultants": "småbørnskonsulenterne",
    "notifications": "Familie- og Rådgivningscentret",
}

RECIPIENT_NAMES: dict[str, str] = {
    "ppr": "PPR",
    "intervention_team": "Pædagogisk Indsatsteam",
    "social_advisers": "socialfaglige rådgivere",
    "early_years_consultants": "småbørnskonsulenter",
    "notifications": "Familie- og Rådgivningscentret",
}

REQUEST_LABELS: dict[str, str] = {
    "ppr_learning_environment": "henvendelse til PPR (læringsmiljøforløb)",
    "ppr_individual": "henvendelse til PPR (individforløb)",
    "ppv": "henvendelse til PPR (PPV)",
    "intervention_team": "henvendelse til Pædagogisk Indsatsteam",
    "social_adviser": "henvendelse til socialfaglig rådgiver",
    "early_years_consultant": "henvendelse til småbørnskonsulent",
}


class PinnedDeadline(BaseModel):
    kind: str
    rule_id: str
    due_on: dt.date
    remind_on: dt.date


class IntakeResult(BaseModel):
    """What intake did: the case, its coordinator, the queued messages and the pinned deadlines."""

    case_id: int
    status: str
    pathway: str
    coordinator: str = Field(description="Tovholder (ROLE-1).")
    queued_message_ids: list[int] = Field(default_factory=list)
    pinned_deadlines: list[PinnedDeadline] = Field(default_factory=list)
    district_meeting: dt.date | None = Field(default=None, description="The district meeting the case is on (CAL-5).")
    confidential_from_parents: bool = False
    notification_id: int | None = None
    already_submitted: bool = False
    notes: list[str] = Field(default_factory=list)


def intake_key(referral: Referral, today: dt.date) -> str:
    """The referral's fingerprint for the day: a duplicate run finds the first case by it."""
    payload = f"{today.isoformat()}|{referral.model_dump_json()}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _asks_for_notification(flag: object) -> bool:
    """ESC-2: any way a person writes "yes" sends the notification, even where strict input then refuses the
    referral for the type (`"true"`, `"ja"`, 1): erring towards the child."""
    if flag is True:
        return True
    return isinstance(flag, (str, int)) and not isinstance(flag, bool) and str(flag).strip().lower() in {
        "true", "ja", "yes", "1", "sand"}


def notify_first(ctx: Ctx, raw: dict[str, Any], *, today: dt.date) -> Notification:
    """ESC-2: the notification in a referral with ``"suspected_abuse": true`` goes first, in its own
    transaction, before any other rule looks at the referral — so none of them can stop it."""
    from pprflow.models.abuse import report_from_referral
    from pprflow.tasks.abuse import record_report

    data = report_from_referral(raw, today=today)
    with Session(ctx.engine, expire_on_commit=False) as session:
        notification = record_report(session, profile=ctx.profile, data=data, today=today, actor=ctx.actor)
        session.commit()
        return notification


def parse_or_notify(ctx: Ctx, data: str | bytes | dict[str, Any], *, today: dt.date) -> Referral:
    """`parse_referral`, except that a referral with ``"suspected_abuse": true`` refused while it is parsed
    (a CPR number, a malformed consent …) still sends its notification first (ESC-2); the refusal then says
    in one Danish line that the notification WAS sent — or, if even the report is unusable, that it was NOT."""
    import json

    from pprflow.models.abuse import ReportRefused, refusal_after_notification
    from pprflow.models.referral import parse_referral

    try:
        return parse_referral(data)
    except InvalidInput as refusal:
        try:
            raw = json.loads(data) if isinstance(data, (str, bytes)) else data
        except ValueError:
            raise refusal from None
        if not isinstance(raw, dict) or not _asks_for_notification(raw.get("suspected_abuse")):
            raise
        try:
            notification = notify_first(ctx, raw, today=today)
        except ReportRefused as exc:
            raise InvalidInput(f"{exc.message}; henvendelsen: {refusal.one_line()}", rule_id="ESC-2") from None
        raise refusal_after_notification(refusal, notification_id=notification.id,
                                         sent_to=notification.sent_to) from None


def submit_referral(ctx: Ctx, referral: Referral, *, today: dt.date | None = None,
                    attachments: Sequence[Attachment] = ()) -> IntakeResult:
    """`pprflow referral submit`: validate, open the case, queue the request and the receipt, pin deadlines.

    ESC-2: with ``suspected_abuse`` the notification is sent first; a refusal of the referral then says,
    in one Danish line, that the notification WAS sent and what the referral is missing.
    """
    from pprflow.models.abuse import refusal_after_notification

    today = today or local_today()
    notification = notify_first(ctx, referral.model_dump(mode="json"), today=today) if referral.suspected_abuse \
        else None
    try:
        check_referral(referral, today=today)  # PATH-1 … PATH-7, LAW-3: refuse before anything is written
        routing = route_referral(referral, ctx.profile)
    except PprflowError as exc:
        if notification is None:
            raise
        raise refusal_after_notification(exc, notification_id=notification.id, sent_to=notification.sent_to) from None
    key = intake_key(referral, today)
    with Session(ctx.engine, expire_on_commit=False) as session:
        authorize_intake(session, ctx.actor, referral)  # PRIV-4
        existing = session.exec(select(Case).where(Case.intake_key == key)).first()
        if existing is not None:
            return _result_for_existing(session, existing)
        try:
            result = _open_case(session, ctx, referral, routing, today=today, key=key, attachments=attachments,
                                notification_id=notification.id if notification is not None else None)
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = session.exec(select(Case).where(Case.intake_key == key)).first()
            if existing is None:
                raise
            return _result_for_existing(session, existing)
        except BaseException:
            session.rollback()
            raise
        return result


def authorize_intake(session: Session, actor: str, referral: Referral) -> None:
    """PRIV-4: an active member of the staff directory submits; so may a staff member not yet in it who
    submits their own first referral (they are added to the directory by that intake, `_get_or_create_staff`).
    Anyone else is refused and the refusal audited."""
    who = resolve_actor(session, actor)
    if who.kind == "unknown" and who.id and who.id == str(referral.submitted_by.email).strip().lower():
        return
    authorize(session, actor, Perm.REFERRAL_SUBMIT, what="referral submit")


def _get_or_create_institution(session: Session, ctx: Ctx, referral: Referral) -> Institution:
    data = referral.institution
    found = session.exec(select(Institution).where(Institution.name == data.name)).first()
    if found is not None:
        if (found.kind, found.district) != (data.kind, data.district):
            raise InvalidInput(
                f"referral: institution: {data.name!r} is registered as a {found.kind} in district "
                f"{found.district!r}, not a {data.kind} in {data.district!r}: correct institution.kind/district")
        return found
    row = Institution(name=data.name, kind=data.kind, district=data.district)
    session.add(row)
    session.flush()
    audit.record(session, actor=ctx.actor, action="create", entity="institution", entity_id=row.id,
                 detail={"kind": row.kind, "district": row.district})
    return row


def _get_or_create_staff(session: Session, ctx: Ctx, referral: Referral, institution: Institution) -> None:
    person = referral.submitted_by
    email = str(person.email)
    existing = session.exec(select(StaffMember).where(StaffMember.email == email)).first()
    if existing is not None:
        if person.phone and existing.phone != person.phone:  # issue 16: the directory keeps the newest number
            existing.phone = person.phone
            session.add(existing)
        return
    # PRIV-4: a referral is not a directory entry. Its submitter is known from now on, but a leader role
    # taken from the form does not make them the institution's leader (who reads all its cases, PRIV-3):
    # that link is made by an administrator (`pprflow staff add|import`).
    member = StaffMember(name=person.name, email=email, role=person.role, phone=person.phone,
                         institution_id=None if person.role in LEADER_ROLES else institution.id)
    session.add(member)
    session.flush()
    audit.record(session, actor=ctx.actor, action="create", entity="staffmember", entity_id=member.id,
                 detail={"role": person.role, "institution": institution.name})


def _open_case(session: Session, ctx: Ctx, referral: Referral, routing: Routing, *, today: dt.date,
               key: str, notification_id: int | None = None, attachments: Sequence[Attachment] = ()) -> IntakeResult:
    profile = ctx.profile
    institution = _get_or_create_institution(session, ctx, referral)
    _get_or_create_staff(session, ctx, referral, institution)

    child_id = None
    if referral.child is not None:  # PRIV-2: a pseudonym and a birth year, nothing more
        child = Child(pseudonym=referral.child.pseudonym, birth_year=referral.child.birth_year)
        session.add(child)
        session.flush()
        child_id = child.id

    coordinator = coordinator_for(referral)  # ROLE-1: exactly one coordinator from the start
    # Received now, on the intake day (the same instant in production; consistent when a demo simulates days).
    now = _received_at(profile, today)
    case = Case(
        pathway=referral.pathway, status="open", institution_id=institution.id or 0, child_id=child_id,
        group_name=referral.group, concern=referral.concern, submitted_by_email=str(referral.submitted_by.email),
        coordinator_email=coordinator, intake_key=key, created_at=now, last_activity_at=now,
    )
    session.add(case)
    session.flush()
    case_id = case.id or 0
    audit.record(session, actor=ctx.actor, action="create", entity="case", entity_id=case_id, case_id=case_id,
                 reason="PATH-1" if referral.pathway in PPR_PATHWAYS else None,
                 detail={"pathway": referral.pathway, "coordinator": coordinator, "child": child_id is not None,
                         "institution": institution.name})
    if child_id is not None:
        audit.record(session, actor=ctx.actor, action="create", entity="child", entity_id=child_id, case_id=case_id)

    # The people on the case: the submitter (the coordinator, ROLE-1) and the parents.
    seen: set[str] = set()
    submitter = referral.submitted_by
    session.add(CaseParty(case_id=case_id, name=submitter.name, email=str(submitter.email), role=submitter.role))
    seen.add(str(submitter.email).lower())
    for parent in referral.parents:
        email = str(parent.email)
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        session.add(CaseParty(case_id=case_id, name=parent.name, email=email, role="parent", is_parent=True))
        audit.record(session, actor=ctx.actor, action="create", entity="caseparty", case_id=case_id,
                     detail={"role": "parent"})

    consent_row = None
    if referral.consent is not None:
        # LAW-3: the consent record holds exactly what the parents consented to.
        given = referral.consent
        consent_row = Consent(case_id=case_id, given_by=list(given.given_by), given_on=given.date,
                              information=given.information, recipients=list(given.recipients),
                              purpose=given.purpose)
        session.add(consent_row)
        session.flush()
        audit.record(session, actor=ctx.actor, action="create", entity="consent", entity_id=consent_row.id,
                     case_id=case_id, reason="LAW-3")

    plan_row = None
    if referral.action_plan is not None:
        plan = referral.action_plan  # PLAN-1: SMTTE, every part non-empty (the model refuses blanks)
        plan_row = ActionPlan(case_id=case_id, context=plan.context, goal=plan.goal, signs=plan.signs,
                              measures=plan.measures, evaluation=plan.evaluation,
                              community_measures=plan.community_measures)
        session.add(plan_row)
        session.flush()
        audit.record(session, actor=ctx.actor, action="create", entity="actionplan", entity_id=plan_row.id,
                     case_id=case_id, reason="PLAN-1")
    session.flush()

    result = IntakeResult(case_id=case_id, status=case.status, pathway=case.pathway, coordinator=coordinator)

    # ESC-1/ESC-2: the notification was sent before the referral was checked (notify_first); link it to
    # the case, which is then confidential from the parents — and intake queues nothing to them.
    notification = session.get(Notification, notification_id) if notification_id is not None else None
    if notification is not None:
        from pprflow.tasks.abuse import attach_to_case

        attach_to_case(session, notification, case, actor=ctx.actor)
        result.notification_id = notification.id
        result.confidential_from_parents = True
        result.notes.append("suspected abuse: the notification went to the notifications address and the parents "
                            "are not informed (ESC-1)")
    elif _confidential_child(session, case, ctx.actor):
        result.confidential_from_parents = True
        result.notes.append("a case of the same child is confidential from the parents: so is this one (ESC-1)")

    meeting: Meeting | None = None
    if routing.district_meeting:
        meeting, waiting = place_on_district_meeting(session, profile=profile, case=case,
                                                     district=institution.district, today=today)
        result.pinned_deadlines.append(_pinned(waiting))
        result.district_meeting = meeting.date if meeting else None
        if meeting is None:
            result.notes.append(f"no district meeting is scheduled for district {institution.district!r}: the case "
                                "goes on the first one an administrator schedules (pprflow district schedule)")

    message_ids = _queue_request_and_receipt(session, ctx, referral, routing, case, consent_row, plan_row,
                                             meeting=meeting, today=today, attachments=attachments)
    result.queued_message_ids = message_ids
    session.flush()
    return result


def _confidential_child(session: Session, case: Case, actor: str) -> bool:
    """ESC-1: confidentiality follows the child — a second case of a child with a confidential case is
    confidential from the parents from the start (audited)."""
    from pprflow.tasks.outbox import is_confidential

    if not is_confidential(session, case):
        return False
    case.confidential_from_parents = True
    session.add(case)
    audit.record(session, actor=actor, action="change", entity="case", entity_id=case.id, case_id=case.id,
                 reason="ESC-1", detail={"confidential_from_parents": True, "same_child": True})
    return True


def _pinned(deadline: Deadline) -> PinnedDeadline:
    return PinnedDeadline(kind=deadline.kind, rule_id=deadline.rule_id, due_on=deadline.due_on,
                          remind_on=deadline.remind_on)


def _received_at(profile: Profile, today: dt.date) -> dt.datetime:
    """Now, on the (possibly simulated) intake day, in local time (CAL-9)."""
    tz = ZoneInfo(profile.timezone)
    now_local = utcnow().astimezone(tz)
    return local_datetime(today, now_local.time().replace(microsecond=0, tzinfo=None), tz)


def _plan_context(plan: ActionPlan | None) -> dict[str, str] | None:
    if plan is None:
        return None
    return {"context": plan.context, "goal": plan.goal, "signs": plan.signs, "measures": plan.measures,
            "evaluation": plan.evaluation}


def _queue_request_and_receipt(
    session: Session, ctx: Ctx, referral: Referral, routing: Routing, case: Case, consent: Consent | None,
    plan: ActionPlan | None, *, meeting: Meeting | None, today: dt.date, attachments: Sequence[Attachment] = (),
) -> list[int]:
    profile = ctx.profile
    submitter = referral.submitted_by
    case_ctx = case_context(session, case, profile)
    sender_name = f"{submitter.name}, {referral.institution.name}"
    consent_given_on = consent.given_on if consent is not None else None
    common: dict[str, Any] = {
        "case": case_ctx, "submitter_name": submitter.name, "submitter_email": str(submitter.email),
        "submitter_phone": submitter.phone, "link": None,
    }
    # Issue 16: the request is signed by the person who sends it; a reply reaches them.
    signer = signer_context(session, str(submitter.email), case_id=case.id, phone=submitter.phone)
    pathway = referral.pathway
    if pathway in PPR_PATHWAYS:
        # PATH-3: the request shows first what was tried in the child's communities (trin 1).
        tried = (plan.community_measures if plan is not None and plan.community_measures
                 else plan.measures if plan is not None else "")
        extra: dict[str, Any] = {"request_type_label": REQUEST_TYPE_LABELS[pathway], "concern": referral.concern,
                                 "tried": tried, "consent_given_on": consent_given_on,
                                 "action_plan": _plan_context(plan)}
    elif pathway == "intervention_team":
        extra = {"concern": referral.concern, "action_plan": _plan_context(plan),
                 "local_lead": referral.local_lead or "Den lokale AKT-/sprogansvarlige (inddraget, jf. henvendelsen)"}
    elif pathway == "social_adviser":
        extra = {"question": referral.concern, "consent_given_on": consent_given_on}
    else:
        extra = {"question": referral.concern, "consent_given_on": consent_given_on,
                 "specialist_required": routing.specialist is not None, "specialist_name": routing.specialist,
                 "action_plan": _plan_context(plan)}
    ids: list[int] = []
    # CONS-1: a request that names the child is shared on the parents' consent; withdrawn → not sent.
    shares_child = case.child_id is not None and consent is not None
    for address in routing.recipients:
        recipient_name = RECIPIENT_NAMES.get(profile.pathways[pathway], address)  # type: ignore[index]
        if address == routing.specialist and address != routing.recipients[0]:
            recipient_name = "Småbørnskonsulent, funktionsnedsættelser og sygdom"
        context = {**base_context(profile, recipient_name=recipient_name, sender_name=sender_name, signer=signer),
                   **common, **extra}
        message = queue_message(
            session, kind=routing.template, to=address, context=context, serves="intake",
            sender=profile.sender, case=case, consent_id=consent.id if shares_child and consent else None,
            actor=ctx.actor, attachments=attachments,  # the action plan document goes with the request (PLAN-1)
        )
        if message is not None and message.id is not None:
            ids.append(message.id)
    receiver = RECEIVED_BY.get(profile.pathways[pathway], "kommunen")  # type: ignore[index]
    receipt_context = {
        **base_context(profile, recipient_name=submitter.name),
        "case": case_ctx,
        "request_label": REQUEST_LABELS[pathway],
        "received_by": f"{receiver} i {profile.display_name}",
        "received_at": case.created_at,
        "district_meeting_date": meeting.date if meeting is not None else None,
        "link": None,
    }
    receipt = queue_message(session, kind="receipt", to=str(submitter.email), context=receipt_context,
                            serves="intake", sender=profile.sender, case=case, actor=ctx.actor)
    if receipt is not None and receipt.id is not None:
        ids.append(receipt.id)
    return ids


def _result_for_existing(session: Session, case: Case) -> IntakeResult:
    """A duplicate submission: report the stored case, queue nothing new."""
    messages = session.exec(select(OutboxMessage.id).where(OutboxMessage.case_id == case.id)).all()
    deadlines = session.exec(select(Deadline).where(Deadline.case_id == case.id)).all()
    notification = session.exec(select(Notification).where(Notification.case_id == case.id)).first()
    meeting_dates = [d.due_on for d in deadlines if d.kind == "district_assignment" and d.meeting_id is not None
                     and d.done_at is None]
    return IntakeResult(
        case_id=case.id or 0, status=case.status, pathway=case.pathway, coordinator=case.coordinator_email,
        queued_message_ids=[m for m in messages if m is not None],
        pinned_deadlines=[_pinned(d) for d in deadlines], district_meeting=min(meeting_dates, default=None),
        confidential_from_parents=case.confidential_from_parents,
        notification_id=notification.id if notification else None, already_submitted=True,
        notes=["this referral was already submitted today: no second case was opened"],
    )

