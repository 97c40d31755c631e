"""Render every message kind, as each reader gets it, into a folder you name (never into the repository).

    .venv/bin/python scripts/preview_templates.py /tmp/pprflow-preview [--screenshot]

Writes <kind>.<audience>.html and .txt (subject on the first line) for the audiences staff, parent (the
kinds that may reach parents) and confidential (a staff mail on a case kept from the parents, ESC-1),
and index.html. With --screenshot and /usr/bin/chromium present, also writes a PNG of each HTML page.
"""

from __future__ import annotations

import argparse
import html
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pprflow.templates.catalogue import AUDIENCES, MESSAGE_KINDS, audience_context  # noqa: E402
from pprflow.templates.render import render_message  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")


def screenshot(page: Path, png: Path) -> bool:
    if not CHROMIUM.exists():
        return False
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=760,1600", f"--screenshot={png}", page.as_uri()],
        check=True, capture_output=True, timeout=60,
    )
    return True


def output_folder(value: str) -> Path:
    """The folder the user named: refused inside the repository, so previews are never committed."""
    out = Path(value).expanduser().resolve()
    if out == ROOT or ROOT in out.parents:
        raise SystemExit(f"error: {out} is inside the repository; name a folder outside it, e.g. /tmp/pprflow-preview")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"error: {out} exists and is not a folder; name a folder")
    return out


def write_previews(out: Path, *, screenshots: bool = False) -> list[Path]:
    """Render every kind for every audience that receives it into `out`; returns the pages written."""
    out.mkdir(parents=True, exist_ok=True)
    rows, pages = [], []
    for kind, entry in sorted(MESSAGE_KINDS.items()):
        for audience in AUDIENCES:
            context = audience_context(kind, audience)
            if context is None:
                continue
            message = render_message(kind, context)
            page = out / f"{kind}.{audience}.html"
            page.write_text(message.html, encoding="utf-8")
            (out / f"{kind}.{audience}.txt").write_text(f"Emne: {message.subject}\n\n{message.text}", encoding="utf-8")
            pages.append(page)
            rows.append(f"<tr><td><a href='{page.name}'>{kind}</a> (<a href='{kind}.{audience}.txt'>txt</a>)</td>"
                        f"<td>{audience}</td><td>{entry.rule_id}</td><td>{html.escape(message.subject)}</td></tr>")
            if screenshots and not screenshot(page, page.with_suffix(".png")):
                print(f"no {CHROMIUM}: skipping screenshots")
                screenshots = False
    (out / "index.html").write_text(
        "<!DOCTYPE html><html lang='da'><meta charset='utf-8'><title>pprflow – skabeloner</title>"
        "<body style='font-family:Arial,sans-serif'><h1>Beskedtyper</h1><table border='1' cellpadding='4'>"
        "<tr><th>Type</th><th>Modtager</th><th>Regel</th><th>Emne</th></tr>"
        + "".join(rows) + "</table></body></html>",
        encoding="utf-8",
    )
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to write the previews (outside the repository)")
    parser.add_argument("--screenshot", action="store_true", help="also write PNGs with headless chromium")
    args = parser.parse_args(argv)
    out = output_folder(args.folder)
    pages = write_previews(out, screenshots=args.screenshot)
    print(f"{len(pages)} previews written to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
