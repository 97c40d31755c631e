"""The one access policy (PRIV-3, PRIV-4): who may read a case, change it and how, see a message, a list
or an audit trail. Pure: values in, a `Decision` out — no database, no Prefect, no mail.

The shape is Django's `user.has_perm(perm, obj)`: every entrance (CLI command, flow, next the web
pages) asks `decide(actor, perm, target)` through the one service-layer door `tasks/access.py`.

- **Known people (PRIV-4).** An actor is an *active* member of the staff directory (StaffMember), a
  system job (`system:sweep`, `system:outbox` ...) or nobody. Roles come from the directory, never
  from free text on a command. An administrator is a directory member with role `administrator`
  (PPR's administration/leadership: schedules district meetings, distributes and closes cases).
- **Reading (PRIV-3).** The staff assigned to the case — coordinator (tovholder), assigned PPR
  employee, submitter, staff and partners on the case (a partner whose consent was withdrawn loses
  it, CONS-1) — their leaders, the institution's leaders, and administrators.
- **Changing needs a right, not a name.** Only the coordinator, the assigned PPR employee, the
  institution's leader or an administrator change a case. Nothing gives the actor access to
  themselves: adding a partner or handing over is itself a change, so a stranger cannot use it.
- **Reporting abuse is never blocked by access (ESC-1, ESC-2, LAW-1).** Any active named staff
  member may report suspected violence or abuse on any case; the answer shows them nothing of it.
- **System jobs** run jobs (sweep, delivery, purge, KV cycle, district preparation) and nothing else.
- **Messages.** A case's message is read like its case; a message that belongs to no case (the
  district case list, the KV topic list) only by those who may read every case it shows — and,
  when it shows none, by administrators and the staff of its district or institution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

SYSTEM_PREFIX = "system:"
ADMINISTRATOR = "administrator"
"""The directory role of PPR's administration (PRIV-4): schedules, distributes, closes; reads every case."""

LEADER_ROLES: tuple[str, ...] = ("pedagogical_leader", "school_leader", "daycare_leader")
"""The institution's leaders (MEET-4, PRIV-3)."""


class Perm(StrEnum):
    """Everything an entrance may ask (PRIV-4). `case.*`, `meeting.*`, `consent.*` need a case."""

    # reading
    CASE_READ = "case.read"
    AUDIT_READ = "audit.read"
    MESSAGE_READ = "message.read"
    # changing a case
    CASE_LEVEL = "case.level"
    CASE_REVIEW = "case.review"
    CASE_INVESTIGATION = "case.investigation"
    CASE_HANDOVER = "case.handover"
    CASE_ADD_PARTNER = "case.add_partner"
    CASE_CLOSE = "case.close"
    CASE_ASSIGN = "case.assign"
    CASE_ACKNOWLEDGE = "case.acknowledge"
    CONSENT_GIVE = "consent.give"
    CONSENT_WITHDRAW = "consent.withdraw"
    MEETING_SCHEDULE = "meeting.schedule"
    MEETING_AGENDA = "meeting.agenda"
    MEETING_MINUTES = "meeting.minutes"
    MEETING_CANCEL = "meeting.cancel"
    MESSAGE_CANCEL = "message.cancel"
    MESSAGE_RETRY = "message.retry"
    # any active staff member (ESC-1 / LAW-1: reporting is never blocked by access)
    CASE_REPORT_ABUSE = "case.report_abuse"
    REFERRAL_SUBMIT = "referral.submit"
    KV_SUBMIT_TOPIC = "kv.submit_topic"
    KV_LIST = "kv.list"
    OUTBOX_LIST = "outbox.list"
    DISTRICT_LIST = "district.list"
    # the institution's leaders and administrators
    KV_SCHEDULE = "kv.schedule"
    # administrators
    DISTRICT_SCHEDULE = "district.schedule"
    STAFF_MANAGE = "staff.manage"
    STAFF_LIST = "staff.list"
    # jobs: system actors and administrators
    JOB_SWEEP = "job.sweep"
    JOB_DELIVER = "job.deliver"
    JOB_PURGE = "job.purge"
    JOB_KV_CYCLE = "job.kv_cycle"
    JOB_DISTRICT_PREPARE = "job.district_prepare"


