#!/usr/bin/env bash
# Every benchmark in its smallest run, one after another, to catch a benchmark that no longer
# runs (they are not CI, and tftp_bench.sh once hung for days unseen). Root (the wipe, deploy
# and workshop benchmarks need it). Figures from a smoke run compare nothing: it checks only
# that each benchmark runs to its end; a MISS is not a failure here, an exit code is.
#
#   sudo bench/smoke.sh [--desktop]      (4 min on the 2-core development machine; --desktop
#                                         adds desktop_image.sh --quick: a desktop recipe build
#                                         and a QEMU boot, ~12 min there from an empty .deb cache)
#
# Each benchmark gets TIMEOUT seconds (default 900); its output goes to $SMOKE_LOGS (default a
# new directory under /var/tmp), named in the summary. Exit 1 when any failed or timed out.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
desktop=0
for a in "$@"; do
  case $a in
    --desktop) desktop=1 ;;
    *) echo "usage: bench/smoke.sh [--desktop]" >&2; exit 2 ;;
  esac
done
source "$here/bench/lib.sh"
runner_logs smoke "${SMOKE_LOGS:-}"
limit=${TIMEOUT:-900}
runs=(
  "wipe_bench.sh --quick --no-nwipe"
  "chunk_serving_bench.sh --quick"
  "image_bench.sh --quick"
  "deploy_bench.sh --quick"
  "agent_swarm.sh 200 2"
  "swarm_decompose.sh 200 1"
  "start_cost.sh 100 1"
  "tftp_bench.sh 4 1"
  "wall_load.sh 20 5"
  "workshop_sim.sh scale"
  "workshop.sh --quick"
)
((desktop)) && runs+=("desktop_image.sh --quick 900")
run_each "$logs" "$limit" "${runs[@]}"
failed=$?
((failed)) && { echo "bench/smoke.sh: some benchmarks did not run to their end (their logs say why)"; exit 1; }
echo "bench/smoke.sh: every benchmark ran to its end"
