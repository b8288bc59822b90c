#!/usr/bin/env bash
# Builds image-recipes/debian-12-minimal with the real revivectl (mmdebstrap from the Debian
# mirror, .debs cached in $REVIVE_RECIPE_CACHE or /var/cache/revive-recipes), checks the disk
# (GPT with sgdisk -v, the root with e2fsck, the boot files on the ESP and in the root), exports
# the image bit-identical to the built disk, and leaves the checked disk in OUT_DIR as
# debian-12-minimal.img. It is the ctest fixture `recipe_minimal`: pxe_boot deploys that disk to
# a BIOS and a UEFI Secure Boot laptop and boots it there (so this test boots nothing itself).
# Prints each phase's seconds.
#
#   image_build_test.sh REVIVECTL RECIPES_DIR OUT_DIR
#
# Needs the Debian mirror, and root (mmdebstrap's root mode) or unprivileged user namespaces
# with a subuid range (unshare mode); exits 77 (skipped) saying which is missing.
source "$(dirname "$0")/lib.sh"
RECIPES=${2:?usage: $0 revivectl recipes-dir out-dir}
OUT=${3:?usage: $0 revivectl recipes-dir out-dir}
# A disk from an earlier run must not stand in for this one when this build fails or skips.
mkdir -p "$OUT"
rm -f "$OUT/debian-12-minimal.img" "$OUT/.debian-12-minimal.img.partial"
S=$T/store
chmod 0711 "$T"
phase_start=$SECONDS
phase() { echo "ok: $1 ($((SECONDS - phase_start)) s)"; phase_start=$SECONDS; }

if [[ $(id -u) -ne 0 ]] && ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
  echo "skipped: not root and no subuid range for $(id -un) (mmdebstrap's unshare mode needs one)"
  exit 77
fi
for t in mmdebstrap fakeroot sgdisk mkfs.ext4 mkfs.vfat mcopy grub-mkimage; do
  command -v "$t" >/dev/null || { echo "skipped: $t is missing (scripts/setup)"; exit 77; }
done

# Refusals come before any download: a bad recipe names the field; no store, no build.
mkdir -p "$T/bad"
printf 'name = "bad"\n[base]\nsuite = "bookworm"\nmirror = "http://x/debian"\n[disk]\nmin_size = "4Q"\n' \
  > "$T/bad/recipe.toml"
expect_fail "recipe.toml: disk.min_size: must be a size" ctl build "$T/bad" --store "$S"
expect_fail "give either --store DIR or --server URL" ctl build "$RECIPES/debian-12-minimal"
phase "bad recipes refused"

ctl build "$RECIPES/debian-12-minimal" --store "$S" --disk "$T/disk.img" --work "$T/work" \
  > "$T/build.out" || { cat "$T/build.out" "$T/work/build.log" | tail -40; fail "build"; }
cat "$T/build.out"
phase "built debian-12-minimal"

sgdisk -v "$T/disk.img" | grep -q "No problems found" || fail "sgdisk -v: $(sgdisk -v "$T/disk.img")"
part() {  # $1: partition number -> "offset_bytes size_bytes"
  sgdisk -i "$1" "$T/disk.img" |
    awk '/First sector/ {s=$3} /Last sector/ {e=$3} END {print s * 512, (e - s + 1) * 512}'
}
read -r root_off root_size < <(part 3)
dd if="$T/disk.img" of="$T/root.ext4" bs=1M iflag=skip_bytes,count_bytes skip="$root_off" \
  count="$root_size" conv=sparse status=none
e2fsck -fn "$T/root.ext4" >/dev/null || fail "the root filesystem does not fsck clean"
root_file() { debugfs -R "cat $1" "$T/root.ext4" 2>/dev/null; }
root_type() { debugfs -R "stat $1" "$T/root.ext4" 2>/dev/null | sed -n 's/.*Type: \([a-z]*\).*/\1/p'; }
# (captured first: grep -q closing the pipe early would fail the pipeline under pipefail)
os_release=$(root_file /usr/lib/os-release)
[[ $os_release == *VERSION_CODENAME=bookworm* ]] || fail "no os-release: $os_release"
[[ -z $(root_file /etc/machine-id) ]] || fail "/etc/machine-id is not empty"
[[ $(root_file /etc/fstab) == *"/boot/efi"* ]] || fail "fstab lacks the ESP"
[[ $(root_file /boot/grub/grub.cfg) == *"linux /vmlinuz root=UUID="* ]] || fail "no grub.cfg"
[[ $(root_type /vmlinuz) == symlink ]] || fail "no /vmlinuz symlink"
[[ $(root_type /usr/sbin/useradd) == regular ]] ||
  fail "useradd missing (the provision step's first-boot unit runs it)"
# (tzdata makes UTC a symlink to Etc/UTC; the provision step links /etc/localtime to it)
utc=$(root_type /usr/share/zoneinfo/UTC)
[[ ($utc == regular || $utc == symlink) && $(root_type /usr/share/zoneinfo/Etc/UTC) == regular ]] ||
  fail "no /usr/share/zoneinfo/UTC (the provision step sets the time zone; tzdata)"
read -r esp_off esp_size < <(part 2)
dd if="$T/disk.img" of="$T/esp.vfat" bs=1M iflag=skip_bytes,count_bytes skip="$esp_off" \
  count="$esp_size" status=none
esp=$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$T/esp.vfat" ::/EFI/BOOT)
for f in BOOTX64.EFI grubx64.efi grub.cfg; do [[ $esp == *"$f"* ]] || fail "ESP lacks $f: $esp"; done
phase "GPT, root filesystem and boot files checked"

ctl verify --store "$S" debian-12-minimal >/dev/null || fail "verify"
ctl export --store "$S" debian-12-minimal "$T/export.img" >/dev/null
cmp "$T/disk.img" "$T/export.img" || fail "the exported image differs from the built disk"
rm -f "$T/export.img" "$T/root.ext4"
report=$S/images/debian-12-minimal.build.json
python3 - "$report" <<'PY' || fail "build report"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["recipe_sha256"]) == 64, r["recipe_sha256"]
assert r["packages"]["linux-image-amd64"] and r["packages"]["shim-signed"], "package versions"
assert r["sizes"]["stored"] > 0 and r["sizes"]["disk"] == 2 << 30, r["sizes"]
assert r["chunk_reuse"]["data_chunks"] > 0, r["chunk_reuse"]
assert [s["step"] for s in r["steps"]][:2] == ["files", "mmdebstrap"], r["steps"]
PY
expect_fail "pass --replace" ctl build "$RECIPES/debian-12-minimal" --store "$S"
phase "exported bit-identical, report checked"

# Only a disk that passed every check above is handed to pxe_boot (renamed into place last).
mv "$T/disk.img" "$OUT/.debian-12-minimal.img.partial"
mv "$OUT/.debian-12-minimal.img.partial" "$OUT/debian-12-minimal.img"
phase "disk kept as $OUT/debian-12-minimal.img"
