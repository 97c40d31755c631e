"""KV topics (KV-1, CAL-3), the staff directory and the mail's health (issue 19).

Registered from `create_app` with one line. Each route declares its access kind (`@page`); administrator pages
are `admin` (the guard asks the policy). Everything goes through the service functions the CLI uses:
tasks/kv.py, tasks/staff.py, tasks/handover.py and tasks/outbox_view.py (which refuse to retry or cancel what the
rules protect: an abuse notification, a message cancelled by ESC-1 or CONS-1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from pprflow.models.access import ADMINISTRATOR
from pprflow.models.errors import PprflowError
from pprflow.models.tables import Case, Institution, KVTopic, Meeting, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.web.clock import web_today
from pprflow.web.forms import form_fields, refusal_text
from pprflow.web.security import current_actor, page
from pprflow.web.steps import flow_step

Render = Callable[..., HTMLResponse]
PPR_ROLES = ("ppr_psychologist", "ppr_consultant", "speech_therapist", "sup", ADMINISTRATOR)
STUCK_AFTER = dt.timedelta(minutes=30)
"""A pending message this long past its send time, or claimed this long ago, is shown as stuck."""


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def register(app: FastAPI, *, render: Render, as_member: Callable[[Request], Ctx]) -> None:
    ctx: Ctx = app.state.ctx
    engine = ctx.engine

    def web_date() -> dt.date:
        return web_today(app)  # the injectable clock (PPRFLOW_WEB_TODAY)

    def notice(request: Request, text: str, ok: bool) -> None:
        request.session["admin_notice"] = {"ok": ok, "text": text}

    # --- KV (KV-1, CAL-3) -----------------------------------------------------------------------------

    @app.get("/kv", response_class=HTMLResponse)
    @page("staff")
    async def kv_page(request: Request) -> Response:
        """A pedagogical leader's sessions with their notice deadline (CAL-3) and the topic form (KV-1,
        anonymous); PPR sees the topics of the coming sessions in its district. No case data."""
        from pprflow.tasks.kv import list_kv_sessions

        actor = current_actor(request)
        today = web_date()
        sessions: list[dict[str, Any]] = []
        institution = None
        with Session(engine) as session:
            if actor.institution_id is not None:
                inst = session.get(Institution, actor.institution_id)
                institution = inst.name if inst else None
            topics: list[dict[str, Any]] = []
            if actor.role in PPR_ROLES:  # the PPR team prepares the session from the anonymous topics
                query = (select(Meeting, Institution).join(Institution, col(Meeting.institution_id) == Institution.id)
                         .where(Meeting.kind == "kv", Meeting.date >= today, Meeting.status == "scheduled"))
                if actor.district and actor.role != ADMINISTRATOR:
                    query = query.where(Institution.district == actor.district)
                for meeting, inst in session.exec(query.order_by(col(Meeting.date)).limit(50)).all():
                    texts = session.exec(select(KVTopic.text).where(KVTopic.meeting_id == meeting.id)).all()
                    topics.append({"date": meeting.date, "institution": inst.name, "texts": list(texts),
                                   "deadline": meeting.agenda_deadline})
        if institution:
            try:
                sessions = list_kv_sessions(as_member(request), institution=institution,
                                            from_date=today)["sessions"]
            except PprflowError:
                sessions = []
        open_sessions = [s for s in sessions if s["status"] == "scheduled" and (s["notice_deadline"] or s["date"])
                         >= today.isoformat()]
        return render(request, "admin/kv.html", sessions=sessions, open_sessions=open_sessions, topics=topics,
                      institution=institution, notice=request.session.pop("admin_notice", None),
                      as_date=dt.date.fromisoformat)

    @app.post("/kv")
    @page("staff")
    async def kv_submit(request: Request) -> Response:
        """KV-1: an anonymous topic (no child field at all); CAL-3: refused after the notice deadline."""
        from pprflow.models.rules_kv import KVTopicIn
        from pprflow.tasks.kv import submit_kv_topic

        form = form_fields(await request.form())
        try:
            topic = KVTopicIn(institution=form.get("institution", ""), session_date=form.get("session_date", ""),  # type: ignore[arg-type]
                              text=form.get("text", ""))
            result = await flow_step("pprflow.flows.kv:kv_submit_topic", submit_kv_topic, ctx=as_member(request),
                                      topic=topic, today=web_date())
        except (PprflowError, ValidationError) as exc:
            notice(request, f"Emnet er ikke sendt: {refusal_text(exc)}", ok=False)
            return RedirectResponse("/kv", status_code=303)
        notice(request, f"Emnet er modtaget til KV {result['session']} (frist {result['notice_deadline']}); "
                        f"{result['topics']} emne(r) i alt.", ok=True)
        return RedirectResponse("/kv", status_code=303)

    # --- the staff directory ------------------------------------------------------------------------------

    @app.get("/admin/medarbejdere", response_class=HTMLResponse)
    @page("admin")
    async def staff_page(request: Request) -> Response:
        from pprflow.tasks.staff import list_staff

        rows = list_staff(as_member(request), include_inactive=True)
        with Session(engine) as session:
            institutions = sorted(session.exec(select(Institution.name)).all())
            counts = dict(session.exec(select(Case.coordinator_email, func.count()).where(
                col(Case.status) != "closed").group_by(col(Case.coordinator_email))).all())
        for row in rows:
            row["cases"] = counts.get(row["email"], 0)
        return render(request, "admin/staff.html", rows=rows, institutions=institutions,
                      notice=request.session.pop("admin_notice", None))

    @app.post("/admin/medarbejdere")
    @page("admin")
    async def staff_save(request: Request) -> Response:
        """Add a member or change their role/institution/district (the same upsert as `pprflow staff add`)."""
        from pprflow.models.staff import StaffIn
        from pprflow.tasks.staff import add_staff

        form = form_fields(await request.form())
        try:
            raw = {k: form[k] for k in ("name", "email", "role", "institution", "district", "phone") if form.get(k)}
            result = add_staff(as_member(request), StaffIn.model_validate(raw))
        except (PprflowError, ValidationError) as exc:
            notice(request, f"Medarbejderen er ikke gemt: {refusal_text(exc)}", ok=False)
            return RedirectResponse("/admin/medarbejdere", status_code=303)
        notice(request, f"{result.get('email', form.get('email'))} er gemt i medarbejderkartoteket.", ok=True)
        return RedirectResponse("/admin/medarbejdere", status_code=303)

    @app.post("/admin/medarbejdere/import")
    @page("admin")
    async def staff_import(request: Request) -> Response:
        """CSV import (`pprflow staff import`): each bad row named, the good ones stored."""
        from pprflow.tasks.staff import import_staff

        raw = await request.form()
        upload = raw.get("file")
        text = ""
        if upload is not None and not isinstance(upload, str):
            text = (await upload.read()).decode("utf-8-sig", errors="replace")
        text = text or str(raw.get("csv", ""))
        try:
            if not text.strip():
                raise PprflowError("Vælg en CSV-fil eller indsæt rækkerne (navn, e-mail, rolle, …).")
            result = import_staff(as_member(request), text)
        except PprflowError as exc:
            notice(request, f"Intet er importeret: {refusal_text(exc)}", ok=False)
            return RedirectResponse("/admin/medarbejdere", status_code=303)
        errors = result.get("errors") or []
        notice(request, f"{result['imported']} medarbejdere importeret." + (
            f" {len(errors)} række(r) afvist: " + "; ".join(str(e) for e in errors[:5]) if errors else ""),
            ok=not errors)
        return RedirectResponse("/admin/medarbejdere", status_code=303)

    @app.post("/admin/medarbejdere/fratraed")
    @page("admin")
    async def staff_leave(request: Request) -> Response:
        """A leaving member: every open case they coordinate handed over in one step (ROLE-1, everyone told),
        then deactivated (PRIV-4: no more access)."""
        from pprflow.tasks.handover import handover
        from pprflow.tasks.staff import deactivate_staff

        form = form_fields(await request.form())
        email, to = form.get("email", "").lower(), form.get("to", "").lower()
        with Session(engine) as session:
            case_ids = [c for c in session.exec(select(Case.id).where(
                Case.coordinator_email == email, col(Case.status) != "closed")).all() if c is not None]
        try:
            if case_ids and not to:
                raise PprflowError(f"{email} er tovholder på {len(case_ids)} sag(er): vælg, hvem der overtager "
                                   "(ROLE-1).")
            member_ctx = as_member(request)
            for case_id in case_ids:
                await flow_step("pprflow.flows.handover:hand_over_case", handover, ctx=member_ctx, case_id=case_id,
                                 to_email=to, today=web_date())
            deactivate_staff(member_ctx, email=email)
        except PprflowError as exc:
            notice(request, f"{email} er ikke fratrådt: {refusal_text(exc)}", ok=False)
            return RedirectResponse("/admin/medarbejdere", status_code=303)
        notice(request, f"{email} er deaktiveret; {len(case_ids)} sag(er) er overdraget til {to or '—'}, og alle "
                        "på sagerne har fået besked.", ok=True)
        return RedirectResponse("/admin/medarbejdere", status_code=303)

    # --- the mail's health --------------------------------------------------------------------------------

    @app.get("/admin/post", response_class=HTMLResponse)
    @page("admin")
    async def mail_health(request: Request) -> Response:
        """Pending, failed, stuck; how late delivery runs (the last 200 sent); retry/cancel where allowed."""
        from pprflow.tasks.outbox_view import list_messages

        now = dt.datetime.now(dt.UTC)
        member = as_member(request)
        failed = list_messages(member, status="failed")  # audited as a search (PRIV-1), filtered (PRIV-3)
        pending = list_messages(member, status="pending")
        with Session(engine) as session:
            counts = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(
                col(OutboxMessage.status))).all())
            recent = session.exec(select(OutboxMessage.send_after, OutboxMessage.sent_at).where(
                OutboxMessage.status == "sent").order_by(col(OutboxMessage.sent_at).desc()).limit(200)).all()
        lateness = sorted(max(0.0, ((_aware(sent) or now) - (_aware(due) or now)).total_seconds())
                          for due, sent in recent)
        late = {"count": len(lateness),
                "median": lateness[len(lateness) // 2] if lateness else None,
                "p95": lateness[min(len(lateness) - 1, int(len(lateness) * 0.95))] if lateness else None,
                "max": lateness[-1] if lateness else None}
        stuck = [m for m in pending if _is_stuck(m, now)]
        return render(request, "admin/mail.html", counts=counts, failed=failed, pending=pending[:200],
                      stuck=stuck, late=late, notice=request.session.pop("admin_notice", None))

    @app.post("/admin/post/{message_id}/igen")
    @page("admin")
    async def mail_retry(request: Request, message_id: int) -> Response:
        from pprflow.tasks.outbox_view import retry

        try:
            retry(as_member(request), message_id=message_id)
            notice(request, f"Besked {message_id} er lagt i kø igen.", ok=True)
        except PprflowError as exc:
            notice(request, f"Besked {message_id} er ikke lagt i kø igen: {refusal_text(exc)}", ok=False)
        return RedirectResponse("/admin/post", status_code=303)

    @app.post("/admin/post/{message_id}/annuller")
    @page("admin")
    async def mail_cancel(request: Request, message_id: int) -> Response:
        from pprflow.tasks.outbox_view import cancel

        form = form_fields(await request.form())
        try:
            if not form.get("reason"):
                raise PprflowError("Skriv hvorfor beskeden annulleres (det står i loggen).")
            cancel(as_member(request), message_id=message_id, reason=form["reason"])
            notice(request, f"Besked {message_id} er annulleret.", ok=True)
        except PprflowError as exc:
            notice(request, f"Besked {message_id} er ikke annulleret: {refusal_text(exc)}", ok=False)
        return RedirectResponse(f"/admin/post#{quote(str(message_id))}", status_code=303)


def _is_stuck(message: dict[str, Any], now: dt.datetime) -> bool:
    due = message.get("send_after")
    if not due:
        return False
    when = dt.datetime.fromisoformat(str(due))
    when = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return now - when > STUCK_AFTER
