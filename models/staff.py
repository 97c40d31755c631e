"""The staff directory as input (PRIV-4): one row of `pprflow staff add` / `staff import` (an HR export).

Pure: no database. A row names the person, their work e-mail, their role (from the directory's
list, never free text), the institution and/or PPR district, an optional phone number and whether
they are active. `administrator` is PPR's administration (see models/access.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, ValidationError

from pprflow.models.access import ADMINISTRATOR
from pprflow.models.input import StrictInput
from pprflow.models.referral import STAFF_ROLES, validation_error_line

DIRECTORY_ROLES: tuple[str, ...] = (*STAFF_ROLES, "outposted_social_worker", "physiotherapist", "caseworker",
                                    ADMINISTRATOR)
"""The roles a directory member may have: the staff roles of a referral, the partners who act in pprflow,
and `administrator`."""

DirectoryRole = Literal[DIRECTORY_ROLES]  # type: ignore[valid-type]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ]{8,20}$")]


class StaffIn(StrictInput):
    """One member of the staff directory (medarbejder)."""

    name: Name = Field(description="Navn.")
    email: EmailStr = Field(description="Arbejdsmail; den, personen handler som (--as).")
    role: DirectoryRole = Field(description="Rolle, fx teacher, school_leader, ppr_psychologist, administrator.")
    institution: Name | None = Field(default=None, description="Institutionens navn (skole/dagtilbud).")
    institution_kind: Literal["school", "daycare", "health_visitors"] | None = Field(
        default=None, description="school, daycare eller health_visitors (sundhedsplejen, ROLE-2), når institutionen "
                                  "er ny.")
    district: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = Field(
        default=None, description="PPR-distrikt, fx Nord.")
    phone: Phone | None = Field(default=None, description="Telefon (valgfri), fx +45 12 34 56 78.")
    leader_email: EmailStr | None = Field(default=None, description="Nærmeste leder (PRIV-3).")
    active: bool = True


HEADERS: dict[str, str] = {
    "name": "name", "navn": "name", "email": "email", "e-mail": "email", "mail": "email", "role": "role",
    "rolle": "role", "institution": "institution", "institution_kind": "institution_kind",
    "institutionstype": "institution_kind", "district": "district", "distrikt": "district", "phone": "phone",
    "telefon": "phone", "leader_email": "leader_email", "leder": "leader_email", "active": "active", "aktiv": "active",
}
"""CSV header -> field (English, or Danish as an HR export writes it); an unknown header is refused."""

_TRUE = {"1", "true", "yes", "ja", "aktiv"}
_FALSE = {"0", "false", "no", "nej", "inaktiv", "deaktiveret"}


@dataclass(frozen=True)
class ImportRow:
    """One CSV row: the validated member, or the one-line error (row numbers count the header as 1)."""

    line: int
    member: StaffIn | None
    error: str | None


def parse_staff(data: dict[str, Any], *, what: str = "staff") -> StaffIn:
    """A validated `StaffIn`, or one `InvalidInput` line naming the field."""
    try:
        return StaffIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error_line(exc, what=what) from None


def parse_staff_csv(text: str) -> list[ImportRow]:
    """Every row of an HR export: valid ones and, for each bad one, its error (the others still import)."""
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    if not rows:
        return []
    header = [h.strip().lower().lstrip("\ufeff") for h in rows[0]]
    unknown = [h for h in header if h not in HEADERS]
    if unknown:
        return [ImportRow(1, None, f"line 1: unknown column {unknown[0]!r}; use {', '.join(sorted(set(HEADERS)))}")]
    fields = [HEADERS[h] for h in header]
    result = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(fields):
            result.append(ImportRow(number, None, f"line {number}: {len(row)} cells, expected {len(fields)}"))
            continue
        data: dict[str, Any] = {f: cell.strip() for f, cell in zip(fields, row, strict=True) if cell.strip()}
        if "active" in data:
            flag = str(data["active"]).lower()
            if flag not in _TRUE | _FALSE:
                result.append(ImportRow(number, None, f"line {number}: active: {data['active']!r} is not ja/nej"))
                continue
            data["active"] = flag in _TRUE
        try:
            result.append(ImportRow(number, parse_staff(data, what=f"line {number}"), None))
        except Exception as exc:  # InvalidInput: one line, the row's number first
            text_ = exc.one_line() if hasattr(exc, "one_line") else str(exc)
            result.append(ImportRow(number, None, text_))
    return result
