"""The CLI's output layer: results on stdout, one-line errors on stderr. Library code never prints."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer


def emit(text: str) -> None:
    typer.echo(text)


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, *, rule_id: str | None = None, code: int = 2) -> NoReturn:
    """Print `error: <what is wrong and how to fix it> (<RULE-ID>)` on one line and exit."""
    text = " ".join(str(message).split())
    if rule_id:
        text = f"{text} ({rule_id})"
    sys.stderr.write(f"error: {text}\n")
    raise SystemExit(code)
