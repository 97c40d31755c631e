"""Reading a case for a message: the `case` context every template needs, names, roles and leaders.

Shared by meetings, levels, abuse, consent and handover. Reads only; the caller's session and
transaction. Never puts a child's name in a context: the pseudonym and birth year only (PRIV-2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from pprflow.models.access import LEADER_ROLES  # noqa: F401 - re-exported (tasks/abuse.py)
from pprflow.models.address import address_key
from pprflow.models.errors import NotFound
from pprflow.models.profile import Profile
from pprflow.models.tables import Case, CaseParty, Child, Consent, Institution, StaffMember
from pprflow.tasks.transports.base import Attachment

PATHWAY_LABELS: dict[str, str] = {
    "ppr_learning_environment": "Henvendelse til PPR – læringsmiljøforløb",
    "ppr_individual": "Henvendelse til PPR – individforløb",
    "ppv": "Pædagogisk-psykologisk vurdering (PPV)",
    "intervention_team": "Pædagogisk Indsatsteam",
    "social_adviser": "Socialfaglig rådgiver",
    "early_years_consultant": "Småbørnskonsulent",
}

ROLE_LABELS: dict[str, str] = {
    "parent": "Forælder",
    "teacher": "Lærer",
    "pedagogue": "Pædagog",
    "pedagogical_leader": "Pædagogisk leder",
    "school_leader": "Skoleleder",
    "daycare_leader": "Dagtilbudsleder",
    "coordinator": "Tovholder",
    "ppr_psychologist": "Psykolog, PPR",
    "speech_therapist": "Logopæd",
    "physiotherapist": "Fysio-/ergoterapeut",
    "outposted_social_worker": "Fremskudt socialrådgiver",
    "family_centre_caseworker": "Socialrådgiver, Familie- og Rådgivningscentret",
    "caseworker": "Sagsbehandler, myndighed",
    # PATH-8: the collaboration partners [002]
    "health_visitor": "Sundhedsplejerske",
    "family_department": "Familieafdelingen",
    "open_counselling": "De Åbne Rådgivninger",
    "uu": "Ungdommens Uddannelsesvejledning (UU)",
    "ungvejle": "UngVejle",
    "ssp": "SSP",
}

# MEET-4: the meeting leader is usually the pedagogical leader; else the institution's leader (one
# definition, in the access policy: they read the institution's cases, PRIV-3).


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def staff_phone(session: Session, email: str | None) -> str | None:
    """The staff directory's phone number for an address (issue 16), if it has one."""
    if not email:
        return None
    member = session.exec(select(StaffMember).where(StaffMember.email == email.strip().lower())).first()
    return member.phone if member is not None and member.phone else None


def unit_context(profile: Profile) -> dict[str, Any]:
    """The sending unit as every mail shows it: display name, main phone, address, mailbox (issue 16)."""
    return {"name": profile.contact.unit_name, "phone": profile.contact.phone, "address": profile.contact.address,
            "email": profile.sender}


def signer_context(session: Session, email: str, *, case_id: int | None = None,
                   phone: str | None = None) -> dict[str, Any]:
    """The person who signs a mail: name, role (as it reads after a comma), phone and e-mail (issue 16).

    The mail's Reply-To is this e-mail, so an answer reaches the person, not the shared mailbox.
    """
    return {"name": person_name(session, email, case_id=case_id), "role": person_role(session, email, case_id=case_id),
            "phone": phone or staff_phone(session, email), "email": email.strip()}


def level_label(profile: Profile, level: int | None) -> str | None:
    """"Niveau 3" on the five-level model; the profile's own stage name otherwise (LVL-1)."""
    if level is None:
        return None
    if profile.levels.model == "five_levels" or not 1 <= level <= len(profile.levels.names):
        return f"Niveau {level}"
    return f"Niveau {level}: {profile.levels.names[level - 1]}"


MAX_ID = 2**63 - 1
"""The largest id either database stores; a larger number is no case (and no OverflowError)."""


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if case is None:
        raise NotFound(f"case {case_id} does not exist; see the case id in the receipt or `pprflow outbox list`")
    return case


