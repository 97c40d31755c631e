"""The database tables (SQLModel). Each docstring carries the Danish term the users say.

Data flows one way: a validated input model -> these rows -> the outbox -> a transport.
Minimal data (PRIV-2): a child is a pseudonym and a birth year, never a CPR number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, event, text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from pprflow.models.types import UTCDateTime, utcnow


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Institution(SQLModel, table=True):
    """A daycare (dagtilbud) or school (skole) in a district (distrikt)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    kind: str = Field(max_length=20, description="daycare | school | health_visitors (sundhedsplejen, ROLE-2)")
    district: str = Field(index=True, max_length=100)


class StaffMember(SQLModel, table=True):
    """The staff directory (medarbejderkartotek, PRIV-4): who each person is, their role, institution and
    district, and whether they are active. An actor must be an active member (models/access.py)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(index=True, unique=True, max_length=254)
    role: str = Field(max_length=40, description="A staff role, or `administrator` (PPR's administration).")
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    leader_email: str | None = Field(default=None, max_length=254, description="Their leader (PRIV-3).")
    district: str | None = Field(default=None, max_length=100, description="PPR district (distrikt).")
    phone: str | None = Field(default=None, max_length=40,
                              description="Direct phone (telefon): mails give it so a reader can call (issue 16).")
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()},
                         description="A deactivated member acts on nothing (PRIV-4).")
    password_hash: str | None = Field(default=None, max_length=200,
                                      description="argon2 hash of a local account's password (web app); never shown.")


class Child(SQLModel, table=True):
    """A child (barn): pseudonym and birth year only, no CPR number (PRIV-2)."""

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=100)
    birth_year: int


_OPEN_CASE = text("status <> 'closed'")
_OPEN_UNASSIGNED = text("status <> 'closed' AND assigned_ppr_email IS NULL")
_OPEN_DEADLINE = text("done_at IS NULL")
_STUCK_DEADLINE = text("done_at IS NULL AND stuck_at IS NOT NULL")


class Case(SQLModel, table=True):
    """A case (sag) on a pathway, with one coordinator (tovholder, ROLE-1) and a level per sphere (LVL-1)."""

    __table_args__ = (
        # issue 18, "Vores sager": an institution's open cases newest first, page by page (keyset on id)
        Index("ix_case_open_institution", "institution_id", "id", postgresql_where=_OPEN_CASE,
              sqlite_where=_OPEN_CASE),
        # issue 18, "I dag": the open cases without a PPR employee, oldest first
        Index("ix_case_open_unassigned", "id", postgresql_where=_OPEN_UNASSIGNED, sqlite_where=_OPEN_UNASSIGNED),
    )

    id: int | None = Field(default=None, primary_key=True)
    pathway: str = Field(index=True, max_length=40)
    status: str = Field(default="open", index=True, max_length=30)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True)  # ESC-1 sibling look-up
    group_name: str | None = Field(default=None, max_length=100, description="Class or group (klasse/gruppe).")
    concern: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    submitted_by_email: str = Field(max_length=254)
    coordinator_email: str = Field(max_length=254, index=True, description="Tovholder (ROLE-1).")
    assigned_ppr_email: str | None = Field(default=None, max_length=254, index=True)
    level_institution: int = Field(default=1, description="Level in daycare/school (LVL-1).")
    level_family: int = Field(default=1, description="Level in the family (LVL-1).")
    confidential_from_parents: bool = Field(default=False, description="ESC-1: nothing reaches the parents.")
    specialised_effort_started_on: dt.date | None = Field(default=None, description="Level 4 start (CAL-6).")
    level3_reason: str | None = Field(default=None, max_length=2000, description="Why level 2 was skipped.")
    created_at: dt.datetime = _created()
    last_activity_at: dt.datetime = _created()
    closed_at: dt.datetime | None = _when(index=True)
    intake_key: str | None = Field(default=None, max_length=64, unique=True,
                                   description="Referral fingerprint: a duplicate flow run opens no second case.")


class CaseParty(SQLModel, table=True):
    """Someone on a case: parent (forælder), staff or partner (samarbejdspartner)."""

    __table_args__ = (UniqueConstraint("case_id", "email", name="uq_caseparty_case_email"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, index=True,
                       description="The one address type, bare and case-folded: a parent is a lookup (ESC-1).")
    role: str = Field(max_length=40, description="parent | a staff role | a partner kind")
    is_parent: bool = Field(default=False)
    consent_id: int | None = Field(default=None, foreign_key="consent.id",
                                   description="Partners who joined on a consent (CONS-1).")
    added_at: dt.datetime = _created()
    mailbox: str | None = Field(default=None, max_length=254, index=True,
                                description="The mailbox the address reaches, without a sub-address (mor+skole@ is "
                                            "mor@): a parent is recognised whatever the spelling (ESC-1). Set on "
                                            "every insert and update below.")


@event.listens_for(CaseParty, "before_insert")
@event.listens_for(CaseParty, "before_update")
def _party_mailbox(_mapper: Any, _connection: Any, party: CaseParty) -> None:
    from pprflow.models.address import mailbox_key

    party.mailbox = mailbox_key(party.email) or None


class Consent(SQLModel, table=True):
    """Written consent (samtykke) from the holders of parental authority (LAW-3, CONS-1)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    given_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    given_on: dt.date
    information: str = Field(sa_column=Column(Text, nullable=False))
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    withdrawn_at: dt.datetime | None = _when()