READ_PERMS: frozenset[Perm] = frozenset({Perm.CASE_READ, Perm.AUDIT_READ, Perm.MESSAGE_READ})
CHANGE_PERMS: frozenset[Perm] = frozenset({
    Perm.CASE_LEVEL, Perm.CASE_REVIEW, Perm.CASE_INVESTIGATION, Perm.CASE_HANDOVER, Perm.CASE_ADD_PARTNER,
    Perm.CASE_CLOSE, Perm.CASE_ASSIGN, Perm.CASE_ACKNOWLEDGE, Perm.CONSENT_GIVE, Perm.CONSENT_WITHDRAW,
    Perm.MEETING_SCHEDULE, Perm.MEETING_AGENDA, Perm.MEETING_MINUTES, Perm.MEETING_CANCEL, Perm.MESSAGE_CANCEL,
    Perm.MESSAGE_RETRY,
})
"""Changing a case: the coordinator, the assigned PPR employee, the institution's leader, an administrator."""
ANY_STAFF_PERMS: frozenset[Perm] = frozenset({
    Perm.CASE_REPORT_ABUSE, Perm.REFERRAL_SUBMIT, Perm.KV_SUBMIT_TOPIC, Perm.KV_LIST, Perm.OUTBOX_LIST,
    Perm.DISTRICT_LIST,
})
"""Any active member of the staff directory; the lists are filtered to what the member may read."""
ADMIN_PERMS: frozenset[Perm] = frozenset({Perm.DISTRICT_SCHEDULE, Perm.STAFF_MANAGE, Perm.STAFF_LIST})
JOB_PERMS: frozenset[Perm] = frozenset({
    Perm.JOB_SWEEP, Perm.JOB_DELIVER, Perm.JOB_PURGE, Perm.JOB_KV_CYCLE, Perm.JOB_DISTRICT_PREPARE,
})
CASE_PERMS: frozenset[Perm] = READ_PERMS - {Perm.MESSAGE_READ} | CHANGE_PERMS - {
    Perm.MESSAGE_CANCEL, Perm.MESSAGE_RETRY} | {Perm.CASE_REPORT_ABUSE}
"""The permissions asked about one case (the message ones are asked about a message's case)."""


def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


def is_system_actor(actor: str) -> bool:
    """`system:sweep`, `system:outbox` ...: a scheduled job doing its own work, not a person."""
    return actor.strip().lower().startswith(SYSTEM_PREFIX)


ActorKind = Literal["person", "system", "unknown", "inactive"]


@dataclass(frozen=True)
class Actor:
    """Who acts, as the staff directory knows them (PRIV-4)."""

    id: str
    kind: ActorKind
    role: str | None = None
    institution_id: int | None = None
    district: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(id=name.strip().lower(), kind="system")

    @classmethod
    def unknown(cls, raw: str) -> Actor:
        return cls(id=_norm(raw), kind="unknown")

    @property
    def is_person(self) -> bool:
        """An active member of the staff directory."""
        return self.kind == "person"

    @property
    def is_administrator(self) -> bool:
        return self.is_person and self.role == ADMINISTRATOR


@dataclass(frozen=True)
class CaseFacts:
    """The people of one case, as the policy needs them (emails lower-case).

    `assigned`: coordinator, assigned PPR employee, submitter and staff/partners still on the case
    (no parents; no partner whose consent was withdrawn, CONS-1), each with why.
    `leaders`: the leaders of those people (StaffMember.leader_email).
    `institution_leaders`: the leaders of the case's institution (the institution the case belongs to now).
    """

    case_id: int | None
    coordinator: str
    assigned_ppr: str | None = None
    assigned: Mapping[str, str] = field(default_factory=dict)
    leaders: Mapping[str, str] = field(default_factory=dict)
    institution_leaders: frozenset[str] = frozenset()
    institution_id: int | None = None
    district: str | None = None


