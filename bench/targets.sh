#!/usr/bin/env bash
# Issue 19's rows, each benchmark in the run bench/README.md's table names (three runs of the
# 1,000-laptop start), one after another on a machine left quiet, then every PASS/MISS line
# they printed, under the command that printed it: the figures for the README's table and a
# closing note. Root (the wipe and deploy benchmarks need it). Not CI.
#
#   sudo bench/targets.sh [--quick]      (~20 min on the 2-core development machine; --quick:
#                                         each in its smallest run, to check the runner only)
#
# Each benchmark gets TIMEOUT seconds (default 1800); its whole output goes to $TARGET_LOGS
# (default a new directory under /var/tmp). Other load on the machine moves every figure: the
# load average is printed before the first and after the last. Exit 1 when a benchmark did not
# run to its end (a MISS is a figure, not a failure).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_args "bench/targets.sh [--quick]" "$@"
((${#args[@]} == 0)) || { echo "usage: bench/targets.sh [--quick]" >&2; exit 2; }
runner_logs targets "${TARGET_LOGS:-}"
if ((quick)); then
  runs=("wipe_bench.sh --quick --no-nwipe" "chunk_serving_bench.sh --quick" "image_bench.sh --quick"
        "deploy_bench.sh --quick" "agent_swarm.sh 200 2")
else
  runs=("wipe_bench.sh --no-nwipe 1 3" "chunk_serving_bench.sh 8 3" "image_bench.sh 2 3"
        "deploy_bench.sh 2 3" "agent_swarm.sh 1000 20" "agent_swarm.sh 1000 20" "agent_swarm.sh 1000 20")
fi
echo "bench/targets.sh $(date -u '+%Y-%m-%d %H:%M') UTC, $(git -C "$here" describe --always --dirty), load average $(cut -d' ' -f1-3 /proc/loadavg)"
run_each "$logs" "${TIMEOUT:-1800}" "${runs[@]}"
failed=$?
echo "finished $(date -u '+%H:%M') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!runs[@]}"; do
  echo
  echo "== bench/${runs[i]}"
  # The verdicts, with the lines that say what they are of: chunk serving's column names, the
  # deploy's two targets (tmpfs, disk), the push (a figure without a target).
  grep -E 'PASS|MISS|^clients |^== (tmpfs|disk):|^push to a server' "${run_logs[i]}" ||
    echo "(no verdict: see its log)"
done
((failed)) && { echo "bench/targets.sh: some benchmarks did not run to their end (their logs say why)"; exit 1; }
exit 0
