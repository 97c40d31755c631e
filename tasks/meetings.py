"""Network, development and start-up meetings (netværksmøde, udviklingsmøde, opstartsmøde).

CAL-2: the agenda goes to parents and partners no later than 5 working days before the meeting;
the leader is reminded before that deadline and the daily sweep sends the agenda *at the deadline at
the latest*, one message per recipient, each with a calendar invite. MEET-1…5, LVL-3/4, PATH-8.
ESC-1: on a case confidential from the parents no agenda or minutes even addresses a parent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.calendar import COPENHAGEN, WorkingCalendar, local_datetime
from pprflow.models.errors import InvalidInput, NotFound, RuleViolation
from pprflow.models.profile import Profile
from pprflow.models.rules_meetings import (
    CASE_MEETING_KINDS,
    MEETING_KIND_LABELS,
    NETWORK_CIRCLES,
    PARENTS_FORM,
    PARENTS_FORM_FIELDS,
    AgendaFormInput,
    MeetingInput,
    MinutesInput,
    NetworkPersonInput,
    PartnerInput,
    agenda_dates,
    agenda_fields_for,
    agenda_form,
    agenda_items,
    check_consent_names_partner,
    check_follow_ups,
    check_level3_consent,
    check_meeting_level,
    check_partner_consent,
    filled_rows,
    leader_phone,
    meeting_end,
    meeting_place,
    missing_fields,
    parents_form_applies,
    single_responsible,
    stored_kind,
)
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import Action, Case, CaseParty, Consent, Deadline, Institution, Meeting, NetworkPerson
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import (
    MAX_ID,
    Recipient,
    active_consents,
    base_context,
    case_context,
    case_recipients,
    get_case,
    institution_leader,
    leader_context,
    level_label,
    party_by_email,
    person_name,
    person_role,
    queue_for_recipients,
    role_label,
    staff_phone,
)
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, close_deadlines, pin_deadline, reminder
from pprflow.tasks.outbox import queue_message
from pprflow.tasks.transports.base import ICS_CONTENT_TYPE, Attachment

AGENDA_REMINDER = "agenda_deadline_reminder"
AGENDA_DISPATCH = "network_agenda"
STARTUP_MEETING_REMINDER = "startup_meeting_reminder"
DEFAULT_START = dt.time(9, 0)
MEETING_MINUTES = 90

DEFAULT_PURPOSE: dict[str, str] = {
    # [003] "Formålet med det tværfaglige netværksmøde"; [004] udviklingsmøde/netværksmøde.
    "network": "At udfolde problemstillingen ud fra en tværfaglig vinkel og forældreperspektiv, følge op på "
               "aftalte indsatser, give nye handlemuligheder og aftale roller og ansvar.",
    "development": "At finde løsninger på de udfordringer, barnet og dets omgivelser oplever, og aftale konkrete "
                   "handlinger med én ansvarlig for hver.",
    "startup": "Opstart af forløbet med PPR: forventninger, mål og aftaler om det videre samarbejde.",
}


def meeting_subject(meeting_id: int | None) -> str:
    return f"meeting:{meeting_id}"


def public_kind(stored: str) -> str:
    return "network" if stored.startswith("network") else stored


def _get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
    if meeting is None or meeting.case_id is None:
        raise NotFound(f"meeting {meeting_id} does not exist or belongs to no case")
    return meeting


def _case_meetings(session: Session, case_id: int) -> list[Meeting]:
    return list(session.exec(
        select(Meeting).where(Meeting.case_id == case_id, col(Meeting.kind).in_(CASE_MEETING_KINDS),
                              Meeting.status != "cancelled")
        .order_by(col(Meeting.date), col(Meeting.id))
    ).all())


def authorize_meeting(session: Session, actor: str, perm: Perm, meeting: Meeting, *, what: str) -> None:
    """PRIV-4: a case's meeting is changed like its case (and by its leader, MEET-4); a KV session by the
    institution's leader or an administrator; a district meeting by an administrator."""
    if meeting.case_id is not None:
        authorize(session, actor, perm, case=meeting.case_id, what=what,
                  also={meeting.leader_email: "meeting leader"} if meeting.leader_email else None)
    elif meeting.kind == "kv":
        authorize(session, actor, Perm.KV_SCHEDULE, institution_id=meeting.institution_id, what=what)
    else:
        authorize(session, actor, Perm.DISTRICT_SCHEDULE, what=what)


