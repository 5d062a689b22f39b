#!/usr/bin/env bash
# Wraps the .app in a compressed disk image with an /Applications shortcut.
# Usage: make_dmg.sh "path/to/AI Connector.app" path/to/output.dmg
set -euo pipefail
app="$1"
out="$2"
[ -d "$app" ] || { echo "no app bundle at $app" >&2; exit 1; }
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$out"
hdiutil create -volname "AI Connector" -srcfolder "$stage" -ov -format UDZO "$out"
echo "made $out"
