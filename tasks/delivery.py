"""Deliver the outbox through the configured transport (file by default)."""

from __future__ import annotations

from typing import Any

from pprflow.tasks.context import Ctx

_THROTTLES: dict[int, Any] = {}


def make_throttle(per_minute: int) -> Any:
    """One per-mailbox throttle per process, so consecutive runs in a server share the window."""
    from pprflow.tasks.throttle import MailboxThrottle

    if per_minute not in _THROTTLES:
        _THROTTLES[per_minute] = MailboxThrottle(per_minute=per_minute)
    return _THROTTLES[per_minute]


def deliver(*, ctx: Ctx, limit: int | None = None, transport: Any = None) -> dict[str, Any]:
    """Send every due message; a transient failure stops the run and leaves the rest pending."""
    from pprflow.config import Settings
    from pprflow.models.access import Perm
    from pprflow.tasks.access import authorize_in
    from pprflow.tasks.outbox import deliver_due

    authorize_in(ctx.engine, ctx.actor, Perm.JOB_DELIVER, what="outbox send")  # PRIV-4: a job
    from pprflow.tasks.transports import make_transport

    settings = Settings()
    chosen = transport if transport is not None else make_transport(settings)
    report = deliver_due(ctx.engine, chosen, limit=limit, throttle=make_throttle(settings.throttle_per_minute),
                         max_throttle_wait=0.0)
    return report.as_dict() | {"transport": chosen.name}
