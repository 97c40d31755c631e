"""Intake: a referral becomes a case in one transaction, or nothing at all (PATH-1 … PATH-7, ROLE-1, LAW-3)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.tables import (
    ActionPlan,
    AuditEvent,
    Case,
    CaseParty,
    Child,
    Consent,
    Deadline,
    Institution,
    Notification,
    OutboxMessage,
)
from pprflow.tasks.context import Ctx
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.ppr import schedule_district_meetings
from tests import referral_data as rd
from tests.factories import as_admin

TODAY = dt.date(2026, 11, 23)  # a Monday; Vejle's district meetings are on Thursdays


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def outbox(engine) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_individual_course_opens_the_whole_case_PATH_1_ROLE_1_LAW_3(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=TODAY, count=2, today=TODAY)
    result = submit_referral(ctx, rd.referral(), today=TODAY)

    assert result.status == "open"
    assert result.coordinator == "sofie@skovbakke.example"
    assert result.district_meeting == dt.date(2026, 11, 26)
    with Session(ctx.engine) as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.pathway == "ppr_individual"
        assert case.coordinator_email == "sofie@skovbakke.example", "ROLE-1: exactly one coordinator"
        child = session.get(Child, case.child_id)
        assert child is not None and (child.pseudonym, child.birth_year) == ("Elev K-417", 2017)
        parties = session.exec(select(CaseParty).where(CaseParty.case_id == case.id)).all()
        assert sorted((p.email, p.is_parent) for p in parties) == [
            ("hanne.berg@hjem.example", True), ("jonas.berg@hjem.example", True), ("sofie@skovbakke.example", False)]
        consent = session.exec(select(Consent).where(Consent.case_id == case.id)).one()
        assert consent.given_by == ["Hanne Berg", "Jonas Berg"] and consent.given_on == dt.date(2026, 11, 16)
        assert consent.information and consent.recipients == ["PPR Vejle", "Skovbakkeskolen"] and consent.purpose
        plan = session.exec(select(ActionPlan).where(ActionPlan.case_id == case.id)).one()
        assert plan.community_measures == rd.PLAN["community_measures"]
        audited = {e.entity for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()}
        assert {"case", "child", "caseparty", "consent", "actionplan", "outboxmessage"} <= audited
    messages = outbox(ctx.engine)
    assert [(m.template, m.to) for m in messages] == [
        ("ppr_request", "ppr@vejle.dk"), ("receipt", "sofie@skovbakke.example")]
    assert result.queued_message_ids == [m.id for m in messages]
    request = messages[0]
    assert request.consent_id is not None, "CONS-1: the request names the child on the parents' consent"
    assert "Faste grupper og klassemøder" in request.body_text, "PATH-3: community measures come first"
    assert "Elev K-417" in request.body_text and "Hanne" not in request.body_text
    assert "torsdag den 26. november 2026" in messages[1].body_text, "the receipt names the district meeting"


def test_a_ppr_case_goes_on_the_next_district_meeting_of_its_district_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=TODAY, count=3, today=TODAY)
    schedule_district_meetings(as_admin(ctx), district="Syd", start=TODAY, count=1, today=TODAY)
    result = submit_referral(ctx, rd.referral("ppr_learning_environment"), today=TODAY)
    assert result.district_meeting == dt.date(2026, 11, 26)
    (pinned,) = result.pinned_deadlines
    assert (pinned.kind, pinned.rule_id, pinned.due_on) == ("district_assignment", "PATH-4", dt.date(2026, 11, 26))
    # On the meeting day itself the list has gone: the case goes on the next meeting.
    later = submit_referral(ctx, rd.referral("ppr_learning_environment", group="6.C"), today=dt.date(2026, 11, 26))
    assert later.district_meeting == dt.date(2026, 12, 10)


def test_without_a_district_meeting_the_case_waits_for_the_first_one_scheduled_CAL_5(ctx) -> None:
    result = submit_referral(ctx, rd.referral("ppv"), today=TODAY)
    assert result.district_meeting is None
    assert any("pprflow district schedule" in note for note in result.notes)
    placed = schedule_district_meetings(as_admin(ctx), district="Nord", start=TODAY, count=1, today=TODAY)
    assert placed["cases_placed"] == [result.case_id]
    with Session(ctx.engine) as session:
        waiting = session.exec(select(Deadline).where(Deadline.case_id == result.case_id,
                                                      Deadline.done_at == None)).one()  # noqa: E711
        assert waiting.meeting_id == placed["meetings"][0]["id"]


@pytest.mark.parametrize(("data", "rule"), [
    (rd.data(action_plan=None), "PATH-1"),
    (rd.data("ppv", school_start=False), "PATH-2"),
    (rd.data(consent=None), "PATH-4"),
    (rd.data("intervention_team", local_resources_involved=False), "PATH-5"),
    (rd.data("social_adviser", child={"pseudonym": "Barn A", "birth_year": 2021}), "PATH-6"),
    ({**rd.data(), "consent": {**rd.CONSENT, "given_by": ["Naboen"]}}, "LAW-3"),
], ids=["PATH_1", "PATH_2", "PATH_4", "PATH_5", "PATH_6", "LAW_3"])
def test_a_refusal_stores_nothing_and_queues_nothing(ctx, data, rule) -> None:
    from pprflow.models.referral import parse_referral

    tables = (Case, Child, Institution, CaseParty, Consent, ActionPlan, OutboxMessage, Deadline, AuditEvent)
    before = {t.__name__: count(ctx.engine, t) for t in tables}  # the staff directory's institution is there
    with pytest.raises(RuleViolation) as caught:
        submit_referral(ctx, parse_referral(data), today=TODAY)
    assert caught.value.rule_id == rule
    for table in tables:
        assert count(ctx.engine, table) == before[table.__name__], table.__name__


def test_a_failure_half_way_rolls_back_everything(ctx, monkeypatch) -> None:
    """One transaction: no half-created case, no orphan outbox row."""
    import pprflow.tasks.intake

    real = pprflow.tasks.intake.queue_message
    calls = []

    def fail_on_receipt(session, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["kind"])
        if kwargs["kind"] == "receipt":
            raise RuntimeError("renderer crashed")
        return real(session, **kwargs)

    monkeypatch.setattr(pprflow.tasks.intake, "queue_message", fail_on_receipt)
    with pytest.raises(RuntimeError):
        submit_referral(ctx, rd.referral(), today=TODAY)
    assert calls == ["ppr_request", "receipt"]
    for table in (Case, Child, CaseParty, Consent, OutboxMessage, AuditEvent):
        assert count(ctx.engine, table) == 0, table.__name__


def test_the_same_referral_twice_opens_one_case(ctx) -> None:
    """A Prefect duplicate run (#17508) must not open a second case or queue a second request."""
    first = submit_referral(ctx, rd.referral(), today=TODAY)
    second = submit_referral(ctx, rd.referral(), today=TODAY)
    assert second.case_id == first.case_id and second.already_submitted
    assert count(ctx.engine, Case) == 1 and count(ctx.engine, OutboxMessage) == 2


def test_an_institution_is_reused_and_a_contradiction_is_refused(ctx) -> None:
    submit_referral(ctx, rd.referral(), today=TODAY)
    submit_referral(ctx, rd.referral("ppv"), today=TODAY)
    assert count(ctx.engine, Institution) == 1
    wrong = rd.referral(institution={"name": "Skovbakkeskolen", "kind": "school", "district": "Syd"})
    with pytest.raises(InvalidInput, match="district 'Nord'"):
        submit_referral(ctx, wrong, today=TODAY)
    assert count(ctx.engine, Case) == 2


def test_intervention_team_request_goes_to_metrm_with_the_action_plan_PATH_5(ctx) -> None:
    result = submit_referral(ctx, rd.referral("intervention_team", local_lead="Lene Holm, sprogansvarlig"),
                             today=TODAY)
    request, receipt = outbox(ctx.engine)
    assert (request.template, request.to) == ("intervention_team_request", "metrm@vejle.dk")
    assert "Lene Holm, sprogansvarlig" in request.body_text and "HANDLEPLAN" in request.body_text
    assert receipt.to == "mette@solsikken.example"
    assert result.district_meeting is None and result.pinned_deadlines == []


def test_anonymous_social_adviser_request_stores_no_identity_PATH_6(ctx) -> None:
    result = submit_referral(ctx, rd.referral("social_adviser"), today=TODAY)
    with Session(ctx.engine) as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.child_id is None
        assert session.exec(select(CaseParty).where(CaseParty.is_parent == True)).all() == []  # noqa: E712
    assert count(ctx.engine, Child) == 0 and count(ctx.engine, Consent) == 0
    request = outbox(ctx.engine)[0]
    assert request.template == "social_adviser_request" and request.consent_id is None


def test_early_years_request_with_minigroup_assessment_reaches_the_specialist_PATH_7(engine, vejle) -> None:
    from pprflow.models.profile import EarlyYearsContacts

    profile = vejle.model_copy(update={"early_years_directory": {"Børnehuset Solsikken": EarlyYearsContacts(
        pedagogical="anne.paed@vejle.example", disability="bo.special@vejle.example")}})
    ctx = Ctx(engine=engine, profile=profile, actor="mette@solsikken.example")
    submit_referral(ctx, rd.referral("early_years_consultant", assessment_for_minigroup_or_solen=True), today=TODAY)
    messages = outbox(engine)
    assert [(m.template, m.to) for m in messages] == [
        ("early_years_request", "anne.paed@vejle.example"), ("early_years_request", "bo.special@vejle.example"),
        ("receipt", "mette@solsikken.example")]
    assert "funktionsnedsættelser og sygdom" in messages[0].body_text


def test_suspected_abuse_notifies_at_once_and_nothing_reaches_the_parents_ESC_1(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=TODAY, count=1, today=TODAY)
    result = submit_referral(ctx, rd.referral(suspected_abuse=True), today=TODAY)
    assert result.confidential_from_parents and result.notification_id is not None
    with Session(ctx.engine) as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.confidential_from_parents
        notification = session.get(Notification, result.notification_id)
        assert notification is not None and notification.reported_by_email == "sofie@skovbakke.example"
    messages = outbox(ctx.engine)
    assert messages[0].template == "abuse_notification" and messages[0].to == ctx.profile.mailboxes.notifications
    parents = {p["email"] for p in rd.PARENTS}
    assert not [m for m in messages if m.to in parents or m.to_is_parent or set(m.cc) & parents]


@pytest.mark.postgres
def test_intake_on_postgresql_PATH_1(pg_engine, vejle) -> None:
    ctx = Ctx(engine=pg_engine, profile=vejle, actor="sofie@skovbakke.example")
    schedule_district_meetings(as_admin(ctx), district="Nord", start=TODAY, count=1, today=TODAY)
    first = submit_referral(ctx, rd.referral(), today=TODAY)
    again = submit_referral(ctx, rd.referral(), today=TODAY)
    assert again.case_id == first.case_id and again.already_submitted
    assert first.district_meeting == dt.date(2026, 11, 26)
    assert count(pg_engine, OutboxMessage) == 2
