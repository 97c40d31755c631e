"""Retrying a step when the database went away (connection lost, server restarted, failover).

A step's transaction either committed or rolled back as a whole (one transaction per state change),
so running the step again is safe; the service functions are idempotent (intake keys, outbox
idempotency keys, pinned deadlines). Only a lost or locked database is retried: a refused rule
(RuleViolation) or bad input fails at once, loudly, without waiting.
"""

from __future__ import annotations

from typing import Any

DATABASE_RETRIES = 2
DATABASE_RETRY_DELAYS = [1, 10]
"""Seconds before the first and second retry: a dropped connection reconnects at once, a restart takes longer."""


def database_went_away(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry only when the failure is the database connection, not a rule."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    error = state.data if isinstance(state.data, BaseException) else None
    if error is None:
        try:
            error = state.result(raise_on_failure=False)
        except Exception:  # the result cannot be read back: do not guess, do not retry
            return False
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


RETRY_ON_DATABASE_OUTAGE: dict[str, Any] = {
    "retries": DATABASE_RETRIES,
    "retry_delay_seconds": DATABASE_RETRY_DELAYS,
    "retry_condition_fn": database_went_away,
}
"""Task options for a step that writes to the database: `task(..., **RETRY_ON_DATABASE_OUTAGE)(fn)`."""
