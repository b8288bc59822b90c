#!/usr/bin/env bash
# Workshop scale model: N laptops imaged at once through one switch, contenders side by side.
#
#   sudo bench/workshop.sh [--n 4,8] [--scenarios clean,slow,slownic,loss,kill,late]
#                          [--contenders http,udpcast,revive,relay] [--rounds 1] [--rate 100]
#                          [--image-mb 135] [--chunk-size 4M] [--chunking fixed|content]
#                          [--level 3] [--victim 1]
#                          [--kill-at 0.5 | --kill-after SECS]
#                          [--timeout SECS] [--quick] [--keep]
#
# The model (root; network namespaces named rvws<pid>-*, removed on exit and on Ctrl-C):
#   - rvws<pid>-sw: a Linux bridge (STP off, multicast snooping off: an unmanaged switch floods)
#     is the switch. rvws<pid>-srv is the imaging server, rvws<pid>-l1..lN the laptops; each has
#     a veth port into the bridge, addresses 10.77.0.0/24 with `brd +`.
#   - Every port, the server's included, is shaped by `tc tbf` to the same rate (default 100
#     Mbit/s) on BOTH ends of its veth: the bridge side (the switch sending to the host) and the
#     host side (the host sending to the switch), i.e. a full-duplex switch port. So the server's
#     port is no faster than a laptop's, as with a 1 GbE PC on a 1 GbE switch. The rate is low
#     enough that 2 cores keep up with hashing and zstd for 8 laptops: every figure is printed
#     with the CPU seconds spent and the machine's idle share to show it.
#   - Image: an ext4 filesystem filled with a copy of this machine's /usr (binaries, libraries,
#     headers, docs) plus free space, ~135 MB stored; built once and cached in
#     ${XDG_CACHE_HOME:-~/.cache}/revive-bench/. Imported as Revive chunks (revivectl image
#     import, --chunk-size: 4M as for real images) and compressed as one zstd -3 stream for the
#     baselines. A relay chain is store-and-forward by chunk: its k-th laptop starts about k-1
#     chunk-times after the first, which is 7/96 of T1 for N=8 on this 96-chunk image but 7/5120
#     on a 20 GiB image; --chunk-size 1M brings the model's ratio closer to a real workshop's.
#     --chunking content imports it cut by content (revivectl image import --content-chunks), as
#     recipe builds are: pieces of 4 KiB up to --chunk-size, many small ones for ext4 metadata.
#     --level N: Revive's chunks compressed at zstd level N (revivectl image import --level;
#     default 3, as it); the baselines' stream stays zstd -3.
#   - Laptop disks are sparse files on tmpfs (/dev/shm): the disk stays out of the measurement
#     (a laptop's disk rate is then the page cache's); this model is about the network. With
#     too little free RAM for N disks they go to a temp dir on disk instead (printed).
#   - Durability: the baselines end with `dd conv=fdatasync`; the agent writes with O_DIRECT
#     and fdatasyncs (its default). On tmpfs both are cheap.
#   - A host's own end of its port (the server's, a laptop's NIC) queues in pfifo_fast under the
#     tbf, as a Linux host's transmit queue does by default: packets marked bulk (SO_PRIORITY)
#     wait behind the rest. The switch's end is one FIFO. WS_HOST_QDISC= (empty) makes the host's
#     end a FIFO too (the model before 2026-12-04: a relay's upload delays its own download's ACKs).
#
# What it does not model: switch buffers beyond tbf's queue (latency 50 ms), cable latency,
# real NICs and their offloads (veth), real disks (tmpfs), PXE boot; TCP is this kernel's
# default congestion control for every contender (new namespaces inherit it: bbr on the machines
# the figures in docs/scheduler.md come from, cubic on a stock Debian; printed at the start);
# all processes share this machine's 2 cores.
#
# Contenders (functions <name>_setup/_start/_cmd/_stop below; add one by writing those four and
# listing it in --contenders):
#   http     nginx in the server namespace; each laptop: curl URL | zstd -d | dd of=DISK bs=4M
#   udpcast  udp-sender (--nopointopoint --full-duplex --min-receivers N, rdv 224.0.0.1) with the
#            zstd stream; each laptop: udp-receiver | zstd -d | dd of=DISK bs=4M
#   revive   revive-server; each laptop: revive-agent --simulate (its own machine tree with its
#            own serial/UUID/MACs) running the workflow [deploy (fit off), finish]; a laptop's
#            time runs from the agent's start to its exit after the deploy result was posted
#   relay    the same, with the server's deployment scheduler and peer relay on (--relay,
#            --uplink-mbps = the port rate); a relaying agent serves on after its deploy step until
#            the server releases it, so a laptop's time for revive and relay ends when the agent
#            logs its next step (its deploy result was accepted), not when the process exits
#
# Scenarios: clean; slow (the victim's port at 30% of the rate: a slow cable or switch port its
# agent cannot see); slownic (the same, and the victim's NIC reports that speed in its machine
# tree, as a 100 Mbit/s laptop on a gigabit switch would: the server knows it at join); loss (1%
# of the packets to the victim dropped by nft in its namespace: this kernel has no netem); kill (the victim's client
# process gets SIGKILL when it has received --kill-at of the payload: curl, udp-receiver or
# revive-agent; the others must finish); late (laptop N starts when the others have received
# half their payloads; for udpcast, which cannot join a running session, a second session serves it
# once the first is over). T1 = one laptop alone on a clean port, per contender and round.
# Every disk is compared with the raw image afterwards (cmp of the first logical_size bytes);
# a wrong disk, a non-zero exit or a timeout makes the measurement FAILED, never a time.
#
# Experiments (environment): WS_SYSCTL="key=value ..." is set in every host's namespace (e.g.
# net.ipv4.tcp_congestion_control=bbr: a namespace takes only what the host's
# net.ipv4.tcp_allowed_congestion_control lists, reno and bbr on the bench machine; cubic there
# only through relay_congestion, which sets it per socket).
# WS_DEPLOY_PARAMS='"relay_congestion":"bbr"' is added to the deploy step's params
# (docs/agent-protocol.md), e.g. to compare the relay's BBR with cubic, or '"peer_stream":false'
# for a request per chunk instead of streams.
#
# Output: a table per scenario, and JSON lines appended to bench/results/workshop-<date>.jsonl.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "workshop.sh needs root (network namespaces, tc, nft)" >&2; exit 1; }

