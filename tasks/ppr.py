"""Inside PPR: district meetings (distriktsmøder, CAL-5), distributing a case (PATH-4) and the
start-up meeting reminder. Service functions (I/O, no Prefect) and their sweep handlers.

The way in [001]: request → "Sagen drøftes på distriktsmøde, som afholdes hver 2 uge. Der laves
konkret aftaler om hvilken PPR-medarbejder der starter sagen" → the employee contacts the school
or daycare and arranges a start-up meeting (opstartsmøde).

Stored state, not sleeping flows:
- a district meeting is a `Meeting(kind="district")` with a pinned `district_case_list` deadline
  (1 working day before): the sweep sends the district's PPR team the list of new cases;
- a PPR case waiting for its district meeting has an open `district_assignment` deadline whose
  `meeting_id` is the meeting it is on (the list is built from these). If the meeting passes
  without an assignment, the sweep moves the case to the next meeting — no case is lost;
- an assigned case has a `startup_meeting_reminder` deadline (subject `case:<id>`); scheduling
  the start-up meeting (`pprflow meeting schedule --kind startup`) closes it, otherwise the sweep
  reminds the employee, and again after each further lead time until a meeting exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.address import parse_address
from pprflow.models.calendar import WorkingCalendar, local_datetime, local_today
from pprflow.models.errors import InvalidInput
from pprflow.models.profile import WEEKDAYS, Profile
from pprflow.models.rules_ppr import (
    case_list_day,
    check_assignable,
    plan_district_meetings,
    startup_meeting_due,
)
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import Case, CaseParty, Deadline, Meeting, OutboxMessage, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import audit_list, authorize, authorize_in, readable_case_ids
from pprflow.tasks.casefile import base_context, case_context, get_case, person_name, staff_phone
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, close_deadlines, pin_deadline, reminder
from pprflow.tasks.outbox import queue_message

DISTRICT_CASE_LIST = "district_case_list"
DISTRICT_ASSIGNMENT = "district_assignment"
STARTUP_MEETING_REMINDER = "startup_meeting_reminder"

PPR_EMPLOYEE_ROLES: tuple[str, ...] = ("ppr_psychologist", "ppr_consultant", "sup", "speech_therapist")


def calendar_of(profile: Profile) -> WorkingCalendar:
    return WorkingCalendar.for_profile(profile)


def valid_email(value: str, what: str = "email") -> str:
    """An email address (the one address type, ESC-1), or one clear InvalidInput line."""
    return parse_address(value, what)


def meeting_context(meeting: Meeting, *, kind_label: str, leader_name: str | None = None) -> dict[str, Any]:
    """The `meeting` dict of templates/catalogue.py."""
    return {
        "kind_label": kind_label,
        "date": meeting.date,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "location": meeting.location,
        "address": meeting.address,
        "level": None,
        "level_number": None,
        "agenda_deadline": meeting.agenda_deadline,
        "leader_name": leader_name,
        "leader": None,
    }


# --- district meetings (CAL-5) -----------------------------------------------------------------


def _case_list_sent(session: Session, meeting_id: int | None) -> bool:
    """The meeting's list of new cases has gone — for its current date: a meeting moved to another date
    (tasks/planning.py) has its old deadline closed and is still open for new cases (PATH-4)."""
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        return False
    done = session.exec(
        select(Deadline.id).where(Deadline.kind == DISTRICT_CASE_LIST, Deadline.meeting_id == meeting_id,
                                  Deadline.due_on == meeting.date, Deadline.done_at != None)  # noqa: E711
    ).first()
    return done is not None


def next_open_district_meeting(session: Session, district: str, today: dt.date) -> Meeting | None:
    """PATH-4/CAL-5: the district's next meeting after today whose list of new cases has not gone out."""
    meetings = session.exec(
        select(Meeting).where(Meeting.kind == "district", Meeting.district == district, Meeting.date > today,
                              Meeting.status == "scheduled").order_by(col(Meeting.date), col(Meeting.id))
    ).all()
    return next((m for m in meetings if not _case_list_sent(session, m.id)), None)


def pin_case_list(session: Session, profile: Profile, meeting: Meeting) -> Deadline:
    """The list of new cases goes to the district's PPR team 1 working day before the meeting (CAL-5)."""
    return pin_deadline(
        session, calendar=calendar_of(profile),
        kind=DISTRICT_CASE_LIST, rule_id="CAL-5", subject_key=f"meeting:{meeting.id}",
        due_on=meeting.date, remind_on=case_list_day(calendar_of(profile), meeting.date),
        meeting_id=meeting.id, district=meeting.district,
    )


