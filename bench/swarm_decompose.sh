#!/usr/bin/env bash
# The 1,000-laptop burst taken apart (issue 19; bench/README.md, "1,000 laptops at once"). The
# same N connections and enrolment requests at once, each agent stopping at its answer, sent to:
#   nginx     a fixed answer (all cores): what this machine and this client take;
#   refused   revive-server, a path it refuses from the header alone (401): its HTTP, no domain work;
#   enrol     revive-server's enrolment: the enrolments without the start's next steps and results.
# Then the whole start (each agent enrols, takes its first step, half fail it), sent to:
#   nginx-start  nginx with one worker (one thread, as revive-server's HTTP) answering each request
#                with an answer revive-server gave (captured once): the start's HTTP and TCP alone;
#   http-start   revive-server's HTTP layer (bench/http_floor.cpp, one io thread) with the same
#                fixed answers: what revive's HTTP adds to nginx's, without the domain;
#   work-start   the same, each answer after burning the thread CPU the domain takes for it
#                (bench/start_cost, measured first in the same run) on the io thread: a stand-in
#                for the one thread revive-server had until 2026-12-06;
#   thread-start the same work on a second thread, handed over and back per request: a stand-in
#                for revive-server as it is, the domain on a thread beside the HTTP's;
#   start        revive-server: the start as bench/agent_swarm.sh times it, without what follows.
# For each start, the p99 of each request kind and the server's CPU (all its threads'; nginx's
# worker's).
# Rounds interleaved, a fresh revive-server each; p99 per round, then the medians.
#
#   bench/swarm_decompose.sh [AGENTS] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}; rounds=${2:-3}
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
bench_build revive-server agent_swarm http_floor start_cost
command -v nginx >/dev/null || { echo "nginx is needed: run bench/setup" >&2; exit 1; }
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-decompose-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ulimit -n 8192
nport=$(free_port)
start_nginx "$nport" "location / { default_type application/json; return 200 '{\"device_id\":1}'; }"

# post PORT PATH BODY [TOKEN] : the answer's body (python3: no curl needed).
post() {
  python3 - "$@" <<'PY'
import sys, urllib.request
port, path, body = sys.argv[1:4]
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", body.encode(), method="POST")
req.add_header("Content-Type", "application/json")
if len(sys.argv) > 4:
    req.add_header("Authorization", "Bearer " + sys.argv[4])
print(urllib.request.urlopen(req).read().decode())
PY
}
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# The answers nginx gives in the start: an enrolment's and a first step's, as revive-server gave
# them (the client checks their form, not their signature).
start_revive_server
[[ -n $rport ]] || { echo "revive-server did not start:" >&2; cat "$W/server.log" >&2; exit 1; }
enrolled=$(post "$rport" /api/v1/agents/enrol \
  '{"identity": {"uuid": "u-1", "serial": "S1", "model": "Latitude 7490", "vendor": "Dell Inc."}}')
job=$(post "$rport" "/api/v1/agents/$(field device_id <<< "$enrolled")/next?wait=0" \
  '{"nonce": "00"}' "$(field agent_token <<< "$enrolled")")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
