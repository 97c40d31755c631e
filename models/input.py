"""One pydantic configuration for every input model (PRIV-2, PRIV-4): `StrictInput`.

Everything a person or a form sends pprflow — the referral, a consent, a meeting, minutes, a level
change, a partner, a KV topic, a staff-directory row — is validated by a model that inherits this
class, so a new input model cannot forget a check:

- unknown fields are refused (a typo must not silently drop data), surrounding whitespace stripped;
- strict booleans and integers: `"yes"` is not `true`, `"2017"` is not `2017` (a JSON number is);
- no text field holds a CPR number (PRIV-2, `rules_privacy.NoCprNumbers`).
"""

from __future__ import annotations

from pydantic import ConfigDict

from pprflow.models.rules_privacy import NoCprNumbers


class StrictInput(NoCprNumbers):
    """The base of every input model: strict, closed, CPR-free (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
