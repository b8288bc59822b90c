#!/usr/bin/env bash
# Image format benchmark: our import/export against the zstd CLI on the same input, same run.
#
#   bench/image_bench.sh [--quick] [SIZE_GIB] [ROUNDS]   (default 2, 3; mkfs.ext4, zstd, time)
#
# Input: a real ext4 filesystem image built with mkfs.ext4 -d from OS files on this machine
# (/usr/lib/x86_64-linux-gnu + /usr/include, ~1.4 GB), written out non-sparse so both tools read
# every byte: a realistic mix of compressible data, binaries and zeros (free space).
# Baselines: `zstd -T0 -3` (all cores) for import, `zstd -d` (sparse output) for export, and
# `zstd -d` followed by `sync -d` of its output (durable, as export's file is). The import's
# own figure is the baseline of `revivectl image push` to a release revive-server on loopback
# (a fresh state each round): the same import, reading the upload while it arrives.
# All runs read a warm page cache; ours also makes every chunk, the manifest and the exported
# file durable (fsync), plain zstd does not.
#
# Rounds are interleaved (zstd -3, import, zstd -d, zstd -d + sync, export, zstd -3, ...) so a
# drift of this shared machine hits every contender alike; medians and the spread (min-max) are
# printed with the targets (import >= 1.1x zstd -T0 -3, export >= 1.5x zstd -d, and the same
# 1.5x against zstd -d + sync, peak RSS < 512 MiB) and
# PASS/MISS. --quick: a smoke run (512 MiB of /usr/include, one round: seconds after the build).
# REVIVECTL=PATH times another revivectl binary instead of this checkout's; BEFORE_CTL=PATH also
# times an older build in the same rounds (its own rows and ratios: a before/after in one run);
# CTL_WRAP="perf record -g -o FILE --" runs revivectl under a profiler.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_args "image_bench.sh [--quick] [SIZE_GIB] [ROUNDS]" "$@"
size_gib=${args[0]:-2}
rounds=${args[1]:-${ROUNDS:-3}}
[[ $size_gib =~ ^[0-9]+(\.[0-9]+)?$ && $rounds =~ ^[1-9][0-9]*$ ]] || {
  echo "image_bench: SIZE_GIB is a positive number, ROUNDS a positive whole number" >&2; exit 2; }
((quick)) && { size_gib=0.5; rounds=1; }
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/revive-bench-XXXXXX")
pids=()
bench_build revivectl revive-server
ctl=${REVIVECTL:-$build/bin/revivectl}
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$W"' EXIT

# fresh_server : a release revive-server with an empty state and one operator; sets $rport
# and $token (the previous round's server stops).
fresh_server() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  rm -rf "$W/state"
  chmod 711 "$W"  # started as root, revive-server runs as user revive: let it reach its state
  bench_operator
  start_revive_server
}

echo "== building input: ${size_gib} GiB ext4 image from /usr/lib/x86_64-linux-gnu + /usr/include"
make_os_image "$size_gib" "$W/in.img"
cat "$W/in.img" > /dev/null  # warm the page cache for everyone

run() {  # LABEL cmd... -> $secs, $rss_mib
  local label=$1; shift
  sync
  /usr/bin/time -f '%e %M' -o "$W/time" "$@" > "$W/$label.log" 2>&1 || { cat "$W/$label.log"; exit 1; }
  read -r secs rss_kib < "$W/time"
  rss_mib=$((rss_kib / 1024))
}

declare -a zc_t=() zd_t=() im_t=() ex_t=() zc_m=() zd_m=() im_m=() ex_m=() bi_t=() be_t=()
declare -a zs_t=() zs_m=() pu_t=() pu_m=()
for r in $(seq 1 "$rounds"); do
  rm -rf "$W/store" "$W/ours.out"
  run zstd_c zstd -q -T0 -3 -f "$W/in.img" -o "$W/in.img.zst"; zc_t+=("$secs"); zc_m+=("$rss_mib")
  # shellcheck disable=SC2086  # CTL_WRAP is a command line to split
  run import ${CTL_WRAP:-} "$ctl" image import --no-progress --store "$W/store" --name bench "$W/in.img"
  im_t+=("$secs"); im_m+=("$rss_mib")
  run zstd_d zstd -q -d -f "$W/in.img.zst" -o "$W/zstd.out"; zd_t+=("$secs"); zd_m+=("$rss_mib")
  cmp "$W/in.img" "$W/zstd.out"
  rm -f "$W/zstd.out"
  # The same made durable, as export makes its file: zstd -d, then fdatasync of what it wrote.
  run zstd_ds bash -c "zstd -q -d -f '$W/in.img.zst' -o '$W/zstd.out' && sync -d '$W/zstd.out'"
  zs_t+=("$secs"); zs_m+=("$rss_mib")
  zsize=$(stat -c %s "$W/in.img.zst")
  rm -f "$W/zstd.out" "$W/in.img.zst"
  # shellcheck disable=SC2086
  run export ${CTL_WRAP:-} "$ctl" image export --no-progress --store "$W/store" bench "$W/ours.out"
  ex_t+=("$secs"); ex_m+=("$rss_mib")
  cmp "$W/in.img" "$W/ours.out"
  fresh_server
  run push "$ctl" image push --server "http://127.0.0.1:$rport" --token "$token" --name bench "$W/in.img"
  pu_t+=("$secs"); pu_m+=("$rss_mib")
  extra=
  if [[ -n ${BEFORE_CTL:-} ]]; then
    rm -rf "$W/store" "$W/ours.out"
    run import_b "$BEFORE_CTL" image import --no-progress --store "$W/store" --name bench "$W/in.img"
    bi_t+=("$secs")
    run export_b "$BEFORE_CTL" image export --no-progress --store "$W/store" bench "$W/ours.out"
    be_t+=("$secs")
    cmp "$W/in.img" "$W/ours.out"
    extra="; before: import ${bi_t[-1]} s, export ${be_t[-1]} s"
  fi
  echo "round $r: zstd -T0 -3 ${zc_t[-1]} s, import ${im_t[-1]} s, zstd -d ${zd_t[-1]} s (durable ${zs_t[-1]} s), export ${ex_t[-1]} s, push ${pu_t[-1]} s$extra"
