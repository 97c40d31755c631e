"""Deliver the outbox through the configured transport (file by default).

Two lanes (ESC-1/LAW-1): `deliver` takes urgent mail first and then routine mail (the 5-minute
schedule in working hours, `pprflow outbox send`); `deliver_urgent` takes only the urgent lane and
watches it for most of a minute, run every minute day and night (`underretning-straks`), so an
abuse notification leaves within seconds of being queued, whatever the routine queue is doing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pprflow.tasks.context import Ctx

URGENT_WATCH_SECONDS = 50.0
"""How long one urgent run keeps watching the urgent lane; the next run starts on the next minute."""

URGENT_POLL_SECONDS = 2.0
"""How often the urgent run looks for a newly queued notification."""


def make_throttle(engine: Any, settings: Any) -> Any:
    """The per-mailbox window kept in the database (tasks/mailbox_quota.py): every run, in any process,
    consecutive or concurrent, counts against the same 30 a minute and 10,000 recipients a day (issue 20;
    a window in process memory started empty in every scheduled run). ESC-1: the urgent reserve is kept free
    of routine mail."""
    from pprflow.tasks.mailbox_quota import DatabaseThrottle

    return DatabaseThrottle(engine, per_minute=settings.throttle_per_minute,
                            recipients_per_day=settings.throttle_recipients_per_day,
                            urgent_per_minute=settings.throttle_urgent_reserve_per_minute,
                            urgent_per_day=settings.throttle_urgent_reserve_per_day)


def deliver(*, ctx: Ctx, limit: int | None = None, transport: Any = None,
            lanes: Sequence[str] | None = None, close_transport: bool = True) -> dict[str, Any]:
    """Send every due message, urgent first; a transient failure stops the run and leaves the rest pending."""
    from pprflow.config import Settings
    from pprflow.models.access import Perm
    from pprflow.tasks.abuse import escalate_undelivered
    from pprflow.tasks.access import authorize_in
    from pprflow.tasks.outbox import LANES, SYSTEM_ACTOR, deliver_due

    authorize_in(ctx.engine, ctx.actor, Perm.JOB_DELIVER, what="outbox send")  # PRIV-4: a job
    from pprflow.tasks.transports import make_transport

    settings = Settings()
    chosen = transport if transport is not None else make_transport(settings)
    # ESC-1: a notification the transport keeps refusing is escalated once, before this run's sending, so
    # the escalation mail (urgent lane) leaves in this very run, ahead of the notification's next retry.
    escalated = escalate_undelivered(ctx.engine, ctx.profile, actor=SYSTEM_ACTOR)
    report = deliver_due(ctx.engine, chosen, limit=limit, lanes=lanes or LANES,
                         throttle=make_throttle(ctx.engine, settings), max_throttle_wait=0.0,
                         clock=time.time,  # the window is shared between processes: wall-clock time
                         close_transport=close_transport,
                         sender_names={ctx.profile.sender: ctx.profile.sender_name},
                         mailbox_names=ctx.profile.mailbox_names())
    return report.as_dict() | {"transport": chosen.name, "escalated": escalated}


def deliver_urgent(*, ctx: Ctx, watch_seconds: float = URGENT_WATCH_SECONDS, poll_seconds: float = URGENT_POLL_SECONDS,
                   transport: Any = None, clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Deliver the urgent lane only (ESC-1/LAW-1), looking again every `poll_seconds` for `watch_seconds`.

    Never behind routine mail: routine mail leaves the mailbox's urgent reserve free
    (tasks/mailbox_quota.py), and an urgent message waits for the rolling minute, not deferred; a
    transient failure is tried again a few minutes later
    (tasks/outbox.py URGENT_RETRY) and the watch goes on for the other urgent messages.
    """
    from pprflow.config import Settings
    from pprflow.tasks.outbox import URGENT
    from pprflow.tasks.transports import make_transport

    chosen = transport if transport is not None else make_transport(Settings())  # one token cache per run
    totals: dict[str, Any] = {"sent": 0, "already_sent": 0, "failed": 0, "cancelled": 0, "deferred": 0,
                              "stopped_because": None, "transport": None, "escalated": []}
    deadline = clock() + watch_seconds
    try:
        while True:
            report = deliver(ctx=ctx, transport=chosen, lanes=(URGENT,), close_transport=False)
            for key in ("sent", "already_sent", "failed", "cancelled", "deferred"):
                totals[key] += report[key]
            totals["transport"] = report["transport"]
            totals["escalated"] += report["escalated"]
            if report["stopped_because"]:
                totals["stopped_because"] = report["stopped_because"]
            if clock() + poll_seconds > deadline:
                return totals
            sleep(poll_seconds)
    finally:
        close = getattr(chosen, "close", None)
        if callable(close):
            close()
