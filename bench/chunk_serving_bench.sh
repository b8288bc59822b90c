#!/usr/bin/env bash
# Chunk serving throughput on loopback: revive-server against nginx (sendfile, tcp_nopush, one
# worker per core) serving the same chunk files, in the same run, with 1, 8 and 32 concurrent
# keep-alive clients (wrk, random chunks of ~4 MiB).
#
#   bench/chunk_serving_bench.sh [--quick] [SECONDS_PER_RUN] [ROUNDS]     (default 6, 3)
#
# Rounds are interleaved (for each round and client count: nginx, then revive) so a drift of
# the machine hits both alike; per client count the median MB/s of each server, its spread
# (min-max over the rounds), the ratio of the medians with the per-round ratios, and PASS/MISS
# against the target (revive >= 1.0x nginx) are printed, with each server's CPU seconds per GB
# served (user+system of its processes: where the time goes) and how busy the whole machine was
# (from /proc/stat: a server that leaves a core idle shows here). A run that got any non-2xx answer
# or socket error fails. Both servers get a short warm-up run first. --quick: one round of 2 s
# (a smoke run). The default run takes about 2.5 minutes after the build.
# REVIVE_SERVER=PATH times another revive-server binary (an older build, for a before/after);
# NGINX_WORKERS=1 compares with nginx of one worker, revive-server's shape (one io thread).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_args "chunk_serving_bench.sh [--quick] [SECONDS_PER_RUN] [ROUNDS]" "$@"
secs=${args[0]:-6}
rounds=${args[1]:-3}
((quick)) && { secs=2; rounds=1; }
[[ $secs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || {
  echo "chunk_serving_bench: SECONDS_PER_RUN and ROUNDS are positive whole numbers" >&2; exit 2; }
"$here/bench/setup" >/dev/null
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-serve-XXXXXX")
pids=()
bench_build revive-server revivectl
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

# 256 MiB of incompressible data: 64 chunk files of ~4 MiB (a realistic stored chunk size for binaries).
head -c $((256 << 20)) /dev/urandom > "$W/img"
"$build/bin/revivectl" image import --no-progress --store "$W/state/store" --name bench "$W/img" >/dev/null
rm "$W/img"
"$build/bin/revivectl" image info --store "$W/state/store" --json bench |
  python3 -c 'import json,sys; [print(e["sha256"]) for e in json.load(sys.stdin)["extents"] if "sha256" in e]' > "$W/shas"
cat > "$W/paths.lua" <<LUA
local shas = {}
for line in io.lines("$W/shas") do shas[#shas + 1] = "/chunks/" .. line end
math.randomseed(42)
request = function() return wrk.format("GET", shas[math.random(#shas)]) end
-- wrk's own summary rounds to 0.01 GB (0.3 % of the figures compared): print the exact count.
done = function(summary) io.write(string.format("exact: %d bytes in %d us\n", summary.bytes, summary.duration)) end
LUA
cat "$W"/state/store/chunks/*/*.zst > /dev/null  # page cache warm for both

ulimit -n 8192
start_revive_server
[[ -n $rport ]] || { echo "revive-server did not start:" >&2; cat "$W/server.log" >&2; exit 1; }
rpid=${pids[-1]}
nport=$(free_port)
start_nginx "$nport" "location ~ \"^/chunks/([0-9a-f]{2})([0-9a-f]{62})\$\" {
      default_type application/zstd;
      alias $W/state/store/chunks/\$1/\$1\$2.zst;
    }"
npid=${pids[-1]}
first=$(head -1 "$W/shas")
cmp <(curl -s "http://127.0.0.1:$rport/chunks/$first") <(curl -s "http://127.0.0.1:$nport/chunks/$first") \
  || { echo "servers disagree on a chunk" >&2; cat "$W/nginx/error.log" "$W/server.log" >&2; curl -sI "http://127.0.0.1:$nport/chunks/$first" >&2; exit 1; }

cpu_ticks() {  # PID... -> user+system clock ticks of those processes and their children's threads
  local t=0 p
  for p in "$@"; do
    for s in /proc/"$p"/task/*/stat; do
      t=$((t + $(awk '{print $14 + $15}' "$s" 2>/dev/null || echo 0)))
    done
  done
  echo "$t"
}
procs_of() {  # name -> the server's processes (nginx: master and workers)
  if [[ $1 == nginx ]]; then echo "$npid $(pgrep -P "$npid" | tr '\n' ' ')"; else echo "$rpid"; fi
}
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; }  # busy idle
run_wrk() {  # server conns secs -> "MB/s cpu_s_per_GB machine_busy_%" (fails on errors)
  local port=$nport t=$(($2 < 2 ? 1 : 2)) c0 c1 out b0 i0 b1 i1
  [[ $1 == revive ]] && port=$rport
  # shellcheck disable=SC2046  # a list of pids
  c0=$(cpu_ticks $(procs_of "$1"))
  read -r b0 i0 < <(machine_ticks)
  out=$(wrk -t"$t" -c"$2" -d"$3s" -s "$W/paths.lua" "http://127.0.0.1:$port" 2>&1)
  read -r b1 i1 < <(machine_ticks)
  # shellcheck disable=SC2046
  c1=$(cpu_ticks $(procs_of "$1"))
  if grep -qE 'Non-2xx|Socket errors' <<< "$out"; then
    echo "chunk_serving_bench: $1 with $2 clients answered with errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v busy=$((b1 - b0)) -v idle=$((i1 - i0)) '
    /^exact: / { bytes = $2; us = $5 }
    END { if (bytes <= 0 || us <= 0) exit 1;
          printf "%.0f %.3f %.0f\n", bytes / us, ticks / hz / (bytes / 1e9), 100 * busy / (busy + idle) }' <<< "$out" || {
    echo "chunk_serving_bench: cannot read wrk's output:" >&2; echo "$out" >&2; exit 1; }
}

run_wrk nginx 8 1 >/dev/null
run_wrk revive 8 1 >/dev/null  # warm-up
clients=(1 8 32)
declare -A mb cpu busy
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for c in "${clients[@]}"; do
    for s in nginx revive; do
      res=$(run_wrk "$s" "$c" "$secs")
      read -r m u b <<< "$res"
      mb[$s-$c]+="$m "
      cpu[$s-$c]+="$u "
      busy[$s-$c]+="$b "
    done
    line+="  $c clients nginx $(awk '{print $NF}' <<< "${mb[nginx-$c]}") revive $(awk '{print $NF}' <<< "${mb[revive-$c]}") MB/s;"
  done
  echo "$line"
done
echo
echo "== chunk serving over loopback, $rounds round(s) of ${secs} s, interleaved; nginx ${NGINX_WORKERS:-$(nproc)} worker(s)," \
  "revive-server ${REVIVE_SERVER:-$build/bin/revive-server}"
args=()
for c in "${clients[@]}"; do
  args+=("$c" "${mb[nginx-$c]}" "${mb[revive-$c]}" "${cpu[nginx-$c]}" "${cpu[revive-$c]}"
    "${busy[nginx-$c]}" "${busy[revive-$c]}")
done
python3 - "${args[@]}" <<'PY'
import statistics, sys
a = sys.argv[1:]
med = statistics.median
print(f"{'clients':>7} {'nginx MB/s (min-max)':>22} {'revive MB/s (min-max)':>23} {'ratio':>6}"
      f" {'per round':>11}  {'CPU s/GB nginx':>14} {'revive':>7}  {'busy nginx':>10} {'revive':>6}  target")
fails = 0
for i in range(0, len(a), 7):
    c = a[i]
    n, r, cn, cr, bn, br = ([float(x) for x in s.split()] for s in a[i + 1:i + 7])
    ratio = med(r) / med(n)
    per = [y / x for x, y in zip(n, r)]
    ok = ratio >= 1.0
    fails += not ok
    print(f"{c:>7} {med(n):>9.0f} ({min(n):.0f}-{max(n):.0f}){'':>1} {med(r):>10.0f} ({min(r):.0f}-{max(r):.0f})"
          f" {ratio:>5.2f}x {min(per):.2f}-{max(per):.2f}x  {med(cn):>14.2f} {med(cr):>7.2f}"
          f"  {med(bn):>9.0f}% {med(br):>5.0f}%"
          f"  >= 1.0x {'PASS' if ok else 'MISS'}")
print("all client counts PASS" if not fails else f"{fails} client count(s) MISS")
PY
