"""Issue 20 (PRIV-4): who acts in a flow run is the signed-in user or the CLI user (a request row written by
the web app or the CLI) or a named system job, never a free-text field of Prefect's form."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.flows import flow_env as env_fixtures
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env

MONDAY = dt.date(2026, 11, 23)
ACTOR_LIKE = re.compile(r"actor|user|bruger|medarbejder|udfoert|acting|as_", re.IGNORECASE)


def test_no_deployment_has_a_free_text_actor_in_its_form_PRIV_4() -> None:
    """Every deployment `pprflow serve` and `python -m pprflow.deployments` register, enumerated: no parameter
    names who acts; a person's step carries only the opaque `request_id` the web app or the CLI fills in."""
    from pprflow.deployments.catalogue import build_catalogue
    from pprflow.profiles import load_profile

    catalogue = build_catalogue(load_profile("vejle"))
    assert len(catalogue.deployments) >= 20, catalogue.names()
    with_request = 0
    for deployment in catalogue.deployments:
        properties = deployment._parameter_openapi_schema.model_dump()["properties"]
        named = f"{deployment.flow_name}/{deployment.name}"
        assert not [p for p in properties if ACTOR_LIKE.search(p)], (named, sorted(properties))
        if "request_id" in properties:
            with_request += 1
            assert "Udfyldes af pprflows webapp" in properties["request_id"].get("description", ""), named
    assert with_request >= 15


def test_a_person_step_started_without_a_request_ends_afvist_with_a_danish_reason_PRIV_4(flow_env) -> None:
    """What a run started from Prefect's UI looks like: no request. PPRFLOW_USER (a known leader in this
    environment) is not the actor: the run is refused and changes nothing."""
    from sqlmodel import Session, func, select

    from pprflow.flows.ppr import schedule_district
    from pprflow.models.tables import Meeting

    state = schedule_district(district="Nord", start=MONDAY, count=2, today=MONDAY, return_state=True)
    assert state.is_failed() and state.name == "Afvist", state
    assert "ikke bestilt gennem pprflow" in (state.message or "") and "(PRIV-4)" in (state.message or "")
    with Session(flow_env) as session:
        assert session.exec(select(func.count()).select_from(Meeting)).one() == 0


def test_a_request_acts_as_its_actor_once_and_cannot_be_replayed_by_another_run_PRIV_4(flow_env) -> None:
    from sqlmodel import Session, func, select

    from pprflow.flows.ppr import schedule_district
    from pprflow.models.tables import Meeting, RunRequest

    request = as_user("admin@ppr.example", schedule_district)
    first = schedule_district(district="Nord", start=MONDAY, count=2, today=MONDAY, request_id=request,
                              return_state=True)
    assert first.is_completed(), first
    with Session(flow_env) as session:
        claimed = session.get(RunRequest, request)
        assert claimed is not None and claimed.flow_run_id == str(first.state_details.flow_run_id)
        meetings = session.exec(select(func.count()).select_from(Meeting)).one()
    assert meetings == 2
    again = schedule_district(district="Nord", start=MONDAY + dt.timedelta(days=28), count=1, today=MONDAY,
                              request_id=request, return_state=True)
    assert again.is_failed() and again.name == "Afvist" and "brugt af en anden kørsel" in (again.message or "")
    with Session(flow_env) as session:
        assert session.exec(select(func.count()).select_from(Meeting)).one() == meetings


def test_a_request_for_one_flow_does_not_start_another_PRIV_4(flow_env) -> None:
    from pprflow.flows.ppr import assign_district_case, schedule_district

    request = as_user("admin@ppr.example", schedule_district)
    state = assign_district_case(case_id=1, to_email="karin@ppr.example", today=MONDAY, request_id=request,
                                 return_state=True)
    assert state.is_failed() and state.name == "Afvist"


def test_a_scheduled_job_acts_as_its_named_system_job(flow_env) -> None:
    """No request: a job runs as its system job (models/access.py: runs jobs, reads no case)."""
    from sqlmodel import Session, select

    from pprflow.deployments.scheduled import MORNING_SWEEP_JOB, morning_sweep
    from pprflow.models.tables import AuditEvent

    assert MORNING_SWEEP_JOB == "system:morgengennemgang"
    state = morning_sweep(today=MONDAY, return_state=True)
    assert not state.is_failed() or state.name != "Afvist", state.message
    with Session(flow_env) as session:
        actors = set(session.exec(select(AuditEvent.actor)).all())
    assert not {a for a in actors if not a.startswith("system:")}, actors
