"""Consent on the service layer: LAW-3 (what a consent holds), CONS-1 (withdrawal stops sharing)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.errors import RuleViolation
from pprflow.models.referral import ConsentIn
from pprflow.models.rules_meetings import PartnerInput
from pprflow.models.tables import Consent, OutboxMessage
from pprflow.tasks.consent import give_consent, withdraw_consent
from pprflow.tasks.context import Ctx
from pprflow.tasks.meetings import add_partner
from pprflow.tasks.outbox import queue_message
from tests.factories import case_with_parents

TODAY = dt.date(2026, 11, 24)
CONSENT = {"given_by": ["Mor Hansen", "Far Hansen"], "date": "2026-11-20", "information": "Skolegang og trivsel",
           "recipients": ["PPR", "Sundhedsplejen"], "purpose": "Netværksmøder om barnets trivsel"}



def _case(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=3)
        session.commit()
        return case.id or 0


@pytest.mark.parametrize("missing", ["given_by", "date", "information", "recipients", "purpose"])
def test_a_consent_states_who_when_what_to_whom_and_why_LAW_3(missing: str) -> None:
    with pytest.raises(ValidationError):
        ConsentIn.model_validate({k: v for k, v in CONSENT.items() if k != missing})
    with pytest.raises(ValidationError):
        ConsentIn.model_validate({**CONSENT, missing: [] if isinstance(CONSENT[missing], list) else ""})


def test_consent_is_given_by_the_holders_of_parental_authority_LAW_3(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    with pytest.raises(RuleViolation) as err:
        give_consent(ctx=rctx, case_id=case_id, data=ConsentIn.model_validate({**CONSENT, "given_by": ["Naboen"]}),
                     today=TODAY)
    assert err.value.rule_id == "LAW-3"
    result = give_consent(ctx=rctx, case_id=case_id, data=ConsentIn.model_validate(CONSENT), today=TODAY)
    again = give_consent(ctx=rctx, case_id=case_id, data=ConsentIn.model_validate(CONSENT), today=TODAY)
    assert again["consent_id"] == result["consent_id"] and again["created"] is False
    with Session(engine) as session:
        stored = session.get(Consent, result["consent_id"])
        assert stored is not None and stored.recipients == ["PPR", "Sundhedsplejen"]


def test_withdrawal_cancels_partner_messages_and_tells_the_coordinator_CONS_1(rctx: Ctx, engine: Engine) -> None:
    from pprflow.templates.catalogue import MESSAGE_KINDS

    case_id = _case(engine)
    consent_id = give_consent(ctx=rctx, case_id=case_id, data=ConsentIn.model_validate(CONSENT),
                              today=TODAY)["consent_id"]
    add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email="hs@sund.example",
                                            role="health_visitor", consent_id=consent_id))
    with Session(engine) as session:
        from pprflow.models.tables import Case

        case = session.get(Case, case_id)
        queue_message(session, kind="network_agenda", to="hs@sund.example", serves="meeting:7:agenda",
                      context=MESSAGE_KINDS["network_agenda"].example_context(), sender="x@randers.example",
                      case=case, consent_id=consent_id)
        session.commit()
    result = withdraw_consent(ctx=rctx, case_id=case_id)
    assert result["withdrawn"] == [consent_id] and result["cancelled_messages"] == 1
    with Session(engine) as session:
        partner = session.exec(select(OutboxMessage).where(OutboxMessage.to == "hs@sund.example")).one()
        told = session.exec(select(OutboxMessage).where(OutboxMessage.template == "consent_withdrawn")).one()
        assert partner.status == "cancelled" and partner.cancelled_reason == "CONS-1"
        assert told.to == "leder@skole.example" and "Hanne Sundhed" in told.body_text
        case = session.get(Case, case_id)
        later = queue_message(session, kind="network_agenda", to="hs@sund.example", serves="meeting:8:agenda",
                              context=MESSAGE_KINDS["network_agenda"].example_context(),
                              sender="x@randers.example", case=case, consent_id=consent_id)
        assert later is None, "CONS-1: nothing more is shared on it"
    again = withdraw_consent(ctx=rctx, case_id=case_id, consent_id=consent_id)
    assert again["already_withdrawn"] == [consent_id]
    with pytest.raises(RuleViolation) as err:
        add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="SSP", email="ssp@randers.example",
                                                role="ssp", consent_id=consent_id))
    assert err.value.rule_id == "CONS-1"


def test_a_partner_cannot_join_in_a_leader_role_and_become_the_cases_leader_PRIV_3_PATH_8(
        rctx: Ctx, engine: Engine) -> None:
    """PRIV-3/PATH-8: the old school's leader added as a partner "pedagogical_leader" was taken for the case's leader
    (`institution_leader` looks at the parties first): every leader reminder and the meetings went to another
    school. A partner joins in a partner role; the leader comes from the staff directory."""
    from pprflow.models.errors import InvalidInput
    from pprflow.models.tables import Case
    from pprflow.tasks.casefile import institution_leader

    case_id = _case(engine)
    consent_id = give_consent(ctx=rctx, case_id=case_id, data=ConsentIn.model_validate(CONSENT),
                              today=TODAY)["consent_id"]
    with Session(engine) as session:
        before = institution_leader(session, session.get(Case, case_id))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Gammel Leder", email="leder@gammel.example",
                                                role="pedagogical_leader", consent_id=consent_id))
    with Session(engine) as session:
        assert institution_leader(session, session.get(Case, case_id)) == before  # type: ignore[arg-type]