def child_label(session: Session, case: Case) -> str:
    """Pseudonym and birth year, the group, or "anonym" — never a name (PRIV-2)."""
    if case.child_id is not None:
        child = session.get(Child, case.child_id)
        if child is not None:
            return f"{child.pseudonym} (født {child.birth_year})"
    if case.group_name:
        return f"gruppe: {case.group_name}"
    return "anonym"


def person_name(session: Session, email: str | None, *, case_id: int | None = None) -> str:
    """The name we know for an address: a staff member, a party on the case, else the address."""
    if not email:
        return ""
    needle = email.strip().lower()
    staff = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
    if staff is not None:
        return staff.name
    query = select(CaseParty)
    if case_id is not None:
        query = query.where(CaseParty.case_id == case_id)
    for party in session.exec(query).all():
        if party.email.strip().lower() == needle:
            return party.name
    return email


def case_context(session: Session, case: Case, profile: Profile) -> dict[str, Any]:
    """The `case` dict of templates/catalogue.py."""
    institution = session.get(Institution, case.institution_id)
    confidential = _confidential(session, case)
    return {
        "id": case.id,
        "pathway_label": PATHWAY_LABELS.get(case.pathway, case.pathway),
        "child_label": child_label(session, case),
        "institution": institution.name if institution else "",
        "district": institution.district if institution else None,
        "coordinator_name": person_name(session, case.coordinator_email, case_id=case.id),
        "coordinator_email": case.coordinator_email,
        "coordinator_phone": staff_phone(session, case.coordinator_email),
        "level_institution": level_label(profile, case.level_institution),
        "level_family": level_label(profile, case.level_family),
        # ESC-1: staff mail on a confidential case never tells anyone to involve or invite the parents
        # (the confidentiality follows the child: every case of the same child counts).
        "confidential_from_parents": confidential,
    }


def _confidential(session: Session, case: Case) -> bool:
    from pprflow.tasks.outbox import is_confidential

    return is_confidential(session, case)


def base_context(profile: Profile, *, recipient_name: str, sender_name: str | None = None,
                 signer: dict[str, Any] | None = None) -> dict[str, Any]:
    """What every template needs: the municipality, the sending unit, who it is for and who signs.

    `signer` (signer_context) is a person; without one the unit signs. `sender_name` is kept for
    callers that only know a name.
    """
    unit = unit_context(profile)
    name = signer["name"] if signer else (sender_name or unit["name"])
    return {"municipality": profile.display_name, "unit": unit, "recipient_name": recipient_name,
            "sender_name": name, "signer": signer}


def parties(session: Session, case_id: int) -> list[CaseParty]:
    return list(session.exec(
        select(CaseParty).where(CaseParty.case_id == case_id).order_by(col(CaseParty.id))
    ).all())


def party_by_email(session: Session, case_id: int, email: str) -> CaseParty | None:
    needle = email.strip().lower()
    return next((p for p in parties(session, case_id) if p.email.strip().lower() == needle), None)


def active_consents(session: Session, case_id: int) -> list[Consent]:
    """The case's consents that have not been withdrawn (CONS-1)."""
    return list(session.exec(
        select(Consent).where(Consent.case_id == case_id, Consent.withdrawn_at == None)  # noqa: E711
        .order_by(col(Consent.id))
    ).all())


def withdrawn_consent_ids(session: Session, case_id: int) -> set[int]:
    rows = session.exec(
        select(Consent.id).where(Consent.case_id == case_id, Consent.withdrawn_at != None)  # noqa: E711
    ).all()
    return {r for r in rows if r is not None}


def institution_leader(session: Session, case: Case) -> str:
    """MEET-4: the pedagogical leader, else the institution's leader, else the coordinator.

    Looked up among the case's parties first, then the institution's staff.
    """
    from pprflow.models.rules_moves import leader_roles_for
    from pprflow.tasks.outbox import parent_emails

    parents = parent_emails(session, case.id or 0)  # ESC-1: a leader who is the child's parent never leads it
    on_case = [p for p in parties(session, case.id or 0) if address_key(p.email) not in parents]
    staff = list(session.exec(
        select(StaffMember).where(StaffMember.institution_id == case.institution_id).order_by(col(StaffMember.id))
    ).all())
    institution = session.get(Institution, case.institution_id)
    # ROLE-2: before institution age the health visitor calls the network meeting; ROLE-3: always the leader of
    # the institution the case belongs to now
    for role in leader_roles_for(institution.kind if institution is not None else None):
        for party in on_case:
            if party.role == role and not party.is_parent:
                return party.email
        for member in staff:
            if member.role == role and address_key(member.email) not in parents:
                return member.email
    return case.coordinator_email


