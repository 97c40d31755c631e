"""MailboxThrottle: 30 messages a rolling minute, 10,000 recipients a rolling day, per mailbox."""

from __future__ import annotations

import pytest

from pprflow.models.errors import InvalidInput
from pprflow.tasks.throttle import DAY, MailboxThrottle

PPR = "ppr@vejle.example"


def test_thirty_messages_go_at_once_the_thirty_first_waits_for_the_oldest_to_age_out():
    throttle = MailboxThrottle()
    for second in range(30):
        assert throttle.wait_time(PPR, 1, now=1000.0 + second) == 0.0
        throttle.record(PPR, 1, now=1000.0 + second)
    assert throttle.wait_time(PPR, 1, now=1029.5) == pytest.approx(30.5)  # oldest (t=1000) leaves at 1060
    assert throttle.wait_time(PPR, 1, now=1060.0) == 0.0


def test_the_window_rolls_rather_than_resetting_on_the_minute():
    throttle = MailboxThrottle(per_minute=2)
    throttle.record(PPR, 1, now=0.0)
    throttle.record(PPR, 1, now=50.0)
    assert throttle.wait_time(PPR, 1, now=55.0) == pytest.approx(5.0)
    assert throttle.wait_time(PPR, 1, now=60.0) == 0.0
    throttle.record(PPR, 1, now=60.0)
    assert throttle.wait_time(PPR, 1, now=61.0) == pytest.approx(49.0)  # now t=50 must age out


def test_ten_thousand_recipients_a_day():
    throttle = MailboxThrottle(per_minute=10_000)
    throttle.record(PPR, 6_000, now=0.0)
    throttle.record(PPR, 3_999, now=3_600.0)
    assert throttle.wait_time(PPR, 1, now=7_200.0) == 0.0
    assert throttle.wait_time(PPR, 2, now=7_200.0) == pytest.approx(DAY - 7_200.0)  # until the 6,000 age out
    throttle.record(PPR, 1, now=7_200.0)
    assert throttle.wait_time(PPR, 1, now=DAY) == 0.0


def test_limits_are_per_sending_mailbox_and_ignore_case():
    throttle = MailboxThrottle(per_minute=1)
    throttle.record("PPR@Vejle.example", 1, now=0.0)
    assert throttle.wait_time(PPR, 1, now=1.0) == pytest.approx(59.0)
    assert throttle.wait_time("underretning@randers.example", 1, now=1.0) == 0.0


def test_the_clock_is_injectable():
    now = [100.0]
    throttle = MailboxThrottle(per_minute=1, clock=lambda: now[0])
    throttle.record(PPR, 1)
    now[0] = 130.0
    assert throttle.wait_time(PPR, 1) == pytest.approx(30.0)


def test_a_message_over_the_daily_limit_can_never_go():
    with pytest.raises(InvalidInput):
        MailboxThrottle().wait_time(PPR, 10_001, now=0.0)
    with pytest.raises(InvalidInput):
        MailboxThrottle(per_minute=0)


def test_throttle_fits_the_outbox_interface():
    from pprflow.tasks.outbox import Throttle

    for name in ("acquire",):
        assert callable(getattr(MailboxThrottle(), name)) and hasattr(Throttle, name)
