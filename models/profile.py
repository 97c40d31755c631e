"""A municipality profile (kommuneprofil): every choice a rule leaves to the municipality, as data.

Pure: validated from a dict (parsed TOML); loading from disk lives in `pprflow.profiles`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pprflow.models.address import EmailAddress, is_placeholder
from pprflow.models.errors import ConfigurationError

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mailboxes(_Strict):
    """Shared mailboxes (fællespostkasser) the pathways send to.

    Every mailbox is the one address type (ESC-1): a profile with a malformed mailbox does not load.
    `notifications` has no default and no fallback (ESC-2): it must name the family department's
    reception explicitly; a placeholder under .invalid loads, but no real transport sends to it.
    """

    ppr: EmailAddress = Field(description="PPR mailbox, PATH-1 (Vejle: ppr@vejle.dk).")
    intervention_team: EmailAddress = Field(
        description="Leader of the intervention team, PATH-5 (Vejle: metrm@vejle.dk).")
    notifications: EmailAddress = Field(
        description="Notifications (underretninger) about suspected violence or abuse go here at once: the family "
                    "centre's / family department's reception (ESC-1, ESC-2, LVL-6). Required, no fallback.")
    social_advisers: EmailAddress
    early_years_consultants: EmailAddress
    escalation: EmailAddress | None = Field(
        default=None, description="LAW-2: the last step when a notification is not acknowledged in time (after "
                                  "the notifier's leader and the coordinator).")
    notification_review: EmailAddress | None = Field(
        default=None, description="ESC-3 (Randers [003]): the outposted social worker who reviews other level-5 "
                                  "notifications before they are sent; the abuse notification is never held.")
    operations: EmailAddress | None = Field(
        default=None, description="Issue 20: the operators' mailbox; a failed or crashed pprflow job is mailed here "
                                  "through the outbox, at most once an hour per job, without personal data.")


class KVSettings(_Strict):
    """Consultative guidance (konsultativ vejledning, KV): CAL-3, CAL-4."""

    cadence_weeks: dict[Literal["school", "daycare"], Annotated[int, Field(ge=1, le=52)]]
    notice_days: int = Field(5, ge=1, le=60)
    reminder_days_before_notice: int = Field(2, ge=0, le=30)


class DistrictMeetingSettings(_Strict):
    """District meetings (distriktsmøder) inside PPR: CAL-5."""

    weekday: Weekday = "thursday"
    cadence_weeks: int = Field(2, ge=1, le=52)
    time: dt.time = dt.time(9, 0)
    plan_ahead_weeks: int = Field(
        8, ge=1, le=52, description="Issue 17: the daily sweep keeps each district's meetings planned this far ahead "
                                    "on the cadence (administrators still move or cancel single dates).")
    alert_after_meetings: int = Field(
        2, ge=1, le=20, description="Issue 17: a case that has waited this many district meetings unassigned is an "
                                    "alert to its coordinator (once).")


class MeetingSettings(_Strict):
    """Network and development meetings: CAL-2 and the reminder lead times."""

    agenda_working_days: int = Field(5, ge=1, le=60)
    agenda_reminder_working_days: int = Field(3, ge=0, le=60)
    startup_meeting_lead_working_days: int = Field(10, ge=1, le=120)


class ReviewSettings(_Strict):
    """Specialised-effort review (CAL-6) and the §20 investigation (CAL-7)."""

    months: int = Field(6, ge=1, le=24)
    reminder_days: int = Field(14, ge=0, le=180)
    investigation_months: int = Field(4, ge=1, le=24)


class NotificationSettings(_Strict):
    """Notification acknowledgement (kvittering), LAW-2."""

    acknowledgement_working_days: int = Field(6, ge=1, le=60)
    escalate_after_minutes: int = Field(
        default=15, ge=1, le=24 * 60,
        description="ESC-1: an abuse notification the transport still has not taken this many minutes after it "
                    "was queued is escalated once: a dashboard alert and a mail by another route "
                    "([mailboxes] escalation, else the notifier's leader, else the PPR mailbox).")
    recipient_name: str = Field(
        default="Familie- og Rådgivningscentret, Modtagelsen", min_length=2, max_length=200,
        description="Who reads the notifications address (Vejle [002]: Familieafdelingen, Modtagelsen; "
                    "Randers [003]: Familie- og Rådgivningscentret).")
    recipient_phone: str | None = Field(
        default=None, max_length=40,
        description="The reception's phone number, for the escalation when the mail cannot be delivered.")
    out_of_hours: str = Field(
        default="den sociale døgnvagt via politiet, tlf. 114 – ved akut fare 112", min_length=4, max_length=200,
        description="Issue 16: how the family centre's duty is reached outside opening hours (døgnvagt/politi); "
                    "the notification and its escalation name it.")
    review_by_outposted_social_worker: bool = Field(
        default=False, description="ESC-3 (Randers [003]): notifications other than for suspected violence or abuse "
                                   "(the level-5 contact) are held until the outposted social worker has reviewed "
                                   "them; the abuse notification is never held (ESC-2).")


EscalationRole = Literal["leader", "coordinator", "top"]
ESCALATION_ROLES: tuple[str, ...] = ("leader", "coordinator", "top")


class EscalationStep(_Strict):
    """One rung of a deadline kind's escalation ladder (issue 17): who is told, how many working days
    after the deadline (1 = the first working day after it; CAL-10: always a working day)."""

    after_working_days: int = Field(ge=1, le=60)
    to: EscalationRole


class EscalationSettings(_Strict):
    """Issue 17: a missed deadline climbs a ladder, each step once and recorded, and stays overdue until the
    thing it waits for happens. `ladders` maps a deadline kind (models/rules_deadlines.py LADDER_KINDS) to its
    steps; a kind the profile does not list climbs its default ladder (DEFAULT_LADDERS: the seeds'/RULES'
    timings). `top` is the last rung: the PPR leader's or the family centre leader's mailbox."""

    top: EmailAddress | None = Field(
        default=None, description="The last rung of every ladder: the PPR / family-centre leader's mailbox.")
    ladders: dict[str, list[EscalationStep]] = Field(default_factory=dict)

    @field_validator("ladders", mode="before")
    @classmethod
    def _known_increasing(cls, ladders: object) -> object:
        """One line at load for an unknown kind, an unknown rung or days that do not increase (issue 17)."""
        from pprflow.models.rules_deadlines import ESCALATING_KINDS

        if not isinstance(ladders, dict):
            return ladders
        for kind, steps in ladders.items():
            if kind not in ESCALATING_KINDS:
                raise ValueError(f"ukendt fristtype {kind!r} i escalation.ladders: brug en af "
                                 f"{', '.join(sorted(ESCALATING_KINDS))}")
            if not isinstance(steps, list) or not steps:
                raise ValueError(f"escalation.ladders.{kind}: angiv mindst ét trin, fx "
                                 "[{ after_working_days = 1, to = \"leader\" }]")
            days: list[object] = []
            for step in steps:
                if not isinstance(step, dict):
                    continue
                if step.get("to") not in ESCALATION_ROLES:
                    raise ValueError(f"escalation.ladders.{kind}: ukendt modtager {step.get('to')!r}; brug "
                                     f"{', '.join(ESCALATION_ROLES)}")
                days.append(step.get("after_working_days"))
            if all(isinstance(d, int) for d in days) and days != sorted(set(days)):  # type: ignore[type-var]
                raise ValueError(f"escalation.ladders.{kind}: after_working_days skal stige for hvert trin, "
                                 f"fik {days}")
        return ladders

    def ladder(self, kind: str) -> list[EscalationStep]:
        """The kind's rungs: the profile's, else the default (issue 17); empty for a kind that does not climb."""
        from pprflow.models.rules_deadlines import DEFAULT_LADDERS

        if kind in self.ladders:
            return list(self.ladders[kind])
        return [EscalationStep(after_working_days=days, to=to)  # type: ignore[arg-type]
                for days, to in DEFAULT_LADDERS.get(kind, ())]


class RetentionSettings(_Strict):
    """How long data is kept (PRIV-1, PRIV-2)."""

    # A typo here is a loss: `closed_case_years = -1` (or 0) made the weekly purge delete every closed case at
    # once, `audit_years = 0` the audit log (PRIV-1, PRIV-2). Refused when the profile loads, naming the setting.
    closed_case_years: int = Field(5, ge=1, le=100)
    audit_years: int = Field(5, ge=1, le=100)
    flow_run_parameter_days: int = Field(7, ge=1, le=3650)


class LevelSettings(_Strict):
    """The level model: Randers' five levels or Vejle's pathway wheel mapped onto them (LVL-1)."""

    model: Literal["five_levels", "pathway_wheel"] = "five_levels"
    names: list[str] = Field(min_length=2)


class EarlyYearsContacts(_Strict):
    """An institution's named early-years consultants (småbørnskonsulenter), PATH-7."""

    pedagogical: EmailAddress
    disability: EmailAddress


