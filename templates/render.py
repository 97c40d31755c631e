"""Render a message kind to subject, plain text and HTML. Pure: values in, strings out.

One Jinja2 `Environment` serves all three parts. Only `*.html.j2` is autoescaped, so the text
part never shows `&amp;` and the HTML part never shows a raw `<script>`. `StrictUndefined`
makes a missing context key fail loudly instead of mailing "None" to a parent.

Dates and times are Danish (Babel, locale da_DK) and always shown in Europe/Copenhagen (CAL-9).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape
from markupsafe import Markup, escape

from pprflow.models.errors import InvalidInput

TEMPLATE_DIR = Path(__file__).resolve().parent
LOCALE = "da_DK"
TIMEZONE = ZoneInfo("Europe/Copenhagen")
SUBJECT_MAX_CHARS = 200

# MEET-2: the next meeting decides for each action: continue, adjust or change.
FOLLOW_UP_LABELS = {
    "continue": "Fortsætter",
    "adjust": "Justeres",
    "change": "Ændres",
}


@dataclass(frozen=True)
class RenderedMessage:
    """One rendered message: a one-line subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str


def _defined(value: Any) -> None:
    """A filter given a missing variable must fail as the missing variable, not as a bad value."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("naive datetime in a template context: times must be timezone-aware", rule_id="CAL-9")
    return value.astimezone(TIMEZONE)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    _defined(value)
    if isinstance(value, dt.datetime):
        return _local(value).date()
    if isinstance(value, dt.date):
        return value
    raise InvalidInput(f"expected a date, got {type(value).__name__}")


def date_long(value: dt.date | dt.datetime) -> str:
    """'torsdag den 10. december 2026'."""
    return format_date(_as_date(value), "EEEE 'den' d. MMMM y", locale=LOCALE)


def date_short(value: dt.date | dt.datetime) -> str:
    """'10. december 2026'."""
    return format_date(_as_date(value), "d. MMMM y", locale=LOCALE)


def clock(value: dt.datetime) -> str:
    """'kl. 9.00' (klokkeslæt) in Copenhagen time."""
    _defined(value)
    if not isinstance(value, dt.datetime):
        raise InvalidInput(f"expected an aware datetime, got {type(value).__name__}")
    return format_time(_local(value).timetz(), "'kl.' H.mm", locale=LOCALE)


def date_subject(value: dt.date | dt.datetime) -> str:
    """'tirsdag den 8. december' — a subject's deadline: the weekday carries it, the year would crowd it."""
    return format_date(_as_date(value), "EEEE 'den' d. MMMM", locale=LOCALE)


def time_range(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """'kl. 9.00–10.30' from a meeting's `starts_at` and `ends_at` (issue 16: the end time too)."""
    _defined(start)
    _defined(end)
    if start is None:
        return ""
    if end is None:
        return clock(start)
    return f"{clock(start)}–{format_time(_local(end).timetz(), 'H.mm', locale=LOCALE)}"


# Labels that keep their capital after a comma: proper names and abbreviations.
_PROPER = ("PPR", "SSP", "UU", "AKT", "De Åbne Rådgivninger", "Familieafdelingen", "Familie- og Rådgivningscentret",
           "Ungdommens Uddannelsesvejledning", "UngVejle", "Pædagogisk Indsatsteam", "Sundhedsplejen")


def after_comma(value: str) -> str:
    """A role as it reads after a comma in Danish: 'Psykolog, PPR' -> 'psykolog, PPR'; names keep capitals."""
    _defined(value)
    text = str(value)
    if not text or text.startswith(_PROPER) or (len(text) > 1 and text[1].isupper()):
        return text
    return text[0].lower() + text[1:]


_DEFINITE = {
    "Tværfagligt netværksmøde": "det tværfaglige netværksmøde",
    "Udviklingsmøde": "udviklingsmødet",
    "Opstartsmøde": "opstartsmødet",
    "Distriktsmøde": "distriktsmødet",
    "Konsultativ vejledning": "den konsultative vejledning",
}


def definite(kind_label: str) -> str:
    """'Tværfagligt netværksmøde' -> 'det tværfaglige netværksmøde' (the meeting the reader knows of)."""
    _defined(kind_label)
    return _DEFINITE.get(str(kind_label), str(kind_label)[:1].lower() + str(kind_label)[1:])


def datetime_long(value: dt.datetime) -> str:
    """'torsdag den 10. december 2026 kl. 9.00'."""
    return f"{date_long(value)} {clock(value)}"


def follow_up_label(code: str) -> str:
    """continue/adjust/change → the Danish word on the light-blue form (MEET-2)."""
    _defined(code)
    try:
        return FOLLOW_UP_LABELS[code]
    except KeyError:
        raise InvalidInput(f"unknown follow-up {code!r}; expected one of {sorted(FOLLOW_UP_LABELS)}",
                           rule_id="MEET-2") from None


def safe_url(value: str) -> str:
    """Only http(s) links go into a message; a `javascript:` link is refused, not rendered."""
    _defined(value)
    if not str(value).lower().startswith(("https://", "http://")):
        raise InvalidInput(f"refusing a link that is not http(s): {str(value)[:40]!r}")
    return str(value)


def nl2br(value: str) -> Markup:
    """Escape, then keep the writer's line breaks in HTML."""
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        # "x.html.j2" ends with ".html.j2": only HTML bodies are escaped; subjects and text are not.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters.update(
        date_long=date_long,
        date_short=date_short,
        clock=clock,
        datetime_long=datetime_long,
        date_subject=date_subject,
        time_range=time_range,
        after_comma=after_comma,
        definite=definite,
        follow_up_label=follow_up_label,
        nl2br=nl2br,
        safe_url=safe_url,
    )
    return env


ENV = _environment()

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BLANK_LINES = re.compile(r"\n{3,}")


def one_line(value: str, *, limit: int = SUBJECT_MAX_CHARS) -> str:
    """Collapse all whitespace and control characters to single spaces; cut at `limit` with '…'.

    A subject can therefore never carry CR/LF into a mail header.
    """
    text = " ".join(_CONTROL.sub(" ", value).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


def _newlines(value: str) -> str:
    # A bare CR from user input must not reach SMTP as a line break of its own.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _tidy_text(value: str) -> str:
    lines = [line.rstrip() for line in _newlines(value).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def render_message(kind: str, context: Mapping[str, Any]) -> RenderedMessage:
    """Render `kind` (a key of `pprflow.templates.catalogue.MESSAGE_KINDS`) with `context`.

    Raises jinja2.exceptions.UndefinedError when the context lacks a key a template uses,
    and models.errors.InvalidInput for an unknown kind or a naive datetime.
    """
    from pprflow.templates.catalogue import MESSAGE_KINDS  # the catalogue is the list of kinds that exist

    if kind not in MESSAGE_KINDS:
        raise InvalidInput(f"unknown message kind {kind!r}")
    ctx = dict(context)
    subject = one_line(ENV.get_template(f"{kind}.subject.j2").render(ctx))
    text = _tidy_text(ENV.get_template(f"{kind}.txt.j2").render(ctx))
    html = _newlines(ENV.get_template(f"{kind}.html.j2").render({**ctx, "subject": subject})).strip() + "\n"
    if not subject:
        raise InvalidInput(f"message kind {kind!r} rendered an empty subject")
    return RenderedMessage(subject=subject, text=text, html=html)
