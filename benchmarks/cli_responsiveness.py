"""`pprflow calendar …` wall time as a ratio to `python -c "import prefect"` (target <= 0.3).

Each command runs `--runs` times after `--warmup` runs (so the page cache is warm for both), as
a fresh process, the way a user or a shell script calls it; the medians are compared.

    .venv/bin/python benchmarks/cli_responsiveness.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as common

TARGET_RATIO = 0.3


def wall_times(command: list[str], runs: int, warmup: int, env: dict[str, str]) -> list[float]:
    times = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
        if i >= warmup:
            times.append(elapsed)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--profile", default="vejle")
    args = parser.parse_args(argv)

    pprflow = str(Path(sys.executable).with_name("pprflow"))
    home = tempfile.TemporaryDirectory(prefix="pprflow-bench-cli-")
    env = {**os.environ, "PPRFLOW_HOME": home.name, "PPRFLOW_PROFILE": args.profile}
    env.pop("PREFECT_API_URL", None)
    commands = {
        "python -c 'import prefect'": [sys.executable, "-c", "import prefect"],
        "python -c 'pass'": [sys.executable, "-c", "pass"],
        "pprflow calendar agenda-deadline 2026-04-09": [pprflow, "calendar", "agenda-deadline", "2026-04-09"],
        "pprflow calendar kv-deadline 2026-04-09": [pprflow, "calendar", "kv-deadline", "2026-04-09"],
        "pprflow calendar district-meetings --from 2026-01-05 --count 20":
            [pprflow, "calendar", "district-meetings", "--from", "2026-01-05", "--count", "20"],
    }
    with home:
        medians = {name: common.median(wall_times(cmd, args.runs, args.warmup, env))
                   for name, cmd in commands.items()}
    baseline = medians["python -c 'import prefect'"]
    rows = [{"command": name, "median_s": m, "ratio_to_import_prefect": m / baseline, "runs": args.runs}
            for name, m in medians.items()]
    targets = [common.target(f"{r['command']} / import prefect <= {TARGET_RATIO}", r["ratio_to_import_prefect"],
                             r["ratio_to_import_prefect"] <= TARGET_RATIO)
               for r in rows if r["command"].startswith("pprflow")]
    common.report("cli_responsiveness", rows, ["command", "median_s", "ratio_to_import_prefect", "runs"],
                  targets=targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
