#!/usr/bin/env bash
# Overwrite wipe throughput on one target in the same run: revive-agent's wipe step (a
# simulated laptop whose disk is a loop device) against `dd if=/dev/zero of=T bs=4M oflag=direct`
# and nwipe's single zero pass without verification; plus what our read-back verification costs.
#
#   sudo bench/wipe_bench.sh [SIZE_GIB] [ROUNDS]      (default 2, 3; needs root for the loop device)
#
# The target is a loop device (direct I/O) over a preallocated file on this machine's disk,
# created by this script and detached at exit. Nothing else is ever written.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
size_gib=${1:-2}
rounds=${2:-3}
if [[ $(id -u) -ne 0 ]]; then echo "wipe_bench: needs root to create a loop device" >&2; exit 77; fi
"$here/bench/setup" >/dev/null
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-wipe-XXXXXX")
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

bytes=$((size_gib << 30))
fallocate -l "$bytes" "$W/disk"
loop=$(losetup --find --show --direct-io=on "$W/disk")
[[ $loop == /dev/loop* && $(cat "/sys/block/${loop#/dev/}/loop/backing_file") == "$W/disk" ]] || { echo "not our loop device: $loop" >&2; exit 1; }
dd if=/dev/zero of="$loop" bs=4M count=$((bytes >> 22)) oflag=direct status=none  # every block allocated before anyone is timed

"$build/bin/revive-server" --state "$W/state" operator add bench <<< "bench password 1" >/dev/null
token=$("$build/bin/revive-server" --state "$W/state" operator token bench)
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
mbps() { python3 -c "print(f'{$bytes / $1 / 1e6:.0f}')"; }
declare -a d_t=() n_t=() o_w=() o_v=() o_s=()
for r in $(seq 1 "$rounds"); do
  run dd dd if=/dev/zero of="$loop" bs=4M count=$((bytes >> 22)) oflag=direct status=none; d_t+=("$secs")
  run nwipe nwipe --autonuke --nogui --nowait --method=zero --verify=off --noblank --nousb -l "$W/nwipe.txt" "$loop"; n_t+=("$secs")
  run agent "$build/bin/revive-agent" --simulate --root "$here/tests/data/laptops/thinkpad-t480" --disk "$loop" --server "$url" --long-poll 2 --server-key "$W/state/store/keys/ed25519.pub"
  device=$(sed -n 's/.*enrolled as device \([0-9]*\).*/\1/p' "$W/agent.log" | head -1)
  read -r w v s < <(api GET "/api/v1/devices/$device" | python3 -c '
import json,sys
d=json.load(sys.stdin); r=[x for x in d["results"] if x["kind"]=="wipe"][-1]
assert r["status"]=="ok", r
e=r["result"]["drives"][0]; v=e["verification"]
print("%.2f %.2f %d" % (e["write_seconds"], float(e.get("verify_seconds", 0)), v["samples"]))')
  api POST "/api/v1/devices/$device/restart" '{}' >/dev/null
  o_w+=("$w"); o_v+=("$v"); o_s+=("$s")
  echo "round $r: dd ${d_t[-1]} s, nwipe ${n_t[-1]} s, revive write $w s + verify $v s ($s samples)"
done
d=$(median "${d_t[@]}"); n=$(median "${n_t[@]}"); w=$(median "${o_w[@]}"); v=$(median "${o_v[@]}")
echo
echo "== $bytes bytes on $loop (direct I/O over $W/disk); medians of $rounds rounds"
printf '%-44s %8s %8s\n' "" seconds "MB/s"
printf '%-44s %8.2f %8s\n' "dd if=/dev/zero bs=4M oflag=direct" "$d" "$(mbps "$d")"
printf '%-44s %8.2f %8s\n' "nwipe --method=zero --verify=off (1 pass)" "$n" "$(mbps "$n")"
printf '%-44s %8.2f %8s\n' "revive wipe: overwrite (zeros)" "$w" "$(mbps "$w")"
printf '%-44s %8.2f\n' "revive wipe: sampled read-back verification" "$v"
python3 - "$d" "$n" "$w" "$v" <<'PY'
import sys
d, n, w, v = map(float, sys.argv[1:])
print(f"vs dd: {d / w:.2f}x (target >= 0.95)  {'PASS' if d / w >= 0.95 else 'MISS'}")
print(f"vs nwipe: {n / w:.2f}x (target >= 1.0)  {'PASS' if n / w >= 1.0 else 'MISS'}")
print(f"verification costs {v:.2f} s, {v / w * 100:.0f}% of the overwrite time")
PY
