"""`pprflow case`: levels (LVL-1…6), review (CAL-6), suspected abuse (ESC-1), handover (ROLE-1), partners."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, build, parse_date, parse_email, today
from pprflow.models.errors import InvalidInput

app = typer.Typer(help="Sager: niveau, halvårsvurdering, underretning, tovholder, samarbejdspartnere.",
                  no_args_is_help=True)

CaseArg = Annotated[int, typer.Argument(metavar="SAG", help="Sagens id.")]
SphereOption = Annotated[str, typer.Option("--sphere", help="institution (dagtilbud/skole) eller family (familien).")]
ToOption = Annotated[int, typer.Option("--to", help="Det nye niveau.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Begrundelse (påkrævet når et niveau springes over, "
                                                  "LVL-1).")]


def _level_change(case: int, sphere: str, to: int, reason: str | None, worker: str | None, today_: str | None,
                  direction: str, teaching: dict[str, object] | None = None) -> None:
    from pprflow.cli.runner import run_step
    from pprflow.models.rules_levels import LevelChangeInput
    from pprflow.tasks.levels import deescalate, escalate

    if sphere not in ("institution", "family"):
        raise InvalidInput(f"--sphere {sphere!r} is not institution or family", rule_id="LVL-1")
    data = build(LevelChangeInput, "level change", case_id=case, sphere=sphere, to=to, reason=reason,
                 outposted_social_worker=worker, specialised_teaching=teaching)
    if direction == "up":
        result = run_step("pprflow.flows.levels:escalate_case", escalate, ctx=STATE.ctx(), data=data,
                          today=today(today_))
    else:
        result = run_step("pprflow.flows.levels:deescalate_case", deescalate, ctx=STATE.ctx(), data=data,
                          today=today(today_))
    emit_json(result)


@app.command("escalate")
def escalate_command(
    case: CaseArg, sphere: SphereOption, to: ToOption, reason: ReasonOption = None,
    outposted_social_worker: Annotated[str | None, typer.Option(
        "--outposted-social-worker", metavar="EMAIL",
        help="Den fremskudte rådgiver, der er inddraget (påkrævet før niveau 5, LVL-5).")] = None,
    lessons_per_week: Annotated[int | None, typer.Option(
        "--lessons-per-week", metavar="N",
        help="Niveau 4 i skolen er specialundervisning: antal lektioner om ugen (mindst 9, LAW-4).")] = None,
    permanent: Annotated[bool, typer.Option(
        "--permanent", help="Specialundervisningen er ikke midlertidig: kræver PPR's rådgivning (LAW-4).")] = False,
    ppr_advice: Annotated[str | None, typer.Option(
        "--ppr-advice", metavar="DATO", help="Dato for PPR's rådgivning (PPV) ved varig henvisning (LAW-4).")] = None,
    today_: TodayOption = None,
) -> None:
    """Flyt sagen op i niveau (LVL-1); viser de skemaer, niveauet kræver (LVL-2/3)."""
    teaching: dict[str, object] | None = None
    if lessons_per_week is not None:
        teaching = {"lessons_per_week": lessons_per_week, "temporary": not permanent,
                    "ppr_advice_on": parse_date(ppr_advice, "--ppr-advice") if ppr_advice else None}
    elif permanent or ppr_advice:
        raise InvalidInput("--permanent and --ppr-advice describe specialised teaching: add --lessons-per-week N",
                           rule_id="LAW-4")
    _level_change(case, sphere, to, reason, outposted_social_worker, today_, "up", teaching)


@app.command("deescalate")
def deescalate_command(case: CaseArg, sphere: SphereOption, to: ToOption, reason: ReasonOption = None,
                       today_: TodayOption = None) -> None:
    """Flyt sagen ned i niveau (LVL-1)."""
    _level_change(case, sphere, to, reason, None, today_, "down")


@app.command("review")
def review_command(
    case: CaseArg,
    date: Annotated[str, typer.Option("--date", metavar="DATO", help="Dato for vurderingen.")],
    today_: TodayOption = None,
) -> None:
    """Registrér halvårsvurderingen af den specialiserede indsats og fastlæg den næste (CAL-6)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.levels import record_review

    emit_json(run_step("pprflow.flows.levels:review_case", record_review, ctx=STATE.ctx(), case_id=case,
                       review_date=parse_date(date, "--date"), today=today(today_)))


