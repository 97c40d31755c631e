"""What Prefect keeps (PRIV-1, PRIV-2): flow parameters, logs and artifacts.

- No flow takes personal data as parameters beyond case ids, dates and staff identities, except the
  form flows (`pprflow.flows.retention.FORM_FLOWS`, the intake form above all), whose runs the retention
  flow deletes after `retention.flow_run_parameter_days`.
- A run's logs name no parent (real intake and meeting flow runs, read back through the Prefect API).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import typing
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from tests import referral_data as rd
from tests.flows import flow_env as env_fixtures
from tests.support.acting import as_user

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env
PARENT_NAMES = [p["name"] for p in rd.PARENTS] + rd.CONSENT["given_by"]
PARENT_EMAILS = [p["email"] for p in rd.PARENTS]

STAFF_OR_PLACE = {"request_id", "to_email", "leader_email", "leader_name", "name", "role", "district",
                  "institution", "to_institution", "kind", "direction"}
"""String parameters that name a staff member, a place or a choice (or an opaque request id) — never a child
or a parent."""


def _all_flows() -> list[Any]:
    from prefect import Flow

    import pprflow.deployments
    import pprflow.flows

    found: dict[str, Any] = {}
    for package in (pprflow.flows, pprflow.deployments):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)  # a module that does not import fails the test
            for value in vars(module).values():
                if isinstance(value, Flow):
                    found[value.name] = value
    return list(found.values())


def _carries_personal_data(flow: Any) -> list[str]:
    """The parameters of `flow` that can hold names or free text: models, and strings beyond STAFF_OR_PLACE."""
    hints = typing.get_type_hints(flow.fn)
    personal = []
    for name in inspect.signature(flow.fn).parameters:
        hint = hints.get(name)
        args = typing.get_args(hint) or (hint,)
        if any(inspect.isclass(a) and issubclass(a, BaseModel) for a in args):
            personal.append(name)
        elif str in args and name not in STAFF_OR_PLACE:
            personal.append(name)
    return personal


def test_only_the_form_flows_take_personal_data_as_parameters_PRIV_2() -> None:
    from pprflow.flows.retention import FORM_FLOWS

    all_flows = _all_flows()
    assert len(all_flows) >= 20
    with_personal = {f.name: _carries_personal_data(f) for f in all_flows if _carries_personal_data(f)}
    assert set(with_personal) == FORM_FLOWS, with_personal
    assert with_personal["henvendelse-modtag"] == ["referral"]


def _run_id(state: Any) -> UUID:
    return state.state_details.flow_run_id  # type: ignore[no-any-return]


def _logs_and_parameters(run_ids: list[UUID]) -> tuple[str, dict[UUID, dict[str, Any]]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # send what is still queued
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids)),
                                limit=200, offset=0, sort=LogSort.TIMESTAMP_ASC)
        parameters = {run_id: client.read_flow_run(run_id).parameters for run_id in run_ids}
    return "\n".join(log.message for log in logs), parameters


def test_flow_logs_name_no_parent_and_the_form_run_is_deleted_after_its_period_PRIV_2(flow_env) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from pprflow.flows.intake import referral_intake
    from pprflow.flows.meetings import plan_meeting, send_meeting_agenda
    from pprflow.flows.retention import retention_purge
    from pprflow.flows.sweep import daily_sweep
    from pprflow.models.rules_meetings import MeetingInput
    from pprflow.profiles import load_profile

    today = dt.date(2026, 11, 23)
    intake = referral_intake(rd.referral(),
            request_id=as_user("sofie@skovbakke.example", referral_intake), today=today, return_state=True)
    case_id = intake.result().case_id
    planned = plan_meeting(data=MeetingInput(case_id=case_id, kind="development", date=dt.date(2026, 12, 10),
                                             **PLACE),
                           today=today, request_id=as_user("sofie@skovbakke.example", plan_meeting), return_state=True)
    agenda = send_meeting_agenda(meeting_id=planned.result()["meeting_id"], today=today,
                                 request_id=as_user("sofie@skovbakke.example", send_meeting_agenda), return_state=True)
    sweep = daily_sweep(today=dt.date(2026, 12, 3), return_state=True)
    runs = [_run_id(s) for s in (intake, planned, agenda, sweep)]
    logs, parameters = _logs_and_parameters(runs)
    assert "Finished in state Completed" in logs, "the logs were read back"
    for secret in PARENT_NAMES + PARENT_EMAILS + ["Elev K-417"]:
        assert secret not in logs, secret
    # Only the intake form's run carries the parents (its parameters ARE the form) ...
    assert "hanne.berg@hjem.example" in str(parameters[runs[0]])
    for run_id in runs[1:]:
        assert not any(s in str(parameters[run_id]) for s in PARENT_NAMES + PARENT_EMAILS)

    # ... and the retention flow deletes it once `flow_run_parameter_days` have passed; the sweep stays.
    # The purge day is counted from the runs' own end times (they ran on the real clock), not a fixed date.
    with get_client(sync_client=True) as client:
        ended = max(client.read_flow_run(run_id).end_time for run_id in runs[:2])
    assert ended is not None
    ended_on = ended.astimezone(ZoneInfo("Europe/Copenhagen")).date()
    days = load_profile("vejle").retention.flow_run_parameter_days
    too_early = retention_purge(today=ended_on + dt.timedelta(days=days))
    assert too_early["form_flow_runs"] == 0, "a form run is kept for its whole period"
    report = retention_purge(today=ended_on + dt.timedelta(days=days + 1))
    assert report["form_flow_runs"] >= 2 and report["cases"] == 0
    with get_client(sync_client=True) as client:
        for run_id in runs[:2]:
            with pytest.raises(ObjectNotFound):
                client.read_flow_run(run_id)
        assert client.read_flow_run(runs[3]).state_type.value == "COMPLETED"
