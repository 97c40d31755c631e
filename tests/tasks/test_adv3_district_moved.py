"""Adversary 3 (PATH-4, CAL-5): a district meeting moved to another date (tasks/planning.py, issue 18) is still the
district's next open meeting: moving closed its old case-list deadline, which `_case_list_sent` read as "the list
of new cases has gone", so new cases skipped it for the meeting after (two weeks' delay, PATH-4)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import Meeting
from pprflow.tasks.context import Ctx
from tests.factories import as_admin

D = dt.date


def test_a_moved_district_meeting_is_still_the_next_open_one_PATH_4_CAL_5(ctx: Ctx, engine: Engine) -> None:
    from pprflow.tasks.planning import move_planned_meeting
    from pprflow.tasks.ppr import next_open_district_meeting, schedule_district_meetings

    admin = as_admin(ctx)
    schedule_district_meetings(admin, district="Nord", start=D(2026, 12, 14), count=2, today=D(2026, 12, 1))
    with Session(engine) as session:
        first = session.exec(select(Meeting).where(Meeting.kind == "district").order_by(col(Meeting.date))).first()
    assert first is not None
    move_planned_meeting(ctx=admin, meeting_id=first.id or 0, new_date=D(2026, 12, 15), reason="Sygdom",
                         today=D(2026, 12, 1))
    with Session(engine) as session:
        nxt = next_open_district_meeting(session, "Nord", D(2026, 12, 2))
    assert nxt is not None and nxt.id == first.id and nxt.date == D(2026, 12, 15)


def test_a_dated_case_list_key_still_names_its_meeting_for_the_access_policy_PRIV_3() -> None:
    """The case list's key names the date now; the policy reads the meeting (and so the cases it shows) from it."""
    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks.access import _meeting_id

    for key, meeting in (("district_case_list|case:-|meeting:12:2026-12-15|ppr-nord@vejle.example", 12),
                         ("kv_topic_list|case:-|meeting:7:2027-01-07|ppr-nord@vejle.example", 7),
                         ("deadline_escalation|case:-|meeting:7:2027-01-07:kv-step1|a@b.example", 7),
                         ("district_case_list|case:-|meeting:12|ppr-nord@vejle.example", 12)):
        message = OutboxMessage(idempotency_key=key, to="x@y.example", template="t", subject="s", body_text="b",
                                sender="s@y.example")
        assert _meeting_id(message) == meeting, key
