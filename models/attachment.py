"""The action plan as a file (handleplan, PLAN-1): a PDF or Word document sent with the request mail, as the
seeds say. Pure: a name, the bytes and a size limit in; the accepted file or one Danish `InvalidInput` line out.

The type is decided by the file's first bytes (its signature), not by the name a browser sends: a PDF starts
with ``%PDF-``, a .docx is a ZIP (``PK\\x03\\x04``), a .doc an OLE compound file (``D0 CF 11 E0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from pprflow.models.errors import InvalidInput

KINDS: dict[str, tuple[bytes, str]] = {
    ".pdf": (b"%PDF-", "application/pdf"),
    ".docx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
}
"""Extension -> (signature, content type): the action plan as PDF or Word only."""


@dataclass(frozen=True)
class PlanFile:
    filename: str
    content_type: str
    content: bytes


def check_plan_file(filename: str, content: bytes, *, max_bytes: int) -> PlanFile:
    """The action plan file, or one line saying what is wrong and how to fix it (PLAN-1)."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    suffix = PurePath(name).suffix.lower()
    if suffix not in KINDS:
        shown = name or "en fil uden navn"
        raise InvalidInput(f"Handleplanen skal være en PDF- eller Word-fil (.pdf, .docx, .doc), ikke {shown}; gem den "
                           "som PDF og vedhæft igen.", rule_id="PLAN-1")
    if not content:
        raise InvalidInput(f"Filen {name} er tom; vedhæft handleplanen igen.", rule_id="PLAN-1")
    if len(content) > max_bytes:
        raise InvalidInput(f"Filen {name} fylder {len(content) / 1_000_000:.1f} MB; den må højst fylde "
                           f"{max_bytes / 1_000_000:.0f} MB. Gem den mindre (fx som PDF uden billeder).",
                           rule_id="PLAN-1")
    signature, content_type = KINDS[suffix]
    if not content.startswith(signature):
        raise InvalidInput(f"Filen {name} er ikke en rigtig {suffix}-fil; gem handleplanen som PDF og vedhæft igen.",
                           rule_id="PLAN-1")
    safe = "".join(c if c.isalnum() or c in "._- æøåÆØÅ" else "_" for c in name)[:120]
    return PlanFile(filename=safe, content_type=content_type, content=content)
