"""One pydantic configuration for every input model (PRIV-2, issue 14): `StrictInput`.

Everything a person or a form sends pprflow — the referral, a consent, a meeting, minutes, a level
change, a partner, a KV topic, a staff-directory row — is validated by a model that inherits this
class, so a new input model cannot forget a check:

- unknown fields are refused (a typo must not silently drop data), surrounding whitespace stripped;
- strict booleans and integers: `"yes"` is not `true`, `"2017"` is not `2017` (a JSON number is);
- no control characters (NUL, ESC ...; newline and tab are text) and no bidirectional overrides
  (U+202E and friends, which make a text read differently than it is stored);
- a sane length: a text a person wrote, at most `MAX_TEXT` characters unless the field says less;
- dates within `EARLIEST_DATE` … `LATEST_DATE` (0001-01-01 is a typo, not a consent);
- no text field holds a CPR number (PRIV-2, `rules_privacy.NoCprNumbers`).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

from pydantic import ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from pprflow.models.rules_privacy import NoCprNumbers

MAX_TEXT = 10_000
"""The longest free text a person writes into one field (a concern, minutes): 10,000 characters."""
EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ALLOWED_CONTROLS = frozenset("\n\r\t")


def _forbidden(ch: str) -> bool:
    return ch in _BIDI or ((ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) and ch not in _ALLOWED_CONTROLS)


def forbidden_character(text: str) -> str | None:
    """The first control or bidi-override character in `text` as U+XXXX, or None."""
    for ch in text:
        if _forbidden(ch):
            return f"U+{ord(ch):04X}"
    return None


def without_forbidden_characters(text: str) -> str:
    """The same characters removed, for the one input that may not be refused (the abuse report, ESC-2): a NUL
    pasted from a PDF is refused by PostgreSQL's text columns, so the notification would never be stored."""
    return "".join(ch for ch in text if not _forbidden(ch))


def _kinds(annotation: Any) -> set[type]:
    """The plain types a field accepts (`int | None` -> {int, NoneType})."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(a) for a in typing.get_args(annotation)))
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    return {annotation} if isinstance(annotation, type) else set()


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


class StrictInput(NoCprNumbers):
    """The base of every input model: strict, closed, clean, CPR-free (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_input(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        kinds = _kinds(field.annotation) if field is not None else set()
        if bool in kinds and value is not None and not isinstance(value, bool):
            raise PydanticCustomError("strict_bool", "must be true or false, not {value}", {"value": repr(value)})
        if int in kinds and bool not in kinds and isinstance(value, bool | str):
            raise PydanticCustomError("strict_int", "must be a whole number, not {value}", {"value": repr(value)})
        for text in _texts(value):
            bad = forbidden_character(text)
            if bad is not None:
                raise PydanticCustomError("forbidden_character",
                                          "holds a control or direction-override character ({char}); remove it",
                                          {"char": bad})
            if len(text) > MAX_TEXT:
                raise PydanticCustomError("text_too_long", "is {length} characters; at most {limit} are allowed",
                                          {"length": len(text), "limit": MAX_TEXT})
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _sane_dates(cls, value: Any) -> Any:
        for day in ([value] if isinstance(value, dt.date) else []):
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                raise PydanticCustomError("date_out_of_range", "{day} is outside {first} … {last}",
                                          {"day": day.isoformat(), "first": EARLIEST_DATE.isoformat(),
                                           "last": LATEST_DATE.isoformat()})
        return value
