"""ESC-1 in the outbox, each safeguard on its own (found by scripts/mutation.sh esc1: removing the parent's
recognition by address, or the re-check at delivery, left the other tests green).

- `parent_emails` is exactly this case's parents, case-folded: not another case's, not staff;
- at delivery a recipient is recognised as a parent by address, whatever the row's `to_is_parent` says
  and however the address is written;
- delivery re-checks: a message queued before the abuse report is cancelled when its turn comes, even
  if nothing cancelled it at the report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.referral import parse_referral
from pprflow.models.tables import Case, CaseParty, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.outbox import deliver_due, parent_emails, queue_message
from pprflow.tasks.transports.base import OutgoingMail
from pprflow.templates.catalogue import MESSAGE_KINDS
from tests import referral_data as rd
from tests.tasks.test_delivery_throttle import Recording

TODAY = dt.date(2026, 11, 16)


def _case(ctx: Ctx, mother: str, father: str = "jonas.berg@hjem.example") -> int:
    """A case whose two parents (Hanne and Jonas Berg, who gave consent) have these addresses."""
    data: dict[str, Any] = rd.data()
    data["parents"] = [{"name": "Hanne Berg", "email": mother}, {"name": "Jonas Berg", "email": father}]
    # Each case its own child: ESC-1 recognises the same child across cases (pseudonym + birth year + school).
    data["child"] = {**data["child"], "pseudonym": f"Elev {mother.split('@')[0].title()}"}
    return submit_referral(ctx, parse_referral(data), today=TODAY).case_id


def _queue(ctx: Ctx, case_id: int, to: str, serves: str) -> OutboxMessage:
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = session.get(Case, case_id)
        message = queue_message(session, kind="network_agenda", to=to, case=case, serves=serves,
                                context=MESSAGE_KINDS["network_agenda"].example_context(), sender="ppr@vejle.dk")
        assert message is not None
        session.commit()
        return message


def _confidential(engine: Engine, case_id: int) -> None:
    """The case's flag as the abuse report sets it, without the report's own cancelling (to test the re-check)."""
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.confidential_from_parents = True
        session.add(case)
        session.commit()


def test_parent_emails_are_exactly_this_cases_parents_case_folded_ESC_1(ctx: Ctx) -> None:
    ours = _case(ctx, "Hanne.Berg@HJEM.example")
    theirs = _case(ctx, "anden@hjem.example", "anden2@hjem.example")
    with Session(ctx.engine) as session:
        session.add(CaseParty(case_id=ours, name="Kari Lærer", email="kari@skole.example", role="teacher"))
        session.commit()
        assert parent_emails(session, ours) == {"hanne.berg@hjem.example", "jonas.berg@hjem.example"}
        assert parent_emails(session, theirs) == {"anden@hjem.example", "anden2@hjem.example"}


def test_at_delivery_a_parent_is_recognised_by_address_however_written_ESC_1(ctx: Ctx) -> None:
    case_id = _case(ctx, "hanne.berg@hjem.example")
    _case(ctx, "kari@skole.example", "anden@hjem.example")  # a parent, but of another case
    # Queued to a member of staff; later the same address is registered as a parent on this case.
    message = _queue(ctx, case_id, to=" Kari@Skole.EXAMPLE ", serves="esc1:address")
    assert message.to_is_parent is False
    with Session(ctx.engine) as session:
        session.add(CaseParty(case_id=case_id, name="Kari", email="kari@skole.example", role="parent",
                              is_parent=True))
        session.commit()
    _confidential(ctx.engine, case_id)
    transport = Recording()
    report = deliver_due(ctx.engine, transport, only=[message.id or 0])
    assert report.cancelled == [message.id] and report.sent == [] and transport.sent == []
    with Session(ctx.engine) as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None and row.status == "cancelled" and row.cancelled_reason == "ESC-1"


def test_delivery_re_checks_a_message_queued_before_the_report_ESC_1(ctx: Ctx) -> None:
    case_id = _case(ctx, "hanne.berg@hjem.example")
    to_parent = _queue(ctx, case_id, to="hanne.berg@hjem.example", serves="esc1:recheck")
    to_staff = _queue(ctx, case_id, to="kari@skole.example", serves="esc1:recheck")
    assert to_parent.to_is_parent is True and to_staff.to_is_parent is False
    _confidential(ctx.engine, case_id)  # nothing cancelled it at the report: delivery must
    transport = Recording()
    report = deliver_due(ctx.engine, transport, only=[to_parent.id or 0, to_staff.id or 0])
    assert report.cancelled == [to_parent.id] and report.sent == [to_staff.id]
    sent: list[OutgoingMail] = transport.sent
    assert all("hjem.example" not in m.to.lower() and not any("hjem.example" in c.lower() for c in m.cc)
               for m in sent), "nothing reached a parent"


def test_queueing_to_a_parent_of_a_confidential_case_is_suppressed_and_audited_with_why_ESC_1(ctx: Ctx) -> None:
    from sqlmodel import col, select

    from pprflow.models.tables import AuditEvent

    case_id = _case(ctx, "hanne.berg@hjem.example")
    _confidential(ctx.engine, case_id)
    with Session(ctx.engine) as session:
        message = queue_message(session, kind="network_agenda", to="Hanne.Berg@hjem.example",
                                case=session.get(Case, case_id), serves="esc1:queue", sender="ppr@vejle.dk",
                                context=MESSAGE_KINDS["network_agenda"].example_context())
        session.commit()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "suppress")
                             .order_by(col(AuditEvent.id).desc())).first()
    assert message is None
    assert audit is not None and audit.reason == "ESC-1" and audit.case_id == case_id
    assert audit.detail == {"kind": "network_agenda", "serves": "esc1:queue",
                            "why": "suspected abuse: the parents are not informed"}


def test_after_consent_is_withdrawn_queueing_is_suppressed_and_delivery_cancels_naming_CONS_1(ctx: Ctx) -> None:
    from sqlmodel import col, select

    from pprflow.models.tables import AuditEvent, Consent
    from pprflow.models.types import utcnow

    case_id = _case(ctx, "hanne.berg@hjem.example")
    with Session(ctx.engine, expire_on_commit=False) as session:
        consent = session.exec(select(Consent).where(Consent.case_id == case_id)).one()
        pending = queue_message(session, kind="network_agenda", to="partner@sund.example", consent_id=consent.id,
                                case=session.get(Case, case_id), serves="cons1:before", sender="ppr@vejle.dk",
                                context=MESSAGE_KINDS["network_agenda"].example_context())
        assert pending is not None
        consent.withdrawn_at = utcnow()
        session.add(consent)
        session.commit()
        refused = queue_message(session, kind="network_agenda", to="partner@sund.example", consent_id=consent.id,
                                case=session.get(Case, case_id), serves="cons1:after", sender="ppr@vejle.dk",
                                context=MESSAGE_KINDS["network_agenda"].example_context())
        session.commit()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "suppress")
                             .order_by(col(AuditEvent.id).desc())).first()
    assert refused is None
    assert audit is not None and audit.reason == "CONS-1"
    assert audit.detail["why"] == "consent withdrawn: nothing more is shared on it"
    report = deliver_due(ctx.engine, Recording(), only=[pending.id or 0])
    assert report.cancelled == [pending.id] and report.sent == []
    with Session(ctx.engine) as session:
        row = session.get(OutboxMessage, pending.id)
        assert row is not None and row.cancelled_reason == "CONS-1"
