"""The KV cycle (konsultativ vejledning): sessions per institution (CAL-4), the pedagogical
leader's notice reminder (CAL-3), anonymous topics (KV-1) and the topic list to the PPR team with
the session's participants (KV-2). Service functions (I/O, no Prefect) and sweep handlers.

A session is a `Meeting(kind="kv")` with its CAL-3 notice deadline in `agenda_deadline` and two
pinned deadlines: `kv_notice_reminder` (to the pedagogical leader, before the deadline) and
`kv_topic_list` (to the district's PPR team, the morning after the deadline).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.calendar import ScheduledDate, local_datetime, local_today
from pprflow.models.errors import InvalidInput, NotFound
from pprflow.models.profile import Profile
from pprflow.models.rules_kv import (
    KV_HORIZON_WEEKS,
    KV_KIND_LABEL,
    MAX_SESSIONS_PER_CALL,
    KVTopicIn,
    Participant,
    check_topic_in_time,
    check_topic_text,
    kv_participants,
    next_session_dates,
    notice_reminder_day,
    participants_context,
    topic_list_day,
)
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import Deadline, Institution, KVTopic, Meeting, OutboxMessage, StaffMember
from pprflow.tasks import audit
from pprflow.tasks.access import authorize, authorize_in
from pprflow.tasks.casefile import base_context, person_name, signer_context
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import SweepContext, pin_deadline, reminder
from pprflow.tasks.outbox import queue_message
from pprflow.tasks.ppr import calendar_of, meeting_context, valid_email

KV_NOTICE_REMINDER = "kv_notice_reminder"
KV_TOPIC_LIST = "kv_topic_list"


def _institution(session: Session, name: str) -> Institution:
    found = session.exec(select(Institution).where(Institution.name == name.strip())).first()
    if found is None:
        raise NotFound(f"institution {name!r} is not known: give --kind and --district to register it, or check "
                       "the name")
    return found


def _pedagogical_leader(session: Session, institution: Institution) -> StaffMember | None:
    """KV-2/CAL-3: the pedagogical leader of the institution, else its leader."""
    for role in ("pedagogical_leader", "daycare_leader", "school_leader"):
        member = session.exec(
            select(StaffMember).where(StaffMember.institution_id == institution.id, StaffMember.role == role,
                                      StaffMember.active == True)  # noqa: E712  PRIV-4: an active member
            .order_by(col(StaffMember.id))
        ).first()
        if member is not None:
            return member
    return None


def participants_for(profile: Profile, institution: Institution, session_date: dt.date) -> list[Participant]:
    """KV-2 for a stored session."""
    cadence = profile.kv.cadence_weeks.get(institution.kind, 2)  # type: ignore[call-overload]
    return kv_participants(institution.kind, session_date, cadence)


def schedule_kv_sessions(
    ctx: Ctx, *, institution: str, start: dt.date, count: int, leader_email: str | None = None,
    leader_name: str | None = None, kind: Literal["school", "daycare"] | None = None,
    district: str | None = None, time: dt.time | None = None,
) -> dict[str, Any]:
    """`pprflow kv schedule`: KV sessions for an institution on the profile's cadence (CAL-4: school
    every 2 weeks, daycare every 6). Each session pins the pedagogical leader's reminder before the
    5-day notice deadline (CAL-3) and the topic list to the PPR team. A date on a closed day is
    stored moved to the next working day and flagged (as CAL-5). Scheduling again changes nothing.
    """
    if not 1 <= count <= MAX_SESSIONS_PER_CALL:
        raise InvalidInput(f"--count must be 1 to {MAX_SESSIONS_PER_CALL}, got {count}", rule_id="CAL-4")
    for option, value in (("--leader-name", leader_name), ("--institution", institution), ("--district", district)):
        check_no_cpr_number(option, value)  # PRIV-2: CLI free text too
    profile = ctx.profile
    calendar = calendar_of(profile)
    tz = ZoneInfo(profile.timezone)
    with Session(ctx.engine, expire_on_commit=False) as session:
        inst = session.exec(select(Institution).where(Institution.name == institution.strip())).first()
        # PRIV-4: the institution's leader or an administrator; a new institution: an administrator
        authorize(session, ctx.actor, Perm.KV_SCHEDULE, institution_id=inst.id if inst else None,
                  what="kv schedule")
        if inst is None:
            if kind is None or not district:
                _institution(session, institution)  # raises the NotFound with the hint
            inst = Institution(name=institution.strip(), kind=kind or "school", district=(district or "").strip())
            session.add(inst)
            session.flush()
            audit.record(session, actor=ctx.actor, action="create", entity="institution", entity_id=inst.id,
                         detail={"kind": inst.kind, "district": inst.district})
        elif kind is not None and kind != inst.kind:
            raise InvalidInput(f"institution {inst.name!r} is registered as a {inst.kind}, not a {kind}")
        leader = _leader(session, ctx, inst, leader_email, leader_name)
        cadence = profile.kv.cadence_weeks[inst.kind]  # type: ignore[index]
        rows = _create_sessions(session, ctx, inst, calendar.kv_sessions(inst.kind, start, count, cadence),
                                leader=leader, time=time, tz=tz)
        session.commit()
    return {"institution": inst.name, "kind": inst.kind, "cadence_weeks": cadence, "leader": leader,
            "sessions": rows}


def _create_sessions(session: Session, ctx: Ctx, inst: Institution, planned_sessions: list[ScheduledDate], *,
                     leader: str | None, time: dt.time | None, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Store the sessions (moved off closed days, flagged) and pin their CAL-3 deadlines; idempotent."""
    profile = ctx.profile
    calendar = calendar_of(profile)
    rows = []
    for planned in planned_sessions:
        held_on = planned.effective
        meeting = session.exec(
            select(Meeting).where(Meeting.kind == "kv", Meeting.institution_id == inst.id, Meeting.date == held_on)
        ).first()
        created = meeting is None
        if meeting is None:
            meeting = Meeting(
                kind="kv", institution_id=inst.id, district=inst.district, date=held_on,
                starts_at=local_datetime(held_on, time, tz) if time else None, leader_email=leader,
                location=inst.name,
                # CAL-3: at least 5 days' notice (calendar days), never on a closed day.
                agenda_deadline=calendar.kv_notice_deadline(held_on, profile.kv.notice_days),
                flagged_closed_day=planned.closed, status="scheduled",
            )
            session.add(meeting)
            session.flush()
            audit.record(session, actor=ctx.actor, action="create", entity="meeting", entity_id=meeting.id,
                         reason="CAL-4", detail={"kind": "kv", "institution": inst.name,
                                                 "date": held_on.isoformat(), "planned": planned.date.isoformat()})
        deadlines = _pin_kv_deadlines(session, profile, meeting)
        rows.append({
            "id": meeting.id, "date": meeting.date.isoformat(), "planned_date": planned.date.isoformat(),
            "moved_from_closed_day": planned.closed, "notice_deadline": _iso(meeting.agenda_deadline),
            "leader_reminder_on": deadlines[0].remind_on.isoformat(),
            "topic_list_on": deadlines[1].remind_on.isoformat(),
            "participants": [p.label for p in participants_for(profile, inst, meeting.date)],
            "created": created,
        })
    return rows


