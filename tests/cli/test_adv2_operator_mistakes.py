"""Adversary (adv2): ordinary operator mistakes are one line and exit code 2, never a traceback (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PPRFLOW = Path(sys.executable).parent / "pprflow"


def test_a_review_date_past_the_calendars_end_is_one_line_CAL_6() -> None:
    result = subprocess.run([str(PPRFLOW), "calendar", "review-due", "9999-12-31"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
