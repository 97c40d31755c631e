"""A municipality profile (kommuneprofil): every choice a rule leaves to the municipality, as data.

Pure: validated from a dict (parsed TOML); loading from disk lives in `pprflow.profiles`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mailboxes(_Strict):
    """Shared mailboxes (fællespostkasser) the pathways send to."""

    ppr: str = Field(description="PPR mailbox, PATH-1 (Vejle: ppr@vejle.dk).")
    intervention_team: str = Field(description="Leader of the intervention team, PATH-5 (Vejle: metrm@vejle.dk).")
    notifications: str = Field(description="Notifications (underretninger), ESC-1/LVL-6.")
    social_advisers: str
    early_years_consultants: str


class KVSettings(_Strict):
    """Consultative guidance (konsultativ vejledning, KV): CAL-3, CAL-4."""

    cadence_weeks: dict[Literal["school", "daycare"], int]
    notice_days: int = 5
    reminder_days_before_notice: int = 2


class DistrictMeetingSettings(_Strict):
    """District meetings (distriktsmøder) inside PPR: CAL-5."""

    weekday: Weekday = "thursday"
    cadence_weeks: int = 2
    time: dt.time = dt.time(9, 0)


class MeetingSettings(_Strict):
    """Network and development meetings: CAL-2 and the reminder lead times."""

    agenda_working_days: int = 5
    agenda_reminder_working_days: int = 3
    startup_meeting_lead_working_days: int = 10


class ReviewSettings(_Strict):
    """Specialised-effort review (CAL-6) and the §20 investigation (CAL-7)."""

    months: int = 6
    reminder_days: int = 14
    investigation_months: int = 4


class NotificationSettings(_Strict):
    """Notification acknowledgement (kvittering), LAW-2."""

    acknowledgement_working_days: int = 6


class RetentionSettings(_Strict):
    """How long data is kept (PRIV-1, PRIV-2)."""

    closed_case_years: int = 5
    audit_years: int = 5
    flow_run_parameter_days: int = 7


class LevelSettings(_Strict):
    """The level model: Randers' five levels or Vejle's pathway wheel mapped onto them (LVL-1)."""

    model: Literal["five_levels", "pathway_wheel"] = "five_levels"
    names: list[str] = Field(min_length=2)


class EarlyYearsContacts(_Strict):
    """An institution's named early-years consultants (småbørnskonsulenter), PATH-7."""

    pedagogical: str
    disability: str


Pathway = Literal[
    "ppr_learning_environment", "ppr_individual", "ppv", "intervention_team", "social_adviser",
    "early_years_consultant",
]


class Profile(_Strict):
    """One municipality's settings. A third municipality is a new file, not new code."""

    name: str
    display_name: str
    timezone: str = "Europe/Copenhagen"
    sender: str = Field(description="The shared mailbox pprflow sends as.")
    sender_name: str = Field("", description="The sending unit's name in From (`PPR Vejle Kommune <ppr@vejle.dk>`), "
                                             "so Outlook shows who wrote; empty shows the bare address.")
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
    levels: LevelSettings
    early_years_directory: dict[str, EarlyYearsContacts] = Field(default_factory=dict)
    district_teams: dict[str, str] = Field(
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
