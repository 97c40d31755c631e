"""One bad deadline never stops the rest (issue 13): a handler that fails is rolled back alone (a
savepoint), its deadline is recorded as stuck with the error, counted, shown on the dashboard and
retried on the next sweep; every other deadline is handled, and the run ends visibly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from pprflow.flows.dashboard import summary_markdown
from pprflow.flows.sweep import stuck_message
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import RuleViolation
from pprflow.models.tables import Deadline, OutboxMessage
from pprflow.tasks.deadlines import HANDLERS, Handler, SweepContext, pin_deadline, run_sweep
from pprflow.tasks.outbox import queue_message
from pprflow.templates.catalogue import MESSAGE_KINDS

TODAY = dt.date(2026, 12, 10)
BROKEN: set[str] = set()
"""subject keys whose handler fails (a parent address the invite writer refuses, say)."""


def _queue_then(fail_with: type[Exception] | None) -> Handler:
    def handle(session: Session, deadline: Deadline, context: SweepContext) -> bool:
        queue_message(session, kind="receipt", to=f"{deadline.subject_key.replace(':', '')}@skole.example",
                      context=MESSAGE_KINDS["receipt"].example_context(), serves=f"test:{deadline.id}",
                      sender="ppr@vejle.example")
        session.flush()  # the row is written inside the savepoint before the handler fails
        if deadline.subject_key in BROKEN:
            if fail_with is RuleViolation:
                raise RuleViolation("CAL-2", "the calendar invite refuses the address 'x'")
            raise (fail_with or ValueError)("unexpected\nsecond line")
        return True

    return handle


@pytest.fixture
def handlers() -> Iterator[None]:
    HANDLERS["test_rule_refusal"] = _queue_then(RuleViolation)
    HANDLERS["test_crash"] = _queue_then(ValueError)
    BROKEN.clear()
    yield
    HANDLERS.pop("test_rule_refusal", None)
    HANDLERS.pop("test_crash", None)
    BROKEN.clear()


def pin(engine, kind: str, subject: str) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        deadline = pin_deadline(session, calendar=WorkingCalendar(),
                                kind=kind, rule_id="CAL-2", subject_key=subject, due_on=TODAY,
                                remind_on=TODAY - dt.timedelta(days=1))
        session.commit()
        return deadline.id or 0


def test_a_failing_deadline_is_rolled_back_alone_recorded_as_stuck_and_retried(engine, vejle, handlers) -> None:
    ids = [pin(engine, "test_rule_refusal", f"case:{i}") for i in range(3)]
    crash = pin(engine, "test_crash", "case:9")
    BROKEN.update({"case:1", "case:9"})
    report = run_sweep(engine, vejle, today=TODAY)
    assert report.handled == {"test_rule_refusal": 2}, "the deadlines before and after the bad ones are handled"
    assert [s["deadline_id"] for s in report.stuck] == [ids[1], crash]
    assert report.stuck[0]["error"] == "the calendar invite refuses the address 'x' (CAL-2)"
    assert report.stuck[1]["error"] == "ValueError: unexpected second line", "one line"
    assert report.as_dict()["stuck"] == 2
    with Session(engine) as session:
        rows = {d.id: d for d in session.exec(select(Deadline)).all()}
        keys = set(session.exec(select(OutboxMessage.idempotency_key)).all())
    assert rows[ids[1]].done_at is None and rows[ids[1]].stuck_attempts == 1
    assert rows[ids[1]].stuck_error == report.stuck[0]["error"] and rows[ids[1]].stuck_at is not None
    assert rows[ids[0]].done_at is not None and rows[ids[2]].done_at is not None
    assert {k.split("|")[2] for k in keys} == {f"test:{ids[0]}", f"test:{ids[2]}"}, "the stuck work is rolled back"

    again = run_sweep(engine, vejle, today=TODAY + dt.timedelta(days=1))  # still broken: tried again
    assert len(again.stuck) == 2 and again.handled == {}
    BROKEN.discard("case:1")  # fixed (e.g. the address corrected)
    fixed = run_sweep(engine, vejle, today=TODAY + dt.timedelta(days=2))
    assert fixed.handled == {"test_rule_refusal": 1} and [s["deadline_id"] for s in fixed.stuck] == [crash]
    with Session(engine) as session:
        row = session.get(Deadline, ids[1])
        assert row is not None and row.done_at is not None and row.stuck_error is None and row.stuck_at is None
        assert row.stuck_attempts == 2, "the attempts it took stay on record"


def test_the_stuck_count_is_a_danish_line_and_on_the_dashboard_without_the_error_text() -> None:
    report = {"queued": 3, "handled": {"network_agenda": 4}, "stuck": 1, "stuck_deadlines": [
        {"deadline_id": 17, "kind": "network_agenda", "rule_id": "CAL-2", "case_id": 5,
         "error": "the calendar invite refuses hanne.o'berg@hjem.example"}]}
    assert stuck_message(report) == ("1 frist sidder fast og forsøges igen ved næste gennemgang: network_agenda "
                                     "(CAL-2). Se 'pprflow sweep' eller overblikket for fejlen.")
    assert stuck_message({"stuck_deadlines": []}) is None
    text = summary_markdown(today=TODAY, sweep=report, outbox={}, tables={})
    assert "**Frister der sidder fast: 1**" in text and "Dagsorden sendes, sag 5, frist-id 17" in text
    assert "hjem.example" not in text, "no address or name on the dashboard (PRIV-2)"


@pytest.mark.prefect
def test_the_morning_sweep_with_a_stuck_deadline_fails_visibly_after_the_dashboard(
        pprflow_env, engine, fast_flow_runs, handlers) -> None:  # type: ignore[no-untyped-def]
    from pprflow.deployments.scheduled import morning_sweep

    pin(engine, "test_crash", "case:1")
    good = pin(engine, "test_crash", "case:2")
    BROKEN.add("case:1")
    state = morning_sweep(today=TODAY, return_state=True)
    assert state.is_failed()
    assert state.message is not None and state.message.startswith("1 frist sidder fast")
    with Session(engine) as session:
        assert session.get(Deadline, good).done_at is not None  # type: ignore[union-attr]