def kv_cycle(ctx: Ctx, *, today: dt.date, horizon_weeks: int = KV_HORIZON_WEEKS) -> dict[str, Any]:
    """The weekly KV cycle (CAL-4): every institution that has KV keeps its sessions planned
    `horizon_weeks` ahead on the profile's cadence, with the same leader and time. Idempotent."""
    profile = ctx.profile
    calendar = calendar_of(profile)
    tz = ZoneInfo(profile.timezone)
    until = today + dt.timedelta(weeks=horizon_weeks)
    added: dict[str, list[str]] = {}
    authorize_in(ctx.engine, ctx.actor, Perm.JOB_KV_CYCLE, what="kv cycle")  # PRIV-4: a job
    with Session(ctx.engine, expire_on_commit=False) as session:
        institution_ids = sorted({i for i in session.exec(
            select(Meeting.institution_id).where(Meeting.kind == "kv", Meeting.status == "scheduled")
        ).all() if i is not None})
        for institution_id in institution_ids:
            inst = session.get(Institution, institution_id)
            if inst is None:
                continue
            sessions = session.exec(
                select(Meeting).where(Meeting.kind == "kv", Meeting.institution_id == inst.id,
                                      Meeting.status == "scheduled").order_by(col(Meeting.date))
            ).all()
            anchor = next((m.date for m in sessions if not m.flagged_closed_day), sessions[0].date)
            last = sessions[-1]
            cadence = profile.kv.cadence_weeks[inst.kind]  # type: ignore[index]
            dates = next_session_dates(anchor=anchor, last=last.date, cadence_weeks=cadence, until=until)
            if not dates:
                continue
            planned = calendar.kv_sessions(inst.kind, dates[0], len(dates), cadence)
            time = last.starts_at.astimezone(tz).time().replace(tzinfo=None) if last.starts_at else None
            rows = _create_sessions(session, ctx, inst, planned, leader=last.leader_email, time=time, tz=tz)
            added[inst.name] = [r["date"] for r in rows if r["created"]]
        session.commit()
    return {"today": today.isoformat(), "until": until.isoformat(), "added": added}


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _leader(session: Session, ctx: Ctx, inst: Institution, email: str | None, name: str | None) -> str:
    """The pedagogical leader who gets the CAL-3 reminder: --leader, else the one we know."""
    if email is None:
        known = _pedagogical_leader(session, inst)
        if known is None:
            raise InvalidInput(
                f"no pedagogical leader known for {inst.name!r}: give --leader EMAIL (the leader is reminded before "
                "the 5-day notice deadline)", rule_id="CAL-3")
        return known.email
    address = valid_email(email, "--leader")
    member = session.exec(select(StaffMember).where(StaffMember.email == address)).first()
    if member is None:
        member = StaffMember(name=(name or address).strip(), email=address, role="pedagogical_leader",
                             institution_id=inst.id)
        session.add(member)
        session.flush()
        audit.record(session, actor=ctx.actor, action="create", entity="staffmember", entity_id=member.id,
                     detail={"role": "pedagogical_leader", "institution": inst.name})
    return address


