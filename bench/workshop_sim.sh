#!/usr/bin/env bash
# Predicts workshop deploys: the real scheduler (server/sched) against a fluid model of the
# network and disks (bench/sim), for workshops bigger than this machine can host, plus the
# scale model bench/workshop.sh measures in namespaces (so the two can be compared). Prints,
# per scenario, the scheduled run with relay and plain server unicast from the same run,
# against the physical bound. No root, no network; about ten seconds.
#
#   bench/workshop_sim.sh [workshop|scale|all] [NAME]
#     NAME: only scenarios whose name contains it, e.g. "N=40 realistic"
#     WORKSHOP_SIM_TRACE=1 prints every plan change (and per-laptop results) to stderr
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_build workshop_sim
exec "$build/bin/workshop_sim" "$@"