[[ "$enrolled$job" != *[\'\$]* ]] || { echo "an answer nginx cannot quote" >&2; exit 1; }
sport=$(free_port)
NGINX_WORKERS=1 start_nginx "$sport" "default_type application/json;
    location = /api/v1/agents/enrol { return 200 '$enrolled'; }
    location ~ /next\$ { return 200 '$job'; }
    location ~ /result\$ { return 200 '{}'; }"
nginx_worker=$(pgrep -P "${pids[-1]}")
printf '%s' "$enrolled" > "$W/enrolled.json"
printf '%s' "$job" > "$W/job.json"
# The domain's thread CPU per request kind (enrol, next, result), in process.
work=$(TMPDIR=$W "$build/bin/start_cost" "$n" 1 |
  awk '$1 == "enrol" || $1 == "next" || $1 == "result" {us[$1] = $2}
       END {if (us["result"] != "") printf "%s,%s,%s", us["enrol"], us["next"], us["result"]}')
[[ -n $work ]] || { echo "start_cost printed no figures" >&2; exit 1; }
echo "the domain's CPU per enrolment, next step and result (start_cost): ${work//,/ \/ } us"
declare -A fport floor
# floor NAME ARGS... : http_floor with the captured answers; sets fport[NAME] and floor[NAME].
floor() {
  local name=$1
  shift
  "$build/bin/http_floor" "$W/enrolled.json" "$W/job.json" "$@" > "$W/floor-$name.out" &
  pids+=($!)
  floor[$name]=${pids[-1]}
  for _ in $(seq 50); do grep -q 'port [0-9]' "$W/floor-$name.out" && break; sleep 0.1; done
  fport[$name]=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$W/floor-$name.out")
  [[ -n ${fport[$name]} ]] || { echo "http_floor $* did not start" >&2; exit 1; }
}
floor http-start
floor work-start --work "$work"
floor thread-start --work "$work" --work-thread

# burst PORT PATH [refused] : the burst's p99 in ms ("" when nothing was answered, or when an
# answer was an error and `refused` was not said: a wrong path once timed 401s as enrolments).
burst() {
  { "$build/bin/agent_swarm" "$1" "$n" 0 --baseline --path "$2" || true; } > "$W/burst.out"
  if [[ ${3:-} != refused ]] && ! grep -q '^errors: 0' "$W/burst.out"; then
    grep '^errors' "$W/burst.out" >&2
    return
  fi
  awk '$1 == "enrol" && $2 ~ /^[0-9]+$/ && $2 > 0 {print $4}' "$W/burst.out"
}

# revive_burst PATH [refused] : the burst against a revive-server started afresh for it.
revive_burst() {
  rm -rf "$W/state"
  start_revive_server
  [[ -n $rport ]] || { echo "revive-server did not start:" >&2; cat "$W/server.log" >&2; exit 1; }
  burst "$rport" "$@"
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
}

# start PORT PID : the whole start against PORT, PID the server; sets start_p99 (enrol, next,
# result) and start_cpu (ms).
start() {
  local before
  before=$(process_cpu_ms "$2")
  "$build/bin/agent_swarm" "$1" "$n" 0 > "$W/start.out" || { cat "$W/start.out" >&2; exit 1; }
  start_cpu=$(($(process_cpu_ms "$2") - before))
  mapfile -t start_p99 < <(awk '$2 ~ /^[0-9]+$/ && ($1 == "enrol" || $1 == "next" ||
    $1 == "result") {print $4}' "$W/start.out")
  ((${#start_p99[@]} == 3)) || { echo "the start's answers were not all timed:" >&2; cat "$W/start.out" >&2; exit 1; }
}

declare -A p99s
for r in $(seq "$rounds"); do
  line="round $r:"
  for kind in nginx refused enrol; do
    case $kind in
      nginx) v=$(burst "$nport" /api/v1/agents/enrol) ;;
      refused) v=$(revive_burst /api/v1/no-such-thing refused) ;;
      enrol) v=$(revive_burst /api/v1/agents/enrol) ;;
    esac
    [[ -n $v ]] || { echo "no answer timed against $kind" >&2; exit 1; }
    p99s[$kind]+="$v "
    line+="  $kind p99 $v ms;"
  done
  echo "$line"
  line="round $r, the whole start (enrol / next / result p99, server CPU):"
  for kind in nginx-start http-start work-start thread-start start; do
    case $kind in
      nginx-start) start "$sport" "$nginx_worker" ;;
      *-start) start "${fport[$kind]}" "${floor[$kind]}" ;;
      start)
        rm -rf "$W/state"
        start_revive_server
        start "$rport" "${pids[-1]}"
        kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
        ;;
    esac
    for i in 0 1 2; do p99s[$kind.$i]+="${start_p99[$i]} "; done
    p99s[$kind.cpu]+="$start_cpu "
    line+="  $kind ${start_p99[0]} / ${start_p99[1]} / ${start_p99[2]} ms, $start_cpu ms;"
  done
  echo "$line"
done
# shellcheck disable=SC2086  # lists of numbers
echo "== $n enrolment requests at once, $rounds round(s), median p99: nginx $(median ${p99s[nginx]}) ms," \
  "revive refused from the header $(median ${p99s[refused]}) ms, revive enrolments alone" \
  "$(median ${p99s[enrol]}) ms"
declare -A who=([nginx-start]="nginx (one worker, fixed answers)"
  [http-start]="revive's HTTP layer (fixed answers)"
  [work-start]="revive's HTTP layer, the domain's CPU burnt on its thread"
  [thread-start]="revive's HTTP layer, the domain's CPU burnt on a second thread"
  [start]=revive-server)
for kind in nginx-start http-start work-start thread-start start; do
  # shellcheck disable=SC2086
  echo "== the whole start of $n laptops, ${who[$kind]}, medians: enrol p99 $(median ${p99s[$kind.0]}) ms," \
    "next $(median ${p99s[$kind.1]}) ms, result $(median ${p99s[$kind.2]}) ms; server CPU" \
    "$(median ${p99s[$kind.cpu]}) ms (bench/agent_swarm.sh: target p99 < 100 ms each)"
done
