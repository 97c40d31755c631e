"""Per-sending-mailbox rate limits, as data and arithmetic; the caller decides whether to sleep.

Defaults are Exchange Online's sending limits for one mailbox: 30 messages a minute and 10,000
recipients a day, both over a rolling window (Microsoft Learn, "Exchange Online limits",
Sending limits: message rate limit and recipient rate limit). An on-premises Exchange or an SMTP
relay may allow more; the numbers are settings.

Pure: no I/O, no sleeping. Times are seconds on any monotonic clock (``time.monotonic`` by
default; tests pass their own ``now``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pprflow.models.errors import InvalidInput

MINUTE = 60.0
DAY = 86_400.0
EXCHANGE_ONLINE_MESSAGES_PER_MINUTE = 30
EXCHANGE_ONLINE_RECIPIENTS_PER_DAY = 10_000


@dataclass
class MailboxThrottle:
    """At most ``per_minute`` messages per rolling minute and ``recipients_per_day`` per rolling day."""

    per_minute: int = EXCHANGE_ONLINE_MESSAGES_PER_MINUTE
    recipients_per_day: int = EXCHANGE_ONLINE_RECIPIENTS_PER_DAY
    clock: Callable[[], float] = time.monotonic
    _sent: dict[str, deque[tuple[float, int]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.recipients_per_day < 1:
            raise InvalidInput("throttle limits must be at least 1")

    def wait_time(self, mailbox: str, recipients: int, now: float | None = None) -> float:
        """Seconds until a message to ``recipients`` addresses may leave ``mailbox`` (0.0 = now)."""
        if recipients < 1:
            raise InvalidInput("a message has at least one recipient")
        if recipients > self.recipients_per_day:
            raise InvalidInput(
                f"a message to {recipients} recipients exceeds the daily limit of {self.recipients_per_day}"
            )
        now = self.clock() if now is None else now
        sent = self._window(mailbox, now)
        wait = 0.0

        in_minute = [t for t, _ in sent if t > now - MINUTE]
        excess = len(in_minute) + 1 - self.per_minute
        if excess > 0:
            # The excess-th oldest message of the last minute must age out first.
            wait = max(wait, in_minute[excess - 1] + MINUTE - now)

        total = sum(n for _, n in sent)
        over = total + recipients - self.recipients_per_day
        if over > 0:
            freed = 0
            for t, n in sent:
                freed += n
                if freed >= over:
                    wait = max(wait, t + DAY - now)
                    break
        return max(wait, 0.0)

    def record(self, mailbox: str, recipients: int, now: float | None = None) -> None:
        """Count a message that left ``mailbox`` for ``recipients`` addresses."""
        now = self.clock() if now is None else now
        self._window(mailbox, now).append((now, recipients))

    def _window(self, mailbox: str, now: float) -> deque[tuple[float, int]]:
        sent = self._sent.setdefault(mailbox.strip().lower(), deque())
        while sent and sent[0][0] <= now - DAY:
            sent.popleft()
        return sent
