#!/usr/bin/env bash
# Overwrite wipe throughput on one target in the same run: revive-agent's wipe step (a
# simulated laptop whose disk is a loop device) against `dd if=/dev/zero of=T bs=4M oflag=direct`
# and nwipe's single zero pass without verification; plus what our read-back verification costs.
#
#   sudo bench/wipe_bench.sh [--quick] [--no-nwipe] [SIZE_GIB] [ROUNDS]   (default 2, 3; root)
#
# Rounds are interleaved (revive, dd, nwipe, revive, dd, nwipe, ...) so a drift of the disk
# underneath hits every contender alike; medians and the spread (min-max) are printed. Revive's
# time is its write phase including the final flush (fdatasync), as the agent reports it; dd's
# is its wall time without a flush (and, for reference only, with conv=fsync). The verification
# read-back is reported on its own. --quick: a smoke run (256 MiB, one round, no nwipe: a few
# seconds after the build). --no-nwipe leaves nwipe out (it takes some 45 s per GiB here).
# REVIVE_AGENT=PATH times another revive-agent binary (an older build, for a before/after);
# AGENT_WRAP="perf record -g -o FILE --" runs the agent under a profiler.
#
# The target is a loop device (direct I/O) over a preallocated file on this machine's disk,
# created by this script and detached at exit. Nothing else is ever written. BENCH_DIR=/dev/shm
# puts that file in RAM: the writers' own speed, without the disk underneath (bench/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
quick=0
nwipe=1
args=()
for a in "$@"; do
  case $a in
    --quick) quick=1 nwipe=0 ;;
    --no-nwipe) nwipe=0 ;;
    -*) echo "usage: wipe_bench.sh [--quick] [--no-nwipe] [SIZE_GIB] [ROUNDS]" >&2; exit 2 ;;
    *) args+=("$a") ;;
  esac
done
size_gib=${args[0]:-2}
rounds=${args[1]:-3}
[[ $size_gib =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || {
  echo "wipe_bench: SIZE_GIB and ROUNDS are positive whole numbers" >&2; exit 2; }
bytes=$((size_gib << 30))
((quick)) && { bytes=$((256 << 20)); rounds=1; }
if [[ $(id -u) -ne 0 ]]; then echo "wipe_bench: needs root to create a loop device" >&2; exit 77; fi
"$here/bench/setup" >/dev/null
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-wipe-XXXXXX")
chmod 711 "$W"  # revive-server (operator add, too) drops to the revive account: let it reach $W/state
pids=()
loop=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n $loop ]] && losetup -d "$loop"
  rm -rf "$W"
}
trap cleanup EXIT
source "$here/bench/lib.sh"
bench_build revive-server revive-agent revivectl
agent=${REVIVE_AGENT:-$build/bin/revive-agent}

fallocate -l "$bytes" "$W/disk"
loop=$(losetup --find --show --direct-io=on "$W/disk")
[[ $loop == /dev/loop* && $(cat "/sys/block/${loop#/dev/}/loop/backing_file") == "$W/disk" ]] || { echo "not our loop device: $loop" >&2; exit 1; }
blocks=$((bytes >> 22))
dd if=/dev/zero of="$loop" bs=4M count=$blocks oflag=direct status=none  # every block allocated before anyone is timed

