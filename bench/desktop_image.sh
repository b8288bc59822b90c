#!/usr/bin/env bash
# Desktop recipe bench (issue 17, not CI): builds image-recipes/debian-12-desktop-nl (or the
# recipe RECIPE names, e.g. RECIPE=debian-12-desktop-be), rebuilds it unchanged and with one
# package added, boots it in QEMU to the graphical login and saves screenshots.
#
#   [RECIPE=NAME] bench/desktop_image.sh [--quick] [BOOT_TIMEOUT_S]
#   (BOOT_TIMEOUT_S default 1800; root or unshare mmdebstrap)
#
# 1. `revivectl image build` into a fresh store (the .debs stay cached in $BENCH_DIR/cache, so
#    only the first run downloads the desktop); wall time, raw disk size, stored size and chunks
#    from the build report (STORE/images/NAME.build.json, copied to the artifact dir).
# 2. The built image is exported (`revivectl image export`, sparse) for the boots.
# 3. The exported disk boots in QEMU (TCG, -m 4096, 2 vCPUs, NVMe, no network, -snapshot so
#    every boot starts from the image as built) with SeaBIOS, then with OVMF and Secure Boot
#    enforcing (Microsoft keys enrolled, as a laptop ships). Every 10 s the screen is dumped
#    (HMP `screendump`) and read with tesseract: the LightDM greeter is on screen when the
#    picture has a light dialog (2%+ near-white pixels; a text console has next to none) and
#    shows the recipe's hostname "revive-laptop" or one of the greeter's Dutch or French
#    labels. The image is not changed to help: its kernel command line is "quiet" and it has no
#    serial console.
# 4. Rebuilt twice under the same name: the recipe unchanged, then a copy with one package added
#    ($EXTRA_PACKAGE, default the first of less/gnome-mines the image lacks); the chunk reuse is
#    the report's, against the previous build of the name.
# --quick: the first build and the BIOS boot only.
#
# Artifacts go to bench/results/<recipe>-<UTC time>/ (gitignored): the build reports, the builder
# logs, <firmware>-greeter.png (and -last.png, the last screen polled), summary.txt. Builds run at
# nice 19 without the bench lock; each boot holds /work/bench.lock ($BENCH_LOCK) while it runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_args "desktop_image.sh [--quick] [BOOT_TIMEOUT_S]" "$@"
boot_timeout=${args[0]:-1800}
[[ $boot_timeout =~ ^[1-9][0-9]*$ ]] || {
  echo "desktop_image: BOOT_TIMEOUT_S is a positive whole number" >&2; exit 2; }
for tool in mmdebstrap fakeroot mkfs.ext4 mkfs.vfat mcopy sgdisk qemu-system-x86_64 tesseract; do
  command -v "$tool" >/dev/null || {
    echo "desktop_image: $tool is missing (HACKING.md's build packages; bench/setup adds tesseract)" >&2
    exit 2
  }
done

name=${RECIPE:-debian-12-desktop-nl}
recipe=$here/image-recipes/$name
[[ $name =~ ^[a-z0-9][a-z0-9.-]*$ && -f $recipe/recipe.toml ]] || {
  echo "desktop_image: RECIPE=$name is not a recipe in image-recipes/" >&2; exit 2; }
top=${BENCH_DIR:-/var/tmp/revive-desktop-bench}
lock=${BENCH_LOCK:-/work/bench.lock}
mkdir -p "$top/cache"
W=$(mktemp -d "$top/run-XXXXXX")
out=$here/bench/results/$name-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" "$W/tmp"
export TMPDIR=$W/tmp # mmdebstrap's and the builder's temp files go where the trap removes them
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # Not into a file system mounted below (a killed root-mode mmdebstrap's /dev, /proc, /sys).
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_build revivectl
ctl=$build/bin/revivectl
store=$W/store
report=$store/images/$name.build.json
echo "== artifacts: $out (work: $W)"

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
# field FILE EXPR : a value from a JSON file (EXPR over `j`, Python).
field() { python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print($2)" "$1"; }
gib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**30:.2f} GiB')" "$1"; }

