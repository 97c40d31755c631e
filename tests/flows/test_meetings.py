"""Meeting flows as real flow runs on the session's Prefect server (CAL-2, MEET-2, LVL-4, PATH-8)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.errors import RuleViolation
from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput
from pprflow.models.tables import Meeting, OutboxMessage
from tests.factories import case_with_parents
from tests.support.acting import as_user

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

pytestmark = pytest.mark.prefect
LEADER_IN_ENV = "leder@skole.example"  # a known leader (tests.factories.directory)



def test_plan_send_and_minute_a_meeting_as_flow_runs_twice_safe_CAL_2_MEET_2(env: Engine) -> None:
    from pprflow.flows.meetings import meeting_minutes, plan_meeting, send_meeting_agenda

    with Session(env) as session:
        case_id = case_with_parents(session, level=3).id or 0
        session.commit()
    data = MeetingInput(case_id=case_id, kind="network", level=3, date=dt.date(2026, 12, 10),
                        **PLACE)
    planned = plan_meeting(data=data, today=dt.date(2026, 11, 23),
                           request_id=as_user("leder@skole.example", plan_meeting))
    again = plan_meeting(data=data, today=dt.date(2026, 11, 23),
                         request_id=as_user("leder@skole.example", plan_meeting))
    assert planned["agenda_deadline"] == "2026-12-03" and again["meeting_id"] == planned["meeting_id"]
    sent = send_meeting_agenda(meeting_id=planned["meeting_id"], today=dt.date(2026, 11, 24),
                               request_id=as_user(LEADER_IN_ENV, send_meeting_agenda))
    resent = send_meeting_agenda(meeting_id=planned["meeting_id"], today=dt.date(2026, 11, 24),
                                 request_id=as_user(LEADER_IN_ENV, send_meeting_agenda))
    assert len(sent["messages"]) == 2 and resent["messages"] == sent["messages"], "never twice"
    minutes = MinutesInput.model_validate({"actions": [{"text": "Fast voksen", "responsible": "laerer@skole.example"}]})
    recorded = meeting_minutes(meeting_id=planned["meeting_id"], data=minutes, today=dt.date(2026, 12, 10),
                               request_id=as_user(LEADER_IN_ENV, meeting_minutes))
    assert len(recorded["actions"]) == 1
    with Session(env) as session:
        assert len(session.exec(select(Meeting)).all()) == 1
        assert len(session.exec(select(OutboxMessage)).all()) == 4  # 2 agendas + 2 minutes


def test_second_level3_meeting_flow_refused_without_consent_and_partner_needs_consent_LVL_4_PATH_8(
        env: Engine) -> None:
    from pprflow.flows.meetings import add_case_partner, plan_meeting

    with Session(env) as session:
        case_id = case_with_parents(session, level=3).id or 0
        session.commit()
    plan_meeting(data=MeetingInput(case_id=case_id, kind="network", level=3, date=dt.date(2026, 12, 10),
                        **PLACE),
                 today=dt.date(2026, 11, 23), request_id=as_user(LEADER_IN_ENV, plan_meeting))
    with pytest.raises(RuleViolation, match="consent"):
        plan_meeting(data=MeetingInput(case_id=case_id, kind="network", level=3, date=dt.date(2027, 1, 14),
                                       **PLACE),
                     today=dt.date(2026, 11, 23), request_id=as_user(LEADER_IN_ENV, plan_meeting))
    with pytest.raises(RuleViolation) as err:
        add_case_partner(data=PartnerInput(case_id=case_id, name="SSP", email="ssp@randers.example", role="ssp"),
                         request_id=as_user(LEADER_IN_ENV, add_case_partner))
    assert err.value.rule_id == "PATH-8"