def place_on_district_meeting(session: Session, *, profile: Profile, case: Case, district: str,
                              today: dt.date) -> tuple[Meeting | None, Deadline]:
    """PATH-4/CAL-5: put a PPR case on the next district meeting of its district.

    Without a scheduled meeting the case waits (a deadline without a meeting, checked by every
    sweep) and is placed as soon as an administrator schedules one.
    """
    meeting = next_open_district_meeting(session, district, today)
    if meeting is None:
        waiting = pin_deadline(
            session, calendar=calendar_of(profile),
            kind=DISTRICT_ASSIGNMENT, rule_id="PATH-4", subject_key=f"case:{case.id}",
            due_on=today, remind_on=today, case_id=case.id, district=district,
        )
        return None, waiting
    pin_case_list(session, profile, meeting)
    deadline = pin_deadline(
        session, calendar=calendar_of(profile),
        kind=DISTRICT_ASSIGNMENT, rule_id="PATH-4", subject_key=f"case:{case.id}",
        due_on=meeting.date, remind_on=meeting.date + dt.timedelta(days=1),
        case_id=case.id, meeting_id=meeting.id, district=district,
    )
    return meeting, deadline


def _move_waiting_cases(session: Session, *, profile: Profile, district: str, today: dt.date,
                        actor: str) -> list[int]:
    """Cases that waited for a district meeting (none was scheduled) go on the next one now."""
    waiting = session.exec(
        select(Deadline).where(Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.district == district,
                               Deadline.meeting_id == None, Deadline.done_at == None)  # noqa: E711
        .order_by(col(Deadline.id))
    ).all()
    moved = []
    for deadline in waiting:
        if _move_to_next_meeting(session, deadline, profile=profile, today=today, actor=actor):
            moved.append(deadline.case_id or 0)
    return moved


def _move_to_next_meeting(session: Session, deadline: Deadline, *, profile: Profile, today: dt.date,
                          actor: str) -> bool:
    """Close `deadline` and put its case on the next open district meeting; False if there is none."""
    case = session.get(Case, deadline.case_id) if deadline.case_id is not None else None
    if case is None or case.status != "open" or case.assigned_ppr_email:
        deadline.done_at = utcnow()
        session.add(deadline)
        return True
    meeting = next_open_district_meeting(session, deadline.district or "", today)
    if meeting is not None and meeting.id == deadline.meeting_id:
        return False  # its meeting has not been held yet
    if meeting is None:
        # issue 17: no district meeting ahead — the case does not sit without a word
        alert_waiting_case(session, profile=profile, case=case, district=deadline.district or "",
                           reason="no_meeting", actor=actor)
        return False
    deadline.done_at = utcnow()
    session.add(deadline)
    place_on_district_meeting(session, profile=profile, case=case, district=deadline.district or "", today=today)
    audit.record(session, actor=actor, action="change", entity="case", entity_id=case.id, case_id=case.id,
                 reason="PATH-4", detail={"district_meeting": meeting.date.isoformat(),
                                          "from_meeting_id": deadline.meeting_id})
    waited = meetings_waited(session, case)
    if waited >= profile.district_meeting.alert_after_meetings:
        alert_waiting_case(session, profile=profile, case=case, district=deadline.district or "",
                           reason="unassigned", actor=actor, waited=waited)
    return True


def meetings_waited(session: Session, case: Case) -> int:
    """Issue 17: how many district meetings a case has been on without being assigned (the one it is on now
    does not count)."""
    placements = session.exec(select(Deadline.meeting_id).where(
        Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.case_id == case.id, Deadline.meeting_id != None,  # noqa: E711
        Deadline.done_at != None)).all()  # noqa: E711
    return len({m for m in placements if m is not None})


