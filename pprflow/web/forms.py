"""The web forms: a flat HTML form <-> the same input models the CLI and the flows take (Referral, AbuseReport),
and the rows of the list pages. No rule lives here: the rules are in models/, checked by the service functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import literal, literal_column, union_all
from sqlmodel import Session, col, select

from pprflow.models.access import ADMINISTRATOR, Actor
from pprflow.models.errors import InvalidInput, PprflowError
from pprflow.models.messages import danish
from pprflow.models.tables import Case, Child, Deadline, Institution, OutboxMessage, StaffMember

REFERRAL_LABELS: dict[str, str] = {
    "pathway": "Spor", "group": "Klasse eller gruppe", "concern": "Bekymringen", "school_start": "Skolestart",
    "child_pseudonym": "Barnets pseudonym", "child_birth_year": "Barnets fødselsår",
    "parent1_name": "Forælder 1, navn", "parent1_email": "Forælder 1, e-mail", "parent2_name": "Forælder 2, navn",
    "parent2_email": "Forælder 2, e-mail", "consent_given_by": "Samtykke givet af", "consent_date": "Samtykkets dato",
    "consent_information": "Hvilke oplysninger", "consent_recipients": "Til hvem",
    "consent_purpose": "Formål", "plan_context": "Sammenhæng", "plan_goal": "Mål", "plan_signs": "Tegn",
    "plan_measures": "Tiltag", "plan_evaluation": "Evaluering", "plan_community": "Tiltag i fællesskabet",
    "local_resources_involved": "Lokal AKT-/sprogansvarlig inddraget", "local_lead": "Hvem er inddraget",
    "social_adviser_email": "Socialfaglig rådgivers e-mail",
}
REPORT_LABELS: dict[str, str] = {
    "reporter_name": "Dit navn", "reporter_role": "Din stilling", "institution": "Skole eller dagtilbud",
    "child_name": "Barnets navn", "child_group": "Klasse eller gruppe", "child_birth_year": "Barnets fødselsår",
    "observation": "Hvad har du set eller hørt", "observed_on": "Hvornår", "observed_time": "Klokkeslæt",
    "case_id": "Sagsnummer",
}


@dataclass(frozen=True)
class PathwaySpec:
    """What one pathway's form asks, and the rules it explains before they bite."""

    pathway: str
    title: str
    intro: str
    child: bool = False
    group: bool = True
    plan: bool = True
    community_required: bool = False
    local: bool = False
    school_start: bool = False
    social_adviser: bool = False
    kinds: tuple[str, ...] = ("school", "daycare")
    rules: tuple[str, ...] = field(default_factory=tuple)


PATHWAYS: dict[str, PathwaySpec] = {p.pathway: p for p in (
    PathwaySpec("ppr_learning_environment", "PPR – læringsmiljøforløb",
                "PPR arbejder med læringsmiljøet i en klasse eller gruppe. Henvendelsen handler om gruppen, "
                "ikke om ét barn, og kræver derfor ikke forældresamtykke.",
                rules=("PATH-1: En henvendelse til PPR starter med jeres handleplan (SMTTE).",
                       "PATH-2: Skriv hvilken klasse eller gruppe det gælder.")),
    PathwaySpec("ppr_individual", "PPR – individforløb",
                "PPR arbejder med ét barn, altid sammen med forældrene og barnet.",
                child=True, community_required=True,
                rules=("PATH-3: Fællesskabet først: beskriv, hvad I har afprøvet i klassen eller gruppen.",
                       "PATH-4 og LAW-3: Forældrenes skriftlige samtykke skal foreligge: hvem gav det, hvornår, "
                       "hvilke oplysninger, til hvem og til hvad.",
                       "PATH-1: Handleplanen (SMTTE) skal være udfyldt.")),
    PathwaySpec("ppv", "PPR – pædagogisk-psykologisk vurdering (PPV)",
                "En PPV laves kun i forbindelse med skolestart, og kun skolelederen kan sende den.",
                child=True, community_required=True, school_start=True, kinds=("school",),
                rules=("PATH-2: Kun skolelederen sender en PPV, og kun ved skolestart.",
                       "PATH-3: Fællesskabet først: beskriv, hvad I har afprøvet i klassen eller gruppen.",
                       "PATH-4 og LAW-3: Forældrenes skriftlige samtykke skal foreligge.")),
    PathwaySpec("intervention_team", "Pædagogisk Indsatsteam",
                "Indsatsteamet hjælper med handleplaner, I allerede har arbejdet med.",
                child=True, local=True,
                rules=("PATH-5: Vedlæg den handleplan, I har arbejdet med.",
                       "PATH-5: Inddrag først jeres lokale AKT-/sprogansvarlige.")),
    PathwaySpec("social_adviser", "Socialfaglig rådgiver",
                "Sparring med en socialfaglig rådgiver. Uden forældrenes samtykke er henvendelsen anonym.",
                child=True, plan=False, social_adviser=True,
                rules=("PATH-6: Uden samtykke må barnet ikke kunne genkendes: lad barn og forældre stå tomme.",)),
    PathwaySpec("early_years_consultant", "Småbørnskonsulent",
                "Småbørnskonsulenterne hjælper dagtilbud.", child=True, plan=False, kinds=("daycare",),
                rules=("PATH-7: Kun for dagtilbud; en skole henvender sig til PPR.",
                       "PATH-4: Nævnes barnet, skal forældrenes samtykke foreligge.")),
)}


