# Shared by the bench scripts (sourced). Expects $here (repo root) and $W (work dir) set, and
# a `pids` array that the caller's cleanup kills.

# bench_args USAGE ARG... : `--quick` sets quick=1, any other option prints "usage: USAGE" and
# exits 2, the rest (sizes, seconds, rounds) go to the array `args` in order.
bench_args() {
  local usage=$1 a
  shift
  quick=0
  args=()
  for a in "$@"; do
    case $a in
      --quick) quick=1 ;;
      -*) echo "usage: $usage" >&2; exit 2 ;;
      *) args+=("$a") ;;
    esac
  done
}

# bench_build TARGET... : release build of the named targets (incremental: a stale binary
# from an older checkout would measure the wrong code). BENCH_BUILD=DIR uses the binaries in
# DIR/bin as they are (another checkout's build; a debug build checks a script's steps only).
# Configured with the bench's own helpers (agent_swarm, workshop_sim), which are targets only then.
bench_build() {
  if [[ -n ${BENCH_BUILD:-} ]]; then build=$BENCH_BUILD; return; fi
  build=$here/build/release
  cmake --preset release -S "$here" -DREVIVE_BUILD_BENCH=ON >/dev/null &&
    cmake --build "$build" --target "$@" >/dev/null
}

# make_os_image SIZE_GIB OUT : a real ext4 image from OS files on this machine
# (/usr/lib/x86_64-linux-gnu + /usr/include, ~1.4 GB; below 2 GiB only /usr/include, ~0.3 GB,
# for --quick runs), written non-sparse; sets $bytes.
make_os_image() {
  local size_gib=$1 out=$2
  mkdir -p "$W/tree"
  if python3 -c "import sys; sys.exit(0 if $size_gib >= 2 else 1)"; then
    cp -a /usr/lib/x86_64-linux-gnu "$W/tree/lib" 2>/dev/null || true
  fi
  cp -a /usr/include "$W/tree/include"
  bytes=$(python3 -c "print(int($size_gib * 1024**3) // 4096 * 4096)")
  mkfs.ext4 -q -F -d "$W/tree" "$W/sparse.img" "$((bytes / 1024))k"
  rm -rf "$W/tree"
  cp --sparse=never "$W/sparse.img" "$out" && rm "$W/sparse.img"
}

# start_revive_server : revive-server on 127.0.0.1, state in $W/state; sets $rport.
# REVIVE_SERVER=PATH starts another binary (an older build, for a before/after).
start_revive_server() {
  chmod 711 "$W"  # started as root, revive-server runs as user revive: let it reach its state
  "${REVIVE_SERVER:-$build/bin/revive-server}" --demo --state "$W/state" --listen 127.0.0.1:0 2> "$W/server.log" &
  pids+=($!)
  for _ in $(seq 50); do grep -q 'listening on .* port [0-9]' "$W/server.log" && break; sleep 0.1; done
  rport=$(sed -n 's/.*listening on .* port \([0-9]*\).*/\1/p' "$W/server.log" | head -1)
}

# bench_operator : an operator in $W/state, made by the binary start_revive_server runs; sets
# $token to its API token.
bench_operator() {
  local server=${REVIVE_SERVER:-$build/bin/revive-server}
  "$server" --state "$W/state" operator add bench <<< "bench password 1" > /dev/null
  token=$("$server" --state "$W/state" operator token bench)
}

# free_port : a TCP port on 127.0.0.1 nothing listens on now (the kernel's choice).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx PORT 'LOCATION BLOCKS' : nginx (sendfile, all cores) on 127.0.0.1:PORT.
# NGINX_WORKERS=N runs N worker processes instead of one per core.
start_nginx() {
  local port=$1 locations=$2
  mkdir -p "$W/nginx"
  cat > "$W/nginx.conf" <<NGX
user root;  # the store is owner-only (umask 077), like the server's state
worker_processes ${NGINX_WORKERS:-auto};
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
  uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
  server {
    listen 127.0.0.1:$port backlog=4096;  # a burst of connections, as revive-server allows
    $locations
  }
}
NGX
  nginx -c "$W/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  sleep 0.5
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "nginx did not start (above: why)" >&2; exit 1; }
}

# The CPU time (user + system) process PID has used so far, in milliseconds.
process_cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1000 / t}' "/proc/$1/stat"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# runner_logs NAME [DIR] : for the scripts that run the others (smoke.sh, targets.sh): refuses
# to go on without root (some benchmarks need it), then sets $logs to DIR, or to a new
# directory under /var/tmp, made.
runner_logs() {
  [[ $(id -u) -eq 0 ]] || { echo "bench/$1.sh: run as root (sudo): some benchmarks need it" >&2; exit 2; }
  logs=${2:-$(mktemp -d "/var/tmp/revive-bench-$1-XXXXXX")}
  mkdir -p "$logs"
}

# run_each LOGS LIMIT RUN... : each RUN ("script.sh arg...", a script under bench/) in turn, its
# output to LOGS/NN-script.log, at most LIMIT seconds each; prints a line per run (its result,
# seconds and log) and returns 1 when any exited non-zero or timed out. The logs are numbered
# because a script may run more than once; their paths, in order, are left in `run_logs`.
run_each() {
  local logs=$1 limit=$2 run log n=0 start rc result failed=0
  shift 2
  local -a cmd
  run_logs=()
  printf '%-36s %-8s %6s  %s\n' benchmark result secs log
  for run in "$@"; do
    read -r -a cmd <<< "$run"
    n=$((n + 1))
    log=$logs/$(printf '%02d' $n)-${cmd[0]%.sh}.log
    run_logs+=("$log")
    start=$(date +%s)
    timeout --kill-after=30 "$limit" "$here/bench/${cmd[0]}" "${cmd[@]:1}" > "$log" 2>&1
    rc=$?
    case $rc in
      0) result=ok ;;
      124 | 137) result=TIMEOUT; failed=1 ;;
      *) result="rc=$rc"; failed=1 ;;
    esac
    printf '%-36s %-8s %6d  %s\n' "$run" "$result" $(($(date +%s) - start)) "$log"
  done
  return $failed
}