class Contact(_Strict):
    """How a reader reaches the unit that sends pprflow's mail (issue 16). Templates never hard-code these.

    `unit_name` is the unit's display name (e.g. "PPR Vejle"): it signs system mails. `phone` is the
    unit's main number, given in every mail so nobody has only a mailbox to answer.
    """

    unit_name: str = Field(min_length=2, max_length=100, description="The sending unit's display name.")
    phone: str = Field(min_length=4, max_length=40, description="The unit's main phone number (hovednummer).")
    address: str = Field(min_length=4, max_length=300, description="The unit's postal/visiting address.")
    hours: str | None = Field(default=None, max_length=100, description="Telephone hours, e.g. 'hverdage 8-15'.")


Pathway = Literal[
    "ppr_learning_environment", "ppr_individual", "ppv", "intervention_team", "social_adviser",
    "early_years_consultant",
]


class Profile(_Strict):
    """One municipality's settings. A third municipality is a new file, not new code."""

    name: str
    display_name: str
    timezone: str = "Europe/Copenhagen"
    sender: EmailAddress = Field(description="The shared mailbox pprflow sends as.")
    sender_name: str = Field("", description="The sending unit's name in From (`PPR Vejle Kommune <ppr@vejle.dk>`), "
                                             "so Outlook shows who wrote; empty shows the bare address.")
    contact: Contact = Field(description="The sending unit's name, phone and address (issue 16).")
    artifact_prefix: str = Field(
        "", pattern=r"^([a-z0-9]+-)?$", max_length=30,
        description="Issue 17: put before every dashboard artifact key (the demo uses 'demo-'), so two profiles on "
                    "one Prefect server never overwrite each other's 'daglig-gennemgang'.")
    closed_days: list[str] = Field(default_factory=list, description="MM-DD days closed beyond holidays (CAL-1).")
    mailboxes: Mailboxes
    pathways: dict[Pathway, Literal[
        "ppr", "intervention_team", "notifications", "social_advisers", "early_years_consultants"
    ]]
    kv: KVSettings
    district_meeting: DistrictMeetingSettings
    meetings: MeetingSettings = MeetingSettings()
    review: ReviewSettings = ReviewSettings()
    notification: NotificationSettings = NotificationSettings()
    retention: RetentionSettings = RetentionSettings()
    escalation: EscalationSettings = EscalationSettings()
    levels: LevelSettings
    early_years_directory: dict[str, EarlyYearsContacts] = Field(default_factory=dict)
    places: dict[str, str] = Field(
        default_factory=dict,
        description="Meeting places (mødesteder) -> street address. A meeting given only a place name takes its "
                    "address from here; a meeting with neither is refused (parents must find it).")
    district_teams: dict[str, EmailAddress] = Field(
        default_factory=dict,
        description="PPR district team mailbox per district: district case lists (CAL-5) and KV topic lists "
                    "(CAL-3) go there; a district not listed uses the PPR mailbox.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """CAL-9: every schedule and deadline is computed in this zone; an unknown one fails at load."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}: use an IANA name such as 'Europe/Copenhagen'") from None
        return value

    @field_validator("closed_days")
    @classmethod
    def _month_day(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                dt.date.fromisoformat(f"2000-{value}")
            except ValueError:
                raise ValueError(f"closed day {value!r} is not MM-DD, e.g. 12-24") from None
        return values

    def mailbox_settings(self) -> dict[str, str]:
        """Every mailbox the profile names, by its setting (`mailboxes.ppr`, `sender`, ...)."""
        found: dict[str, str] = {"sender": self.sender}
        for key, value in self.mailboxes.model_dump().items():
            if value is not None:
                found[f"mailboxes.{key}"] = value
        if self.escalation.top is not None:
            found["escalation.top"] = self.escalation.top
        for district, value in self.district_teams.items():
            found[f"district_teams.{district}"] = value
        for institution, contacts in self.early_years_directory.items():
            found[f"early_years_directory.{institution}.pedagogical"] = contacts.pedagogical
            found[f"early_years_directory.{institution}.disability"] = contacts.disability
        return found

    def mailbox_names(self) -> dict[str, str]:
        """Issue 13/16: the display name mail to each of the profile's shared mailboxes carries in To: the
        unit for the PPR mailbox, the reception for the notifications address, "<unit>, distrikt <name>"
        for each district team."""
        unit = self.contact.unit_name
        names = {team: f"{unit}, distrikt {district}" for district, team in self.district_teams.items()}
        names[self.mailboxes.ppr] = unit
        names[self.mailboxes.notifications] = self.notification.recipient_name
        return names

    def ladder_warnings(self) -> list[str]:
        """Issue 17: one Danish line per thing the escalation ladders cannot do as written: a `top` that is a
        placeholder (.invalid) or missing — its rung goes to the coordinator, else the PPR mailbox, recorded."""
        top = self.escalation.top
        if top is None:
            return [f"escalation.top er ikke sat: eskaleringsstigens sidste trin går til tovholderen eller "
                    f"PPR-postkassen ({self.mailboxes.ppr}); sæt PPR-/familiecenterlederens adresse"]
        if is_placeholder(top):
            return [f"escalation.top = {top} er en pladsholder: eskaleringsstigens sidste trin går til "
                    f"tovholderen eller PPR-postkassen ({self.mailboxes.ppr}), indtil PPR-/familiecenterlederens "
                    "adresse er sat"]
        return []

    def placeholder_mailboxes(self) -> dict[str, str]:
        """The mailboxes still set to a placeholder (.invalid): a real transport refuses to start (ESC-2)."""
        return {key: value for key, value in self.mailbox_settings().items() if is_placeholder(value)}

    @property
    def closed_month_days(self) -> frozenset[tuple[int, int]]:
        """The profile's closed days as (month, day) pairs (CAL-1)."""
        return frozenset((int(v[:2]), int(v[3:])) for v in self.closed_days)

    @property
    def max_level(self) -> int:
        return len(self.levels.names)

    def district_team(self, district: str | None) -> str:
        """The mailbox of a district's PPR team (CAL-3, CAL-5); the PPR mailbox when none is set."""
        return self.district_teams.get(district or "", self.mailboxes.ppr)

    def mailbox_for(self, pathway: str) -> str:
        """The mailbox a pathway's request goes to."""
        key = self.pathways[pathway]  # type: ignore[index]
        return str(getattr(self.mailboxes, key))


REAL_TRANSPORTS: frozenset[str] = frozenset({"smtp", "exchange", "graph"})
"""Transports that hand mail to a real mail system (the file transport writes .eml files only)."""


def check_mailboxes_for_transport(profile: Profile, transport: str) -> None:
    """ESC-2: a real transport never starts while a mailbox is a placeholder (.invalid) — above all the
    notifications address, which must name the family department's reception. Names every such setting."""
    if transport.strip().lower() not in REAL_TRANSPORTS:
        return
    placeholders = profile.placeholder_mailboxes()
    if placeholders:
        listed = ", ".join(f"{key} = {value}" for key, value in sorted(placeholders.items()))
        raise ConfigurationError(
            f"profile {profile.name!r} still has placeholder mailboxes, so transport {transport!r} will not start: "
            f"{listed}; set the municipality's real addresses in the profile (ESC-2)", rule_id="ESC-2")
