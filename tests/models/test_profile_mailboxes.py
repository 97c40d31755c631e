"""Every mailbox in a profile is the one address type, validated on load; the notification address is
explicit; a placeholder (.invalid) never goes live on a real transport (ESC-1, ESC-2)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from pprflow.models.errors import ConfigurationError
from pprflow.models.profile import check_mailboxes_for_transport
from pprflow.profiles import SHIPPED, load_profile


def _profile_file(tmp_path: Path, **mailboxes: str) -> str:
    text = (SHIPPED / "randers.toml").read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    for key, value in mailboxes.items():
        text = text.replace(f'{key} = "{data["mailboxes"][key]}"', f'{key} = "{value}"', 1)
    path = tmp_path / "kommune.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("value", "why"), [
    ("", "e-mailadressen mangler"),
    ("Modtagelsen <modtagelsen@randers.dk>", "uden navn og uden <>"),
    ("modtagelsen@randers", "domæne"),
])
def test_a_profile_with_an_unusable_notifications_address_does_not_load_ESC_2(
        tmp_path: Path, value: str, why: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_profile(_profile_file(tmp_path, notifications=value))
    line = err.value.one_line()
    assert "mailboxes.notifications" in line and why in line and "\n" not in line


def test_the_notifications_address_has_no_default_and_no_fallback_ESC_2(tmp_path: Path) -> None:
    text = (SHIPPED / "randers.toml").read_text(encoding="utf-8")
    path = tmp_path / "uden.toml"
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("notifications")),
                    encoding="utf-8")
    with pytest.raises(ConfigurationError, match="mailboxes.notifications"):
        load_profile(str(path))


def test_mailboxes_are_case_folded_on_load_ESC_1(tmp_path: Path) -> None:
    profile = load_profile(_profile_file(tmp_path, notifications="Underretning@Randers.DK"))
    assert profile.mailboxes.notifications == "underretning@randers.dk"


def test_vejle_names_modtagelsen_as_a_placeholder_the_municipality_must_fill_in_ESC_2() -> None:
    vejle = load_profile("vejle")
    assert vejle.mailboxes.notifications == "modtagelsen@vejle.invalid"
    assert vejle.mailboxes.notifications != vejle.mailboxes.ppr, "no fallback to the PPR mailbox"
    assert vejle.placeholder_mailboxes() == {"mailboxes.notifications": "modtagelsen@vejle.invalid"}


@pytest.mark.parametrize("transport", ["smtp", "exchange", "graph"])
def test_a_real_transport_refuses_placeholder_mailboxes_and_names_them_ESC_2(transport: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        check_mailboxes_for_transport(load_profile("vejle"), transport)
    assert "mailboxes.notifications = modtagelsen@vejle.invalid" in err.value.one_line()
    with pytest.raises(ConfigurationError) as err:
        check_mailboxes_for_transport(load_profile("randers"), transport)
    assert "sender = ppr@randers.invalid" in err.value.one_line()
    check_mailboxes_for_transport(load_profile("vejle"), "file")  # the file transport writes .eml files only
