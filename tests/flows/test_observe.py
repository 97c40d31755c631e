"""Issue 20, runs that say what happened: real flow runs on the session's Prefect server.

A case flow's run is named after the case (`sag-17-fordel`), tagged with ids only (`sag:17`,
`distrikt:nord`, `spor:ppr_individual`), emits one event per state change with the case as the
resource and the rule ID in the payload (PATH-4) and nothing personal; a rule refusal ends in a Failed
state named `Afvist` with the reason (its event is `prefect.flow-run.Afvist`, not `...Failed`)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from pprflow.models.errors import RuleViolation
from tests import referral_data as rd
from tests.flows import flow_env as env_fixtures
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env
D = dt.date
MONDAY = D(2026, 11, 23)


def _run(state: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def _events(name: str, resource_id: str, wait: float = 30.0) -> list[Any]:
    """The events the server stored (the event persister writes them a moment after they arrive)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    flt = EventFilter(event=EventNameFilter(name=[name]), resource=EventResourceFilter(id=[resource_id]))
    deadline = time.monotonic() + wait
    while True:
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=flt, limit=50).events  # the server allows at most 50
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def _names_and_addresses(data: Any) -> set[str]:
    """Every name, e-mail and address the referral carries (what must never reach the server)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and len(value) > 3 and any(k in key for k in ("name", "email", "address")):
                found.add(value)
            else:
                found |= _names_and_addresses(value)
    elif isinstance(data, list):
        for value in data:
            found |= _names_and_addresses(value)
    return found


def test_a_case_run_is_named_tagged_and_emits_its_event_with_the_rule_and_no_personal_data_PATH_4(
        flow_env: Any) -> None:
    from pprflow.flows.intake import referral_intake
    from pprflow.flows.ppr import assign_district_case, schedule_district

    schedule_district(district="Nord", start=MONDAY, count=2,
                      request_id=as_user("admin@ppr.example", schedule_district), today=MONDAY)
    referral = rd.referral()
    intake = referral_intake(referral,
            request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY, return_state=True)
    case_id = intake.result().case_id
    opened = _run(intake)
    assert opened.name == f"sag-{case_id}-modtag", "renamed once the case exists"
    assert {f"sag:{case_id}", "distrikt:nord", "spor:ppr_individual"} <= set(opened.tags)

    state = assign_district_case(case_id=case_id, to_email="karin@ppr.example",
                                 request_id=as_user("admin@ppr.example", assign_district_case),
                                 today=D(2026, 11, 26), return_state=True)
    run = _run(state)
    assert state.is_completed() and run.name == f"sag-{case_id}-fordel"
    assert {f"sag:{case_id}", "distrikt:nord", "spor:ppr_individual"} <= set(run.tags)
    assert all(":" in t or t for t in run.tags) and not any("@" in t for t in run.tags), "ids only"

    events = _events("pprflow.sag.tildelt", f"pprflow.sag.{case_id}")
    assert len(events) == 1
    event = events[0]
    assert event.payload["rule_id"] == "PATH-4" and event.payload["sag"] == case_id
    text = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
    personal = {"karin@ppr.example", "admin@ppr.example", *_names_and_addresses(referral.model_dump(mode="json"))}
    assert len(personal) > 3
    for value in personal:
        assert value not in text, f"{value!r} reached the Prefect server"
    assert _events("pprflow.sag.oprettet", f"pprflow.sag.{case_id}")[0].payload["rule_id"] == "PATH-1"


def test_a_rule_refusal_ends_in_the_named_state_afvist_and_the_caller_still_gets_the_error_PATH_4(
        flow_env: Any) -> None:
    from pprflow.flows.intake import referral_intake

    with pytest.raises(RuleViolation):
        referral_intake(rd.referral(consent=None),
                        request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    state = referral_intake(rd.referral(consent=None),
                            request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY,
                            return_state=True)
    assert state.is_failed() and state.name == "Afvist"
    assert "(PATH-4)" in (state.message or "") and "Traceback" not in (state.message or "")
    run = _run(state)
    assert run.state.name == "Afvist" and run.state.type.value == "FAILED"
    assert _events("prefect.flow-run.Afvist", f"prefect.flow-run.{run.id}"), "alerts on ...Failed never see it"
    assert not _events("prefect.flow-run.Failed", f"prefect.flow-run.{run.id}", wait=2.0)


def test_a_day_run_is_named_after_its_day(flow_env: Any) -> None:
    from pprflow.flows.sweep import daily_sweep

    state = daily_sweep(today=D(2026, 12, 2), return_state=True)
    assert _run(state).name == "gennemgang-2026-12-02"
    assert _events("pprflow.gennemgang.gennemfoert", "pprflow.gennemgang.2026-12-02")