def alert_waiting_case(session: Session, *, profile: Profile, case: Case, district: str, reason: str,
                       actor: str, waited: int = 0) -> None:
    """Issue 17 (PATH-4/CAL-5): a case whose district has no meeting ahead, or that has waited
    `alert_after_meetings` meetings unassigned, is an alert to its coordinator (else the district's PPR team),
    once per reason (the outbox key), audited once; it also stays overdue on the dashboard."""
    to = case.coordinator_email or profile.district_team(district)
    received = case.created_at.astimezone(ZoneInfo(profile.timezone)).date()
    context = {
        **base_context(profile, recipient_name=person_name(session, to, case_id=case.id)),
        "case": case_context(session, case, profile), "district": district or "uden distrikt", "reason": reason,
        "meetings_waited": waited, "received_on": received, "link": None,
    }
    before = session.exec(select(OutboxMessage.id).where(OutboxMessage.template == "district_waiting",
                                                         OutboxMessage.case_id == case.id)).all()
    message = queue_message(session, kind="district_waiting", to=to, context=context,
                            serves=f"district-waiting:{reason}", sender=profile.sender, case=case, actor=actor)
    if message is not None and message.id not in before:
        audit.record(session, actor=actor, action="create", entity="alert", entity_id=message.id, case_id=case.id,
                     reason="PATH-4", detail={"alert": "district_waiting", "reason": reason, "district": district,
                                              "meetings_waited": waited})


def schedule_district_meetings(ctx: Ctx, *, district: str, start: dt.date, count: int,
                               today: dt.date | None = None) -> dict[str, Any]:
    """`pprflow district schedule`: administrators plan the district's meetings (CAL-5).

    Every `cadence_weeks` weeks on the profile's weekday and time. A date on a closed day is stored
    moved to the next working day and flagged (see `pprflow.models.rules_ppr.plan_district_meetings`).
    Scheduling the same meetings again changes nothing (a flow run twice is harmless).
    """
    district = district.strip()
    check_no_cpr_number("--district", district)  # PRIV-2: CLI free text too
    if not district:
        raise InvalidInput("--district must name the PPR district, e.g. Nord", rule_id="CAL-5")
    today = today or local_today()
    settings = ctx.profile.district_meeting
    plan = plan_district_meetings(calendar_of(ctx.profile), start=start, count=count, weekday=settings.weekday,
                                  cadence_weeks=settings.cadence_weeks)
    with Session(ctx.engine, expire_on_commit=False) as session:
        authorize(session, ctx.actor, Perm.DISTRICT_SCHEDULE, what="district schedule")  # PRIV-4: administrators
        rows = _create_district_meetings(session, ctx.profile, district, plan, actor=ctx.actor)
        moved = _move_waiting_cases(session, profile=ctx.profile, district=district, today=today, actor=ctx.actor)
        session.commit()
    return {"district": district, "meetings": rows, "cases_placed": moved}


def _create_district_meetings(session: Session, profile: Profile, district: str, plan: list[Any], *,
                              actor: str) -> list[dict[str, Any]]:
    """Store the planned district meetings not yet stored (CAL-5) with their case-list deadline; idempotent."""
    settings = profile.district_meeting
    tz = ZoneInfo(profile.timezone)
    rows = []
    for planned in plan:
        meeting = session.exec(
            select(Meeting).where(Meeting.kind == "district", Meeting.district == district,
                                  Meeting.date == planned.held_on)
        ).first()
        created = meeting is None
        if meeting is None:
            meeting = Meeting(kind="district", district=district, date=planned.held_on,
                              starts_at=local_datetime(planned.held_on, settings.time, tz),
                              flagged_closed_day=planned.moved, status="scheduled")
            session.add(meeting)
            session.flush()
            audit.record(session, actor=actor, action="create", entity="meeting", entity_id=meeting.id,
                         reason="CAL-5", detail={"kind": "district", "district": district,
                                                 "date": planned.held_on.isoformat(),
                                                 "planned": planned.planned.isoformat()})
        deadline = pin_case_list(session, profile, meeting)
        rows.append({
            "id": meeting.id, "date": meeting.date.isoformat(), "planned_date": planned.planned.isoformat(),
            "moved_from_closed_day": planned.moved, "case_list_on": deadline.remind_on.isoformat(),
            "created": created,
        })
    return rows


