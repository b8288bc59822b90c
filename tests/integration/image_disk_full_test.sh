#!/usr/bin/env bash
# The store's filesystem fills up mid-import: clear error, non-zero exit, no image published,
# and the store still verifies. Needs root to mount a small tmpfs; exits 77 (skip) otherwise.
source "$(dirname "$0")/lib.sh"
if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root to mount a tmpfs"; exit 77; fi
mkdir -p "$T/small"
mount -t tmpfs -o size=24m tmpfs "$T/small" || { echo "skip: cannot mount tmpfs here"; exit 77; }
cleanup_hooks+=("umount $T/small")
S=$T/small/store
head -c $((48 * 1024 * 1024)) /dev/urandom > "$T/big.img"
# Refused before writing, naming both sizes (statvfs on the store)...
expect_fail "(50331648 bytes) in the store" ctl import --store "$S" --name big "$T/big.img"
expect_fail "free: remove images" ctl import --store "$S" --name big "$T/big.img"
# ...and when told to try anyway, the full disk mid-import is handled.
expect_fail "No space left on device" ctl import --store "$S" --name big --no-space-check "$T/big.img"
[[ ! -e $S/images/big.json ]] || fail "a failed import published its manifest"
ctl verify --store "$S" --all >/dev/null 2>&1 || true
out=$(ctl verify --store "$S" --all 2>&1 || true)
[[ $out == *"0 bad"* ]] || fail "store damaged by a full disk: $out"
# After freeing space (gc), a smaller import works.
ctl gc --store "$S" >/dev/null
head -c $((4 * 1024 * 1024)) /dev/urandom > "$T/small.img"
ctl import --store "$S" --name small "$T/small.img" >/dev/null || fail "import after gc"
ok "disk full handled"
echo "image_disk_full_test: all passed"
