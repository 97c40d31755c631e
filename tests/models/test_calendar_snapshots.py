"""CAL-2 snapshot: the agenda deadline of every weekday of 2026–2027 equals the committed JSON.

A rule change shows as a diff: run `.venv/bin/python scripts/regenerate_snapshots.py` and review it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate_snapshots", ROOT / "scripts" / "regenerate_snapshots.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()


@pytest.mark.parametrize("profile", ["vejle", "randers"])
def test_cal2_agenda_deadlines_match_the_committed_snapshot(profile: str) -> None:
    path = ROOT / "tests" / "snapshots" / f"agenda_deadlines_{profile}.json"
    committed = json.loads(path.read_text(encoding="utf-8"))
    live = SCRIPT.agenda_deadlines(profile)
    assert live == committed, f"CAL-2 changed for {profile}: regenerate with scripts/regenerate_snapshots.py"


def test_cal2_snapshot_covers_every_weekday_of_2026_and_2027() -> None:
    deadlines = json.loads((ROOT / "tests" / "snapshots" / "agenda_deadlines_vejle.json").read_text())[
        "meeting_date_to_agenda_deadline"
    ]
    assert len(deadlines) == 261 + 261
    assert deadlines["2026-04-09"] == "2026-03-30"  # the worked example in RULES.md
    assert deadlines["2026-01-15"] == "2026-01-08"


def test_cal2_snapshot_check_mode_reports_nothing_stale() -> None:
    assert SCRIPT.main(["--check"]) == 0