ns_list=4,8
scenarios=clean,slow,loss,kill,late
contenders=http,udpcast,revive,relay
rounds=1
rate=100
image_mb=135
chunk_size=4M
chunking=fixed
level=3
victim=1
kill_at=0.5
kill_after=
timeout=
keep=0
# --quick (a smoke run: N=2, a ~20 MB image, the clean scenario) sets defaults; flags override.
for a in "$@"; do [[ $a == --quick ]] && { ns_list=2; scenarios=clean; image_mb=20; rounds=1; }; done
while (($#)); do
  case $1 in
    --n) ns_list=$2; shift ;;
    --scenarios) scenarios=$2; shift ;;
    --contenders) contenders=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --rate) rate=$2; shift ;;
    --image-mb) image_mb=$2; shift ;;
    --chunk-size) chunk_size=$2; shift ;;
    --chunking) chunking=$2; shift ;;
    --level) level=$2; shift ;;
    --victim) victim=$2; shift ;;
    --kill-at) kill_at=$2; shift ;;
    --kill-after) kill_after=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    --keep) keep=1 ;;
    --quick) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -ra NS_LIST <<< "$ns_list"
IFS=, read -ra SCENARIOS <<< "$scenarios"
IFS=, read -ra CONTENDERS <<< "$contenders"
[[ $chunking == fixed || $chunking == content ]] || { echo "--chunking is fixed or content" >&2; exit 2; }
[[ $level =~ ^[1-9][0-9]?$ ]] && ((level <= 19)) || { echo "--level is 1..19" >&2; exit 2; }
maxn=$(printf '%s\n' "${NS_LIST[@]}" | sort -n | tail -1)
((victim >= 1 && victim <= maxn)) || { echo "--victim must be 1..$maxn" >&2; exit 2; }

"$here/bench/setup" >/dev/null
py=/usr/bin/python3; [[ -x $py ]] || py=python3  # not a pyenv shim: 2 s to start on a busy machine
# Other work on this machine (compiles) must not starve the model's processes: they run at
# nice -10 (inherited). The tables print our CPU share next to the machine's idle share.
renice -n -10 $$ >/dev/null
P=rvws$$
SW=$P-sw
SRV=$P-srv
SRV_IP=10.77.0.1
lns() { echo "$P-l$1"; }
lip() { echo "10.77.0.$((10 + $1))"; }
# The work dir (the server's state and store, the agents' logs) on tmpfs when there is RAM to
# spare: on disk, another job's writes on this machine held the agents' log writes and the
# server's commits up for seconds at a time (a 4 s pause in every agent at once: the scheduler
# took it for a stalled chain head). Real laptops log to a console and the server has its disk.
if (($(awk '/MemAvailable/ {print $2}' /proc/meminfo) > 8 << 20)); then
  W=$(mktemp -d /dev/shm/rvws-w-XXXXXX)
else
  W=$(mktemp -d /var/tmp/rvws-XXXXXX)
fi
chmod 711 "$W"  # started as root, revive-server runs as user revive: let it reach its state
chmod 755 "$W"
D=
pids=()
namespaces=()

