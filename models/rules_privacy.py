"""Privacy rules as pure functions: minimal data (PRIV-2), who may read a case (PRIV-3), retention.

No database, no Prefect, no mail: values in, values (or one domain error) out.

- PRIV-2 "no CPR numbers": free text that holds something shaped like a CPR number (ddmmyy-xxxx or
  ddmmyyxxxx whose first six digits are a real date) is refused, naming the field. Ordinary text
  with dates (12-05-2026, 2026-05-12) and phone numbers (12 34 56 78, +45 12345678) passes. Every
  input model inherits `NoCprNumbers`, so the refusal happens while the input is validated: before
  anything is stored and before a flow run (whose parameters Prefect keeps) is even created.
- PRIV-3 "only the staff assigned to a case, and their leaders, can read it": not here — the one
  access policy is `pprflow.models.access`.
- PRIV-1/PRIV-2 retention: a closed case is deleted `closed_case_years` after its last activity,
  audit rows `audit_years` after they were written (profile `[retention]`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from pprflow.models.errors import RuleViolation

# --- PRIV-2: no CPR numbers ------------------------------------------------------------------------

_DASHES = "\u002d\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad\u2043"
_SPACES = "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\t"
_NORMALISE = str.maketrans({**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_SPACES, " "),
                            "\uff0e": ".", "\uff0f": "/"})
"""Every dash a keyboard or a word processor makes (en dash, em dash, minus, non-breaking hyphen ...) is a
dash, every space a space: `240317–1234` is `240317-1234`."""

_CPR_CANDIDATE = re.compile(
    r"(?<!\d)(?<!\d[.\-/])(?=((\d{2})([.\-/]?)(\d{2})\3(\d{2}) ?[-/._]? ?\d{4}(?!\d)))")
"""ddmmyy then four digits: `2403171234`, `240317-1234`, `240317 1234`, `240317/1234`, `24.03.17-1234`,
`24-03-17-1234`, `24/03/17 1234` — the date part written whole or with one separator used twice, not part
of a longer number. The date must be real (so phone numbers, times and other numbers pass)."""

_CPR_PREFIXED = re.compile(r"(?i)(?<![a-zæøå])cpr(?:[ .\-]*nr)?[ .:\-]*(?:\d[ .\-/]?){9}\d(?!\d)")
"""`cpr 240317-1234`, `CPR: 2403171234`, `cpr-nr. 24 03 17 12 34`: after a CPR prefix any ten digits are one."""

CPR_MESSAGE = ("looks like a CPR number (ddmmyy-xxxx); pprflow stores no CPR numbers, "
               "write the child's pseudonym and birth year instead")
CPR_ERROR_TYPE = "cpr_number"
"""The pydantic error type of a refused CPR number; the one-line error names PRIV-2 for it."""


def _is_date(day: int, month: int, yy: int) -> bool:
    try:
        dt.date(2000 + yy, month, day)  # 2000+yy is a leap year whenever 19yy or 20yy can be
    except ValueError:
        return False
    return True


def contains_cpr_number(text: str) -> bool:
    """PRIV-2: True if the text holds a CPR number in any shape a Danish office worker types: ten digits
    (ddmmyy + 4) starting with a real date, split by any dash, slash, dots or a space, or any ten digits
    after a "cpr"/"cpr-nr."/"CPR:" prefix. Dates, phone numbers (8 digits, +45) and class names pass."""
    normal = text.translate(_NORMALISE)
    if _CPR_PREFIXED.search(normal):
        return True
    return any(_is_date(int(m.group(2)), int(m.group(4)), int(m.group(5))) for m in _CPR_CANDIDATE.finditer(normal))


def redact_cpr_numbers(text: str, marker: str) -> str:
    """PRIV-2 without refusing: every CPR number `contains_cpr_number` would see becomes `marker`.

    The same detection (one place): the text is normalised character for character, so spans match."""
    normal = text.translate(_NORMALISE)
    spans = [m.span() for m in _CPR_PREFIXED.finditer(normal)]
    for m in _CPR_CANDIDATE.finditer(normal):  # a lookahead: candidates may overlap, the first real one wins
        if _is_date(int(m.group(2)), int(m.group(4)), int(m.group(5))) and not any(
                a <= m.start(1) < b for a, b in spans):
            spans.append(m.span(1))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + marker + text[end:]
    return text


def check_no_cpr_number(field: str, text: str | None) -> None:
    """Refuse a free-text value with a CPR number in it (PRIV-2), naming the field, never echoing the number."""
    if text and contains_cpr_number(text):
        raise RuleViolation("PRIV-2", f"{field}: {CPR_MESSAGE}")


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if isinstance(item, str):
                yield item


class NoCprNumbers(BaseModel):
    """Mixin for every input model: no text field (or list of texts) may hold a CPR number (PRIV-2).

    Nested models inherit it too and check their own fields, so the error names the full path
    (``referral: action_plan.goal: looks like a CPR number ... (PRIV-2)``).
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_cpr_number(cls, value: Any, info: ValidationInfo) -> Any:
        if any(contains_cpr_number(text) for text in _texts(value)):
            raise PydanticCustomError(CPR_ERROR_TYPE, CPR_MESSAGE)
        return value


def is_cpr_error(error: Mapping[str, Any]) -> bool:
    """True for a pydantic error raised by `NoCprNumbers` (the CLI then names PRIV-2)."""
    return error.get("type") == CPR_ERROR_TYPE


# --- PRIV-3 / PRIV-4 --------------------------------------------------------------------------------
# Who may read or change a case is decided in ONE place: pprflow.models.access (`decide`, `has_perm`).


# --- retention (PRIV-1, PRIV-2) -----------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 Feb becomes 28 Feb in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def case_expired(*, status: str, last_activity: dt.date, closed_on: dt.date | None, today: dt.date,
                 years: int) -> bool:
    """PRIV-2: a closed case is deleted once `years` have passed since its last activity (or closing)."""
    if status != "closed" or closed_on is None:
        return False
    return max(last_activity, closed_on) <= years_before(today, years)
