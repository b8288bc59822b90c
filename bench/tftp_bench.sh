#!/usr/bin/env bash
# TFTP throughput: revive-server's TFTP against tftp-hpa's server (in.tftpd) on the same file,
# same machine, same run, over loopback. Clients: curl (blksize 1468, lock-step: curl has no
# windowsize) and a small RFC 7440 client (tests/support/tftp_client.py) asking for windowsize 16
# (tftp-hpa 5.2 does not implement windowsize and answers lock-step).
#   bench/tftp_bench.sh [MiB] [ROUNDS]        (needs tftpd-hpa: bench/setup installs it)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-64}
rounds=${2:-3}
W=$(mktemp -d)
chmod 711 "$W"  # started as root, revive-server runs as user revive: let it reach its state
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
source "$here/bench/lib.sh"
command -v in.tftpd >/dev/null || { echo "tftp_bench: in.tftpd missing (bench/setup installs tftpd-hpa)" >&2; exit 1; }
bench_build revive-server

mkdir -p "$W/root" "$W/boot/tftp"
head -c $((mib << 20)) /dev/urandom > "$W/root/file.bin"
# A copy, not a hard link: revive-server refuses to hand a file with other links to its account.
cp "$W/root/file.bin" "$W/boot/tftp/file.bin"
want=$(sha256sum < "$W/root/file.bin" | cut -d' ' -f1)

"$build/bin/revive-server" --state "$W/state" --listen 127.0.0.1:0 --tftp --tftp-port 0 --boot-listen 127.0.0.1 \
  --boot-dir "$W/boot" 2> "$W/server.log" &
pids+=($!)
for _ in $(seq 100); do grep -q 'TFTP on port' "$W/server.log" && break; sleep 0.1; done
rev_port=$(sed -n 's/.*TFTP on port \([0-9]*\).*/\1/p' "$W/server.log")
sleep 0.5  # it names its port before it checks its state directory
if [[ -z $rev_port ]] || ! kill -0 "${pids[-1]}" 2>/dev/null; then
  echo "tftp_bench: revive-server did not start:" >&2; cat "$W/server.log" >&2; exit 1
fi
hpa_port=$((20000 + RANDOM % 20000))
in.tftpd --foreground --listen --address "127.0.0.1:$hpa_port" --secure "$W/root" &
pids+=($!)
sleep 0.5

run() {  # $1 name, $2.. command writing the file to stdout; prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  "${@:2}" > "$W/out.bin"
  t1=$(date +%s.%N)
  [[ $(sha256sum < "$W/out.bin" | cut -d' ' -f1) == "$want" ]] || { echo "tftp_bench: $1 delivered wrong data" >&2; exit 1; }
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

declare -A times
for r in $(seq "$rounds"); do
  for srv in revive hpa; do
    port=$([[ $srv == revive ]] && echo "$rev_port" || echo "$hpa_port")
    times[$srv-curl]+="$(run "$srv curl" curl -sS --fail --max-time 120 --tftp-blksize 1468 "tftp://127.0.0.1:$port/file.bin") "
    times[$srv-lockstep]+="$(run "$srv lockstep" python3 "$here/tests/support/tftp_client.py" "$port" file.bin 1468 1) "
    times[$srv-window16]+="$(run "$srv window16" python3 "$here/tests/support/tftp_client.py" "$port" file.bin 1468 16) "
  done
done

printf '\nTFTP, %d MiB file over loopback, median of %d rounds (same run, same file)\n' "$mib" "$rounds"
printf '%-34s %10s %10s %12s\n' "client" "revive s" "tftp-hpa s" "revive/hpa"
for c in curl lockstep window16; do
  rv=$(median ${times[revive-$c]}); hp=$(median ${times[hpa-$c]})
  label=$c
  [[ $c == curl ]] && label="curl, blksize 1468 (lock-step)"
  [[ $c == lockstep ]] && label="rfc7440 client, window 1"
  [[ $c == window16 ]] && label="rfc7440 client, asks window 16"
  python3 - "$label" "$rv" "$hp" "$mib" <<'PY'
import sys
label, rv, hp, mib = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
mb = mib * 1048576 / 1e6
print(f"{label:34s} {rv:9.2f}s {hp:9.2f}s {hp / rv:11.2f}x   ({mb / rv:.0f} vs {mb / hp:.0f} MB/s)")
PY
done
