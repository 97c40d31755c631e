"""The notification (underretning) about suspected violence or abuse as its own intake: ESC-1, ESC-2, LAW-1.

ESC-2 [003, "sendes straks"]: a report needs only who reports, the institution, who the child is and
what was observed — no case, no consent, no action plan, no other rule. So the report is its own
input model, not a side effect of a referral: `pprflow case report-abuse` (with or without a case
id), the flow parameter and a referral with ``"suspected_abuse": true`` all become an `AbuseReport`.

The child is named so the family centre can act within 24 hours (LAW-2); the name is kept only until
the notification is acknowledged, then reduced to the pseudonym (PRIV-2). A CPR number in the text
does not refuse the report (ESC-2 wins): it is blanked before anything is stored or sent (PRIV-2).

Pure: no database, no Prefect, no mail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from pprflow.models.address import EmailAddress
from pprflow.models.errors import InvalidInput, PprflowError
from pprflow.models.input import without_forbidden_characters
from pprflow.models.rules_privacy import redact_cpr_numbers

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Observation = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]

CPR_BLANKED = "[CPR-nummer fjernet]"

ACKNOWLEDGEMENT_KINDS: tuple[str, str, str] = (
    "acknowledgement_overdue", "acknowledgement_overdue_coordinator", "acknowledgement_overdue_escalation")
"""LAW-2: the deadlines of one notification's acknowledgement (kvittering) — late, the notifier's leader is
told, then the coordinator, then the profile's escalation address. They close only by acknowledgement."""

NOT_SENT = "underretningen er IKKE sendt"
"""Every refusal of a report says, in Danish, whether the notification went (ESC-2)."""


def blank_cpr_numbers(text: str) -> str:
    """PRIV-2 without refusing (ESC-2): every CPR-shaped number in the text becomes a marker."""
    return redact_cpr_numbers(text, CPR_BLANKED)


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # ESC-2: NUL, ESC and bidi overrides are removed, never a refusal (StrictInput refuses them elsewhere):
        # PostgreSQL cannot store a NUL, and U+202E would make the child's name read differently than written.
        return without_forbidden_characters(value) if isinstance(value, str) else value

    @field_validator("*", mode="after")
    @classmethod
    def _no_cpr(cls, value: Any) -> Any:
        return blank_cpr_numbers(value) if isinstance(value, str) and "@" not in value else value


class Reporter(_Report):
    """The staff member who reports (underretter). LAW-1: the duty is personal; any employee may report."""

    name: Name = Field(description="Underretterens navn.")
    email: EmailAddress = Field(description="Underretterens e-mail (kvitteringen sendes hertil).")
    role: Name = Field(description="Rolle/stilling, fx 'Klasselærer' eller 'teacher'.")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=40)] | None = Field(
        default=None, description="Underretterens direkte telefon (issue 16: modtageren skal kunne ringe); standard: "
                                  "medarbejderkartotekets nummer.")


class ReportedChild(_Report):
    """Who the child is — enough for the family centre to act: name, class/group, birth year."""

    name: Name = Field(description="Barnets navn (slettes og erstattes af pseudonymet, når kvitteringen er modtaget).")
    group: Name | None = Field(default=None, description="Klasse/gruppe, fx '3.B' eller 'Sommerfuglene'.")
    birth_year: int | None = Field(default=None, ge=1990, le=2100, description="Fødselsår, fx 2017.")


class AbuseReport(_Report):
    """`pprflow case report-abuse`: a notification about suspected violence or abuse (ESC-1, ESC-2, LAW-1)."""

    reporter: Reporter
    institution: Name = Field(description="Dagtilbud/skole, fx 'Skovbakkeskolen'.")
    child: ReportedChild
    observation: Observation = Field(description="Hvad er set eller hørt — med egne ord.")
    observed_on: dt.date = Field(description="Hvornår det blev set eller hørt (dato).")
    observed_time: dt.time | None = Field(default=None, description="Klokkeslæt, hvis det kendes.")
    actions_taken: Observation | None = Field(
        default=None, description="Hvad er gjort indtil nu, fx 'Barnet er hos AKT-læreren resten af dagen.'")
    case_id: int | None = Field(default=None, gt=0, description="Sagens id, hvis barnet har en sag.")

    def fingerprint(self, today: dt.date) -> str:
        """The report's key for the day: the same report twice (a duplicate flow run) notifies once."""
        return hashlib.sha256(f"{today.isoformat()}|{self.model_dump_json()}".encode()).hexdigest()