def is_first_meeting(session: Session, meeting: Meeting) -> bool:
    """MEET-3: the first development/network meeting of the case uses the first-meeting form."""
    if meeting.kind in ("network_first", "startup"):
        return True
    if meeting.kind == "network_followup":
        return False
    return not any((m.date, m.id or 0) < (meeting.date, meeting.id or 0)
                   for m in _case_meetings(session, meeting.case_id or 0))


def open_actions(session: Session, case_id: int, *, before_meeting_id: int | None = None) -> list[Action]:
    """MEET-2: actions not yet followed up at a later meeting."""
    query = select(Action).where(Action.case_id == case_id, Action.followed_up_in_meeting_id == None)  # noqa: E711
    if before_meeting_id is not None:
        query = query.where(Action.meeting_id != before_meeting_id)
    return list(session.exec(query.order_by(col(Action.id))).all())


def _action_context(session: Session, action: Action, *, follow_up: str | None) -> dict[str, Any]:
    return {"text": action.text, "responsible_name": person_name(session, action.responsible_email,
                                                                 case_id=action.case_id),
            "due": action.due_on, "follow_up": follow_up}


def meeting_context(session: Session, meeting: Meeting, profile: Profile) -> dict[str, Any]:
    """The `meeting` dict of templates/catalogue.py."""
    return {
        "kind_label": MEETING_KIND_LABELS.get(public_kind(meeting.kind), meeting.kind),
        "date": meeting.date,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "location": meeting.location,
        "address": meeting.address,
        "level": level_label(profile, meeting.level),
        "level_number": meeting.level,
        "agenda_deadline": meeting.agenda_deadline,
        "short_notice_reason": meeting.urgent_reason,  # CAL-2: called inside the window (issue 17)
        "leader_name": person_name(session, meeting.leader_email, case_id=meeting.case_id) or None,
        "leader": leader_context(session, meeting.leader_email, case_id=meeting.case_id, phone=meeting.leader_phone),
    }


def _network_map(session: Session, case: Case, leader: str | None) -> list[dict[str, str]]:
    """MEET-5: the network map (netværkskort) — everyone on the case, private and professional — is part
    of every agenda and minutes. MEET-1: parents take part, except under ESC-1."""
    people = case_recipients(session, case)
    rows = []
    if leader:
        role = person_role(session, leader, case_id=case.id)
        rows.append({"name": person_name(session, leader, case_id=case.id), "role": f"{role} (mødeleder)"})
    for person in people:
        if leader and person.email.strip().lower() == leader.strip().lower():
            continue
        rows.append({"name": person.name, "role": role_label(person.role)})
    return rows


# --- schedule ---------------------------------------------------------------------------------------

def _add_party(session: Session, *, case: Case, name: str, email: str, role: str, actor: str,
               consent_id: int | None = None) -> CaseParty:
    party = party_by_email(session, case.id or 0, email)
    if party is not None:
        if consent_id is not None and party.consent_id != consent_id:
            party.consent_id = consent_id
            session.add(party)
            audit.record(session, actor=actor, action="change", entity="caseparty", entity_id=party.id,
                         case_id=case.id, reason="PATH-8", detail={"consent_id": consent_id})
        return party
    party = CaseParty(case_id=case.id or 0, name=name, email=email.strip(), role=role, consent_id=consent_id)
    session.add(party)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="caseparty", entity_id=party.id, case_id=case.id,
                 reason="MEET-5", detail={"role": role, "consent_id": consent_id})
    return party


