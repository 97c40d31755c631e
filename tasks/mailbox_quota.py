"""The per-mailbox sending limits kept in the database, so every run and every process shares them.

Exchange Online blocks a mailbox that sends more than 30 messages in a rolling minute or to more than
10,000 recipients in a rolling day. Each scheduled delivery run is a fresh process, so a window held
in memory starts empty every run (issue 20). Here the window is the `mailboxsend` table, and a
message's slot is taken with one atomic `acquire` before the transport is called:

1. the mailbox's `mailboxlock` row is updated first: on PostgreSQL its row lock serialises concurrent
   reservations for that mailbox (READ COMMITTED: the next statement sees what the other committed);
   on SQLite the transaction begins IMMEDIATE (tasks/outbox.py `writer`), which serialises all writers;
2. the last minute's sends and the last day's recipients are read and compared with the lane's limit
   (tasks/throttle.py arithmetic; ESC-1: routine mail leaves the urgent reserve free);
3. the slot is inserted in the same transaction, or nothing is and the wait is returned.

Times are wall-clock seconds (every process shares them); `deliver` passes ``time.time``. A slot stays
taken when the send then fails: a failed attempt may have reached Exchange, so the count errs low.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from pprflow.models.tables import MailboxLock, MailboxSend
from pprflow.tasks.throttle import (
    DAY,
    EXCHANGE_ONLINE_MESSAGES_PER_MINUTE,
    EXCHANGE_ONLINE_RECIPIENTS_PER_DAY,
    MINUTE,
    URGENT_RESERVE_PER_DAY,
    URGENT_RESERVE_PER_MINUTE,
    check_limits,
    check_recipients,
    day_wait,
    lane_limits,
    minute_wait,
)

_SEND = MailboxSend.__table__  # type: ignore[attr-defined]
_LOCK = MailboxLock.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DatabaseThrottle:
    """The shared window; the interface `deliver_due` needs (tasks/outbox.py `Throttle`)."""

    engine: Engine
    per_minute: int = EXCHANGE_ONLINE_MESSAGES_PER_MINUTE
    recipients_per_day: int = EXCHANGE_ONLINE_RECIPIENTS_PER_DAY
    urgent_per_minute: int = URGENT_RESERVE_PER_MINUTE
    urgent_per_day: int = URGENT_RESERVE_PER_DAY

    def __post_init__(self) -> None:
        check_limits(self.per_minute, self.recipients_per_day, self.urgent_per_minute, self.urgent_per_day)

    def acquire(self, mailbox: str, recipients: int, now: float, lane: str = "routine") -> float:
        """Take the slot for one message (0.0), or return the seconds to wait with nothing taken."""
        from pprflow.tasks.outbox import writer

        check_recipients(recipients, self.recipients_per_day)
        mailbox = mailbox.strip().lower()
        per_minute, per_day = lane_limits(lane, self.per_minute, self.recipients_per_day,
                                          self.urgent_per_minute, self.urgent_per_day)
        with writer(self.engine).begin() as conn:
            self._lock(conn, mailbox, now)
            wait = self._wait(conn, mailbox, recipients, now, per_minute, per_day)
            if wait == 0.0:
                conn.execute(insert(_SEND).values(mailbox=mailbox, at=now, recipients=recipients, lane=lane))
            return wait

    def wait_time(self, mailbox: str, recipients: int, now: float, *, lane: str = "routine") -> float:
        """Seconds until a message may leave (read only; `acquire` is what delivery uses)."""
        check_recipients(recipients, self.recipients_per_day)
        per_minute, per_day = lane_limits(lane, self.per_minute, self.recipients_per_day,
                                          self.urgent_per_minute, self.urgent_per_day)
        with self.engine.connect() as conn:
            return self._wait(conn, mailbox.strip().lower(), recipients, now, per_minute, per_day)

    def sent_in(self, mailbox: str, start: float, end: float) -> int:
        """Messages counted for ``mailbox`` in (start, end] (reports and tests)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa_select(func.count()).select_from(_SEND).where(
                _SEND.c.mailbox == mailbox.strip().lower(), _SEND.c.at > start, _SEND.c.at <= end)).scalar_one())

    @staticmethod
    def _lock(conn: Connection, mailbox: str, now: float) -> None:
        dialect = conn.dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        conn.execute(make(_LOCK).values(mailbox=mailbox, touched_at=now).on_conflict_do_nothing())
        conn.execute(update(_LOCK).where(_LOCK.c.mailbox == mailbox).values(touched_at=now))
        conn.execute(_SEND.delete().where(_SEND.c.mailbox == mailbox, _SEND.c.at <= now - DAY))

    @staticmethod
    def _wait(conn: Connection, mailbox: str, recipients: int, now: float, per_minute: int, per_day: int) -> float:
        mine = _SEND.c.mailbox == mailbox
        in_minute = [float(t) for t in conn.execute(
            sa_select(_SEND.c.at).where(mine, _SEND.c.at > now - MINUTE).order_by(_SEND.c.at, _SEND.c.id)).scalars()]
        wait = minute_wait(in_minute, now, per_minute)
        total = int(conn.execute(sa_select(func.coalesce(func.sum(_SEND.c.recipients), 0)).where(
            mine, _SEND.c.at > now - DAY)).scalar_one())
        if total + recipients > per_day:
            rows = conn.execute(sa_select(_SEND.c.at, _SEND.c.recipients).where(mine, _SEND.c.at > now - DAY)
                                .order_by(_SEND.c.at, _SEND.c.id))
            wait = max(wait, day_wait(((float(t), int(n)) for t, n in rows), total, recipients, now, per_day))
        return wait