_DANISH_ERRORS: dict[str, str] = {
    "missing": "skal udfyldes", "string_type": "skal udfyldes", "string_too_short": "skal udfyldes",
    "string_too_long": "må højst være {max_length} tegn",
    "date_parsing": "skal være en dato som ÅÅÅÅ-MM-DD, fx 2026-11-24",
    "date_from_datetime_parsing": "skal være en dato som ÅÅÅÅ-MM-DD, fx 2026-11-24",
    "date_type": "skal være en dato som ÅÅÅÅ-MM-DD, fx 2026-11-24",
    "time_parsing": "skal være et klokkeslæt som TT:MM, fx 10:15", "time_type": "skal være et klokkeslæt som TT:MM, "
    "fx 10:15", "int_parsing": "skal være et helt tal, fx 2017", "int_type": "skal være et helt tal, fx 2017",
    "int_from_float": "skal være et helt tal, fx 2017",
    "less_than_equal": "må højst være {le}", "greater_than_equal": "skal mindst være {ge}",
    "greater_than": "skal være større end {gt}", "less_than": "skal være mindre end {lt}",
    "model_type": "skal udfyldes", "dict_type": "skal udfyldes",
}
"""ESC-2: a report refused as given says what to fix in Danish (the notification was NOT sent)."""


def _error_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    if first.get("type") == "value_error" and first.get("ctx", {}).get("error") is not None:
        what = str(first["ctx"]["error"])
    elif first.get("type") == "extra_forbidden":
        what = "ukendt felt (tjek stavningen)"
    else:  # Danish for every user (STYLE): never pydantic's English
        what = _DANISH_ERRORS.get(str(first.get("type")), "er ikke gyldig: ret feltet og prøv igen").format(
            **first.get("ctx", {}))
    return f"{path}: {what}"


class ReportRefused(PprflowError):
    """A report that cannot be sent as given (a reporter without an e-mail, no child named …)."""

    rule_id = "ESC-2"


def parse_report(data: dict[str, Any]) -> AbuseReport:
    """A validated `AbuseReport`; a problem is one Danish line that says the notification was NOT sent."""
    try:
        return AbuseReport.model_validate(data)
    except ValidationError as exc:
        raise ReportRefused(f"{NOT_SENT}: underretning: {_error_line(exc)}") from None


def report_from_referral(raw: dict[str, Any], *, today: dt.date) -> AbuseReport:
    """ESC-2: the notification in a referral with ``"suspected_abuse": true`` — built from the raw JSON, so
    nothing else in the referral (a missing action plan, consent, a CPR number) can stop it."""
    def section(name: str) -> dict[str, Any]:
        value = raw.get(name)
        return value if isinstance(value, dict) else {}

    submitter, institution, child = section("submitted_by"), section("institution"), section("child")
    group = raw.get("group") if isinstance(raw.get("group"), str) and raw.get("group", "").strip() else None
    name = child.get("pseudonym") if isinstance(child.get("pseudonym"), str) else None
    birth_year = child.get("birth_year") if isinstance(child.get("birth_year"), int) else None
    data = {
        "reporter": {"name": submitter.get("name"), "email": submitter.get("email"), "role": submitter.get("role")},
        "institution": institution.get("name"),
        "child": {"name": name or (f"Barn i {group}" if group else "Ikke oplyst i henvendelsen"),
                  "group": group, "birth_year": birth_year if birth_year and 1990 <= birth_year <= 2100 else None},
        "observation": raw.get("concern"),
        "observed_on": today,
    }
    return parse_report(data)


def refusal_after_notification(exc: PprflowError, *, notification_id: int | None, sent_to: str) -> InvalidInput:
    """ESC-2: the referral is refused, but the notification WAS sent — one Danish line that says both."""
    reason = exc.one_line()
    return InvalidInput(
        f"underretningen ER sendt til {sent_to} (underretning {notification_id}); henvendelsen er ikke modtaget, "
        f"fordi: {reason}", rule_id="ESC-2")