def schedule_meeting(*, ctx: Ctx, data: MeetingInput, today: dt.date) -> dict[str, Any]:
    """`pprflow meeting schedule`: store the meeting, pin the agenda deadline (CAL-2) and the leader's
    reminder; a start-up meeting closes the case's start-up reminder (PATH-4). Safe to run twice."""
    profile = ctx.profile
    calendar = WorkingCalendar.for_profile(profile)
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, data.case_id)
        authorize(session, ctx.actor, Perm.MEETING_SCHEDULE, case=case, what="meeting schedule")  # PRIV-4
        if case.status != "open":
            raise InvalidInput(f"case {case.id} is {case.status}; meetings are held on open cases")
        check_meeting_level(data.kind, data.level, profile.max_level)
        earlier = _case_meetings(session, case.id or 0)
        first = not earlier
        kind = stored_kind(data.kind, first=first)
        same = [m for m in earlier if public_kind(m.kind) == data.kind and m.date == data.date
                and m.level == data.level]
        if data.kind == "startup":
            same = list(session.exec(select(Meeting).where(
                Meeting.case_id == case.id, Meeting.kind == "startup", Meeting.date == data.date,
                Meeting.status != "cancelled")).all())
        if same:  # the flow ran twice (Prefect duplicate runs): the meeting exists once
            return _schedule_result(session, same[0], profile, created=False)
        # LVL-4: a second meeting at level 3 needs the parents' consent.
        check_level3_consent(
            level=data.level, earlier_level3_meetings=sum(1 for m in earlier if m.level == 3),
            has_active_consent=bool(active_consents(session, case.id or 0)),
        )
        institution = session.get(Institution, case.institution_id)
        place, address = meeting_place(location=data.location, address=data.address,
                                       institution=institution.name if institution else "", places=profile.places)
        ends = meeting_end(data.starts_at, data.ends_at)
        dates = agenda_dates(calendar, meeting_date=data.date, today=today,
                             working_days=profile.meetings.agenda_working_days,
                             reminder_working_days=profile.meetings.agenda_reminder_working_days,
                             urgent_reason=data.urgent_reason)
        leader = (data.leader_email or institution_leader(session, case)).strip()  # MEET-4
        from pprflow.tasks.outbox import is_protected_parent

        if is_protected_parent(session, case.id, leader):  # ESC-1: the one parent check
            raise RuleViolation("ESC-1", f"{leader} is a parent of a child on a case; a meeting is led by a "
                                         "professional (MEET-4)")
        phone = leader_phone(given=data.leader_phone, directory=staff_phone(session, leader), leader=leader)
        for participant in data.participants:
            _add_party(session, case=case, name=participant.name, email=participant.email,
                       role=participant.role, actor=ctx.actor)
        meeting = Meeting(
            kind=kind, case_id=case.id, institution_id=case.institution_id, date=data.date,
            starts_at=local_datetime(data.date, data.starts_at, calendar.tz),
            ends_at=local_datetime(data.date, ends, calendar.tz),
            level=data.level, leader_email=leader, leader_phone=phone, location=place, address=address,
            purpose=data.purpose or DEFAULT_PURPOSE[data.kind], agenda_deadline=dates.deadline,
            urgent_reason=data.urgent_reason.strip() if dates.short_notice and data.urgent_reason else None,
        )
        session.add(meeting)
        session.flush()
        subject = meeting_subject(meeting.id)
        pin_deadline(session, calendar=calendar,
                     kind=AGENDA_REMINDER, rule_id="CAL-2", subject_key=subject, due_on=dates.deadline,
                     remind_on=dates.remind_leader_on, case_id=case.id, meeting_id=meeting.id)
        pin_deadline(session, calendar=calendar,
                     kind=AGENDA_DISPATCH, rule_id="CAL-2", subject_key=subject, due_on=dates.deadline,
                     remind_on=dates.deadline, case_id=case.id, meeting_id=meeting.id)
        closed = 0
        if dates.short_notice:  # CAL-2 (issue 17): an urgent meeting's agenda goes out at once
            queue_agenda(session, meeting, profile=profile, actor=ctx.actor)
            close_deadlines(session, subject_key=subject, kinds=(AGENDA_REMINDER,))
        if data.kind == "startup":  # PATH-4: the start-up meeting is arranged; stop reminding
            closed = close_deadlines(session, subject_key=f"case:{case.id}", kinds=(STARTUP_MEETING_REMINDER,))
        case.last_activity_at = utcnow()
        session.add(case)
        audit.record(session, actor=ctx.actor, action="create", entity="meeting", entity_id=meeting.id,
                     case_id=case.id, reason="CAL-2",
                     detail={"kind": kind, "date": data.date.isoformat(), "level": data.level,
                             "agenda_deadline": dates.deadline.isoformat(), "leader": leader,
                             "short_notice_reason": meeting.urgent_reason})
        result = _schedule_result(session, meeting, profile, created=True)
        result["startup_reminders_closed"] = closed
        session.commit()
        return result