def _pin_kv_deadlines(session: Session, profile: Profile, meeting: Meeting) -> tuple[Deadline, Deadline]:
    deadline = meeting.agenda_deadline or meeting.date
    subject = f"meeting:{meeting.id}"
    notice = pin_deadline(
        session, calendar=calendar_of(profile),
        kind=KV_NOTICE_REMINDER, rule_id="CAL-3", subject_key=subject, due_on=deadline,
        remind_on=notice_reminder_day(calendar_of(profile), deadline, profile.kv.reminder_days_before_notice),
        meeting_id=meeting.id, district=meeting.district,
    )
    topic_list = pin_deadline(
        session, calendar=calendar_of(profile),
        kind=KV_TOPIC_LIST, rule_id="CAL-3", subject_key=subject, due_on=deadline,
        remind_on=topic_list_day(calendar_of(profile), deadline), meeting_id=meeting.id, district=meeting.district,
    )
    return notice, topic_list


def _list_sent(session: Session, meeting_id: int | None) -> bool:
    """CAL-3: the topic list has gone to the PPR team (its deadline done, or — issue 17 — still open and
    climbing its ladder because no topic came, with the list already queued) — for the session's current date:
    a session moved to a new date (tasks/planning.py) has its old deadlines closed, and its list is still to go."""
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        return False
    current = meeting.agenda_deadline or meeting.date
    row = session.exec(
        select(Deadline.id).where(Deadline.kind == KV_TOPIC_LIST, Deadline.meeting_id == meeting_id,
                                  Deadline.due_on == current, Deadline.done_at != None)  # noqa: E711
    ).first()
    if row is not None:
        return True
    return session.exec(select(OutboxMessage.id).where(
        OutboxMessage.template == "kv_topic_list",
        # the key for the current date, or the key without a date a list queued before this change carries
        # (a list in flight at the upgrade is not sent twice)
        or_(col(OutboxMessage.idempotency_key).contains(f"|{_kv_serves(meeting)}|"),
            col(OutboxMessage.idempotency_key).contains(f"|meeting:{meeting.id}|")))).first() is not None


def _kv_serves(meeting: Meeting) -> str:
    """The outbox key of a KV session's mail for its current notice deadline: a moved session is reminded, sent
    its topic list and climbs its ladder again for the new date (CAL-3), never answered by the old date's mail."""
    return f"meeting:{meeting.id}:{(meeting.agenda_deadline or meeting.date).isoformat()}"


