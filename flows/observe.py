"""Runs that say what happened (issue 20): run names, tags, events and the named refusal state.

One decorator every case flow passes through, between ``@flow`` and the function:

- **Names.** `case_run_name("fordel")` gives ``sag-17-fordel`` (a flow with a ``case_id`` parameter);
  `day_run_name("gennemgang")` gives ``gennemgang-2026-12-02``. A flow that opens the case (intake)
  is renamed ``sag-17-modtag`` once the case exists.
- **Tags.** ``sag:17``, ``distrikt:nord``, ``spor:ppr_individual`` on the run (tasks/run_labels.py:
  ids only, never a name or an address).
- **Events.** One event per state change, e.g. ``pprflow.sag.tildelt``, with the case as the resource
  (``pprflow.sag.17``), the rule ID in the payload, and nothing personal: the Event Feed shows a case's
  history and an automation can react to it. tasks/ stay Prefect-free: they return what happened,
  this module emits.
- **Refusals.** A rule refusal (models/errors.py: RuleViolation, AccessDenied, InvalidInput, NotFound)
  ends the run in a *Failed* state named ``Afvist`` with the Danish reason, not a traceback. Failed, so
  the run did not do what was asked and a caller still gets the error (calling the flow raises it);
  named, so its event is ``prefect.flow-run.Afvist`` and the operators' alert, which matches
  ``prefect.flow-run.Failed`` and ``prefect.flow-run.Crashed`` (deployments/automations.py), ignores it.
  A ConfigurationError (the operator's problem) and every other exception stay plain Failed.

Labelling never breaks a case step: a server that cannot be reached for a tag is logged and skipped.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from pprflow.models.errors import AccessDenied, InvalidInput, NotFound, PprflowError, RuleViolation

REFUSED = "Afvist"
"""The name of the state a refused run ends in (a Failed state: alerts match Failed/Crashed by name)."""

REFUSALS: tuple[type[PprflowError], ...] = (RuleViolation, AccessDenied, InvalidInput, NotFound)

EVENT_PREFIX = "pprflow."

PARAMETER_HELP: dict[str, str] = {
    "case_id": "Sagens nummer i pprflow (kun nummeret; navne hører ikke hjemme her).",
    "request_id": "Udfyldes af pprflows webapp eller kommandolinje (hvem der bad om skridtet). Tom: et skridt i en "
                  "sag afvises; et job kører som systemjob (PRIV-4).",
    "today": "Den dag skridtet gælder for (tom: i dag, dansk tid).",
    "to_email": "E-mail på den PPR-medarbejder eller tovholder, der overtager sagen (fra medarbejderlisten).",
    "meeting_id": "Mødets nummer i pprflow.",
    "consent_id": "Samtykkets nummer i pprflow (tom: det seneste på sagen).",
    "data": "Oplysningerne til skridtet (formularen).",
    "district": "Distriktets navn, f.eks. Nord.",
    "start": "Første dato.",
    "count": "Hvor mange der planlægges.",
    "review_date": "Datoen for halvårsvurderingen.",
    "aware_on": "Den dag kommunen blev bekendt med forholdene (fristen regnes herfra).",
    "direction": "up: et niveau op; down: et niveau ned.",
    "to_institution": "Navnet på den skole eller det dagtilbud, barnet flytter til (som i medarbejderlisten).",
}
"""Danish descriptions of the form fields the Prefect UI shows (Prefect 3.9 reads a flow's parameter
descriptions from its docstring's Args section; it always titles a field with the parameter's name)."""

F = TypeVar("F", bound=Callable[..., Any])


def _parameters() -> dict[str, Any]:
    from prefect.runtime import flow_run

    return dict(flow_run.parameters or {})


def case_run_name(action: str, fallback: str | None = None) -> Callable[[], str]:
    """``flow_run_name`` for a flow about one case: ``sag-17-fordel`` (``fallback``-day without a case)."""

    def name() -> str:
        params = _parameters()
        case_id = params.get("case_id")
        data = params.get("data")
        if case_id is None and data is not None:
            case_id = data.get("case_id") if isinstance(data, dict) else getattr(data, "case_id", None)
        if case_id is not None:
            return f"sag-{case_id}-{action}"
        return _day_name(fallback or action, params)

    return name


def day_run_name(prefix: str) -> Callable[[], str]:
    """``flow_run_name`` for a flow about a day: ``gennemgang-2026-12-02`` (its ``today`` or today)."""
    return lambda: _day_name(prefix, _parameters())


def _day_name(prefix: str, params: dict[str, Any]) -> str:
    from pprflow.models.calendar import local_today

    today = params.get("today") or local_today()
    return f"{prefix}-{today.isoformat() if hasattr(today, 'isoformat') else today}"


def case_resource(case_id: int) -> dict[str, str]:
    return {"prefect.resource.id": f"pprflow.sag.{case_id}", "prefect.resource.role": "sag"}


def emit(event: str, *, case_id: int | None, rule_id: str | None, resource: dict[str, str] | None = None,
         **facts: Any) -> Any:
    """Emit ``pprflow.<event>`` about a case (or ``resource``): ids, counts and the rule ID only."""
    from prefect.events import emit_event

    if resource is None:
        if case_id is None:
            return None
        resource = case_resource(case_id)
    payload = {"rule_id": rule_id} | ({"sag": case_id} if case_id is not None else {}) | facts
    if resource is not None and case_id is None:
        payload.pop("sag", None)
    return emit_event(event=EVENT_PREFIX + event, resource=resource, payload=payload)


def _result_case_id(result: Any) -> int | None:
    value = result.get("case_id") if isinstance(result, dict) else getattr(result, "case_id", None)
    return int(value) if isinstance(value, int) else None


def _arg_case_id(arguments: dict[str, Any]) -> int | None:
    value = arguments.get("case_id")
    if value is None and arguments.get("data") is not None:
        value = getattr(arguments["data"], "case_id", None)
    return int(value) if isinstance(value, int) else None


def label_run(case_id: int, *, rename: str | None = None) -> None:
    """Add the case's tags to the current flow run (and rename it), if it runs on a Prefect server."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.logging import get_run_logger

    from pprflow.tasks.context import Ctx
    from pprflow.tasks.run_labels import case_labels

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    try:
        tags = case_labels(Ctx.from_environment().engine, case_id)
        merged = list(dict.fromkeys([*context.flow_run.tags, *tags]))
        with get_client(sync_client=True) as client:
            client.update_flow_run(context.flow_run.id, tags=merged, name=rename)
        context.flow_run.tags = merged
        if rename:
            context.flow_run.name = rename
    except Exception as exc:  # labels are for the operators; the case step has already happened
        get_run_logger().warning("Kørslen kunne ikke mærkes med sagens id: %s", type(exc).__name__)


