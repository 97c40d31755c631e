"""Render every message kind's example to artifacts/template-preview/ so a human can look at it.

    .venv/bin/python scripts/preview_templates.py [--screenshot]

Writes <kind>.html, <kind>.txt (subject on the first line) and index.html. With --screenshot and
/usr/bin/chromium present, also writes <kind>.png of the HTML; without chromium it says so and skips.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pprflow.templates.catalogue import MESSAGE_KINDS  # noqa: E402
from pprflow.templates.render import render_message  # noqa: E402

OUT = ROOT / "artifacts" / "template-preview"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", action="store_true", help="also write PNGs with headless chromium")
    args = parser.parse_args()

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rows = []
    for kind, entry in sorted(MESSAGE_KINDS.items()):
        message = render_message(kind, entry.example_context())
        page = OUT / f"{kind}.html"
        page.write_text(message.html, encoding="utf-8")
        (OUT / f"{kind}.txt").write_text(f"Emne: {message.subject}\n\n{message.text}", encoding="utf-8")
        parents = "ja" if entry.may_reach_parents else "nej"
        rows.append(f"<tr><td><a href='{kind}.html'>{kind}</a> (<a href='{kind}.txt'>txt</a>)</td>"
                    f"<td>{entry.rule_id}</td><td>{parents}</td><td>{html.escape(message.subject)}</td></tr>")
        if args.screenshot and not screenshot(page, OUT / f"{kind}.png"):
            print(f"no {CHROMIUM}: skipping screenshots")
            args.screenshot = False
    (OUT / "index.html").write_text(
        "<!DOCTYPE html><html lang='da'><meta charset='utf-8'><title>pprflow – skabeloner</title>"
        "<body style='font-family:Arial,sans-serif'><h1>Beskedtyper</h1><table border='1' cellpadding='4'>"
        "<tr><th>Type</th><th>Regel</th><th>Til forældre</th><th>Emne</th></tr>"
        + "".join(rows) + "</table></body></html>",
        encoding="utf-8",
    )
    print(f"{len(rows)} kinds rendered to {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
