"""ESC-1 by construction on the escalation ladder (issue 17): every kind's rungs (CAL-6, LAW-2, PATH-4, KV-1)
pass through `tasks/escalation.climb`, and every rung's recipient through the one parent check
(tasks/outbox.py `is_protected_parent`). A parent of the child is passed over — recorded — and the ladder goes
on to the next rung; no mail ever reaches a parent, confidential case or not (the outbox alone only stops
mail to parents of a confidential child). Every message is delivered to a FileTransport and the .eml files
are read by the one reader (tests/support/eml.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.rules_deadlines import LADDER_END, LADDER_KINDS
from pprflow.models.tables import AuditEvent, Deadline
from pprflow.models.types import utcnow
from pprflow.profiles import load_profile
from pprflow.tasks.casefile import base_context
from pprflow.tasks.deadlines import SweepContext
from pprflow.tasks.escalation import climb, ladder
from pprflow.tasks.outbox import deliver_due, queue_message
from pprflow.tasks.transports.file import FileTransport
from tests.factories import case_with_parents
from tests.support.eml import read_folder

DUE = dt.date(2027, 3, 1)
PARENTS = ("mor@hjem.example", "far@hjem.example")
STAFF = {"leader": "leder@skole.example", "coordinator": "laerer@skole.example", "top": "chef@ppr.example"}

ladder_cases = st.fixed_dictionaries({
    "profile": st.sampled_from(["vejle", "randers"]),
    "kind": st.sampled_from(sorted(LADDER_KINDS)),
    # which rungs' people are a parent of the child (a small town: the school's leader is the mother ...)
    "parents": st.dictionaries(st.sampled_from(["leader", "coordinator", "top"]), st.sampled_from(PARENTS)),
    "confidential": st.booleans(),
})


def _climb_every_day(engine: Engine, profile: Any, deadline_id: int, recipients: dict[str, str | None]) -> None:
    calendar = WorkingCalendar.for_profile(profile)
    for today in calendar.working_days(DUE - dt.timedelta(days=3), DUE + dt.timedelta(days=40)):
        with Session(engine, expire_on_commit=False) as session:
            deadline = session.get(Deadline, deadline_id)
            assert deadline is not None
            if deadline.remind_on > today:
                continue  # the sweep's own query: only a deadline whose reminder day has come
            sweep = SweepContext(profile=profile, today=today, actor="system:sweep")

            def notify(to: str, number: int, step: Any, deadline: Deadline = deadline,
                       session: Session = session, sweep: SweepContext = sweep) -> None:
                queue_message(session, kind="deadline_escalation", to=to, sender=profile.sender, actor=sweep.actor,
                              serves=f"{deadline.subject_key}:step{number}", context={
                                  **base_context(profile, recipient_name=to), "case": None,
                                  "label": deadline.kind, "awaits": "det er gjort", "what": None,
                                  "rule_id": deadline.rule_id, "deadline": deadline.due_on, "link": None,
                                  "escalation": {"step": number, "of": 3, "to_role": step.to}})

            climb(session, deadline, sweep, recipients=recipients, notify=notify)  # type: ignore[arg-type]
            session.commit()


def test_no_rung_of_any_ladder_reaches_a_parent_and_the_ladder_goes_on_ESC_1_CAL_6_LAW_2_KV_1(
        engine: Engine, tmp_path: Path) -> None:
    tally = {"examples": 0, "rungs": 0, "passed_over": 0, "mails": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(case=ladder_cases)
    def property_(case: dict[str, Any]) -> None:
        tally["examples"] += 1
        n = tally["examples"]
        profile = load_profile(case["profile"])
        mail_dir = tmp_path / f"mail{n}"
        with Session(engine) as session:
            row = case_with_parents(session, coordinator=STAFF["coordinator"], institution_name=f"Skole {n}")
            row.confidential_from_parents = case["confidential"]
            session.add(row)
            deadline = Deadline(kind=case["kind"], rule_id=LADDER_KINDS[case["kind"]], subject_key=f"prop:{n}",
                                due_on=DUE, remind_on=DUE, case_id=row.id)
            session.add(deadline)
            session.commit()
            deadline_id, case_id = deadline.id or 0, row.id or 0
        recipients = {role: case["parents"].get(role, STAFF[role]) for role in STAFF}
        _climb_every_day(engine, profile, deadline_id, recipients)
        # after every rung (DUE + 40 days), and after the moment the mail was queued (the wall clock, which
        # scripts/test_date_sensitive.sh moves years ahead)
        after = max(dt.datetime(2027, 6, 1, tzinfo=dt.UTC), utcnow() + dt.timedelta(days=1))
        deliver_due(engine, FileTransport(mail_dir), now=lambda: after)

        steps = ladder(profile, case["kind"])
        delivered = [m for m in read_folder(mail_dir)]
        told = set().union(*(m.recipients for m in delivered)) if delivered else set()
        assert not told & set(PARENTS), f"a rung reached a parent: {told}"
        # the ladder went on: every rung whose person is not a parent was told (each address once)
        expected = {recipients[s.to] for s in steps if s.to not in case["parents"]}
        assert told == expected
        with Session(engine) as session:
            stored = session.get(Deadline, deadline_id)
            assert stored is not None and stored.done_at is None
            assert stored.escalation_step == len(steps) and stored.remind_on == LADDER_END
            events = session.exec(select(AuditEvent).where(AuditEvent.entity == "deadline",
                                                           AuditEvent.entity_id == deadline_id)
                                  .order_by(col(AuditEvent.id))).all()
        assert [e.detail["to_role"] for e in events] == [s.to for s in steps], "every rung recorded"
        for event, step in zip(events, steps, strict=True):
            if step.to in case["parents"]:
                assert not event.detail["told"] and "ESC-1" in event.detail["why_not"]
                tally["passed_over"] += 1
        assert all(e.case_id == case_id for e in events)
        tally["rungs"] += len(steps)
        tally["mails"] += len(delivered)

    property_()
    assert tally["passed_over"] > 0 and tally["mails"] > 0
    print(f"\nESC-1 ladder: {tally['examples']} generated cases, {tally['rungs']} rungs, "
          f"{tally['passed_over']} parents passed over, {tally['mails']} mails, 0 to a parent")
