"""Issue 20: the forms the Prefect UI renders from the flows' parameters describe the common fields in
Danish (Prefect 3.9 takes a field's description from the docstring's Args section; its title is always
the parameter's name, so titles cannot be translated there)."""

from __future__ import annotations

import importlib
import pkgutil

from prefect import Flow

import pprflow.flows
from pprflow.flows.observe import PARAMETER_HELP


def test_every_case_flow_describes_its_common_fields_in_danish() -> None:
    checked = 0
    for module in pkgutil.iter_modules(pprflow.flows.__path__):
        for value in vars(importlib.import_module(f"pprflow.flows.{module.name}")).values():
            if not isinstance(value, Flow) or "case_id" not in value.parameters.properties:
                continue
            properties = value.parameters.model_dump()["properties"]
            for name in ("case_id", "request_id", "today"):
                if name in properties:
                    assert properties[name].get("description") == PARAMETER_HELP[name], (value.name, name)
            checked += 1
    assert checked >= 8
