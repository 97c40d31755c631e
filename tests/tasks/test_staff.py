"""The staff directory (PRIV-4): add, import from an HR export, list, deactivate — and who may."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.errors import AccessDenied
from pprflow.models.staff import parse_staff
from pprflow.models.tables import AuditEvent, StaffMember
from pprflow.tasks.context import Ctx
from pprflow.tasks.staff import add_staff, deactivate_staff, import_staff, list_staff

HR_EXPORT = """navn;e-mail;rolle;institution;institutionstype;distrikt;telefon
Lene Leder;lene@skovbakke.example;school_leader;Skovbakkeskolen;school;Nord;+45 12 34 56 78
Kim Kollega;kim@skovbakke.example;teacher;Skovbakkeskolen;;Nord;
Uden Mail;ikke-en-adresse;teacher;Skovbakkeskolen;;Nord;
Pia Psykolog;pia@ppr.example;ppr_psychologist;;;Nord;
"""


def _ctx(engine: Engine, vejle: Any, actor: str) -> Ctx:
    return Ctx(engine=engine, profile=vejle, actor=actor)


def _members(engine: Engine) -> dict[str, StaffMember]:
    with Session(engine) as session:
        return {m.email: m for m in session.exec(select(StaffMember)).all()}


def test_the_operator_adds_the_first_administrator_then_only_administrators_change_it_PRIV_4(
        engine: Engine, vejle: Any) -> None:
    operator = _ctx(engine, vejle, "os:root")
    with pytest.raises(AccessDenied):  # not even the operator adds anyone but the first administrator
        add_staff(operator, parse_staff({"name": "Kim", "email": "kim@skole.example", "role": "teacher"}))
    first = add_staff(operator, parse_staff({"name": "Anne", "email": "Admin@PPR.example", "role": "administrator"}))
    assert first["created"] and first["email"] == "admin@ppr.example"
    with pytest.raises(AccessDenied) as caught:  # now there is one: the bootstrap is closed
        add_staff(operator, parse_staff({"name": "Mal", "email": "mal@x.example", "role": "administrator"}))
    assert caught.value.rule_id == "PRIV-4"
    admin = _ctx(engine, vejle, "admin@ppr.example")
    add_staff(admin, parse_staff({"name": "Kim", "email": "kim@skole.example", "role": "teacher"}))
    with pytest.raises(AccessDenied):  # a teacher does not make themselves an administrator
        add_staff(_ctx(engine, vejle, "kim@skole.example"),
                  parse_staff({"name": "Kim", "email": "kim@skole.example", "role": "administrator"}))
    assert _members(engine)["kim@skole.example"].role == "teacher"


def test_an_hr_export_imports_every_good_row_and_reports_each_bad_one(ctx: Ctx, engine: Engine) -> None:
    admin = dataclasses.replace(ctx, actor="admin@ppr.example")
    report = import_staff(admin, HR_EXPORT)
    assert report["imported"] == 3 and len(report["errors"]) == 1
    assert report["errors"][0].startswith("line 4: email:")
    members = _members(engine)
    assert members["lene@skovbakke.example"].phone == "+45 12 34 56 78"
    assert members["pia@ppr.example"].district == "Nord"
    assert "ikke-en-adresse" not in members
    again = import_staff(admin, HR_EXPORT)  # an export imported twice updates, it does not duplicate
    assert again["imported"] == 3 and not any(r["created"] for r in again["rows"])


def test_a_deactivated_member_acts_on_nothing_and_lists_are_for_administrators_PRIV_4(
        ctx: Ctx, engine: Engine) -> None:
    admin = dataclasses.replace(ctx, actor="admin@ppr.example")
    with pytest.raises(AccessDenied):
        list_staff(ctx)  # a school leader is not an administrator
    assert "laerer@skole.example" in {m["email"] for m in list_staff(admin)}
    assert deactivate_staff(admin, email="laerer@skole.example")["changed"] is True
    teacher = dataclasses.replace(ctx, actor="laerer@skole.example")
    with pytest.raises(AccessDenied) as caught:
        list_staff(teacher)
    assert caught.value.rule_id == "PRIV-4" and "deaktiveret" in caught.value.one_line()
    assert "laerer@skole.example" not in {m["email"] for m in list_staff(admin)}
    assert "laerer@skole.example" in {m["email"] for m in list_staff(admin, include_inactive=True)}
    with Session(engine) as session:
        changes = session.exec(select(AuditEvent).where(AuditEvent.entity == "staffmember",
                                                        AuditEvent.action == "change")).all()
    assert changes and changes[-1].actor == "admin@ppr.example", "every change to the directory is audited"
