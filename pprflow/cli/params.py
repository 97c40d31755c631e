"""Shared option parsing for the case, meeting and consent commands: dates, --today, JSON files."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from pprflow.models.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

TodayOption = Annotated[str | None, typer.Option(
    "--today", metavar="DATO", help="Dagens dato (ÅÅÅÅ-MM-DD); standard: i dag i Europe/Copenhagen (CAL-9).")]


def parse_date(value: str, what: str = "date") -> dt.date:
    """A strict ISO date (YYYY-MM-DD); anything else is one clear error naming the value."""
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"invalid {what} {value!r}: expected YYYY-MM-DD, e.g. 2026-04-09") from None


def parse_time(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value if len(value) == 5 else "x")
    except ValueError:
        raise InvalidInput(f"invalid --time {value!r}: expected HH:MM, e.g. 09:30", rule_id="CAL-9") from None


def parse_email(value: str, what: str, *, rule_id: str | None = None) -> str:
    """An e-mail option (--to, --email, --leader, --as): the one address type, bare and case-folded (ESC-1);
    a display name, brackets or spaces are one clear error naming the option (and its rule)."""
    from pprflow.models.address import parse_address

    return parse_address(value, what, rule_id=rule_id)


def parse_optional_email(value: str | None, what: str) -> str | None:
    return None if value is None else parse_email(value, what)


def today(value: str | None) -> dt.date:
    from pprflow.models.calendar import local_today

    return parse_date(value, "--today") if value else local_today()


def one_line_error(what: str, exc: ValidationError) -> InvalidInput:
    """pydantic's errors as ONE line: `<what>: <field path>: <message>`."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    from pprflow.models.rules_privacy import is_cpr_error

    message = first.get("msg", "invalid")
    if first.get("type") == "value_error" and first.get("ctx", {}).get("error") is not None:
        message = str(first["ctx"]["error"])  # our own one-line message (e.g. the e-mail address type)
    return InvalidInput(f"{what}: {path}: {message}{more}",
                        rule_id="PRIV-2" if is_cpr_error(first) else None)


def build(model: type[M], what: str, **values: Any) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise one_line_error(what, exc) from None


def read_json(path: str, model: type[M], what: str) -> M:
    """Read FILE (or - for stdin) as JSON and validate it against `model`."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{what}: file not found: {path}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise one_line_error(what, exc) from None
