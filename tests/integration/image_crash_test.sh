#!/usr/bin/env bash
# Kill imports at random points (SIGKILL: no cleanup code runs). After every kill the store must
# still verify completely, hold no partial chunk under a real name and no manifest for the
# killed import; re-running the import must complete.
source "$(dirname "$0")/lib.sh"
S=$T/store
# 96 MiB, compressible enough to take a while, with zero runs.
python3 - "$T/in.img" <<'PY'
import os, random, sys
random.seed(7)
words = [b"revive ", b"laptop ", b"chunk ", b"image ", b"\n", b"0123456789 "]
with open(sys.argv[1], "wb") as f:
    for i in range(96):
        if i % 5 == 3:
            f.write(b"\0" * (1 << 20))
        else:
            block = b"".join(random.choice(words) for _ in range(20000))
            f.write((block * 20)[: 1 << 20])
PY
ctl import --store "$S" --name base "$T/in.img" --chunk-size 1M --threads 2 >/dev/null  # an existing image must survive
head -c 1000448 /dev/urandom >> "$T/in.img"   # so the new import has chunks of its own too

runs=${CRASH_RUNS:-8}
for i in $(seq 1 "$runs"); do
  name=crash$i
  "$REVIVECTL" image import --no-progress --store "$S" --name $name "$T/in.img" --chunk-size 64K --threads 2 >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' $(( RANDOM % 400 + 20 )))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  out=$(ctl verify --store "$S" --all 2>&1) || {
    # stray temp files are expected after a kill; only bad chunks or images are failures
    [[ $out == *"0 bad"* && $out != *"FAILED"* ]] || fail "store does not verify after kill $i: $out"
  }
  [[ $out != *"BAD"* ]] || fail "bad data after kill $i: $out"
  if [[ -e $S/images/$name.json ]]; then
    ctl verify --store "$S" $name >/dev/null || fail "published image $name does not verify"
    echo "run $i: import finished before the kill"
  else
    echo "run $i: killed mid-import; $(ls "$S/tmp" | wc -l) temp files left"
  fi
done

# Re-import completes (reusing chunks that made it) and exports bit-identical.
ctl import --store "$S" --name final "$T/in.img" --chunk-size 64K --threads 2 >/dev/null
ctl export --store "$S" final "$T/final.out" >/dev/null
cmp "$T/in.img" "$T/final.out" || fail "re-import after kills does not round trip"
ctl gc --store "$S" >/dev/null
ctl verify --store "$S" --all >/dev/null || fail "store after gc"
[[ -z $(ls "$S/tmp") ]] || fail "gc left temp files"
ok "store survived $runs kills"
echo "image_crash_test: all passed"