def _schedule_result(session: Session, meeting: Meeting, profile: Profile, *, created: bool) -> dict[str, Any]:
    kind = public_kind(meeting.kind)
    first = is_first_meeting(session, meeting)
    reminder_row = session.exec(select(Deadline).where(
        Deadline.kind == AGENDA_REMINDER, Deadline.subject_key == meeting_subject(meeting.id))).first()
    return {
        "meeting_id": meeting.id, "case_id": meeting.case_id, "kind": kind, "stored_kind": meeting.kind,
        "date": meeting.date.isoformat(), "level": meeting.level, "leader_email": meeting.leader_email,
        "agenda_deadline": meeting.agenda_deadline.isoformat() if meeting.agenda_deadline else None,
        "leader_reminded_on": reminder_row.remind_on.isoformat() if reminder_row else None,
        "form": agenda_form(kind, first=first, level=meeting.level), "created": created,
        "short_notice_reason": meeting.urgent_reason,
        "rule_ids": ["CAL-2", "MEET-3", "MEET-4"],
    }


# --- the agenda ---------------------------------------------------------------------------------------

def _invite(meeting: Meeting, *, profile: Profile, recipient: Recipient, summary: str, leader_name: str,
            location: str, description: str) -> Attachment:
    """The iCalendar invite (templates/ics.py) for one recipient, as an outbox attachment.

    Only the recipient is listed as attendee: one recipient's address never reaches another.
    """
    from pprflow.templates.ics import meeting_invite

    start = meeting.starts_at or local_datetime(meeting.date, DEFAULT_START, COPENHAGEN)
    minutes = MEETING_MINUTES
    if meeting.starts_at is not None and meeting.ends_at is not None:  # issue 16: the invite ends when the mail says
        minutes = max(1, int((meeting.ends_at - meeting.starts_at).total_seconds() // 60))
    content = meeting_invite(
        uid=f"pprflow-meeting-{meeting.id}@{profile.name}.pprflow",
        start=start, duration_minutes=minutes, summary=summary, location=location,
        description=description, organizer_email=meeting.leader_email or profile.sender,
        organizer_name=leader_name, attendees=[(recipient.name, recipient.email)],
    )
    return Attachment(filename="invitation.ics", content_type=ICS_CONTENT_TYPE, content=content)


def agenda_recipients(session: Session, case: Case, meeting: Meeting) -> list[Recipient]:
    """CAL-2/MEET-1: parents (never under ESC-1) and partners (only on a consent that stands, CONS-1),
    and the professionals on the case; the leader sends it."""
    return case_recipients(session, case, exclude=[meeting.leader_email or ""])


def queue_agenda(session: Session, meeting: Meeting, *, profile: Profile, actor: str) -> list[int]:
    """Queue the agenda (gult skema for a network meeting) with an invite, one message per recipient.

    The idempotency key is the meeting's agenda: sending early and then at the deadline queues each
    recipient's agenda once; someone added after an early send gets theirs at the deadline.
    """
    case = get_case(session, meeting.case_id or 0)
    kind = public_kind(meeting.kind)
    first = is_first_meeting(session, meeting)
    to_follow_up = open_actions(session, case.id or 0, before_meeting_id=meeting.id)
    leader_name = person_name(session, meeting.leader_email, case_id=case.id)
    meeting_ctx = meeting_context(session, meeting, profile)
    shared: dict[str, Any] = {
        "case": case_context(session, case, profile),
        "meeting": meeting_ctx,
        "purpose": meeting.purpose or DEFAULT_PURPOSE[kind],
        # Staff see the form; a mail to parents names no form or colour (issue 16).
        "form": agenda_form(kind, first=first, level=meeting.level),
        "agenda_items": agenda_items(kind, first=first, open_actions=len(to_follow_up),
                                     confidential_from_parents=case.confidential_from_parents),
        "participants": _network_map(session, case, meeting.leader_email),  # MEET-5
        "previous_actions": [_action_context(session, a, follow_up=None) for a in to_follow_up],
        # MEET-3: the form as filled in, field by field; MEET-5: the family's network map; level 4: dark-blue form
        # ESC-1: a case kept from the parents shows neither their perspective, their form nor the family's map
        "agenda_form_fields": [row for row in filled_rows(agenda_fields_for(first=first), meeting.agenda_fields)
                               if not (case.confidential_from_parents and row["name"] == "parents_view")],
        "network_map": [] if case.confidential_from_parents else network_map_rows(session, case.id or 0),
        "parents_form": (filled_rows(PARENTS_FORM_FIELDS, meeting.parents_form)
                         if parents_form_applies(meeting.level) and not case.confidential_from_parents else []),
    }
    summary = f"{meeting_ctx['kind_label']} – sag {case.id}"
    location = ", ".join(p for p in (meeting.location or shared["case"]["institution"], meeting.address) if p) \
        or profile.display_name
    description = "\n\n".join([shared["purpose"], *(f"{row['label']}\n{row['text']}" for row in
                                                    shared["agenda_form_fields"]), "Dagsordenen står i mailen."])
    queued = queue_for_recipients(
        session, kind="network_agenda", recipients=agenda_recipients(session, case, meeting), shared=shared,
        profile=profile, signer=meeting_ctx["leader"], case=case,
        serves=f"{meeting_subject(meeting.id)}:agenda", actor=actor,
        attachments_for=lambda recipient: [_invite(
            meeting, profile=profile, recipient=recipient, leader_name=leader_name,
            # Issue 16: a parent's calendar shows no case number.
            summary=f"{meeting_ctx['kind_label']} om jeres barn" if recipient.is_parent else summary,
            location=location, description=description)],
    )
    if meeting.agenda_sent_at is None:
        meeting.agenda_sent_at = utcnow()
        session.add(meeting)
        audit.record(session, actor=actor, action="change", entity="meeting", entity_id=meeting.id,
                     case_id=case.id, reason="CAL-2", detail={"agenda_sent": True, "recipients": len(queued)})
    return queued


def send_agenda(*, ctx: Ctx, meeting_id: int, today: dt.date) -> dict[str, Any]:
    """`pprflow meeting send-agenda MEETING`: the leader sends the agenda before the deadline (CAL-2)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        meeting = _get_meeting(session, meeting_id)
        authorize_meeting(session, ctx.actor, Perm.MEETING_AGENDA, meeting, what="meeting send-agenda")  # PRIV-4
        if meeting.status == "cancelled":
            raise InvalidInput(f"meeting {meeting_id} is cancelled")
        if meeting.minutes_recorded_at is not None or today > meeting.date:
            raise InvalidInput(f"meeting {meeting_id} on {meeting.date.isoformat()} has been held; "
                               "record the minutes instead", rule_id="CAL-2")
        queued = queue_agenda(session, meeting, profile=ctx.profile, actor=ctx.actor)
        close_deadlines(session, subject_key=meeting_subject(meeting.id), kinds=(AGENDA_REMINDER,))
        session.commit()
        return {"meeting_id": meeting_id, "case_id": meeting.case_id, "messages": queued,
                "agenda_deadline": meeting.agenda_deadline.isoformat() if meeting.agenda_deadline else None,
                "rule_id": "CAL-2"}


@reminder(AGENDA_REMINDER)
def _agenda_deadline_reminder(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-2: remind the leader to complete the agenda (yellow form) before the deadline."""
    meeting = session.get(Meeting, deadline.meeting_id or 0)
    if meeting is None or meeting.status == "cancelled" or meeting.agenda_sent_at is not None:
        return True
    if meeting.minutes_recorded_at is not None:
        return True
    case = get_case(session, meeting.case_id or 0)
    leader = meeting.leader_email or institution_leader(session, case)
    context = {
        **base_context(sweep.profile, recipient_name=person_name(session, leader, case_id=case.id)),
        "case": case_context(session, case, sweep.profile),
        "meeting": meeting_context(session, meeting, sweep.profile),
        "link": None,
    }
    queue_message(session, kind="agenda_deadline_reminder", to=leader, context=context,
                  serves=f"{deadline.subject_key}:agenda-reminder", sender=sweep.profile.sender, case=case,
                  actor=sweep.actor)
    return True


@reminder(AGENDA_DISPATCH)
def _agenda_at_deadline(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-2: at the deadline at the latest, the agenda goes out (to whoever has not had it yet)."""
    meeting = session.get(Meeting, deadline.meeting_id or 0)
    if meeting is None or meeting.status == "cancelled" or meeting.minutes_recorded_at is not None:
        return True
    queue_agenda(session, meeting, profile=sweep.profile, actor=sweep.actor)
    return True


# --- minutes --------------------------------------------------------------------------------------

def record_minutes(*, ctx: Ctx, meeting_id: int, data: MinutesInput, today: dt.date) -> dict[str, Any]:
    """`pprflow meeting minutes MEETING --file minutes.json`: the light-blue form (LVL-3) with actions, each
    with one responsible person, and the follow-up of every open action (MEET-2); sent to the
    participants, parents included unless ESC-1 (MEET-1). Recording the same minutes twice changes nothing."""
    profile = ctx.profile
    with Session(ctx.engine, expire_on_commit=False) as session:
        meeting = _get_meeting(session, meeting_id)
        authorize_meeting(session, ctx.actor, Perm.MEETING_MINUTES, meeting, what="meeting minutes")  # PRIV-4
        case = get_case(session, meeting.case_id or 0)
        if meeting.minutes_recorded_at is not None:
            ids = [a.id for a in session.exec(select(Action).where(Action.meeting_id == meeting.id)).all()]
            return {"meeting_id": meeting_id, "case_id": case.id, "already_recorded": True, "actions": ids,
                    "messages": []}
        if meeting.status == "cancelled":
            raise InvalidInput(f"meeting {meeting_id} is cancelled")
        if today < meeting.date:
            raise InvalidInput(f"meeting {meeting_id} is on {meeting.date.isoformat()}; minutes come after it")
        # MEET-2: one responsible person per action; every open action followed up.
        new_actions = [(a, single_responsible(a.responsible, what=f"action {i + 1} ({a.text[:40]!r})"))
                       for i, a in enumerate(data.actions)]
        earlier = open_actions(session, case.id or 0, before_meeting_id=meeting.id)
        check_follow_ups([a.id for a in earlier if a.id is not None], data.follow_ups)
        by_id = {a.id: a for a in earlier}
        rows: list[tuple[Action, str | None]] = []
        for follow_up in data.follow_ups:
            old = by_id[follow_up.action_id]
            old.follow_up = follow_up.decision
            old.followed_up_in_meeting_id = meeting.id
            session.add(old)
            if follow_up.decision == "change":  # replaced by the new actions of this meeting
                rows.append((old, "change"))
                continue
            responsible = (single_responsible(follow_up.responsible, what=f"action {old.id}")
                           if follow_up.responsible else old.responsible_email)
            carried = Action(meeting_id=meeting.id or 0, case_id=case.id or 0,
                             text=follow_up.text if follow_up.decision == "adjust" and follow_up.text else old.text,
                             responsible_email=responsible, due_on=follow_up.due or old.due_on)
            session.add(carried)
            rows.append((carried, follow_up.decision))
        for action_input, responsible in new_actions:
            action = Action(meeting_id=meeting.id or 0, case_id=case.id or 0, text=action_input.text,
                            responsible_email=responsible, due_on=action_input.due)
            session.add(action)
            rows.append((action, None))
        session.flush()
        meeting.minutes_recorded_at = utcnow()
        meeting.status = "held"
        session.add(meeting)
        close_deadlines(session, subject_key=meeting_subject(meeting.id), kinds=(AGENDA_REMINDER, AGENDA_DISPATCH))
        case.last_activity_at = utcnow()
        session.add(case)
        audit.record(session, actor=ctx.actor, action="create", entity="minutes", entity_id=meeting.id,
                     case_id=case.id, reason="MEET-2",
                     detail={"actions": [a.id for a, _ in rows], "follow_ups": {
                         str(f.action_id): f.decision for f in data.follow_ups}})
        shared: dict[str, Any] = {
            "case": case_context(session, case, profile),
            "meeting": meeting_context(session, meeting, profile),
            "participants": _network_map(session, case, meeting.leader_email),  # MEET-5
            "summary": data.summary,
            "actions": [_action_context(session, a, follow_up=f) for a, f in rows],
            "next_meeting_date": data.next_meeting_date,
        }
        queued = queue_for_recipients(
            session, kind="minutes", recipients=case_recipients(session, case, exclude=[meeting.leader_email or ""]),
            shared=shared, profile=profile, signer=shared["meeting"]["leader"], case=case,
            serves=f"{meeting_subject(meeting.id)}:minutes", actor=ctx.actor)
        session.commit()
        return {"meeting_id": meeting_id, "case_id": case.id, "already_recorded": False,
                "actions": [a.id for a, f in rows if f != "change"],
                "followed_up": {str(f.action_id): f.decision for f in data.follow_ups},
                "messages": queued, "form": "Aftaleskema/referat (lyseblåt skema)", "rule_ids": ["MEET-2", "LVL-3"]}


# --- partners (PATH-8) ----------------------------------------------------------------------------

def add_partner(*, ctx: Ctx, data: PartnerInput) -> dict[str, Any]:
    """`pprflow case add-partner`: a collaboration partner joins on the consent given (PATH-8, CONS-1);
    they receive agendas only while that consent stands."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, data.case_id)
        # PRIV-4: adding a partner is a change; nobody adds themselves to gain access
        authorize(session, ctx.actor, Perm.CASE_ADD_PARTNER, case=case, what="case add-partner")
        consent = session.get(Consent, data.consent_id) if data.consent_id is not None else None
        active = consent is not None and consent.case_id == case.id and consent.withdrawn_at is None
        check_partner_consent(data.role, consent_id=data.consent_id, consent_active=active)
        from pprflow.models.access import LEADER_ROLES

        if data.role in LEADER_ROLES:  # PRIV-3: the case's leader comes from the staff directory, never a partner
            raise InvalidInput(f"--role {data.role} is a leader role: a partner joins in a partner role (e.g. "
                               "health_visitor, ssp, outposted_social_worker); the institution's leader is found "
                               "in the staff directory", rule_id="PATH-8")
        existing = party_by_email(session, case.id or 0, data.email)
        if existing is not None and existing.is_parent:
            raise InvalidInput(f"{data.email} is a parent on case {case.id}, not a partner")
        if consent is not None and data.consent_id is not None:  # CONS-1, LAW-3: the consent names them
            check_consent_names_partner(list(consent.recipients), consent_id=data.consent_id, name=data.name,
                                        email=data.email, role=data.role)
        party = _add_party(session, case=case, name=data.name, email=data.email, role=data.role,
                           actor=ctx.actor, consent_id=data.consent_id)
        session.commit()
        return {"case_id": case.id, "party_id": party.id, "role": party.role, "consent_id": party.consent_id,
                "created": existing is None, "rule_id": "PATH-8"}


def cancel_meeting(*, ctx: Ctx, meeting_id: int, reason: str | None = None) -> dict[str, Any]:
    """Cancel a meeting: its deadlines close; already queued agendas stay as they are."""
    check_no_cpr_number("reason", reason)  # PRIV-2
    with Session(ctx.engine, expire_on_commit=False) as session:
        meeting = _get_meeting(session, meeting_id)
        authorize_meeting(session, ctx.actor, Perm.MEETING_CANCEL, meeting, what="meeting cancel")  # PRIV-4
        if meeting.minutes_recorded_at is not None:
            raise RuleViolation("MEET-2", f"meeting {meeting_id} has minutes; it cannot be cancelled")
        meeting.status = "cancelled"
        session.add(meeting)
        closed = close_deadlines(session, subject_key=meeting_subject(meeting.id))
        audit.record(session, actor=ctx.actor, action="change", entity="meeting", entity_id=meeting.id,
                     case_id=meeting.case_id, reason=reason or "cancelled", detail={"status": "cancelled"})
        session.commit()
        return {"meeting_id": meeting_id, "status": "cancelled", "deadlines_closed": closed}


# --- the agenda form (MEET-3, level 4) and the network map (MEET-5) -------------------------------------

def save_agenda_form(*, ctx: Ctx, meeting_id: int, data: AgendaFormInput) -> dict[str, Any]:
    """The agenda form, field by field: the first-meeting (yellow) or follow-up form (MEET-3); at level 4 also the
    parents' information form (dark-blue). Stored on the meeting, rendered into the agenda mail and the invite.
    A required field left empty is refused, naming the fields (nothing stored)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        meeting = _get_meeting(session, meeting_id)
        authorize_meeting(session, ctx.actor, Perm.MEETING_AGENDA, meeting, what="meeting agenda form")  # PRIV-4
        if meeting.status == "cancelled" or meeting.minutes_recorded_at is not None:
            raise InvalidInput(f"meeting {meeting_id} is {'cancelled' if meeting.status == 'cancelled' else 'held'}; "
                               "its agenda can no longer change", rule_id="MEET-3")
        first = is_first_meeting(session, meeting)
        missing = missing_fields(agenda_fields_for(first=first), data.fields)
        parents = dict(data.parents)
        if parents and not parents_form_applies(meeting.level):
            raise InvalidInput(f"the parents' information form ({PARENTS_FORM}) belongs to meetings at level 4; "
                               f"meeting {meeting_id} is at level {meeting.level}", rule_id="LVL-3")
        if parents:
            missing += missing_fields(PARENTS_FORM_FIELDS, parents)
        if missing:
            raise InvalidInput(f"the agenda form lacks required field(s): {', '.join(missing)}", rule_id="MEET-3")
        meeting.agenda_fields = dict(data.fields)
        if parents_form_applies(meeting.level):
            meeting.parents_form = parents or meeting.parents_form
        session.add(meeting)
        audit.record(session, actor=ctx.actor, action="change", entity="meeting", entity_id=meeting.id,
                     case_id=meeting.case_id, reason="MEET-3",  # the field names, never their content (PRIV-2)
                     detail={"agenda_fields": sorted(data.fields), "parents_form": sorted(parents)})
        session.commit()
        return {"meeting_id": meeting_id, "first": first, "fields": sorted(data.fields),
                "parents_form": sorted(parents), "rule_id": "MEET-3"}


def network_map_rows(session: Session, case_id: int) -> list[dict[str, Any]]:
    """MEET-5: the case's network map, family first, then private and professional network."""
    order = {c: i for i, c in enumerate(NETWORK_CIRCLES)}
    rows = session.exec(select(NetworkPerson).where(NetworkPerson.case_id == case_id)
                        .order_by(col(NetworkPerson.id))).all()
    return [{"id": r.id, "name": r.name, "relation": r.relation, "circle": r.circle,
             "circle_label": NETWORK_CIRCLES.get(r.circle, r.circle), "contact": r.contact, "note": r.note}
            for r in sorted(rows, key=lambda r: (order.get(r.circle, 9), r.id or 0))]


def add_network_person(*, ctx: Ctx, data: NetworkPersonInput) -> dict[str, Any]:
    """MEET-5: add a person to the case's network map (filled in with the family). Twice is once."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, data.case_id)
        authorize(session, ctx.actor, Perm.CASE_ADD_PARTNER, case=case, what="network map")  # PRIV-4
        same = session.exec(select(NetworkPerson).where(
            NetworkPerson.case_id == case.id, NetworkPerson.name == data.name,
            NetworkPerson.relation == data.relation, NetworkPerson.circle == data.circle)).first()
        if same is not None:
            return {"case_id": case.id, "person_id": same.id, "created": False, "rule_id": "MEET-5"}
        person = NetworkPerson(case_id=case.id or 0, name=data.name, relation=data.relation, circle=data.circle,
                               contact=data.contact or None, note=data.note or None)
        session.add(person)
        session.flush()
        audit.record(session, actor=ctx.actor, action="create", entity="networkperson", entity_id=person.id,
                     case_id=case.id, reason="MEET-5", detail={"circle": data.circle})
        case.last_activity_at = utcnow()
        session.add(case)
        session.commit()
        return {"case_id": case.id, "person_id": person.id, "created": True, "rule_id": "MEET-5"}


def remove_network_person(*, ctx: Ctx, case_id: int, person_id: int) -> dict[str, Any]:
    """MEET-5: take a person off the network map (audited). Twice is once."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_ADD_PARTNER, case=case, what="network map")  # PRIV-4
        person = session.get(NetworkPerson, person_id) if 0 < person_id <= MAX_ID else None
        if person is None or person.case_id != case_id:
            return {"case_id": case_id, "person_id": person_id, "removed": False, "rule_id": "MEET-5"}
        session.delete(person)
        audit.record(session, actor=ctx.actor, action="change", entity="networkperson", entity_id=person_id,
                     case_id=case_id, reason="MEET-5", detail={"removed": True})
        session.commit()
        return {"case_id": case_id, "person_id": person_id, "removed": True, "rule_id": "MEET-5"}
