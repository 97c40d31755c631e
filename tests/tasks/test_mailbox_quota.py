"""Issue 20: the per-mailbox limits hold across runs. The window is the database (tasks/mailbox_quota.py),
so two consecutive runs (fresh objects, or fresh processes) and two concurrent ones (threads, processes)
on the same SQLite or PostgreSQL database never let more than the limit leave one mailbox in a minute;
routine mail leaves the ESC-1 reserve free, so the abuse notification is never starved."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from pprflow.models.errors import InvalidInput
from pprflow.tasks.mailbox_quota import DatabaseThrottle
from pprflow.tasks.throttle import DAY, MINUTE

BOX = "ppr@vejle.example"
NOW = 1_000_000.0


def _granted(engine: Engine, tries: int, *, lane: str = "routine", now: float = NOW, **limits: int) -> int:
    throttle = DatabaseThrottle(engine, **limits)  # a fresh object: nothing shared in memory
    return sum(throttle.acquire(BOX, 1, now, lane) == 0.0 for _ in range(tries))


def test_two_consecutive_runs_share_the_minute(any_engine: Engine) -> None:
    assert _granted(any_engine, 20) == 20
    assert _granted(any_engine, 20, now=NOW + 1) == 5, "30 a minute less the 5 kept for ESC-1: 25 routine"
    assert _granted(any_engine, 20, now=NOW + 60.5) == 20, "the first run's minute has passed"


def test_esc1_the_notification_uses_the_reserve_when_routine_mail_filled_the_minute(any_engine: Engine) -> None:
    assert _granted(any_engine, 40) == 25
    assert _granted(any_engine, 10, lane="urgent") == 5, "the urgent lane gets the reserve, never above 30"
    assert DatabaseThrottle(any_engine).wait_time(BOX, 1, NOW, lane="urgent") == pytest.approx(MINUTE)


def test_the_daily_recipient_cap_holds_across_runs(any_engine: Engine) -> None:
    first = DatabaseThrottle(any_engine, per_minute=1000, recipients_per_day=100, urgent_per_day=10)
    assert first.acquire(BOX, 60, NOW) == 0.0
    second = DatabaseThrottle(any_engine, per_minute=1000, recipients_per_day=100, urgent_per_day=10)
    assert second.acquire(BOX, 31, NOW + 3600) == pytest.approx(DAY - 3600), "60 + 31 > 90 routine"
    assert second.acquire(BOX, 30, NOW + 3600) == 0.0
    assert second.acquire(BOX, 10, NOW + 3601, "urgent") == 0.0, "the urgent reserve of the day"
    assert second.acquire(BOX, 51, NOW + DAY + 1) > 0, "40 still in the rolling day: 40 + 51 > 90"
    assert second.acquire(BOX, 50, NOW + DAY + 1) == 0.0, "the first 60 left the rolling day"


def test_another_mailbox_is_counted_on_its_own_and_case_does_not_matter(any_engine: Engine) -> None:
    throttle = DatabaseThrottle(any_engine, per_minute=2, urgent_per_minute=0)
    assert throttle.acquire("PPR@Vejle.example ", 1, NOW) == 0.0
    assert throttle.acquire(BOX, 1, NOW) == 0.0
    assert throttle.acquire(BOX, 1, NOW) > 0
    assert throttle.acquire("underretning@vejle.example", 1, NOW) == 0.0


def test_bad_limits_are_refused_in_one_line(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="urgent reserve"):
        DatabaseThrottle(engine, per_minute=5, urgent_per_minute=5)
    with pytest.raises(InvalidInput, match="at least one recipient"):
        DatabaseThrottle(engine).acquire(BOX, 0, NOW)


def test_two_concurrent_runs_in_threads_never_exceed_the_limit(any_engine: Engine) -> None:
    start = threading.Barrier(4)

    def run(_: int) -> int:
        start.wait()
        return _granted(any_engine, 15)

    with ThreadPoolExecutor(4) as pool:
        granted = list(pool.map(run, range(4)))
    assert sum(granted) == 25, f"60 attempts in one minute, exactly 25 routine slots: {granted}"
    assert DatabaseThrottle(any_engine).sent_in(BOX, NOW - MINUTE, NOW) == 25


_CHILD = """
import sys
from pprflow.db import get_engine
from pprflow.tasks.mailbox_quota import DatabaseThrottle
url, tries, now = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
throttle = DatabaseThrottle(get_engine(url))
print(sum(throttle.acquire("ppr@vejle.example", 1, now) == 0.0 for _ in range(tries)))
"""


def _processes(url: str, count: int, tries: int, now: float) -> list[int]:
    children = [subprocess.Popen([sys.executable, "-c", _CHILD, url, str(tries), str(now)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    return [int(out.strip()) for out in outputs]


def test_consecutive_and_concurrent_processes_share_the_window_sqlite(engine: Engine, sqlite_url: str) -> None:
    assert _processes(sqlite_url, 1, 20, NOW) == [20]
    assert _processes(sqlite_url, 1, 20, NOW + 1) == [5], "a new process does not start with an empty window"
    assert sum(_processes(sqlite_url, 2, 20, NOW + 120)) == 25, "two processes at once split 25 slots"


@pytest.mark.postgres
def test_consecutive_and_concurrent_processes_share_the_window_postgres(
        pg_engine: Engine, pg_database_url: str) -> None:
    assert _processes(pg_database_url, 1, 20, NOW) == [20]
    assert _processes(pg_database_url, 1, 20, NOW + 1) == [5], "a new process does not start with an empty window"
    assert sum(_processes(pg_database_url, 2, 20, NOW + 120)) == 25, "two processes at once split 25 slots"


_MAILBOXES = itertools.count()
_steps = st.lists(st.tuples(st.sampled_from(["routine", "urgent"]), st.floats(0, 20)), min_size=1, max_size=80)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps)
def test_esc1_property_no_rolling_minute_over_the_limit_and_the_reserve_is_never_starved(
        engine: Engine, steps: list[tuple[str, float]]) -> None:
    """Any mix of routine and urgent attempts: at most 30 in any rolling minute, at most 25 routine, and an
    urgent attempt is refused only when the urgent lane itself used its reserve (ESC-1)."""
    box = f"box{next(_MAILBOXES)}@vejle.example"  # a fresh window per example (the database is shared)
    throttle = DatabaseThrottle(engine)
    now, sent = NOW, []
    for lane, gap in steps:
        now += gap / 10
        window = [(t, ln) for t, ln in sent if t > now - MINUTE]
        granted = throttle.acquire(box, 1, now, lane) == 0.0
        if lane == "urgent" and sum(ln == "urgent" for _, ln in window) < 5:
            assert granted, "routine mail never takes the notification's reserve"
        if granted:
            sent.append((now, lane))
        window = [(t, ln) for t, ln in sent if t > now - MINUTE]
        assert len(window) <= 30
        assert sum(ln == "routine" for _, ln in window) <= 25


def test_two_concurrent_production_delivery_runs_send_no_more_than_the_limit(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """End to end: `pprflow.tasks.delivery.deliver` twice at once on one database, 40 queued from one mailbox,
    10 a minute with 2 kept for ESC-1: exactly 8 leave, the rest stay pending (deferred), none twice."""
    import dataclasses

    from pprflow.tasks import delivery
    from tests.faults._support import queue
    from tests.tasks.test_delivery_throttle import Recording

    monkeypatch.setenv("PPRFLOW_THROTTLE_PER_MINUTE", "10")
    monkeypatch.setenv("PPRFLOW_THROTTLE_URGENT_RESERVE_PER_MINUTE", "2")
    job = dataclasses.replace(ctx, actor="system:outbox")
    queue(job.engine, first=0, count=40, sender=BOX)
    transports = [Recording(), Recording()]
    start = threading.Barrier(2)

    def run(transport: Recording) -> dict[str, object]:
        start.wait()
        return delivery.deliver(ctx=job, transport=transport)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(run, transports))
    sent = [mail.to for transport in transports for mail in transport.sent]
    assert len(sent) == 8 and len(set(sent)) == 8, reports
    assert sum(int(r["sent"]) for r in reports) == 8  # type: ignore[call-overload]