# Cleanup: only what this run made. Processes are found by namespace (ip netns pids) and by the
# pids we started; namespaces by our prefix list.
cleanup() {
  set +e
  trap - EXIT INT TERM
  disown -a  # no "Killed" job notices for the servers stopped below
  for ns in "${namespaces[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if ((keep)); then echo "kept $W ${D:-}"; else rm -rf "$W" ${D:+"$D"}; fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

build=$here/build/release
echo "== building revive-server, revive-agent, revivectl (release preset)"
cmake --preset release -S "$here" >/dev/null
cmake --build "$build" --target revive-server revive-agent revivectl >/dev/null
commit=$(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet HEAD -- agent server core 2>/dev/null || echo "+dirty")

# ---------------------------------------------------------------------------------------------
# The image: ext4 with a copy of OS files from /usr, sized so that its zstd -3 stream is about
# $image_mb MB. Cached; the cache key is the target size and the recipe version.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/revive-bench
imgdir=$cache/workshop-os-${image_mb}MB-v1
store=$imgdir/store-$chunk_size-$chunking-l$level  # one import per chunk size, chunking and level
build_image() {
  [[ -f $store.ok ]] && return
  mkdir -p "$imgdir"
  if [[ ! -f $imgdir/raw.ok ]]; then
    echo "== building the OS image (~$image_mb MB stored) in $imgdir (cached for later runs)"
    local tmp=$imgdir/tmp budget zs used fs_bytes attempt
    rm -rf "$tmp"; mkdir -p "$tmp"
    budget=$((image_mb * 1000000 * 29 / 10))  # zstd -3 ratio on OS files is about 2.9
    for attempt in 1 2 3; do
      "$py" - "$budget" > "$tmp/files" <<'PY'
import os, sys
budget = int(sys.argv[1])
# Shares of the budget per source: what an installed OS is made of.
sources = [("/usr/bin", .28), ("/usr/sbin", .03), ("/usr/lib/x86_64-linux-gnu", .34), ("/usr/share/doc", .10),
           ("/usr/share/man", .06), ("/usr/include", .10), ("/usr/share/locale", .03), ("/usr/lib/python3", .06)]
out = sys.stdout.buffer
for src, share in sources:
    quota, taken = budget * share, 0
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not (os.path.islink(p) or os.path.isfile(p)):
                continue
            if taken + st.st_size > quota:
                continue
            taken += st.st_size if not os.path.islink(p) else 0
            out.write(p.lstrip("/").encode() + b"\0")
PY
      rm -rf "$tmp/tree" "$tmp/disk.img"; mkdir "$tmp/tree"
      tar -C / --null --no-recursion -T "$tmp/files" -cf - | tar -C "$tmp/tree" -xf -
      used=$(du -sb "$tmp/tree" | cut -f1)
      fs_bytes=$(( (used * 7 / 4 / 67108864 + 2) * 67108864 ))  # 75% more: metadata + free space
      mkfs.ext4 -q -F -L revive-os -d "$tmp/tree" "$tmp/disk.img" "$((fs_bytes / 1024))k" > /dev/null
      zstd -q -3 -T0 -f "$tmp/disk.img" -o "$tmp/disk.img.zst"
      zs=$(stat -c %s "$tmp/disk.img.zst")
      echo "   attempt $attempt: $((used / 1000000)) MB of files, $((fs_bytes >> 20)) MiB filesystem, zstd -3: $((zs / 1000000)) MB"
      (( zs * 100 > image_mb * 1000000 * 92 && zs * 100 < image_mb * 1000000 * 108 )) && break
      budget=$("$py" -c "print(int($budget * $image_mb * 1e6 / $zs))")
    done
    mv "$tmp/disk.img" "$tmp/disk.img.zst" "$imgdir/"
    rm -rf "$tmp"
    touch "$imgdir/raw.ok"
  fi
  rm -rf "$store" "$store.tmp" "$store.ok"
  local cut=()
  [[ $chunking == content ]] && cut=(--content-chunks)
  "$build/bin/revivectl" image import --no-progress --chunk-size "$chunk_size" "${cut[@]}" \
    --level "$level" --store "$store.tmp" --name workshop "$imgdir/disk.img" \
    > "$imgdir/import-$chunk_size-$chunking-l$level.log"
  mv "$store.tmp" "$store"
  touch "$store.ok"
}
build_image
raw=$imgdir/disk.img
zst=$imgdir/disk.img.zst
logical=$(stat -c %s "$raw")
zst_bytes=$(stat -c %s "$zst")
read -r data_bytes stored_bytes < <("$build/bin/revivectl" image info --store "$store" --json workshop |
  "$py" -c 'import json,sys; m=json.load(sys.stdin); print(m["data_bytes"], m["stored_bytes"])')
image_json="{\"logical_bytes\":$logical,\"data_bytes\":$data_bytes,\"stored_bytes\":$stored_bytes,\"zst_bytes\":$zst_bytes,\"chunk_size\":\"$chunk_size\",\"chunking\":\"$chunking\",\"level\":$level,\"path\":\"$imgdir\"}"
echo "== image: $logical bytes raw ($data_bytes in data chunks), Revive stores $stored_bytes, zstd -3 stream $zst_bytes; chunks of $chunk_size raw ($chunking, zstd level $level)"
cat "$raw" "$zst" "$store"/chunks/*/*.zst > /dev/null  # every server reads from the page cache

# Laptop disks: tmpfs when N disks (written in full by dd) fit in the available RAM with 2 GiB
# to spare; a temp dir on disk otherwise (then the disk is in the measurement: say so).
avail=$(($(awk '/MemAvailable/ {print $2}' /proc/meminfo) * 1024))
if ((avail > maxn * logical + (2 << 30))); then
  D=$(mktemp -d /dev/shm/rvws-XXXXXX); disk_where="tmpfs ($D)"
else
  D=$(mktemp -d /var/tmp/rvws-disks-XXXXXX); disk_where="a temp dir on disk ($D): NOT enough free RAM for tmpfs, the disk is part of the measurement"
fi
echo "== laptop disks: $disk_where"

kill_pct=$(awk "BEGIN {print int($kill_at * 100)}")
[[ -n $timeout ]] || timeout=$((zst_bytes * 8 * 40 / (rate * 1000000) + 120))

# ---------------------------------------------------------------------------------------------
# The switch, the server and the laptops.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
host_qdisc=${WS_HOST_QDISC-pfifo_fast}  # under a host's own tbf (the header says why)
shape() {  # NS DEV KBIT [HOST] : tbf on one end; a host's own end queues in $host_qdisc
  nsx "$1" tc qdisc replace dev "$2" root handle 1: tbf rate "${3}kbit" burst 64kb latency 50ms
  if [[ -n ${4:-} && -n $host_qdisc ]]; then nsx "$1" tc qdisc replace dev "$2" parent 1:1 "$host_qdisc"; fi
}
port_rate() {  # INDEX(0 = server) KBIT : both ends of a port (kbit: 30 % of 25 Mbit/s is 7500)
  if (($1 == 0)); then shape "$SRV" eth0 "$2" host; shape "$SW" ps "$2"
  else shape "$(lns "$1")" eth0 "$2" host; shape "$SW" "p$1" "$2"; fi
}
add_host() {  # NS PORT ADDR
  local ns=$1 port=$2 addr=$3
  ip netns add "$ns"; namespaces+=("$ns")
  nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  for kv in ${WS_SYSCTL:-}; do nsx "$ns" sysctl -qw "$kv"; done  # experiments: "k=v k=v"
  ip link add "$port" netns "$SW" type veth peer name eth0 netns "$ns"
  nsx "$SW" ip link set "$port" master br0 up
  nsx "$ns" ip link set lo up
  nsx "$ns" ip addr add "$addr/24" brd + dev eth0
  nsx "$ns" ip link set eth0 up
}
echo "== topology: bridge $SW, server $SRV, laptops $P-l1..l$maxn; ports ${rate} Mbit/s (tbf both ends); TCP $(sysctl -n net.ipv4.tcp_congestion_control)"
ip netns add "$SW"; namespaces+=("$SW")
nsx "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nsx "$SW" ip link add br0 type bridge stp_state 0 mcast_snooping 0
nsx "$SW" ip link set br0 up
add_host "$SRV" ps "$SRV_IP"
for i in $(seq 1 "$maxn"); do add_host "$(lns "$i")" "p$i" "$(lip "$i")"; done
# nic_speed I [MBIT]: the link speed laptop I's wired NICs report in its machine tree (what its
# agent's inventory tells the server); without MBIT, the laptop model's own again.
nic_speed() {
  local f
  for f in "$W/laptops/l$1"/sys/class/net/*/speed; do
    [[ -f $f ]] || continue
    [[ -f $f.model ]] || cp "$f" "$f.model"
    if [[ -n ${2:-} ]]; then echo "$2" > "$f"; else cp "$f.model" "$f"; fi
  done
}
reset_network() {
  port_rate 0 "$((rate * 1000))"
  for i in $(seq 1 "$maxn"); do
    port_rate "$i" "$((rate * 1000))"
    nic_speed "$i"
    nsx "$(lns "$i")" nft delete table inet rvws 2>/dev/null || true
  done
}
reset_network
for i in $(seq 1 "$maxn"); do
  nsx "$(lns "$i")" ping -c1 -W2 -q "$SRV_IP" >/dev/null || { echo "laptop $i cannot reach the server" >&2; exit 1; }
