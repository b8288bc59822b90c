#!/usr/bin/env bash
# ctest wall_browser: installs playwright-core from the committed package-lock.json into the
# build directory (npm_install.sh), then runs wall_test.mjs against Debian's chromium.
# Skipped (77) without chromium or node.
#   run.sh SERVER AGENT CTL DATA WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$5"
server=$(realpath "$1") agent=$(realpath "$2") ctl=$(realpath "$3") data=$(realpath "$4")
work=$(realpath "$5")
for tool in node npm /usr/bin/chromium; do
  if ! command -v "$tool" >/dev/null; then
    echo "wall_browser: SKIPPED: $tool is missing (scripts/setup installs chromium and nodejs)"
    exit 77
  fi
done
bash "$here/npm_install.sh" "$work"
cp "$here/wall_test.mjs" "$work/"
cd "$work"
exec node wall_test.mjs "$server" "$agent" "$ctl" "$data" "$work"