def keep_district_meetings_ahead(engine: Any, profile: Profile, *, today: dt.date,
                                 actor: str) -> dict[str, list[str]]:
    """Issue 17/CAL-5: plans never run out. Every district whose administrators have planned district meetings
    keeps them planned `plan_ahead_weeks` ahead on the profile's cadence, counted from the first meeting held on
    its planned day (a meeting moved off a closed day does not shift the rhythm), like the KV cycle (CAL-4).
    A cancelled date stays cancelled (it is not re-created); cases waiting for a meeting are placed.
    Returns the dates added per district. Idempotent: run by every daily sweep."""
    from pprflow.models.rules_kv import next_session_dates

    settings = profile.district_meeting
    calendar = calendar_of(profile)
    until = today + dt.timedelta(weeks=settings.plan_ahead_weeks)
    added: dict[str, list[str]] = {}
    from sqlalchemy import text

    from pprflow.tasks.outbox import writer

    with Session(writer(engine), expire_on_commit=False) as session:
        # overlapping sweeps (a late sweep re-run by the automation) plan one at a time, each reading what the
        # other stored: SQLite's BEGIN IMMEDIATE, PostgreSQL's transaction-scoped advisory lock (CAL-5, no doubles)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext('pprflow:district-plans'))"))
        districts = sorted({d for d in session.exec(
            select(Meeting.district).where(Meeting.kind == "district")).all() if d})
        for district in districts:
            meetings = session.exec(
                select(Meeting).where(Meeting.kind == "district", Meeting.district == district)
                .order_by(col(Meeting.date))).all()
            anchor = next((m.date for m in meetings if not m.flagged_closed_day), meetings[0].date)
            dates = next_session_dates(anchor=anchor, last=max(meetings[-1].date, today - dt.timedelta(days=1)),
                                       cadence_weeks=settings.cadence_weeks, until=until)
            if not [d for d in dates if d >= today]:
                continue
            first = next(d for d in dates if d >= today)
            plan = plan_district_meetings(calendar, start=first, count=len(dates) - dates.index(first),
                                          weekday=WEEKDAYS[first.weekday()], cadence_weeks=settings.cadence_weeks)
            # an administrator's single-date change wins: no new meeting within half a cadence of any meeting
            # of the district, held, moved or cancelled
            half = settings.cadence_weeks * 7 / 2
            plan = [p for p in plan if all(abs((m.date - p.held_on).days) >= half and
                                           abs((m.date - p.planned).days) >= half for m in meetings)]
            rows = _create_district_meetings(session, profile, district, plan, actor=actor)
            if created := [r["date"] for r in rows if r["created"]]:
                added[district] = created
            _move_waiting_cases(session, profile=profile, district=district, today=today, actor=actor)
        session.commit()
    return added


def _cases_on_meeting(session: Session, meeting_id: int | None) -> list[tuple[Case, Deadline]]:
    deadlines = session.exec(
        select(Deadline).where(Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.meeting_id == meeting_id)
        .order_by(col(Deadline.case_id))
    ).all()
    result = []
    for deadline in deadlines:
        case = session.get(Case, deadline.case_id) if deadline.case_id is not None else None
        if case is not None and case.status == "open":
            result.append((case, deadline))
    return result


def _latest_placement(session: Session, case: Case) -> int | None:
    """The id of the case's latest district_assignment deadline: the meeting it is (or was last) on."""
    return session.exec(
        select(Deadline.id).where(Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.case_id == case.id)
        .order_by(col(Deadline.id).desc())
    ).first()


def list_district_meetings(ctx: Ctx, *, district: str | None = None,
                           from_date: dt.date | None = None) -> list[dict[str, Any]]:
    """`pprflow district list`: the meetings, their case-list day and the cases on each (ids only)."""
    check_no_cpr_number("--district", district)  # PRIV-2: a search term is logged (PRIV-1)
    with Session(ctx.engine) as session:
        authorize(session, ctx.actor, Perm.DISTRICT_LIST, what="district list")  # PRIV-4
        query = select(Meeting).where(Meeting.kind == "district")
        hidden = 0
        shown: list[int | None] = []
        if district:
            query = query.where(Meeting.district == district)
        if from_date:
            query = query.where(Meeting.date >= from_date)
        result = []
        for meeting in session.exec(query.order_by(col(Meeting.date), col(Meeting.id))).all():
            case_list = session.exec(
                select(Deadline).where(Deadline.kind == DISTRICT_CASE_LIST, Deadline.meeting_id == meeting.id)
            ).first()
            cases = [(c, d) for c, d in _cases_on_meeting(session, meeting.id) if _latest_placement(session, c) == d.id]
            readable = readable_case_ids(session, ctx.actor, [c.id for c, _ in cases if c.id is not None])
            hidden += len(cases) - len(readable)
            cases = [(c, d) for c, d in cases if c.id in readable]  # PRIV-3: filtered, never all or nothing
            shown += [c.id for c, _ in cases]
            result.append({
                "id": meeting.id, "district": meeting.district, "date": meeting.date.isoformat(),
                "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
                "flagged_closed_day": meeting.flagged_closed_day, "status": meeting.status,
                "case_list_on": case_list.remind_on.isoformat() if case_list else None,
                "case_list_sent": bool(case_list and case_list.done_at),
                "cases": [c.id for c, _ in cases],
                "assigned": {str(c.id): c.assigned_ppr_email for c, _ in cases if c.assigned_ppr_email},
            })
        # PRIV-1: the list is a search, audited with its terms on every case it showed
        audit_list(session, actor=ctx.actor, entity="meeting", reason="district list",
                   terms={"district": district, "from": from_date.isoformat() if from_date else None},
                   shown=shown, hidden=hidden)
        session.commit()
        return result


