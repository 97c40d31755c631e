"""`python -m pprflow.deployments --work-pool NAME [--image IMAGE] [--profile vejle]`: deploy to a work pool."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pprflow.deployments",
                                     description="Registrér pprflows deployments på en work pool (PREFECT_API_URL).")
    parser.add_argument("--work-pool", required=True, help="Work pool (process, kubernetes ...); opret den først.")
    parser.add_argument("--image", help="Container-image med pprflow installeret (Kubernetes/Docker-pools).")
    parser.add_argument("--profile", help="Kommuneprofil (standard: PPRFLOW_PROFILE eller vejle).")
    parser.add_argument("--only", action="append", help="Kun dette flow (navn eller flow/deployment); kan gentages.")
    args = parser.parse_args(argv)

    from pprflow.config import Settings
    from pprflow.deployments import deploy_to_work_pool
    from pprflow.profiles import load_profile

    profile = load_profile(args.profile or Settings().profile)
    ids, catalogue = deploy_to_work_pool(profile, args.work_pool, image=args.image, only=args.only)
    out = sys.stdout
    for name in catalogue.names():
        out.write(f"deployed  {name}\n")
    for ref, why in catalogue.skipped.items():
        out.write(f"skipped   {ref}: {why}\n")
    out.write(f"{len(ids)} deployments on work pool {args.work_pool!r}\n")
    from pprflow.deployments.automations import ensure_automations

    for name in ensure_automations(Settings()):  # the operators' alerts, idempotent (issue 20)
        out.write(f"automation {name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
