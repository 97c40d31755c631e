"""Issue 20: the operators' alerts are Prefect Automation objects, created idempotently, and they fire.

Against the session's real Prefect server (its triggers and actions services run): creating the
automations twice leaves one of each; a pprflow flow that fails (a ConfigurationError: the operator's
problem) calls the configured webhook once, a second failure within the hour does not alert again,
and a rule refusal (the state named Afvist) never alerts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from tests.support.acting import as_user

pytestmark = pytest.mark.prefect


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on loopback that records what the Prefect server posts."""
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", received
    server.shutdown()


@pytest.fixture
def automations(fast_flow_runs: None, pprflow_env: str, webhook: tuple[str, list[dict[str, Any]]],
                monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from prefect.automations import Automation

    from pprflow.config import Settings
    from pprflow.deployments.automations import ensure_automations
    from pprflow.deployments.scheduled import morning_sweep

    monkeypatch.setenv("PPRFLOW_ALERT_WEBHOOK_URL", webhook[0])
    sweep = morning_sweep.to_deployment(name="arbejdsdage-0630").apply()
    ids = ensure_automations(Settings(), sweep_deployment=sweep)
    yield ids
    for automation_id in ids.values():
        Automation.read(id=automation_id).delete()


def test_creating_the_automations_twice_leaves_one_of_each(automations: dict[str, Any]) -> None:
    from prefect.client.orchestration import get_client

    from pprflow.config import Settings
    from pprflow.deployments.automations import FAILED, SWEEP_LATE, ensure_automations

    again = ensure_automations(Settings())  # a restart: the sweep deployment is found by name
    assert again == automations and set(again) >= {FAILED, SWEEP_LATE}
    with get_client(sync_client=True) as client:
        for name in again:
            assert len(client.read_automations_by_name(name)) == 1, name


def _wait_for(received: list[Any], count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def test_a_failed_run_alerts_once_an_hour_and_a_refusal_never(
        automations: dict[str, Any], webhook: tuple[str, list[dict[str, Any]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pprflow.flows.levels import review_case
    from pprflow.flows.ppr import prepare_district_meetings

    _, received = webhook
    refused = review_case(case_id=424242, review_date="2026-12-01",
                          request_id=as_user("leder@skole.example", review_case),
                          return_state=True)
    assert refused.name == "Afvist"
    monkeypatch.setenv("PPRFLOW_PROFILE", "findes-ikke")  # the operator's mistake: a plain Failed run
    first = prepare_district_meetings(return_state=True)
    assert first.is_failed() and first.name == "Failed"
    _wait_for(received, 1, 90)
    assert len(received) == 1, "the failed run alerted"
    assert "distriktsmoeder-forbered" in received[0]["text"] and "Failed" in received[0]["text"]
    prepare_district_meetings(return_state=True)
    time.sleep(15)
    assert len(received) == 1, "a second failure within the hour does not alert again; the refusal never did"


def test_a_run_whose_heartbeat_stops_is_marked_crashed_by_the_zombie_automation(fast_flow_runs: None) -> None:
    """The guide's proactive trigger, at a 4 s heartbeat (12 s window) so the test is short; pprflow serve
    uses Prefect's heartbeat setting (180 s: a zombie is marked after 9 minutes)."""
    from prefect.automations import Automation
    from prefect.client.orchestration import get_client
    from prefect.events import emit_event
    from prefect.events.clients import get_events_client  # noqa: F401 - the worker below uses it
    from prefect.events.worker import EventsWorker
    from prefect.states import Running

    from pprflow.deployments.automations import ZOMBIE, desired_automations, ensure
    from pprflow.flows.ppr import assign_district_case

    wanted = desired_automations(flow_names=["sag-fordel"], block_id=None, sweep_deployment_id=None,
                                 heartbeat_seconds=4)
    ids = ensure(wanted)
    assert ensure(wanted) == ids and list(ids) == [ZOMBIE]
    try:
        with get_client(sync_client=True) as client:
            run = client.create_flow_run(assign_district_case, parameters={"case_id": 1, "to_email": "x@ppr.example"},
                                         state=Running())
            flow = client.read_flow(run.flow_id)
        emit_event(event="prefect.flow-run.heartbeat", resource={"prefect.resource.id": f"prefect.flow-run.{run.id}"},
                   related=[{"prefect.resource.id": f"prefect.flow.{flow.id}", "prefect.resource.role": "flow",
                             "prefect.resource.name": flow.name}])
        EventsWorker.drain_all()
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run.id).state
            if state is not None and state.is_crashed():
                break
            time.sleep(1)
        assert state is not None and state.is_crashed(), f"still {state}"
        assert "heartbeat" in (state.message or "")
    finally:
        for automation_id in ids.values():
            Automation.read(id=automation_id).delete()


def test_a_changed_automation_is_updated_in_place_on_the_self_hosted_server(automations: dict[str, Any]) -> None:
    """A new pprflow release with a changed alert: the next start updates the one automation by name (the server
    refused Prefect Cloud's owner_resource in the update with 422, which stopped `pprflow serve`)."""
    from prefect.client.orchestration import get_client

    from pprflow.deployments.automations import FAILED, ensure

    with get_client(sync_client=True) as client:
        [stored] = client.read_automations_by_name(FAILED)
        changed = stored.model_copy(update={"description": "ændret beskrivelse"})
        assert ensure([changed]) == {FAILED: stored.id}
        [updated] = client.read_automations_by_name(FAILED)
    assert updated.id == stored.id and updated.description == "ændret beskrivelse"