class ActionPlan(SQLModel, table=True):
    """An action plan (handleplan) in SMTTE form (PLAN-1)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    context: str = Field(sa_column=Column(Text, nullable=False), description="Sammenhæng")
    goal: str = Field(sa_column=Column(Text, nullable=False), description="Mål")
    signs: str = Field(sa_column=Column(Text, nullable=False), description="Tegn")
    measures: str = Field(sa_column=Column(Text, nullable=False), description="Tiltag")
    evaluation: str = Field(sa_column=Column(Text, nullable=False), description="Evaluering")
    community_measures: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True),
        description="Measures tried in the child's communities first (PATH-3, PLAN-1).")
    created_at: dt.datetime = _created()


class Meeting(SQLModel, table=True):
    """A meeting (møde): KV, district meeting, start-up, development or network meeting."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=30,
                      description="kv | district | startup | development | network_first | network_followup")
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    district: str | None = Field(default=None, max_length=100, index=True)
    date: dt.date = Field(index=True)
    starts_at: dt.datetime | None = _when()
    ends_at: dt.datetime | None = _when()
    level: int | None = None
    leader_email: str | None = Field(default=None, max_length=254, description="Mødeleder (MEET-4).")
    leader_phone: str | None = Field(default=None, max_length=40,
                                     description="How the parents reach the leader (issue 16).")
    location: str | None = Field(default=None, max_length=300, description="Sted (in the agenda and invite).")
    address: str | None = Field(default=None, max_length=300,
                                description="The place's street address (adresse): parents must find it.")
    purpose: str | None = Field(default=None, sa_column=Column(Text, nullable=True), description="Formål.")
    agenda_deadline: dt.date | None = Field(default=None, index=True, description="CAL-2 / CAL-3 deadline.")
    agenda_sent_at: dt.datetime | None = _when()
    urgent_reason: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True),
        description="CAL-2 (issue 17): why the meeting was called inside the 5-working-day window (short notice).")
    minutes_recorded_at: dt.datetime | None = _when()
    flagged_closed_day: bool = Field(default=False, description="CAL-5: falls on a closed day.")
    status: str = Field(default="scheduled", max_length=20)
    created_at: dt.datetime = _created()
    agenda_fields: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="MEET-3: the first-meeting (yellow) or follow-up form, field by field (models/rules_meetings.py).")
    parents_form: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="LVL-3 level 4: the parents' information form (forældreoplysningsskema, dark-blue).")


class NetworkPerson(SQLModel, table=True):
    """One row of the case's network map (netværkskort, MEET-5): a person in the family's private or professional
    network, filled in with the family and brought to every meeting's agenda."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    name: str = Field(max_length=200)
    relation: str = Field(max_length=200, description="e.g. mormor, fodboldtræner, sundhedsplejerske")
    circle: str = Field(max_length=20, description="family | private | professional")
    contact: str | None = Field(default=None, max_length=254, description="Phone or e-mail, if the family gives it.")
    note: str | None = Field(default=None, max_length=500)
    added_at: dt.datetime = _created()


class KVTopic(SQLModel, table=True):
    """A topic for consultative guidance (KV-emne): anonymous, no child identity (KV-1)."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    submitted_by_email: str = Field(max_length=254)
    submitted_at: dt.datetime = _created()


