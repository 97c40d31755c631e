"""The outbox row commits with the state change it belongs to, or not at all (one transaction)."""

from __future__ import annotations

from sqlmodel import Session, func, select

from pprflow.models.tables import OutboxMessage
from pprflow.tasks.outbox import queue_message
from pprflow.templates.catalogue import MESSAGE_KINDS


def _count(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage)).one())


def test_a_rolled_back_state_change_leaves_no_orphan_outbox_row(any_engine) -> None:
    """The savepoint inside queue_message must not commit on its own (SQLite's pysqlite quirk)."""
    with Session(any_engine) as session:
        message = queue_message(session, kind="receipt", to="laerer@skole.example",
                                context=MESSAGE_KINDS["receipt"].example_context(), serves="test",
                                sender="ppr@vejle.example")
        assert message is not None and message.id is not None
        session.rollback()
    assert _count(any_engine) == 0


def test_queueing_the_same_message_twice_keeps_one_row(any_engine) -> None:
    for _ in range(2):
        with Session(any_engine) as session:
            queue_message(session, kind="receipt", to="Laerer@Skole.example",
                          context=MESSAGE_KINDS["receipt"].example_context(), serves="test",
                          sender="ppr@vejle.example")
            session.commit()
    assert _count(any_engine) == 1