@reminder(DISTRICT_CASE_LIST)
def send_district_case_list(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-5/PATH-4: before the meeting, the district's PPR team gets the list of new cases (once)."""
    meeting = session.get(Meeting, deadline.meeting_id) if deadline.meeting_id is not None else None
    if meeting is None or meeting.status != "scheduled" or meeting.date < sweep.today:
        return True  # cancelled, or already held (a missed sweep): its cases move to the next meeting
    cases = []
    for case, waiting in _cases_on_meeting(session, meeting.id):
        if waiting.done_at is not None or case.assigned_ppr_email:
            continue
        # PRIV-3/ESC-1: the list goes to the district's team mailbox; a case under suspected abuse shows
        # that it exists, not the observation (those assigned read it in the case).
        concern = ("Fortrolig sag (mistanke om vold eller overgreb): læs den i pprflow." if
                   case.confidential_from_parents else case.concern)
        cases.append({**case_context(session, case, sweep.profile),
                      "received_on": case.created_at.astimezone(ZoneInfo(sweep.profile.timezone)).date(),
                      "concern": concern})
    team = sweep.profile.district_team(meeting.district)
    district_label = meeting.district or ""
    context = {
        **base_context(sweep.profile, recipient_name=f"PPR-team {district_label}".strip()),
        "meeting": meeting_context(meeting, kind_label="Distriktsmøde"),
        "district": district_label,
        "cases": cases,
        "link": None,
    }
    # the key names the date: a meeting moved after its list went sends the list again for the new date
    queue_message(session, kind="district_case_list", to=team, context=context,
                  serves=f"meeting:{meeting.id}:{meeting.date.isoformat()}",
                  sender=sweep.profile.sender, actor=sweep.actor)
    return True


@reminder(DISTRICT_ASSIGNMENT)
def move_unassigned_case(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """PATH-4: a case the district meeting did not assign (or that waits for a meeting to be
    scheduled) goes on the next district meeting; it stays open until one exists."""
    return _move_to_next_meeting(session, deadline, profile=sweep.profile, today=sweep.today, actor=sweep.actor)


def prepare_district_meetings(ctx: Ctx, *, today: dt.date) -> dict[str, Any]:
    """The scheduled district preparation (CAL-5): send the case lists due by today and move cases
    whose meeting passed unassigned — the district part of the sweep, run at noon the day before
    the meetings so the list holds the morning's referrals too. Idempotent like the sweep."""
    from pprflow.tasks.deadlines import due_deadlines

    authorize_in(ctx.engine, ctx.actor, Perm.JOB_DISTRICT_PREPARE, what="district prepare")  # PRIV-4: a job
    handlers = {DISTRICT_CASE_LIST: send_district_case_list, DISTRICT_ASSIGNMENT: move_unassigned_case}
    sweep = SweepContext(profile=ctx.profile, today=today, actor=ctx.actor)
    with Session(ctx.engine) as session:
        due = [d.id for d in due_deadlines(session, today) if d.kind in handlers]
    handled: dict[str, int] = {}
    for deadline_id in due:
        with Session(ctx.engine, expire_on_commit=False) as session:
            deadline = session.get(Deadline, deadline_id)
            if deadline is None or deadline.done_at is not None:
                continue
            if handlers[deadline.kind](session, deadline, sweep):
                deadline.done_at = utcnow()
                session.add(deadline)
            session.commit()
            handled[deadline.kind] = handled.get(deadline.kind, 0) + 1
    return {"today": today.isoformat(), "handled": handled}


# --- assignment and the start-up meeting (PATH-4) -----------------------------------------------


def _decided_on(session: Session, case: Case, fallback: dt.date) -> dt.date:
    """The district meeting at which the case was (or is being) distributed."""
    deadline = session.exec(
        select(Deadline).where(Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.case_id == case.id,
                               Deadline.meeting_id != None)  # noqa: E711
        .order_by(col(Deadline.due_on).desc())
    ).first()
    if deadline is None or deadline.due_on > fallback:
        return fallback
    return deadline.due_on


def _assignment_context(session: Session, case: Case, profile: Profile, *, to: str, decided_on: dt.date,
                        deadline: dt.date | None) -> dict[str, Any]:
    return {
        **base_context(profile, recipient_name=person_name(session, to, case_id=case.id)),
        "case": case_context(session, case, profile),
        "district_meeting_date": decided_on,
        "institution_contact_name": person_name(session, case.coordinator_email, case_id=case.id),
        "institution_contact_email": case.coordinator_email,
        "institution_contact_phone": staff_phone(session, case.coordinator_email),
        "deadline": deadline,
        "link": None,
    }


def assign_case(ctx: Ctx, *, case_id: int, to_email: str, today: dt.date | None = None,
                role: str | None = None, name: str | None = None) -> dict[str, Any]:
    """`pprflow district assign CASE --to EMAIL`: the district meeting decides which PPR employee
    starts the case (PATH-4). The employee is told (`assignment`) and a start-up meeting reminder is
    pinned `startup_meeting_lead_working_days` ahead. Assigning again to the same person changes
    nothing; to someone else moves the case and the reminder to them.
    """
    to = valid_email(to_email, "--to")
    check_no_cpr_number("--name", name)  # PRIV-2
    if role is not None and role not in PPR_EMPLOYEE_ROLES:
        raise InvalidInput(f"--role {role!r} is not one of {', '.join(PPR_EMPLOYEE_ROLES)}")
    today = today or local_today()
    profile = ctx.profile
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CASE_ASSIGN, case=case, what="district assign")  # PRIV-4
        check_assignable(pathway=case.pathway, status=case.status, case_id=case_id)
        subject = f"case:{case.id}"
        previous = case.assigned_ppr_email
        if previous and previous.lower() == to.lower():
            pending = session.exec(
                select(Deadline).where(Deadline.kind == STARTUP_MEETING_REMINDER, Deadline.subject_key == subject)
                .order_by(col(Deadline.id).desc())
            ).first()
            return {"case_id": case.id, "assigned_to": previous, "changed": False,
                    "startup_meeting_due": pending.due_on.isoformat() if pending else None}
        decided_on = _decided_on(session, case, today)
        close_deadlines(session, subject_key=subject, kinds=(DISTRICT_ASSIGNMENT,))
        if previous:
            close_deadlines(session, subject_key=subject, kinds=(STARTUP_MEETING_REMINDER,))
        case.assigned_ppr_email = to
        case.last_activity_at = utcnow()
        session.add(case)
        staff = session.exec(select(StaffMember).where(StaffMember.email == to)).first()
        if staff is not None and staff.role not in (*PPR_EMPLOYEE_ROLES, "ppr_employee"):
            # PATH-4/PRIV-3: only a PPR employee starts the case; anyone else on it as "assigned" (another
            # school's leader, with their leader role) would read it and be taken for its leader
            raise InvalidInput(f"{to} is a {staff.role} in the staff directory, not a PPR employee "
                               f"({', '.join(PPR_EMPLOYEE_ROLES)}): assign the case to a PPR employee",
                               rule_id="PATH-4")
        if staff is None and name:
            staff = StaffMember(name=name.strip(), email=to, role=role or "ppr_employee")
            session.add(staff)
            session.flush()
            audit.record(session, actor=ctx.actor, action="create", entity="staffmember", entity_id=staff.id,
                         detail={"role": staff.role})
        party_role = role or (staff.role if staff else "ppr_employee")
        existing_party = session.exec(
            select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.email == to)
        ).first()
        if existing_party is None:
            session.add(CaseParty(case_id=case.id or 0, name=staff.name if staff else to, email=to, role=party_role))
            audit.record(session, actor=ctx.actor, action="create", entity="caseparty", case_id=case.id,
                         reason="PATH-4", detail={"email": to, "role": party_role})
        audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case.id, case_id=case.id,
                     reason="PATH-4", detail={"assigned_ppr_email": to, "previous": previous,
                                              "district_meeting": decided_on.isoformat()})
        due = startup_meeting_due(calendar_of(profile), today, profile.meetings.startup_meeting_lead_working_days)
        reminder_row = pin_deadline(session, calendar=calendar_of(profile),
                                    kind=STARTUP_MEETING_REMINDER, rule_id="PATH-4", subject_key=subject,
                                    due_on=due, remind_on=due, case_id=case.id)
        if reminder_row.done_at is not None:  # reassigned the same day: the reminder now serves the new employee
            reminder_row.done_at = None
            session.add(reminder_row)
        session.flush()
        message = queue_message(
            session, kind="assignment", to=to, serves=f"assign:{to.lower()}", sender=profile.sender, case=case,
            context=_assignment_context(session, case, profile, to=to, decided_on=decided_on, deadline=due),
            actor=ctx.actor,
        )
        session.commit()
        return {"case_id": case.id, "assigned_to": to, "changed": True, "previous": previous,
                "district_meeting": decided_on.isoformat(), "startup_meeting_due": due.isoformat(),
                "queued_message_ids": [message.id] if message is not None else []}


