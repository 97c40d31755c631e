"""A tiny sweep-like flow served on an interval schedule, for the Prefect-restart fault test.

`python tests/faults/_ticker.py <executions.db> <pprflow database url> <interval s> <anchor ISO>` serves
`tick` with `flow.serve` on `Interval(interval, anchor_date=anchor)`. Like the daily sweep (which
queues every reminder with `remind_on <= today`), a run catches up: it queues one outbox message
for every slot from the anchor up to its own scheduled slot that has none yet (`serves="tick:<slot>"`,
idempotent), retried like the pathway steps when SQLite is busy (flows/resilience.py). Each run also
records that it executed, with its flow-run id (executions.db), so a doubled execution shows.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pprflow.flows.resilience import database_went_away


@flow(name="tick", description="Fault test: one idempotent effect per scheduled slot, caught up like the sweep.")
def tick(executions: str, database_url: str, anchor: str, interval: float) -> str:
    from prefect.runtime import flow_run

    scheduled = dt.datetime.fromtimestamp(flow_run.scheduled_start_time.timestamp(), dt.UTC)
    slot = scheduled.isoformat(timespec="seconds")
    with sqlite3.connect(executions, timeout=30) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS execution (slot TEXT NOT NULL, at TEXT NOT NULL, run TEXT NOT NULL)")
        conn.execute("INSERT INTO execution VALUES (?, ?, ?)",
                     (slot, dt.datetime.now(dt.UTC).isoformat(), str(flow_run.id)))
    catch_up(database_url, dt.datetime.fromisoformat(anchor), dt.timedelta(seconds=interval), scheduled)
    return slot


@task(name="catch up", retries=3, retry_delay_seconds=0.5, retry_condition_fn=database_went_away,
      cache_policy=NO_CACHE)
def catch_up(database_url: str, start: dt.datetime, step: dt.timedelta, until: dt.datetime) -> None:
    """Queue the effect of every slot up to `until` that has none (idempotent), in one transaction."""
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.tasks.outbox import queue_message
    from pprflow.templates.catalogue import MESSAGE_KINDS

    context = MESSAGE_KINDS["receipt"].example_context()
    with Session(get_engine(database_url)) as session:
        due = start
        while due <= until + dt.timedelta(milliseconds=500):
            queue_message(session, kind="receipt", to="tick@skole.example", context=context,
                          serves=f"tick:{due.isoformat(timespec='seconds')}", sender="ppr@vejle.example")
            due += step
        session.commit()


if __name__ == "__main__":
    from prefect.schedules import Interval

    executions, database_url, interval, anchor = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    tick.serve(name="tick", limit=3, schedules=[Interval(dt.timedelta(seconds=interval),
                                                anchor_date=dt.datetime.fromisoformat(anchor))],
               parameters={"executions": executions, "database_url": database_url, "anchor": anchor,
                           "interval": interval})
