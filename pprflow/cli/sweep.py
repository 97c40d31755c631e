"""`pprflow sweep`: the daily sweep — queue every reminder due as of a day (JSON report)."""

from __future__ import annotations

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json, fail
from pprflow.cli.params import TodayOption, today


def sweep_command(today_: TodayOption = None) -> None:
    """Kø alle påmindelser, der er forfaldne på dagen (standard: i dag); sikker at køre to gange."""
    from pprflow.cli.runner import run_step
    from pprflow.flows.sweep import stuck_message
    from pprflow.tasks.sweep import sweep

    report = run_step("pprflow.flows.sweep:daily_sweep", sweep, ctx=STATE.job_ctx("sweep"), today=today(today_))
    emit_json(report)
    message = stuck_message(report)
    if message is not None:  # everything else was handled; exit non-zero so a cron job sees it
        fail(message, code=1)
