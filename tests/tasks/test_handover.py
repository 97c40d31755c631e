"""Coordinator handover (ROLE-1) and `case show` on the service layer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.errors import RuleViolation
from pprflow.models.tables import Case, OutboxMessage
from pprflow.tasks.abuse import report_abuse
from pprflow.tasks.context import Ctx
from pprflow.tasks.handover import handover, show_case
from tests.factories import case_with_parents

TODAY = dt.date(2026, 12, 11)
PARENTS = {"mor@hjem.example", "far@hjem.example"}



def _case(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=3)
        session.commit()
        return case.id or 0


def test_handover_sets_exactly_one_coordinator_and_informs_everyone_ROLE_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    result = handover(ctx=rctx, case_id=case_id, to_email="laerer@skole.example", today=TODAY)
    assert result["coordinator"] == "laerer@skole.example" and result["changed"] is True
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.coordinator_email == "laerer@skole.example"
        told = {m.to for m in session.exec(select(OutboxMessage).where(
            OutboxMessage.template == "coordinator_handover")).all()}
    # ROLE-1 [003]: everyone on the case, the family included, learns who the coordinator is.
    assert told == {"laerer@skole.example", "leder@skole.example"} | PARENTS
    again = handover(ctx=rctx, case_id=case_id, to_email="laerer@skole.example", today=TODAY)
    assert again["changed"] is False, "running it twice hands over once"


@pytest.mark.parametrize("to", ["a@skole.example, b@skole.example", "a@skole.example b@skole.example", "ingen"])
def test_a_case_has_exactly_one_coordinator_ROLE_1(rctx: Ctx, engine: Engine, to: str) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation) as err:
        handover(ctx=rctx, case_id=case_id, to_email=to, today=TODAY)
    assert err.value.rule_id == "ROLE-1"


def test_a_parent_cannot_be_coordinator_ROLE_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation, match="parent"):
        handover(ctx=rctx, case_id=case_id, to_email="mor@hjem.example", today=TODAY)


def test_handover_under_suspected_abuse_never_addresses_the_parents_ESC_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    report_abuse(ctx=rctx, case_id=case_id, today=TODAY)
    handover(ctx=rctx, case_id=case_id, to_email="laerer@skole.example", today=TODAY)
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert not any(m.to in PARENTS for m in rows)


def test_case_show_reports_levels_coordinator_parties_deadlines_and_the_esc_flag_ROLE_1(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    report_abuse(ctx=rctx, case_id=case_id, today=TODAY)
    shown = show_case(ctx=rctx, case_id=case_id)
    assert shown["levels"] == {"institution": 3, "family": 1}
    assert shown["coordinator"] == "leder@skole.example"
    assert shown["parties"]["parents"] == 2 and shown["parties"]["total"] == 3
    assert shown["confidential_from_parents"] is True
    # LAW-2 + issue 17: one deadline climbs the ladder (leader, then coordinator, then escalation)
    assert [d["kind"] for d in shown["deadlines"]] == ["acknowledgement_overdue"]
    assert "Mor Hansen" not in str(shown), "no parent names needed"