@app.command("start-investigation")
def start_investigation_command(
    case: CaseArg,
    aware_on: Annotated[str, typer.Option("--aware-on", metavar="DATO",
                                          help="Dagen kommunen blev bekendt med forholdene.")],
    today_: TodayOption = None,
) -> None:
    """Børnefaglig undersøgelse (§20): frist 4 måneder (CAL-7)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.levels import start_investigation

    emit_json(run_step("pprflow.flows.levels:investigation_deadline", start_investigation, ctx=STATE.ctx(),
                       case_id=case, aware_on=parse_date(aware_on, "--aware-on"), today=today(today_)))


@app.command("report-abuse")
def report_abuse_command(
    case: Annotated[int | None, typer.Argument(metavar="[SAG]", help="Sagens id, hvis barnet har en sag.")] = None,
    file: Annotated[str | None, typer.Option("--file", metavar="FIL",
                                             help="Underretningen som JSON (reporter, institution, child, "
                                                  "observation, observed_on), eller - for stdin.")] = None,
    reporter_name: Annotated[str | None, typer.Option("--reporter-name", help="Underretterens navn.")] = None,
    reporter_email: Annotated[str | None, typer.Option("--reporter-email", metavar="EMAIL",
                                                       help="Underretterens e-mail (standard: --as).")] = None,
    reporter_role: Annotated[str | None, typer.Option("--reporter-role", help="Underretterens rolle.")] = None,
    reporter_phone: Annotated[str | None, typer.Option("--reporter-phone", help="Underretterens direkte telefon.")]
    = None,
    institution: Annotated[str | None, typer.Option("--institution", help="Dagtilbud/skole.")] = None,
    child_name: Annotated[str | None, typer.Option("--child-name", help="Barnets navn.")] = None,
    child_group: Annotated[str | None, typer.Option("--child-group", help="Klasse/gruppe.")] = None,
    child_birth_year: Annotated[int | None, typer.Option("--child-birth-year", help="Fødselsår.")] = None,
    observation: Annotated[str | None, typer.Option("--observation", help="Hvad er set eller hørt.")] = None,
    observed_on: Annotated[str | None, typer.Option("--observed-on", metavar="DATO",
                                                    help="Hvornår (ÅÅÅÅ-MM-DD); standard: i dag.")] = None,
    observed_time: Annotated[str | None, typer.Option("--observed-time", metavar="TT:MM", help="Klokkeslæt.")]
    = None,
    actions_taken: Annotated[str | None, typer.Option("--actions-taken", help="Hvad er gjort indtil nu.")] = None,
    today_: TodayOption = None,
) -> None:
    """Mistanke om vold eller overgreb: underretning straks, med eller uden sag; forældrene orienteres ikke
    (ESC-1, ESC-2, LAW-1). Ingen anden regel kan standse den."""
    from pprflow.cli.runner import run_urgent_step
    from pprflow.tasks.abuse import report, report_abuse

    day = today(today_)
    given: dict[str, object] = {
        "reporter_name": reporter_name, "reporter_email": reporter_email, "reporter_role": reporter_role,
        "institution": institution, "child_name": child_name, "child_group": child_group,
        "child_birth_year": child_birth_year, "observation": observation, "observed_on": observed_on,
        "observed_time": observed_time, "reporter_phone": reporter_phone, "actions_taken": actions_taken,
    }
    if file is None and all(v is None for v in given.values()):
        if case is None:
            raise InvalidInput("underretningen er IKKE sendt: angiv sagens id eller underretningen selv (--file FIL "
                               "eller --reporter-name, --institution, --child-name, --observation …)",
                               rule_id="ESC-2")
        emit_json(run_urgent_step("pprflow.flows.abuse:report_suspected_abuse", report_abuse, ctx=STATE.ctx(),
                           case_id=case, today=day))
        return
    data = _report_data(file, given, case=case, day=day)
    emit_json(run_urgent_step("pprflow.flows.abuse:report_notification", report, ctx=STATE.ctx(), data=data, today=day))


def _report_data(file: str | None, given: dict[str, object], *, case: int | None, day: object) -> object:
    """The report from --file or the options, parsed into the one `AbuseReport` (ESC-2)."""
    import json
    import sys
    from pathlib import Path

    from pprflow.models.abuse import NOT_SENT, parse_report

    if file is not None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            raw = json.loads(text)
        except FileNotFoundError:
            raise InvalidInput(f"{NOT_SENT}: filen findes ikke: {file}", rule_id="ESC-2") from None
        except ValueError as exc:
            raise InvalidInput(f"{NOT_SENT}: filen er ikke gyldig JSON: {exc}", rule_id="ESC-2") from None
        if not isinstance(raw, dict):
            raise InvalidInput(f"{NOT_SENT}: filen skal være et JSON-objekt", rule_id="ESC-2")
    else:
        raw = {
            "reporter": {"name": given["reporter_name"], "role": given["reporter_role"],
                         "email": given["reporter_email"] or STATE.acting_user(), "phone": given["reporter_phone"]},
            "institution": given["institution"],
            "child": {"name": given["child_name"], "group": given["child_group"],
                      "birth_year": given["child_birth_year"]},
            "observation": given["observation"],
            "observed_on": given["observed_on"] or str(day),
            "observed_time": given["observed_time"],
            "actions_taken": given["actions_taken"],
        }
    if case is not None:
        raw["case_id"] = case
    if isinstance(raw.get("case_id"), int) and not isinstance(raw.get("case_id"), bool):
        from pprflow.tasks.abuse import complete_from_case

        # ESC-2: what the case already says (institution, child, reporter) is not asked for again
        raw = complete_from_case(STATE.ctx().engine, raw, raw["case_id"], today=day)  # type: ignore[arg-type]
    return parse_report(raw)


@app.command("acknowledge")
def acknowledge_command(
    case: Annotated[int | None, typer.Argument(metavar="[SAG]", help="Sagens id (eller --notification ID).")] = None,
    notification: Annotated[int | None, typer.Option("--notification", metavar="ID",
                                                     help="Kun denne underretning.")] = None,
    today_: TodayOption = None,
) -> None:
    """Kvittering for underretningen er modtaget (LAW-2)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.abuse import acknowledge

    emit_json(run_step("pprflow.flows.abuse:acknowledge_notification", acknowledge, ctx=STATE.ctx(), case_id=case,
                       notification_id=notification, today=today(today_)))


