"""ROLE-3: a child who moves keeps the case — `pprflow case transfer CASE --to-institution NAME`.

The case row moves (`Case.institution_id`), so everything that hangs on the case goes with it: history
(audit events, meetings, minutes), consent, levels, ESC-1 confidentiality and open deadlines. Everything
that asks "who leads this case" asks the institution it belongs to *now* (tasks/casefile.institution_leader,
the access policy's case facts in tasks/access.py), so the new leader takes over and the old one is not
reminded again; the old institution's leaders who were parties on the case as leaders are taken off it.
The new leader is told in Danish (`case_transferred`). Running it twice moves once and tells once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from pprflow.models.access import LEADER_ROLES, Perm
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.rules_deadlines import kind_label
from pprflow.models.rules_moves import check_transfer
from pprflow.models.rules_privacy import check_no_cpr_number
from pprflow.models.tables import CaseParty, Deadline, Institution, Meeting, StaffMember
from pprflow.models.types import utcnow
from pprflow.tasks import audit
from pprflow.tasks.access import authorize
from pprflow.tasks.casefile import base_context, case_context, get_case, institution_leader, person_name
from pprflow.tasks.context import Ctx
from pprflow.tasks.outbox import is_protected_parent, queue_message


def transfer_case(*, ctx: Ctx, case_id: int, to_institution: str, today: dt.date) -> dict[str, Any]:
    """ROLE-3: move an open case to the institution the child moved to; tell its leader."""
    name = to_institution.strip()
    check_no_cpr_number("--to-institution", name)  # PRIV-2
    if not name:
        raise InvalidInput("--to-institution must name the school or daycare the child moved to", rule_id="ROLE-3")
    with Session(ctx.engine, expire_on_commit=False) as session:
        case = get_case(session, case_id)
        # ROLE-3/ROLE-1: the outgoing side moves the case (coordinator, leader, assigned PPR, administrator)
        authorize(session, ctx.actor, Perm.CASE_HANDOVER, case=case, what="case transfer")  # PRIV-4
        target = session.exec(select(Institution).where(Institution.name == name)).first()
        if target is None:
            raise InvalidInput(f"institution {name!r} is not registered: check the name or add it to the staff "
                               "directory (pprflow staff import) first", rule_id="ROLE-3")
        source = session.get(Institution, case.institution_id)
        if source is not None and source.id == target.id:
            return {"case_id": case_id, "institution": target.name, "changed": False, "messages": [],
                    "rule_id": "ROLE-3"}
        check_transfer(case_id=case_id, status=case.status, from_name=source.name if source else "",
                       from_kind=source.kind if source else "", to_name=target.name, to_kind=target.kind)
        _check_not_led_by_a_parent(session, case_id=case_id, target=target)
        old_leader = institution_leader(session, case)
        removed = _retire_old_leaders(session, case_id=case_id, old_institution_id=case.institution_id,
                                      actor=ctx.actor)
        case.institution_id = target.id or 0
        case.last_activity_at = utcnow()
        session.add(case)
        session.flush()
        open_rows = list(session.exec(select(Deadline).where(Deadline.case_id == case_id,
                                                             Deadline.done_at == None)).all())  # noqa: E711
        audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case_id, case_id=case_id,
                     reason="ROLE-3", detail={"institution": {"from": source.name if source else None,
                                                              "to": target.name},
                                              "open_deadlines": len(open_rows), "leaders_taken_off": removed,
                                              "confidential_from_parents": case.confidential_from_parents})
        new_leader = institution_leader(session, case)
        old_coordinator = case.coordinator_email
        moves_coordinator = _belongs_to(session, old_coordinator, source.id if source else None) or \
            old_coordinator.strip().lower() in {r.lower() for r in removed}
        if moves_coordinator and is_protected_parent(session, case_id, new_leader):
            session.rollback()  # ESC-1/ROLE-1: a parent of the child never coordinates; nothing is moved
            raise RuleViolation("ROLE-1", f"{new_leader}, leader of {target.name}, is a parent of this child: "
                                          "hand the case to another professional first (pprflow case handover), "
                                          "then transfer it (ESC-1)")
        if moves_coordinator:
            # ROLE-1/ROLE-3: the old institution's coordinator does not follow the child; the new leader takes over
            case.coordinator_email = new_leader
            session.add(case)
            audit.record(session, actor=ctx.actor, action="change", entity="case", entity_id=case_id,
                         case_id=case_id, reason="ROLE-1",
                         detail={"coordinator": {"from": old_coordinator, "to": new_leader}, "because": "ROLE-3"})
        _hand_over_meetings(session, case_id=case_id, old_institution_id=source.id if source else None,
                            removed=removed, new_leader=new_leader, actor=ctx.actor)
        messages: list[int] = []
        if new_leader and new_leader.strip().lower() != old_leader.strip().lower():
            context = {
                **base_context(ctx.profile, recipient_name=person_name(session, new_leader, case_id=case_id)),
                "case": case_context(session, case, ctx.profile),
                "from_institution": source.name if source else "",
                "transferred_on": today,
                "open_deadlines": [{"label": kind_label(d.kind, d.rule_id), "due": d.due_on}
                                   for d in sorted(open_rows, key=lambda d: d.due_on)],
                "link": None,
            }
            message = queue_message(session, kind="case_transferred", to=new_leader, context=context,
                                    serves=f"transfer:{target.id}", sender=ctx.profile.sender, case=case,
                                    actor=ctx.actor)
            if message is not None and message.id is not None:
                messages.append(message.id)
        session.commit()
        return {"case_id": case_id, "institution": target.name, "previous_institution": source.name if source
                else None, "changed": True, "new_leader": new_leader, "open_deadlines": len(open_rows),
                "coordinator": case.coordinator_email, "messages": messages, "rule_id": "ROLE-3"}


def _belongs_to(session: Session, email: str, institution_id: int | None) -> bool:
    member = session.exec(select(StaffMember).where(StaffMember.email == email.strip().lower())).first()
    return member is not None and institution_id is not None and member.institution_id == institution_id


def _retire_old_leaders(session: Session, *, case_id: int, old_institution_id: int, actor: str) -> list[str]:
    """ROLE-3: the old institution's leaders on the case as leaders are taken off it (audited), so no reminder
    and no access follows them; everyone else on the case (parents, partners, PPR) stays."""
    removed = []
    for party in session.exec(select(CaseParty).where(CaseParty.case_id == case_id)).all():
        if party.is_parent or party.role not in LEADER_ROLES:
            continue
        member = session.exec(select(StaffMember).where(StaffMember.email == party.email)).first()
        if member is not None and member.institution_id not in (None, old_institution_id):
            continue  # a leader of another institution on the case for another reason stays
        removed.append(party.email)
        audit.record(session, actor=actor, action="delete", entity="caseparty", entity_id=party.id, case_id=case_id,
                     reason="ROLE-3", detail={"email": party.email, "role": party.role})
        session.delete(party)
    return removed


def _hand_over_meetings(session: Session, *, case_id: int, old_institution_id: int | None, removed: list[str],
                        new_leader: str, actor: str) -> None:
    """ROLE-3/MEET-4: a meeting not yet held, led by the old institution's leader, is led by the new leader (so
    the old one is neither reminded of it nor let into it as "meeting leader", PRIV-4)."""
    gone = {r.strip().lower() for r in removed}
    for meeting in session.exec(select(Meeting).where(Meeting.case_id == case_id, Meeting.status != "cancelled",
                                                      Meeting.minutes_recorded_at == None)).all():  # noqa: E711
        leader = (meeting.leader_email or "").strip().lower()
        if not leader or not new_leader or not (leader in gone or _belongs_to(session, leader, old_institution_id)):
            continue
        meeting.leader_email = new_leader
        session.add(meeting)
        audit.record(session, actor=actor, action="change", entity="meeting", entity_id=meeting.id, case_id=case_id,
                     reason="ROLE-3", detail={"leader": {"from": leader, "to": new_leader}})


def _check_not_led_by_a_parent(session: Session, *, case_id: int, target: Institution) -> None:
    """ESC-1: the case is not moved to an institution whose only leaders are the child's parents (nobody
    there could lead it; `institution_leader` passes a parent over)."""
    from pprflow.models.address import address_key
    from pprflow.models.errors import RuleViolation
    from pprflow.tasks.outbox import parent_emails

    leaders = [m.email for m in session.exec(select(StaffMember).where(StaffMember.institution_id == target.id)).all()
               if m.role in LEADER_ROLES]
    parents = parent_emails(session, case_id)
    if leaders and all(address_key(e) in parents for e in leaders):
        raise RuleViolation("ESC-1", f"the leader of {target.name!r} is a parent of the child: the case cannot be "
                                     "led there; ask PPR's administration who takes it over")
