"""Small builders for rows that many tests need (synthetic data only, .example addresses)."""

from __future__ import annotations

from sqlmodel import Session, select

from pprflow.models.tables import Case, CaseParty, Child, Institution


def institution(session: Session, name: str = "Skovbakkeskolen", kind: str = "school",
                district: str = "Nord") -> Institution:
    found = session.exec(select(Institution).where(Institution.name == name)).first()
    if found is not None:
        return found
    row = Institution(name=name, kind=kind, district=district)
    session.add(row)
    session.flush()
    return row


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
