#!/usr/bin/env bash
# Debian packages the test tiers need: Chromium (e2e), Xvfb (desktop window),
# gnome-keyring + D-Bus (real Secret Service). Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v Xvfb >/dev/null || need+=(xvfb xauth)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus dbus-x11)
# Qt WebEngine's runtime libraries that a minimal Debian lacks.
for lib in libxkbcommon-x11-0 libxcb-cursor0 libnss3 libegl1 libgl1 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libasound2 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0 libxcb-shape0 libdbus-1-3 libfontconfig1; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "[setup] need root to install: ${need[*]}" >&2; exit 1; fi
  echo "[setup] apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
