"""Deployments: every flow with its schedule and form parameters (see `pprflow.deployments.catalogue`).

- `pprflow serve` serves them all in-process next to a local Prefect server (the main job);
- `python -m pprflow.deployments --work-pool NAME [--image IMAGE]` registers the same deployments on a
  work pool (a process pool on one machine, a Kubernetes pool in a cluster) for workers to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from uuid import UUID

    from pprflow.deployments.catalogue import Catalogue
    from pprflow.models.profile import Profile


def deploy_to_work_pool(profile: Profile, work_pool_name: str, *, image: str | None = None,
                        only: Iterable[str] | None = None) -> tuple[list[UUID], Catalogue]:
    """Register the catalogue's deployments on a work pool; nothing is built or pushed.

    Entrypoints are module paths, so a process worker runs them from the installed package and a
    Kubernetes worker from an image that has pprflow installed (`image`).
    """
    from pprflow.deployments.catalogue import build_catalogue

    catalogue = build_catalogue(profile, work_pool_name=work_pool_name, only=only)
    from pprflow.deployments.apply import apply_if_changed

    # `deployment.apply` is what `prefect.deploy(..., build=False, push=False)` calls per deployment, without
    # its "which workers are online" query (Prefect 3.8's client sends nulls that FastAPI >= 0.151 refuses);
    # issue 20: only a deployment whose definition changed is applied again.
    ids = [cast("UUID", apply_if_changed(deployment, work_pool_name=work_pool_name, image=image)[0])
           for deployment in catalogue.deployments]
    return ids, catalogue
