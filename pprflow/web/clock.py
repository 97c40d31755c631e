"""The web app's clock: today's date in Copenhagen (CAL-9), or the date the settings fix (`PPRFLOW_WEB_TODAY`).

The case and meeting pages ask here instead of calling `local_today()` themselves, so a test (or a demo) can run
the app on a given day — plan a meeting, then record its minutes on the meeting's day — through the same service
functions with the same `today` argument the CLI's `--today` gives them.
"""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from pprflow.models.calendar import local_today


def web_today(app: FastAPI) -> dt.date:
    settings = getattr(app.state, "settings", None)
    fixed = getattr(settings, "today", None)
    return fixed if isinstance(fixed, dt.date) else local_today()
