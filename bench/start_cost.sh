#!/usr/bin/env bash
# A laptop start's server work without HTTP (bench/start_cost.cpp): the API's answers to N
# enrolments, their first next steps and N/2 failed results, called in process over a real
# SQLite state with group commit; thread CPU per request kind and per laptop start, the median
# of ROUNDS fresh states. The other half of the 1,000-laptop start (HTTP, TCP) is what
# bench/agent_swarm.sh measures beyond this (bench/README.md, "1,000 laptops at once").
#
#   bench/start_cost.sh [LAPTOPS] [ROUNDS] [BATCH]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_build start_cost
# The state on a disk, as the server's is (BENCH_DIR: elsewhere).
TMPDIR=${BENCH_DIR:-/var/tmp} exec "$build/bin/start_cost" "$@"
