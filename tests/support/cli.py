"""Run `pprflow …` for a test and get what a shell would: exit code, stdout, stderr.

By default the command runs in this process through `pprflow.cli.main`, the function the console
script calls, with its own environment, stdin, stdout and stderr: a new interpreter importing
SQLAlchemy, Typer and Prefect costs 2-3 s of CPU per command, which made the CLI tests half of the
suite's time. `PPRFLOW_TEST_CLI=subprocess` runs the same tests through the installed console script
instead (a new process per command, as an operator's shell does); tests/test_packaging.py and the
`serve` tests always use a real process.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

PPRFLOW = Path(sys.executable).parent / "pprflow"
"""The installed console script."""

_ONE_AT_A_TIME = threading.Lock()  # os.environ and sys.std* are process-wide


def pprflow_cli(*args: str, input: str | None = None, env: Mapping[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`pprflow *args` with `input` on stdin and `env` as its whole environment (default: this one)."""
    if os.environ.get("PPRFLOW_TEST_CLI") == "subprocess":
        return subprocess.run([str(PPRFLOW), *args], input=input, capture_output=True, text=True,
                              env=dict(env) if env is not None else None, timeout=timeout, check=False)
    with _ONE_AT_A_TIME, _environment(env):
        return _in_process(list(args), input)


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    from pprflow.config import get_settings

    saved = dict(os.environ)
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        get_settings.cache_clear()  # settings are read from the environment once per process
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def _in_process(args: list[str], input: str | None) -> subprocess.CompletedProcess[str]:
    from pprflow.cli import main

    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", newline="\n", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", newline="\n", write_through=True)
    saved_stdin, sys.stdin = sys.stdin, stdin
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the subprocess runs with PYTHONWARNINGS=ignore
            try:
                main(args)
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:  # SystemExit("message"): Python prints it and exits 1
                    err.write(f"{exc.code}\n")
                    code = 1
            except Exception:  # what the interpreter would print before exiting 1
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.stdin = saved_stdin
    out.flush()
    err.flush()
    return subprocess.CompletedProcess(["pprflow", *args], code, out_bytes.getvalue().decode("utf-8"),
                                       err_bytes.getvalue().decode("utf-8"))
