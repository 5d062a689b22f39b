#!/usr/bin/env bash
# Installs the frontend's npm packages and builds the SPA into connector/static
# when the sources changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f frontend/package.json ] || { echo "[setup] no frontend yet"; exit 0; }
command -v npm >/dev/null || {
  echo "[setup] installing Node.js and npm from Debian"; apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
mkdir -p .stamps
lockhash="$(sha256sum frontend/package.json frontend/package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ ! -d frontend/node_modules ] || [ "$(cat .stamps/npm 2>/dev/null)" != "$lockhash" ]; then
  echo "[setup] npm ci"
  (cd frontend && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
  echo "$lockhash" > .stamps/npm
fi
srchash="$(find frontend -path frontend/node_modules -prune -o -type f -print | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
if [ ! -f connector/static/index.html ] || [ "$(cat .stamps/spa 2>/dev/null)" != "$srchash" ]; then
  echo "[setup] building the SPA"
  (cd frontend && npm run build)
  echo "$srchash" > .stamps/spa
fi
