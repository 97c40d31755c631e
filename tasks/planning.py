"""Move or cancel ONE planned district meeting or KV session (issue 18): the administrator's (and, for KV, the
institution leader's) change to a date in a series, with a reason.

Both go through the meeting's own access rule (`authorize_meeting`: DISTRICT_SCHEDULE for a district meeting,
KV_SCHEDULE for a KV session, PRIV-4), are audited with the reason (PRIV-1), and keep the deadlines true:
- move: a closed day is refused (CAL-5; the series itself moves a closed day and flags it, a person choosing a
  date chooses a working day); the CAL-3 notice deadline of a KV session is counted again from the new date;
  the meeting's deadlines (case list CAL-5, KV notice and topic list CAL-3) are closed and pinned again, and the
  cases placed on a district meeting keep their place on it (their deadline follows the date);
- cancel: as tasks/meetings.py `cancel_meeting` (the CLI's `pprflow meeting cancel`, which finds only a case's
  meetings) does: status cancelled, its deadlines closed, audited; the cases that were placed on a cancelled
  district meeting go on the district's next open one (PATH-4), as the sweep does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import Perm
from pprflow.models.calendar import local_datetime, local_today, to_local
from pprflow.models.errors import InvalidInput, NotFound, RuleViolation
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import Deadline, Meeting
from pprflow.tasks import audit
from pprflow.tasks.casefile import MAX_ID
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import close_deadlines
from pprflow.tasks.meetings import authorize_meeting, meeting_subject
from pprflow.tasks.ppr import DISTRICT_ASSIGNMENT, _move_to_next_meeting, calendar_of, pin_case_list

PLANNED_KINDS = ("district", "kv")


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    check_no_cpr_number("reason", text)  # PRIV-2
    if not text:
        raise InvalidInput(f"Skriv kort, hvorfor mødet {what}; begrundelsen gemmes i loggen.", rule_id="CAL-5")
    return text


def _planned(session: Session, ctx: Ctx, meeting_id: int, what: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
    if meeting is None:
        raise NotFound(f"Møde {meeting_id} findes ikke; vælg mødet fra listen.")
    if meeting.kind not in PLANNED_KINDS or meeting.case_id is not None:
        raise InvalidInput("Her flyttes og aflyses kun distriktsmøder og KV-møder; et møde i en sag ændres på "
                           "sagens side.")
    authorize_meeting(session, ctx.actor, Perm.MEETING_SCHEDULE, meeting, what=what)  # PRIV-4
    if meeting.status == "cancelled":
        raise InvalidInput("Mødet er aflyst og kan ikke ændres; planlæg et nyt.")
    if meeting.minutes_recorded_at is not None:
        raise RuleViolation("MEET-2", "Mødet er holdt (der er referat); det kan ikke flyttes eller aflyses.")
    return meeting


def move_planned_meeting(*, ctx: Ctx, meeting_id: int, new_date: dt.date, reason: str | None,
                         today: dt.date | None = None) -> dict[str, Any]:
    """Move one district meeting or KV session to `new_date` (a working day, CAL-5), with a reason."""
    today = today or local_today()
    why = _reason(reason, "flyttes")
    calendar = calendar_of(ctx.profile)
    with Session(ctx.engine, expire_on_commit=False) as session:
        meeting = _planned(session, ctx, meeting_id, "web meeting move")
        if new_date < today:
            raise InvalidInput("Den nye dato er overstået; vælg i dag eller en senere dato.", rule_id="CAL-5")
        if calendar.is_closed_day(new_date):  # CAL-5: a person chooses a working day
            raise RuleViolation("CAL-5", f"{new_date.strftime('%d.%m.%Y')} er en lukkedag (weekend, helligdag "
                                         f"eller ferielukning); vælg en arbejdsdag, fx "
                                         f"{calendar.next_working_day(new_date).strftime('%d.%m.%Y')}.")
        old = meeting.date
        if new_date == old:
            raise InvalidInput("Mødet ligger allerede den dag; vælg en anden dato.", rule_id="CAL-5")
        tz = calendar.tz
        for attr in ("starts_at", "ends_at"):
            at = getattr(meeting, attr)
            if at is not None:  # the same local time of day on the new date (DST-safe)
                setattr(meeting, attr, local_datetime(new_date, to_local(at, tz).time().replace(tzinfo=None), tz))
        meeting.date = new_date
        meeting.flagged_closed_day = False
        if meeting.kind == "kv":
            meeting.agenda_deadline = calendar.kv_notice_deadline(new_date)  # CAL-3
        session.add(meeting)
        session.flush()
        close_deadlines(session, subject_key=meeting_subject(meeting.id))
        if meeting.kind == "kv":
            from pprflow.tasks.kv import _pin_kv_deadlines

            _pin_kv_deadlines(session, ctx.profile, meeting)
        else:
            pin_case_list(session, ctx.profile, meeting)
            placed = session.exec(select(Deadline).where(
                Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.meeting_id == meeting.id,
                col(Deadline.done_at).is_(None))).all()
            for deadline in placed:  # the cases on the meeting keep their place; their deadline follows it
                deadline.due_on = new_date
                session.add(deadline)
        audit.record(session, actor=ctx.actor, action="change", entity="meeting", entity_id=meeting.id,
                     reason=why, detail={"moved_from": old.isoformat(), "moved_to": new_date.isoformat(),
                                         "kind": meeting.kind})
        session.commit()
        return {"meeting_id": meeting.id, "kind": meeting.kind, "moved_from": old, "date": new_date,
                "agenda_deadline": meeting.agenda_deadline}


def cancel_planned_meeting(*, ctx: Ctx, meeting_id: int, reason: str | None,
                           today: dt.date | None = None) -> dict[str, Any]:
    """Cancel one district meeting or KV session, with a reason (`cancel_meeting`); the cases placed on a
    cancelled district meeting go on the district's next open meeting (PATH-4)."""
    today = today or local_today()
    why = _reason(reason, "aflyses")
    moved: list[int] = []
    with Session(ctx.engine) as session:
        meeting = _planned(session, ctx, meeting_id, "web meeting cancel")
        meeting.status = "cancelled"  # as `cancel_meeting` does for a case's meeting
        session.add(meeting)
        closed = close_deadlines(session, subject_key=meeting_subject(meeting.id))
        if meeting.kind == "district":
            placed = session.exec(select(Deadline).where(
                Deadline.kind == DISTRICT_ASSIGNMENT, Deadline.meeting_id == meeting_id,
                col(Deadline.done_at).is_(None))).all()
            session.flush()
            for deadline in placed:  # PATH-4: the cases go on the district's next open meeting
                if _move_to_next_meeting(session, deadline, profile=ctx.profile, today=today, actor=ctx.actor):
                    moved.append(deadline.case_id or 0)
        audit.record(session, actor=ctx.actor, action="change", entity="meeting", entity_id=meeting.id,
                     reason=why, detail={"status": "cancelled", "kind": meeting.kind,
                                         "date": meeting.date.isoformat(), "cases_moved": moved})
        session.commit()
        return {"meeting_id": meeting_id, "status": "cancelled", "kind": meeting.kind,
                "district": meeting.district, "deadlines_closed": closed, "cases_moved": moved}
