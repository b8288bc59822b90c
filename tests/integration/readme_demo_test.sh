#!/usr/bin/env bash
# The README's first command, scripts/demo, run end to end with this build's binaries
# (REVIVE_DEMO_BIN), then its output checked for what it shows working: the export
# bit-identical, the damaged chunk caught, five laptops imaged and fitted, the certificate
# authentic and its tampered copy refused, the finished laptop sent to its own disk. The demo
# stayed broken for days once because nothing ran it. About 1 minute.
set -euo pipefail
repo=${1:?usage: $0 REPO BINDIR}
bindir=${2:?usage: $0 REPO BINDIR}
T=$(mktemp -d "${TMPDIR:-/var/tmp}/revive-demo-test-XXXXXX"); trap 'rm -rf "$T"' EXIT
chmod 711 "$T"  # run as root, revive-server's operator command drops to the revive account
fail() { echo "FAIL: $*" >&2; exit 1; }
log=$T/demo.log
REVIVE_DEMO_BIN=$bindir REVIVE_DEMO_DIR=$T/demo "$repo/scripts/demo" > "$log" 2>&1 ||
  { tail -40 "$log"; fail "scripts/demo exited non-zero (above: the end of its output)"; }
expect() {  # COUNT PATTERN WHAT
  local n; n=$(grep -cE -- "$2" "$log" || true)
  [[ $n -ge $1 ]] || { tail -60 "$log"; fail "$3: expected $1 line(s) matching '$2', found $n"; }
}
expect 1 '^bit-identical\.$' "the exported image is not bit-identical"
# Named whichever way it fails (the frame refused by zstd, or its content not its hash).
expect 1 'BAD chunk at offset [0-9]+ \(extent [0-9]+\): chunk [0-9a-f]{64}' \
  "the damaged chunk was not named"
expect 5 ': No problems found' "not every laptop's disk has a valid GPT"
expect 5 'chunks written, read-back of [0-9]+ samples: ok; partition 1 grown' "not every laptop was imaged and fitted"
expect 1 '^authentic laptop certificate ' "the certificate did not verify"
expect 1 'NOT AUTHENTIC: .*tampered\.json' "the tampered certificate was not refused"
expect 1 'finished its workflow: boot the local disk' "the finished laptop was not sent to its disk"
echo "scripts/demo: ran to the end and showed every step working"