class Action(SQLModel, table=True):
    """An agreed action (handling) with one responsible person, followed up next meeting (MEET-2)."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    responsible_email: str = Field(max_length=254)
    due_on: dt.date | None = None
    follow_up: str | None = Field(default=None, max_length=20, description="continue | adjust | change")
    followed_up_in_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")


class Notification(SQLModel, table=True):
    """A notification (underretning) about suspected violence or abuse (ESC-1, ESC-2, LAW-1, LAW-2).

    Its own intake: a case is optional (ESC-2). The child's name is kept only until the notification is
    acknowledged, then reduced to the pseudonym (PRIV-2).
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    report_key: str | None = Field(default=None, max_length=64, unique=True,
                                   description="The report's fingerprint: a duplicate flow run notifies once.")
    reported_by_email: str = Field(max_length=254)
    reporter_name: str | None = Field(default=None, max_length=200)
    reporter_role: str | None = Field(default=None, max_length=200)
    institution_name: str | None = Field(default=None, max_length=200)
    child_name: str | None = Field(default=None, max_length=200, description="Until acknowledged (PRIV-2).")
    child_pseudonym: str | None = Field(default=None, max_length=200)
    child_group: str | None = Field(default=None, max_length=200)
    child_birth_year: int | None = None
    observation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    observed_on: dt.date | None = None
    observed_time: str | None = Field(default=None, max_length=5, description="HH:MM, when known.")
    sent_to: str = Field(max_length=254)
    reported_at: dt.datetime = _created()
    acknowledgement_due: dt.date
    acknowledged_at: dt.datetime | None = _when()


class Deadline(SQLModel, table=True):
    """A pinned deadline (frist) with the day its reminder is due; the daily sweep reads only these."""

    __table_args__ = (
        Index("ix_deadline_open_remind", "done_at", "remind_on"),
        # issue 18, "I dag": open deadlines by due date (overdue, today, this week), and a district's own ones
        Index("ix_deadline_open_due", "due_on", "id", postgresql_where=_OPEN_DEADLINE, sqlite_where=_OPEN_DEADLINE),
        Index("ix_deadline_open_district", "district", "due_on", "id", postgresql_where=_OPEN_DEADLINE,
              sqlite_where=_OPEN_DEADLINE),
        Index("ix_deadline_stuck", "due_on", "id", postgresql_where=_STUCK_DEADLINE, sqlite_where=_STUCK_DEADLINE),
        UniqueConstraint("kind", "subject_key", "due_on", name="uq_deadline_kind_subject_due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    rule_id: str = Field(max_length=20)
    subject_key: str = Field(max_length=80, description="What it belongs to, e.g. meeting:12, case:7.")
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    district: str | None = Field(default=None, max_length=100)
    due_on: dt.date
    remind_on: dt.date
    done_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    stuck_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True),
        description="When its handler last failed (the sweep goes on; retried next run).")
    stuck_error: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True),
        description="The one-line error of the last failed attempt; cleared when handled.")
    stuck_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    escalation_step: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"},
        description="Issue 17: how many rungs of the profile's escalation ladder have been climbed (each once).")
    created_at: dt.datetime = _created()


class OutboxMessage(SQLModel, table=True):
    """A message in the outbox (udbakke): a row before it is anything else; one recipient per row."""

    __table_args__ = (Index("ix_outbox_due", "status", "send_after"),
                      Index("ix_outbox_lane_due", "status", "lane", "send_after"),
                      Index("ix_outbox_case_created", "case_id", "created_at"))  # the case's timeline (issue 19)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True,
                                 description="kind + case + deadline served + recipient")
    template: str = Field(max_length=60, index=True)
    rule_id: str | None = Field(default=None, max_length=20)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    consent_id: int | None = Field(default=None, foreign_key="consent.id",
                                   description="Shared on this consent (CONS-1).")
    sender: str = Field(max_length=254)
    reply_to: str | None = Field(default=None, max_length=254,
                                 description="The person who signs the mail: a reply reaches them, not the mailbox.")
    to: str = Field(max_length=254, index=True)
    cc: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    to_is_parent: bool = Field(default=False, description="ESC-1 is checked again at delivery.")
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    send_after: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="pending", max_length=20, description="pending | sent | failed | cancelled")
    lane: str = Field(default="routine", max_length=20, sa_column_kwargs={"server_default": "routine"},
                      description="urgent (the abuse notification, ESC-1/LAW-1: at once, day and night) | routine")
    attempts: int = 0
    claimed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True),
                                           description="Taken by a delivery run (a lease; see claimed_by).")
    claimed_by: str | None = Field(default=None, max_length=200,
                                   description="host:pid:token of the delivery run holding the claim.")
    escalated_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True),
                                             description="Urgent lane: when a failing delivery was escalated.")
    notification_id: int | None = Field(
        default=None, foreign_key="notification.id", index=True,
        description="The notification (underretning) this message serves: purged with it (ESC-2, PRIV-2).")
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sending_started_at: dt.datetime | None = _when()
    sent_at: dt.datetime | None = _when()
    transport_message_id: str | None = Field(default=None, max_length=300)
    cancelled_reason: str | None = Field(default=None, max_length=300)
    created_at: dt.datetime = _created()


