#!/usr/bin/env bash
# Issue 16's "200 laptops" acceptance: N simulated laptops (bench/wall_load.py's threads, the
# agent protocol) in a step, each reporting progress once a second; the server's CPU with no
# wall open (the baseline), then with the wall page open in Debian's chromium
# (bench/wall_page.mjs: the page's cost per SSE event, long tasks, frames, memory, first-load
# bytes). Release build; playwright-core from tests/e2e/wall/package-lock.json.
#
#   bench/wall_load.sh [LAPTOPS=200] [SECONDS=60] [WALLS=0]   (WALLS: raw SSE streams as well)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}; secs=${2:-60}; walls=${3:-0}
for tool in node npm /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "wall_load: $tool is missing (scripts/setup installs it)"; exit 1; }
done
source "$here/bench/lib.sh"
bench_build revive-server
page=$build/bench/wall-page
bash "$here/tests/e2e/wall/npm_install.sh" "$page"
cp "$here/bench/wall_page.mjs" "$page/"
python3 "$here/bench/wall_load.py" "$build/bin/revive-server" "$n" "$secs" "$walls" --page "$page"
