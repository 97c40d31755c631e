"""Issue 16 as properties: whatever the case and the meeting, a parent's mail names no pseudonym, level or
form and always gives the time range and the address; a deadline a reader is asked for is a working day."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pprflow.models.calendar import WorkingCalendar
from pprflow.profiles import load_profile
from pprflow.templates.catalogue import audience_context
from pprflow.templates.render import render_message

CPH = ZoneInfo("Europe/Copenhagen")
CALENDAR = WorkingCalendar.for_profile(load_profile("randers"))
WORKING_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag")

pseudonyms = st.from_regex(r"(Barn|Elev) [A-Z]-[0-9]{3}", fullmatch=True)
levels = st.integers(min_value=1, max_value=5)
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31))
starts = st.integers(min_value=7 * 4, max_value=16 * 4).map(lambda q: dt.time(q // 4, (q % 4) * 15))
lengths = st.integers(min_value=1, max_value=12).map(lambda q: dt.timedelta(minutes=15 * q))


@settings(max_examples=30, deadline=None)
@given(pseudonym=pseudonyms, birth=st.integers(2008, 2024), level=levels, day=days, start=starts, length=lengths,
       kind=st.sampled_from(["network_agenda", "minutes"]))
def test_a_parent_mail_never_names_the_child_or_the_level_and_always_gives_time_and_place(
        pseudonym: str, birth: int, level: int, day: dt.date, start: dt.time, length: dt.timedelta,
        kind: str) -> None:
    context = audience_context(kind, "parent")
    assert context is not None
    begins = dt.datetime.combine(day, start, tzinfo=CPH)
    ends = begins + length
    label = f"Niveau {level}"
    context["case"].update(child_label=f"{pseudonym} (født {birth})", level_institution=label, level_family=label)
    context["meeting"].update(date=day, starts_at=begins, ends_at=ends, level=label, level_number=level)
    message = render_message(kind, context)
    everything = "\n".join((message.subject, message.text, message.html))
    assert pseudonym not in everything and "Niveau" not in everything and "skema" not in everything.lower()
    span = f"kl. {begins:%-H.%M}–{ends:%-H.%M}"
    assert span in message.text and context["meeting"]["address"] in message.text
    assert "jeres barn" in message.subject


@settings(max_examples=40, deadline=None)
@given(due=days, kind=st.sampled_from(["review_reminder", "review_overdue"]))
def test_CAL_10_a_calendar_day_deadline_is_asked_for_on_the_working_day_before_it(due: dt.date, kind: str) -> None:
    act_by = CALENDAR.previous_working_day(due)  # what tasks/levels.py gives the template
    context = audience_context(kind, "staff")
    assert context is not None
    context.update(deadline=due, act_by=act_by)
    message = render_message(kind, context)
    assert CALENDAR.is_working_day(act_by) and act_by <= due and (due - act_by).days < 7
    weekdays = re.findall(r"(\w+dag) den \d+\.", message.subject)
    assert weekdays and all(w in WORKING_WEEKDAYS for w in weekdays), message.subject
