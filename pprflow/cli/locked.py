"""SQLite beside a delivery run: a command whose transaction read first is run again when it finds the
database locked (issue 13)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

ATTEMPTS = 6


def run_again_when_locked(command: Callable[[], object], attempts: int = ATTEMPTS) -> None:
    """SQLite: a transaction that read before another writer (`outbox send` marking a message sent) committed
    fails at once with "database is locked" when it then writes (SQLITE_BUSY_SNAPSHOT: the busy timeout
    cannot help a stale snapshot). That transaction rolled back whole, so the command runs again, a few
    times, after a short random pause. Any other error, or the last attempt's, goes on as before."""
    for attempt in range(attempts):
        try:
            command()
            return
        except Exception as exc:
            from sqlalchemy.exc import OperationalError  # late: `pprflow calendar` never loads SQLAlchemy

            locked = isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)
            if not locked or attempt + 1 == attempts:
                raise
            time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
