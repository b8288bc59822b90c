#!/usr/bin/env bash
# Round trips through the real revivectl binary, checked with cmp.
source "$(dirname "$0")/lib.sh"
S=$T/store

roundtrip() {  # name file [import options...]
  local name=$1 file=$2; shift 2
  ctl import --store "$S" --name "$name" "$@" "$file" >/dev/null
  ctl verify --store "$S" "$name" >/dev/null || fail "verify $name"
  ctl export --store "$S" "$name" "$T/$name.out" >/dev/null
  cmp "$file" "$T/$name.out" || fail "$name differs after export"
  ok "$name round trip ($(stat -c %s "$file") bytes)"
}

# 1. random data, size not a multiple of the chunk size (nor of 512: no disk, hence --raw)
head -c $((9 * 1024 * 1024 + 1234567)) /dev/urandom > "$T/random.img"
roundtrip random "$T/random.img" --raw

# 2. sparse file with scattered data regions
truncate -s 200M "$T/sparse.img"
for off in 0 3 17 64 65 150 199; do
  head -c 300000 /dev/urandom | dd of="$T/sparse.img" bs=1M seek=$off conv=notrunc status=none
done
printf 'tail' | dd of="$T/sparse.img" bs=1 seek=$((200 * 1024 * 1024 - 4)) conv=notrunc status=none
roundtrip sparse "$T/sparse.img"
[[ $(du -k "$T/sparse.out" | cut -f1) -lt 20000 ]] || fail "export of a sparse image is not sparse"

# 3. a real ext4 filesystem from a real directory tree, inside a GPT disk
src_tree=/usr/share/doc
[[ -d $src_tree ]] || src_tree=/usr/include
mkfs.ext4 -q -F -d "$src_tree" -L revive-test "$T/fs.img" 300M
roundtrip ext4 "$T/fs.img"
e2fsck -fn "$T/ext4.out" >/dev/null || fail "exported ext4 does not fsck clean"
# the same with content-defined chunks (what recipe builds use): bit-identical, manifest version 2
roundtrip ext4-content "$T/fs.img" --content-chunks
ctl info --store "$S" --json ext4-content | python3 -c 'import json,sys; m=json.load(sys.stdin); assert m["format_version"]==2, m["format_version"]' \
  || fail "--content-chunks did not write manifest version 2"
ctl info --store "$S" ext4 | grep -q "partition table: none" || fail "info on a bare filesystem"

# 4. the odd chunk size and a tiny image
head -c 70000 /dev/urandom > "$T/tiny.img"
roundtrip tiny "$T/tiny.img" --chunk-size 64K --raw

# 5. dedup across images: the same filesystem again under another name stores nothing new
out=$(ctl import --store "$S" --name ext4-again "$T/fs.img")
[[ $out == *" 0 new chunks"* ]] || fail "re-import stored new chunks: $out"
ok "dedup across images"

# 6. list / info / rm / gc
ctl list --store "$S" | grep -q '^ext4-again' || fail "list"
ctl info --store "$S" random | grep -q 'signature:       OK' || fail "info signature"
ctl info --store "$S" --json random | python3 -c 'import json,sys; m=json.load(sys.stdin); assert m["name"]=="random"' \
  || fail "info --json"
ctl rm --store "$S" random >/dev/null
expect_fail 'no image named "random"' ctl info --store "$S" random
gc=$(ctl gc --store "$S")
[[ $gc == "removed 3 unreferenced chunks"* ]] || fail "gc: $gc"
ctl verify --store "$S" --all >/dev/null || fail "store verify --all after gc"
ok "list/info/rm/gc"

# 7. bad input: clear errors, non-zero exits, nothing published
expect_fail "No such file" ctl import --store "$S" --name x "$T/missing.img"
expect_fail "directory" ctl import --store "$S" --name x "$T"
: > "$T/empty.img"
expect_fail "empty" ctl import --store "$S" --name x "$T/empty.img"
printf 'QFI\xfb\0\0\0\3' > "$T/disk.qcow2"; head -c 4096 /dev/zero >> "$T/disk.qcow2"
expect_fail "qemu-img" ctl import --store "$S" --name x "$T/disk.qcow2"
gzip -c "$T/tiny.img" > "$T/tiny.img.gz"
expect_fail "gzip" ctl import --store "$S" --name x "$T/tiny.img.gz"
expect_fail "already exists" ctl import --store "$S" --name ext4 "$T/fs.img"
expect_fail "power of two" ctl import --store "$S" --name x --chunk-size 3M "$T/tiny.img"
expect_fail "letters, digits" ctl import --store "$S" --name "a/b" "$T/tiny.img"
expect_fail "no Revive image store" ctl list --store "$T/nowhere"
expect_fail "already exists" ctl export --store "$S" ext4 "$T/fs.img"
mkdir -p "$T/notastore"; echo precious > "$T/notastore/file"
expect_fail "not a Revive store" ctl import --store "$T/notastore" --name x "$T/tiny.img"
[[ $(cat "$T/notastore/file") == precious ]] || fail "touched a foreign directory"
ctl list --store "$S" | grep -q '^x ' && fail "a failed import published an image"
rc=0; "$REVIVECTL" image import --store "$S" 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "usage error should exit 2, got $rc"
ok "bad input refused"

# 8. a block device opened read-only (loop device), when the machine allows it
if [[ $(id -u) -eq 0 && -e /dev/loop-control ]] && loop=$(losetup --find --show --read-only "$T/fs.img" 2>/dev/null); then
  cleanup_hooks+=("losetup -d $loop")
  ctl import --store "$S" --name fromloop "$loop" >/dev/null
  ctl export --store "$S" fromloop "$T/fromloop.out" >/dev/null
  cmp "$T/fs.img" "$T/fromloop.out" || fail "loop device round trip"
  ok "block device round trip ($loop)"
else
  echo "skip: block-device import needs root and /dev/loop-control"
fi
echo "image_tool_test: all passed"
