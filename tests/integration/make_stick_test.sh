#!/usr/bin/env bash
# provisioning/live/make-stick without root and without a real live image (a stand-in kernel
# and initramfs): the GPT (sgdisk -v), the ESP's files (mtools), the BIOS boot code pointing at
# core.img, the boot line in grub.cfg, the same bytes twice, and the refusals of bad input.
# Booting the stick (UEFI with Secure Boot, BIOS) is pxe_boot's part. About 3 s.
set -euo pipefail
repo=${1:?usage: $0 REPO}
make_stick=$repo/provisioning/live/make-stick
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in sgdisk mkfs.vfat mcopy grub-mkimage; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed (scripts/setup)"; exit 77; }
done
[[ -r /usr/lib/shim/shimx64.efi.signed && -r /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed ]] ||
  { echo "SKIPPED: shim-signed or grub-efi-amd64-signed is not installed"; exit 77; }
mkdir "$T/live"
head -c 3000000 /dev/urandom > "$T/live/vmlinuz"
head -c 9000000 /dev/urandom > "$T/live/initrd.img"
export SOURCE_DATE_EPOCH=1700000000

"$make_stick" "$T/live" "$T/a.img" http://10.0.0.2:8080 "console=ttyS0,115200" >/dev/null
sgdisk -v "$T/a.img" | grep -q "No problems found" || fail "sgdisk -v finds problems"
sgdisk -p "$T/a.img" | grep -Eq '^ +1 +2048 +4095 .*EF02' || fail "no BIOS boot partition at 2048"
sgdisk -p "$T/a.img" | grep -Eq '^ +2 +4096 .*EF00' || fail "no EFI system partition at 4096"
esp=$T/a.img@@2M
export MTOOLS_SKIP_CHECK=1
for f in /EFI/BOOT/BOOTX64.EFI /EFI/BOOT/grubx64.efi /EFI/BOOT/grub.cfg /EFI/debian/grub.cfg \
         /boot/grub/grub.cfg /live/vmlinuz /live/initrd.img /REVIVE.TXT; do
  mtype -i "$esp" "::$f" >/dev/null 2>&1 || fail "$f is not on the ESP"
done
cmp <(mtype -i "$esp" ::/EFI/BOOT/BOOTX64.EFI) /usr/lib/shim/shimx64.efi.signed || fail "BOOTX64.EFI is not Debian's signed shim"
cmp <(mtype -i "$esp" ::/live/initrd.img) "$T/live/initrd.img" || fail "the initramfs on the stick differs"
cfg=$(mtype -i "$esp" ::/EFI/BOOT/grub.cfg)
guid=$(sgdisk -p "$T/a.img" | awk '/Disk identifier \(GUID\)/ {print tolower($4)}')
[[ $cfg == *"linux /live/vmlinuz revive.agent=1 revive.stick=$guid revive.server=http://10.0.0.2:8080 console=ttyS0,115200"* ]] ||
  fail "grub.cfg does not boot the live agent with this stick's GUID and server: $cfg"
# boot.img in the MBR points at core.img (LBA 2048), whose first sector lists the rest of it.
python3 - "$T/a.img" <<'PY' || fail "the BIOS boot code does not point at core.img"
import struct, sys
d = open(sys.argv[1], "rb").read(2049 * 512)
assert d[510:512] == b"\x55\xaa" and d[0x1c2] == 0xee, "protective MBR kept"
assert struct.unpack_from("<Q", d, 0x5c)[0] == 2048, "boot.img's kernel sector"
start, length, segment = struct.unpack_from("<QHH", d, 2048 * 512 + 500)
assert (start, segment) == (2049, 0x820) and 0 < length < 2048, (start, length, segment)
PY

"$make_stick" "$T/live" "$T/b.img" http://10.0.0.2:8080 "console=ttyS0,115200" >/dev/null
cmp "$T/a.img" "$T/b.img" || fail "the same inputs gave a different stick"
# Without a server address the stick leaves the server to DHCP.
"$make_stick" "$T/live" "$T/c.img" >/dev/null
[[ $(mtype -i "$T/c.img@@2M" ::/boot/grub/grub.cfg) != *revive.server=* ]] || fail "a server on a stick made without one"

out=$("$make_stick" "$T/live" "$T/d.img" 'http://10.0.0.2:8080;reboot' 2>&1) && fail "a hostile server URL was taken"
[[ $out == *"must be http://HOST[:PORT]"* ]] || fail "no clear refusal: $out"
out=$("$make_stick" "$T/live" "$T/d.img" "" 'quiet" init=/bin/sh' 2>&1) && fail "a quote in the kernel arguments was taken"
[[ $out == *"must not hold quotes"* ]] || fail "no clear refusal: $out"
out=$("$make_stick" "$T/nothing" "$T/d.img" 2>&1) && fail "a missing live image was taken"
[[ $out == *"is missing"* ]] || fail "no clear refusal: $out"
[[ ! -e $T/d.img && ! -e $T/d.img.tmp ]] || fail "a refused stick left a file"
echo "ok: make-stick"