def leader_of(session: Session, email: str, case: Case) -> str:
    """LAW-2: the notifier's leader: their StaffMember.leader_email, else the institution's leader."""
    member = session.exec(
        select(StaffMember).where(StaffMember.email == email.strip().lower())
    ).first()
    if member is not None and member.leader_email:
        return member.leader_email
    return institution_leader(session, case)


@dataclass(frozen=True)
class Recipient:
    """One person a case message goes to, with why they may receive it."""

    email: str
    name: str
    role: str
    is_parent: bool = False
    consent_id: int | None = None


def unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One message per address (the first role wins)."""
    seen: set[str] = set()
    result = []
    for recipient in recipients:
        key = recipient.email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(recipient)
    return result


def case_recipients(session: Session, case: Case, *, include_parents: bool = True,
                    exclude: Iterable[str] = ()) -> list[Recipient]:
    """Everyone on the case who may be told something now.

    ESC-1: no parent while the case is confidential from the parents — we do not even try.
    CONS-1: no partner who joined on a consent that has been withdrawn.
    """
    from pprflow.tasks.outbox import is_confidential, protected_among

    withdrawn = withdrawn_consent_ids(session, case.id or 0)
    skip = {address_key(e) for e in exclude}
    confidential = is_confidential(session, case)  # ESC-1 follows the child, not this case row
    protected = protected_among(session, [p.email for p in parties(session, case.id or 0)])
    result = []
    for party in parties(session, case.id or 0):
        if address_key(party.email) in skip:
            continue
        if party.is_parent and (confidential or not include_parents):
            continue  # ESC-1 / MEET-1 exception
        if address_key(party.email) in protected:
            continue  # ESC-1: a parent of a confidential child, on this case under another role
        if party.consent_id is not None and party.consent_id in withdrawn:
            continue  # CONS-1
        result.append(Recipient(email=party.email, name=party.name, role=party.role,
                                is_parent=party.is_parent, consent_id=party.consent_id))
    return unique(result)


def person_role(session: Session, email: str, *, case_id: int | None = None) -> str:
    """The role label we know for an address (staff first, then the case's parties)."""
    needle = email.strip().lower()
    staff = session.exec(select(StaffMember).where(StaffMember.email == needle)).first()
    if staff is not None:
        institution = session.get(Institution, staff.institution_id) if staff.institution_id else None
        return role_label(staff.role) + (f", {institution.name}" if institution else "")
    if case_id is not None:
        party = party_by_email(session, case_id, email)
        if party is not None:
            return role_label(party.role)
    return "Medarbejder"


def leader_context(session: Session, email: str | None, *, case_id: int | None,
                   phone: str | None = None) -> dict[str, Any] | None:
    """The meeting leader (mødeleder, MEET-4) as parents must be able to reach them (issue 16)."""
    if not email:
        return None
    return signer_context(session, email, case_id=case_id, phone=phone)


def queue_for_recipients(
    session: Session,
    *,
    kind: str,
    recipients: Iterable[Recipient],
    shared: dict[str, Any],
    profile: Profile,
    sender_name: str | None = None,
    signer: dict[str, Any] | None = None,
    case: Case,
    serves: str,
    actor: str,
    attachments_for: Callable[[Recipient], Sequence[Attachment]] | None = None,
) -> list[int]:
    """Queue one `kind` message per recipient with the shared context; the outbox applies ESC-1/CONS-1
    again and drops what they forbid. Returns the ids of the messages queued (or already queued)."""
    from pprflow.tasks.outbox import queue_message

    queued: list[int] = []
    for recipient in recipients:
        context = {**base_context(profile, recipient_name=recipient.name, sender_name=sender_name, signer=signer),
                   **shared}
        message = queue_message(
            session, kind=kind, to=recipient.email, context=context, serves=serves, sender=profile.sender,
            case=case, is_parent=recipient.is_parent, consent_id=recipient.consent_id, actor=actor,
            attachments=attachments_for(recipient) if attachments_for else (),
        )
        if message is not None and message.id is not None:
            queued.append(message.id)
    return queued