def with_parameter_help(doc: str | None, signature: inspect.Signature) -> str:
    """The docstring with a Google-style Args section in Danish for the parameters the form shows."""
    lines = [f"    {name}: {PARAMETER_HELP[name]}" for name in signature.parameters if name in PARAMETER_HELP]
    text = inspect.cleandoc(doc or "")
    if not lines or "Args:" in text:
        return text
    return f"{text}\n\nArgs:\n" + "\n".join(lines)


def form_help(fn: F) -> F:
    """The Danish field descriptions for a job flow without `observed` (issue 20: `request_id` explained)."""
    fn.__doc__ = with_parameter_help(fn.__doc__, inspect.signature(fn))
    return fn


def observed(event: str | None = None, *, rule_id: str | None = None, action: str | None = None,
             facts: Callable[[Any], dict[str, Any]] | None = None,
             resource: Callable[[Any], dict[str, str] | None] | None = None,
             label_case: bool = True) -> Callable[[F], F]:
    """Tag the run with its case, emit ``event`` on success, end a refusal in the named state ``Afvist``.

    ``action``: rename the run ``sag-<id>-<action>`` when the case id is only known from the result
    (intake). ``facts``: extra payload from the result (ids and counts only). ``resource``: the event's
    resource from the result instead of the case. ``label_case=False``: the abuse flows (ESC-1) neither
    tag the run with the case nor name the case in the event: that a notification exists on case 17 is
    itself personal data."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            from prefect.states import Failed

            arguments = signature.bind_partial(*args, **kwargs).arguments
            case_id = _arg_case_id(arguments) if label_case else None
            if case_id is not None:
                label_run(case_id)
            try:
                result = fn(*args, **kwargs)
            except REFUSALS as exc:
                from prefect.context import FlowRunContext

                if FlowRunContext.get() is None:  # the function called on its own (tests, plain code): raise
                    raise
                emit("sag.afvist", case_id=case_id, rule_id=exc.rule_id)  # no message: it may name a person
                return Failed(name=REFUSED, message=exc.one_line(), data=exc)
            if case_id is None and label_case:
                case_id = _result_case_id(result)
                if case_id is not None:
                    label_run(case_id, rename=f"sag-{case_id}-{action}" if action else None)
            if event is not None:
                emit(event, case_id=case_id, rule_id=rule_id, resource=resource(result) if resource else None,
                     **(facts(result) if facts else {}))
            return result

        run.__signature__ = signature  # type: ignore[attr-defined]  # Prefect's forms: real types, not strings
        run.__annotations__ = typing.get_type_hints(fn)
        run.__doc__ = with_parameter_help(fn.__doc__, signature)
        return typing.cast(F, run)

    return decorate
