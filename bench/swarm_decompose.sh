#!/usr/bin/env bash
# The 1,000-laptop burst taken apart (issue 19; bench/README.md, "1,000 laptops at once"). The
# same N connections and enrolment requests at once, each agent stopping at its answer, sent to:
#   nginx     a fixed answer (all cores): what this machine and this client take;
#   refused   revive-server, a path it refuses from the header alone (401): its HTTP, no domain work;
#   enrol     revive-server's enrolment: the enrolments without the start's next steps and results.
# Rounds interleaved, a fresh revive-server each; p99 per round, then the medians. The full
# start, with its target, is bench/agent_swarm.sh.
#
#   bench/swarm_decompose.sh [AGENTS] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}; rounds=${2:-3}
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_build revive-server agent_swarm
command -v nginx >/dev/null || { echo "nginx is needed: run bench/setup" >&2; exit 1; }
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-decompose-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ulimit -n 8192
nport=$(free_port)
start_nginx "$nport" "location / { default_type application/json; return 200 '{\"device_id\":1}'; }"

# burst PORT PATH : the burst's p99 in ms ("" when nothing was answered). Refused requests count
# as the client's errors, so its exit status is not the measure: the answers it timed are.
burst() {
  { "$build/bin/agent_swarm" "$1" "$n" 0 --baseline --path "$2" || true; } |
    awk '$1 == "enrol" && $2 ~ /^[0-9]+$/ && $2 > 0 {print $4}'
}

# revive_burst PATH : the burst against a revive-server started afresh for it.
revive_burst() {
  rm -rf "$W/state"
  start_revive_server
  [[ -n $rport ]] || { echo "revive-server did not start:" >&2; cat "$W/server.log" >&2; exit 1; }
  burst "$rport" "$1"
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
}

declare -A p99s
for r in $(seq "$rounds"); do
  line="round $r:"
  for kind in nginx refused enrol; do
    case $kind in
      nginx) v=$(burst "$nport" /api/v1/enrol) ;;
      refused) v=$(revive_burst /api/v1/no-such-thing) ;;
      enrol) v=$(revive_burst /api/v1/enrol) ;;
    esac
    [[ -n $v ]] || { echo "no answer timed against $kind" >&2; exit 1; }
    p99s[$kind]+="$v "
    line+="  $kind p99 $v ms;"
  done
  echo "$line"
done
# shellcheck disable=SC2086  # lists of numbers
echo "== $n enrolment requests at once, $rounds round(s), median p99: nginx $(median ${p99s[nginx]}) ms," \
  "revive refused from the header $(median ${p99s[refused]}) ms, revive enrolments alone" \
  "$(median ${p99s[enrol]}) ms (the full start: bench/agent_swarm.sh, target enrol p99 < 100 ms)"
