#!/usr/bin/env bash
# Image format benchmark: our import/export against the zstd CLI on the same input, same run.
#
#   bench/image_bench.sh [SIZE_GIB]      (default 2.5; needs mkfs.ext4, zstd, /usr/bin/time)
#
# Input: a real ext4 filesystem image built with mkfs.ext4 -d from OS files on this machine
# (/usr/lib/x86_64-linux-gnu + /usr/include, ~1.4 GB), written out non-sparse so both tools read
# every byte: a realistic mix of compressible data, binaries and zeros (free space).
# Baselines: `zstd -T0 -3` (all cores) for import, `zstd -d` (sparse output) for export.
# All runs read a warm page cache; ours also fsyncs every chunk and the exported file, zstd does not.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
size_gib=${1:-2.5}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
source "$here/bench/lib.sh"
bench_build revivectl
ctl=$build/bin/revivectl

echo "== building input: ${size_gib} GiB ext4 image from /usr/lib/x86_64-linux-gnu + /usr/include"
make_os_image "$size_gib" "$W/in.img"
used=$(du -k --apparent-size "$W/in.img" | cut -f1)
cat "$W/in.img" > /dev/null  # warm the page cache for everyone

# run LABEL cmd... -> prints nothing, sets $secs and $rss_mib
run() {
  local label=$1; shift
  sync
  /usr/bin/time -f '%e %M' -o "$W/time" "$@" > "$W/$label.log" 2>&1 || { cat "$W/$label.log"; exit 1; }
  read -r secs rss_kib < "$W/time"
  rss_mib=$((rss_kib / 1024))
}
mbps() { python3 -c "print(f'{$bytes / $1 / 1e6:8.0f}')"; }

# Alternate the four operations for several rounds and report medians: this machine's
# throughput drifts by 20-30% between minutes (shared VM), so one run each would be noise.
rounds=${ROUNDS:-3}
declare -a zc_t zd_t im_t ex_t zc_m zd_m im_m ex_m
for r in $(seq 1 "$rounds"); do
  run zstd_c zstd -q -T0 -3 -f "$W/in.img" -o "$W/in.img.zst"; zc_t+=("$secs"); zc_m+=("$rss_mib")
  run zstd_d zstd -q -d -f "$W/in.img.zst" -o "$W/zstd.out"; zd_t+=("$secs"); zd_m+=("$rss_mib")
  cmp "$W/in.img" "$W/zstd.out"
  zsize=$(stat -c %s "$W/in.img.zst")
  rm -f "$W/zstd.out" "$W/in.img.zst"
  rm -rf "$W/store" "$W/ours.out"
  run import "$ctl" image import --no-progress --store "$W/store" --name bench "$W/in.img"; im_t+=("$secs"); im_m+=("$rss_mib")
  run export "$ctl" image export --no-progress --store "$W/store" bench "$W/ours.out"; ex_t+=("$secs"); ex_m+=("$rss_mib")
  cmp "$W/in.img" "$W/ours.out"
  echo "round $r: zstd -3 ${zc_t[-1]}s, import ${im_t[-1]}s, zstd -d ${zd_t[-1]}s, export ${ex_t[-1]}s"
done
zc_s=$(median "${zc_t[@]}"); zd_s=$(median "${zd_t[@]}"); im_s=$(median "${im_t[@]}"); ex_s=$(median "${ex_t[@]}")
zc_rss=$(maxof "${zc_m[@]}"); zd_rss=$(maxof "${zd_m[@]}"); im_rss=$(maxof "${im_m[@]}"); ex_rss=$(maxof "${ex_m[@]}")
stored=$(du -sb "$W/store/chunks" | cut -f1)

echo
echo "input: $bytes bytes ($(nproc) cores); zstd -3 output $zsize bytes, our chunk store $stored bytes"
grep -E 'chunks of|stored' "$W/import.log" | sed 's/^/  /'
printf '%-34s %9s %10s %9s\n' "operation (median of $rounds)" "seconds" "MB/s" "peak RSS"
printf '%-34s %9.2f %10s %6s MiB\n' "zstd -T0 -3 (compress)" "$zc_s" "$(mbps "$zc_s")" "$zc_rss"
printf '%-34s %9.2f %10s %6s MiB\n' "revivectl image import" "$im_s" "$(mbps "$im_s")" "$im_rss"
printf '%-34s %9.2f %10s %6s MiB\n' "zstd -d (decompress, sparse out)" "$zd_s" "$(mbps "$zd_s")" "$zd_rss"
printf '%-34s %9.2f %10s %6s MiB\n' "revivectl image export" "$ex_s" "$(mbps "$ex_s")" "$ex_rss"
python3 - "$zc_s" "$im_s" "$zd_s" "$ex_s" "$im_rss" "$ex_rss" <<'PY'
import sys
zc, im, zd, ex, im_rss, ex_rss = map(float, sys.argv[1:])
ri, re_ = zc / im, zd / ex
print(f"import ratio vs zstd -T0 -3: {ri:.2f}x (target >= 1.0)  {'PASS' if ri >= 1.0 else 'MISS'}")
print(f"export ratio vs zstd -d:     {re_:.2f}x (target >= 1.5)  {'PASS' if re_ >= 1.5 else 'MISS'}")
print(f"peak RSS import {im_rss:.0f} MiB, export {ex_rss:.0f} MiB (target < 512)  "
      f"{'PASS' if max(im_rss, ex_rss) < 512 else 'MISS'}")
PY
