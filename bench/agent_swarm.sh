#!/usr/bin/env bash
# 1,000 simulated agents heartbeating / long-polling against one revive-server (release build).
# Reports client-side latency percentiles, each with its target and PASS/MISS (issue 19: enrol,
# next and result p99 < 100 ms; heartbeats p99 < 50 ms), and the server's peak RSS.
# BENCH_BUILD=DIR times another build (its bin/ must hold revive-server and agent_swarm).
#
#   bench/agent_swarm.sh [AGENTS] [SECONDS] [--burst] [--ramp SECS] [--history N]
# --ramp: the agents enrol spread evenly over SECS instead of all in the same instant.
# --history: N other laptops enrol first, untimed: a workshop with a past (a year's laptops).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}; secs=${2:-30}; shift $(($# < 2 ? $# : 2))
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_build revive-server agent_swarm
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-swarm-XXXXXX")
chmod 711 "$W"  # started as root, revive-server runs as user revive: let it reach its state
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
baseline=1
for a in "$@"; do [[ $a == --ramp ]] && baseline=0; done
printf 'long_poll_s = 60\nstall_timeout_s = 3600\n' > "$W/c.toml"
ulimit -n 8192
"$build/bin/revive-server" --demo --state "$W/state" --listen 127.0.0.1:0 --config "$W/c.toml" 2> "$W/log" &
spid=$!
pids+=("$spid")
for _ in $(seq 50); do grep -q 'listening on .* port [0-9]' "$W/log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .* port \([0-9]*\).*/\1/p' "$W/log" | head -1)
if ((baseline)); then
  command -v nginx >/dev/null || { echo "the baseline needs nginx: run bench/setup" >&2; exit 1; }
  nport=$(free_port)
  start_nginx "$nport" "location / { default_type application/json; return 200 '{\"device_id\":1}'; }"
fi
# baseline_p99 : the enrolment p99 (ms) of one baseline round against nginx.
baseline_p99() {
  "$build/bin/agent_swarm" "$nport" "$n" 0 --baseline > "$W/baseline.out" ||
    { cat "$W/baseline.out" >&2; exit 1; }
  awk '$1 == "enrol" && $2 ~ /^[0-9]+$/ {print $4}' "$W/baseline.out"
}
((baseline)) && before=$(baseline_p99)
# The server's CPU time per answered request: unlike latency, it hardly depends on what else
# the machine is doing, so runs on a busy machine still compare. The server's start (its
# startup hash, the schema) and the history are left out.
process_cpu_ms "$spid" > "$W/cpu_before"
rc=0
"$build/bin/agent_swarm" "$port" "$n" "$secs" "$@" | while IFS= read -r line; do
  printf '%s\n' "$line"
  if [[ $line == history:* ]]; then process_cpu_ms "$spid" > "$W/cpu_before"; fi
done | tee "$W/swarm.out" || rc=$?
((baseline)) && after=$(baseline_p99)
cpu=$(awk -v a="$(process_cpu_ms "$spid")" '{printf "%.2f", (a - $1) / 1000}' "$W/cpu_before")
answered=$(sed -n 's/^requests answered: //p' "$W/swarm.out")
echo "server CPU ${cpu} s, $(awk -v c="$cpu" -v a="$answered" 'BEGIN {printf "%.0f", c * 1e6 / a}') us per answered request"
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$spid/status)
echo "server peak RSS ${rss} MiB (target < 300): $([[ $rss -lt 300 ]] && echo PASS || echo MISS)"
if ((baseline)); then
  enrol=$(awk '$1 == "enrol" && $2 ~ /^[0-9]+$/ {print $4}' "$W/swarm.out")
  echo "baseline: the same $n enrolment requests at once to nginx ($(nproc) workers, a fixed answer):" \
    "p99 $before ms before the swarm, $after ms after; revive's enrol p99 $enrol ms is" \
    "$(awk -v e="$enrol" -v b="$before" -v a="$after" 'BEGIN {m = (b + 0 < a + 0) ? b + 0 : a + 0; printf "%.1f", (m > 0) ? e / m : 0}')x the lower"
fi
exit $rc