done

# Byte counters without a fork per sample: /proc/PID/net/dev shows the namespace of PID, so one
# idle process per namespace (sw, srv) lets bash read them with builtins.
ip netns exec "$SW" sleep infinity & sw_pid=$!; pids+=($sw_pid)
ip netns exec "$SRV" sleep infinity & srv_pid=$!; pids+=($srv_pid)
tx_of() {  # PID DEV -> $txv = tx bytes of DEV in PID's namespace (no fork: forks are slow here)
  local name rx tx _
  txv=0
  while read -r name rx _ _ _ _ _ _ _ tx _; do
    [[ $name == "$2:" ]] && { txv=$tx; return; }
  done < "/proc/$1/net/dev"
}
# Bytes the switch sent to laptop I (its bridge port's tx counter: before any loss in the laptop).
to_laptop() { tx_of "$sw_pid" "p$1"; }
srv_tx() { tx_of "$srv_pid" eth0; echo "$txv"; }
exec {nap_fd}<> <(:)  # a pipe that never has data: read -t on it is a sleep without a fork
nap() { read -rt "$1" -u "$nap_fd" _ || true; }
# CPU seconds of the long-lived server processes (by name) in the server namespace.
srv_cpu() {
  local hz total=0 p comm
  hz=$(getconf CLK_TCK)
  for p in $(ip netns pids "$SRV"); do
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    [[ " $server_procs " == *" $comm "* ]] || continue
    total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total $hz" | awk '{print $1 / $2}'
}
kill_in_ns() {  # NS COMM : SIGKILL the processes named COMM in our namespace NS; fails if none
  local p hit=1
  for p in $(ip netns pids "$1"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$2" ]] && kill -9 "$p" 2>/dev/null && hit=0
  done
  return $hit
}

# ---------------------------------------------------------------------------------------------
# Contenders. Each has:
#   <c>_setup          once per run (before any measurement)
#   <c>_start N        before a measurement's laptops start (not timed); N = laptops this time
#   <c>_cmd I DISK     the shell command laptop I runs in its namespace (timed)
#   <c>_stop           after the laptops ended (collects what it needs, stops per-run servers)
#   <c>_payload        bytes the server has to send per laptop (for "server port / payload")
#   <c>_client         process name the kill scenario SIGKILLs on the victim
#   <c>_server_procs   names of long-lived server-side processes whose CPU time is counted
# Per-measurement files go to $M; extra per-measurement figures can be written to $M/extra.json.

# -- plain HTTP unicast
http_setup() {
  mkdir -p "$W/www" "$W/nginx"
  ln -f "$zst" "$W/www/image.zst" 2>/dev/null || cp "$zst" "$W/www/image.zst"
  chmod 644 "$W/www/image.zst"
  cat > "$W/nginx.conf" <<NGX
worker_processes 2;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
  uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
  server { listen $SRV_IP:80; root $W/www; }
}
NGX
  ip netns exec "$SRV" nginx -c "$W/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  for _ in $(seq 50); do nsx "$SRV" curl -sfI "http://$SRV_IP/image.zst" >/dev/null && return; sleep 0.1; done
  echo "nginx did not start: $(cat "$W/nginx/error.log")" >&2; exit 1
}
http_start() { :; }
http_cmd() {
  echo "set -o pipefail; curl -sS --fail http://$SRV_IP/image.zst | zstd -d -q | dd of=$2 bs=4M iflag=fullblock conv=fdatasync,notrunc status=none"
}
http_stop() { :; }
http_payload() { echo "$zst_bytes"; }
http_client() { echo curl; }
http_server_procs() { echo nginx; }

