"""Issue 20: the proactive alert "the morning sweep is not done by 07:00" fires on the real Prefect server and its
action re-runs the sweep. The run of 06:30 is picked up (Pending) and no Completed follows within the grace
(30 minutes in production, 10 seconds here): the automation starts the sweep deployment again; a sweep that
completes in time is left alone."""

from __future__ import annotations

import datetime as dt
import time
from uuid import UUID

import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(420)]

GRACE = dt.timedelta(seconds=10)  # the shortest `within` Prefect accepts for a proactive trigger


def _runs_of(deployment_id: UUID) -> list[object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        return list(client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(
            any_=[deployment_id]))))


def _picked_up(deployment_id: UUID) -> UUID:
    """What a worker does with the scheduled 06:30 run: it becomes Pending (the automation's `after` event)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Pending

    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(run.id, Pending())
    return run.id


def test_a_sweep_not_completed_in_time_is_run_again_by_the_automation(prefect_server: None) -> None:
    from prefect.automations import Automation
    from prefect.client.orchestration import get_client
    from prefect.events.worker import EventsWorker
    from prefect.states import Completed, Running

    from pprflow.deployments.automations import SWEEP_LATE, desired_automations, ensure
    from pprflow.deployments.scheduled import morning_sweep

    late = morning_sweep.to_deployment(name="sen-gennemgang-test").apply()
    on_time = morning_sweep.to_deployment(name="rettidig-gennemgang-test").apply()
    ids = {}
    try:
        for deployment in (late, on_time):
            wanted = desired_automations(flow_names=["morgen-gennemgang"], block_id=None,
                                         sweep_deployment_id=deployment, heartbeat_seconds=None, sweep_grace=GRACE)
            assert [a.name for a in wanted] == [SWEEP_LATE]
            wanted[0].name = f"{SWEEP_LATE} ({deployment})"  # one per deployment in this test
            ids |= ensure(wanted)
        time.sleep(2)  # the triggers service loads new automations
        stuck = _picked_up(late)
        done = _picked_up(on_time)
        with get_client(sync_client=True) as client:  # the on-time sweep completes within the grace
            client.set_flow_run_state(done, Running())
            client.set_flow_run_state(done, Completed())
        EventsWorker.drain_all()

        deadline = time.monotonic() + 120
        reruns: list[object] = []
        while time.monotonic() < deadline and not reruns:
            reruns = [r for r in _runs_of(late) if r.id != stuck]  # type: ignore[attr-defined]
            time.sleep(1)
        assert len(reruns) == 1, "the automation started the sweep deployment again"
        time.sleep(GRACE.total_seconds() + 5)
        assert [r.id for r in _runs_of(on_time)] == [done], "a sweep completed in time is not re-run"  # type: ignore[attr-defined]
    finally:
        for automation_id in ids.values():
            Automation.read(id=automation_id).delete()
        with get_client(sync_client=True) as client:
            for deployment in (late, on_time):
                client.delete_deployment(deployment)