def submit_kv_topic(ctx: Ctx, topic: KVTopicIn, *, today: dt.date | None = None) -> dict[str, Any]:
    """`pprflow kv submit-topic`: an anonymous topic for a KV session (KV-1), refused after the
    session's 5-day notice deadline (CAL-3). The same topic submitted twice is stored once."""
    today = today or local_today()
    check_topic_text(topic.text)
    with Session(ctx.engine, expire_on_commit=False) as session:
        authorize(session, ctx.actor, Perm.KV_SUBMIT_TOPIC, what="kv submit-topic")  # PRIV-4
        inst = _institution(session, topic.institution)
        meeting = session.exec(
            select(Meeting).where(Meeting.kind == "kv", Meeting.institution_id == inst.id,
                                  Meeting.date == topic.session_date, Meeting.status == "scheduled")
        ).first()
        if meeting is None:
            raise NotFound(f"no KV session for {inst.name!r} on {topic.session_date.isoformat()}: see `pprflow kv "
                           f"list --institution {inst.name!r}`")
        deadline = meeting.agenda_deadline or meeting.date
        upcoming = session.exec(
            select(Meeting).where(Meeting.kind == "kv", Meeting.institution_id == inst.id,
                                  Meeting.status == "scheduled", Meeting.date > meeting.date)
            .order_by(col(Meeting.date))
        ).all()
        next_session = next((m.date for m in upcoming if (m.agenda_deadline or m.date) >= today), None)
        check_topic_in_time(today=today, session_date=meeting.date, notice_deadline=deadline,
                            list_sent=_list_sent(session, meeting.id), next_session=next_session)
        existing = session.exec(
            select(KVTopic).where(KVTopic.meeting_id == meeting.id, KVTopic.submitted_by_email == ctx.actor)
        ).all()
        row = next((t for t in existing if t.text == topic.text), None)
        if row is None:
            row = KVTopic(meeting_id=meeting.id or 0, text=topic.text, submitted_by_email=ctx.actor)
            session.add(row)
            session.flush()
            audit.record(session, actor=ctx.actor, action="create", entity="kvtopic", entity_id=row.id,
                         reason="KV-1", detail={"meeting_id": meeting.id})
        count = len(session.exec(select(KVTopic.id).where(KVTopic.meeting_id == meeting.id)).all())
        session.commit()
        return {"topic_id": row.id, "institution": inst.name, "session": meeting.date.isoformat(),
                "notice_deadline": deadline.isoformat(), "topics": count}


def list_kv_sessions(ctx: Ctx, *, institution: str, from_date: dt.date | None = None) -> dict[str, Any]:
    """`pprflow kv list`: sessions, their deadlines, topic counts and participants (KV-2). No topic text."""
    check_no_cpr_number("--institution", institution)  # PRIV-2
    with Session(ctx.engine) as session:
        authorize(session, ctx.actor, Perm.KV_LIST, what="kv list")  # PRIV-4; shows no case and no topic text
        inst = _institution(session, institution)
        query = select(Meeting).where(Meeting.kind == "kv", Meeting.institution_id == inst.id)
        if from_date is not None:
            query = query.where(Meeting.date >= from_date)
        sessions = []
        for meeting in session.exec(query.order_by(col(Meeting.date))).all():
            topics = session.exec(select(KVTopic.id).where(KVTopic.meeting_id == meeting.id)).all()
            sessions.append({
                "id": meeting.id, "date": meeting.date.isoformat(), "status": meeting.status,
                "flagged_closed_day": meeting.flagged_closed_day, "notice_deadline": _iso(meeting.agenda_deadline),
                "leader": meeting.leader_email, "topics": len(topics),
                "topic_list_sent": _list_sent(session, meeting.id),
                "participants": [p.label for p in participants_for(ctx.profile, inst, meeting.date)],
            })
        return {"institution": inst.name, "kind": inst.kind, "district": inst.district, "sessions": sessions}


def _kv_meeting(session: Session, deadline: Deadline) -> tuple[Meeting, Institution] | None:
    meeting = session.get(Meeting, deadline.meeting_id) if deadline.meeting_id is not None else None
    if meeting is None or meeting.status != "scheduled" or meeting.institution_id is None:
        return None
    inst = session.get(Institution, meeting.institution_id)
    return (meeting, inst) if inst is not None else None


