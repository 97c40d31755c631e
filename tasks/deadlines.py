"""Pinned deadlines (frister) and the daily sweep (daglig gennemgang).

A deadline is stored on a row with the day its reminder is due, so the sweep finds what is due
with one indexed query (`done_at IS NULL AND remind_on <= today`) instead of re-deriving every
case. Pathway modules register a handler per deadline kind with `@reminder(kind)`.
Running the sweep twice queues nothing new: handlers queue through the idempotent outbox and
a handled deadline is marked done — unless it waits for something a person must do (issue 17):
then the handler returns False, the deadline climbs its escalation ladder (tasks/escalation.py) and
stays overdue in the sweep's result and on the dashboard until that thing happens.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.abuse import ACKNOWLEDGEMENT_KINDS
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.profile import Profile
from pprflow.models.rules_deadlines import kind_label, reminder_day
from pprflow.models.tables import Deadline
from pprflow.models.types import utcnow


def pin_deadline(
    session: Session,
    *,
    calendar: WorkingCalendar,
    kind: str,
    rule_id: str,
    subject_key: str,
    due_on: dt.date,
    remind_on: dt.date,
    case_id: int | None = None,
    meeting_id: int | None = None,
    district: str | None = None,
) -> Deadline:
    """Store a deadline once; pinning the same (kind, subject, due date) again returns the stored row.

    CAL-10 by construction: every stored reminder day passes through `rules_deadlines.reminder_day`
    with the profile's `calendar`, so no reminder or notice is ever stored on a closed day.
    """
    remind_on = reminder_day(calendar, kind, remind_on)
    existing = session.exec(
        select(Deadline).where(
            Deadline.kind == kind, Deadline.subject_key == subject_key, Deadline.due_on == due_on
        )
    ).first()
    if existing is not None:
        return existing
    deadline = Deadline(
        kind=kind, rule_id=rule_id, subject_key=subject_key, due_on=due_on, remind_on=remind_on,
        case_id=case_id, meeting_id=meeting_id, district=district,
    )
    session.add(deadline)
    session.flush()
    return deadline


def close_deadlines(session: Session, *, subject_key: str, kinds: tuple[str, ...] | None = None,
                    acknowledged: bool = False) -> int:
    """Mark a subject's open deadlines done (the meeting happened, the case was closed ...).

    ESC-2/LAW-2: a notification's acknowledgement deadlines close only by the acknowledgement itself
    (`acknowledged=True`, from `tasks.abuse.acknowledge`); no other caller can close them.
    """
    query = select(Deadline).where(Deadline.subject_key == subject_key, Deadline.done_at == None)  # noqa: E711
    if kinds is not None:
        query = query.where(col(Deadline.kind).in_(kinds))
    if not acknowledged:
        query = query.where(col(Deadline.kind).not_in(ACKNOWLEDGEMENT_KINDS))
    rows = session.exec(query).all()
    for row in rows:
        row.done_at = utcnow()
        session.add(row)
    return len(rows)


@dataclass(frozen=True)
class SweepContext:
    """What a reminder handler gets besides the deadline."""

    profile: Profile
    today: dt.date
    actor: str


Handler = Callable[[Session, Deadline, SweepContext], bool]
"""Queue what the deadline asks for; return True when the deadline is done (no further reminders)."""

HANDLERS: dict[str, Handler] = {}

# Modules whose import registers reminder handlers. A new pathway adds its module here.
HANDLER_MODULES: tuple[str, ...] = (
    "pprflow.tasks.ppr", "pprflow.tasks.kv", "pprflow.tasks.meetings", "pprflow.tasks.levels", "pprflow.tasks.abuse",
)


def reminder(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler for one deadline kind."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def load_handlers() -> dict[str, Handler]:
    for module in HANDLER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return HANDLERS


@dataclass
class SweepReport:
    """What one sweep did: deadlines handled per kind, messages queued, deadlines closed."""

    today: dt.date
    handled: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    queued_before: int = 0
    queued_after: int = 0
    unknown_kinds: list[str] = field(default_factory=list)
    stuck: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return self.queued_after - self.queued_before

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "handled": self.handled, "closed": self.closed,
                "queued": self.queued, "unknown_kinds": self.unknown_kinds, "stuck": len(self.stuck),
                "stuck_deadlines": self.stuck, "overdue": len(self.overdue), "overdue_deadlines": self.overdue}


def error_line(exc: BaseException) -> str:
    """One line naming what went wrong: the domain error's own line, else the type and first line."""
    from pprflow.models.errors import PprflowError

    if isinstance(exc, PprflowError):
        return exc.one_line()[:1000]
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


