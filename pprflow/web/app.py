"""The web app: `create_app(settings)` builds the FastAPI application (issue 18).

Routes are thin: they parse a form into the same pydantic model the CLI and the flows use, call the same service
function (tasks/), and render a Danish page. Each route declares its access kind (`@page`, pprflow.web.security);
one guard (`_guard`, a dependency of the whole app) checks the CSRF token of every POST, the session (timeout),
that the member is active in the staff directory (PRIV-4) and, for administrator pages, the policy. Every route
that shows case data asks the one access policy (tasks/access.py) and audits what it showed (PRIV-1, PRIV-3).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from pprflow.models.access import ADMINISTRATOR, LEADER_ROLES, Perm
from pprflow.models.calendar import local_today
from pprflow.models.errors import AccessDenied, NotFound, PprflowError
from pprflow.models.messages import danish
from pprflow.models.tables import Case, OutboxMessage, StaffMember
from pprflow.tasks.access import resolve_actor
from pprflow.tasks.casefile import PATHWAY_LABELS, role_label
from pprflow.tasks.context import Ctx
from pprflow.web import admin_pages, case_pages, forms, meeting_pages, plan_pages
from pprflow.web.security import (
    Forbidden,
    SignInRequired,
    audit_list,
    authorize,
    check_csrf,
    csrf_token,
    current_actor,
    declared_kind,
    page,
    readable_case_ids,
    session_is_live,
    session_user,
    sign_in,
    sign_out,
)
from pprflow.web.settings import WebSettings
from pprflow.web.steps import flow_step

HERE = Path(__file__).parent
STATIC_MOUNT = "static"
PUBLIC_MOUNTS = frozenset({STATIC_MOUNT})
"""Mounted apps that are not routes: the static files (DKFDS, htmx, our CSS) are public."""

STATUS_LABELS: dict[str, str] = {
    "open": "Åben", "assigned": "Tildelt", "closed": "Afsluttet", "in_progress": "I gang", "active": "I gang",
    "refused": "Afvist",
}
OUR_CASES_SHOWN = 50
""""Vores sager" shows 50 open cases a page, newest first; "Ældre sager" pages on (keyset on the case id)."""
PPR_ROLES: tuple[str, ...] = ("ppr_psychologist", "ppr_consultant", "speech_therapist", "sup")


def deadline_label(kind: str) -> str:
    """The one Danish label of a deadline kind (models/rules_deadlines.py), as on the dashboard and in mail."""
    from pprflow.models.rules_deadlines import kind_label

    return kind_label(kind)


def _templates() -> Jinja2Templates:
    from babel.dates import format_date

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["dato"] = lambda d: format_date(d, format="d. MMMM y", locale="da_DK") if d else "—"
    env.filters["kortdato"] = lambda d: format_date(d, format="EEE d. MMM", locale="da_DK") if d else "—"
    env.filters["rolle"] = role_label
    env.globals.update(pathway_label=lambda p: PATHWAY_LABELS.get(p, p), status_label=lambda s: STATUS_LABELS.get(
        s, s), deadline_label=deadline_label, csrf_token=csrf_token)
    return Jinja2Templates(env=env)


def create_app(settings: WebSettings | None = None, *, ctx: Ctx | None = None) -> FastAPI:
    """The web app on `ctx` (database, profile; its actor is ignored: each request acts as its signed-in member)."""
    settings = settings or WebSettings()
    if ctx is None:
        ctx = Ctx.from_environment(actor="system:web")
    from pprflow.config import Settings

    home = Settings().home
    templates = _templates()
    engine = ctx.engine
    idle_s = settings.idle_timeout_minutes * 60
    abuse_report: set[Callable[..., Any]] = set()  # the report form's POST endpoint (ESC-1, below)

    async def _guard(request: Request) -> None:
        kind = declared_kind(request.scope.get("endpoint"))
        if kind is None:  # fail closed: a route that declares no access kind answers nothing
            raise Forbidden("Siden er ikke tilgængelig.", 404)
        if request.method == "POST":
            form = await request.form()
            token = form.get("csrf_token")
            check_csrf(request, token if isinstance(token, str) else None)
        request.state.actor = None
        if kind == "public":
            return
        max_s = settings.max_session_hours * 3600
        # ESC-1: nothing blocks the abuse report: a report typed past the idle timeout is still received (within
        # the session's absolute limit, with its CSRF token, from an active member), never lost at a sign-in page
        reporting = request.method == "POST" and request.scope.get("endpoint") in abuse_report
        user = session_user(request, max_s if reporting else idle_s, max_s)  # PRIV-4: idle and absolute limits
        if user is None:
            raise SignInRequired("")
        with Session(engine) as session:
            live = session_is_live(request, session, user)  # PRIV-4: a signed-out (copied) cookie is dead
            actor = resolve_actor(session, user)  # PRIV-4: the role comes from the directory, every request
        if not live:
            request.session.clear()
            raise SignInRequired("Du er logget ud. Log ind igen.")
        if not actor.is_person:
            sign_out(request, engine)
            raise SignInRequired("Din bruger er ikke (længere) aktiv i medarbejderkartoteket. Kontakt PPR's "
                                 "administration.")
        request.state.actor = actor
        if kind == "admin":
            from pprflow.tasks.access import authorize as policy_authorize

            with Session(engine) as session:
                policy_authorize(session, actor.id, Perm.DISTRICT_SCHEDULE, what=f"web {request.url.path}")

    app = FastAPI(title="pprflow", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(_guard)])
    app.add_middleware(SessionMiddleware, secret_key=settings.signing_key(home), session_cookie="pprflow_session",
                       max_age=settings.max_session_hours * 3600, same_site="lax", https_only=settings.https)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name=STATIC_MOUNT)
    app.state.settings = settings
    app.state.ctx = ctx

    oauth = None
    if settings.oidc_enabled:
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register(
            "idp", server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",  # type: ignore[union-attr]
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
            client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
        )

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        actor = getattr(request.state, "actor", None)
        base = {"request": request, "actor": actor, "me": _me(actor), "oidc": oauth is not None,
                "dashboard_url": settings.prefect_dashboard_url, "profile_name": ctx.profile.display_name,
                "max_upload_mb": settings.max_upload_mb}
        return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)

    def _me(actor: Any) -> dict[str, Any] | None:
        if actor is None:
            return None
        return {"email": actor.id, "role": actor.role, "role_label": role_label(actor.role or ""),
                "is_admin": actor.role == ADMINISTRATOR, "is_leader": actor.role in LEADER_ROLES,
                "is_ppr": actor.role in PPR_ROLES or actor.role == ADMINISTRATOR}

    def as_member(request: Request) -> Ctx:
        return Ctx(engine=engine, profile=ctx.profile, actor=current_actor(request).id, profile_ref=ctx.profile_ref)

    # --- errors ------------------------------------------------------------------------------------

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if exc.reason:
            request.session["flash"] = exc.reason
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", status=exc.status, message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def _bad_address(request: Request, exc: RequestValidationError) -> Response:
        # a case or meeting number that is no number (/sager/abc): a Danish line, not FastAPI's English JSON
        return render(request, "error.html", status=404, message="Adressen er forkert: sagens eller mødets nummer "
                                                                 "skal være et tal. Gå tilbage og vælg fra listen.")

    def _unknown_or_unreadable_case(request: Request) -> Response:
        """PRIV-3: a case that does not exist and one the member may not read get the same answer (status and
        text), so case numbers cannot be probed. The refusal itself is audited by the policy as always."""
        return render(request, "error.html", status=403, message=unknown_case_text(request.path_params["case_id"]))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        if "case_id" in request.path_params:
            return _unknown_or_unreadable_case(request)
        return render(request, "error.html", status=400, message=danish(exc).text)

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        if "case_id" in request.path_params and getattr(request.state, "actor", None) is not None:
            # a member who may read the case hears why this action is refused; anyone else hears what a
            # non-existent case number hears (PRIV-3)
            case_id = request.path_params["case_id"]
            readable = await run_in_threadpool(_may_read_case, request, case_id)
            if not readable:
                return _unknown_or_unreadable_case(request)
        return render(request, "error.html", status=403, message=danish(exc).text)

    def _may_read_case(request: Request, case_id: Any) -> bool:
        from pprflow.tasks.access import readable_case_ids as policy_readable

        if not forms.is_whole_number(str(case_id)):
            return False
        with Session(engine) as session:
            return bool(policy_readable(session, current_actor(request).id, [int(case_id)]))

    @app.exception_handler(PprflowError)
    async def _refused(request: Request, exc: PprflowError) -> Response:
        return render(request, "error.html", status=400, message=danish(exc).text)

    # --- public ------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    @page("public")
    async def login_form(request: Request, next: str = "/") -> Response:
        flash = request.session.pop("flash", None)
        return render(request, "login.html", next=_safe_next(next), flash=flash, error=None, email="")

    @app.post("/login", response_class=HTMLResponse)
    @page("public")
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
        target = _safe_next(str(form.get("next", "/")))
        return await run_in_threadpool(_login, request, email, password, target)  # argon2 and the DB: a thread

    def _login(request: Request, email: str, password: str, target: str) -> Response:
        from pprflow.web.accounts import TooManyAttempts, check_login

        try:
            who = check_login(engine, email=email, password=password) if email and password else None
        except TooManyAttempts as exc:  # PRIV-4: the same answer for a known and an unknown account
            # ESC-2: anyone who knows an e-mail can lock it; a report of suspected abuse is never held by that
            urgent = (" Skal du underrette om mistanke om vold eller overgreb, så vent ikke: send underretningen "
                      f"straks til {ctx.profile.mailboxes.notifications} (ESC-2).")
            return render(request, "login.html", status=429, next=target, flash=None, email=email,
                          error=exc.danish() + urgent)
        if who is None:
            return render(request, "login.html", status=400, next=target, flash=None, email=email,
                          error="E-mail eller adgangskode er forkert, eller din bruger er ikke aktiv. Prøv igen, "
                                "eller bed PPR's administration om en ny adgangskode.")
        sign_in(request, engine, who, "password")
        return RedirectResponse(target, status_code=303)

    @app.get("/login/oidc")
    @page("public")
    async def login_oidc(request: Request, next: str = "/") -> Response:
        if oauth is None:
            raise Forbidden("Log ind med kommunens konto er ikke sat op; brug e-mail og adgangskode.", 404)
        request.session["next"] = _safe_next(next)
        redirect_uri = str(request.url_for("oidc_callback"))
        return await oauth.idp.authorize_redirect(request, redirect_uri)  # type: ignore[no-any-return]

    @app.get("/auth/callback", name="oidc_callback")
    @page("public")
    async def oidc_callback(request: Request) -> Response:
        from authlib.integrations.starlette_client import OAuthError

        if oauth is None:
            raise Forbidden("Log ind med kommunens konto er ikke sat op.", 404)
        try:
            token = await oauth.idp.authorize_access_token(request)
        except OAuthError:
            raise Forbidden("Log ind hos kommunens identitetsudbyder mislykkedes. Prøv igen.", 400) from None
        claims = dict(token.get("userinfo") or {})
        if not claims.get(settings.oidc_email_claim):  # not in the ID token: ask the userinfo endpoint
            claims |= dict(await oauth.idp.userinfo(token=token))
        email = str(claims.get(settings.oidc_email_claim) or "").strip().lower()
        with Session(engine) as session:
            actor = resolve_actor(session, email)  # PRIV-4: roles from the staff directory by the e-mail claim
            if not actor.is_person:
                from pprflow.tasks import audit

                audit.record(session, actor=email or "(ingen)", action="refused", entity="websession",
                             reason="PRIV-4", detail={"what": "web login", "method": "oidc"})
                session.commit()
                raise Forbidden(f"{email or 'Din bruger'} er ikke en aktiv medarbejder i pprflows "
                                "medarbejderkartotek. Kontakt PPR's administration.", 403)
            from pprflow.tasks import audit

            audit.record(session, actor=email, action="create", entity="websession", reason="web login",
                         detail={"method": "oidc"})
            session.commit()
        target = _safe_next(str(request.session.get("next", "/")))
        await run_in_threadpool(sign_in, request, engine, email, "oidc")
        return RedirectResponse(target, status_code=303)

    @app.get("/tilgaengelighed", response_class=HTMLResponse)
    @page("public")
    async def accessibility_statement(request: Request) -> Response:
        return render(request, "accessibility.html")

    # --- any signed-in member ------------------------------------------------------------------------

    @app.post("/logout")
    @page("staff")
    def logout(request: Request) -> Response:
        sign_out(request, engine)  # PRIV-4: the session ends on the server; a copied cookie stops working
        request.session["flash"] = "Du er logget ud."
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    @page("staff")
    async def home_page(request: Request) -> Response:
        return render(request, "home.html")

    @app.get("/underretning", response_class=HTMLResponse)
    @page("staff")
    async def report_form(request: Request) -> Response:
        with Session(engine) as session:
            defaults = forms.report_defaults(session, current_actor(request).id)
        case_id = request.query_params.get("sag", "")
        if forms.is_whole_number(case_id):  # ESC-1: from a case page, the report names the child's case
            defaults["case_id"] = case_id
        return render(request, "report.html", values=defaults, errors={}, top_error=None)

    @app.post("/underretning", response_class=HTMLResponse)
    @page("staff")
    async def report_submit(request: Request) -> Response:
        """ESC-1/ESC-2/LAW-1: any active member reports; nothing in access blocks it; the answer shows no case."""
        from pprflow.tasks.abuse import report

        form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            data = forms.report_from_form(form, reporter_email=current_actor(request).id)
            result = await flow_step("pprflow.flows.abuse:report_notification", report,
                                     ctx=as_member(request), data=data, today=local_today(), urgent=True)
        except PprflowError as exc:
            msg = danish(exc, forms.REPORT_LABELS)
            errors = {msg.field: msg.text} if msg.field else {}
            return render(request, "report.html", status=400, values=form, errors=errors,
                          top_error=msg.text)
        return render(request, "report_done.html", result=result)

    abuse_report.add(report_submit)

    # --- the leader: a new referral --------------------------------------------------------------------

    @app.get("/henvendelse/ny", response_class=HTMLResponse)
    @page("staff")
    async def referral_start(request: Request) -> Response:
        with Session(engine) as session:
            institution = forms.institution_of(session, current_actor(request))
        return render(request, "referral_start.html", pathways=forms.pathways_for(institution),
                      institution=institution)

    @app.get("/henvendelse/ny/{pathway}", response_class=HTMLResponse)
    @page("staff")
    async def referral_form(request: Request, pathway: str) -> Response:
        spec = forms.pathway_spec(pathway)
        return render(request, "referral_form.html", spec=spec, values={}, errors={}, top_error=None)

    @app.post("/henvendelse/ny/{pathway}", response_class=HTMLResponse)
    @page("case_data")
    async def referral_submit(request: Request, pathway: str) -> Response:
        """Through the same service function as `pprflow referral submit` (tasks/intake.py); a refusal is a
        Danish sentence at the field it concerns, and nothing is stored."""
        from pprflow.models.referral import parse_referral
        from pprflow.tasks.intake import submit_referral

        spec = forms.pathway_spec(pathway)
        submitted = await request.form()
        form = {k: str(v) for k, v in submitted.items() if isinstance(v, str)}
        actor = current_actor(request)
        with Session(engine) as session:
            authorize(request, session, Perm.REFERRAL_SUBMIT, what="web referral")  # PRIV-4
            member = session.exec(select(StaffMember).where(StaffMember.email == actor.id)).one()
            institution = forms.institution_of(session, actor)
        try:
            if institution is None:
                raise PprflowError("Din bruger er ikke knyttet til en skole eller et dagtilbud i "
                                   "medarbejderkartoteket; bed PPR's administration om at rette det.")
            raw = forms.referral_from_form(spec, form, member=member, institution=institution)
            referral = parse_referral(raw)
            attachments = await forms.plan_attachments(submitted.get("plan_file"),
                                                       max_bytes=settings.max_upload_mb * 1_000_000)
            if attachments:  # a file is no flow parameter: stored behind the login first, the flow takes its id
                from pprflow.tasks.web_intake import discard_web_referral, store_web_referral, submit_stored_referral

                upload_id = await run_in_threadpool(store_web_referral, engine, submitted_by=actor.id,
                                                    referral=referral, attachment=attachments[0])
                try:
                    result = await flow_step("pprflow.flows.intake:referral_intake_stored",
                                             submit_stored_referral, ctx=as_member(request),
                                             upload_id=upload_id, today=local_today())
                finally:  # PRIV-2: a run that never reached the service function leaves no copy behind
                    await run_in_threadpool(discard_web_referral, engine, upload_id)
            else:
                result = await flow_step("pprflow.flows.intake:referral_intake", submit_referral,
                                         ctx=as_member(request), referral=referral, today=local_today())
        except forms.PlanFileRefused as exc:
            return render(request, "referral_form.html", status=400, spec=spec, values=form,
                          errors={"plan_file": exc.one_line()}, top_error=exc.one_line())
        except PprflowError as exc:
            msg = danish(exc, forms.REFERRAL_LABELS)
            errors = {msg.field: msg.text} if msg.field else {}
            return render(request, "referral_form.html", status=400, spec=spec, values=form, errors=errors,
                          top_error=msg.text)
        with Session(engine) as session:
            messages = [session.get(OutboxMessage, i) for i in result.queued_message_ids]
            sent = [{"to": m.to, "subject": m.subject} for m in messages if m is not None]
        return render(request, "referral_done.html", result=result, sent=sent,
                      attached=[a.filename for a in attachments])

    # --- the leader: our cases -------------------------------------------------------------------------

    @app.get("/sager", response_class=HTMLResponse)
    @page("case_data")
    def our_cases(request: Request, foer: int | None = None) -> Response:
        """"Vores sager": the institution's open cases (and the member's own), newest first, OUR_CASES_SHOWN a
        page (keyset: `?foer=<id>` is the next page), filtered by the policy (PRIV-3), audited as a search
        (PRIV-1). A plain `def`: its blocking database work runs in the threadpool."""
        actor = current_actor(request)
        with Session(engine) as session:
            # indexed columns only (ix_case_open_institution; coordinator, assigned PPR employee): never a scan
            query = select(Case.id).where(forms.OPEN_CASE)
            if actor.institution_id is not None:
                query = query.where(Case.institution_id == actor.institution_id)
            elif actor.role != ADMINISTRATOR:
                query = query.where((Case.coordinator_email == actor.id) | (Case.assigned_ppr_email == actor.id))
            if foer is not None:
                query = query.where(col(Case.id) < foer)
            found = [i for i in session.exec(query.order_by(col(Case.id).desc()).limit(OUR_CASES_SHOWN + 1)).all()
                     if i is not None]
            ids, more = found[:OUR_CASES_SHOWN], len(found) > OUR_CASES_SHOWN
            readable = readable_case_ids(request, session, ids)
            rows = forms.case_rows(session, sorted(readable, reverse=True))
            audit_list(request, session, entity="case", reason="web: vores sager",
                       terms={"page": "sager", **({"foer": foer} if foer is not None else {})},
                       shown=readable, hidden=len(ids) - len(readable))
            session.commit()
        return render(request, "cases.html", rows=rows, limit=OUR_CASES_SHOWN, first_page=foer is None,
                      next_before=ids[-1] if more and ids else None)

    # --- the coordinator: today ------------------------------------------------------------------------

    def _today_rows(request: Request) -> dict[str, Any]:
        actor = current_actor(request)
        today = local_today()
        with Session(engine) as session:
            districts = forms.districts_of(session, actor)
            found = forms.today_rows(session, actor, districts, today,
                                     lambda ids: readable_case_ids(request, session, ids))
            audit_list(request, session, entity="deadline", reason="web: i dag",
                       terms={"districts": sorted(districts)}, shown=found.shown, hidden=found.hidden)
            employees = forms.ppr_employees(session, districts)
            session.commit()
        return {"rows": found.rows, "unassigned": found.unassigned, "more": found.more,
                "districts": sorted(districts), "today": today, "employees": employees,
                "shown_per_group": forms.TODAY_SHOWN, "unassigned_shown": forms.UNASSIGNED_SHOWN}

    @app.get("/i-dag", response_class=HTMLResponse)
    @page("case_data")
    def today_page(request: Request) -> Response:
        return render(request, "today.html", **_today_rows(request), notice=request.session.pop("notice", None))

    @app.get("/i-dag/rækker", response_class=HTMLResponse)
    @page("case_data")
    def today_partial(request: Request) -> Response:
        """HTMX polling: the same rows, the same policy and audit."""
        return render(request, "_today_rows.html", **_today_rows(request))

    @app.post("/sager/{case_id}/tildel")
    @page("case_data")
    async def assign(request: Request, case_id: int) -> Response:
        """One-step assignment at the district meeting (PATH-4), through `assign_case` (tasks/ppr.py)."""
        from pprflow.tasks.ppr import assign_case

        form = await request.form()
        to = str(form.get("to", "")).strip()
        with Session(engine) as session:
            authorize(request, session, Perm.CASE_ASSIGN, case=case_id, what="web assign")  # PRIV-4
        if not to:
            request.session["notice"] = f"Vælg en PPR-medarbejder til sag {case_id}."
            return RedirectResponse("/i-dag", status_code=303)
        await flow_step("pprflow.flows.ppr:assign_district_case", assign_case,
                        ctx=as_member(request), case_id=case_id, to_email=to, today=local_today())
        request.session["notice"] = f"Sag {case_id} er tildelt {to}; vedkommende har fået besked."
        return RedirectResponse("/i-dag", status_code=303)

    case_pages.register(app, render=render, as_member=as_member)  # issue 19: the case page and its actions
    meeting_pages.register(app, render=render, as_member=as_member)  # issue 19: meetings, agenda, minutes
    admin_pages.register(app, render=render, as_member=as_member)  # issue 19: KV, staff directory, mail health
    plan_pages.register(app, render=render, as_member=as_member)  # issue 18: district meetings, KV sessions
    return app


def unknown_case_text(case_id: object) -> str:
    return (f"Sag {case_id} findes ikke, eller du har ikke adgang til den (PRIV-3). Gå tilbage og vælg sagen fra "
            "listen.")


def _safe_next(target: str) -> str:
    """Only a path on this site (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"
