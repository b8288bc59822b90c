#!/usr/bin/env bash
# Imports from the tools workshops already use, through the real revivectl binary: VM disks
# made by qemu-img from a known raw disk export bit-identical; Clonezilla-style directories
# made with partclone from a known ext4 export with the same used blocks and fsck clean; bad
# input is refused naming the file. Needs qemu-utils, libnbd-bin, partclone (77 = skipped).
source "$(dirname "$0")/lib.sh"
for tool in qemu-img qemu-nbd nbdcopy partclone.ext4 partclone.dd partclone.restore sfdisk \
  debugfs zstd xz; do
  command -v "$tool" >/dev/null || { echo "skip: $tool missing (scripts/setup installs it)"; exit 77; }
done
S=$T/store
MiB=$((1024 * 1024))
# partclone's `-f 0`: no progress interval, which it otherwise waits out once more at exit
# (2 s by default). Fine for these 8 MiB filesystems; the importer itself uses -f 1.

# The known disk: GPT, p1 ext4 (8 MiB, files on it, its free blocks full of old random
# data, as on a used laptop), p2 raw random data (2 MiB), a gap of zeros, 16 MiB in all.
head -c $((8 * MiB)) /dev/urandom >"$T/p1.img"
mkfs.ext4 -q -F -b 1024 -E nodiscard "$T/p1.img"
head -c $((2 * MiB)) /dev/urandom >"$T/payload"
debugfs -w "$T/p1.img" -R "write $T/payload payload" >/dev/null 2>&1
debugfs -w "$T/p1.img" -R "mkdir docs" >/dev/null 2>&1
debugfs -w "$T/p1.img" -R "write /etc/services docs/services" >/dev/null 2>&1
head -c $((2 * MiB)) /dev/urandom >"$T/p2.img"
truncate -s $((16 * MiB)) "$T/disk.img"
sfdisk -q "$T/disk.img" <<EOF
label: gpt
start=2048, size=16384, type=L, name="root"
start=20480, size=4096, type=L, name="data"
EOF
dd if="$T/p1.img" of="$T/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$T/p2.img" of="$T/disk.img" bs=1M seek=10 conv=notrunc status=none

# 1. VM disks: each format streams through qemu-nbd + nbdcopy and exports bit-identical.
for fmt in qcow2 vmdk vhdx vdi; do
  qemu-img convert -O "$fmt" "$T/disk.img" "$T/disk.$fmt"
  out=$(ctl import --store "$S" --name "vm-$fmt" "$T/disk.$fmt")
  [[ $out == *"$fmt streamed through qemu-nbd and nbdcopy"* ]] || fail "$fmt path: $out"
  ctl export --store "$S" "vm-$fmt" "$T/vm-$fmt.out" >/dev/null
  cmp "$T/disk.img" "$T/vm-$fmt.out" || fail "$fmt export differs from the raw disk"
done
# VHD rounds its size up to a CHS geometry unless told not to.
qemu-img convert -O vpc -o force_size "$T/disk.img" "$T/disk.vhd"
ctl import --store "$S" --name vm-vhd "$T/disk.vhd" >/dev/null
ctl export --store "$S" vm-vhd "$T/vm-vhd.out" >/dev/null
cmp "$T/disk.img" "$T/vm-vhd.out" || fail "vhd export differs from the raw disk"
# A fixed VHD is the raw disk plus a footer: only its last sector says so.
qemu-img convert -O vpc -o subformat=fixed,force_size "$T/disk.img" "$T/fixed.vhd"
out=$(ctl import --store "$S" --name vm-fixed "$T/fixed.vhd")
[[ $out == *"vpc streamed"* ]] || fail "fixed VHD imported raw: $out"
ctl export --store "$S" vm-fixed "$T/vm-fixed.out" >/dev/null
cmp "$T/disk.img" "$T/vm-fixed.out" || fail "fixed vhd export differs from the raw disk"
ok "qcow2, vmdk, vhdx, vdi, vhd (dynamic and fixed) export bit-identical"

