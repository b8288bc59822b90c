#!/usr/bin/env bash
# Installs playwright-core and axe-core from the committed package-lock.json into DIR (npm ci,
# offline first from npm's cache, so a second run downloads nothing; nothing is done while
# DIR's copy of the lockfile matches). Shared by run.sh (ctest wall_browser) and
# bench/wall_load.sh.
#   npm_install.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
cp "$here/package.json" "$here/package-lock.json" "$1/"
if ! cmp -s "$here/package-lock.json" "$1/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$1" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$1/node_modules/.package-lock.json.installed"
fi
