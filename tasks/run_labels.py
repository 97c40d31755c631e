"""What a flow run touching a case may be labelled with on the Prefect server: ids only (issue 20).

The case id, the district's name and the pathway's id: no name, no address, no concern, no flag.
Read without an access check and without an audit entry on purpose: nothing here is personal data
(PRIV-2), and the labels only repeat the case id the run was started with.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import Case, Institution


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9æøå_-]+", "-", text.strip().lower()).strip("-")


def case_labels(engine: Engine, case_id: int) -> list[str]:
    """Tags for a run touching case ``case_id``: ``sag:17``, ``distrikt:nord``, ``spor:ppr_individual``."""
    with Session(engine) as session:
        row = session.exec(select(Case.pathway, Institution.district).join(
            Institution, col(Institution.id) == col(Case.institution_id)).where(Case.id == case_id)).first()
    if row is None:
        return [f"sag:{case_id}"]
    pathway, district = row
    tags = [f"sag:{case_id}", f"spor:{_slug(pathway)}"]
    if district:
        tags.append(f"distrikt:{_slug(district)}")
    return tags