# 2. Clonezilla directory: partition table copies, partclone images compressed and split.
cz=$T/clonezilla/2026-12-02-img
mkdir -p "$cz"
echo sda >"$cz/disk"
echo "sda1 sda2" >"$cz/parts"
touch "$cz/clonezilla-img"
sfdisk -d "$T/disk.img" | sed "s#$T/disk.img#/dev/sda#" >"$cz/sda-pt.sf"
dd if="$T/disk.img" of="$cz/sda-mbr" bs=512 count=1 status=none
dd if="$T/disk.img" of="$cz/sda-gpt-1st" bs=512 count=34 status=none
dd if="$T/disk.img" of="$cz/sda-gpt-2nd" bs=512 skip=$((16 * 2048 - 33)) status=none
partclone.ext4 -q -f 0 -c -s "$T/p1.img" -o - -L "$T/ptcl.log" 2>/dev/null | zstd -q -c \
  | split -b 512K - "$cz/sda1.ext4-ptcl-img.zst."
partclone.dd -q -f 0 -s "$T/p2.img" -o - -L "$T/ptcl.log" 2>/dev/null | xz -0 -c \
  | split -b 1M - "$cz/sda2.dd-ptcl-img.xz."
[[ -e $cz/sda1.ext4-ptcl-img.zst.ab ]] || fail "the test's ext4 image was not split"
out=$(ctl import --store "$S" --name cz --chunk-size 64K "$cz/")
[[ $out == *"Clonezilla image restored through partclone"* ]] || fail "clonezilla path: $out"
ctl export --store "$S" cz "$T/cz.out" >/dev/null
cmp -n $MiB "$T/disk.img" "$T/cz.out" || fail "clonezilla: the first MiB (MBR, GPT) differs"
cmp -i $((10 * MiB)) -n $((6 * MiB)) "$T/disk.img" "$T/cz.out" ||
  fail "clonezilla: the dd partition, the gap or the backup GPT differs"
dd if="$T/cz.out" of="$T/cz-p1.img" bs=1M skip=1 count=8 status=none
e2fsck -fn "$T/cz-p1.img" >/dev/null 2>&1 || fail "clonezilla: restored ext4 does not fsck clean"
# Used blocks identical: the restored filesystem is the source with its free blocks zeroed.
partclone.ext4 -q -f 0 -c -s "$T/p1.img" -o - -L "$T/ptcl.log" 2>/dev/null |
  partclone.restore -q -f 0 -C -L "$T/ptcl.log" -s - -o - 2>/dev/null >"$T/p1-used.img"
