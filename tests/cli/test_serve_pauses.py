"""Issue 20: an administrator's pause survives a restart of `pprflow serve` (real Prefect server).

The runner pauses every deployment when it stops and applying a deployment un-pauses it; serve writes
down which deployments it paused itself, so at the next start only those resume."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.prefect


def _catalogue() -> list[Any]:
    from pprflow.flows.kv import kv_cycle
    from pprflow.flows.ppr import prepare_district_meetings

    return [prepare_district_meetings.to_deployment(name="pause-test"), kv_cycle.to_deployment(name="pause-test")]


def _paused() -> dict[str, bool]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {name: client.read_deployment_by_name(f"{name}/pause-test").paused
                for name in ("distriktsmoeder-forbered", "kv-cyklus")}


def _start(marker: Path) -> list[str]:
    from pprflow.cli.serve import keep_administrators_pauses

    deployments = _catalogue()
    kept = keep_administrators_pauses(deployments, marker)
    for deployment in deployments:
        deployment.apply()  # what the runner's add_deployment does
    return kept


def _stop(marker: Path) -> None:
    from prefect.client.orchestration import get_client

    from pprflow.cli.serve import record_our_pauses

    asyncio.run(record_our_pauses(_catalogue(), marker))
    with get_client(sync_client=True) as client:  # what the runner's pause_on_shutdown does
        for name in ("distriktsmoeder-forbered", "kv-cyklus"):
            client.pause_deployment(client.read_deployment_by_name(f"{name}/pause-test").id)


def test_an_administrators_pause_survives_a_restart_and_our_own_pause_does_not(
        prefect_server: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    marker = tmp_path / "paused-by-shutdown.json"
    _start(marker)
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": False}
    with get_client(sync_client=True) as client:  # the administrator pauses one in the UI
        client.pause_deployment(client.read_deployment_by_name("kv-cyklus/pause-test").id)
    _stop(marker)
    assert _paused() == {"distriktsmoeder-forbered": True, "kv-cyklus": True}
    assert _start(marker) == ["kv-cyklus/pause-test"]
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": True}, "only serve's own pause is undone"
    assert not marker.exists()

    with get_client(sync_client=True) as client:  # a crash: the runner paused nothing, no list written
        client.pause_deployment(client.read_deployment_by_name("kv-cyklus/pause-test").id)
    assert _start(marker) == ["kv-cyklus/pause-test"]
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": True}
