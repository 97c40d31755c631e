"""How the web app takes a step: the CLI's `run_step` (pprflow/cli/runner.py), so every action is the same flow
when a Prefect server is configured (its run on the flow dashboard, the acting user a request row, issue 20) and
the same service function when not; always in a worker thread, never on the event loop (issue 18)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

_FLOW_LOCK = threading.Lock()
URGENT_LOCK_WAIT_S = 2.0
"""ESC-1: how long the abuse report waits for another web flow run before it runs its service function directly."""


def run_service(flow_ref: str, direct: Callable[..., Any], /, **params: Any) -> Any:
    """The CLI's `run_step`: the flow (`module:attr`) when a Prefect server is configured, so the web app's runs show
    on the dashboard like the CLI's, else the same service function directly. Runs in a worker thread (never on the
    event loop); flow runs are serialised because `run_step` exports the context to the process environment."""
    from pprflow.cli.runner import prefect_server_configured, run_step, run_urgent_step

    urgent = bool(params.pop("urgent", False))
    if not prefect_server_configured():
        return direct(**params)
    if urgent:
        # ESC-1: the abuse report never waits behind another member's flow run (a slow referral run holds the
        # lock): after a moment it is the same service function directly — queued the same, urgent lane
        if not _FLOW_LOCK.acquire(timeout=URGENT_LOCK_WAIT_S):
            return direct(**params)
        try:  # ESC-2: the CLI's urgent step — whatever the server answers, the report is received
            return run_urgent_step(flow_ref, direct, **params)
        finally:
            _FLOW_LOCK.release()
    with _FLOW_LOCK:
        return run_step(flow_ref, direct, **params)


async def flow_step(flow_ref: str, service: Callable[..., Any], /, **params: Any) -> Any:
    """`run_service` from a route: in a worker thread. `params` are the service's keywords (`ctx=` included)."""
    return await run_in_threadpool(run_service, flow_ref, service, **params)
