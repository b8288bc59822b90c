# Sourced by init on a laptop booted from a Revive USB stick (revive.stick=GUID). Network boot
# hands the live agent a boot script with a single-boot token; a stick has none, so init asks
# the server written on the stick (or, when it names none, the one DHCP names) for the very
# script network boot would get for this MAC (GET /boot/MAC.ipxe: the same intake rules and
# boot decision) and hands its token to the agent. Sets server and boot_token_file; powers off
# when the server says this laptop is done.
# Needs: say, arg, $up (the interface with a lease), $server ("" when the stick names none),
# $screen_tty. Its files go to /run/revive (REVIVE_RUN_DIR: stick_boot_test.py's own).
run_dir=${REVIVE_RUN_DIR:-/run/revive}

stick_say() {  # on the serial log and on the laptop's own screen (the agent is not drawing yet)
  say "$*"
  echo "Revive: $*" > "$screen_tty" 2>/dev/null
}

# GET $server$1: the body on stdout; fails unless the answer is 200. busybox nc speaking
# HTTP/1.0, because busybox-static's wget (1.35, Debian 12) crashes on a plain HTTP GET here.
stick_http_get() {
  hostport=${server#http://}
  host=${hostport%%:*}
  port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=80
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$hostport" |
    nc -w 10 "$host" "$port" 2>/dev/null | tr -d '\r' > "$run_dir/http-answer" || return 1
  head -1 "$run_dir/http-answer" | grep -q '^HTTP/1\.[01] 200 ' || return 1
  awk 'body; /^$/ {body = 1}' "$run_dir/http-answer"
}

stick_boot_token() {
  if [ -z "$up" ]; then
    stick_say "USB stick: no network yet; waiting for a DHCP lease (check the cable)"
    while [ -z "$up" ]; do
      sleep 5
      for dev in /sys/class/net/*; do
        ifc=${dev##*/}
        case $ifc in lo|wl*|ww*) continue ;; esac
        ip -4 -o addr show dev "$ifc" 2>/dev/null | grep -q inet && up=$ifc && break
      done
    done
  fi
  mac=$(cat "/sys/class/net/$up/address")
  # A stick that names no server: ask DHCP, as iPXE does (revive-server's proxyDHCP answers
  # with this laptop's boot-script URL; revive-agent --find-server reads every offer).
  while [ -z "$server" ]; do
    if server=$(revive-agent --find-server "$up" 2>"$run_dir/find-server.err"); then
      stick_say "USB stick: DHCP names the server $server"
    else
      server=
      stick_say "USB stick: $(cat "$run_dir/find-server.err"); asking again in 30 s"
      sleep 30
    fi
  done
  script="$run_dir/boot-script"
  while :; do
    if stick_http_get "/boot/$(echo "$mac" | tr : -).ipxe" > "$script"; then
      token=$(sed -n 's/.* revive\.token=\([^ ]*\).*/\1/p' "$script" | head -1)
      if [ -n "$token" ]; then
        echo "$token" > "$run_dir/boot-token"
        boot_token_file="$run_dir/boot-token"
        stick_say "USB stick: $server has work for $mac: starting the agent"
        return 0
      fi
      # No live-agent boot: the server's reason is on its echo lines.
      reason=$(sed -n 's/^echo Revive: //p' "$script" | head -1)
      # A laptop whose workflow is done (its stick was left in, or it was booted from it
      # again): never started over; told full screen, in the workshop's words, to take the
      # stick out. The marker line names the language and the workshop (an older server
      # only says it in its reason).
      finished=$(sed -n 's/^#revive: finished //p' "$script" | head -1)
      if [ -n "$finished" ] || grep -q "finished its workflow" "$script"; then
        say "USB stick: this laptop is done ($reason). Take the stick out; powering off in 30 s"
        lang=$(echo "$finished" | sed -n 's/^language=\([^ ]*\).*/\1/p')
        workshop=$(echo "$finished" | sed -n 's/^.* workshop=//p')
        revive-agent --already-done --screen "$screen_tty" --lang "$lang" --workshop "$workshop" ||
          echo "Revive: this laptop is done. Take the USB stick out; powering off in 30 s" > "$screen_tty" 2>/dev/null
        sleep 30
        poweroff -f
      fi
      stick_say "USB stick: the server has nothing for $mac yet: $reason; asking again in 30 s"
    else
      stick_say "USB stick: looking for the server $server ($mac); asking again in 30 s"
    fi
    sleep 30
  done
}
