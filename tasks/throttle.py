"""Per-sending-mailbox rate limits, as data and arithmetic; the caller decides whether to sleep.

Defaults are Exchange Online's sending limits for one mailbox: 30 messages a minute and 10,000
recipients a day, both over a rolling window (Microsoft Learn, "Exchange Online limits",
Sending limits: message rate limit and recipient rate limit). An on-premises Exchange or an SMTP
relay may allow more; the numbers are settings.

This module is the arithmetic and an in-memory window (one process, tests and benchmarks);
production keeps the window in the database so every run and every process shares it
(tasks/mailbox_quota.py, one atomic ``acquire`` per message). Both reserve part of the limit for
the ESC-1 notification lane (``lane_limits``).

Pure: no I/O, no sleeping. Times are seconds on any monotonic clock (``time.monotonic`` by
default; tests pass their own ``now``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from pprflow.models.errors import InvalidInput

MINUTE = 60.0
DAY = 86_400.0
EXCHANGE_ONLINE_MESSAGES_PER_MINUTE = 30
EXCHANGE_ONLINE_RECIPIENTS_PER_DAY = 10_000
URGENT_RESERVE_PER_MINUTE = 5
"""Of the 30 a minute, routine mail may use 25: five are always free for the ESC-1 notification."""
URGENT_RESERVE_PER_DAY = 200
"""Of the 10,000 recipients a day, routine mail may use 9,800 (ESC-1: the notification is never starved)."""

URGENT = "urgent"


def check_limits(per_minute: int, recipients_per_day: int, urgent_per_minute: int, urgent_per_day: int) -> None:
    """One line per wrong setting (the caller's settings or constructor)."""
    if per_minute < 1 or recipients_per_day < 1:
        raise InvalidInput("throttle limits must be at least 1")
    if not 0 <= urgent_per_minute < per_minute:
        raise InvalidInput(f"the urgent reserve ({urgent_per_minute} a minute) must be at least 0 and below the "
                           f"limit of {per_minute} a minute: lower PPRFLOW_THROTTLE_URGENT_RESERVE_PER_MINUTE")
    if not 0 <= urgent_per_day < recipients_per_day:
        raise InvalidInput(f"the urgent reserve ({urgent_per_day} recipients a day) must be at least 0 and below "
                           f"the limit of {recipients_per_day}: lower PPRFLOW_THROTTLE_URGENT_RESERVE_PER_DAY")


def lane_limits(lane: str, per_minute: int, recipients_per_day: int, urgent_per_minute: int,
                urgent_per_day: int) -> tuple[int, int]:
    """ESC-1: the urgent lane may use the whole limit; routine mail leaves the urgent reserve free."""
    if lane == URGENT:
        return per_minute, recipients_per_day
    return per_minute - urgent_per_minute, recipients_per_day - urgent_per_day


def minute_wait(in_minute: Sequence[float], now: float, per_minute: int) -> float:
    """Seconds until one more message fits ``per_minute`` (times: the sends of the last minute, oldest first)."""
    excess = len(in_minute) + 1 - per_minute
    if excess <= 0:
        return 0.0
    # The excess-th oldest message of the last minute must age out first.
    return max(in_minute[excess - 1] + MINUTE - now, 0.0)


def day_wait(sent_today: Iterable[tuple[float, int]], total: int, recipients: int, now: float,
             recipients_per_day: int) -> float:
    """Seconds until ``recipients`` more fit the daily cap (sent_today: (time, recipients) oldest first)."""
    over = total + recipients - recipients_per_day
    if over <= 0:
        return 0.0
    freed = 0
    for t, n in sent_today:
        freed += n
        if freed >= over:
            return max(t + DAY - now, 0.0)
    return DAY  # more than the cap itself: cannot happen after check of the recipients


def check_recipients(recipients: int, recipients_per_day: int) -> None:
    if recipients < 1:
        raise InvalidInput("a message has at least one recipient")
    if recipients > recipients_per_day:
        raise InvalidInput(f"a message to {recipients} recipients exceeds the daily limit of {recipients_per_day}")


@dataclass
class MailboxThrottle:
    """At most ``per_minute`` messages per rolling minute and ``recipients_per_day`` per rolling day."""

    per_minute: int = EXCHANGE_ONLINE_MESSAGES_PER_MINUTE
    recipients_per_day: int = EXCHANGE_ONLINE_RECIPIENTS_PER_DAY
    clock: Callable[[], float] = time.monotonic
    urgent_per_minute: int = 0
    """ESC-1 reserve: slots a minute routine mail leaves free (0 here; the database throttle uses the settings)."""
    urgent_per_day: int = 0
    _sent: dict[str, deque[tuple[float, int]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_limits(self.per_minute, self.recipients_per_day, self.urgent_per_minute, self.urgent_per_day)

    def wait_time(self, mailbox: str, recipients: int, now: float | None = None, *, lane: str = "routine") -> float:
        """Seconds until a message to ``recipients`` addresses may leave ``mailbox`` (0.0 = now)."""
        check_recipients(recipients, self.recipients_per_day)
        now = self.clock() if now is None else now
        sent = self._window(mailbox, now)
        per_minute, per_day = lane_limits(lane, self.per_minute, self.recipients_per_day,
                                          self.urgent_per_minute, self.urgent_per_day)
        in_minute = [t for t, _ in sent if t > now - MINUTE]
        total = sum(n for _, n in sent)
        return max(minute_wait(in_minute, now, per_minute), day_wait(sent, total, recipients, now, per_day))

    def acquire(self, mailbox: str, recipients: int, now: float, lane: str = "routine") -> float:
        """Take the slot and return 0.0, or return the seconds to wait (nothing taken)."""
        wait = self.wait_time(mailbox, recipients, now, lane=lane)
        if wait == 0.0:
            self.record(mailbox, recipients, now)
        return wait

    def record(self, mailbox: str, recipients: int, now: float | None = None) -> None:
        """Count a message that left ``mailbox`` for ``recipients`` addresses."""
        now = self.clock() if now is None else now
        self._window(mailbox, now).append((now, recipients))

    def _window(self, mailbox: str, now: float) -> deque[tuple[float, int]]:
        sent = self._sent.setdefault(mailbox.strip().lower(), deque())
        while sent and sent[0][0] <= now - DAY:
            sent.popleft()
        return sent
