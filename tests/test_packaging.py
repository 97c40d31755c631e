"""pprflow installs as one package: nothing named `models`, `tasks`, `flows`, ... lands in site-packages.

A Prefect worker image often runs other teams' flows beside pprflow; top-level packages called `models` or
`tasks` would collide with theirs. The repository keeps those folders at its top level (the design card);
they are linked into pprflow/ and installed as pprflow.models, pprflow.tasks, ...
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINKED = ("models", "tasks", "flows", "templates", "deployments", "migrations")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (built,) = out.glob("pprflow-*.whl")
    return built


def test_the_wheel_has_no_top_level_name_but_pprflow(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"pprflow"}, top
    for package in LINKED:
        assert f"pprflow/{package}/__init__.py" in names, package
    assert "pprflow/templates/network_agenda.html.j2" in names, "mail templates ship with the package"
    assert "pprflow/migrations/versions/0001_initial_schema.py" in names, "migrations ship with the package"
    assert "pprflow/profiles/vejle.toml" in names


def test_no_code_imports_the_old_top_level_names() -> None:
    """`from models...` would work in a checkout (the repo root is on sys.path) and break when installed."""
    old = re.compile(rf"^\s*(from|import) ({'|'.join(LINKED)})(\.|\s)", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for folder in ("pprflow", *LINKED, "tests", "benchmarks", "scripts")
                 for p in (ROOT / folder).rglob("*.py")
                 if old.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_linked_folder_is_a_link_to_the_top_level_folder() -> None:
    for package in LINKED:
        link = ROOT / "pprflow" / package
        assert link.is_symlink() and link.resolve() == (ROOT / package).resolve(), package
