"""Shared by the pathway scenarios: flow-run environment, the case's people, delivered .eml files."""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import CaseParty, StaffMember
from pprflow.tasks.mime import KEY_HEADER
from tests.factories import case_with_parents, put_staff

PARENTS = frozenset({"mor@hjem.example", "far@hjem.example"})
COORDINATOR = "laerer@skole.example"
LEADER = "leder@skole.example"
PSYCHOLOGIST = "ahmed@ppr.example"
HEALTH_VISITOR = "hanne@sundhed.example"


def open_case(engine: Engine, *, level: int = 1) -> int:
    """A school case with two parents, a class teacher as coordinator (ROLE-1) and the school leader."""
    with Session(engine) as session:
        case = case_with_parents(session, level=level, coordinator=COORDINATOR)
        party = session.exec(select(CaseParty).where(CaseParty.email == COORDINATOR)).one()
        party.name, party.role = "Sofie Lærer", "teacher"
        session.add(party)
        session.add(CaseParty(case_id=case.id or 0, name="Lene Leder", email=LEADER, role="school_leader"))
        put_staff(session, StaffMember(name="Sofie Lærer", email=COORDINATOR, role="teacher",
                                institution_id=case.institution_id, leader_email=LEADER))
        put_staff(session, StaffMember(name="Lene Leder", email=LEADER, role="school_leader",
                                institution_id=case.institution_id))
        session.commit()
        return case.id or 0


@dataclass(frozen=True)
class Delivered:
    """One delivered .eml file, parsed."""

    to: str
    cc: tuple[str, ...]
    subject: str
    template_key: str  # the outbox idempotency key: "<kind>|case:<id>|<serves>|<recipient>"
    has_invite: bool
    text: str


def read_mail_dir(mail_dir: Path) -> list[Delivered]:
    result = []
    for path in sorted(mail_dir.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        # bare addresses: To and Cc carry display names (issue 13/16), which may contain commas
        cc = tuple(a for _, a in email.utils.getaddresses([str(v) for v in msg.get_all("Cc", [])]) if a)
        texts = [part.get_content() for part in msg.walk() if part.get_content_type() == "text/plain"]
        result.append(Delivered(
            to=email.utils.parseaddr(str(msg["To"]))[1], cc=cc, subject=str(msg["Subject"]),
            template_key=" ".join(str(msg.get(KEY_HEADER, "")).split()),
            has_invite=any(part.get_content_type() == "text/calendar" for part in msg.walk()),
            text="\n".join(texts),
        ))
    return result
