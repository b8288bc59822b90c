#!/usr/bin/env bash
# Damage a store in every way the issue lists; revivectl must name what is wrong and exit 1,
# and export must leave no file behind.
source "$(dirname "$0")/lib.sh"
S=$T/store
head -c $((6 * 1024 * 1024)) /dev/urandom > "$T/a.img"
ctl import --store "$S" --name a "$T/a.img" --chunk-size 1M >/dev/null
chunk_of() {  # path of the stored chunk at extent $1
  local sha
  sha=$(ctl info --store "$S" --json a | python3 -c "import json,sys; print(json.load(sys.stdin)['extents'][$1]['sha256'])")
  echo "$S/chunks/${sha:0:2}/$sha.zst"
}
reset_store() { rm -rf "$S"; ctl import --store "$S" --name a "$T/a.img" --chunk-size 1M >/dev/null; }

check_bad() {  # words...
  local out rc=0
  out=$(ctl verify --store "$S" a 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "verify should exit 1 (got $rc): $out"
  for w in "$@"; do [[ $out == *"$w"* ]] || fail "verify output lacks \"$w\": $out"; done
  expect_fail "revivectl: error: " ctl export --store "$S" a "$T/out.img"
  [[ ! -e $T/out.img ]] || fail "export left a file behind"
  ls -a "$T" | grep -q partial && fail "export left a partial file"
  return 0
}

c=$(chunk_of 2)
python3 - "$c" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x01
open(p, 'wb').write(b)
PY
check_bad "BAD chunk at offset 2097152" "$(basename "$c" .zst)"
ok "flipped byte named"

reset_store; c=$(chunk_of 3)
truncate -s $(( $(stat -c %s "$c") / 2 )) "$c"
check_bad "BAD chunk at offset 3145728" "truncated"
ok "truncated chunk named"

reset_store; c=$(chunk_of 4)
rm "$c"
check_bad "BAD chunk at offset 4194304" "missing from the store"
ok "deleted chunk named"

reset_store
sed -i 's/"logical_size":6291456/"logical_size":6291457/' "$S/images/a.json"
check_bad "manifest"
reset_store
sed -i 's/"source":"raw:a.img"/"source":"raw:b.img"/' "$S/images/a.json"
check_bad "signature BAD" "edited after signing"
ok "edited manifest refused"

# A manifest signed by another store's key: refused, unless that key is explicitly trusted.
reset_store
S2=$T/other
ctl import --store "$S2" --name a "$T/a.img" --chunk-size 1M >/dev/null
cp "$S2/images/a.json" "$S/images/a.json"
check_bad "signature BAD" "not by the trusted key"
ctl verify --store "$S" a --pubkey "$S2/keys/ed25519.pub" >/dev/null || fail "--pubkey should trust the other key"
ok "foreign signature refused"

# Store-wide check finds damage in unreferenced chunks too.
reset_store
ctl rm --store "$S" a >/dev/null
c=$(ls "$S"/chunks/*/*.zst | head -1)
printf 'junk' >> "$c"
expect_fail "BAD chunk file" ctl verify --store "$S" --all
ok "store-wide check"
echo "image_corruption_test: all passed"