cmp "$T/p1-used.img" "$T/cz-p1.img" || fail "clonezilla: used blocks differ"
cmp -s "$T/p1.img" "$T/cz-p1.img" && fail "clonezilla: free blocks were not dropped"
debugfs -R "cat payload" "$T/cz-p1.img" 2>/dev/null | cmp - "$T/payload" || fail "payload"
# Only used blocks are stored: the ext4's free blocks (about 5 MiB) became holes.
data=$(ctl info --store "$S" --json cz | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_bytes"])')
((data < 8 * MiB)) || fail "clonezilla stored $data bytes of data (free blocks kept?)"
ok "clonezilla directory (zstd + xz, split) restores: tables and dd identical, ext4 used blocks identical, fsck clean"

# 2b. Older or partial directories: no sector copies of the GPT, only sgdisk's backup, or only
#     the sfdisk dump. The table comes back the same (sfdisk -d), the data too.
for variant in gdisk dump; do
  v=$T/clonezilla/$variant
  cp -r "$cz" "$v"
  rm "$v/sda-gpt-1st" "$v/sda-gpt-2nd"
  [[ $variant == gdisk ]] && sgdisk -q --backup="$v/sda-gpt.gdisk" "$T/disk.img" >/dev/null
  ctl import --store "$S" --name "cz-$variant" "$v" >/dev/null
  ctl export --store "$S" "cz-$variant" "$T/cz-$variant.out" >/dev/null
  [[ $(sfdisk -d "$T/cz-$variant.out" | sed "s#$T/cz-$variant.out#DISK#") == \
    $(sfdisk -d "$T/disk.img" | sed "s#$T/disk.img#DISK#") ]] ||
    fail "clonezilla ($variant): the partition table differs"
  sgdisk -v "$T/cz-$variant.out" | grep -q "No problems found" || fail "clonezilla ($variant): sgdisk -v"
  cmp -i $MiB -n $((15 * MiB)) "$T/cz.out" "$T/cz-$variant.out" || fail "clonezilla ($variant): data"
done
ok "clonezilla directory with only sgdisk's backup, or only the sfdisk dump"

# 3. Clonezilla MBR disk with a logical swap partition that has no image (Clonezilla saves
#    none): the EBR comes from sfdisk, the boot code from sda-mbr, the swap stays empty.
truncate -s $((16 * MiB)) "$T/mbr.img"
sfdisk -q "$T/mbr.img" <<EOF
label: dos
start=2048, size=16384, type=83
start=18432, type=5
start=20480, size=8192, type=82
EOF
printf 'BOOTCODE' | dd of="$T/mbr.img" conv=notrunc status=none
dd if="$T/p1.img" of="$T/mbr.img" bs=1M seek=1 conv=notrunc status=none
mz=$T/clonezilla/mbr-img
mkdir -p "$mz"
echo sdb >"$mz/disk"
echo sdb1 >"$mz/parts"
sfdisk -d "$T/mbr.img" | sed "s#$T/mbr.img#/dev/sdb#" >"$mz/sdb-pt.sf"
printf 'Disk /dev/sdb: %ds\n' $((16 * 2048)) >"$mz/sdb-pt.parted"
dd if="$T/mbr.img" of="$mz/sdb-mbr" bs=512 count=1 status=none
partclone.ext4 -q -f 0 -c -s "$T/p1.img" -o - -L "$T/ptcl.log" 2>/dev/null | gzip -1 >"$mz/sdb1.ext4-ptcl-img.gz.aa"
out=$(ctl import --store "$S" --name cz-mbr "$mz")
[[ $out == *"sdb5: no image"* ]] || fail "the swap partition left empty is not reported: $out"
ctl export --store "$S" cz-mbr "$T/cz-mbr.out" >/dev/null
cmp -n $MiB "$T/mbr.img" "$T/cz-mbr.out" || fail "clonezilla MBR: boot code or table differs"
cmp -i $((9 * MiB)) -n $((7 * MiB)) "$T/mbr.img" "$T/cz-mbr.out" || fail "clonezilla MBR: EBR differs"
sfdisk -d "$T/cz-mbr.out" | grep -q 'type=82' || fail "clonezilla MBR: logical partition lost"
ok "clonezilla MBR directory: boot code, EBR, gzip image"

# 4. Bad input is refused with a message naming the file; nothing is published.
printf 'hello\n' >"$T/notes.txt"
{ printf 'LUKS\xba\xbe\x00\x02'; head -c 4088 /dev/zero; } >"$T/luks.img"
qemu-img convert -O qcow2 "$T/luks.img" "$T/luks.qcow2"  # refused from the converted stream
tar -cf "$T/rootfs.tar" -C "$T" notes.txt
mkdir -p "$T/fog/win10" "$T/plain-dir" "$T/cz-broken"
touch "$T/fog/win10/d1.partitions" "$T/fog/win10/d1p1.img" "$T/fog/win10/d1.mbr"
echo sda >"$T/cz-broken/disk"
echo sda1 >"$T/cz-broken/parts"
while IFS='|' read -r file words; do
  expect_fail "$words" ctl import --store "$S" --name bad "$file"
  expect_fail "$file" ctl import --store "$S" --name bad "$file"
done <<EOF
$T/notes.txt|no partition table (MBR/GPT), no filesystem signature
$T/luks.img|is a LUKS encrypted volume
$T/luks.qcow2|is a LUKS encrypted volume
$T/rootfs.tar|is not a disk image: it is a tar archive
$T/fog/win10|is a FOG image directory
$T/plain-dir|not a Clonezilla image directory
$T/cz-broken|sda-pt.sf
$cz/sda1.ext4-ptcl-img.zst.aa|not a disk image: it is a zstd-compressed file
EOF
ctl list --store "$S" | grep -q '^bad ' && fail "a refused input was published"
ctl import --store "$S" --name notes --raw "$T/notes.txt" >/dev/null || fail "--raw"
ok "bad input refused naming the file; --raw imports it anyway"
echo "image_import_formats_test: all passed"
