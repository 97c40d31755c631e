"""The administrator's planning pages (issue 18): district meetings (CAL-5) and KV sessions (KV-1, CAL-3) —
plan a series, see each date (a closed day moved and flagged), move or cancel ONE meeting with a reason.

Registered from `create_app` with one line; every route declares its access kind (`admin`: the guard asks the
policy). The routes change nothing themselves: they call the service functions the CLI uses —
tasks/ppr.py `schedule_district_meetings` (`pprflow district schedule`), tasks/kv.py `schedule_kv_sessions`
(`pprflow kv schedule`) — and tasks/planning.py `move_planned_meeting` / `cancel_planned_meeting` (which cancel
as tasks/meetings.py `cancel_meeting` does for a case's meeting). Blocking work runs in the threadpool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from pprflow.models.calendar import local_today
from pprflow.models.errors import InvalidInput, PprflowError
from pprflow.models.tables import Institution, Meeting
from pprflow.tasks.casefile import MAX_ID
from pprflow.tasks.context import Ctx
from pprflow.web import forms
from pprflow.web.security import page
from pprflow.web.steps import flow_step

Render = Callable[..., HTMLResponse]
SHOWN = 200
PAGES = {"district": "/admin/distriktsmoeder", "kv": "/admin/kv-moeder"}


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} er ikke en gyldig dato; vælg en dato i kalenderen.", rule_id="CAL-5") from None


def register(app: FastAPI, *, render: Render, as_member: Callable[[Request], Ctx]) -> None:
    ctx: Ctx = app.state.ctx
    engine = ctx.engine

    def _meetings(kind: str, **where: Any) -> dict[str, Any]:
        with Session(engine) as session:
            query = select(Meeting).where(Meeting.kind == kind, col(Meeting.case_id).is_(None),
                                          Meeting.date >= local_today() - dt.timedelta(days=7))
            for name, value in where.items():
                if isinstance(value, int) and not 0 < value <= MAX_ID:
                    value = -1  # a number no row has (and no OverflowError): an empty list, never a traceback
                if value:
                    query = query.where(getattr(Meeting, name) == value)
            meetings = session.exec(query.order_by(col(Meeting.date), col(Meeting.id)).limit(SHOWN)).all()
            institutions = session.exec(select(Institution).order_by(col(Institution.name))).all()
        return {"meetings": meetings, "districts": sorted({i.district for i in institutions}),
                "institutions": institutions, "names": {i.id: i.name for i in institutions},
                "today": local_today()}

    # --- district meetings (CAL-5) ------------------------------------------------------------------

    @app.get("/admin/distriktsmoeder", response_class=HTMLResponse)
    @page("admin")
    def district_meetings(request: Request, district: str = "") -> Response:
        return render(request, "district_meetings.html", **_meetings("district", district=district),
                      values={"district": district}, notice=request.session.pop("notice", None))

    @app.post("/admin/distriktsmoeder", response_class=HTMLResponse)
    @page("admin")
    async def plan_district_meetings(request: Request) -> Response:
        """CAL-5: a series per district; a closed day is moved to the next working day and flagged."""
        from pprflow.tasks.ppr import schedule_district_meetings

        form = forms.form_fields(await request.form())
        try:
            start, count = forms.series_from_form(form)
            result = await flow_step("pprflow.flows.ppr:schedule_district", schedule_district_meetings,
                                      ctx=as_member(request), district=form.get("district", ""), start=start,
                                      count=count, today=local_today())
        except PprflowError as exc:
            request.session["notice"] = forms.refusal_text(exc)
            return RedirectResponse("/admin/distriktsmoeder", status_code=303)
        moved = sum(1 for m in result.get("meetings", []) if m.get("moved_from_closed_day"))
        request.session["notice"] = (f"{count} distriktsmøder planlagt for {form.get('district')}"
                                     + (f"; {moved} flyttet fra en lukkedag (CAL-5)" if moved else "") + ".")
        return RedirectResponse(f"/admin/distriktsmoeder?district={quote(form.get('district', ''))}",
                                status_code=303)

    # --- KV sessions (KV-1, CAL-3) -------------------------------------------------------------------

    @app.get("/admin/kv-moeder", response_class=HTMLResponse)
    @page("admin")
    def kv_sessions(request: Request, institution: int | None = None) -> Response:
        return render(request, "kv_sessions.html", **_meetings("kv", institution_id=institution),
                      values={"institution": institution}, notice=request.session.pop("notice", None))

    @app.post("/admin/kv-moeder", response_class=HTMLResponse)
    @page("admin")
    async def plan_kv_sessions(request: Request) -> Response:
        """KV-1/CAL-4: a series for an institution on its cadence; CAL-3 deadlines pinned; closed days flagged."""
        from pprflow.tasks.kv import schedule_kv_sessions

        form = forms.form_fields(await request.form())
        try:
            start, count = forms.series_from_form(form)
            result = await flow_step("pprflow.flows.kv:schedule_kv", schedule_kv_sessions, ctx=as_member(request),
                                      institution=form.get("institution", ""), start=start, count=count)
        except PprflowError as exc:
            request.session["notice"] = forms.refusal_text(exc)
            return RedirectResponse("/admin/kv-moeder", status_code=303)
        flagged = sum(1 for s in result.get("sessions", []) if s.get("moved_from_closed_day")
                      or s.get("flagged_closed_day"))
        request.session["notice"] = (f"{len(result.get('sessions', []))} KV-møder planlagt for "
                                     f"{result['institution']} (hver {result['cadence_weeks']}. uge)"
                                     + (f"; {flagged} flyttet fra en lukkedag" if flagged else "") + ".")
        return RedirectResponse("/admin/kv-moeder", status_code=303)

    # --- one meeting: move or cancel ------------------------------------------------------------------

    def _kind_of(meeting_id: int) -> str:
        with Session(engine) as session:
            meeting = session.get(Meeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
            return meeting.kind if meeting is not None and meeting.kind in PAGES else "district"

    @app.post("/admin/moeder/{meeting_id}/flyt")
    @page("admin")
    async def move_meeting(request: Request, meeting_id: int) -> Response:
        """Move ONE district meeting or KV session, with a reason; a closed day is refused in Danish (CAL-5)."""
        from pprflow.tasks.planning import move_planned_meeting

        form = forms.form_fields(await request.form())
        back = PAGES[await run_in_threadpool(_kind_of, meeting_id)]
        try:
            new_date = _date(form.get("date", ""), "Den nye dato")
            result = await run_in_threadpool(move_planned_meeting, ctx=as_member(request), meeting_id=meeting_id,
                                             new_date=new_date, reason=form.get("reason"), today=local_today())
        except PprflowError as exc:
            request.session["notice"] = f"Mødet er ikke flyttet: {forms.refusal_text(exc)}"
            return RedirectResponse(back, status_code=303)
        request.session["notice"] = (f"Mødet er flyttet fra {result['moved_from'].strftime('%d.%m.%Y')} til "
                                     f"{result['date'].strftime('%d.%m.%Y')}; fristerne er regnet om.")
        return RedirectResponse(back, status_code=303)

    @app.post("/admin/moeder/{meeting_id}/aflys")
    @page("admin")
    async def cancel_one_meeting(request: Request, meeting_id: int) -> Response:
        """Cancel ONE district meeting or KV session, with a reason; its cases go on the next meeting (PATH-4)."""
        from pprflow.tasks.planning import cancel_planned_meeting

        form = forms.form_fields(await request.form())
        back = PAGES[await run_in_threadpool(_kind_of, meeting_id)]
        try:
            result = await run_in_threadpool(cancel_planned_meeting, ctx=as_member(request), meeting_id=meeting_id,
                                             reason=form.get("reason"), today=local_today())
        except PprflowError as exc:
            request.session["notice"] = f"Mødet er ikke aflyst: {forms.refusal_text(exc)}"
            return RedirectResponse(back, status_code=303)
        moved = result.get("cases_moved") or []
        request.session["notice"] = ("Mødet er aflyst; dets frister er lukket"
                                     + (f"; {len(moved)} sag(er) er sat på næste distriktsmøde" if moved else "")
                                     + ".")
        return RedirectResponse(back, status_code=303)
