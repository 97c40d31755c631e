"""One domain error family. Every user-facing error is one line and names the rule it enforces."""

from __future__ import annotations


class PprflowError(Exception):
    """Base of every error pprflow raises on purpose; the CLI prints it as one line, exit 2."""

    rule_id: str | None = None
    exit_code = 2

    def __init__(self, message: str, *, rule_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if rule_id is not None:
            self.rule_id = rule_id

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{text} ({self.rule_id})" if self.rule_id else text


class InvalidInput(PprflowError):
    """The input is malformed: a date, a file, a JSON field."""


class RuleViolation(PprflowError):
    """A municipal rule refuses the request; `rule_id` names it (e.g. PATH-1)."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(message, rule_id=rule_id)


class NotFound(PprflowError):
    """The case, meeting or message asked for does not exist."""


class AccessDenied(PprflowError):
    """The acting user may not do this (PRIV-3)."""

    rule_id = "PRIV-3"


class ConfigurationError(PprflowError):
    """A setting or a municipality profile is missing or wrong."""
