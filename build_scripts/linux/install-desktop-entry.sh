#!/bin/sh
# Adds AI Connector to the desktop's application menu for the current user,
# pointing at the ai-connector folder next to this script.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$here/ai-connector.svg" "$icons/ai-connector.svg"
sed "s|^Exec=.*|Exec=\"$here/ai-connector/ai-connector\"|" "$here/ai-connector.desktop" \
  > "$apps/ai-connector.desktop"
echo "Installed $apps/ai-connector.desktop"
