"""Run a pathway step: as a tracked Prefect flow run when a server is configured, else directly.

Without a running server every process that runs a flow starts Prefect's temporary server
(11-35 s). A `pprflow` command must never pay that, so each step is a plain service function
(tasks/) that the flow wraps; the CLI calls the flow only when PREFECT_API_URL points at a server
(`pprflow serve`), and the plain function otherwise: same code, same database, same outbox.

`run_step("pprflow.flows.delivery:deliver_outbox", deliver, ctx=ctx, limit=10)`:
- no server: `deliver(ctx=ctx, limit=10)`;
- a server: the flow cannot take a Ctx (flow parameters are stored by Prefect), so `ctx` is
  exported to the environment (PPRFLOW_DATABASE_URL, PPRFLOW_PROFILE, PPRFLOW_USER) for the
  in-process flow run, which rebuilds it with `Ctx.from_environment()`; the flow gets the other
  params, plus `request_id`: the id of a `RunRequest` row written here with `ctx.actor`, the authenticated
  actor (issue 20, PRIV-4), from which the flow reads who acts (tasks/context.py).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def prefect_server_configured() -> bool:
    """True when PREFECT_API_URL is set and PPRFLOW_RUN_FLOWS does not switch flow runs off."""
    if os.environ.get("PPRFLOW_RUN_FLOWS", "").lower() in {"0", "no", "false"}:
        return False
    return bool(os.environ.get("PREFECT_API_URL"))


def run_step(flow_ref: str, direct: Callable[..., T], /, **params: Any) -> T:
    """Call the flow `module:attr` when a server is configured, else `direct(**params)`."""
    if not prefect_server_configured():
        return direct(**params)
    ctx = params.pop("ctx", None)
    if ctx is not None:
        ctx.export_to_environment()
    module_name, _, attr = flow_ref.partition(":")
    flow = getattr(importlib.import_module(module_name), attr)
    accepted = inspect.signature(getattr(flow, "fn", flow)).parameters
    if ctx is not None and "request_id" in accepted:
        from pprflow.tasks.context import record_request

        target = getattr(flow, "flow", flow)  # a plain wrapper (escalate_case) names the flow it runs
        params["request_id"] = record_request(ctx.engine, ctx.actor, target.name)
    return flow(**params)  # type: ignore[no-any-return]


def run_urgent_step(flow_ref: str, direct: Callable[..., T], /, **params: Any) -> T:
    """ESC-1: `run_step` for the abuse notification — nothing may block it, not even an unreachable Prefect
    server: when the flow run could not start (the server did not answer), the same service function runs
    directly (queued the same, urgent lane)."""
    from pprflow.models.errors import PprflowError

    try:
        return run_step(flow_ref, direct, **dict(params))
    except PprflowError:
        raise  # the report itself was refused: that line says whether the notification went (ESC-2)
    except Exception as exc:  # noqa: BLE001 - ESC-2: whatever the server answered (unreachable, 401, 500, ...)
        # the report is received by the same service function: record_report is idempotent per report and day,
        # so a flow run that got as far as queueing it is not doubled. The dashboard just misses this run.
        import sys

        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        sys.stderr.write(f"advarsel: Prefect-serveren kunne ikke køre underretningen ({reason}); den er modtaget "
                         "direkte og sendes straks (ESC-2)\n")
    return direct(**params)
