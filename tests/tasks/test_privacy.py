"""PRIV-1 and PRIV-3 on the service layer, on SQLite and PostgreSQL: reads are audited, only the staff
assigned to a case and their leaders may read it, a refusal is itself audited, the log is append-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from pprflow.models.errors import AccessDenied
from pprflow.models.tables import AuditEvent, CaseParty, Consent, StaffMember
from pprflow.tasks.context import Ctx
from pprflow.tasks.handover import show_case
from pprflow.tasks.privacy import audit_trail
from tests.factories import case_with_parents, put_staff, staff


def _ctx(engine: Engine, profile: Any, actor: str) -> Ctx:
    return Ctx(engine=engine, profile=profile, actor=actor)


def _case(engine: Engine) -> int:
    """Coordinator leder@skole.example; the teacher laerer@ submitted it; two parents."""
    with Session(engine) as session:
        case = case_with_parents(session)
        put_staff(session, StaffMember(name="Lene Leder", email="leder@skole.example", role="school_leader",
                                institution_id=case.institution_id, leader_email="chef@kommune.example"))
        # PRIV-4: everyone who acts below is a known, active member of the staff directory
        for email, role in (("laerer@skole.example", "teacher"), ("chef@kommune.example", "school_leader"),
                            ("kollega@skole.example", "teacher"), ("hs@sund.example", "health_visitor"),
                            ("admin@ppr.example", "administrator")):
            staff(session, email, role)
        session.commit()
        return case.id or 0


def _events(engine: Engine, **where: Any) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(session.exec(query).all())


@pytest.mark.parametrize("reader", ["leder@skole.example", "laerer@skole.example", "chef@kommune.example",
                                    "admin@ppr.example"])
def test_assigned_staff_and_their_leaders_read_the_case_and_the_read_is_audited_PRIV_1_PRIV_3(
        any_engine: Engine, vejle: Any, reader: str) -> None:
    case_id = _case(any_engine)
    shown = show_case(ctx=_ctx(any_engine, vejle, reader), case_id=case_id)
    assert shown["case_id"] == case_id
    reads = _events(any_engine, action="read", case_id=case_id)
    assert [(e.actor, e.entity, e.reason) for e in reads] == [(reader, "case", "case show")]


def test_anyone_else_is_refused_and_the_refusal_is_audited_PRIV_3(any_engine: Engine, vejle: Any) -> None:
    case_id = _case(any_engine)
    # a known colleague not on the case (PRIV-3); a parent, a system job: not staff who may act (PRIV-4)
    for outsider, rule in (("kollega@skole.example", "PRIV-3"), ("mor@hjem.example", "PRIV-4"),
                           ("system:sweep", "PRIV-4")):
        with pytest.raises(AccessDenied) as caught:
            show_case(ctx=_ctx(any_engine, vejle, outsider), case_id=case_id)
        assert caught.value.rule_id == rule, outsider
    assert f"sag {case_id}" in caught.value.one_line() or "systemjob" in caught.value.one_line()
    refused = _events(any_engine, action="refused")
    assert [(e.actor, e.case_id, e.reason, e.detail) for e in refused] == [
        ("kollega@skole.example", case_id, "PRIV-3", {"what": "case show", "perm": "case.read"}),
        ("mor@hjem.example", case_id, "PRIV-4", {"what": "case show", "perm": "case.read"}),
        ("system:sweep", case_id, "PRIV-4", {"what": "case show", "perm": "case.read"}),
    ]
    assert not _events(any_engine, action="read"), "a refused read reads nothing"


def test_a_partner_whose_consent_was_withdrawn_no_longer_reads_the_case_PRIV_3_CONS_1(
        engine: Engine, vejle: Any) -> None:
    from pprflow.tasks.consent import withdraw_consent

    case_id = _case(engine)
    with Session(engine) as session:
        consent = Consent(case_id=case_id, given_by=["Mor Hansen"], given_on=dt.date(2026, 1, 5),
                          information="Trivsel", recipients=["Sundhedsplejen"], purpose="Netværksmøde")
        session.add(consent)
        session.flush()
        session.add(CaseParty(case_id=case_id, name="Hanne", email="hs@sund.example", role="health_visitor",
                              consent_id=consent.id))
        session.commit()
    show_case(ctx=_ctx(engine, vejle, "hs@sund.example"), case_id=case_id)
    withdraw_consent(ctx=_ctx(engine, vejle, "leder@skole.example"), case_id=case_id)
    with pytest.raises(AccessDenied):
        show_case(ctx=_ctx(engine, vejle, "hs@sund.example"), case_id=case_id)


def test_audit_show_lists_who_did_what_when_and_why_and_is_itself_audited_PRIV_1(
        any_engine: Engine, vejle: Any) -> None:
    from pprflow.tasks.handover import handover

    case_id = _case(any_engine)
    leader = _ctx(any_engine, vejle, "leder@skole.example")
    handover(ctx=leader, case_id=case_id, to_email="laerer@skole.example",
             today=dt.date(2026, 12, 1))
    show_case(ctx=leader, case_id=case_id)
    rows = audit_trail(ctx=leader, case_id=case_id)
    assert {"at", "actor", "action", "entity", "reason", "detail"} <= set(rows[0])
    assert ("change", "case", "ROLE-1") in {(r["action"], r["entity"], r["reason"]) for r in rows}
    assert rows[-1]["action"] == "read" and rows[-1]["reason"] == "case show"
    assert _events(any_engine, entity="audit")[-1].actor == "leder@skole.example"
    with pytest.raises(AccessDenied):
        audit_trail(ctx=_ctx(any_engine, vejle, "kollega@skole.example"), case_id=case_id)
    assert _events(any_engine, action="refused")[-1].detail == {"what": "audit show", "perm": "audit.read"}


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_an_audit_row_PRIV_1(pg_engine: Engine, vejle: Any) -> None:
    case_id = _case(pg_engine)
    show_case(ctx=_ctx(pg_engine, vejle, "leder@skole.example"), case_id=case_id)
    for statement in ("UPDATE auditevent SET actor = 'someone@else.example'", "DELETE FROM auditevent"):
        with pg_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    assert len(_events(pg_engine, action="read")) == 1


def test_no_code_outside_the_retention_purge_updates_or_deletes_audit_rows_PRIV_1() -> None:
    """Append-only by construction: the only writer of AuditEvent is audit.record (an insert); the only
    delete is tasks/retention.py."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.glob("tasks/**/*.py"), *root.glob("flows/**/*.py"), *root.glob("pprflow/**/*.py"),
                 *root.glob("models/**/*.py"), *root.glob("deployments/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        if path.name == "retention.py":
            continue
        if re.search(r"delete\(\s*AuditEvent|update\(\s*AuditEvent|(DELETE FROM|UPDATE)\s+auditevent", source) \
                or re.search(r"session\.delete\((event|audit)", source):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