bench_operator
start_revive_server
url=http://127.0.0.1:$rport
api() { curl -sf -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$url$2" ${3:+-d "$3"}; }
api POST /api/v1/workflows '{"name":"wipe","steps":[{"kind":"wipe"},{"kind":"finish"}]}' >/dev/null
api POST /api/v1/settings '{"default_workflow":"wipe"}' >/dev/null

run() {  # label cmd... -> $secs
  local label=$1; shift
  sync
  /usr/bin/time -f '%e' -o "$W/time" "$@" > "$W/$label.log" 2>&1 || { cat "$W/$label.log"; exit 1; }
  secs=$(cat "$W/time")
}
revive_round() {  # -> $w (write + flush seconds), $v (verify seconds), $s (samples)
  # shellcheck disable=SC2086  # AGENT_WRAP is a command line to split
  run agent ${AGENT_WRAP:-} "$agent" --simulate --root "$here/tests/data/laptops/thinkpad-t480" --disk "$loop" --server "$url" --long-poll 2 --server-key "$W/state/store/keys/ed25519.pub"
  local device
  device=$(sed -n 's/.*enrolled as device \([0-9]*\).*/\1/p' "$W/agent.log" | head -1)
  read -r w v s < <(api GET "/api/v1/devices/$device" | python3 -c '
import json,sys
d=json.load(sys.stdin); r=[x for x in d["results"] if x["kind"]=="wipe"][-1]
assert r["status"]=="ok", r
e=r["result"]["drives"][0]; v=e["verification"]
assert e["result"]=="passed" and e["write_errors"]==0, e
print("%.3f %.3f %d" % (e["write_seconds"], float(e.get("verify_seconds", 0)), v["samples"]))')
  api POST "/api/v1/devices/$device/restart" '{}' >/dev/null
}
declare -a d_t=() f_t=() n_t=() o_w=() o_v=()
for r in $(seq 1 "$rounds"); do
  revive_round; o_w+=("$w"); o_v+=("$v")
  run dd dd if=/dev/zero of="$loop" bs=4M count=$blocks oflag=direct status=none; d_t+=("$secs")
  run ddf dd if=/dev/zero of="$loop" bs=4M count=$blocks oflag=direct conv=fsync status=none; f_t+=("$secs")
  if ((nwipe)); then
    run nwipe nwipe --autonuke --nogui --nowait --method=zero --verify=off --noblank --nousb -l "$W/nwipe.txt" "$loop"; n_t+=("$secs")
  fi
  echo "round $r: revive write+flush $w s (verify $v s, $s samples), dd ${d_t[-1]} s," \
       "dd+fsync ${f_t[-1]} s${n_t[*]:+, nwipe ${n_t[-1]} s}"
done
echo
echo "== $bytes bytes on $loop (direct I/O over $W/disk); $rounds round(s), interleaved"
python3 - "$bytes" "${o_w[*]}" "${o_v[*]}" "${d_t[*]}" "${f_t[*]}" "${n_t[*]}" <<'PY'
import statistics, sys
size = int(sys.argv[1])
w, v, d, f, n = ([float(x) for x in a.split()] for a in sys.argv[2:7])  # n: [] without nwipe
med = statistics.median
def row(label, xs, rate=True):
    mbs = f"{size / med(xs) / 1e6:6.0f} MB/s" if rate else " " * 11
    print(f"{label:<46} {med(xs):7.2f} s  {mbs}   spread {min(xs):.2f}-{max(xs):.2f} s")
print(f"{'':<46} {'median':>9}  {'':>9}   min-max")
row("revive overwrite (zeros), flush included", w)
row("dd if=/dev/zero bs=4M oflag=direct", d)
row("dd ... conv=fsync (reference: dd with a flush)", f)
if n:
    row("nwipe --method=zero --verify=off (1 pass)", n)
row("revive sampled read-back verification", v, rate=False)
ratio = [b / a for a, b in zip(w, d)]
print(f"revive vs dd: {med(d) / med(w):.2f}x (per round {min(ratio):.2f}-{max(ratio):.2f}x)"
      f" (target >= 1.0, flush included)  {'PASS' if med(d) / med(w) >= 1.0 else 'MISS'}")
if n:
    print(f"revive vs nwipe: {med(n) / med(w):.2f}x (target >= 1.0)"
          f"  {'PASS' if med(n) / med(w) >= 1.0 else 'MISS'}")
print(f"verification costs {med(v):.2f} s on top, {med(v) / med(w) * 100:.0f}% of the overwrite time")
PY
