"""Meetings on a case as the seeds run them (issue 19): schedule (CAL-2), agenda (MEET-3), minutes (MEET-2).

Registered from `create_app` with one line. Each route declares its access kind (`@page`) and asks the one
access policy; scheduling, the agenda and the minutes go through tasks/meetings.py, the same service functions
as `pprflow meeting schedule|send-agenda|minutes`. The date field starts at the earliest date that leaves the
profile's working days for the agenda (CAL-2, models/rules_meetings.py `earliest_meeting_date`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select

from pprflow.models.access import Perm
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import PprflowError
from pprflow.models.rules_meetings import agenda_form, agenda_items, earliest_meeting_date
from pprflow.models.tables import Action, Meeting
from pprflow.tasks import audit
from pprflow.tasks.casefile import get_case
from pprflow.tasks.context import Ctx
from pprflow.web.clock import web_today
from pprflow.web.forms import form_fields, is_whole_number, refusal_text
from pprflow.web.security import authorize, current_actor, page
from pprflow.web.steps import flow_step

Render = Callable[..., HTMLResponse]

KIND_LABELS = {"development": "Udviklingsmøde", "network": "Tværfagligt netværksmøde", "startup": "Opstartsmøde"}
MAX_NEW_ACTIONS = 5
"""Rows for new actions in the minutes form (without JavaScript; submit again for more)."""

LEADER_CHECKLIST: dict[str, tuple[str, ...]] = {
    # MEET-4: the meeting leader's before/during/after guide, each step tied to the rule behind it
    "Før mødet": (
        "Aftal mødelederrollen med den pædagogiske leder, hvis en anden har taget initiativ (MEET-4).",
        "Send dagsordenen senest 5 arbejdsdage før mødet, med kalenderinvitation (CAL-2).",
        "Brug skemaet til første møde eller opfølgningsmøde (MEET-3); niveau 4 tilføjer forældreoplysningsskemaet.",
        "Bed familien tage netværkskortet med (MEET-5).",
    ),
    "Under mødet": (
        "Sørg for, at forældrene inddrages i beslutningerne (MEET-1), medmindre sagen er fortrolig (ESC-1).",
        "Følg op på hver åben aftale fra sidste møde: fortsætter, justeres eller ændres (MEET-2).",
        "Aftal konkrete handlinger, hver med én ansvarlig (MEET-2), og hvem der er tovholder (ROLE-1).",
    ),
    "Efter mødet": (
        "Skriv referatet på det lyseblå skema og send det til deltagerne (LVL-3).",
        "Aftal næste møde, og hold øje med fristerne på sagen.",
    ),
}


def register(app: FastAPI, *, render: Render, as_member: Callable[[Request], Ctx]) -> None:
    ctx: Ctx = app.state.ctx
    engine = ctx.engine

    def web_date() -> dt.date:
        return web_today(app)  # the injectable clock (PPRFLOW_WEB_TODAY)
    calendar = WorkingCalendar.for_profile(ctx.profile)
    working_days = ctx.profile.meetings.agenda_working_days

    def earliest(today: dt.date) -> dt.date:
        return earliest_meeting_date(calendar, today, working_days)

    def schedule_page(request: Request, case_id: int, *, values: dict[str, str], error: str | None,
                      status: int = 200) -> HTMLResponse:
        today = web_date()
        first = earliest(today)
        return render(request, "case/meeting_new.html", status=status, case_id=case_id, values=values, error=error,
                      earliest=first, today=today, working_days=working_days, kinds=KIND_LABELS,
                      max_level=ctx.profile.max_level)

    @app.get("/sager/{case_id}/moeder/ny", response_class=HTMLResponse)
    @page("case_data")
    async def meeting_new(request: Request, case_id: int) -> Response:
        with Session(engine) as session:
            authorize(request, session, Perm.MEETING_SCHEDULE, case=case_id, what="web møde")  # PRIV-4
        return schedule_page(request, case_id, values={"date": earliest(web_date()).isoformat()}, error=None)

    @app.post("/sager/{case_id}/moeder/ny", response_class=HTMLResponse)
    @page("case_data")
    async def meeting_schedule(request: Request, case_id: int) -> Response:
        """CAL-2: inside the window only with a recorded reason (the agenda then goes out at once); LVL-4: a
        second level-3 meeting is refused until consent is recorded — both decided by tasks/meetings.py."""
        from pprflow.models.rules_meetings import MeetingInput
        from pprflow.tasks.meetings import schedule_meeting

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.MEETING_SCHEDULE, case=case_id, what="web møde")  # PRIV-4
        try:
            raw: dict[str, Any] = {"case_id": case_id, "kind": form.get("kind", ""), "date": form.get("date", ""),
                                   "starts_at": form.get("starts_at") or "09:00"}
            for key in ("location", "address", "purpose", "urgent_reason", "leader_phone"):
                if form.get(key):
                    raw[key] = form[key]
            if form.get("level"):
                if not is_whole_number(form["level"], max_digits=1):
                    raise PprflowError("Vælg mødets niveau som et tal (LVL-3).")
                raw["level"] = int(form["level"])
            result = await flow_step("pprflow.flows.meetings:plan_meeting", schedule_meeting, ctx=as_member(request),
                                      data=MeetingInput.model_validate(raw), today=web_date())
        except (PprflowError, ValidationError) as exc:
            return schedule_page(request, case_id, values=form, error=refusal_text(exc), status=400)
        request.session["meeting_notice"] = {"ok": True, "text": (
            f"Mødet er planlagt den {result['date']}. Dagsordenen skal sendes senest {result['agenda_deadline']} "
            "(CAL-2)." + (" Mødet er indkaldt med kort varsel, og dagsordenen er sendt nu." if result.get(
                "short_notice_reason") else ""))}
        return RedirectResponse(f"/moeder/{result['meeting_id']}", status_code=303)

    @app.get("/moeder/{meeting_id}", response_class=HTMLResponse)
    @page("case_data")
    async def meeting_page(request: Request, meeting_id: int) -> Response:
        return show_meeting(request, meeting_id)

    def show_meeting(request: Request, meeting_id: int, *, form_values: dict[str, str] | None = None,
                     form_errors: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
        """The meeting: agenda form and items (MEET-3), network map (MEET-5), checklist (MEET-4), open actions
        to follow up and the minutes form (MEET-2). The case's policy decides; the read is audited."""
        from pprflow.models.rules_meetings import (
            PARENTS_FORM,
            PARENTS_FORM_FIELDS,
            agenda_fields_for,
            parents_form_applies,
        )
        from pprflow.tasks.meetings import (
            _get_meeting,
            _network_map,
            is_first_meeting,
            network_map_rows,
            open_actions,
            public_kind,
        )
        from pprflow.tasks.outbox import is_confidential

        with Session(engine, expire_on_commit=False) as session:
            meeting = _get_meeting(session, meeting_id)
            if meeting.case_id is None:
                raise PprflowError(f"Møde {meeting_id} hører ikke til en sag.")
            case = get_case(session, meeting.case_id)
            authorize(request, session, Perm.CASE_READ, case=case, what="web møde")  # PRIV-3
            first = is_first_meeting(session, meeting)
            kind = public_kind(meeting.kind)
            earlier = open_actions(session, case.id or 0, before_meeting_id=meeting.id)
            confidential = is_confidential(session, case)
            network = _network_map(session, case, meeting.leader_email)
            recorded = list(session.exec(select(Action).where(Action.meeting_id == meeting.id)).all())
            family_map = [] if confidential else network_map_rows(session, case.id or 0)  # MEET-5 (not under ESC-1)
            audit.record(session, actor=current_actor(request).id, action="read", entity="meeting",
                         entity_id=meeting_id, case_id=case.id, reason="web: mødet")  # PRIV-1
            session.commit()
        return render(request, "case/meeting.html", meeting=meeting, case_id=case.id, kind_label=KIND_LABELS.get(
            kind, kind), form_name=agenda_form(kind, first=first, level=meeting.level), first=first,
            items=agenda_items(kind, first=first, open_actions=len(earlier), confidential_from_parents=confidential),
            open_actions=earlier, recorded=recorded, network=network, checklist=LEADER_CHECKLIST,
            new_rows=range(1, MAX_NEW_ACTIONS + 1), today=web_date(),
            notice=request.session.pop("meeting_notice", None), status=status, family_map=family_map,
            agenda_fields=agenda_fields_for(first=first), parents_fields=PARENTS_FORM_FIELDS,
            parents_form_name=PARENTS_FORM, with_parents_form=parents_form_applies(meeting.level) and not confidential,
            confidential=confidential,
            form_values=form_values if form_values is not None else {
                **{f"a_{k}": v for k, v in (meeting.agenda_fields or {}).items()},
                **{f"f_{k}": v for k, v in (meeting.parents_form or {}).items()}},
            form_errors=form_errors or {})

    def _case_of(request: Request, meeting_id: int, perm: Perm) -> Meeting:
        from pprflow.tasks.meetings import _get_meeting

        with Session(engine, expire_on_commit=False) as session:
            meeting = _get_meeting(session, meeting_id)
            authorize(request, session, perm, case=meeting.case_id, what="web møde")  # PRIV-4
            return meeting

    @app.post("/moeder/{meeting_id}/dagsorden")
    @page("case_data")
    async def meeting_agenda(request: Request, meeting_id: int) -> Response:
        """CAL-2, MEET-3: the agenda with a calendar invite (tasks/meetings.py `send_agenda`)."""
        from pprflow.tasks.meetings import send_agenda

        _case_of(request, meeting_id, Perm.MEETING_AGENDA)
        try:
            result = await flow_step("pprflow.flows.meetings:send_meeting_agenda", send_agenda,
                                      ctx=as_member(request), meeting_id=meeting_id, today=web_date())
            notice = {"ok": True, "text": f"Dagsordenen er sendt med kalenderinvitation til "
                                          f"{len(result['messages'])} modtagere."}
        except PprflowError as exc:
            notice = {"ok": False, "text": f"Dagsordenen er ikke sendt: {refusal_text(exc)}"}
        request.session["meeting_notice"] = notice
        return RedirectResponse(f"/moeder/{meeting_id}", status_code=303)

    @app.post("/moeder/{meeting_id}/skema", response_class=HTMLResponse)
    @page("case_data")
    async def meeting_form(request: Request, meeting_id: int) -> Response:
        """MEET-3: the first-meeting (yellow) or follow-up form field by field; level 4 adds the parents'
        information form (dark-blue). Stored through tasks/meetings.py `save_agenda_form`; a required field left
        empty is shown at its field in Danish, the form as it was filled in (no JavaScript needed)."""
        from pprflow.models.rules_meetings import (
            PARENTS_FORM_FIELDS,
            AgendaFormInput,
            agenda_fields_for,
            missing_fields,
            parents_form_applies,
        )
        from pprflow.tasks.meetings import is_first_meeting, save_agenda_form

        meeting = _case_of(request, meeting_id, Perm.MEETING_AGENDA)
        form = form_fields(await request.form())
        with Session(engine) as session:
            first = is_first_meeting(session, meeting)
        fields = agenda_fields_for(first=first)
        agenda = {f.name: form.get(f"a_{f.name}", "") for f in fields}
        parents = ({f.name: form.get(f"f_{f.name}", "") for f in PARENTS_FORM_FIELDS}
                   if parents_form_applies(meeting.level) else {})
        errors = {f"a_{name}": f"Udfyld feltet »{label}« (MEET-3)." for name, label in (
            (f.name, f.label) for f in fields) if name in missing_fields(fields, agenda)}
        if any(v.strip() for v in parents.values()):
            errors |= {f"f_{f.name}": f"Udfyld feltet »{f.label}« i forældreoplysningsskemaet (LVL-3)."
                       for f in PARENTS_FORM_FIELDS if f.name in missing_fields(PARENTS_FORM_FIELDS, parents)}
        if not errors:
            try:
                save_agenda_form(ctx=as_member(request), meeting_id=meeting_id,
                                 data=AgendaFormInput(fields=agenda, parents=parents))
            except (PprflowError, ValidationError) as exc:
                errors = {"a_form": refusal_text(exc)}
        if errors:
            request.session["meeting_notice"] = {"ok": False, "text": "Skemaet er ikke gemt: ret felterne nedenfor."}
            return show_meeting(request, meeting_id, form_values=form, form_errors=errors, status=400)
        request.session["meeting_notice"] = {"ok": True, "text": "Skemaet er gemt; det kommer med i dagsordenen og "
                                                                 "kalenderinvitationen."}
        return RedirectResponse(f"/moeder/{meeting_id}#skema", status_code=303)

    @app.post("/moeder/{meeting_id}/referat")
    @page("case_data")
    async def meeting_minutes(request: Request, meeting_id: int) -> Response:
        """MEET-2: concrete actions with one responsible each; every open action followed up."""
        from pprflow.models.rules_meetings import MinutesInput
        from pprflow.tasks.meetings import record_minutes

        _case_of(request, meeting_id, Perm.MEETING_MINUTES)
        form = form_fields(await request.form())
        actions = []
        for i in range(1, MAX_NEW_ACTIONS + 1):
            text = form.get(f"action_{i}_text", "")
            if text or form.get(f"action_{i}_responsible"):
                actions.append({"text": text, "responsible": form.get(f"action_{i}_responsible") or None,
                                "due": form.get(f"action_{i}_due") or None})
        follow_ups = []
        for key, decision in form.items():
            if key.startswith("follow_") and is_whole_number(key.removeprefix("follow_")) and decision:
                action_id = key.removeprefix("follow_")
                follow_ups.append({"action_id": int(action_id), "decision": decision,
                                   "text": form.get(f"follow_{action_id}_text") or None})
        try:
            data = MinutesInput.model_validate({"summary": form.get("summary") or None, "actions": actions,
                                                "follow_ups": follow_ups})
            result = await flow_step("pprflow.flows.meetings:meeting_minutes", record_minutes, ctx=as_member(request),
                                      meeting_id=meeting_id, data=data, today=web_date())
            notice = {"ok": True, "text": f"Referatet er gemt med {len(result.get('actions', []))} aftaler og sendt "
                                          "til deltagerne."}
        except (PprflowError, ValidationError) as exc:
            notice = {"ok": False, "text": f"Referatet er ikke gemt: {refusal_text(exc)}"}
        request.session["meeting_notice"] = notice
        return RedirectResponse(f"/moeder/{meeting_id}", status_code=303)