done
stored=$(du -sb "$W/store/chunks" | cut -f1)

echo
echo "== $bytes bytes ($(nproc) cores); $rounds round(s), interleaved; ctl $ctl"
echo "zstd -3 output $zsize bytes, our chunk store $stored bytes"
grep -E 'chunks with data|stored' "$W/import.log" | sed 's/^/  /' || true
python3 - "$bytes" "${zc_t[*]}" "${im_t[*]}" "${zd_t[*]}" "${ex_t[*]}" \
  "$(maxof "${zc_m[@]}") $(maxof "${im_m[@]}") $(maxof "${zd_m[@]}") $(maxof "${ex_m[@]}") $(maxof "${zs_m[@]}")" \
  "${bi_t[*]}" "${be_t[*]}" "${zs_t[*]}" "${pu_t[*]}" "$(maxof "${pu_m[@]}")" <<'PY'
import statistics, sys
size = int(sys.argv[1])
zc, im, zd, ex = ([float(x) for x in a.split()] for a in sys.argv[2:6])
rss = [int(x) for x in sys.argv[6].split()]
bi, be = ([float(x) for x in a.split()] for a in sys.argv[7:9])  # [] without BEFORE_CTL
zs = [float(x) for x in sys.argv[9].split()]
pu = [float(x) for x in sys.argv[10].split()]
med = statistics.median
print(f"{'':<36} {'median':>9}  {'':>9}   {'min-max':<14} peak RSS")
def row(label, xs, mib):
    print(f"{label:<36} {med(xs):7.2f} s  {size / med(xs) / 1e6:6.0f} MB/s   "
          f"{min(xs):.2f}-{max(xs):.2f} s   {mib} MiB")
row("zstd -T0 -3 (compress)", zc, rss[0])
row("revivectl image import", im, rss[1])
row("zstd -d (decompress, sparse out)", zd, rss[2])
row("revivectl image export", ex, rss[3])
row("zstd -d, then fdatasync (durable)", zs, rss[4])
row("revivectl image push (client RSS)", pu, sys.argv[11])
def ratio(label, base, ours, target):
    r = med(base) / med(ours)
    per = [b / o for b, o in zip(base, ours)]
    print(f"{label}: {r:.2f}x (per round {min(per):.2f}-{max(per):.2f}x) (target >= {target})"
          f"  {'PASS' if r >= target else 'MISS'}")
ratio("import vs zstd -T0 -3", zc, im, 1.1)
ratio("export vs zstd -d    ", zd, ex, 1.5)
# Export's file is durable when it returns; zstd -d's is not (its write-back happens after the
# clock stops). The issue's target again, with the same guarantee on both sides:
ratio("export vs zstd -d, then fdatasync", zs, ex, 1.5)
# No target: the push is the import reading the upload while it arrives; what it costs over the
# import alone is the upload's share (bench/README.md, "Import").
r = med(im) / med(pu)
print(f"push to a server vs import: {r:.2f}x (per round "
      f"{min(i / p for i, p in zip(im, pu)):.2f}-{max(i / p for i, p in zip(im, pu)):.2f}x)")
if bi:
    row("before: revivectl image import", bi, "-")
    row("before: revivectl image export", be, "-")
    ratio("before: import vs zstd -T0 -3", zc, bi, 1.1)
    ratio("before: export vs zstd -d    ", zd, be, 1.5)
peak = max(rss[1], rss[3])
print(f"peak RSS import {rss[1]} MiB, export {rss[3]} MiB (target < 512)"
      f"  {'PASS' if peak < 512 else 'MISS'}")
PY
