"""Consent (samtykke): given in writing (LAW-3) and withdrawable at any time (CONS-1, LAW-3 stk. 4).

Forvaltningsloven §28: express, written, from the holders of parental authority, stating the kinds
of information, the recipients and the purpose. After withdrawal no information about the child is
exchanged with partners on that consent: their queued messages are cancelled (audited), they drop
off future agendas and minutes, and the outbox refuses anything new on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from pprflow.models.access import Perm
from pprflow.models.errors import InvalidInput, NotFound, RuleViolation
from pprflow.models.referral import ConsentIn
from pprflow.models.tables import Case, CaseParty, Consent, OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import (
    active_consents,
    base_context,
    case_context,
    get_case,
    parties,
    person_name,
    role_label,
)
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import cancel_pending, queue_message


def check_given_by_parents(case_parents: list[CaseParty], given_by: list[str]) -> None:
    """LAW-3: consent is given by the holder(s) of parental authority: when the case names its parents,
    at least one of the names on the consent is one of them."""
    if not case_parents:
        return
    names = {p.name.strip().lower() for p in case_parents}
    if not any(g.strip().lower() in names for g in given_by):
        raise RuleViolation(
            "LAW-3", "the consent must be given by the holder(s) of parental authority on the case: "
            f"given_by names none of the case's {len(case_parents)} parent(s)")


def give_consent(*, ctx: Ctx, case_id: int, data: ConsentIn, today: dt.date) -> dict[str, Any]:
    """`pprflow consent give CASE --file consent.json`: record a written consent (LAW-3). Twice is once."""
    if data.date > today:
        raise InvalidInput(f"the consent date {data.date.isoformat()} is in the future", rule_id="LAW-3")
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CONSENT_GIVE, case=case, what="consent give")  # PRIV-4
        check_given_by_parents([p for p in parties(session, case_id) if p.is_parent], list(data.given_by))
        for consent in active_consents(session, case_id):
            if (consent.given_on, consent.given_by, consent.purpose, consent.recipients, consent.information) == (
                    data.date, list(data.given_by), data.purpose, list(data.recipients), data.information):
                return _consent_public(consent, created=False)
        consent = Consent(case_id=case.id, given_by=list(data.given_by), given_on=data.date,
                          information=data.information, recipients=list(data.recipients), purpose=data.purpose)
        session.add(consent)
        session.flush()
        audit.record(session, actor=ctx.actor, action="create", entity="consent", entity_id=consent.id,
                     case_id=case.id, reason="LAW-3",
                     detail={"given_on": data.date.isoformat(), "recipients": list(data.recipients)})
        case.last_activity_at = utcnow()
        session.add(case)
        session.commit()
        return _consent_public(consent, created=True)


def _consent_public(consent: Consent, *, created: bool) -> dict[str, Any]:
    return {"consent_id": consent.id, "case_id": consent.case_id, "given_on": consent.given_on.isoformat(),
            "recipients": consent.recipients, "purpose": consent.purpose, "created": created,
            "withdrawn": consent.withdrawn_at is not None, "rule_id": "LAW-3"}


def withdraw_consent(*, ctx: Ctx, case_id: int, consent_id: int | None = None) -> dict[str, Any]:
    """`pprflow consent withdraw CASE [--consent ID]` (CONS-1, LAW-3 stk. 4): mark withdrawn, cancel what is
    queued for partners on it (audited), stop sharing on it and tell the coordinator. Without --consent,
    every active consent of the case is withdrawn. Twice is once."""
    profile = ctx.profile
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        authorize(session, ctx.actor, Perm.CONSENT_WITHDRAW, case=case, what="consent withdraw")  # PRIV-4
        if consent_id is not None:
            consent = session.get(Consent, consent_id)
            if consent is None or consent.case_id != case_id:
                raise NotFound(f"consent {consent_id} is not a consent on case {case_id}", rule_id="CONS-1")
            if consent.withdrawn_at is not None:
                return {"case_id": case_id, "withdrawn": [], "already_withdrawn": [consent_id],
                        "cancelled_messages": 0, "rule_id": "CONS-1"}
            targets = [consent]
        else:
            targets = active_consents(session, case_id)
            if not targets:
                raise NotFound(f"case {case_id} has no active consent to withdraw", rule_id="CONS-1")
        cancelled = 0
        messages: list[int] = []
        for consent in targets:
            consent.withdrawn_at = utcnow()
            session.add(consent)
            audit.record(session, actor=ctx.actor, action="change", entity="consent", entity_id=consent.id,
                         case_id=case_id, reason="CONS-1", detail={"withdrawn": True})
            on_consent = [p for p in parties(session, case_id) if p.consent_id == consent.id]
            addresses = {p.email.strip().lower() for p in on_consent}
            cancelled += len(cancel_pending(session, case_id=case_id, reason="CONS-1", actor=ctx.actor,
                                            where=_shared_on(consent.id, addresses)))
            message = _tell_coordinator(session, case, consent, on_consent, profile=profile, actor=ctx.actor)
            if message is not None:
                messages.append(message)
        case.last_activity_at = utcnow()
        session.add(case)
        session.commit()
        return {"case_id": case_id, "withdrawn": [c.id for c in targets], "already_withdrawn": [],
                "cancelled_messages": cancelled, "messages": messages, "rule_id": "CONS-1"}


def _shared_on(consent_id: int | None, addresses: set[str]) -> Callable[[OutboxMessage], bool]:
    """CONS-1: a message shared on the consent, or to a partner who joined on it."""

    def matches(message: OutboxMessage) -> bool:
        return message.consent_id == consent_id or message.to.strip().lower() in addresses

    return matches


def _tell_coordinator(session: Session, case: Case, consent: Consent, on_consent: list[CaseParty], *,
                      profile: Any, actor: str) -> int | None:
    """CONS-1: the coordinator (tovholder) learns that nothing more may be shared on the consent."""
    partners = [f"{p.name} ({role_label(p.role)})" for p in on_consent] or list(consent.recipients)
    context = {
        **base_context(profile, recipient_name=person_name(session, case.coordinator_email, case_id=case.id)),
        "case": case_context(session, case, profile),
        "withdrawn_at": consent.withdrawn_at,
        "consent_given_on": consent.given_on,
        "consent_purpose": consent.purpose,
        "partners": partners,
        "link": None,
    }
    message = queue_message(session, kind="consent_withdrawn", to=case.coordinator_email, context=context,
                            serves=f"consent:{consent.id}:withdrawn", sender=profile.sender, case=case, actor=actor)
    return message.id if message is not None else None
