"""Shared by the fault tests: queue synthetic messages, count outbox rows by status."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import queue_message

MAILBOX = "ppr@vejle.example"


def queue(engine: Engine, *, first: int, count: int, sender: str = MAILBOX) -> list[int]:
    """Queue `count` due receipts to modtager<i>@skole.example, oldest first (send_after rises with i)."""
    from pprflow.templates.catalogue import MESSAGE_KINDS

    context = MESSAGE_KINDS["receipt"].example_context()
    base = utcnow() - dt.timedelta(days=1)
    ids = []
    with Session(engine) as session:
        for i in range(first, first + count):
            message = queue_message(session, kind="receipt", to=f"modtager{i}@skole.example", context=context,
                                    serves=f"fault:{i}", sender=sender, send_after=base + dt.timedelta(seconds=i))
            assert message is not None and message.id is not None
            ids.append(message.id)
        session.commit()
    return ids


def by_status(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))).all()
    return {status: int(n) for status, n in rows}


def keys_in_order(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage.idempotency_key)
                                 .order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))).all())


def read_artifacts(key: str, flow_run_id: str) -> list[dict]:  # type: ignore[type-arg]
    """A flow run's artifacts with this key, through the REST API (Prefect 3.8's client sends
    `"limit": null` and empty filters, which its server refuses or misreads)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"artifacts": {"key": {"any_": [key]}}, "flow_runs": {"id": {"any_": [flow_run_id]}},
            "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]
