"""ESC-1/ESC-2/CONS-1 in tasks/outbox.py, function by function, with exact answers (issue 15: found by
`scripts/mutation.sh esc1`; each test kills mutants the service-level tests let through).

The rows are built directly (no referral flow), so each answer can be compared whole: which cases are the
same child's, which addresses are a protected parent's, which rule suppresses a message and why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.tables import Case, CaseParty, Child, Consent, Institution
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import (
    ABUSE_NOTIFICATION,
    Suppressed,
    is_confidential,
    is_protected_parent,
    parent_emails,
    protected_among,
    same_child_case_ids,
    suppression,
)

ESC1 = Suppressed("ESC-1", "suspected abuse: the parents are not informed")
CONS1 = Suppressed("CONS-1", "consent withdrawn: nothing more is shared on it")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def _institution(session: Session, name: str) -> int:
    row = Institution(name=name, kind="school", district="Nord")
    session.add(row)
    session.flush()
    return row.id or 0


def _case(session: Session, institution_id: int, child: Child | None, *parents: str,
          confidential: bool = False, staff: tuple[str, ...] = ()) -> int:
    if child is not None and child.id is None:
        session.add(child)
        session.flush()
    case = Case(pathway="ppr_individual", institution_id=institution_id,
                child_id=child.id if child is not None else None, submitted_by_email="laerer@skole.example",
                coordinator_email="leder@skole.example", confidential_from_parents=confidential)
    session.add(case)
    session.flush()
    for email in parents:
        session.add(CaseParty(case_id=case.id or 0, name="Forælder", email=email, role="parent", is_parent=True))
    for email in staff:
        session.add(CaseParty(case_id=case.id or 0, name="Lærer", email=email, role="teacher"))
    session.flush()
    return case.id or 0


def _confidential(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    case.confidential_from_parents = True
    session.add(case)
    session.flush()
    return case


def test_the_same_child_is_the_same_row_the_same_pseudonym_and_year_at_the_school_or_a_shared_parent_ESC_1(
        session: Session) -> None:
    school, other_school = _institution(session, "Skovbakkeskolen"), _institution(session, "Engskolen")
    emil = Child(pseudonym="Elev Emil", birth_year=2016)
    ours = _case(session, school, emil, "mor@hjem.example")
    same_row = _case(session, other_school, emil)                                   # same child row
    second_referral = _case(session, school, Child(pseudonym=" elev EMIL ", birth_year=2016))  # same name+year
    other_year = _case(session, school, Child(pseudonym="Elev Emil", birth_year=2017))
    other_school_same_name = _case(session, other_school, Child(pseudonym="Elev Emil", birth_year=2016))
    sibling = _case(session, other_school, Child(pseudonym="Elev Ida", birth_year=2014), "mor@hjem.example")
    staff_only = _case(session, other_school, Child(pseudonym="Elev Bo", birth_year=2015),
                       staff=("mor@hjem.example",))  # the address, but not as a parent
    no_child = _case(session, school, None)
    assert same_child_case_ids(session, [ours]) == {ours, same_row, second_referral, sibling}
    assert same_child_case_ids(session, [no_child]) == {no_child}
    assert same_child_case_ids(session, [no_child, ours]) == {no_child, ours, same_row, second_referral, sibling}
    assert same_child_case_ids(session, [other_year]) == {other_year}
    assert same_child_case_ids(session, [other_school_same_name]) == {other_school_same_name, same_row}
    assert same_child_case_ids(session, [staff_only]) == {staff_only}
    assert same_child_case_ids(session, []) == set()
    assert same_child_case_ids(session, [0]) == set()  # an unsaved case id is nobody's


def test_a_case_is_confidential_when_it_or_another_case_of_the_child_is_ESC_1(session: Session) -> None:
    school, other_school = _institution(session, "Skovbakkeskolen"), _institution(session, "Engskolen")
    emil = Child(pseudonym="Elev Emil", birth_year=2016)
    ours = _case(session, school, emil, "mor@hjem.example")
    same_row = _case(session, other_school, emil)
    unrelated = _case(session, other_school, Child(pseudonym="Elev Ida", birth_year=2014), "anden@hjem.example",
                      confidential=True)
    assert is_confidential(session, None) is False
    assert is_confidential(session, session.get(Case, ours)) is False
    assert is_confidential(session, session.get(Case, unrelated)) is True
    _confidential(session, same_row)
    assert is_confidential(session, session.get(Case, ours)) is True  # through the other case of the child
    assert is_confidential(session, session.get(Case, same_row)) is True
    # A case not stored yet has no other cases: only its own flag counts (not case 1's family, ours here).
    assert ours == 1
    draft = Case(pathway="ppr_individual", institution_id=school, submitted_by_email="laerer@skole.example",
                 coordinator_email="leder@skole.example")
    assert is_confidential(session, draft) is False


def test_parent_emails_span_the_childs_cases_and_nothing_else_ESC_1(session: Session) -> None:
    school = _institution(session, "Skovbakkeskolen")
    emil = Child(pseudonym="Elev Emil", birth_year=2016)
    ours = _case(session, school, emil, "mor@hjem.example", staff=("kari@skole.example",))
    _case(session, school, emil, "far@hjem.example")
    _case(session, school, Child(pseudonym="Elev Ida", birth_year=2014), "anden@hjem.example")
    assert parent_emails(session, ours) == {"mor@hjem.example", "far@hjem.example"}
    assert parent_emails(session, 0) == set()


def test_a_protected_parent_is_this_childs_parent_or_a_parent_of_a_confidential_child_in_any_spelling_ESC_1(
        session: Session) -> None:
    school = _institution(session, "Skovbakkeskolen")
    ours = _case(session, school, Child(pseudonym="Elev Emil", birth_year=2016), "mor@hjem.example",
                 staff=("kari@skole.example",))
    _case(session, school, Child(pseudonym="Elev Ida", birth_year=2014), "ida.mor@hjem.example",
          confidential=True, staff=("lene@skole.example",))
    _case(session, school, Child(pseudonym="Elev Bo", birth_year=2015), "bo.mor@hjem.example")
    assert is_protected_parent(session, ours, "mor@hjem.example") is True          # this child's parent
    assert is_protected_parent(session, ours, " Mor@HJEM.example ") is True
    assert is_protected_parent(session, ours, "Ida.Mor@hjem.example") is True      # a confidential child's parent
    assert is_protected_parent(session, ours, "bo.mor@hjem.example") is False      # another, open child's parent
    assert is_protected_parent(session, ours, "kari@skole.example") is False       # staff on the case
    assert is_protected_parent(session, ours, "lene@skole.example") is False       # staff on the confidential case
    assert is_protected_parent(session, ours, "") is False
    assert is_protected_parent(session, ours, None) is False


def test_protected_among_names_exactly_the_parents_of_confidential_children_ESC_1(session: Session) -> None:
    school = _institution(session, "Skovbakkeskolen")
    ida = _case(session, school, Child(pseudonym="Elev Ida", birth_year=2014), "ida.mor@hjem.example",
                "ida.far@hjem.example", confidential=True, staff=("lene@skole.example",))
    # A parent on an open case and on a confidential one (the second child): protected.
    _case(session, school, Child(pseudonym="Elev Bo", birth_year=2015), "ida.far@hjem.example", "bo.mor@hjem.example")
    _case(session, school, Child(pseudonym="Elev Sif", birth_year=2013), "sif.mor@hjem.example")
    assert protected_among(session, ["Ida.Mor@HJEM.example", " ida.far@hjem.example", "lene@skole.example",
                                     "sif.mor@hjem.example", "ukendt@hjem.example", ""]) == {
        "ida.mor@hjem.example", "ida.far@hjem.example"}
    # Bo shares a parent with Ida: the same family, so Bo's other parent is protected too (ESC-1 follows the child).
    assert protected_among(session, ["bo.mor@hjem.example"]) == {"bo.mor@hjem.example"}
    assert protected_among(session, ["sif.mor@hjem.example", "lene@skole.example"]) == set()
    assert protected_among(session, []) == set()
    assert protected_among(session, [""]) == set()
    assert ida


def test_suppression_names_the_rule_for_each_way_a_parent_or_a_withdrawn_consent_is_reached_ESC_1_CONS_1(
        session: Session) -> None:
    school = _institution(session, "Skovbakkeskolen")
    ours = _case(session, school, Child(pseudonym="Elev Emil", birth_year=2016), "mor@hjem.example")
    open_case = _case(session, school, Child(pseudonym="Elev Bo", birth_year=2015), "bo.mor@hjem.example")
    consent = Consent(case_id=open_case, given_by=["bo.mor@hjem.example"], given_on=utcnow().date(),
                      information="Skoleudtalelse", recipients=["sund@sund.example"], purpose="Samarbejde")
    withdrawn = Consent(case_id=open_case, given_by=["bo.mor@hjem.example"], given_on=utcnow().date(),
                        information="Skoleudtalelse", recipients=["sund@sund.example"], purpose="Samarbejde",
                        withdrawn_at=utcnow())
    session.add(consent)
    session.add(withdrawn)
    session.flush()
    case = session.get(Case, ours)
    bo = session.get(Case, open_case)
    # Before the report: parents may be written to.
    assert suppression(session, case=case, to="mor@hjem.example", is_parent=True, consent_id=None) is None
    _confidential(session, ours)
    assert suppression(session, case=case, to="mor@hjem.example", is_parent=True, consent_id=None) == ESC1
    # A parent the caller names who is not (yet) a party of any case: the flag alone holds the mail.
    assert suppression(session, case=case, to="ny.far@hjem.example", is_parent=True, consent_id=None) == ESC1
    assert suppression(session, case=case, to="ny.far@hjem.example", is_parent=False, consent_id=None) is None
    # The row's flag says "not a parent", the address says otherwise: To, Cc, any spelling, any case or none.
    assert suppression(session, case=case, to=" MOR@hjem.example", is_parent=False, consent_id=None) == ESC1
    assert suppression(session, case=None, to="kari@skole.example", is_parent=False, consent_id=None,
                       cc=["x@skole.example", "Mor@Hjem.Example"]) == ESC1
    assert suppression(session, case=bo, to="mor@hjem.example", is_parent=False, consent_id=None) == ESC1
    # A parent flag on a case that is not confidential suppresses nothing; staff are never suppressed by ESC-1.
    assert suppression(session, case=bo, to="bo.mor@hjem.example", is_parent=True, consent_id=None) is None
    assert suppression(session, case=case, to="kari@skole.example", is_parent=False, consent_id=None) is None
    # ESC-2: the notification itself is held by nothing, even addressed to a protected parent.
    assert suppression(session, case=case, to="mor@hjem.example", is_parent=True, consent_id=None,
                       kind=ABUSE_NOTIFICATION) is None
    assert suppression(session, case=case, to="mor@hjem.example", is_parent=True, consent_id=None,
                       kind="network_agenda") == ESC1
    # CONS-1: a consent that is withdrawn, or gone, shares nothing more; a standing one does not block.
    assert suppression(session, case=bo, to="sund@sund.example", is_parent=False, consent_id=consent.id) is None
    assert suppression(session, case=bo, to="sund@sund.example", is_parent=False, consent_id=withdrawn.id) == CONS1
    assert suppression(session, case=bo, to="sund@sund.example", is_parent=False, consent_id=10_000) == CONS1
    # ESC-1 is named before CONS-1 when both hold.
    assert suppression(session, case=case, to="mor@hjem.example", is_parent=True, consent_id=withdrawn.id) == ESC1


def test_the_refusal_to_cancel_a_notification_says_whether_it_was_sent_and_when_ESC_2() -> None:
    import datetime as dt

    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks.outbox import not_cancellable

    def message(status: str, sent_at: dt.datetime | None = None) -> OutboxMessage:
        return OutboxMessage(id=7, idempotency_key="k", template=ABUSE_NOTIFICATION, sender="ppr@vejle.dk",
                             to="underretning@vejle.dk", subject="s", body_text="t", body_html="h",
                             send_after=utcnow(), status=status, sent_at=sent_at)

    head = "besked 7 er en underretning om mistanke om vold eller overgreb og kan ikke annulleres: "
    assert not_cancellable(message("sent", dt.datetime(2026, 11, 24, 10, 5, tzinfo=dt.UTC))) == (
        head + "underretningen ER sendt 2026-11-24 10:05 UTC")
    assert not_cancellable(message("sent")) == head + "underretningen ER sendt"
    assert not_cancellable(message("pending")) == (
        head + "underretningen er IKKE sendt endnu, men står i kø og sendes straks")
    assert not_cancellable(message("failed")) == (
        head + "underretningen er IKKE sendt endnu, men står i kø og sendes straks")


def _message(session: Session, case_id: int | None, template: str, to: str, status: str = "pending") -> int:
    from pprflow.models.tables import OutboxMessage

    row = OutboxMessage(idempotency_key=f"{template}|{case_id}|{to}|{status}", template=template, case_id=case_id,
                        sender="ppr@vejle.dk", to=to, subject="s", body_text="t", body_html="h",
                        send_after=utcnow(), status=status)
    session.add(row)
    session.flush()
    return row.id or 0


def _audit(session: Session) -> list[tuple[object, ...]]:
    from sqlmodel import col, select

    from pprflow.models.tables import AuditEvent

    return [(e.actor, e.action, e.entity, e.entity_id, e.case_id, e.reason, e.detail)
            for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]


def test_cancelling_changes_only_pending_mail_audited_and_never_the_notification_ESC_2_CONS_1(
        session: Session) -> None:
    from pprflow.models.errors import RuleViolation
    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks.outbox import cancel_message, cancel_pending, not_cancellable

    school = _institution(session, "Skovbakkeskolen")
    case_id = _case(session, school, Child(pseudonym="Elev Emil", birth_year=2016), "mor@hjem.example")
    other = _case(session, school, Child(pseudonym="Elev Ida", birth_year=2014), "ida.mor@hjem.example")
    notification = _message(session, case_id, ABUSE_NOTIFICATION, "underretning@vejle.dk")
    to_parent = _message(session, case_id, "network_agenda", "mor@hjem.example")
    to_partner = _message(session, case_id, "network_agenda", "sund@sund.example")
    sent = _message(session, case_id, "network_agenda", "mor@hjem.example", status="sent")
    elsewhere = _message(session, other, "network_agenda", "ida.mor@hjem.example")
    row = session.get(OutboxMessage, notification)
    assert row is not None
    with pytest.raises(RuleViolation) as refused:
        cancel_message(session, row, reason="by hand", actor="leder@skole.example")
    assert refused.value.rule_id == "ESC-2" and str(refused.value).endswith(not_cancellable(row))
    assert row.status == "pending" and row.cancelled_reason is None
    assert _audit(session) == [("leder@skole.example", "refused", "outboxmessage", str(notification), case_id,
                                "ESC-2", {"cancel": "by hand"})]
    # Pending mail to the parents is cancelled (and audited); sent mail, other cases and the notification are not.
    done = cancel_pending(session, where=lambda m: m.to.endswith("@hjem.example"), case_id=case_id,
                          reason="ESC-1", actor="system:pprflow")
    assert [m.id for m in done] == [to_parent]
    statuses = {i: (m.status, m.cancelled_reason) for i in (notification, to_parent, to_partner, sent, elsewhere)
                if (m := session.get(OutboxMessage, i)) is not None}
    assert statuses == {notification: ("pending", None), to_parent: ("cancelled", "ESC-1"),
                        to_partner: ("pending", None), sent: ("sent", None), elsewhere: ("pending", None)}
    assert _audit(session)[1:] == [("system:pprflow", "change", "outboxmessage", str(to_parent), case_id, "ESC-1",
                                    {"status": "cancelled"})]
    sent_row = session.get(OutboxMessage, sent)
    assert sent_row is not None
    assert cancel_message(session, sent_row, reason="CONS-1", actor="system:pprflow") is False
    assert cancel_pending(session, where=lambda m: True, case_id=case_id, reason="CONS-1",
                          actor="system:pprflow") == [session.get(OutboxMessage, to_partner)]
    assert len(_audit(session)) == 3


def test_queueing_checks_the_recipients_the_notification_has_no_cc_and_staff_mail_never_goes_to_a_parent_ESC_1(
        session: Session) -> None:
    from pprflow.models.errors import RuleViolation
    from pprflow.tasks.outbox import queue_message
    from pprflow.templates.catalogue import MESSAGE_KINDS

    school = _institution(session, "Skovbakkeskolen")
    case = session.get(Case, _case(session, school, Child(pseudonym="Elev Emil", birth_year=2016), "mor@hjem.example"))

    def queue(kind: str, to: str, cc: tuple[str, ...] = (), **extra: object) -> object:
        return queue_message(session, kind=kind, to=to, cc=cc, case=case, serves="exact", sender="ppr@vejle.dk",
                             context=MESSAGE_KINDS[kind].example_context(), **extra)  # type: ignore[arg-type]

    with pytest.raises(RuleViolation) as caught:
        queue(ABUSE_NOTIFICATION, "underretning@vejle.dk", cc=("leder@skole.example",))
    assert (caught.value.rule_id, caught.value.message) == (
        "ESC-1", "the abuse notification goes to the notifications address only, without cc")
    # A staff-only kind to a parent, recognised by address whatever the caller said.
    with pytest.raises(RuleViolation) as caught:
        queue("ppr_request", " Mor@HJEM.example")
    assert (caught.value.rule_id, caught.value.message) == (
        "ESC-1", "message kind 'ppr_request' is for staff only and may not be sent to a parent")
    # Other mail may have a cc; addresses are stored bare and case-folded, the parent flag decided here.
    staff = queue("network_agenda", "Kari@Skole.example", cc=(" Lene@Skole.EXAMPLE",))
    parent = queue("network_agenda", "MOR@hjem.example")
    from pprflow.models.tables import OutboxMessage

    assert isinstance(staff, OutboxMessage) and isinstance(parent, OutboxMessage)
    assert (staff.to, staff.cc, staff.to_is_parent) == ("kari@skole.example", ["lene@skole.example"], False)
    assert (parent.to, parent.cc, parent.to_is_parent) == ("mor@hjem.example", [], True)


def test_queueing_applies_the_whole_suppression_to_what_it_queues_ESC_1_ESC_2_CONS_1(session: Session) -> None:
    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks.outbox import queue_message
    from pprflow.templates.catalogue import MESSAGE_KINDS

    school = _institution(session, "Skovbakkeskolen")
    ours = _case(session, school, Child(pseudonym="Elev Emil", birth_year=2016), "mor@hjem.example")
    assert ours == 1
    ida = _case(session, school, Child(pseudonym="Elev Ida", birth_year=2014), "ida.mor@hjem.example",
                confidential=True)
    withdrawn = Consent(case_id=ours, given_by=["mor@hjem.example"], given_on=utcnow().date(), information="i",
                        recipients=["sund@sund.example"], purpose="p", withdrawn_at=utcnow())
    session.add(withdrawn)
    session.flush()

    def queue(case: Case | None, to: str, serves: str, kind: str = "network_agenda",
              **extra: object) -> OutboxMessage | None:
        return queue_message(session, kind=kind, to=to, case=case, serves=serves, sender="ppr@vejle.dk",
                             context=MESSAGE_KINDS[kind].example_context(), **extra)  # type: ignore[arg-type]

    case = session.get(Case, ours)
    # A case not stored yet has no parents: the address is not taken for case 1's parent.
    draft = Case(pathway="ppr_individual", institution_id=school, submitted_by_email="laerer@skole.example",
                 coordinator_email="leder@skole.example")
    early = queue(draft, "mor@hjem.example", "draft")
    assert early is not None and early.to_is_parent is False
    # Another child's confidential case reaches this one's mail: in To and in Cc.
    assert queue(case, "ida.mor@hjem.example", "to") is None
    assert queue(case, "kari@skole.example", "cc", cc=("Ida.Mor@hjem.example",)) is None
    # Confidential: a parent the caller names is held even if no case lists them.
    _confidential(session, ours)
    assert queue(case, "ny.far@hjem.example", "named", is_parent=True) is None
    # ESC-2: nothing holds the notification, not even a withdrawn consent.
    notification = queue(case, "underretning@vejle.dk", "esc2", kind=ABUSE_NOTIFICATION, consent_id=withdrawn.id)
    assert notification is not None and notification.status == "pending"
    assert ida