@app.command("handover")
def handover_command(
    case: CaseArg,
    to: Annotated[str, typer.Option("--to", metavar="EMAIL", help="Den nye tovholder (præcis én).")],
    today_: TodayOption = None,
) -> None:
    """Ny tovholder; alle på sagen orienteres (ROLE-1)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.handover import handover

    emit_json(run_step("pprflow.flows.handover:hand_over_case", handover, ctx=STATE.ctx(), case_id=case,
                       to_email=parse_email(to, "--to", rule_id="ROLE-1"),
                       today=today(today_)))


@app.command("transfer")
def transfer_command(
    case: CaseArg,
    to_institution: Annotated[str, typer.Option("--to-institution", metavar="INSTITUTION",
                                                help="Skolen/dagtilbuddet barnet er flyttet til.")],
    today_: TodayOption = None,
) -> None:
    """Barnet flytter: sagen følger med til den nye institution, hvis leder overtager (ROLE-3)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.transfer import transfer_case

    emit_json(run_step("pprflow.flows.handover:transfer_case_flow", transfer_case, ctx=STATE.ctx(), case_id=case,
                       to_institution=to_institution, today=today(today_)))


@app.command("show")
def show_command(case: CaseArg) -> None:
    """Vis sagen som JSON: niveauer, tovholder, parter, frister, fortrolighed over for forældrene."""
    from pprflow.tasks.handover import show_case

    emit_json(show_case(ctx=STATE.ctx(), case_id=case))  # a known person who may read it (PRIV-3, PRIV-4)


@app.command("close")
def close_command(case: CaseArg,
                  reason: Annotated[str, typer.Option("--reason", help="Hvorfor sagen lukkes (skrives i loggen).")]
                  ) -> None:
    """Luk sagen: ventende mails annulleres, frister lukkes; opbevaringsfristen løber fra nu (PRIV-2)."""
    from pprflow.tasks.retention import close_case

    emit_json(close_case(ctx=STATE.ctx(), case_id=case, reason=reason))


@app.command("add-partner")
def add_partner_command(
    case: CaseArg,
    name: Annotated[str, typer.Option("--name", help="Navn.")],
    email: Annotated[str, typer.Option("--email", metavar="EMAIL", help="E-mail.")],
    role: Annotated[str, typer.Option("--role", help="health_visitor, family_department, open_counselling, uu, "
                                      "ungvejle, ssp, outposted_social_worker, ppr_psychologist …")],
    consent: Annotated[int | None, typer.Option("--consent", metavar="ID",
                                                help="Samtykket partneren deltager på (PATH-8).")] = None,
) -> None:
    """Tilføj en samarbejdspartner på forældrenes samtykke (PATH-8)."""
    from pprflow.cli.runner import run_step
    from pprflow.models.rules_meetings import PartnerInput
    from pprflow.tasks.meetings import add_partner

    data = build(PartnerInput, "partner", case_id=case, name=name, email=email, role=role, consent_id=consent)
    emit_json(run_step("pprflow.flows.meetings:add_case_partner", add_partner, ctx=STATE.ctx(), data=data))
