"""Regenerate the committed rule snapshots in tests/snapshots/ (holidays-style `snapshots/`).

    .venv/bin/python scripts/regenerate_snapshots.py          # rewrite the files
    .venv/bin/python scripts/regenerate_snapshots.py --check  # exit 1 if a file is out of date

A rule change then shows up as a diff of these files to review. Snapshots so far:
`agenda_deadlines_<profile>.json`: the CAL-2 agenda deadline for every weekday (Mon–Fri) of
2026 and 2027 as a meeting date, under each shipped municipality profile.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pprflow.models.calendar import WorkingCalendar  # noqa: E402
from pprflow.profiles import load_profile, shipped_profiles  # noqa: E402

SNAPSHOTS = ROOT / "tests" / "snapshots"
AGENDA_YEARS = (2026, 2027)


def agenda_deadlines(profile_name: str, years: tuple[int, ...] = AGENDA_YEARS) -> dict[str, Any]:
    """CAL-2: meeting date -> agenda deadline for every Monday–Friday of `years` under a profile."""
    profile = load_profile(profile_name)
    calendar = WorkingCalendar.for_profile(profile)
    working_days = profile.meetings.agenda_working_days
    deadlines: dict[str, str] = {}
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            if day.weekday() < 5:
                deadlines[day.isoformat()] = calendar.agenda_deadline(day, working_days).isoformat()
            day += dt.timedelta(days=1)
    return {
        "rule": "CAL-2",
        "profile": profile_name,
        "working_days": working_days,
        "closed_days": sorted(profile.closed_days),
        "meeting_date_to_agenda_deadline": deadlines,
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def snapshots() -> dict[Path, str]:
    """Every snapshot file and its expected content."""
    return {
        SNAPSHOTS / f"agenda_deadlines_{name}.json": render(agenda_deadlines(name)) for name in shipped_profiles()
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in snapshots().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if check else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
