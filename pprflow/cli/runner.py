"""Run a pathway step: as a tracked Prefect flow run when a server is configured, else directly.

Without a running server every process that runs a flow starts Prefect's temporary server
(11-35 s). A `pprflow` command must never pay that, so each step is a plain service function
(tasks/) that the flow wraps; the CLI calls the flow only when PREFECT_API_URL points at a server
(`pprflow serve`), and the plain function otherwise: same code, same database, same outbox.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def prefect_server_configured() -> bool:
    """True when PREFECT_API_URL is set (env or the active Prefect profile) and not disabled."""
    if os.environ.get("PPRFLOW_RUN_FLOWS", "").lower() in {"0", "no", "false"}:
        return False
    if os.environ.get("PREFECT_API_URL"):
        return True
    return False


def run_step(flow_ref: str, direct: Callable[..., T], /, **params: Any) -> T:
    """Call `flows.<module>:<flow>` with params when a server is configured, else `direct(**params)`."""
    if prefect_server_configured():
        module_name, _, attr = flow_ref.partition(":")
        flow = getattr(importlib.import_module(module_name), attr)
        return flow(**params)  # type: ignore[no-any-return]
    return direct(**params)