# -- udpcast (multicast with receiver acks; every slice waits for every receiver)
UDPCAST_OPTS=${UDPCAST_OPTS:---full-duplex}
udpcast_setup() { :; }
udpcast_sender() {  # MIN_RECEIVERS TAG
  /usr/bin/time -f '%U %S' -o "$M/sender-cpu.$2" ip netns exec "$SRV" udp-sender --file "$zst" --interface eth0 \
    --nopointopoint $UDPCAST_OPTS --min-receivers "$1" --mcast-rdv-address 224.0.0.1 --nokbd \
    > "$M/udp-sender.$2.log" 2>&1 || echo "udp-sender $2 exited $?" >> "$M/udp-sender.$2.log"
}
udpcast_start() {
  local n=$1
  if [[ $scenario == late ]]; then
    # One session for the N-1 on time; a late receiver cannot join it, so a second session
    # (one receiver) serves it once the first is over - what an operator would do.
    (udpcast_sender $((n - 1)) 1; udpcast_sender 1 2) &
  else
    udpcast_sender "$n" 1 &
  fi
  udp_pid=$!
  pids+=($udp_pid)
  sleep 0.5
}
udpcast_cmd() {
  echo "set -o pipefail; udp-receiver --nokbd --interface eth0 --mcast-rdv-address 224.0.0.1 2> $M/udp-receiver.$1.log | zstd -d -q | dd of=$2 bs=4M iflag=fullblock conv=fdatasync,notrunc status=none"
}
udpcast_stop() {
  # The sender ends by itself once every receiver is done or dropped; after a timeout, stop it.
  if [[ -f $M/timed_out ]]; then kill_in_ns "$SRV" udp-sender; fi
  wait "$udp_pid" 2>/dev/null || true
  cat "$M"/sender-cpu.* 2>/dev/null | awk '{s += $1 + $2} END {print s + 0}' > "$M/srv_cpu_exited"
}
udpcast_payload() { echo "$zst_bytes"; }
udpcast_client() { echo udp-receiver; }
udpcast_server_procs() { echo; }

