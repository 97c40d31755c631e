"""`pprflow calendar …` through the real console script (CAL-1 … CAL-6): one result per line,
one-line errors with exit 2, and no Prefect or database import on this path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import pprflow_cli

PPRFLOW = Path(sys.executable).parent / "pprflow"


def run(*args: str, profile: str = "vejle") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PPRFLOW_PROFILE": profile, "PYTHONWARNINGS": "ignore"}
    return pprflow_cli("calendar", *args, env=env, timeout=30)


def ok(*args: str, profile: str = "vejle") -> list[str]:
    result = run(*args, profile=profile)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_console_script_is_installed() -> None:
    assert PPRFLOW.exists(), f"{PPRFLOW} missing: pip install -e . in the venv"


@pytest.mark.parametrize(("args", "expected"), [
    (("agenda-deadline", "2026-04-09"), ["2026-03-30"]),                      # CAL-2 over Easter
    (("kv-deadline", "2026-04-08"), ["2026-04-01"]),                          # CAL-3, Good Friday -> earlier
    (("review-due", "2026-08-31"), ["2027-02-28"]),                           # CAL-6 month-end clamp
    (("add-working-days", "2026-04-01", "5"), ["2026-04-13"]),                # CAL-1 over Easter
    (("is-working-day", "2026-06-05"), ["no"]),                               # CAL-1 profile closed day
    (("is-working-day", "2024-04-26"), ["yes"]),                              # CAL-1 Store Bededag abolished
])
def test_cal_single_result_commands(args: tuple[str, ...], expected: list[str]) -> None:
    assert ok(*args) == expected


def test_cal1_add_working_days_accepts_a_negative_n_with_and_without_double_dash() -> None:
    assert ok("add-working-days", "2026-04-09", "-3") == ["2026-04-01"]
    assert ok("add-working-days", "2026-04-09", "--", "-3") == ["2026-04-01"]


def test_cal5_district_meetings_flag_a_closed_day_with_a_proposal() -> None:
    assert ok("district-meetings", "--from", "2026-12-01", "--count", "4") == [
        "2026-12-03", "2026-12-17", "2026-12-31 closed -> 2027-01-04", "2027-01-14",
    ]


def test_cal5_district_meetings_follow_the_randers_profile_weekday() -> None:
    assert ok("district-meetings", "--from", "2026-12-01", "--count", "2", profile="randers") == [
        "2026-12-01", "2026-12-15",
    ]


def test_cal4_kv_sessions_daycare_every_six_weeks() -> None:
    assert ok("kv-sessions", "--kind", "daycare", "--from", "2026-11-12", "--count", "3") == [
        "2026-11-12", "2026-12-24 closed -> 2026-12-28", "2027-02-04",
    ]


@pytest.mark.parametrize("args", [
    ("agenda-deadline", "2026-13-01"),
    ("is-working-day", "9/4/2026"),
    ("district-meetings", "--from", "next-week", "--count", "2"),
])
def test_cal_invalid_date_is_one_line_naming_the_value_and_the_format(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: invalid ")
    assert repr(args[-1] if args[0] != "district-meetings" else "next-week") in lines[0]
    assert "YYYY-MM-DD" in lines[0]
    assert "Traceback" not in result.stderr


def test_cal4_unknown_kv_kind_is_a_one_line_usage_error() -> None:
    result = run("kv-sessions", "--kind", "gymnasium", "--from", "2026-01-01")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


def test_calendar_command_imports_neither_prefect_nor_the_database() -> None:
    code = (
        "import sys\n"
        "from pprflow.cli import main\n"
        "main(['calendar', 'agenda-deadline', '2026-04-09'])\n"
        "main(['calendar', 'district-meetings', '--from', '2026-12-01', '--count', '2'])\n"
        "heavy = {'prefect', 'sqlmodel', 'sqlalchemy', 'alembic'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2026-03-30"
