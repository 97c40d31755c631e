"""Scale-out: the same deployments on a process work pool, run by a real `prefect worker` process."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def test_a_process_worker_runs_the_morning_sweep_from_the_installed_package(
        prefect_server, pprflow_env, vejle, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL
    from prefect.workers.process import ProcessWorker

    from pprflow.deployments import deploy_to_work_pool
    from pprflow.flows.dashboard import SUMMARY_KEY
    from tests.deployments.test_dashboard import read_artifacts

    pool = f"pprflow-proces-{uuid.uuid4().hex[:6]}"

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(
                name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))

    asyncio.run(create_pool())
    ids, catalogue = deploy_to_work_pool(vejle, pool, only=["morgen-gennemgang"])
    assert catalogue.names() == ["morgen-gennemgang/arbejdsdage-0630"] and len(ids) == 1

    run = run_deployment("morgen-gennemgang/arbejdsdage-0630", parameters={"today": dt.date(2026, 12, 10)},
                         timeout=0, as_subflow=False)
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    worker = subprocess.run([sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--run-once"],
                            env=env, capture_output=True, text=True, timeout=240)
    assert worker.returncode == 0, worker.stderr[-3000:]

    async def state_of() -> str:
        async with get_client() as client:
            flow_run = await client.read_flow_run(run.id)
            return flow_run.state.name if flow_run.state else "?"

    assert asyncio.run(state_of()) == "Completed", worker.stdout[-2000:] + worker.stderr[-2000:]
    (summary,) = read_artifacts(SUMMARY_KEY, flow_run_id=str(run.id))  # the dashboard, published by the worker's run
    assert "Daglig gennemgang tors. 10. dec. 2026" in summary["data"]