def pathway_spec(pathway: str) -> PathwaySpec:
    spec = PATHWAYS.get(pathway)
    if spec is None:
        raise InvalidInput("Det spor findes ikke; vælg et spor på siden Ny henvendelse.")
    return spec


def pathways_for(institution: Institution | None) -> list[PathwaySpec]:
    kind = institution.kind if institution is not None else None
    return [p for p in PATHWAYS.values() if kind is None or kind in p.kinds]


def institution_of(session: Session, actor: Actor) -> Institution | None:
    return session.get(Institution, actor.institution_id) if actor.institution_id is not None else None


def _text(form: dict[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _number(value: str | None) -> int | str:
    """A form's number field as an int; anything else is passed on for the model to refuse in one line."""
    text = (value or "").strip()
    return int(text) if is_whole_number(text, max_digits=5) else text


def is_whole_number(text: str, *, max_digits: int = 9) -> bool:
    """ASCII digits only, and few of them: `str.isdigit` also says yes to "²" (int() then raises, a 500) and
    to a number too large for the database's INTEGER."""
    return text.isascii() and text.isdigit() and 0 < len(text) <= max_digits


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip()]


def referral_from_form(spec: PathwaySpec, form: dict[str, str], *, member: StaffMember,
                       institution: Institution) -> dict[str, Any]:
    """The flat form as the referral's JSON (models/referral.py `Referral`); the submitter and the institution
    come from the staff directory, never from a form field."""
    raw: dict[str, Any] = {
        "pathway": spec.pathway,
        "institution": {"name": institution.name, "kind": institution.kind, "district": institution.district},
        "submitted_by": {"name": member.name, "email": member.email, "role": member.role,
                         **({"phone": member.phone} if member.phone else {})},
        "concern": form.get("concern", ""),
    }
    if _text(form, "group"):
        raw["group"] = _text(form, "group")
    if spec.child and (_text(form, "child_pseudonym") or _text(form, "child_birth_year")):
        raw["child"] = {"pseudonym": form.get("child_pseudonym", ""),
                        "birth_year": _number(form.get("child_birth_year"))}
    parents = []
    for i in (1, 2):
        name, email = _text(form, f"parent{i}_name"), _text(form, f"parent{i}_email")
        if name or email:
            parents.append({"name": name or "", "email": email or ""})
    if parents:
        raw["parents"] = parents
    consent_fields = ("consent_given_by", "consent_date", "consent_information", "consent_recipients",
                      "consent_purpose")
    if any(_text(form, f) for f in consent_fields):
        raw["consent"] = {"given_by": _split(form.get("consent_given_by")), "date": form.get("consent_date", ""),
                          "information": form.get("consent_information", ""),
                          "recipients": _split(form.get("consent_recipients")),
                          "purpose": form.get("consent_purpose", "")}
    plan_fields = ("plan_context", "plan_goal", "plan_signs", "plan_measures", "plan_evaluation", "plan_community")
    if spec.plan and any(_text(form, f) for f in plan_fields):
        raw["action_plan"] = {"context": form.get("plan_context", ""), "goal": form.get("plan_goal", ""),
                              "signs": form.get("plan_signs", ""), "measures": form.get("plan_measures", ""),
                              "evaluation": form.get("plan_evaluation", "")}
        if _text(form, "plan_community"):
            raw["action_plan"]["community_measures"] = _text(form, "plan_community")
    if spec.school_start:
        raw["school_start"] = form.get("school_start") == "ja"
    if spec.local:
        raw["local_resources_involved"] = form.get("local_resources_involved") == "ja"
        if _text(form, "local_lead"):
            raw["local_lead"] = _text(form, "local_lead")
    if spec.social_adviser and _text(form, "social_adviser_email"):
        raw["social_adviser_email"] = _text(form, "social_adviser_email")
    return raw


class PlanFileRefused(InvalidInput):
    """The attached action plan is not a PDF/Word file within the size limit (PLAN-1)."""


async def plan_attachments(upload: Any, *, max_bytes: int) -> list[Any]:
    """The attached action plan (PDF/Word, size- and type-checked by models/attachment.py), or none."""
    from pprflow.models.attachment import check_plan_file
    from pprflow.tasks.transports.base import Attachment

    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return []
    content = await upload.read(max_bytes + 1)
    try:
        checked = check_plan_file(upload.filename, content, max_bytes=max_bytes)
    except InvalidInput as exc:
        raise PlanFileRefused(exc.message, rule_id=exc.rule_id) from None
    return [Attachment(checked.filename, checked.content_type, checked.content)]


def report_defaults(session: Session, email: str) -> dict[str, str]:
    member = session.exec(select(StaffMember).where(StaffMember.email == email)).first()
    inst = session.get(Institution, member.institution_id) if member and member.institution_id else None
    from pprflow.tasks.casefile import role_label

    return {"reporter_name": member.name if member else "", "reporter_role": role_label(member.role) if member else "",
            "institution": inst.name if inst else "", "observed_on": dt.date.today().isoformat()}


def report_from_form(form: dict[str, str], *, reporter_email: str) -> Any:
    """The report form as an `AbuseReport` (models/abuse.py); the reporter's e-mail is the signed-in member's."""
    from pprflow.models.abuse import parse_report

    data: dict[str, Any] = {
        "reporter": {"name": form.get("reporter_name", ""), "email": reporter_email,
                     "role": form.get("reporter_role", "")},
        "institution": form.get("institution", ""),
        "child": {"name": form.get("child_name", "")},
        "observation": form.get("observation", ""),
        "observed_on": form.get("observed_on", ""),
    }
    if _text(form, "child_group"):
        data["child"]["group"] = _text(form, "child_group")
    if _text(form, "child_birth_year"):
        data["child"]["birth_year"] = _number(form.get("child_birth_year"))
    if _text(form, "observed_time"):
        data["observed_time"] = _text(form, "observed_time")
    if _text(form, "case_id"):  # ESC-1: the child's case, from its case page: the case is kept from the parents
        data["case_id"] = int(form["case_id"]) if is_whole_number(form["case_id"].strip()) else form["case_id"]
    return parse_report(data)


# --- list pages -------------------------------------------------------------------------------------

def next_deadlines(session: Session, case_ids: list[int]) -> dict[int, Deadline]:
    """The next open deadline of each case (one query)."""
    if not case_ids:
        return {}
    rows = session.exec(select(Deadline).where(col(Deadline.case_id).in_(case_ids), col(Deadline.done_at).is_(None))
                        .order_by(col(Deadline.due_on))).all()
    result: dict[int, Deadline] = {}
    for d in rows:
        if d.case_id is not None and d.case_id not in result:
            result[d.case_id] = d
    return result


def case_rows(session: Session, case_ids: list[int]) -> list[dict[str, Any]]:
    cases = session.exec(select(Case).where(col(Case.id).in_(case_ids)).order_by(col(Case.id).desc())).all() \
        if case_ids else []
    deadlines = next_deadlines(session, case_ids)
    institutions = {i.id: i for i in session.exec(select(Institution).where(
        col(Institution.id).in_({c.institution_id for c in cases}))).all()} if cases else {}
    children = {c.id: c for c in session.exec(select(Child).where(
        col(Child.id).in_({c.child_id for c in cases if c.child_id}))).all()} if cases else {}
    rows = []
    for case in cases:
        d = deadlines.get(case.id or 0)
        child = children.get(case.child_id) if case.child_id else None
        inst = institutions.get(case.institution_id)
        rows.append({"id": case.id, "pathway": case.pathway, "status": case.status,
                     "who": child.pseudonym if child else (case.group_name or "—"),
                     "institution": inst.name if inst else "", "coordinator": case.coordinator_email,
                     "assigned": case.assigned_ppr_email, "next_kind": d.kind if d else None,
                     "next_due": d.due_on if d else None, "confidential": case.confidential_from_parents})
    return rows


def districts_of(session: Session, actor: Actor) -> set[str]:
    """The coordinator's own district(s): the directory's district, or their institution's."""
    if actor.role == ADMINISTRATOR and actor.district is None:
        return set(session.exec(select(Institution.district)).all())
    return {actor.district} if actor.district else set()


TODAY_SHOWN = 50
""""I dag" shows at most this many rows per group (stuck, overdue, today and this week), oldest first."""
UNASSIGNED_SHOWN = 25
""""I dag" shows at most this many cases waiting for a PPR employee (oldest first)."""
OPEN_CASE = col(Case.status) != literal_column("'closed'")
"""An open case, written as the partial indexes' predicate (a literal, so PostgreSQL can use them)."""


@dataclass
class TodayRows:
    rows: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    shown: set[int]
    hidden: int
    more: dict[str, bool]


def _open_deadlines(session: Session, inst_ids: list[int], districts: set[str],
                    groups: dict[str, Any]) -> dict[str, list[Deadline]]:
    """Per group (name -> condition): the open deadlines of the districts' cases and of the districts themselves,
    by due date, at most TODAY_SHOWN + 1 each — one UNION ALL of bounded index scans (ix_deadline_open_due,
    ix_deadline_open_district, ix_deadline_stuck), then one lookup by id: never a scan of all cases."""
    open_ = col(Deadline.done_at).is_(None)
    parts = []
    for name, where in groups.items():
        picked_cols = (col(Deadline.id), col(Deadline.due_on))
        sources = [select(*picked_cols).where(open_, where, col(Deadline.district).in_(districts))]
        if inst_ids:
            sources.append(select(*picked_cols).join(Case, col(Case.id) == col(Deadline.case_id))
                           .where(open_, where, col(Case.institution_id).in_(inst_ids)))
        for query in sources:
            bounded = query.order_by(col(Deadline.due_on), col(Deadline.id)).limit(TODAY_SHOWN + 1).subquery()
            parts.append(select(literal(name).label("grp"), bounded.c.id))
    picked = session.execute(union_all(*parts)).all()
    found = {d.id: d for d in session.exec(select(Deadline).where(col(Deadline.id).in_({i for _, i in picked})))}
    result: dict[str, list[Deadline]] = {name: [] for name in groups}
    for name, ident in picked:
        if found[ident] not in result[name]:
            result[name].append(found[ident])
    return {name: sorted(rows, key=lambda d: (d.due_on, d.id or 0))[:TODAY_SHOWN + 1] for name, rows in result.items()}


def today_rows(session: Session, actor: Actor, districts: set[str], today: dt.date,
               readable: Callable[[Iterable[int]], set[int]]) -> TodayRows:
    """"I dag": stuck deadlines and undelivered messages at the very top, then overdue, due today and this week,
    in the districts; and the cases waiting for a PPR employee — filtered by the policy (PRIV-3). Each group is
    bounded (TODAY_SHOWN, UNASSIGNED_SHOWN) and read through an index, so the page costs the same at 1M cases."""
    if not districts:
        return TodayRows([], [], set(), 0, {})
    week = today + dt.timedelta(days=7)
    inst_ids = [i for i in session.exec(select(Institution.id).where(col(Institution.district).in_(districts)))
                if i is not None]
    groups = _open_deadlines(session, inst_ids, districts, {
        "stuck": col(Deadline.stuck_at).is_not(None) & (col(Deadline.due_on) <= week),
        "overdue": col(Deadline.due_on) < today,
        "coming": (col(Deadline.due_on) >= today) & (col(Deadline.due_on) <= week)})
    stuck, overdue, coming = groups["stuck"], groups["overdue"], groups["coming"]
    case_ids_in = select(Case.id).where(col(Case.institution_id).in_(inst_ids))
    failed = session.exec(select(OutboxMessage).where(
        OutboxMessage.status == "failed", col(OutboxMessage.case_id).in_(case_ids_in))
        .order_by(col(OutboxMessage.id)).limit(TODAY_SHOWN + 1)).all() if inst_ids else []
    unassigned_cases = session.exec(select(Case).where(
        col(Case.institution_id).in_(inst_ids), col(Case.assigned_ppr_email).is_(None), OPEN_CASE)
        .order_by(col(Case.id)).limit(UNASSIGNED_SHOWN + 1)).all() if inst_ids else []
    more = {"stuck": len(stuck) > TODAY_SHOWN or len(failed) > TODAY_SHOWN, "overdue": len(overdue) > TODAY_SHOWN,
            "week": len(coming) > TODAY_SHOWN, "unassigned": len(unassigned_cases) > UNASSIGNED_SHOWN}
    stuck_ids = {d.id for d in stuck}
    deadlines = [*stuck[:TODAY_SHOWN], *(d for d in overdue[:TODAY_SHOWN] if d.id not in stuck_ids),
                 *(d for d in coming[:TODAY_SHOWN] if d.id not in stuck_ids)]
    failed, unassigned_cases = failed[:TODAY_SHOWN], unassigned_cases[:UNASSIGNED_SHOWN]
    wanted = {d.case_id for d in deadlines if d.case_id} | {m.case_id for m in failed if m.case_id} | {
        c.id for c in unassigned_cases if c.id}
    allowed = readable(wanted)
    rows: list[dict[str, Any]] = []
    for m in failed:
        if m.case_id in allowed:
            rows.append({"group": "stuck", "label": "Mail ikke leveret", "case_id": m.case_id, "due": None,
                         "detail": m.subject})
    for d in deadlines:
        if d.case_id is not None and d.case_id not in allowed:
            continue
        group = "stuck" if d.stuck_at else ("overdue" if d.due_on < today else ("today" if d.due_on == today
                                                                                 else "week"))
        rows.append({"group": group, "label": _label(d.kind), "case_id": d.case_id, "due": d.due_on,
                     "detail": d.rule_id})
    order = {"stuck": 0, "overdue": 1, "today": 2, "week": 3}
    rows.sort(key=lambda r: (order[r["group"]], r["due"] or today))
    unassigned = case_rows(session, [c.id for c in unassigned_cases if c.id in allowed])
    return TodayRows(rows, unassigned, allowed, len(wanted - allowed), more)


def _label(kind: str) -> str:
    from pprflow.web.app import deadline_label

    return deadline_label(kind)


def ppr_employees(session: Session, districts: set[str]) -> list[dict[str, str]]:
    from pprflow.web.app import PPR_ROLES

    rows = session.exec(select(StaffMember).where(col(StaffMember.role).in_(PPR_ROLES),
                                                  StaffMember.active == True)  # noqa: E712
                        .order_by(col(StaffMember.name))).all()
    return [{"email": m.email, "name": m.name, "district": m.district or ""} for m in rows
            if not districts or m.district is None or m.district in districts]


def series_from_form(form: dict[str, str]) -> tuple[dt.date, int]:
    try:
        start = dt.date.fromisoformat(form.get("start", ""))
    except ValueError:
        raise InvalidInput("Startdatoen er ikke en gyldig dato; vælg en dato i kalenderen.", rule_id="CAL-5") from None
    try:
        count = int(form.get("count", ""))
    except ValueError:
        raise InvalidInput("Antal møder skal være et tal, fx 10.", rule_id="CAL-5") from None
    if not 1 <= count <= 52:
        raise InvalidInput("Antal møder skal være mellem 1 og 52.", rule_id="CAL-5")
    return start, count


def form_fields(raw: Any) -> dict[str, str]:
    """A submitted form's text fields, trimmed (files and other parts left out)."""
    return {k: str(v).strip() for k, v in raw.items() if isinstance(v, str)}


def refusal_text(exc: Exception) -> str:
    """The Danish line a page shows for a refusal: the message catalogue's, or a form field's validation error."""
    if isinstance(exc, PprflowError):
        return danish(exc).text
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"Feltet {where} er ikke udfyldt korrekt: {first.get('msg', '')}. Ret det og prøv igen."
    raise exc