def _database_gone(exc: BaseException) -> bool:
    """A lost connection is the database's fault, not the deadline's: the whole run fails and is retried."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def handle_deadline(session: Session, deadline: Deadline, handler: Handler, context: SweepContext) -> str | None:
    """Run one deadline's handler inside a savepoint; on failure roll back its work alone and mark it
    stuck with the error (retried on the next sweep). Returns the error line, or None when handled."""
    try:
        with session.begin_nested():
            done = handler(session, deadline, context)
    except Exception as exc:
        if _database_gone(exc):
            raise
        error = error_line(exc)
        session.refresh(deadline)
        deadline.stuck_at = utcnow()
        deadline.stuck_error = error
        deadline.stuck_attempts += 1
        session.add(deadline)
        return error
    if done:
        deadline.done_at = utcnow()
    if deadline.stuck_at is not None:  # handled at last
        deadline.stuck_at = None
        deadline.stuck_error = None
    session.add(deadline)
    return None


def due_deadline_ids(session: Session, today: dt.date, after_id: int = 0) -> list[int]:
    """Ids of the open deadlines whose reminder day has come, ascending: read from ix_deadline_open_remind alone.

    No ORDER BY id / LIMIT / id range in the SQL on purpose: given those, SQLite and PostgreSQL both
    walk the primary key and filter every row (they cannot tell that open deadlines mostly lie in
    the future), so the sweep cost grew with the table instead of with what is due
    (benchmarks/sweep_at_scale.py).
    """
    query = select(Deadline.id).where(Deadline.done_at == None, Deadline.remind_on <= today)  # noqa: E711
    return sorted(i for i in session.exec(query).all() if i is not None and i > after_id)


def due_deadlines(session: Session, today: dt.date, limit: int | None = None,
                  after_id: int = 0) -> list[Deadline]:
    """Open deadlines whose reminder day has come, in id order, paged by id: ids from the index, then rows."""
    ids = due_deadline_ids(session, today, after_id)
    if limit is not None:
        ids = ids[:limit]
    if not ids:
        return []
    return list(session.exec(select(Deadline).where(col(Deadline.id).in_(ids)).order_by(col(Deadline.id))).all())


def overdue_deadlines(session: Session, today: dt.date) -> list[dict[str, Any]]:
    """Issue 17: every open deadline whose due day has passed — it stays here (and on the dashboard) until the
    thing it waits for happens. Case and meeting ids only, never a name (PRIV-2)."""
    rows = session.exec(select(Deadline).where(Deadline.done_at == None, Deadline.due_on < today)  # noqa: E711
                        .order_by(col(Deadline.due_on), col(Deadline.id))).all()
    return [{"deadline_id": d.id, "kind": d.kind, "label": kind_label(d.kind, d.rule_id), "rule_id": d.rule_id,
             "case_id": d.case_id, "meeting_id": d.meeting_id, "due_on": d.due_on.isoformat(),
             "days_overdue": (today - d.due_on).days, "escalation_step": d.escalation_step} for d in rows]


def run_sweep(engine: Engine, profile: Profile, *, today: dt.date, actor: str = "system:sweep",
              batch_size: int = 500) -> SweepReport:
    """Queue every reminder due as of `today`; one transaction per deadline. Safe to run twice.

    One bad deadline never stops the rest: a handler that fails is rolled back alone (a savepoint),
    the deadline is recorded as stuck with its error, counted in the report and tried again on the
    next sweep; every other deadline is handled.
    """
    from sqlalchemy import func

    from pprflow.models.tables import OutboxMessage

    handlers = load_handlers()
    report = SweepReport(today=today)
    context = SweepContext(profile=profile, today=today, actor=actor)
    with Session(engine) as session:
        report.queued_before = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    last_id = 0
    while True:
        with Session(engine) as session:
            batch = due_deadlines(session, today, limit=batch_size, after_id=last_id)
        if not batch:
            break
        for item in batch:
            last_id = item.id or last_id
            handler = handlers.get(item.kind)
            if handler is None:
                if item.kind not in report.unknown_kinds:
                    report.unknown_kinds.append(item.kind)
                continue
            with Session(engine, expire_on_commit=False) as session:
                deadline = session.get(Deadline, item.id)
                if deadline is None or deadline.done_at is not None:
                    continue
                error = handle_deadline(session, deadline, handler, context)
                session.commit()
            if error is not None:
                report.stuck.append({"deadline_id": item.id, "kind": item.kind, "rule_id": item.rule_id,
                                     "case_id": item.case_id, "error": error})
                continue
            if deadline.done_at is not None:
                report.closed += 1
            report.handled[item.kind] = report.handled.get(item.kind, 0) + 1
        if len(batch) < batch_size:
            break
    with Session(engine) as session:
        report.queued_after = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        report.overdue = overdue_deadlines(session, today)
    return report
