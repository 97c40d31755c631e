"""Apply a deployment only when its definition changed (issue 20: a restart changes nothing).

Every `pprflow serve` start and every `python -m pprflow.deployments` used to re-apply each deployment:
an update of the deployment and its schedules on the server, which makes the scheduler throw away and
re-create the scheduled runs, the window of Prefect's duplicate-run bug after a redeploy (#18894).

Now each deployment carries the hash of its definition (flow, entrypoint, description, parameters and
their form schema, schedules, concurrency, work pool, image) as the tag `definition:<hash>`. When the
server already holds that tag the deployment is left alone; the runner only learns its id. The one
state a start may still change is the pause `pprflow serve` itself set on its way out (an
administrator's pause is kept, pprflow/cli/serve.py `keep_administrators_pauses`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal
from uuid import UUID

DEFINITION_TAG = "definition:"
Outcome = Literal["created", "updated", "unchanged"]


def definition_hash(deployment: Any, *, image: str | None = None) -> str:
    """A stable hash of what the deployment is, never of its runtime state (paused) or of the hash tag itself."""
    data = deployment.model_dump(mode="json", exclude={"storage", "paused", "version_type"})
    data["tags"] = sorted(t for t in data.get("tags") or [] if not t.startswith(DEFINITION_TAG))
    data["parameter_openapi_schema"] = deployment._parameter_openapi_schema.model_dump(mode="json")
    data["image"] = image
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def tag_definition(deployment: Any, *, image: str | None = None) -> str:
    """Put the `definition:<hash>` tag on the deployment (replacing an older one) and return it."""
    tag = DEFINITION_TAG + definition_hash(deployment, image=image)
    deployment.tags = [t for t in deployment.tags if not t.startswith(DEFINITION_TAG)] + [tag]
    return tag


def apply_if_changed(deployment: Any, *, runner: Any = None, work_pool_name: str | None = None,
                     image: str | None = None) -> tuple[UUID, Outcome]:
    """Create or update the deployment when its definition is new; otherwise leave it as the server has it.

    With `runner` (`pprflow serve`) the deployment is added to the runner, which applies it only when
    it changed; an unchanged one is registered with the runner by its id (what `Runner.add_deployment`
    does after applying); a pause it does not ask for (`deployment.paused`, set for an administrator's pause)
    is lifted: the one `pprflow serve` set when it stopped. Without a runner (a work pool) a pause is
    never touched."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    if work_pool_name:
        deployment.work_pool_name = work_pool_name
    tag = tag_definition(deployment, image=image)
    with get_client(sync_client=True) as client:
        try:
            existing = client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}")
        except ObjectNotFound:
            existing = None
        registry = getattr(runner, "_deployment_registry", None) if runner is not None else None
        if existing is not None and tag in existing.tags and (runner is None or registry is not None):
            if registry is not None:  # `pprflow serve`: lift the pause it set itself when it stopped
                if existing.paused and not deployment.paused:
                    client.resume_deployment(existing.id)
                registry.register_deployment(existing.id, deployment.name)
            return existing.id, "unchanged"
    if runner is not None:
        deployment_id = runner.add_deployment(deployment)
    else:
        deployment_id = deployment.apply(work_pool_name=work_pool_name, image=image)
    return deployment_id, "created" if existing is None else "updated"