# -- Revive today: every agent pulls every chunk from revive-server over HTTP
revive_setup() {
  [[ -d $W/revive-template ]] && return
  # Per-laptop machine trees: a copy of a checked-in model with its own serial, UUID, MACs and
  # disk serial (the server tells laptops apart by SMBIOS UUID + serial).
  local models=(thinkpad-t480 latitude-7490 hp-stream-11 elitebook-840-g5 macbook-air-7-2) i m
  for i in $(seq 1 "$maxn"); do
    m=${models[$(((i - 1) % ${#models[@]}))]}
    mkdir -p "$W/laptops/l$i"
    "$py" - "$here/tests/data/laptops/$m/laptop.json" "$W/laptops/l$i/laptop.json" "$i" <<'PY'
import json, sys
src, dst, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = json.load(open(src))
sysinfo = spec["smbios"]["system"]
serial = f"WS{i:02d}" + sysinfo["serial"][4:]
sysinfo["serial"] = serial
sysinfo["uuid"] = sysinfo["uuid"][:24] + f"{0x7e5700000000 + i:012x}"
for k in ("chassis", "board"):
    if "serial" in spec["smbios"].get(k, {}):
        spec["smbios"][k]["serial"] = serial
for j, n in enumerate(spec.get("nics", [])):
    n["mac"] = f"02:77:00:00:{i:02x}:{j:02x}"
for d in spec.get("disks", []):
    if d.get("serial"):
        d["serial"] = f"WS{i:02d}" + d["serial"][4:]
json.dump(spec, open(dst, "w"), indent=1)
PY
    "$py" "$here/tests/data/tools/make_tree.py" "$W/laptops/l$i/laptop.json"
  done
  # A server state with an operator and the workflow, copied fresh for every measurement.
  local t=$W/revive-template port=8080
  "$build/bin/revive-server" --state "$t" --store "$store" operator add bench <<< "bench password 1" >/dev/null
  revive_token=$("$build/bin/revive-server" --state "$t" --store "$store" operator token bench)
  revive_server "$t"
  revive_api POST /api/v1/workflows \
    '{"name":"deploy","steps":[{"kind":"deploy","params":{"image":"workshop","fit":false'"${WS_DEPLOY_PARAMS:+,$WS_DEPLOY_PARAMS}"'}},{"kind":"finish"}]}' >/dev/null
  revive_api POST /api/v1/settings '{"default_workflow":"deploy"}' >/dev/null
  revive_server_stop
}
revive_api() {
  nsx "$SRV" curl -sSf -X "$1" -H "Authorization: Bearer $revive_token" -H 'Content-Type: application/json' \
    "http://$SRV_IP:8080$2" ${3:+-d "$3"}
}
revive_server() {  # STATE [EXTRA SERVER FLAGS...]
  if nsx "$SRV" curl -sf "http://$SRV_IP:8080/healthz" >/dev/null; then
    echo "a revive-server still answers on $SRV_IP:8080" >&2; exit 1
  fi
  # Demo mode: the simulated laptops enrol without boot tokens and have no intake to pass.
  # ip netns exec execs the server: $! is the server's pid.
  # --user root: the image store is cached under root's home, which the revive account cannot
  # reach; privileges are not what this model measures.
  ip netns exec "$SRV" "$build/bin/revive-server" --demo --user root --state "$1" --store "$store" --listen "$SRV_IP:8080" "${@:2}" 2> "$1.log" &
  revive_pid=$!
  pids+=($revive_pid)
  for _ in $(seq 100); do
    nsx "$SRV" curl -sf "http://$SRV_IP:8080/healthz" >/dev/null && return
    sleep 0.1
  done
  echo "revive-server did not start: $(tail -5 "$1.log")" >&2; exit 1
}
revive_server_stop() {
  kill -TERM "$revive_pid" 2>/dev/null || true
  wait "$revive_pid" 2>/dev/null || true
}
revive_start() {
  rm -rf "$M/state"; cp -a "$W/revive-template" "$M/state"
  revive_server "$M/state"
}
revive_cmd() {
  echo "exec $build/bin/revive-agent --simulate --root $W/laptops/l$1 --disk $2 --server http://$SRV_IP:8080 --server-key $store/keys/ed25519.pub --long-poll 5 --label l$1 > $M/agent.$1.log 2>&1"
}
revive_stop() {
  # What the server recorded for each laptop's deploy step (bytes fetched, retries, verify).
  revive_api GET /api/v1/devices > "$M/devices.json" || true
  for id in $("$py" -c 'import json,sys; [print(d["id"]) for d in json.load(open(sys.argv[1]))]' "$M/devices.json" 2>/dev/null); do
    revive_api GET "/api/v1/devices/$id" > "$M/device.$id.json" || true
  done
  "$py" - "$M" > "$M/extra.json" <<'PY' || true
import glob, json, sys
m = sys.argv[1]
fetched, retries, bad, ok, write_s, marks = 0, 0, 0, 0, [], []
for f in glob.glob(m + "/device.*.json"):
    d = json.load(open(f))
    for x in d.get("results", []):
        if x.get("kind") == "deploy":
            r = x.get("result") or {}
            fetched += r.get("bytes_fetched", 0)
            retries += r.get("chunk_retries", 0)
            bad += len((r.get("verify") or {}).get("bad", []))
            ok += x.get("status") == "ok"
            if "write_seconds" in r:
                write_s.append(round(r["write_seconds"], 2))
            t = r.get("timeline") or {}
            if t.get("ms") and t.get("first_at_chunks") == t.get("every_chunks"):
                marks.append([(t["start_unix_ms"] + x) / 1000 for x in t["ms"]])
# lag_s: at 10%, 50% and the last of the chunk marks all laptops passed, the gaps between the
# laptops in the order they passed it: in a relay chain, each hop's lag behind its parent.
# Gaps that grow from 10% to the end are hops slower than their parent, not a start-up lag.
lag = {}
common = min(map(len, marks)) if marks else 0
for name, q in (("10%", 0.1), ("50%", 0.5), ("end", 1.0)):
    if common:
        at = sorted(m[round(q * (common - 1))] for m in marks)
        lag[name] = [round(b - a, 2) for a, b in zip(at, at[1:])]
# write_seconds: the deploy step's own time as the agent measured it (the laptop's time here
# also holds enrolment, the manifest, the read-back samples and the finish step).
print(json.dumps({"deploys_ok": ok, "bytes_fetched": fetched, "chunk_retries": retries, "verify_bad": bad,
                  "write_seconds": sorted(write_s), "lag_s": lag}))
PY
  revive_server_stop
}
# A laptop's deploy is over when its result was accepted: the agent then logs the next step.
revive_done_marker() { echo "step finish"; }
revive_payload() { echo "$stored_bytes"; }
revive_client() { echo revive-agent; }
revive_server_procs() { echo revive-server; }

# relay: the same revive-server with the deployment scheduler and peer relay on, planning with
# the port rate the model gives every port. The agents are the same; they relay when the
# server names them as a source, and keep serving after their deploy step until the server
# releases them (their time ends at the deploy result, see revive_done_at).
relay_setup() { [[ -d $W/revive-template ]] || revive_setup; }
relay_start() {
  rm -rf "$M/state"; cp -a "$W/revive-template" "$M/state"
  revive_server "$M/state" --relay --uplink-mbps "$rate"
}
relay_cmd() { revive_cmd "$@"; }
relay_stop() { revive_stop; }
relay_payload() { revive_payload; }
relay_client() { revive_client; }
relay_server_procs() { revive_server_procs; }
relay_done_marker() { revive_done_marker; }

# watch_done N MARKER: writes $M/done.I with the time MARKER first shows in laptop I's agent
# log. Reads with builtins only (no fork per poll: 8 laptops at 20 polls/s).
watch_done() {
  local n=$1 marker=$2 i line
  local -A seen=()
  while ((${#seen[@]} < n)); do
    for ((i = 1; i <= n; i++)); do
      [[ -n ${seen[$i]:-} || ! -f $M/agent.$i.log ]] && continue
      while IFS= read -r line; do
        if [[ $line == *"$marker"* ]]; then
          echo "$EPOCHREALTIME" > "$M/done.$i"; seen[$i]=1; break
        fi
      done < "$M/agent.$i.log"
    done
    nap 0.05
  done
}

# ---------------------------------------------------------------------------------------------
# One measurement: CONTENDER SCENARIO N ROUND (scenario "t1" = one laptop, clean).
run_id=$(date +%Y%m%d-%H%M%S)
mkdir -p "$here/bench/results"
results=$here/bench/results/workshop-$(date +%Y-%m-%d).jsonl
declare -A T1=()
meas=0
measure() {
  local c=$1 s=$2 n=$3 round=$4
  scenario=$s
  meas=$((meas + 1))
  M=$W/m$meas-$c-$s-$n
  mkdir -p "$M"
  reset_network
  local v=$victim late=0 bound= payload
  ((v <= n)) || v=1
  payload=$("${c}_payload")
  case $s in
    slow|slownic)
      port_rate "$v" "$((rate * 300))"
      # A NIC reports whole Mbit/s (the inventory's speed_mbps), rounded down.
      [[ $s == slownic ]] && nic_speed "$v" "$((rate * 3 / 10))"
      bound=$(awk "BEGIN {print $payload * 8 / ($rate * 300e3)}") ;;
    loss)
      nsx "$(lns "$v")" nft add table inet rvws
      nsx "$(lns "$v")" nft add chain inet rvws c '{ type filter hook input priority 0; }'
      nsx "$(lns "$v")" nft add rule inet rvws c numgen random mod 100 lt 1 drop ;;
    late) late=$n ;;
  esac
  local i
  for i in $(seq 1 "$n"); do rm -f "$D/l$i.disk"; truncate -s "$logical" "$D/l$i.disk"; done
  server_procs=$("${c}_server_procs")
  "${c}_start" "$n"
  local stat_before srv_tx_before srv_cpu_before t0
  srv_cpu_before=$(srv_cpu); srv_tx_before=$(srv_tx); stat_before=$(cat /proc/stat)
  local base=(0) i
  for ((i = 1; i <= n; i++)); do to_laptop "$i"; base+=("$txv"); done
  t0=$EPOCHREALTIME
  local lp=()
  launch() {  # I ROLE
    local cmd; cmd=$("${c}_cmd" "$1" "$D/l$1.disk")
    (
      s0=$EPOCHREALTIME
      rc=0
      /usr/bin/time -f '%U %S %M' -o "$M/cpu.$1" ip netns exec "$(lns "$1")" bash -c "$cmd" > "$M/out.$1" 2>&1 || rc=$?
      echo "$1 $2 $s0 $EPOCHREALTIME $rc" > "$M/t.$1"
    ) &
    lp+=($!)
  }
  for i in $(seq 1 "$n"); do ((i == late)) || launch "$i" normal; done
  # Watchers: kill the victim / start the late joiner at a point of progress; the watchdog.
  local watch_pid=
  if [[ $s == kill ]]; then
    (
      if [[ -n $kill_after ]]; then sleep "$kill_after"
      else
        local want=$((payload * kill_pct / 100))
        while to_laptop "$v"; ((txv - base[v] < want)) && [[ ! -f $M/t.$v ]]; do nap 0.05; done
      fi
      if kill_in_ns "$(lns "$v")" "$("${c}_client")"; then
        echo "$EPOCHREALTIME" > "$M/killed_at"
        to_laptop "$v"; echo "$(((txv - base[v]) * 100 / payload))" > "$M/killed_pct"
      fi
    ) &
    watch_pid=$!
  fi
  (sleep "$timeout"; touch "$M/timed_out"; for i in $(seq 1 "$n"); do
     for p in $(ip netns pids "$(lns "$i")"); do kill -9 "$p" 2>/dev/null; done; done) >/dev/null 2>&1 &
  local dog=$!
  # Contenders whose client outlives its laptop's work (a relaying agent serves on after its
  # deploy) say which log line ends that work; its time replaces the process's end.
  local done_pid=
  if declare -F "${c}_done_marker" >/dev/null; then
    watch_done "$n" "$("${c}_done_marker")" &
    done_pid=$!
  fi
  if ((late)); then
    # The others are half done: the bytes the switch sent them reach half of their payloads.
    local want=$(((n - 1) * payload / 2)) sum ended
    while :; do
      sum=0 ended=0
      for ((i = 1; i < n; i++)); do
        to_laptop "$i"; sum=$((sum + txv - base[i]))
        [[ -f $M/t.$i ]] && ended=$((ended + 1))
      done
      ((sum < want && ended < n - 1)) || break  # half of their bytes, or all of them ended
      nap 0.05
    done
    launch "$late" late
    echo "$((sum * 100 / ((n - 1) * payload)))" > "$M/late_pct"
  fi
  for p in "${lp[@]}"; do wait "$p" || true; done
  local t_end=$EPOCHREALTIME
  local stat_after srv_tx_after srv_cpu_after
  srv_cpu_after=$(srv_cpu); srv_tx_after=$(srv_tx); stat_after=$(cat /proc/stat)
  # Its sleep first: left behind, it would hold a pipe the bench's output goes into for minutes.
  pkill -P "$dog" sleep 2>/dev/null || true
  kill "$dog" 2>/dev/null || true; wait "$dog" 2>/dev/null || true
  if [[ -n $watch_pid ]]; then kill "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; fi
  if [[ -n $done_pid ]]; then kill "$done_pid" 2>/dev/null || true; wait "$done_pid" 2>/dev/null || true; fi
  echo 0 > "$M/srv_cpu_exited"
  "${c}_stop"
  # Verify every disk against the raw image; collect the per-laptop lines.
  : > "$M/laptops.tsv"
  for i in $(seq 1 "$n"); do
    local li role s0 s1 rc usr sys rss disk
    read -r li role s0 s1 rc < "$M/t.$i"
    [[ -f $M/done.$i ]] && read -r s1 < "$M/done.$i"
    read -r usr sys rss < <(tail -1 "$M/cpu.$i" 2>/dev/null | grep -E '^[0-9.]+ [0-9.]+ [0-9]+$' || echo "0 0 0")
    if [[ $s == kill && $i == "$v" && -f $M/killed_at ]]; then role=killed; fi
    if [[ $role == killed ]]; then disk=skipped
    elif cmp -s -n "$logical" "$raw" "$D/l$i.disk"; then disk=ok
    else disk=differs; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$role" "$s0" "$s1" "$rc" "$usr" "$sys" "$rss" "$disk" >> "$M/laptops.tsv"
    rm -f "$D/l$i.disk"
  done
  "$py" - "$M/meta.json" <<PY
import json, sys
extra = None
try:
    extra = json.load(open("$M/extra.json"))
except Exception:
    pass
import os
json.dump({"run": "$run_id", "date": "$(date -Is)", "commit": "$commit", "round": $round, "scenario": "$s",
           "contender": "$c", "n": $n, "rate_mbit": $rate, "payload_bytes": $payload, "image": $image_json,
           "durability": "dd conv=fdatasync (baselines); agent O_DIRECT + fdatasync; disks on $disk_where",
           "victim": $( [[ $s =~ ^(slow|slownic|loss|kill)$ ]] && echo "$v" || echo None ), "victim_bound_s": ${bound:-None}, "t0": $t0, "t_end": $t_end, "t1": ${T1[$c]:-None},
           "kill_at_s": (float(open("$M/killed_at").read()) - $t0) if os.path.exists("$M/killed_at") else None,
           "killed_pct": int(open("$M/killed_pct").read()) if os.path.exists("$M/killed_pct") else None,
           "late_pct": int(open("$M/late_pct").read()) if os.path.exists("$M/late_pct") else None,
           "timed_out": os.path.exists("$M/timed_out"),
           "srv_tx_before": $srv_tx_before, "srv_tx_after": $srv_tx_after,
           "srv_cpu_before": $srv_cpu_before, "srv_cpu_after": $srv_cpu_after,
           "srv_cpu_exited": float(open("$M/srv_cpu_exited").read() or 0),
           "stat_before": """$stat_before""", "stat_after": """$stat_after""", "extra": extra}, open(sys.argv[1], "w"))
PY
  "$py" "$here/bench/workshop_stats.py" record "$M" "$results"
  if [[ $s == t1 ]]; then
    T1[$c]=$("$py" -c "import json; r=[json.loads(l) for l in open('$results')][-1]; print(r.get('makespan') or 'None')")
  fi
  ((keep)) || rm -rf "$M/state"  # a copy of the template's store: RAM when $W is on tmpfs
}

for c in "${CONTENDERS[@]}"; do
  declare -F "${c}_cmd" >/dev/null || { echo "unknown contender $c (no ${c}_cmd function)" >&2; exit 2; }
done
echo "== setting up the contenders: ${CONTENDERS[*]}"
for c in "${CONTENDERS[@]}"; do "${c}_setup"; done
echo "== run $run_id: N = ${NS_LIST[*]}; scenarios ${SCENARIOS[*]}; $rounds round(s); timeout ${timeout} s per measurement"
# Contenders interleaved (same scenario and N back to back): the load other work puts on this
# machine drifts, and what is compared should see the same drift.
for round in $(seq 1 "$rounds"); do
  for c in "${CONTENDERS[@]}"; do T1[$c]=; measure "$c" t1 1 "$round"; done
  for s in "${SCENARIOS[@]}"; do
    for n in "${NS_LIST[@]}"; do
      for c in "${CONTENDERS[@]}"; do measure "$c" "$s" "$n" "$round"; done
    done
  done
done
"$py" "$here/bench/workshop_stats.py" table "$results" "$run_id"
echo
echo "results: $results (run $run_id)"

# Adding a contender: write <name>_setup/_start/_cmd/_stop/_payload/_client/_server_procs (and
# optionally _done_marker) next to the revive_* and relay_* ones, and list it in --contenders.
