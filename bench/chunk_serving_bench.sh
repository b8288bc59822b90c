#!/usr/bin/env bash
# Chunk serving throughput on loopback: revive-server vs nginx serving the same chunk files,
# in the same run, with 1, 8 and 32 concurrent clients (wrk, random chunks).
#
#   bench/chunk_serving_bench.sh [SECONDS_PER_RUN]     (default 10)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
"$here/bench/setup" >/dev/null
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-serve-XXXXXX")
pids=()
source "$here/bench/lib.sh"
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
LUA
cat "$W"/state/store/chunks/*/*.zst > /dev/null  # page cache warm for both

ulimit -n 8192
start_revive_server
nport=$((rport + 1))
start_nginx "$nport" "location ~ \"^/chunks/([0-9a-f]{2})([0-9a-f]{62})\$\" {
      default_type application/zstd;
      alias $W/state/store/chunks/\$1/\$1\$2.zst;
    }"
first=$(head -1 "$W/shas")
cmp <(curl -s "http://127.0.0.1:$rport/chunks/$first") <(curl -s "http://127.0.0.1:$nport/chunks/$first") \
  || { echo "servers disagree on a chunk" >&2; cat "$W/nginx/error.log" "$W/server.log" >&2; curl -sI "http://127.0.0.1:$nport/chunks/$first" >&2; exit 1; }

mbps() {  # port conns -> MB/s
  local t=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$t" -c"$2" -d"${secs}s" -s "$W/paths.lua" "http://127.0.0.1:$1" 2>&1 |
    awk '/Transfer\/sec/ { v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
           f = (u=="GB") ? 1024 : (u=="MB") ? 1 : (u=="KB") ? 1/1024 : 1/1048576; printf "%.0f", n*f*1.048576 }'
}
printf '%-8s %14s %14s %8s\n' clients "nginx MB/s" "revive MB/s" ratio
for c in 1 8 32; do
  n=$(mbps "$nport" "$c"); r=$(mbps "$rport" "$c")
  printf '%-8s %14s %14s %8s\n' "$c" "$n" "$r" "$(python3 -c "print(f'{$r/$n:.2f}x')")"
done
echo "(target: revive >= 0.9x nginx; nginx has $(nproc) workers, revive-server one io thread)"
