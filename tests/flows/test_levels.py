"""Level, review and investigation flows as real flow runs (LVL-1, LVL-5, CAL-6, CAL-7)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.errors import RuleViolation
from pprflow.models.rules_levels import LevelChangeInput
from tests.factories import case_with_parents
from tests.support.acting import as_user

pytestmark = pytest.mark.prefect
LEADER_IN_ENV = "leder@skole.example"  # a known leader (tests.factories.directory)



def test_escalate_to_4_review_and_investigation_as_flow_runs_LVL_1_CAL_6_CAL_7(env: Engine) -> None:
    from pprflow.flows.levels import change_case_level, investigation_deadline, review_case

    with Session(env) as session:
        case_id = case_with_parents(session, level=3).id or 0
        session.commit()
    data = LevelChangeInput(case_id=case_id, sphere="institution", to=4)
    up = change_case_level(data=data, direction="up", today=dt.date(2026, 8, 31),
                           request_id=as_user("leder@skole.example", change_case_level))
    twice = change_case_level(data=data, direction="up", today=dt.date(2026, 8, 31),
                              request_id=as_user(LEADER_IN_ENV, change_case_level))
    assert up["review_due"] == "2027-02-28" and twice["changed"] is False
    reviewed = review_case(case_id=case_id, review_date=dt.date(2027, 2, 20), today=dt.date(2027, 2, 22),
                           request_id=as_user(LEADER_IN_ENV, review_case))
    assert reviewed["next_review_due"] == "2027-08-20"
    due = investigation_deadline(case_id=case_id, aware_on=dt.date(2027, 1, 4), today=dt.date(2027, 1, 5),
                                 request_id=as_user(LEADER_IN_ENV, investigation_deadline))
    assert due["investigation_due"] == "2027-05-04"


def test_level_5_flow_refused_without_an_outposted_social_worker_LVL_5(env: Engine) -> None:
    from pprflow.flows.levels import escalate_case

    with Session(env) as session:
        case = case_with_parents(session, level=1)
        case.level_family = 4
        session.add(case)
        session.commit()
        case_id = case.id or 0
    with pytest.raises(RuleViolation) as err:
        escalate_case(data=LevelChangeInput(case_id=case_id, sphere="family", to=5), today=dt.date(2026, 11, 24),
                      request_id=as_user(LEADER_IN_ENV, escalate_case))
    assert err.value.rule_id == "LVL-5"
