"""Issue 20: a restart changes nothing. `pprflow serve` applies a deployment only when its definition changed
(the `definition:<hash>` tag, deployments/apply.py), so a plain restart sends no deployment update to the
server (#18894's window stays shut); a changed schedule is exactly one update; an administrator's pause
survives. Real Prefect server, a real (not started) Runner; the client's calls are counted, not replaced."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.prefect

NAMES = ("distriktsmoeder-forbered", "kv-cyklus")


def _catalogue(cron: str = "0 12 * * 4") -> list[Any]:
    from prefect.schedules import Cron

    from pprflow.flows.kv import kv_cycle
    from pprflow.flows.ppr import prepare_district_meetings

    return [prepare_district_meetings.to_deployment(
                name="redeploy-test", schedules=[Cron(cron, timezone="Europe/Copenhagen", slug="redeploy-test")]),
            kv_cycle.to_deployment(name="redeploy-test", description="KV")]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often Prefect's clients create or update a deployment (the calls go through to the server)."""
    from prefect.client.orchestration import PrefectClient, SyncPrefectClient

    counted: Counter[str] = Counter()
    for cls in (PrefectClient, SyncPrefectClient):
        for method in ("create_deployment", "update_deployment"):
            original = getattr(cls, method)

            def spy(self: Any, *args: Any, _original: Any = original, _method: str = method, **kwargs: Any) -> Any:
                counted[_method] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(cls, method, spy)
    return counted


def _paused() -> dict[str, bool]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {name: client.read_deployment_by_name(f"{name}/redeploy-test").paused for name in NAMES}


def _start(marker: Path, **kwargs: Any) -> dict[str, int]:
    from prefect.runner import Runner

    from pprflow.cli.serve import register_deployments

    return register_deployments(Runner(pause_on_shutdown=True), _catalogue(**kwargs), marker)


def _stop(marker: Path) -> None:
    from prefect.client.orchestration import get_client

    from pprflow.cli.serve import record_our_pauses

    asyncio.run(record_our_pauses(_catalogue(), marker))
    with get_client(sync_client=True) as client:  # what the runner's pause_on_shutdown does
        for name in NAMES:
            client.pause_deployment(client.read_deployment_by_name(f"{name}/redeploy-test").id)


def test_two_starts_without_a_change_update_nothing_and_a_changed_schedule_updates_one(
        prefect_server: None, tmp_path: Path, calls: Counter[str]) -> None:
    from prefect.client.orchestration import get_client

    marker = tmp_path / "paused-by-shutdown.json"
    assert _start(marker) == {"created": 2, "updated": 0, "unchanged": 0}
    assert calls["create_deployment"] == 2
    _stop(marker)
    calls.clear()

    assert _start(marker) == {"created": 0, "updated": 0, "unchanged": 2}
    assert calls == Counter(), "a restart without a change applied a deployment again"
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": False}, "serve's own pause is lifted"

    with get_client(sync_client=True) as client:  # the administrator pauses one in the UI
        client.pause_deployment(client.read_deployment_by_name("kv-cyklus/redeploy-test").id)
    _stop(marker)
    assert _start(marker) == {"created": 0, "updated": 0, "unchanged": 2}
    assert calls == Counter()
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": True}, "the administrator's pause stays"

    _stop(marker)
    assert _start(marker, cron="30 12 * * 4") == {"created": 0, "updated": 1, "unchanged": 1}
    assert calls == Counter({"update_deployment": 1})
    with get_client(sync_client=True) as client:
        changed = client.read_deployment_by_name("distriktsmoeder-forbered/redeploy-test")
    assert [s.schedule.cron for s in changed.schedules] == ["30 12 * * 4"]  # type: ignore[union-attr]
    assert _paused() == {"distriktsmoeder-forbered": False, "kv-cyklus": True}


def test_the_definition_hash_is_stable_and_sees_a_schedule_change() -> None:
    from pprflow.deployments.apply import definition_hash, tag_definition

    first, again = _catalogue()[0], _catalogue()[0]
    assert definition_hash(first) == definition_hash(again)
    tag = tag_definition(first)
    assert definition_hash(first) == tag.removeprefix("definition:"), "the tag does not change the hash"
    assert definition_hash(_catalogue(cron="30 12 * * 4")[0]) != definition_hash(again)