class OutboxAttachment(SQLModel, table=True):
    """A file attached to an outbox message (e.g. the iCalendar invite, the action plan)."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outboxmessage.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditEvent(SQLModel, table=True):
    """An audit log entry (logning, PRIV-1): who did what, when, to what, and why. Append-only."""

    __table_args__ = (Index("ix_auditevent_case_at", "case_id", "at"),)  # the case's timeline, newest first

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=254, index=True)
    action: str = Field(max_length=20, description="read | create | search | change | export | delete | refused")
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=80)
    case_id: int | None = Field(default=None, index=True)
    reason: str | None = Field(default=None, max_length=300)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WebSession(SQLModel, table=True):
    """A web sign-in (websession): the cookie carries a random id; this row is its server side, so signing out
    revokes the cookie everywhere (a copied cookie stops working). Only the id's SHA-256 is stored."""

    id: str = Field(primary_key=True, max_length=64, description="SHA-256 (hex) of the cookie's session id.")
    email: str = Field(max_length=254, index=True)
    method: str = Field(max_length=20)
    created_at: dt.datetime = _created()
    ended_at: dt.datetime | None = _when()


class WebReferral(SQLModel, table=True):
    """A referral submitted in the web app with an attached file (webhenvendelse), stored behind the login so the
    intake flow takes its id, never the file, as its parameter (issue 18, issue 20: flows take ids). The row is
    deleted once the case is opened (the case and the outbox keep what they need) or the referral is refused."""

    id: int | None = Field(default=None, primary_key=True)
    submitted_by: str = Field(max_length=254, index=True)
    referral: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = _created()


@event.listens_for(StaffMember, "before_insert")
@event.listens_for(StaffMember, "before_update")
def _normalise_staff_email(_mapper: Any, _connection: Any, member: StaffMember) -> None:
    """Staff emails are stored trimmed and lower-case, so a lookup is an equality on the unique index."""
    member.email = member.email.strip().lower()


class MailboxSend(SQLModel, table=True):
    """One message a sending mailbox sent (or is sending): the shared throttle window (issue 20).

    Every delivery run, in any process, reserves its slot here before the transport is called
    (tasks/mailbox_quota.py), so Exchange Online's 30 a minute and 10,000 recipients a day hold
    across runs. Rows older than a day are deleted as the window moves. No personal data: the
    sending mailbox is the municipality's own.
    """

    __table_args__ = (Index("ix_mailboxsend_mailbox_at", "mailbox", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=254)
    at: float = Field(description="Wall-clock seconds (Unix time) the slot was taken.")
    recipients: int = Field(default=1)
    lane: str = Field(default="routine", max_length=20)


class MailboxLock(SQLModel, table=True):
    """One row per sending mailbox, updated first in each reservation: on PostgreSQL the row lock
    serialises concurrent reservations for the same mailbox (SQLite: BEGIN IMMEDIATE does)."""

    mailbox: str = Field(primary_key=True, max_length=254)
    touched_at: float = Field(default=0.0)


class RunRequest(SQLModel, table=True):
    """What a signed-in person (web app) or a CLI user asked a flow to do, and who asked (issue 20, PRIV-4).

    The web app and the CLI write the row with the authenticated actor, then start the flow with its id
    (`request_id`); the flow reads the actor from here, never from a form field. The first flow run that
    uses a request claims it (`flow_run_id`): the id cannot be replayed from Prefect's UI by another run.
    """

    id: str = Field(primary_key=True, max_length=32)
    flow_name: str = Field(max_length=100)
    actor: str = Field(max_length=254)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    flow_run_id: str | None = Field(default=None, max_length=36)
