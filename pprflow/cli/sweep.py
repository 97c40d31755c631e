"""`pprflow sweep`: the daily sweep — queue every reminder due as of a day (JSON report)."""

from __future__ import annotations

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, today


def sweep_command(today_: TodayOption = None) -> None:
    """Kø alle påmindelser, der er forfaldne på dagen (standard: i dag); sikker at køre to gange."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.sweep import sweep

    emit_json(run_step("pprflow.flows.sweep:daily_sweep", sweep, ctx=STATE.job_ctx("sweep"), today=today(today_)))