# build LABEL RECIPE_DIR [--replace] : one timed build; sets $build_s, keeps the report and log.
build_image() {
  local label=$1 dir=$2 t0 rc=0
  shift 2
  echo "== build ($label): $dir"
  t0=$(now)
  # In the background, so a signal's trap runs at once (and stops the build) instead of after it.
  nice -n 19 "$ctl" image build "$dir" --store "$store" --cache "$top/cache" --work "$W/work" \
    --no-progress "$@" >"$out/build-$label.out" 2>&1 &
  pids+=($!)
  wait $! || rc=$?
  build_s=$(secs "$t0" "$(now)")
  cp "$W/work/build.log" "$out/build-$label.log" 2>/dev/null || true
  rm -rf "$W/work"
  if ((rc)); then
    tail -20 "$out/build-$label.out" >&2
    echo "desktop_image: build ($label) failed (exit $rc); logs in $out" >&2
    exit 1
  fi
  cp "$report" "$out/build-$label.json"
  echo "   ${build_s} s; $(field "$report" "j['package_count']") packages; steps: $(field "$report" \
    "', '.join(f\"{s['step']} {s['seconds']:.0f} s\" for s in j['steps'])")"
}

reuse_of() { # REPORT -> "same/data (pct%)"
  field "$1" "f\"{j['chunk_reuse']['same_as_previous']}/{j['chunk_reuse']['data_chunks']} \
chunks ({100 * j['chunk_reuse'].get('fraction', 0):.1f}%), \
{100 * j['chunk_reuse'].get('bytes_fraction', 0):.1f}% of the data bytes, \
new {j['chunk_reuse']['new_bytes'] / 2**20:.0f} MiB\""
}

# boot FIRMWARE : boots $W/disk.raw until the greeter is on screen; sets $boot_s ("timeout" if
# it never came) and $shot.
boot() {
  local fw=$1 qargs t0 elapsed=0 reading text qpid dark white
  local mon=$W/$fw.monitor
  qargs=(-accel tcg -m 4096 -smp 2 -display none -nic none -snapshot
    -monitor "unix:$mon,server,nowait" -serial "file:$out/$fw.serial"
    -drive "file=$W/disk.raw,if=none,id=d0,format=raw" -device "nvme,drive=d0,serial=NVMEDESKTOP1")
  if [[ $fw == uefi ]]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$W/vars.fd"
    qargs+=(-machine "q35,smm=on" -global "driver=cfi.pflash01,property=secure,value=on"
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
      -drive "if=pflash,format=raw,unit=1,file=$W/vars.fd")
  fi
  echo "== boot ($fw): waiting for $lock"
  exec 9>"$lock"
  flock 9
  echo "   booting (TCG; timeout ${boot_timeout} s)"
  rm -f "$mon"
  t0=$(now)
  qemu-system-x86_64 "${qargs[@]}" >"$out/$fw.qemu.log" 2>&1 &
  qpid=$!
  pids+=("$qpid")
  boot_s=timeout
  shot=$out/$fw-last.png
  while ((elapsed < boot_timeout)); do
    sleep 10
    elapsed=$(printf '%.0f' "$(secs "$t0" "$(now)")")
    if ! kill -0 "$qpid" 2>/dev/null; then
      echo "desktop_image: QEMU ($fw) exited early: $(tail -3 "$out/$fw.qemu.log")" >&2
      break
    fi
    reading=$(python3 "$here/bench/desktop_screen.py" "$mon" "$W/screen.png" "$W/ocr.png" 2>/dev/null) ||
      continue
    read -r dark white _ <<<"$reading"
    text=$({ tesseract "$W/screen.png" - && tesseract "$W/ocr.png" -; } 2>/dev/null | tr -s '\n ' '  ' || true)
    cp "$W/screen.png" "$out/$fw-last.png"
    printf '   %4s s  dark %s white %s  %s\n' "$elapsed" "$dark" "$white" "${text:0:110}"
    # The greeter's light dialog (a text console, "revive-laptop login:" included, has next to
    # no white) and its words: the hostname in its panel or the dialog's Dutch (or French) labels.
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.02 else 1)" "$white" &&
      grep -qiE 'revive-laptop|gebruikersnaam|wachtwoord|aanmelden|identifiant|mot de passe' <<<"$text"; then
      boot_s=$(secs "$t0" "$(now)")
      # The greeter draws its parts one by one: let it finish before the artifact shot.
      sleep 10
      shot=$out/$fw-greeter.png
      python3 "$here/bench/desktop_screen.py" "$mon" "$shot" >/dev/null
      tesseract "$shot" - 2>/dev/null >"$out/$fw-greeter.txt" || true
      break
    fi
  done
  kill "$qpid" 2>/dev/null || true
  wait "$qpid" 2>/dev/null || true
  flock -u 9
  echo "   $fw: login screen after ${boot_s} s; screenshot $shot"
}

