"""The staff directory (medarbejderkartotek, PRIV-4): `pprflow staff add|import|list|deactivate`.

Who each person is — name, work e-mail, role, institution, district, phone, active — so that an
actor is a known, active member and roles come from here, never from free text on a command.
Changing the directory is an administrator's job (models/access.py: `staff.manage`). The first
administrator of an empty directory is added by the operator (whoever holds the database
credentials): while no active administrator exists, `staff add --role administrator` is the one
thing an unknown actor may do. Every change is audited (PRIV-1).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import ADMINISTRATOR, Perm
from pprflow.models.errors import InvalidInput, NotFound
from pprflow.models.staff import StaffIn, parse_staff_csv
from pprflow.models.tables import Institution, StaffMember
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.context import Ctx


def _has_administrator(session: Session) -> bool:
    return session.exec(select(StaffMember.id).where(StaffMember.role == ADMINISTRATOR,
                                                     StaffMember.active == True)).first() is not None  # noqa: E712


def _authorize_manage(session: Session, ctx: Ctx, *, what: str, first_admin: bool = False) -> None:
    if first_admin and not _has_administrator(session):
        return  # bootstrap: the operator adds the first administrator (README, trust model)
    authorize(session, ctx.actor, Perm.STAFF_MANAGE, what=what)


def _institution_id(session: Session, ctx: Ctx, data: StaffIn) -> int | None:
    if data.institution is None:
        return None
    found = session.exec(select(Institution).where(Institution.name == data.institution)).first()
    if found is not None:
        return found.id
    if data.institution_kind is None or data.district is None:
        raise InvalidInput(f"institution {data.institution!r} is unknown: give institution_kind (school|daycare) "
                           "and district to register it")
    row = Institution(name=data.institution, kind=data.institution_kind, district=data.district)
    session.add(row)
    session.flush()
    audit.record(session, actor=ctx.actor, action="create", entity="institution", entity_id=row.id,
                 reason="staff directory", detail={"kind": row.kind, "district": row.district})
    return row.id


def _upsert(session: Session, ctx: Ctx, data: StaffIn) -> tuple[StaffMember, bool]:
    email = str(data.email).strip().lower()
    member = session.exec(select(StaffMember).where(StaffMember.email == email)).first()
    created = member is None
    values: dict[str, Any] = {
        "name": data.name, "role": data.role, "institution_id": _institution_id(session, ctx, data),
        "district": data.district, "phone": data.phone, "active": data.active,
        "leader_email": str(data.leader_email).lower() if data.leader_email else None,
    }
    if member is None:
        member = StaffMember(email=email, **values)
    else:
        for key, value in values.items():
            setattr(member, key, value)
    session.add(member)
    session.flush()
    audit.record(session, actor=ctx.actor, action="create" if created else "change", entity="staffmember",
                 entity_id=member.id, reason="staff directory",
                 detail={"role": data.role, "institution": data.institution, "district": data.district,
                         "active": data.active})
    return member, created


def staff_public(session: Session, member: StaffMember) -> dict[str, Any]:
    inst = session.get(Institution, member.institution_id) if member.institution_id else None
    return {"id": member.id, "name": member.name, "email": member.email, "role": member.role,
            "institution": inst.name if inst else None, "district": member.district or (inst.district if inst
                                                                                          else None),
            "phone": member.phone, "leader_email": member.leader_email, "active": member.active}


def add_staff(ctx: Ctx, data: StaffIn) -> dict[str, Any]:
    """`pprflow staff add`: add or update one member (administrators; the first administrator by the operator)."""
    with Session(ctx.engine) as session:
        _authorize_manage(session, ctx, what="staff add", first_admin=data.role == ADMINISTRATOR)
        member, created = _upsert(session, ctx, data)
        result = staff_public(session, member) | {"created": created}
        session.commit()
    return result


def import_staff(ctx: Ctx, text: str) -> dict[str, Any]:
    """`pprflow staff import FILE.csv`: every good row imported, every bad row reported by line (one each)."""
    rows = parse_staff_csv(text)
    imported, errors = [], []
    with Session(ctx.engine) as session:
        _authorize_manage(session, ctx, what="staff import")
        session.commit()
    for row in rows:
        if row.member is None:
            errors.append(row.error)
            continue
        with Session(ctx.engine) as session:  # one row, one transaction: a bad row leaves the others in
            try:
                member, created = _upsert(session, ctx, row.member)
                session.commit()
            except InvalidInput as exc:
                session.rollback()
                errors.append(f"line {row.line}: {exc.one_line()}")
                continue
            imported.append({"line": row.line, "email": member.email, "created": created})
    return {"imported": len(imported), "rows": imported, "errors": errors}


def list_staff(ctx: Ctx, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    """`pprflow staff list`: the directory (administrators), audited as a search (PRIV-1)."""
    with Session(ctx.engine) as session:
        authorize(session, ctx.actor, Perm.STAFF_LIST, what="staff list")
        query = select(StaffMember).order_by(col(StaffMember.email))
        if not include_inactive:
            query = query.where(StaffMember.active == True)  # noqa: E712
        rows = [staff_public(session, m) for m in session.exec(query).all()]
        audit.record(session, actor=ctx.actor, action="search", entity="staffmember", reason="staff list",
                     detail={"terms": {"include_inactive": include_inactive}, "found": len(rows)})
        session.commit()
    return rows


def deactivate_staff(ctx: Ctx, *, email: str) -> dict[str, Any]:
    """`pprflow staff deactivate EMAIL`: the member acts on nothing from now on (PRIV-4); history stays."""
    needle = email.strip().lower()
    with Session(ctx.engine) as session:
        _authorize_manage(session, ctx, what="staff deactivate")
        member = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
        if member is None:
            raise NotFound(f"{needle} is not in the staff directory (see: pprflow staff list)")
        changed = member.active
        member.active = False
        session.add(member)
        audit.record(session, actor=ctx.actor, action="change", entity="staffmember", entity_id=member.id,
                     reason="staff directory", detail={"active": False})
        session.commit()
    return {"email": needle, "active": False, "changed": changed}
