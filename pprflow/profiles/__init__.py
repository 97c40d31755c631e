"""Shipped municipality profiles (TOML) and the loader: `--profile NAME|PATH` or PPRFLOW_PROFILE."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from pprflow.models.errors import ConfigurationError
from pprflow.models.profile import Profile

SHIPPED = Path(__file__).parent


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


@lru_cache(maxsize=16)
def load_profile(name_or_path: str) -> Profile:
    """Load a shipped profile by name (vejle, randers) or a profile file by path."""
    path = Path(name_or_path)
    if not (path.suffix == ".toml" or path.exists()):
        path = SHIPPED / f"{name_or_path}.toml"
        if not path.exists():
            raise ConfigurationError(
                f"unknown municipality profile {name_or_path!r}: use one of "
                f"{', '.join(shipped_profiles())} or a path to a .toml file"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"profile file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"profile file {str(path)!r} is not valid TOML: {exc}") from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"]
        if first.get("type") == "value_error" and first.get("ctx", {}).get("error") is not None:
            message = str(first["ctx"]["error"])  # e.g. the e-mail address type's own line (ESC-2)
        raise ConfigurationError(f"profile {str(path)!r}: {where}: {message}") from None