build_image first "$recipe"
r_first=$out/build-first.json
first_s=$build_s
t0=$(now)
"$ctl" image export "$name" "$W/disk.raw" --store "$store" --no-progress >/dev/null
echo "== exported in $(secs "$t0" "$(now)") s: $(du -h --apparent-size "$W/disk.raw" | cut -f1) disk, \
$(du -h "$W/disk.raw" | cut -f1) allocated"

boot bios
bios_s=$boot_s bios_shot=$shot
uefi_s=- uefi_shot=-
if ((!quick)); then
  boot uefi
  uefi_s=$boot_s uefi_shot=$shot
fi
rm -f "$W/disk.raw"

same_s=- plus_s=- same_reuse=- plus_reuse=- extra=-
if ((!quick)); then
  build_image same "$recipe" --replace
  same_s=$build_s
  same_reuse=$(reuse_of "$out/build-same.json")
  extra=${EXTRA_PACKAGE:-$(field "$r_first" \
    "next((p for p in ('less', 'gnome-mines') if p not in j['packages']), '')")}
  [[ -n $extra ]] || { echo "desktop_image: set EXTRA_PACKAGE (less and gnome-mines are in)" >&2; exit 2; }
  mkdir -p "$W/plus"
  cp -a "$recipe" "$W/plus/$name"
  python3 - "$W/plus/$name/recipe.toml" "$extra" <<'PY'
import sys
path, pkg = sys.argv[1], sys.argv[2]
text = open(path).read()
if "packages = [\n" not in text:
    sys.exit("desktop_image: recipe.toml has no 'packages = [' line to add to")
open(path, "w").write(text.replace("packages = [\n", f'packages = [\n  "{pkg}",\n', 1))
PY
  build_image "plus-$extra" "$W/plus/$name" --replace
  plus_s=$build_s
  plus_reuse=$(reuse_of "$out/build-plus-$extra.json")
fi

{
  echo "$name bench, $(date -u +%FT%TZ), revivectl $(git -C "$here" rev-parse --short HEAD)"
  printf '%-34s %s\n' \
    "build (fresh store, .debs cached)" "$first_s s ($(field "$r_first" "j['deb_cache']['files_before']") .debs cached before, $(field "$r_first" "j['deb_cache']['files_after']") after)" \
    "rebuild unchanged" "$same_s s, reuse $same_reuse" \
    "rebuild + $extra" "$plus_s s, reuse $plus_reuse" \
    "packages installed" "$(field "$r_first" "j['package_count']")" \
    "raw disk size" "$(gib "$(field "$r_first" "j['sizes']['disk']")")" \
    "root filesystem files" "$(gib "$(field "$r_first" "j['sizes']['root_files']")")" \
    "data (non-zero chunks)" "$(gib "$(field "$r_first" "j['sizes']['data']")")" \
    "stored size (zstd chunks)" "$(gib "$(field "$r_first" "j['sizes']['stored']")")" \
    "chunks (with data)" "$(field "$r_first" "j['chunk_reuse']['data_chunks']") of up to $(field "$r_first" "j['sizes']['chunk_size'] // 2**20") MiB (cut by content)" \
    "boot to login, BIOS (SeaBIOS)" "$bios_s s" \
    "boot to login, UEFI Secure Boot" "$uefi_s s" \
    "screenshot BIOS" "$bios_shot" \
    "screenshot UEFI" "$uefi_shot"
} | tee "$out/summary.txt"
[[ $bios_s != timeout && $uefi_s != timeout ]]
