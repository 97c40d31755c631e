"""ESC-1/ESC-2 by construction on the service layer: the notification as its own intake, each path that
could cancel it, parents across the child's cases, the refusals that say whether it was sent, and LAW-2's
escalation chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.abuse import AbuseReport, ReportRefused, parse_report
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.tables import AuditEvent, Case, Child, Deadline, Notification, OutboxMessage, StaffMember
from pprflow.tasks.abuse import _subject, acknowledge, report, report_abuse
from pprflow.tasks.consent import give_consent, withdraw_consent
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import close_deadlines, run_sweep
from pprflow.tasks.intake import parse_or_notify, submit_referral
from pprflow.tasks.meetings import add_partner
from pprflow.tasks.outbox import cancel_message, cancel_pending, queue_message, suppression
from pprflow.tasks.retention import close_case, purge_expired
from tests import referral_data as rd
from tests.factories import as_admin, case_with_parents, deliver_queued, directory, put_staff

TODAY = dt.date(2026, 11, 24)  # Tuesday
NOTIFICATIONS = "underretning@randers.dk"

REPORT: dict[str, Any] = {
    "reporter": {"name": "Sofie Lærer", "email": "Laerer@Skole.example", "role": "teacher"},
    "institution": "Skovbakkeskolen",
    "child": {"name": "Emil Jensen", "group": "3.B", "birth_year": 2016},
    "observation": "Blå mærker på begge overarme; sagde: 'det var far'. CPR 010203-1234 stod på sedlen.",
    "observed_on": "2026-11-24", "observed_time": "10:15",
}


def _notification_messages(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all())


def _case(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        session.add(StaffMember(name="Sofie Lærer", email="laerer@skole.example", role="teacher",
                                leader_email="leder@skole.example"))
        session.commit()
        return case.id or 0


# --- the notification is its own intake (ESC-2) ------------------------------------------------------

def test_a_report_without_a_case_is_sent_at_once_with_the_child_the_observation_and_the_reporter_ESC_2(
        engine: Engine, randers: Any) -> None:
    ctx = Ctx(engine=engine, profile=randers, actor="system:root")  # LAW-1: the reporter is named in the report
    result = report(ctx, REPORT, today=TODAY)
    assert result["notification_sent"] is True and result["case_id"] is None and result["sent_to"] == NOTIFICATIONS
    [message] = _notification_messages(engine)
    assert message.to == NOTIFICATIONS and message.cc == [] and message.status == "pending"
    assert randers.notification.review_by_outposted_social_worker, "ESC-3 holds others; never this one (ESC-2)"
    body = message.body_text
    for expected in ("Emil Jensen", "3.B", "født 2016", "Skovbakkeskolen", "Blå mærker", "Sofie Lærer", "Lærer",
                     "laerer@skole.example", "kl. 10.15", "24. november 2026"):
        assert expected in body, expected
    assert "010203-1234" not in body and "[CPR-nummer fjernet]" in body, "PRIV-2 without refusing (ESC-2)"
    assert report(ctx, REPORT, today=TODAY)["notification_id"] == result["notification_id"], "twice is once"
    assert len(_notification_messages(engine)) == 1


def test_an_unknown_case_id_does_not_stop_the_report_ESC_2(engine: Engine, randers: Any) -> None:
    result = report(Ctx(engine=engine, profile=randers, actor="laerer@skole.example"),
                    {**REPORT, "case_id": 4711}, today=TODAY)
    assert result["notification_sent"] is True and result["case_id"] is None


def test_a_report_that_cannot_be_sent_says_so_in_one_danish_line_ESC_2() -> None:
    with pytest.raises(ReportRefused) as err:
        parse_report({**REPORT, "reporter": {**REPORT["reporter"], "email": "Sofie <laerer@skole.example>"}})
    line = err.value.one_line()
    assert line.startswith("underretningen er IKKE sendt: underretning: reporter.email:") and "\n" not in line
    assert isinstance(AbuseReport.model_validate(REPORT), AbuseReport)


@pytest.mark.parametrize("defect", ["no_action_plan", "no_consent", "future_consent", "ppv_from_pedagogue"])
def test_a_referral_with_suspected_abuse_notifies_first_and_a_refusal_says_it_was_sent_ESC_2(
        engine: Engine, randers: Any, defect: str) -> None:
    ctx = Ctx(engine=engine, profile=randers, actor="sofie@skovbakke.example")
    data = rd.data(suspected_abuse=True)
    if defect == "no_action_plan":
        data["action_plan"] = None
    elif defect == "no_consent":
        data["consent"] = None
    elif defect == "future_consent":
        data["consent"]["date"] = "2027-01-01"
    else:
        data.update(pathway="ppv", school_start=True,
                    submitted_by={"name": "Per", "email": "per@skovbakke.example", "role": "pedagogue"})
    with pytest.raises(InvalidInput) as err:
        submit_referral(ctx, parse_or_notify(ctx, data, today=TODAY), today=TODAY)
    line = err.value.one_line()
    assert line.startswith(f"underretningen ER sendt til {NOTIFICATIONS} (underretning 1); henvendelsen er ikke "
                           "modtaget, fordi: "), line
    assert "\n" not in line and err.value.rule_id == "ESC-2"
    [message] = _notification_messages(engine)
    assert message.status == "pending" and message.to == NOTIFICATIONS
    with Session(engine) as session:
        assert session.exec(select(Case)).all() == [], "the referral itself stored nothing"


@pytest.mark.parametrize("defect", ["cpr_in_concern", "unknown_field"])
def test_a_referral_refused_while_parsing_still_notifies_ESC_2(engine: Engine, randers: Any, defect: str) -> None:
    ctx = Ctx(engine=engine, profile=randers, actor="sofie@skovbakke.example")
    data = rd.data(suspected_abuse=True)
    if defect == "cpr_in_concern":
        data["concern"] += " Barnets CPR er 010203-1234."
    else:
        data["actionplan"] = {}
    with pytest.raises(InvalidInput) as err:
        parse_or_notify(ctx, data, today=TODAY)
    assert err.value.one_line().startswith("underretningen ER sendt til")
    [message] = _notification_messages(engine)
    assert "010203-1234" not in message.body_text


def test_a_valid_referral_with_suspected_abuse_links_the_notification_to_its_case_ESC_1(
        engine: Engine, randers: Any) -> None:
    ctx = Ctx(engine=engine, profile=randers, actor="sofie@skovbakke.example")
    result = submit_referral(ctx, parse_or_notify(ctx, rd.data(suspected_abuse=True), today=TODAY), today=TODAY)
    assert result.confidential_from_parents and result.notification_id is not None
    with Session(engine) as session:
        notification = session.get(Notification, result.notification_id)
        assert notification is not None and notification.case_id == result.case_id
        deadlines = session.exec(select(Deadline).where(col(Deadline.kind).startswith("acknowledgement"))).all()
        assert {d.case_id for d in deadlines} == {result.case_id}


# --- it cannot be cancelled (ESC-2) -------------------------------------------------------------------

def test_no_path_cancels_the_notification_or_closes_its_deadline_ESC_2(engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    result = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    [message] = _notification_messages(engine)
    with Session(engine) as session:  # outbox cancel, even as the anonymous OS account
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        with pytest.raises(RuleViolation) as err:
            cancel_message(session, row, reason="by hand", actor="system:root")
        assert err.value.rule_id == "ESC-2" and "IKKE sendt endnu, men står i kø og sendes straks" in err.value.message
        assert cancel_pending(session, where=lambda m: True, case_id=case_id, reason="x", actor="x") == []
        stored = session.get(Notification, result["notification_id"])
        assert stored is not None
        assert close_deadlines(session, subject_key=_subject(stored)) == 0
        session.commit()
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "refused",
                                                        AuditEvent.reason == "ESC-2")).all()
        assert refused, "the refused cancel is audited"
    admin = as_admin(ctx)  # PRIV-4: closing, consent and retention are the administrator's; ESC-2 still refuses
    with pytest.raises(RuleViolation) as closing:  # case close
        close_case(ctx=admin, case_id=case_id, reason="Afsluttet")
    assert closing.value.rule_id == "ESC-2" and "kan ikke lukkes" in closing.value.message
    assert "underretningen står i kø og sendes straks" in closing.value.message
    # consent withdrawal when the notification address is also a partner's
    consent = give_consent(ctx=admin, case_id=case_id, today=TODAY, data=rd.referral().consent.model_copy(
        update={"given_by": ["Mor Hansen"], "date": TODAY,
                "recipients": ["Familiecentret"]}))  # CONS-1, LAW-3: the consent names the partner  # type: ignore[union-attr]
    add_partner(ctx=admin, data=__import__("pprflow.models.rules_meetings", fromlist=["PartnerInput"]).PartnerInput(
        case_id=case_id, name="Familiecentret", email=NOTIFICATIONS, role="family_department",
        consent_id=consent["consent_id"]))
    withdraw_consent(ctx=admin, case_id=case_id)
    purge_expired(admin, today=TODAY + dt.timedelta(days=365 * 8))  # a retention run
    [after] = _notification_messages(engine)
    assert after.status == "pending"
    with Session(engine) as session:
        open_law2 = session.exec(select(Deadline).where(Deadline.rule_id == "LAW-2",
                                                        col(Deadline.done_at).is_(None))).all()
        assert len(open_law2) == 1  # issue 17: one LAW-2 deadline climbs the whole ladder
    with pytest.raises(RuleViolation) as unsent:  # LAW-2: what was not sent cannot be acknowledged
        acknowledge(ctx=ctx, case_id=case_id)
    assert unsent.value.rule_id == "LAW-2" and "IKKE sendt" in unsent.value.message
    deliver_queued(engine)
    acknowledge(ctx=ctx, case_id=case_id)  # the one way the LAW-2 deadlines close
    with Session(engine) as session:
        assert session.exec(select(Deadline).where(Deadline.rule_id == "LAW-2",
                                                   col(Deadline.done_at).is_(None))).all() == []


def test_acknowledgement_reduces_the_childs_name_to_the_pseudonym_PRIV_2(engine: Engine, randers: Any) -> None:
    directory(engine)  # PRIV-4: the notifier acknowledges a case-less notification
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    first = report(ctx, REPORT, today=TODAY)
    with Session(engine) as session:
        notification = session.get(Notification, first["notification_id"])
        assert notification is not None and notification.child_name == "Emil Jensen"
    deliver_queued(engine)
    done = acknowledge(ctx, notification_id=first["notification_id"])
    assert done["acknowledged"] == [first["notification_id"]]
    with Session(engine) as session:
        notification = session.get(Notification, first["notification_id"])
        assert notification is not None and notification.child_name is None
        assert notification.child_pseudonym == f"Barn (underretning {first['notification_id']})"
        audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "notification",
                                                      AuditEvent.reason == "LAW-2")).one()
        assert audit.detail["child_name_reduced_to_pseudonym"] is True


# --- parents across the child's cases (ESC-1) -----------------------------------------------------------

def test_parents_are_recognised_in_any_spelling_in_to_and_cc_on_every_case_of_the_child_ESC_1(
        engine: Engine, randers: Any) -> None:
    case_id = _case(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    with Session(engine) as session:  # a second case of the same child (same pseudonym, birth year, school)
        first = session.get(Case, case_id)
        assert first is not None
        child = Child(pseudonym="Barn A", birth_year=2017)
        session.add(child)
        session.flush()
        second = Case(pathway="intervention_team", institution_id=first.institution_id, child_id=child.id,
                      submitted_by_email="laerer@skole.example", coordinator_email="leder@skole.example")
        session.add(second)
        session.commit()
        second_id = second.id or 0
    report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    with Session(engine) as session:
        second = session.get(Case, second_id)
        assert second is not None and second.confidential_from_parents, "confidentiality follows the child"
        for to, cc in (("MOR@hjem.example", ()), ("Mor Hansen <mor@hjem.example>", ()),
                       ("ahmed@ppr.example", ("<far@hjem.example>",))):
            for case in (session.get(Case, case_id), second, None):
                blocked = suppression(session, case=case, to=to, cc=cc, is_parent=False, consent_id=None)
                assert blocked is not None and blocked.rule_id == "ESC-1", (to, cc, case)
        assert suppression(session, case=second, to="ahmed@ppr.example", is_parent=False, consent_id=None) is None


def test_a_later_referral_for_the_same_child_is_confidential_from_the_start_ESC_1(
        engine: Engine, randers: Any) -> None:
    ctx = Ctx(engine=engine, profile=randers, actor="sofie@skovbakke.example")
    first = submit_referral(ctx, rd.referral(suspected_abuse=True), today=TODAY)
    assert first.confidential_from_parents
    second = submit_referral(ctx, rd.referral(concern="En ny bekymring om samme elev."), today=TODAY)
    assert second.case_id != first.case_id and second.confidential_from_parents
    with Session(engine) as session:
        case = session.get(Case, second.case_id)
        assert case is not None
        assert queue_message(session, kind="minutes", to="HANNE.BERG@hjem.example", context={}, serves="x",
                             sender="ppr@randers.example", case=case) is None, "suppressed, never queued"


# --- LAW-2 escalates ------------------------------------------------------------------------------------

def test_a_late_acknowledgement_goes_to_the_leader_then_the_coordinator_then_the_escalation_address_LAW_2(
        engine: Engine, randers: Any) -> None:
    profile = randers.model_copy(update={"mailboxes": randers.mailboxes.model_copy(
        update={"escalation": "chef@randers.example"})})
    case_id = _case(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.coordinator_email = "tovholder@skole.example"
        session.add(case)
        session.commit()
    ctx = Ctx(engine=engine, profile=profile, actor="laerer@skole.example")
    result = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    due = dt.date.fromisoformat(result["acknowledgement_due"])
    for days in range(0, 8):
        run_sweep(engine, profile, today=due + dt.timedelta(days=days))
    with Session(engine) as session:
        late = session.exec(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement_overdue")
                            .order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))).all()
    assert [m.to for m in late] == ["leder@skole.example", "tovholder@skole.example", "chef@randers.example"]
    assert all("forældrene ikke må orienteres" in m.body_text for m in late)


def test_a_notifiers_leader_who_is_the_childs_parent_is_passed_over_and_the_ladder_goes_on_LAW_2_ESC_1(
        engine: Engine, randers: Any) -> None:
    """Found by an adversarial run: when the notifier's leader is a parent of the child, the outbox refused the
    late-acknowledgement mail (ESC-1) and the sweep got stuck on that deadline every day; the coordinator and the
    escalation address were never told. The parent is passed over; the next steps follow."""
    from pprflow.models.tables import CaseParty

    profile = randers.model_copy(update={"mailboxes": randers.mailboxes.model_copy(
        update={"escalation": "chef@randers.example"})})
    case_id = _case(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.coordinator_email = "tovholder@skole.example"
        session.add(case)
        party = session.exec(select(CaseParty).where(CaseParty.case_id == case_id,
                                                     CaseParty.email == "leder@skole.example")).first()
        party = party or CaseParty(case_id=case_id, name="Leder og forælder", email="leder@skole.example", role="")
        party.role, party.is_parent = "parent", True  # the school's leader is the child's mother
        session.add(party)
        session.commit()
    ctx = Ctx(engine=engine, profile=profile, actor="laerer@skole.example")
    result = report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    due = dt.date.fromisoformat(result["acknowledgement_due"])
    for days in range(0, 8):
        run_sweep(engine, profile, today=due + dt.timedelta(days=days))
    with Session(engine) as session:
        late = session.exec(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement_overdue")
                            .order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))).all()
        stuck_rows = session.exec(select(Deadline).where(col(Deadline.stuck_at).is_not(None))).all()
    assert [m.to for m in late] == ["tovholder@skole.example", "chef@randers.example"]
    assert not stuck_rows, [(d.kind, d.stuck_error) for d in stuck_rows]


def test_a_parent_of_a_confidential_child_never_coordinates_leads_a_meeting_or_reads_the_case_ESC_1(
        engine: Engine, randers: Any) -> None:
    """Found by an adversarial run: a parent typed as the new coordinator or meeting leader was accepted, and a
    parent who was also in the staff directory could read the confidential case."""
    import pytest

    from pprflow.models.errors import AccessDenied
    from pprflow.models.rules_meetings import MeetingInput
    from pprflow.tasks.handover import handover, show_case
    from pprflow.tasks.meetings import schedule_meeting

    case_id = _case(engine)
    ctx = Ctx(engine=engine, profile=randers, actor="laerer@skole.example")
    report_abuse(ctx=ctx, case_id=case_id, today=TODAY)
    admin = as_admin(ctx)
    with pytest.raises(RuleViolation, match="parent"):
        handover(ctx=admin, case_id=case_id, to_email=" MOR@hjem.example ", today=TODAY)
    with pytest.raises(RuleViolation) as led:
        schedule_meeting(ctx=admin, data=MeetingInput(case_id=case_id, kind="development", date=dt.date(2026, 12, 22),
                                                      leader_email="mor@hjem.example", address="Skolevej 1",
                                                      leader_phone="+45 75 00 00 00"), today=TODAY)
    assert led.value.rule_id == "ESC-1"
    with Session(engine) as session:  # the mother is even an administrator in the directory
        put_staff(session, StaffMember(name="Mor Hansen", email="mor@hjem.example", role="administrator"))
        session.commit()
    with pytest.raises(AccessDenied) as read:
        show_case(ctx=dataclasses.replace(ctx, actor="mor@hjem.example"), case_id=case_id)
    assert read.value.rule_id == "ESC-1"
