"""Real flow runs on the session's Prefect server: intake, district meetings, assignment, KV, sweep.

Each flow is run twice where Prefect's scheduler could start it twice (#17508, #17703, #18894):
the database ends the same as after one run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pprflow.models.errors import RuleViolation
from pprflow.models.rules_kv import KVTopicIn
from pprflow.models.tables import Case, Deadline, KVTopic, Meeting, OutboxMessage
from tests import referral_data as rd
from tests.flows import flow_env as env_fixtures
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env  # the fixture: real flow runs against this test's database
D = dt.date
MONDAY = D(2026, 11, 23)


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_referral_intake_flow_opens_one_case_even_when_run_twice_PATH_1(flow_env) -> None:
    from pprflow.flows.intake import referral_intake
    from pprflow.flows.ppr import schedule_district

    schedule_district(district="Nord", start=MONDAY, count=2,
                      request_id=as_user("admin@ppr.example", schedule_district), today=MONDAY)
    first = referral_intake(rd.referral(), request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    second = referral_intake(rd.referral(),
                             request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    assert first.case_id == second.case_id and second.already_submitted
    assert first.district_meeting == D(2026, 11, 26)
    assert count(flow_env, Case) == 1 and count(flow_env, OutboxMessage) == 2


def test_referral_intake_flow_refuses_without_storing_PATH_4(flow_env) -> None:
    from pprflow.flows.intake import referral_intake

    with pytest.raises(RuleViolation) as caught:
        referral_intake(rd.referral(consent=None),
                        request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    assert caught.value.rule_id == "PATH-4"
    assert count(flow_env, Case) == 0 and count(flow_env, OutboxMessage) == 0


def test_district_flows_schedule_assign_and_prepare_twice_safely_CAL_5_PATH_4(flow_env) -> None:
    from pprflow.flows.intake import referral_intake
    from pprflow.flows.ppr import assign_district_case, prepare_district_meetings, schedule_district

    for _ in range(2):
        schedule_district(district="Nord", start=MONDAY, count=2,
                          request_id=as_user("admin@ppr.example", schedule_district), today=MONDAY)
    assert count(flow_env, Meeting) == 2
    case = referral_intake(rd.referral("ppr_learning_environment"),
                           request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    for _ in range(2):
        prepare_district_meetings(today=D(2026, 11, 25))
    for _ in range(2):
        assign_district_case(case_id=case.case_id, to_email="karin@ppr.example",
                             request_id=as_user("admin@ppr.example", assign_district_case),
                             today=D(2026, 11, 26))
    with Session(flow_env) as session:
        templates = [m.template for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()]
        assert templates == ["ppr_request", "receipt", "district_case_list", "assignment"]
        assert session.exec(select(Deadline).where(Deadline.kind == "startup_meeting_reminder")).one()


def test_kv_flows_schedule_submit_and_cycle_twice_safely_CAL_3_CAL_4_KV_1(flow_env) -> None:
    from pprflow.flows.kv import kv_cycle, kv_submit_topic, schedule_kv

    for _ in range(2):
        schedule_kv(institution="Skovbakkeskolen", start=D(2026, 12, 1), count=2, leader_email="lp@skovbakke.example",
                    kind="school", district="Nord",
                        request_id=as_user("admin@ppr.example", schedule_kv))  # a new school: administrators
    topic = KVTopicIn(institution="Skovbakkeskolen", session_date=D(2026, 12, 1), text="Uro i overgangene")
    for _ in range(2):
        kv_submit_topic(topic=topic, request_id=as_user("lp@skovbakke.example", kv_submit_topic), today=D(2026, 11, 24))
    with pytest.raises(RuleViolation) as caught:
        kv_submit_topic(topic=topic, request_id=as_user("lp@skovbakke.example", kv_submit_topic), today=D(2026, 11, 27))
    assert caught.value.rule_id == "CAL-3"
    for _ in range(2):
        kv_cycle(today=D(2026, 11, 30))
    assert count(flow_env, KVTopic) == 1
    with Session(flow_env) as session:
        dates = session.exec(select(Meeting.date).where(Meeting.kind == "kv").order_by(Meeting.date)).all()
        assert len(dates) == len(set(dates)) and dates[0] == D(2026, 12, 1) and len(dates) >= 6


def test_daily_sweep_flow_twice_queues_nothing_new(flow_env) -> None:
    from pprflow.flows.intake import referral_intake
    from pprflow.flows.ppr import schedule_district
    from pprflow.flows.sweep import daily_sweep

    schedule_district(district="Nord", start=MONDAY, count=1,
                      request_id=as_user("admin@ppr.example", schedule_district), today=MONDAY)
    referral_intake(rd.referral(), request_id=as_user("sofie@skovbakke.example", referral_intake), today=MONDAY)
    first = daily_sweep(today=D(2026, 11, 25))
    second = daily_sweep(today=D(2026, 11, 25))
    assert first["queued"] == 1 and first["handled"] == {"district_case_list": 1}
    assert second["queued"] == 0



def _flow_runs(flow_name: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                         sort=FlowRunSort.ID_DESC, limit=200))


def test_cli_runs_the_intake_and_sweep_as_tracked_flow_runs_when_a_server_is_configured(
        flow_env, monkeypatch, sqlite_url, capsys) -> None:
    """With PREFECT_API_URL set, `pprflow referral submit` and `pprflow sweep` go through the flows."""
    import json

    from prefect.settings import PREFECT_API_URL

    from pprflow.cli import main
    from pprflow.cli.context import STATE

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setattr(STATE, "profile_name", None)
    intakes, sweeps = _flow_runs("henvendelse-modtag"), _flow_runs("daglig-gennemgang")
    main(["--db", sqlite_url, "--as", "sofie@skovbakke.example", "referral", "submit",
          str(rd.EXAMPLES / "ppr_learning_environment.json"), "--today", "2026-11-23"])
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "open" and out["coordinator"] == "peter.lund@noerremark.example"
    main(["--db", sqlite_url, "sweep", "--today", "2026-11-23"])
    assert json.loads(capsys.readouterr().out)["today"] == "2026-11-23"
    assert _flow_runs("henvendelse-modtag") == intakes + 1 and _flow_runs("daglig-gennemgang") == sweeps + 1
    assert count(flow_env, Case) == 1
