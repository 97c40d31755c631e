"""Small builders for rows that many tests need (synthetic data only, .example addresses)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import Case, CaseParty, Child, Institution, StaffMember


def institution(session: Session, name: str = "Skovbakkeskolen", kind: str = "school",
                district: str = "Nord") -> Institution:
    found = session.exec(select(Institution).where(Institution.name == name)).first()
    if found is not None:
        return found
    row = Institution(name=name, kind=kind, district=district)
    session.add(row)
    session.flush()
    return row


def staff(session: Session, email: str, role: str = "teacher", *, name: str | None = None,
          institution: Institution | None = None, active: bool = True, district: str | None = None) -> StaffMember:
    """A member of the staff directory (PRIV-4): get or create, so tests can call it freely."""
    found = session.exec(select(StaffMember).where(StaffMember.email == email.strip().lower())).first()
    if found is not None:
        return found
    row = StaffMember(name=name or email.split("@")[0].replace(".", " ").title(), email=email, role=role,
                      institution_id=institution.id if institution else None, active=active, district=district)
    session.add(row)
    session.flush()
    return row


def put_staff(session: Session, member: StaffMember) -> StaffMember:
    """Add `member` to the directory, or update the one with the same e-mail (tests set roles and leaders)."""
    found = session.exec(select(StaffMember).where(StaffMember.email == member.email.strip().lower())).first()
    if found is None:
        session.add(member)
        return member
    for key in ("name", "role", "institution_id", "leader_email", "district", "phone", "active"):
        setattr(found, key, getattr(member, key))
    session.add(found)
    return found


TEST_STAFF: tuple[tuple[str, str, str], ...] = (
    ("leder@skole.example", "school_leader", "Lene Leder"),
    ("laerer@skole.example", "teacher", "Sofie Lærer"),
    ("sofie@skovbakke.example", "teacher", "Sofie Mikkelsen"),
    ("admin@ppr.example", "administrator", "Anne Administration"),
    ("admin@ppr-vejle.example", "administrator", "Anders Administration"),
)
"""The people the tests act as, known to the directory (PRIV-4) with their roles."""


ADMIN = "admin@ppr.example"


def directory(engine: Engine, people: tuple[tuple[str, str, str], ...] = TEST_STAFF) -> None:
    """Put the tests' people in the staff directory (PRIV-4); leder@skole.example leads Skovbakkeskolen."""
    with Session(engine) as session:
        school = institution(session)
        for email, role, name in people:
            staff(session, email, role, name=name, institution=school if email == "leder@skole.example" else None)
        session.commit()


def as_admin(ctx: Any) -> Any:
    """The same context acting as the PPR administrator (schedules district meetings, runs jobs by hand)."""
    with Session(ctx.engine) as session:
        staff(session, ADMIN, "administrator")
        session.commit()
    return dataclasses.replace(ctx, actor=ADMIN)


def case_with_parents(session: Session, *, pathway: str = "ppr_individual", level: int = 1,
                      coordinator: str = "leder@skole.example", kind: str = "school",
                      institution_name: str = "Skovbakkeskolen") -> Case:
    """An open case for one child with two parents and a coordinator."""
    inst = institution(session, name=institution_name, kind=kind)
    child = Child(pseudonym="Barn A", birth_year=2017)
    session.add(child)
    session.flush()
    case = Case(pathway=pathway, institution_id=inst.id or 0, child_id=child.id,
                submitted_by_email="laerer@skole.example", coordinator_email=coordinator,
                level_institution=level, level_family=1, concern="Trives ikke i klassen.")
    session.add(case)
    session.flush()
    for name, email in (("Mor Hansen", "mor@hjem.example"), ("Far Hansen", "far@hjem.example")):
        session.add(CaseParty(case_id=case.id or 0, name=name, email=email, role="parent", is_parent=True))
    session.add(CaseParty(case_id=case.id or 0, name="Lene Leder", email=coordinator, role="school_leader"))
    session.flush()
    return case


def deliver_queued(engine: Engine) -> list[int]:
    """Send what is queued through the file transport into a throw-away folder, as `pprflow outbox send`
    would: a notification must have been sent before it can be acknowledged (LAW-2)."""
    import tempfile

    from pprflow.tasks.outbox import deliver_due
    from pprflow.tasks.transports.file import FileTransport

    with tempfile.TemporaryDirectory(prefix="pprflow-sent-") as folder:
        return deliver_due(engine, FileTransport(folder)).sent