@reminder(KV_NOTICE_REMINDER)
def remind_kv_notice(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-3: remind the pedagogical leader to send the KV topics before the 5-day notice deadline."""
    found = _kv_meeting(session, deadline)
    if found is None or not found[0].leader_email or sweep.today > deadline.due_on:
        return True  # no session, no leader, or the deadline has passed (a missed sweep): no stale reminder
    meeting, inst = found
    leader = meeting.leader_email or ""
    leader_name = person_name(session, leader)
    context = {
        **base_context(sweep.profile, recipient_name=leader_name),
        "meeting": meeting_context(meeting, kind_label=KV_KIND_LABEL, leader_name=leader_name),
        "institution": inst.name,
        "ppr_team_email": sweep.profile.district_team(meeting.district),
        "link": None,
    }
    queue_message(session, kind="kv_notice_reminder", to=leader, context=context, serves=_kv_serves(meeting),
                  sender=sweep.profile.sender, actor=sweep.actor)
    return True


@reminder(KV_TOPIC_LIST)
def send_kv_topic_list(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """CAL-3/KV-1/KV-2: after the notice deadline the anonymous topics go to the district's PPR team,
    with the session's participants (KV-2), which are also recorded in the audit log.

    Issue 17: when no topic came by the notice deadline, the deadline climbs the profile's ladder
    (`[escalation] ladders.kv_topic_list`: the pedagogical leader, then the district's PPR team) until
    the session's day; it stays overdue meanwhile."""
    found = _kv_meeting(session, deadline)
    if found is None:
        return True
    meeting, inst = found
    if _list_sent(session, meeting.id):
        return _kv_escalate(session, deadline, sweep, meeting, inst)
    topics = session.exec(
        select(KVTopic.text).where(KVTopic.meeting_id == meeting.id).order_by(col(KVTopic.id))
    ).all()
    participants = participants_for(sweep.profile, inst, meeting.date)
    leader_name = person_name(session, meeting.leader_email) if meeting.leader_email else None
    team = sweep.profile.district_team(meeting.district)
    context = {
        **base_context(sweep.profile, recipient_name=f"PPR-team {meeting.district or ''}".strip(),
                       sender_name=inst.name,
                       signer=signer_context(session, meeting.leader_email) if meeting.leader_email else None),
        "meeting": meeting_context(meeting, kind_label=KV_KIND_LABEL, leader_name=leader_name),
        "institution": inst.name,
        "topics": list(topics),
        "participants": participants_context(participants, leader_name=leader_name),  # KV-2
        "link": None,
    }
    message = queue_message(session, kind="kv_topic_list", to=team, context=context, serves=_kv_serves(meeting),
                            sender=sweep.profile.sender, actor=sweep.actor)
    audit.record(session, actor=sweep.actor, action="change", entity="meeting", entity_id=meeting.id, reason="KV-2",
                 detail={"participants": [p.role for p in participants], "topics": len(topics),
                         "message_id": message.id if message else None})
    return _kv_escalate(session, deadline, sweep, meeting, inst)


def _kv_escalate(session: Session, deadline: Deadline, sweep: SweepContext, meeting: Meeting,
                 inst: Institution) -> bool:
    """Issue 17/KV-1: no topic by the notice deadline → the ladder, once per rung, until the session is held."""
    from pprflow.models.rules_deadlines import kind_label
    from pprflow.tasks.escalation import climb, ladder
    from pprflow.templates.render import date_long

    has_topics = session.exec(select(KVTopic.id).where(KVTopic.meeting_id == meeting.id)).first() is not None
    if has_topics or sweep.today >= meeting.date:
        return True  # the topics came, or the session is here: nothing awaited any more
    steps = ladder(sweep.profile, KV_TOPIC_LIST)

    def notify(to: str, number: int, step: Any) -> None:
        queue_message(session, kind="deadline_escalation", to=to, actor=sweep.actor, sender=sweep.profile.sender,
                      serves=f"{_kv_serves(meeting)}:kv-step{number}", context={
                          **base_context(sweep.profile, recipient_name=person_name(session, to)),
                          "case": None, "label": kind_label("kv_notice_reminder", "CAL-3"),
                          "awaits": "der er meldt emner til den konsultative vejledning",
                          "what": f"Konsultativ vejledning på {inst.name} {date_long(meeting.date)}: "
                                  "PPR-teamet har ikke fået nogen emner med de 5 dages varsel (KV-1, CAL-3). "
                                  "Aftal med PPR-teamet, om sessionen holdes, eller meld emner til næste gang.",
                          "rule_id": "KV-1", "deadline": deadline.due_on,
                          "escalation": {"step": number, "of": len(steps), "to_role": step.to}, "link": None})

    climb(session, deadline, sweep, notify=notify, recipients={
        "leader": meeting.leader_email, "coordinator": sweep.profile.district_team(meeting.district),
        "top": sweep.profile.escalation.top}, until=meeting.date)
    return False