def _startup_meeting_scheduled(session: Session, case_id: int | None) -> bool:
    found = session.exec(
        select(Meeting.id).where(Meeting.kind == "startup", Meeting.case_id == case_id,
                                 Meeting.status != "cancelled")
    ).first()
    return found is not None


@reminder(STARTUP_MEETING_REMINDER)
def remind_startup_meeting(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """PATH-4: no start-up meeting (opstartsmøde) within the lead time → at the deadline the PPR employee is
    reminded once to contact the school/daycare and arrange one; then (issue 17) the deadline climbs the
    profile's ladder (`[escalation] ladders.startup_meeting_reminder`: the institution's leader, the coordinator,
    the PPR leader), each once, instead of repeating the reminder; it stays overdue until a meeting is set.

    The catalogue's `startup_meeting_reminder` template reminds of an AGREED meeting; there is none
    here, so the reminder re-sends the `assignment` message ("aftal opstartsmøde") under its own key.
    """
    from pprflow.models.rules_deadlines import kind_label
    from pprflow.tasks.casefile import institution_leader
    from pprflow.tasks.escalation import climb, ladder

    case = session.get(Case, deadline.case_id) if deadline.case_id is not None else None
    if case is None or case.status != "open" or not case.assigned_ppr_email:
        return True
    if _startup_meeting_scheduled(session, case.id):
        return True
    profile = sweep.profile
    employee = case.assigned_ppr_email
    queue_message(  # the notice at the deadline, once (the outbox's key)
        session, kind="assignment", to=employee, serves=f"startup-reminder:{deadline.id}", sender=profile.sender,
        case=case, actor=sweep.actor,
        context=_assignment_context(session, case, profile, to=employee,
                                    decided_on=_decided_on(session, case, deadline.due_on), deadline=deadline.due_on),
    )
    steps = ladder(profile, STARTUP_MEETING_REMINDER)

    def notify(to: str, number: int, step: Any) -> None:
        queue_message(session, kind="deadline_escalation", to=to, case=case, actor=sweep.actor,
                      serves=f"{deadline.subject_key}:{deadline.due_on.isoformat()}:startup-step{number}",
                      sender=profile.sender, context={
                          **base_context(profile, recipient_name=person_name(session, to, case_id=case.id)),
                          "case": case_context(session, case, profile),
                          "label": kind_label(STARTUP_MEETING_REMINDER, "PATH-4"),
                          "awaits": "opstartsmødet er aftalt",
                          "what": f"Sagen er fordelt til PPR-medarbejderen {person_name(session, employee)}; "
                                  "opstartsmødet med skolen/dagtilbuddet skulle være aftalt inden fristen.",
                          "rule_id": "PATH-4", "deadline": deadline.due_on,
                          "escalation": {"step": number, "of": len(steps), "to_role": step.to}, "link": None})

    climb(session, deadline, sweep, notify=notify, recipients={
        "leader": institution_leader(session, case), "coordinator": case.coordinator_email,
        "top": profile.escalation.top})
    return False  # issue 17: overdue until the start-up meeting is scheduled (schedule closes it)