def case_facts(*, case_id: int | None, coordinator: str, assigned_ppr: str | None, submitted_by: str,
               staff_parties: Iterable[tuple[str, str]], leader_of: Mapping[str, str | None],
               institution_leaders: Iterable[str], institution_id: int | None = None,
               district: str | None = None) -> CaseFacts:
    """Build the facts from the case's rows (emails compared case-insensitively).

    `staff_parties`: (email, role) of the non-parent parties still on the case.
    `leader_of`: a staff member's email -> their leader's email (StaffMember.leader_email).
    """
    assigned: dict[str, str] = {}
    for email, why in [(coordinator, "coordinator"), (assigned_ppr, "assigned PPR employee"),
                       (submitted_by, "submitter"), *((e, f"on the case ({r})") for e, r in staff_parties)]:
        if _norm(email) and _norm(email) not in assigned:
            assigned[_norm(email)] = why
    leaders: dict[str, str] = {}
    for email in list(assigned):
        leader = _norm(leader_of.get(email))
        if leader and leader not in assigned and leader not in leaders:
            leaders[leader] = f"leader of {email}"
    inst_leaders = frozenset(_norm(e) for e in institution_leaders if _norm(e))
    for leader in sorted(inst_leaders):
        if leader not in assigned and leader not in leaders:
            leaders[leader] = "leader of the institution"
    return CaseFacts(case_id=case_id, coordinator=_norm(coordinator), assigned_ppr=_norm(assigned_ppr) or None,
                     assigned=assigned, leaders=leaders, institution_leaders=inst_leaders,
                     institution_id=institution_id, district=district)


@dataclass(frozen=True)
class MessageFacts:
    """A message's case (read like the case), or the cases a caseless list shows, and where it belongs."""

    case: CaseFacts | None = None
    shows: tuple[CaseFacts, ...] = ()
    institution_id: int | None = None
    district: str | None = None


@dataclass(frozen=True)
class Decision:
    """The policy's answer: allowed or not, and why (the basis is audited; the refusal is shown)."""

    allowed: bool
    basis: str = ""
    refusal: str = ""
    rule_id: str = "PRIV-3"


def _allow(basis: str) -> Decision:
    return Decision(True, basis=basis)


def _refuse(text: str, rule_id: str = "PRIV-3") -> Decision:
    return Decision(False, refusal=text, rule_id=rule_id)


def read_basis(actor: Actor, facts: CaseFacts) -> str | None:
    """PRIV-3: why `actor` may read the case, or None."""
    if not actor.is_person:
        return None
    if actor.is_administrator:
        return "administrator"
    return facts.assigned.get(actor.id) or facts.leaders.get(actor.id)


def change_basis(actor: Actor, facts: CaseFacts, *, also: Mapping[str, str] | None = None) -> str | None:
    """PRIV-4: why `actor` may change the case — a right on it, not a name — or None."""
    if not actor.is_person:
        return None
    if actor.is_administrator:
        return "administrator"
    if actor.id == facts.coordinator:
        return "coordinator"
    if facts.assigned_ppr and actor.id == facts.assigned_ppr:
        return "assigned PPR employee"
    if actor.id in facts.institution_leaders:
        return "leader of the institution"
    # MEET-4: the one leading a meeting sends its agenda and minutes; LAW-2: the notifier records the
    # acknowledgement of their own notification. The entrance names them (`also`: email -> why).
    return {_norm(k): v for k, v in (also or {}).items()}.get(actor.id)


def _who(actor: Actor) -> str:
    return actor.id or "(ingen)"


def _not_known(actor: Actor) -> Decision | None:
    """PRIV-4: only active, named members of the staff directory act (system jobs only run jobs)."""
    if actor.kind == "inactive":
        return _refuse(f"{_who(actor)} er deaktiveret i medarbejderkartoteket og kan ikke handle; "
                       "bed en administrator om at genaktivere (pprflow staff add)", "PRIV-4")
    if actor.kind == "unknown":
        return _refuse(f"{_who(actor)} er ikke en kendt, aktiv medarbejder; handl som en navngiven medarbejder "
                       "med --as EMAIL (en administrator tilføjer dig med pprflow staff add)", "PRIV-4")
    if actor.kind == "system":
        return _refuse(f"{_who(actor)} er et systemjob og kører kun job; en sag læses og ændres af en navngiven "
                       "medarbejder: brug --as EMAIL", "PRIV-4")
    return None


