"""The one service-layer entrance to the access policy (PRIV-3, PRIV-4): `authorize(...)`.

Every CLI command and every flow reaches its service function, and every service function that reads
or changes a case, a message, a list or an audit trail asks `authorize` first (so a new entrance
cannot skip it: tests/test_access_entrances.py walks them all). It

1. resolves the actor against the staff directory (`resolve_actor`: active member, system job, or
   nobody; the role comes from the directory, never from the command line),
2. loads the facts the pure policy needs (`case_facts_for`, `message_facts_for`),
3. asks `pprflow.models.access.decide`,
4. on a refusal writes one "refused" audit row per case it touches, in its own transaction (it must
   survive the caller's rollback, PRIV-1), and raises `AccessDenied` naming PRIV-3 or PRIV-4.

Lists are filtered, never all-or-nothing: `readable_case_ids` / `readable_messages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.access import (
    CHANGE_PERMS,
    LEADER_ROLES,
    Actor,
    CaseFacts,
    Decision,
    MessageFacts,
    Perm,
    case_facts,
    decide,
    is_system_actor,
)
from pprflow.models.errors import AccessDenied
from pprflow.models.rules_moves import leader_roles_for
from pprflow.models.tables import Case, CaseParty, Consent, Deadline, Institution, Meeting, OutboxMessage, StaffMember
from pprflow.tasks import audit


def resolve_actor(session: Session, actor: str) -> Actor:
    """Who `actor` is in the staff directory (PRIV-4): an active member, a system job, or unknown/inactive."""
    raw = (actor or "").strip()
    if is_system_actor(raw):
        return Actor.system(raw)
    email = raw.lower()
    member = session.exec(select(StaffMember).where(StaffMember.email == email)).first() if "@" in email else None
    if member is None:
        return Actor.unknown(raw)
    if not member.active:
        return Actor(id=email, kind="inactive", role=member.role)
    district = member.district
    if district is None and member.institution_id is not None:
        inst = session.get(Institution, member.institution_id)
        district = inst.district if inst else None
    return Actor(id=email, kind="person", role=member.role, institution_id=member.institution_id, district=district)


def case_facts_for(session: Session, case: Case) -> CaseFacts:
    """The people of `case` (PRIV-3): from the case, its parties (CONS-1) and the staff directory."""
    withdrawn = {c for c in session.exec(select(Consent.id).where(
        Consent.case_id == case.id, col(Consent.withdrawn_at).is_not(None))).all()}
    staff_parties = [
        (p.email, p.role) for p in session.exec(select(CaseParty).where(CaseParty.case_id == case.id)).all()
        if not p.is_parent and (p.consent_id is None or p.consent_id not in withdrawn)  # CONS-1
    ]
    people = {e.strip().lower() for e in (case.coordinator_email, case.assigned_ppr_email, case.submitted_by_email,
                                          *(e for e, _ in staff_parties)) if e}
    members = session.exec(select(StaffMember).where(col(StaffMember.email).in_(people))).all() if people else []
    institution = session.get(Institution, case.institution_id)
    # ROLE-3: the leaders of the institution the case belongs to now; ROLE-2: the health visitor of the team
    roles = leader_roles_for(institution.kind if institution is not None else None)
    leaders = session.exec(select(StaffMember.email).where(
        StaffMember.institution_id == case.institution_id, col(StaffMember.role).in_(roles),
        StaffMember.active == True)).all()  # noqa: E712
    # MEET-4 / ROLE-1: a leader on the case (a party with a leader role) is the institution's leader for it
    leaders = [*leaders, *(e for e, r in staff_parties if r in LEADER_ROLES)]
    return case_facts(
        case_id=case.id, coordinator=case.coordinator_email, assigned_ppr=case.assigned_ppr_email,
        submitted_by=case.submitted_by_email, staff_parties=staff_parties,
        leader_of={m.email.strip().lower(): m.leader_email for m in members}, institution_leaders=leaders,
        institution_id=case.institution_id, district=institution.district if institution else None,
    )


def case_facts_for_many(session: Session, cases: Sequence[Case]) -> dict[int, CaseFacts]:
    """`case_facts_for` of many cases in a fixed number of queries (the web app's lists, PRIV-3): the same facts,
    built by the same `case_facts`, so the one policy decides exactly as it does case by case."""
    cases = [c for c in cases if c.id is not None]
    if not cases:
        return {}
    ids = [c.id for c in cases]
    withdrawn = set(session.exec(select(Consent.id).where(
        col(Consent.case_id).in_(ids), col(Consent.withdrawn_at).is_not(None))).all())
    parties: dict[int, list[tuple[str, str]]] = {}
    for p in session.exec(select(CaseParty).where(col(CaseParty.case_id).in_(ids)).order_by(col(CaseParty.id))).all():
        if not p.is_parent and (p.consent_id is None or p.consent_id not in withdrawn):  # CONS-1
            parties.setdefault(p.case_id, []).append((p.email, p.role))
    people_of: dict[int, set[str]] = {}
    for case in cases:
        people_of[case.id] = {e.strip().lower() for e in (  # type: ignore[index]
            case.coordinator_email, case.assigned_ppr_email, case.submitted_by_email,
            *(e for e, _ in parties.get(case.id, []))) if e}  # type: ignore[arg-type]
    everyone = set().union(*people_of.values())
    leader_of = {m.email.strip().lower(): m.leader_email for m in session.exec(
        select(StaffMember).where(col(StaffMember.email).in_(everyone))).all()} if everyone else {}
    inst_ids = {c.institution_id for c in cases}
    inst_leaders: dict[int, list[str]] = {}
    for email, inst_id in session.exec(select(StaffMember.email, StaffMember.institution_id).where(
            col(StaffMember.institution_id).in_(inst_ids), col(StaffMember.role).in_(LEADER_ROLES),
            StaffMember.active == True)).all():  # noqa: E712
        if inst_id is not None:
            inst_leaders.setdefault(inst_id, []).append(email)
    districts = {i.id: i.district for i in session.exec(select(Institution).where(
        col(Institution.id).in_(inst_ids))).all()}
    result: dict[int, CaseFacts] = {}
    for case in cases:
        staff_parties = parties.get(case.id, [])  # type: ignore[arg-type]
        leaders = [*inst_leaders.get(case.institution_id, []), *(e for e, r in staff_parties if r in LEADER_ROLES)]
        result[case.id] = case_facts(  # type: ignore[index]
            case_id=case.id, coordinator=case.coordinator_email, assigned_ppr=case.assigned_ppr_email,
            submitted_by=case.submitted_by_email, staff_parties=staff_parties,
            leader_of={e: leader_of[e] for e in people_of[case.id] if e in leader_of},  # type: ignore[index]
            institution_leaders=leaders, institution_id=case.institution_id,
            district=districts.get(case.institution_id),
        )
    return result


def _meeting_id(message: OutboxMessage) -> int | None:
    """The meeting a caseless message serves (`...|meeting:<id>|...` or `...|meeting:<id>:<date>...|...` in its
    idempotency key: the district case list and the KV mail name the meeting's date since adv3)."""
    for part in message.idempotency_key.split("|"):
        number = part[8:].split(":", 1)[0]
        if part.startswith("meeting:") and number.isdigit():
            return int(number)
    return None


def shown_case_ids(session: Session, message: OutboxMessage) -> list[int]:
    """The cases a message shows: its own case; for a message that belongs to no case, a district
    meeting's case list shows the cases placed on that meeting; a KV topic list shows none (KV-1)."""
    if message.case_id is not None:
        return [message.case_id]
    meeting_id = _meeting_id(message)
    if meeting_id is None:
        return []
    rows = session.exec(select(Deadline.case_id).where(Deadline.meeting_id == meeting_id,
                                                       col(Deadline.case_id).is_not(None))).all()
    return sorted({r for r in rows if r is not None})


def _message_place(session: Session, message: OutboxMessage) -> tuple[int | None, str | None]:
    meeting_id = _meeting_id(message)
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        return None, None
    district = meeting.district
    if district is None and meeting.institution_id is not None:
        inst = session.get(Institution, meeting.institution_id)
        district = inst.district if inst else None
    return meeting.institution_id, district


def message_facts_for(session: Session, message: OutboxMessage) -> MessageFacts:
    """A case's message is read like its case; a caseless one by those who may read every case it shows."""
    if message.case_id is not None:
        case = session.get(Case, message.case_id)
        return MessageFacts(case=case_facts_for(session, case) if case is not None else None)
    shows = tuple(case_facts_for(session, c) for c in (session.get(Case, i) for i in shown_case_ids(session, message))
                  if c is not None)
    institution_id, district = _message_place(session, message)
    return MessageFacts(shows=shows, institution_id=institution_id, district=district)


def record_refusal(engine: Engine, *, actor: str, case_ids: Iterable[int | None], what: str, perm: Perm,
                   rule_id: str, entity: str = "case", entity_id: object | None = None) -> None:
    """A refusal is itself audited on every case it touches (PRIV-1), committed on its own."""
    with Session(engine) as session:
        for case_id in list(case_ids) or [None]:
            audit.record(session, actor=actor, action="refused", entity=entity,
                         entity_id=entity_id if entity_id is not None else case_id, case_id=case_id,
                         reason=rule_id, detail={"what": what, "perm": perm.value})
        session.commit()


def authorize(session: Session, actor: str, perm: Perm, *, what: str, case: Case | int | None = None,
              message: OutboxMessage | None = None, also: Mapping[str, str] | None = None,
              institution_id: int | None = None) -> Decision:
    """THE entrance (PRIV-3, PRIV-4): may `actor` do `perm`? Returns the decision; a refusal is audited and
    raised as `AccessDenied` (one line, Danish, naming the rule)."""
    who = resolve_actor(session, actor)
    target: CaseFacts | MessageFacts | None = None
    touched: list[int | None] = []
    entity, entity_id = "case", None
    if message is not None:
        target = message_facts_for(session, message)
        touched = [message.case_id] if message.case_id is not None else list(shown_case_ids(session, message))
        entity, entity_id = "outboxmessage", message.id
        if perm is not Perm.MESSAGE_READ and message.case_id is not None:
            target = target.case  # changing a case's message is changing the case
        elif perm is not Perm.MESSAGE_READ:
            target = CaseFacts(case_id=None, coordinator="")  # a caseless message: administrators only
    elif case is not None:
        from pprflow.tasks.casefile import get_case

        row = case if isinstance(case, Case) else get_case(session, case)  # raises NotFound
        target = case_facts_for(session, row)
        touched = [row.id]
    elif perm in CHANGE_PERMS:
        target = CaseFacts(case_id=None, coordinator="")  # a change to no case: administrators and `also`
    decision = decide(who, perm, target, also=also, institution_id=institution_id)
    if decision.allowed and perm is not Perm.CASE_REPORT_ABUSE and _parent_of_confidential_child(
            session, who.id, [c for c in touched if c is not None]):
        # ESC-1: a parent of the child is never let into a case kept from the parents, whatever their role.
        record_refusal(session.get_bind(), actor=actor or "(ingen)", case_ids=touched, what=what,  # type: ignore[arg-type]
                       perm=perm, rule_id="ESC-1", entity=entity, entity_id=entity_id)
        raise AccessDenied(f"{who.id} er forælder til barnet i en sag, der holdes fortrolig over for forældrene",
                           rule_id="ESC-1")
    if decision.allowed:
        return decision
    record_refusal(session.get_bind(), actor=actor or "(ingen)", case_ids=touched, what=what,  # type: ignore[arg-type]
                   perm=perm, rule_id=decision.rule_id, entity=entity, entity_id=entity_id)
    raise AccessDenied(decision.refusal, rule_id=decision.rule_id)


def readable_case_ids(session: Session, actor: str, case_ids: Iterable[int]) -> set[int]:
    """The cases among `case_ids` that `actor` may read (PRIV-3): lists are filtered, never all or nothing."""
    who = resolve_actor(session, actor)
    result: set[int] = set()
    wanted = sorted(set(case_ids))
    for start in range(0, len(wanted), 500):  # a bounded IN list; the facts of a chunk in a few queries
        chunk = session.exec(select(Case).where(col(Case.id).in_(wanted[start:start + 500]))).all()
        for case_id, facts in case_facts_for_many(session, chunk).items():
            if decide(who, Perm.CASE_READ, facts).allowed:
                result.add(case_id)
    if result and _is_protected_parent(session, who.id):
        # ESC-1: a list never shows a parent the child's case kept from the parents (as `authorize` refuses it)
        result = {c for c in result if not _parent_of_confidential_child(session, who.id, [c])}
    return result


def readable_messages(session: Session, actor: str, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """The messages `actor` may read (PRIV-3): a case's message like its case, a caseless one per `decide`."""
    who = resolve_actor(session, actor)
    cache: dict[int, bool] = {}
    result = []
    for message in messages:
        if message.case_id is not None and message.case_id in cache:
            allowed = cache[message.case_id]
        else:
            allowed = decide(who, Perm.MESSAGE_READ, message_facts_for(session, message)).allowed
            if message.case_id is not None:
                cache[message.case_id] = allowed
        if allowed:
            result.append(message)
    if result and _is_protected_parent(session, who.id):  # ESC-1: as `authorize` refuses MESSAGE_READ
        result = [m for m in result if not _parent_of_confidential_child(
            session, who.id, [m.case_id] if m.case_id is not None else list(shown_case_ids(session, m)))]
    return result


def audit_list(session: Session, *, actor: str, entity: str, reason: str, terms: dict[str, Any],
               shown: Iterable[int | None], hidden: int) -> None:
    """A filtered list is audited on every case it showed (PRIV-1: a search, with its terms), in the caller's
    transaction; a list that showed no case is one row without a case."""
    cases: list[int | None] = [*sorted({c for c in shown if c is not None})]
    detail = {"terms": terms, "found": len(cases), "hidden": hidden}
    if len(cases) <= 1:
        for case_id in cases or [None]:
            audit.record(session, actor=actor, action="search", entity=entity, case_id=case_id, reason=reason,
                         detail=detail)
        return
    # A long list (the web app's pages): the same rows as audit.record writes, in one multi-row INSERT.
    from sqlalchemy import insert

    from pprflow.models.tables import AuditEvent
    from pprflow.models.types import utcnow

    at = utcnow()
    session.execute(insert(AuditEvent), [
        {"at": at, "actor": actor, "action": "search", "entity": entity, "entity_id": None, "case_id": case_id,
         "reason": reason, "detail": detail} for case_id in cases])


def authorize_in(engine: Engine, actor: str, perm: Perm, **kw: Any) -> Decision:
    """`authorize` in a session of its own: for a job or list entrance before its own transaction."""
    with Session(engine) as session:
        return authorize(session, actor, perm, **kw)


def _is_protected_parent(session: Session, actor_id: str | None) -> bool:
    """ESC-1: is the actor a parent of any child with a confidential case? (one indexed lookup)"""
    from pprflow.tasks.outbox import protected_among

    return bool(actor_id) and bool(protected_among(session, [actor_id or ""]))


def _parent_of_confidential_child(session: Session, actor_id: str | None, case_ids: list[int]) -> bool:
    """ESC-1: is the actor a parent of the child of one of these cases while the child is confidential?"""
    if not actor_id or not case_ids:
        return False
    from pprflow.tasks.outbox import is_confidential, parent_emails

    for case_id in case_ids:
        case = session.get(Case, case_id)
        if case is not None and is_confidential(session, case) and actor_id in parent_emails(session, case_id):
            return True
    return False
