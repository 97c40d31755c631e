"""`pprflow demo`: a synthetic municipality (Faker da_DK, seeded, .example addresses only) simulated
for weeks by plain service calls. Through real flow runs against `pprflow serve`: tests/browser/."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import subprocess
import sys
from email.utils import getaddresses
from pathlib import Path

from sqlmodel import Session, col, create_engine, select

from pprflow.models.tables import Case, Notification, OutboxMessage
from pprflow.tasks import demo as script

PPRFLOW = Path(sys.executable).parent / "pprflow"
TODAY = "2026-11-20"  # a Friday


def addresses(mail_dir: Path) -> set[str]:
    found: set[str] = set()
    for path in mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for header in ("From", "To", "Cc"):
            found |= {a for _, a in getaddresses([str(v) for v in message.get_all(header, [])])}
    return found


def test_the_same_seed_gives_the_same_municipality_with_danish_names() -> None:
    world = script.make_world(7)
    assert world == script.make_world(7) and world != script.make_world(8)
    people = [p for school in world.institutions for p in (school.leader, *school.staff)]
    assert all(p.email.endswith(".example") for p in people)
    assert all(p.email.isascii() for p in people)
    assert any(set(p.name) & set("æøåÆØÅ") for family in world.families for p in family) or \
        any(set(p.name) & set("æøåÆØÅ") for p in people)


def test_the_demo_profile_has_only_example_mailboxes(tmp_path: Path) -> None:
    from pprflow.profiles import load_profile

    profile = load_profile(str(script.write_demo_profile(tmp_path, script.make_world(1))))
    mailboxes = [profile.sender, *(m for m in profile.mailboxes.model_dump().values() if m is not None),
                 *profile.district_teams.values()]
    assert all(m.endswith("@demokommune.example") for m in mailboxes)
    assert "vejle.dk" not in (tmp_path / "demo" / "demokommune.toml").read_text(encoding="utf-8")


def test_the_script_puts_routines_on_working_days_and_stories_in_order(vejle) -> None:
    from pprflow.models.calendar import WorkingCalendar

    days = script.simulation_days(dt.date(2026, 11, 20), 3)
    assert days[0] == dt.date(2026, 11, 2) and days[-1] == dt.date(2026, 11, 20)
    events = script.build_script(script.make_world(1), WorkingCalendar.for_profile(vejle), days=days, seed=1)
    assert {e.day.weekday() for e in events if e.action in {"sweep", "deliver"}} <= {0, 1, 2, 3, 4}
    assert [e.day for e in events] == sorted(e.day for e in events)
    assert {"referral", "district_schedule", "assign", "level", "meeting", "minutes", "abuse", "review",
            "kv_topic"} <= {e.action for e in events}
    assert set(script.ACTIONS) >= {e.action for e in events}


def run_demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PREFECT_API_URL", "PPRFLOW_DATABASE_URL"}}
    env |= {"PPRFLOW_HOME": str(home), "PPRFLOW_TRANSPORT": "smtp"}  # the demo uses the file transport anyway
    return subprocess.run([str(PPRFLOW), "demo", "--today", TODAY, *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_three_weeks_by_plain_service_calls(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--weeks", "3", "--seed", "11")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Demo Kommune: 3 uger simuleret" in result.stdout
    assert f"Mails (.eml):  {tmp_path / 'mail'}" in result.stdout
    sent = addresses(tmp_path / "mail")
    assert sent and all(a.endswith(".example") for a in sent)
    assert "ppr@vejle.dk" not in sent and "metrm@vejle.dk" not in sent
    engine = create_engine(f"sqlite:///{tmp_path / 'pprflow.db'}")
    with Session(engine) as session:
        assert len(session.exec(select(Case)).all()) >= 10
        (notification,) = session.exec(select(Notification)).all()
        assert notification.sent_to == "underretning@demokommune.example"
        # ESC-1: after the notification nothing more reaches the parents of that case.
        late = session.exec(select(OutboxMessage).where(
            OutboxMessage.case_id == notification.case_id, OutboxMessage.to_is_parent == True,  # noqa: E712
            OutboxMessage.status == "sent", col(OutboxMessage.created_at) > notification.reported_at)).all()
        assert late == []
        assert session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all() == []
        # issue 17: the demo shows an escalation (an unrecorded review climbs the ladder) and a move (ROLE-3)
        climbed = session.exec(select(OutboxMessage.to).where(OutboxMessage.template == "review_overdue")).all()
        assert len(set(climbed)) >= 2, f"the overdue review reached the next person up: {climbed}"
        # issue 17: a kind other than the review climbs too (here KV-1: sessions no topic was sent for)
        rungs = session.exec(select(OutboxMessage.to).where(OutboxMessage.template == "deadline_escalation")).all()
        assert rungs and all(a.endswith(".example") for a in rungs), rungs
        moved = session.exec(select(OutboxMessage).where(OutboxMessage.template == "case_transferred")).all()
        assert len(moved) == 1 and moved[0].status == "sent"
    engine.dispose()
    assert "Eskaleringstrin for overskredne" in result.stdout  # the table may wrap the row
    assert "Halvårsvurdering 3" in result.stdout and "KV: emner til" in result.stdout, result.stdout[-3000:]
    # "too late" (CAL-3) is reported, not fatal
    assert "(CAL-3)" in result.stdout
