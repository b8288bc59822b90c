# Shared helpers for the shell integration tests. Each test gets its own temp dir, removed on exit.
set -euo pipefail
REVIVECTL=${1:?usage: $0 path/to/revivectl}
T=$(mktemp -d "${TMPDIR:-/tmp}/revive-it-XXXXXX")
cleanup_hooks=()
cleanup() {
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# expect_fail "words" cmd...: cmd must exit non-zero and print `words` (stdout or stderr).
expect_fail() {
  local words=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || fail "expected failure from: $* (output: $out)"
  [[ $out == *"$words"* ]] || fail "expected \"$words\" in output of: $*; got: $out"
}
ctl() { "$REVIVECTL" image "$@" --no-progress; }
