"""The case page and what the people on a case do from it (issue 19): levels, coordinator, consent, partners.

Registered from `create_app` with one line (`register(app, ...)`). Every route declares its access kind with
`@page` (the same guard and route enumeration as part 1); every route that shows or changes case data asks the
one access policy (pprflow.web.security -> tasks/access.py) and reads through tasks/case_view.py, changes through
the same service functions the CLI and the flows use (tasks/levels.py, tasks/handover.py, tasks/consent.py,
tasks/meetings.py). A refusal is a Danish sentence at the top of the case page; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select

from pprflow.models.access import Perm
from pprflow.models.errors import PprflowError
from pprflow.models.messages import danish
from pprflow.models.rules_levels import LEVEL_PAPERWORK, LEVEL_STEPS
from pprflow.models.tables import Consent, OutboxMessage
from pprflow.tasks import audit
from pprflow.tasks.casefile import get_case, parties
from pprflow.tasks.context import Ctx
from pprflow.web.clock import web_today
from pprflow.web.forms import form_fields, is_whole_number, refusal_text
from pprflow.web.security import authorize, current_actor, page
from pprflow.web.steps import flow_step

Render = Callable[..., HTMLResponse]

LEVEL_PRECONDITIONS: tuple[str, ...] = (
    "Alle børn starter på niveau 1, og en indsats rykker normalt ét niveau ad gangen; springer du et niveau "
    "over, skal du skrive hvorfor (LVL-1).",
    "Niveau 3: lederen indkalder til tværfagligt netværksmøde; mere end ét møde på niveau 3 kræver forældrenes "
    "samtykke (LVL-4).",
    "Niveau 4 i skolen er specialundervisning (mindst 9 lektioner om ugen, LAW-4); indsatsen vurderes mindst "
    "hvert halve år (CAL-6).",
    "Før niveau 5 skal den fremskudte socialrådgiver være inddraget (LVL-5); på niveau 5 har Familie- og "
    "Rådgivningscentret ansvaret (LVL-6).",
    "Institution (dagtilbud/skole) og familie er to selvstændige niveauer (LVL-1).",
)


def register(app: FastAPI, *, render: Render, as_member: Callable[[Request], Ctx]) -> None:
    """Add the case routes to `app` (part 1's guard covers them: each declares its kind with `@page`)."""
    ctx: Ctx = app.state.ctx
    engine = ctx.engine

    def web_date() -> dt.date:
        return web_today(app)  # the injectable clock (PPRFLOW_WEB_TODAY)

    def flash(request: Request, text: str, *, ok: bool) -> None:
        request.session["case_notice"] = {"ok": ok, "text": text}

    def back(case_id: int, anchor: str = "") -> RedirectResponse:
        return RedirectResponse(f"/sager/{case_id}{anchor}", status_code=303)

    @app.get("/sager/{case_id}", response_class=HTMLResponse)
    @page("case_data")
    async def case_page(request: Request, case_id: int) -> Response:
        """The case page: the access policy decides (PRIV-3) and the read is audited (PRIV-1)."""
        from pprflow.tasks.case_view import read_case_page

        actor = current_actor(request)
        with Session(engine, expire_on_commit=False) as session:
            case = get_case(session, case_id)
            authorize(request, session, Perm.CASE_READ, case=case, what="web sag")  # PRIV-3, refusal audited
            view = read_case_page(session, case, ctx.profile, today=web_date())
            audit.record(session, actor=actor.id, action="read", entity="case", entity_id=case_id, case_id=case_id,
                         reason="web: sagen")  # PRIV-1
            session.commit()
        notice = request.session.pop("case_notice", None)
        partner_form = request.session.pop("partner_form", None) or {"values": {}, "field": None, "error": None}
        network_form = request.session.pop("network_form", None) or {"values": {}, "errors": {}}
        return render(request, "case/case.html", view=view, notice=notice, today=web_date(),
                      partner_form=partner_form, network_form=network_form,
                      show_confidential=view.confidential and actor.role != "parent",  # ESC-1: staff only
                      max_level=ctx.profile.max_level, preconditions=LEVEL_PRECONDITIONS,
                      level_steps=LEVEL_STEPS, level_paperwork=LEVEL_PAPERWORK)

    @app.post("/sager/{case_id}/niveau")
    @page("case_data")
    async def change_level(request: Request, case_id: int) -> Response:
        """Escalate or de-escalate one sphere (LVL-1…6) through tasks/levels.py; the seeds' preconditions are
        checked there and a refusal is shown in Danish."""
        from pprflow.models.rules_levels import LevelChangeInput
        from pprflow.tasks.levels import deescalate, escalate

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.CASE_LEVEL, case=case_id, what="web niveau")  # PRIV-4
        try:
            if not is_whole_number(form.get("to", ""), max_digits=1):
                raise PprflowError("Vælg det nye niveau (1–5) (LVL-1).")
            data = LevelChangeInput(case_id=case_id, sphere=form.get("sphere", ""),  # type: ignore[arg-type]
                                    to=int(form["to"]), reason=form.get("reason") or None,
                                    outposted_social_worker=form.get("outposted_social_worker") or None)
            up = form.get("direction") == "up"
            result = await flow_step("pprflow.flows.levels:escalate_case" if up else
                                      "pprflow.flows.levels:deescalate_case", escalate if up else deescalate,
                                      ctx=as_member(request), data=data, today=web_date())
        except (PprflowError, ValidationError) as exc:
            flash(request, f"Niveauet er ikke ændret: {refusal_text(exc)}", ok=False)
            return back(case_id, "#niveau")
        if result.get("changed"):
            paperwork = "; ".join(result.get("paperwork", []))
            flash(request, f"Niveauet er nu {result.get('level_name')}." + (f" Skemaer: {paperwork}." if paperwork
                                                                             else ""), ok=True)
        else:
            flash(request, "Sagen var allerede på det niveau; intet er ændret.", ok=True)
        return back(case_id, "#niveau")

    @app.post("/sager/{case_id}/tovholder")
    @page("case_data")
    async def hand_over(request: Request, case_id: int) -> Response:
        """ROLE-1: exactly one coordinator; everyone on the case is told (tasks/handover.py)."""
        from pprflow.tasks.handover import handover

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.CASE_HANDOVER, case=case_id, what="web tovholder")  # PRIV-4
        to = form.get("to", "").lower()
        try:
            if not to:
                raise PprflowError("Skriv den nye tovholders e-mail (ROLE-1).")
            result = await flow_step("pprflow.flows.handover:hand_over_case", handover, ctx=as_member(request),
                                      case_id=case_id, to_email=to, today=web_date())
        except PprflowError as exc:
            flash(request, f"Tovholderen er ikke skiftet: {refusal_text(exc)}", ok=False)
            return back(case_id, "#tovholder")
        told = len(result.get("messages", []) or result.get("queued", []) or [])
        flash(request, f"{to} er nu tovholder; alle på sagen får besked" + (f" ({told} beskeder)." if told else "."),
              ok=True)
        return back(case_id)

    @app.post("/sager/{case_id}/samtykke")
    @page("case_data")
    async def give(request: Request, case_id: int) -> Response:
        """CONS-1, LAW-3: written consent — who gave it, when, what, to whom, for what."""
        from pprflow.models.referral import ConsentIn
        from pprflow.tasks.consent import give_consent

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.CONSENT_GIVE, case=case_id, what="web samtykke")  # PRIV-4
        try:
            data = ConsentIn(given_by=_split(form.get("given_by", "")), date=form.get("date", ""),  # type: ignore[arg-type]
                             information=form.get("information", ""), recipients=_split(form.get("recipients", "")),
                             purpose=form.get("purpose", ""))
            await flow_step("pprflow.flows.consent:record_consent", give_consent, ctx=as_member(request),
                             case_id=case_id, data=data, today=web_date())
        except (PprflowError, ValidationError) as exc:
            flash(request, f"Samtykket er ikke registreret: {refusal_text(exc)}", ok=False)
            return back(case_id, "#samtykke")
        flash(request, "Samtykket er registreret.", ok=True)
        return back(case_id, "#samtykke")

    @app.get("/sager/{case_id}/samtykke/{consent_id}/traek-tilbage", response_class=HTMLResponse)
    @page("case_data")
    async def withdraw_confirm(request: Request, case_id: int, consent_id: int) -> Response:
        """The consequences before confirming (CONS-1): who leaves the case, how many messages are cancelled."""
        with Session(engine) as session:
            case = get_case(session, case_id)
            authorize(request, session, Perm.CONSENT_WITHDRAW, case=case, what="web samtykke")  # PRIV-4
            consent = session.get(Consent, consent_id)
            if consent is None or consent.case_id != case_id:
                raise PprflowError(f"Samtykke {consent_id} hører ikke til sag {case_id}.")
            partners = [p for p in parties(session, case_id) if p.consent_id == consent_id]
            addresses = {p.email.strip().lower() for p in partners}
            pending = [m for m in session.exec(select(OutboxMessage).where(
                OutboxMessage.case_id == case_id, OutboxMessage.status == "pending")).all()
                if m.consent_id == consent_id or m.to.strip().lower() in addresses]
            audit.record(session, actor=current_actor(request).id, action="read", entity="consent",
                         entity_id=consent_id, case_id=case_id, reason="web: samtykke tilbagetrækning")  # PRIV-1
            session.commit()
            return render(request, "case/withdraw.html", case_id=case_id, consent=consent, partners=partners,
                          pending=len(pending))

    @app.post("/sager/{case_id}/samtykke/{consent_id}/traek-tilbage")
    @page("case_data")
    async def withdraw(request: Request, case_id: int, consent_id: int) -> Response:
        from pprflow.tasks.consent import withdraw_consent

        with Session(engine) as session:
            authorize(request, session, Perm.CONSENT_WITHDRAW, case=case_id, what="web samtykke")  # PRIV-4
        try:
            result = await flow_step("pprflow.flows.consent:withdraw_case_consent", withdraw_consent,
                                      ctx=as_member(request), case_id=case_id, consent_id=consent_id)
        except PprflowError as exc:
            flash(request, f"Samtykket er ikke trukket tilbage: {refusal_text(exc)}", ok=False)
            return back(case_id, "#samtykke")
        flash(request, f"Samtykket er trukket tilbage (CONS-1); {result.get('cancelled_messages', 0)} ventende "
                       "beskeder er annulleret, og tovholderen har fået besked.", ok=True)
        return back(case_id, "#samtykke")

    @app.post("/sager/{case_id}/partner")
    @page("case_data")
    async def add_partner(request: Request, case_id: int) -> Response:
        """PATH-8, CONS-1, LAW-3: a partner joins only on an active consent on this case that names them (decided
        by tasks/meetings.py `add_partner`, the same service as the CLI and the flow)."""
        from pprflow.models.rules_meetings import PartnerInput
        from pprflow.tasks.meetings import add_partner as add

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.CASE_ADD_PARTNER, case=case_id, what="web partner")  # PRIV-4
        try:
            consent_raw = form.get("consent_id") or ""
            if not is_whole_number(consent_raw):
                raise PprflowError("Vælg det samtykke, der nævner samarbejdspartneren (CONS-1, LAW-3).")
            data = PartnerInput(case_id=case_id, name=form.get("name", ""), email=form.get("email", ""),
                                role=form.get("role", ""), consent_id=int(consent_raw))
            await flow_step("pprflow.flows.meetings:add_case_partner", add, ctx=as_member(request), data=data)
        except (PprflowError, ValidationError) as exc:
            # CONS-1, LAW-3: the refusal at its field, the form as it was filled in (no JavaScript needed)
            text = refusal_text(exc)
            field = danish(exc).field if isinstance(exc, PprflowError) else None
            request.session["partner_form"] = {
                "values": {k: form.get(k, "") for k in ("name", "email", "role", "consent_id")},
                "field": field if field in ("name", "email", "role", "consent_id") else "consent_id", "error": text}
            flash(request, f"Samarbejdspartneren er ikke tilføjet: {text}", ok=False)
            return back(case_id, "#tilfoej-partner")
        flash(request, f"{form.get('name')} er tilføjet på samtykke {consent_raw}.", ok=True)
        return back(case_id, "#personer")


    @app.post("/sager/{case_id}/netvaerkskort")
    @page("case_data")
    async def network_add(request: Request, case_id: int) -> Response:
        """MEET-5: a person on the case's network map (structured rows: who, relation, circle), through
        tasks/meetings.py `add_network_person`; brought into every meeting's agenda."""
        from pprflow.models.rules_meetings import NetworkPersonInput
        from pprflow.tasks.meetings import add_network_person

        form = form_fields(await request.form())
        with Session(engine) as session:
            authorize(request, session, Perm.CASE_ADD_PARTNER, case=case_id, what="web netværkskort")  # PRIV-4
        values = {k: form.get(k, "") for k in ("n_name", "n_relation", "n_circle", "n_contact", "n_note")}
        errors = {k: f"Udfyld feltet »{label}« (MEET-5)." for k, label in (
            ("n_name", "Navn"), ("n_relation", "Relation til barnet")) if not values[k]}
        if values["n_circle"] not in ("family", "private", "professional"):
            errors["n_circle"] = "Vælg, om personen er familie, privat eller professionelt netværk (MEET-5)."
        if not errors:
            try:
                add_network_person(ctx=as_member(request), data=NetworkPersonInput(
                    case_id=case_id, name=values["n_name"], relation=values["n_relation"],
                    circle=values["n_circle"],  # type: ignore[arg-type]
                    contact=values["n_contact"] or None, note=values["n_note"] or None))
            except (PprflowError, ValidationError) as exc:
                errors = {"n_name": refusal_text(exc)}
        if errors:
            request.session["network_form"] = {"values": values, "errors": errors}
            flash(request, "Personen er ikke tilføjet netværkskortet: ret felterne.", ok=False)
            return back(case_id, "#netvaerkskort")
        flash(request, f"{values['n_name']} er tilføjet netværkskortet.", ok=True)
        return back(case_id, "#netvaerkskort")

    @app.post("/sager/{case_id}/netvaerkskort/{person_id}/fjern")
    @page("case_data")
    async def network_remove(request: Request, case_id: int, person_id: int) -> Response:
        from pprflow.tasks.meetings import remove_network_person

        with Session(engine) as session:
            authorize(request, session, Perm.CASE_ADD_PARTNER, case=case_id, what="web netværkskort")  # PRIV-4
        remove_network_person(ctx=as_member(request), case_id=case_id, person_id=person_id)
        flash(request, "Personen er fjernet fra netværkskortet.", ok=True)
        return back(case_id, "#netvaerkskort")

    @app.get("/sager/{case_id}/tidslinje", response_class=HTMLResponse)
    @page("case_data")
    async def case_timeline(request: Request, case_id: int, side: int = 1) -> Response:
        """The whole timeline, paged newest first (read on the (case_id, at) indexes; PRIV-3, PRIV-1)."""
        from pprflow.tasks.case_view import MAX_TIMELINE_PAGE, timeline_page

        page_no = max(1, min(side, MAX_TIMELINE_PAGE))
        with Session(engine, expire_on_commit=False) as session:
            case = get_case(session, case_id)
            authorize(request, session, Perm.CASE_READ, case=case, what="web tidslinje")  # PRIV-3
            events, more = timeline_page(session, case_id, page=page_no)
            audit.record(session, actor=current_actor(request).id, action="read", entity="case", entity_id=case_id,
                         case_id=case_id, reason=f"web: tidslinje side {page_no}")  # PRIV-1
            session.commit()
        return render(request, "case/timeline.html", case_id=case_id, events=events, page_no=page_no,
                      more=more and page_no < MAX_TIMELINE_PAGE)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
