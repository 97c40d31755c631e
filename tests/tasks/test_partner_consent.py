"""CONS-1, LAW-3: a partner joins a case only on a consent that NAMES them (by name, e-mail or function), and loses
access and mail the moment that consent is withdrawn. The service rule (models/rules_meetings.py
`check_consent_names_partner`, tasks/meetings.py `add_partner`) is what the CLI, the flow and the web app call."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.access import Perm
from pprflow.models.errors import AccessDenied, RuleViolation
from pprflow.models.messages import danish_line
from pprflow.models.referral import ConsentIn
from pprflow.models.rules_meetings import PartnerInput, consent_names_partner
from pprflow.models.tables import CaseParty, OutboxMessage
from pprflow.tasks.access import authorize
from pprflow.tasks.consent import give_consent, withdraw_consent
from pprflow.tasks.context import Ctx
from pprflow.tasks.meetings import add_partner
from tests.factories import case_with_parents, staff

TODAY = dt.date(2026, 11, 23)


def _case(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=3)
        session.commit()
        return case.id or 0


def _consent(ctx: Ctx, case_id: int, recipients: list[str]) -> int:
    data = ConsentIn(given_by=["Mor Hansen"], date=TODAY, information="Skolegang og trivsel", recipients=recipients,
                     purpose="Netværksmøder om barnets trivsel")
    return int(give_consent(ctx=ctx, case_id=case_id, data=data, today=TODAY)["consent_id"])


def test_the_consent_names_the_partner_by_name_email_or_function_CONS_1_LAW_3() -> None:
    assert consent_names_partner(["Sundhedsplejen"], name="Hanne", email="hs@sund.example", role="health_visitor")
    assert consent_names_partner(["sundhedsplejerske Hanne"], name="X", email="x@y.example", role="health_visitor")
    assert consent_names_partner(["PPR", "Hanne  Sundhed"], name="hanne sundhed", email="hs@s.example", role="ssp")
    assert consent_names_partner(["hs@sund.example"], name="H", email="HS@sund.example", role="ssp")
    assert not consent_names_partner(["PPR Vejle", "Skovbakkeskolen"], name="Hanne", email="hs@sund.example",
                                     role="health_visitor")
    assert not consent_names_partner(["Sundhedsplejen"], name="SSP", email="ssp@k.example", role="ssp")
    assert not consent_names_partner(["Passpolitiet"], name="Ole", email="o@k.example", role="ssp"), "word start"
    assert not consent_names_partner(["Annette Hansen"], name="Anne", email="a@k.example", role="uu"), "whole name"


def test_a_partner_on_a_consent_that_does_not_name_them_is_refused_and_nothing_stored_CONS_1_LAW_3(
        rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    consent_id = _consent(rctx, case_id, ["PPR Randers", "Skovbakkeskolen"])
    with pytest.raises(RuleViolation) as err:
        add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email="hs@sund.example",
                                                role="health_visitor", consent_id=consent_id))
    assert err.value.rule_id == "LAW-3" and "does not name" in err.value.message
    line = danish_line(err.value)
    assert line.startswith("Samtykket nævner ikke samarbejdspartneren") and "(LAW-3)" in line
    with Session(engine) as session:
        assert session.exec(select(CaseParty).where(CaseParty.email == "hs@sund.example")).all() == []
    named = _consent(rctx, case_id, ["PPR Randers", "Sundhedsplejen"])
    added = add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email="hs@sund.example",
                                                    role="health_visitor", consent_id=named))
    assert added["consent_id"] == named and added["created"] is True


def test_withdrawal_takes_the_partners_access_and_mail_CONS_1(rctx: Ctx, engine: Engine) -> None:
    case_id = _case(engine)
    partner = "hs@sund.example"
    with Session(engine) as session:
        staff(session, partner, "health_visitor", name="Hanne Sundhed")
        session.commit()
    consent_id = _consent(rctx, case_id, ["Sundhedsplejen"])
    add_partner(ctx=rctx, data=PartnerInput(case_id=case_id, name="Hanne Sundhed", email=partner,
                                            role="health_visitor", consent_id=consent_id))
    with Session(engine) as session:
        authorize(session, partner, Perm.CASE_READ, case=case_id, what="test")  # on the case while consent stands
    withdraw_consent(ctx=rctx, case_id=case_id, consent_id=consent_id)
    with Session(engine) as session, pytest.raises(AccessDenied):
        authorize(session, partner, Perm.CASE_READ, case=case_id, what="test")
    from pprflow.models.tables import Case
    from pprflow.tasks.casefile import case_recipients

    with Session(engine) as session:
        recipients = {r.email for r in case_recipients(session, session.get(Case, case_id))}  # type: ignore[arg-type]
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.to == partner,
                                                           OutboxMessage.status == "pending")).all()
    assert partner not in recipients and pending == [], "CONS-1: no agenda or minutes reaches them any more"