def decide(actor: Actor, perm: Perm, target: CaseFacts | MessageFacts | None = None, *,
           also: Mapping[str, str] | None = None, institution_id: int | None = None) -> Decision:
    """May `actor` do `perm` (on `target`)? The one policy (PRIV-3, PRIV-4)."""
    if perm in JOB_PERMS:
        if actor.kind == "system" or actor.is_administrator:
            return _allow("system job" if actor.kind == "system" else "administrator")
        return _not_known(actor) or _refuse(
            f"{_who(actor)} må ikke køre job ({perm.value}); det gør systemet eller en administrator", "PRIV-4")
    refused = _not_known(actor)
    if refused is not None:
        return refused
    if perm in ANY_STAFF_PERMS:
        return _allow("administrator" if actor.is_administrator else "active staff member")
    if perm in ADMIN_PERMS:
        return _allow("administrator") if actor.is_administrator else _refuse(
            f"{_who(actor)} må ikke {perm.value}: kun en administrator (rolle administrator i "
            "medarbejderkartoteket)", "PRIV-4")
    if perm is Perm.KV_SCHEDULE:
        if actor.is_administrator:
            return _allow("administrator")
        if actor.role in LEADER_ROLES and institution_id is not None and actor.institution_id == institution_id:
            return _allow("leader of the institution")
        return _refuse(f"{_who(actor)} må ikke planlægge KV for institutionen: kun dens leder eller en "
                       "administrator", "PRIV-4")
    if perm is Perm.MESSAGE_READ:
        if not isinstance(target, MessageFacts):
            raise TypeError("message.read needs MessageFacts")
        return _message_read(actor, target)
    if not isinstance(target, CaseFacts):
        raise TypeError(f"{perm.value} needs the case's facts")
    if perm in READ_PERMS:
        basis = read_basis(actor, target)
        return _allow(basis) if basis else _refuse(
            f"{_who(actor)} må ikke læse sag {target.case_id}: kun sagens medarbejdere og deres ledere; "
            "bed sagens tovholder om at tilføje dig")
    if perm in CHANGE_PERMS:
        basis = change_basis(actor, target, also=also)
        return _allow(basis) if basis else _refuse(
            f"{_who(actor)} må ikke ændre sag {target.case_id} ({perm.value}): kun tovholderen, den tildelte "
            "PPR-medarbejder, institutionens leder eller en administrator", "PRIV-4")
    raise ValueError(f"unknown permission {perm!r}")  # pragma: no cover - every Perm is handled above


def _message_read(actor: Actor, message: MessageFacts) -> Decision:
    if message.case is not None:
        basis = read_basis(actor, message.case)
        return _allow(basis) if basis else _refuse(
            f"{_who(actor)} må ikke læse mails i sag {message.case.case_id}: kun sagens medarbejdere og "
            "deres ledere")
    if actor.is_administrator:
        return _allow("administrator")
    blocked = [f.case_id for f in message.shows if read_basis(actor, f) is None]
    if blocked:
        return _refuse(f"{_who(actor)} må ikke læse mailen: den viser sager, du ikke må læse "
                       f"({len(blocked)} af {len(message.shows)})")
    if message.shows:
        return _allow("may read every case it shows")
    if (message.district and actor.district == message.district) or (
            message.institution_id is not None and actor.institution_id == message.institution_id):
        return _allow("staff of its district or institution")
    return _refuse(f"{_who(actor)} må ikke læse mailen: kun distriktets eller institutionens medarbejdere")


def has_perm(actor: Actor, perm: Perm, target: CaseFacts | MessageFacts | None = None, **kw: object) -> bool:
    """`decide(...).allowed` (Django's `user.has_perm(perm, obj)`)."""
    return decide(actor, perm, target, **kw).allowed  # type: ignore[arg-type]
