"""Start a flow in a test the way the web app and the CLI do: a request row with the actor (issue 20, PRIV-4)."""

from __future__ import annotations

from typing import Any


def as_user(actor: str | None, flow: Any) -> str | None:
    """`request_id` for calling `flow` as `actor` (what `run_step` writes); None: no request (a job's default)."""
    if actor is None:
        return None
    from pprflow.config import Settings
    from pprflow.db import get_engine
    from pprflow.tasks.context import record_request

    target = getattr(flow, "flow", flow)
    name = getattr(target, "name", None) or getattr(target, "__name__", "")
    return record_request(get_engine(Settings().resolved_database_url()), actor, name)
