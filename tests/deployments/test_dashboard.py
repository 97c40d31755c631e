"""The coordinators' dashboard: Danish deadline tables per district and the sweep summary (no child named)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlmodel import Session

from pprflow.flows.dashboard import (
    NO_DISTRICT,
    SUMMARY_KEY,
    DeadlineItem,
    artifact_key,
    deadline_rows,
    load_deadline_items,
    summary_markdown,
)
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.tables import Child, Meeting
from pprflow.tasks.deadlines import pin_deadline
from tests import factories

TODAY = dt.date(2026, 12, 10)  # a Thursday


def item(due: dt.date, *, kind: str = "some_agenda_kind", rule: str = "CAL-2", done: bool = False,
         district: str | None = "Nord", case_id: int | None = 7) -> DeadlineItem:
    return DeadlineItem(kind=kind, rule_id=rule, due_on=due, remind_on=due - dt.timedelta(days=3), done=done,
                        district=district, case_id=case_id)


def test_artifact_keys_are_lowercase_with_dashes() -> None:
    assert artifact_key("frister", "Vejle Øst") == "frister-vejle-oest"
    assert artifact_key("frister", "Ærø/Ålborg Syd") == "frister-aeroe-aalborg-syd"
    assert artifact_key("frister", NO_DISTRICT) == "frister-uden-distrikt"
    for key in (artifact_key("frister", "  Nord  "), SUMMARY_KEY, artifact_key("x", "é—ü")):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key)


def test_rows_show_overdue_first_then_upcoming_within_the_horizon() -> None:
    rows = deadline_rows([
        item(TODAY + dt.timedelta(days=3), case_id=1),
        item(TODAY - dt.timedelta(days=2), kind="some_kind", rule="LAW-2", case_id=2),
        item(TODAY + dt.timedelta(days=30), case_id=3),  # beyond the horizon
        item(TODAY - dt.timedelta(days=5), done=True, case_id=4),  # handled and past: gone
        item(TODAY, rule="CAL-6", kind="review", done=True, case_id=5),
    ], TODAY)
    nord = rows["Nord"]
    assert [r["Sag"] for r in nord] == ["#2", "#5", "#1"]
    assert nord[0]["Status"] == "Overskredet (2 dage)" and nord[0]["Hvad"] == "Kvittering for underretning"
    assert nord[1]["Status"] == "I dag" and nord[1]["Påmindelse"] == "sendt"
    assert nord[2]["Status"] == "Om 3 dage" and nord[2]["Hvad"] == "Dagsorden til netværksmøde"
    assert nord[2]["Frist"] == "søn. 13. dec. 2026"


def test_rows_without_a_district_and_unknown_kinds_are_still_shown() -> None:
    rows = deadline_rows([item(TODAY + dt.timedelta(days=1), kind="some_new_kind", rule="X-1", district=None)], TODAY)
    assert rows[NO_DISTRICT][0]["Hvad"] == "Frist (X-1)", "issue 17: Danish, never the English kind name"
    assert rows[NO_DISTRICT][0]["Status"] == "Om 1 dag"


def test_summary_says_what_was_queued_sent_and_overdue_in_danish() -> None:
    tables = deadline_rows([item(TODAY - dt.timedelta(days=1)), item(TODAY + dt.timedelta(days=2))], TODAY)
    text = summary_markdown(today=TODAY, sweep={"queued": 4, "handled": {"agenda_deadline_reminder": 2}},
                            outbox={"sent_today": 3, "pending": 1, "failed": 0}, tables=tables)
    assert "Daglig gennemgang tors. 10. dec. 2026" in text
    assert "Påmindelser lagt i udbakken: **4**" in text
    assert "sendt i dag **3**, venter 1, fejlet 0" in text
    assert "**1** overskredet, 1 de næste 14 dage" in text
    assert "`frister-nord`" in text
    closed = summary_markdown(today=dt.date(2026, 12, 25), sweep=None, outbox={}, tables={}, closed_day=True)
    assert "Lukkedag (CAL-1)" in closed


def test_rows_come_from_the_deadline_table_with_the_case_district_and_name_no_child(engine) -> None:
    with Session(engine) as session:
        case = factories.case_with_parents(session)
        child = session.get(Child, case.child_id)
        assert child is not None
        child.pseudonym = "Mikkel Sørensen"
        pin_deadline(session, calendar=WorkingCalendar(),
                     kind="agenda_deadline_reminder", rule_id="CAL-2", subject_key="meeting:1",
                     due_on=TODAY + dt.timedelta(days=4), remind_on=TODAY + dt.timedelta(days=1), case_id=case.id)
        pin_deadline(session, calendar=WorkingCalendar(),
                     kind="acknowledgement_overdue", rule_id="LAW-2", subject_key="notification:1",
                     due_on=TODAY - dt.timedelta(days=1), remind_on=TODAY, case_id=case.id)
        meeting = Meeting(kind="district", district="Syd", date=TODAY + dt.timedelta(days=7))
        session.add(meeting)
        session.flush()
        pin_deadline(session, calendar=WorkingCalendar(),
                     kind="district_case_list", rule_id="CAL-5", subject_key=f"meeting:{meeting.id}",
                     due_on=meeting.date, remind_on=meeting.date - dt.timedelta(days=1), meeting_id=meeting.id)
        session.commit()
        case_id = case.id
        items = load_deadline_items(session, TODAY)
    rows = deadline_rows(items, TODAY)
    assert sorted(rows) == ["Nord", "Syd"]
    assert [r["Sag"] for r in rows["Nord"]] == [f"#{case_id}", f"#{case_id}"]
    assert rows["Nord"][0]["Status"].startswith("Overskredet")
    assert rows["Syd"][0]["Hvad"] == "Distriktsmøde: sagsliste" and rows["Syd"][0]["Sag"] == "—"
    assert rows["Nord"][0]["Hvad"] == "Kvittering for underretning"
    dumped = json.dumps(rows, ensure_ascii=False)
    for private in ("Mikkel", "Sørensen", "Hansen", "@", "Barn"):
        assert private not in dumped


def read_artifacts(key: str, flow_run_id: str | None = None) -> list[dict]:
    """Artifacts with this key, newest first, through the REST API.

    Prefect 3.8's client sends `"limit": null`, which FastAPI >= 0.151 refuses (422), so we send every field.
    """
    import httpx
    from prefect.settings import PREFECT_API_URL

    body: dict = {"artifacts": {"key": {"any_": [key]}}, "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
    if flow_run_id is not None:
        body["flow_runs"] = {"id": {"any_": [flow_run_id]}}
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.prefect
def test_the_morning_sweep_publishes_the_deadline_tables_and_summary(pprflow_env, engine, fast_flow_runs) -> None:
    from pprflow.deployments.scheduled import morning_sweep

    with Session(engine) as session:
        case = factories.case_with_parents(session, institution_name="Dashboardskolen")
        pin_deadline(session, calendar=WorkingCalendar(),
                     kind="agenda_deadline_reminder", rule_id="CAL-2", subject_key="meeting:99",
                     due_on=TODAY + dt.timedelta(days=2), remind_on=TODAY + dt.timedelta(days=1), case_id=case.id,
                     district="Dashboard Øst")
        session.commit()
        case_id = case.id
    result = morning_sweep(today=TODAY)
    assert result["swept"] == [TODAY.isoformat()]
    assert result["artifacts"] == ["frister-dashboard-oest", SUMMARY_KEY]

    (table, *_) = read_artifacts("frister-dashboard-oest")
    assert table["type"] == "table"
    data = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert data[0]["Sag"] == f"#{case_id}" and data[0]["Hvad"] == "Dagsorden: påmindelse til mødeleder"
    (summary, *_) = read_artifacts(SUMMARY_KEY)
    assert "Daglig gennemgang" in summary["data"] and summary["type"] == "markdown"

    closed = morning_sweep(today=dt.date(2026, 12, 25))  # Christmas Day: no sweep (CAL-1)
    assert closed["swept"] == []


def test_a_closed_weekday_is_not_swept(vejle) -> None:
    from pprflow.deployments.scheduled import sweep_days
    from pprflow.models.calendar import WorkingCalendar

    calendar = WorkingCalendar.for_profile(vejle)
    assert sweep_days(dt.date(2026, 12, 10), calendar) == [dt.date(2026, 12, 10)]
    assert sweep_days(dt.date(2026, 4, 3), calendar) == []  # Good Friday
    assert sweep_days(dt.date(2026, 12, 24), calendar) == []  # Vejle's closed day


def test_summary_labels_deadline_kinds_in_danish_and_lists_what_stays_overdue_issue_17() -> None:
    """Issue 17: 'acknowledgement overdue' was shown in English; overdue deadlines stay in the summary."""
    sweep = {"queued": 1, "handled": {"acknowledgement_overdue": 1, "review_overdue": 2},
             "overdue_deadlines": [
                 {"kind": "review_overdue", "rule_id": "CAL-6"}, {"kind": "review_overdue", "rule_id": "CAL-6"},
                 {"kind": "acknowledgement_overdue_escalation", "rule_id": "LAW-2"}]}
    text = summary_markdown(today=TODAY, sweep=sweep, outbox={}, tables={}, key_prefix="demo-")
    assert "Frister behandlet i dag: Kvittering for underretning 1, Halvårsvurdering 2" in text
    assert "**Overskredne frister: 3** (Halvårsvurdering 2, Kvittering for underretning: eskalering 1)" in text
    assert "acknowledgement" not in text and "overdue" not in text


def test_sent_today_counts_only_today_not_since_then_issue_17(engine) -> None:
    """Issue 17: the demo's last day showed 100 'sent today' (every message since the first day)."""
    from pprflow.flows.dashboard import outbox_counts
    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks.outbox import queue_message
    from pprflow.templates.catalogue import MESSAGE_KINDS

    cph = dt.timezone(dt.timedelta(hours=1))
    with Session(engine) as session:
        times = (dt.datetime(2026, 12, 9, 23, 30, tzinfo=cph), dt.datetime(2026, 12, 10, 8, tzinfo=cph),
                 dt.datetime(2026, 12, 11, 0, 5, tzinfo=cph))
        for i, sent in enumerate(times):
            message = queue_message(session, kind="receipt", to=f"modtager{i}@skole.example",
                                    context=MESSAGE_KINDS["receipt"].example_context(), serves=f"test:{i}",
                                    sender="ppr@vejle.example")
            assert isinstance(message, OutboxMessage)
            message.status, message.sent_at = "sent", sent
            session.add(message)
        session.commit()
        assert outbox_counts(session, TODAY)["sent_today"] == 1
        assert outbox_counts(session, TODAY + dt.timedelta(days=1))["sent_today"] == 1
