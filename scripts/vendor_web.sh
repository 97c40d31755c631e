#!/usr/bin/env bash
# Copy the web app's front-end parts from node_modules (package.json, exact versions) into
# pprflow/web/static/vendor, where they are committed and shipped in the wheel: nothing is fetched at
# run time, no CDN (issue 18). Run after `npm ci` when package.json changes; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/dkfds ] || { echo "node_modules/dkfds missing: run npm ci first" >&2; exit 2; }
out=pprflow/web/static/vendor
rm -rf "$out"
mkdir -p "$out/dkfds/css" "$out/dkfds/js" "$out/dkfds/img" "$out/htmx"
src=node_modules/dkfds/dist
cp "$src/css/dkfds-virkdk.min.css" "$out/dkfds/css/"
cp "$src/js/dkfds.min.js" "$out/dkfds/js/"
cp "$src/img/all-svg-icons.svg" "$src/img/logo-placeholder.png" "$src/img/logo_virk.svg" "$out/dkfds/img/"
# The fonts the CSS asks for first (woff2, then woff); eot/ttf are for browsers WCAG users no longer run.
for kind in woff2 woff; do
  mkdir -p "$out/dkfds/fonts/IBMPlexSans/complete/$kind"
  cp "$src/fonts/IBMPlexSans/complete/$kind"/IBMPlexSans-{Regular,Italic,Medium,MediumItalic,SemiBold,SemiBoldItalic,Bold,BoldItalic}."$kind" \
     "$out/dkfds/fonts/IBMPlexSans/complete/$kind/"
done
cp "$src/LICENSE.md" "$out/dkfds/LICENSE.md"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
cp node_modules/htmx.org/LICENSE "$out/htmx/LICENSE" 2>/dev/null || true
{
  echo "Vendored by scripts/vendor_web.sh from npm (package-lock.json):"
  node -e 'for (const p of ["dkfds","htmx.org"]) console.log(`  ${p} ${require(`./node_modules/${p}/package.json`).version}`)'
} > "$out/VERSIONS.txt"
du -sh "$out"
