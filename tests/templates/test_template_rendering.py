"""Every message kind renders its example; a missing key fails; hostile input stays inert."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import UndefinedError

from pprflow.models.errors import InvalidInput
from pprflow.templates.catalogue import MESSAGE_KINDS
from pprflow.templates.render import (
    SUBJECT_MAX_CHARS,
    TEMPLATE_DIR,
    RenderedMessage,
    clock,
    date_long,
    date_short,
    datetime_long,
    one_line,
    render_message,
)

KINDS = sorted(MESSAGE_KINDS)
HOSTILE = ' <script>alert(1)</script> "&<> Anna\r\nBcc: x@evil.example'
CPH = dt.timezone(dt.timedelta(hours=1))  # a fixed offset is enough to prove conversion


def example(kind: str) -> dict[str, Any]:
    return MESSAGE_KINDS[kind].example_context()


def render(kind: str, **changes: Any) -> RenderedMessage:
    return render_message(kind, {**example(kind), **changes})


def all_parts(message: RenderedMessage) -> str:
    return "\n".join((message.subject, message.text, message.html))


def walk(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)
    else:
        yield value


def poison(value: Any, key: str = "") -> Any:
    """Append hostile text to every string a caller could fill from user input."""
    if isinstance(value, dict):
        return {k: poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, key) for v in value]
    if isinstance(value, str) and key != "follow_up":
        return value + HOSTILE
    return value


# ---- the catalogue and the files agree ---------------------------------------------------------

def test_every_kind_has_subject_text_and_html_templates() -> None:
    for kind in KINDS:
        for part in ("subject", "txt", "html"):
            assert (TEMPLATE_DIR / f"{kind}.{part}.j2").is_file(), (kind, part)


def test_every_template_file_belongs_to_a_kind_or_is_shared() -> None:
    stray = [p.name for p in Path(TEMPLATE_DIR).glob("*.j2")
             if not p.name.startswith("_") and p.name.split(".", 1)[0] not in MESSAGE_KINDS]
    assert stray == []


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput):
        render_message("../_base", {})


# ---- every kind renders its example --------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_example_renders_without_none_or_template_syntax(kind: str) -> None:
    message = render(kind)
    assert message.subject and message.text.strip() and message.html.strip()
    everything = all_parts(message)
    assert "None" not in everything
    for leftover in ("{{", "}}", "{%", "%}", "{#"):
        assert leftover not in everything, leftover
    assert "<" not in message.text, "the text part must not carry HTML"
    assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert 'lang="da"' in message.html


@pytest.mark.parametrize("kind", KINDS)
def test_example_shows_a_danish_date(kind: str) -> None:
    dates = [v for v in walk(example(kind)) if isinstance(v, dt.date)]
    if not dates:
        pytest.skip(f"{kind} has no date in its example")
    message = render(kind)
    shown = [date_short(d) for d in dates]
    assert any(s in message.text for s in shown), shown
    assert any(s in message.html for s in shown), shown


@pytest.mark.parametrize("kind", KINDS)
def test_subject_is_one_short_line(kind: str) -> None:
    subject = render(kind).subject
    assert "\n" not in subject and "\r" not in subject
    assert len(subject) <= SUBJECT_MAX_CHARS
    assert subject == subject.strip()


# ---- a missing key fails; optional values may be empty -----------------------------------------

MISSING = [(kind, key) for kind in KINDS for key in sorted(example(kind))]


@pytest.mark.parametrize(("kind", "key"), MISSING, ids=[f"{k}-{key}" for k, key in MISSING])
def test_missing_top_level_key_raises_undefined(kind: str, key: str) -> None:
    context = example(kind)
    del context[key]
    with pytest.raises(UndefinedError):
        render_message(kind, context)


@pytest.mark.parametrize("kind", KINDS)
def test_missing_nested_case_or_meeting_key_raises_undefined(kind: str) -> None:
    context = example(kind)
    nested = [k for k in ("case", "meeting") if isinstance(context.get(k), dict)]
    if not nested:
        pytest.skip("no case or meeting in this kind")
    for name in nested:
        for key in list(context[name]):
            broken = copy.deepcopy(context)
            del broken[name][key]
            try:
                render_message(kind, broken)
            except UndefinedError:
                continue
            # A key this kind never reads is fine; but the ones every kind shows must fail.
            assert key not in {"institution", "kind_label", "date"}, (kind, name, key)


@pytest.mark.parametrize("kind", KINDS)
def test_optional_keys_may_be_none_or_empty(kind: str) -> None:
    context = example(kind)
    for key in MESSAGE_KINDS[kind].optional_keys:
        context[key] = [] if isinstance(context[key], list) else None
    message = render_message(kind, context)
    assert "None" not in all_parts(message)


@pytest.mark.parametrize("kind", KINDS)
def test_optional_case_and_meeting_fields_may_be_none(kind: str) -> None:
    context = example(kind)
    if "case" in context:
        context["case"].update(district=None, level_institution=None, level_family=None)
    if "meeting" in context:
        context["meeting"].update(starts_at=None, location=None, level=None, leader_name=None)
        if kind not in {"agenda_deadline_reminder", "kv_notice_reminder"}:
            context["meeting"]["agenda_deadline"] = None
    message = render_message(kind, context)
    assert "None" not in all_parts(message)
    assert " kl. " not in message.subject or kind not in {"network_agenda", "startup_meeting_reminder"}


@pytest.mark.parametrize("kind", ["agenda_deadline_reminder", "kv_notice_reminder"])
def test_CAL_2_CAL_3_reminder_without_its_deadline_fails(kind: str) -> None:
    context = example(kind)
    context["meeting"]["agenda_deadline"] = None
    with pytest.raises(InvalidInput):
        render_message(kind, context)


# ---- hostile input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_hostile_input_is_escaped_in_html_and_plain_in_text(kind: str) -> None:
    message = render_message(kind, poison(example(kind)))
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "&amp;amp;" not in message.html and "&amp;lt;" not in message.html
    assert "<script>alert(1)</script>" in message.text
    assert '"&<>' in message.text
    assert "&amp;" not in message.text and "&lt;" not in message.text and "&#34;" not in message.text
    assert "\r" not in message.subject and "\n" not in message.subject
    assert len(message.subject) <= SUBJECT_MAX_CHARS
    assert "\r" not in message.text and "\r" not in message.html  # no bare CR towards SMTP


def test_crlf_in_a_name_never_reaches_the_subject_as_a_header() -> None:
    new = example("coordinator_handover")["new_coordinator"]
    new["name"] = "Anna\r\nBcc: x@evil.example"
    message = render("coordinator_handover", new_coordinator=new)
    assert "\r" not in message.subject and "\n" not in message.subject
    assert "Anna Bcc: x@evil.example" in message.subject


def test_subject_is_cut_to_200_characters_with_an_ellipsis() -> None:
    case = example("receipt")["case"]
    long_name = "Børnehuset " + "Solsikken " * 40
    message = render("receipt", case=case, received_by=long_name)
    assert len(message.subject) <= SUBJECT_MAX_CHARS
    assert message.subject.endswith("…")


def test_one_line_removes_every_line_separator() -> None:
    assert one_line("a\r\nb\nc\rd\x0be\x0cf\x85g\u2028h\u2029i\x00j") == "a b c d e f g h i j"


def test_javascript_link_is_refused() -> None:
    with pytest.raises(InvalidInput):
        render("receipt", link="javascript:alert(1)")


def test_naive_datetime_is_refused_CAL_9() -> None:
    with pytest.raises(InvalidInput) as caught:
        render("receipt", received_at=dt.datetime(2026, 11, 23, 10, 12))
    assert caught.value.rule_id == "CAL-9"


def test_danish_letters_survive_in_every_part() -> None:
    message = render("coordinator_handover", recipient_name="Søren Ærø Åsted", previous_coordinator_name="Øjvind Æbelø")
    assert "Søren Ærø Åsted" in message.text and "Søren Ærø Åsted" in message.html
    assert "Øjvind Æbelø" in message.text and "Øjvind Æbelø" in message.html
    assert "&" not in "".join(re.findall(r"S.ren \S+ \S+", message.html))


# ---- Danish dates and times (Babel, never hand-made month names) -------------------------------

def test_date_and_time_filters_are_danish() -> None:
    assert date_long(dt.date(2026, 12, 10)) == "torsdag den 10. december 2026"
    assert date_short(dt.date(2026, 3, 29)) == "29. marts 2026"
    assert clock(dt.datetime(2026, 12, 10, 8, 0, tzinfo=dt.UTC)) == "kl. 9.00"
    assert clock(dt.datetime(2026, 6, 10, 12, 30, tzinfo=dt.UTC)) == "kl. 14.30"
    assert datetime_long(dt.datetime(2026, 12, 10, 9, 0, tzinfo=CPH)) == "torsdag den 10. december 2026 kl. 9.00"


def test_a_late_utc_instant_is_shown_on_the_copenhagen_date_CAL_9() -> None:
    assert date_long(dt.datetime(2026, 12, 9, 23, 30, tzinfo=dt.UTC)) == "torsdag den 10. december 2026"


# ---- privacy ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_PRIV_2_the_subject_never_names_the_child(kind: str) -> None:
    context = example(kind)
    labels = [context["case"]["child_label"]] if "case" in context else []
    labels += [c["child_label"] for c in context.get("cases", [])]
    subject = render_message(kind, context).subject
    for label in labels:
        if label != "anonym":
            assert label not in subject


def test_PRIV_2_examples_use_only_example_domains() -> None:
    for kind in KINDS:
        for value in walk(example(kind)):
            if isinstance(value, str) and "@" in value:
                assert value.endswith(".example"), (kind, value)
            if isinstance(value, str) and value.startswith("http"):
                assert ".example/" in value, (kind, value)
