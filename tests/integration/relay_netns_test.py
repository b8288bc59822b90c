#!/usr/bin/env python3
"""Peer relay between simulated laptops in network namespaces, planned by the real scheduler.

A bridge in its own namespace is the workshop switch; every port is shaped to the same rate in
both directions (tbf on each end of its veth), so the server's port is no faster than a
laptop's, and the server runs its deployment scheduler (`--relay --uplink-mbps` at that rate).
Five real revive-agents (--simulate, regular files as disks) deploy a random image, each started
once the one before it is deploying, so the scheduler's chain starts in join order. The second one is a lying laptop:
an honest agent whose relay port is redirected (nft, inside its own namespace) to a small proxy
in this file (--liar) that passes every request on to that agent's relay and flips one byte of
every chunk it answers. To the server it is an ordinary laptop, so the scheduler names it as a
source like any other. Once a relaying laptop (not the liar) is a third done while another
laptop fetches from it, the test kills it with SIGKILL.

A watcher in the server's namespace (this file, --watch) records the server's own view every
200 ms: each laptop's source assignment and progress (GET /api/v1/devices). Checks, from the
server's data: the liar was named as a source, caught by its bad chunk (a source failure) and
never named again; the killed laptop's child was re-planned away from it; chunks really came
from peers (the deploy results' `delivery.bytes_from_peers` and the agents' `sources`, and
/metrics bytes by source); every surviving laptop, the liar included (it fetches honestly),
finishes with a disk cmp-identical to the image, at under 256 MiB peak RSS.
Needs root (namespaces): exits 77 otherwise.

usage: relay_netns_test.py revive-server revive-agent revivectl tests/data
"""
import http.client
import http.server
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

PREFIX = f"rly{os.getpid() % 100000}"
IMAGE_BYTES = 12 << 20
# Every port's rate, both ways: slow enough that a deploy takes seconds (the kill lands
# mid-deploy), fast enough that the test stays short. The server plans with the same rate.
PORT_MBIT = 16
# Every agent's relay listens here (a deploy param), so the liar's namespace can redirect it.
RELAY_PORT = 7000
LIAR_PORT = 7001
MODELS = ["thinkpad-t480", "macbook-air-7-2", "elitebook-840-g5", "latitude-7490", "hp-stream-11"]
LIAR = 1  # the second laptop to join: early in the chain, so someone is planned behind it
# How long after the liar is caught (or a peer killed) the server may still name it.
REPLAN_S = 3.0


# ---------------------------------------------------------------- helpers run in namespaces

def run_liar(log_path):
    """Passes each relay request on to the agent's own relay; flips a byte of every chunk."""
    log = open(log_path, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            c = http.client.HTTPConnection("127.0.0.1", RELAY_PORT, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("range",)}
            c.request(self.command, self.path, headers=headers)
            r = c.getresponse()
            data = bytearray(r.read())
            c.close()
            if r.status in (200, 206) and data:
                data[len(data) // 2] ^= 1
                log.write(json.dumps({"t": time.monotonic(), "path": self.path}) + "\n")
            self.send_response(r.status)
            for name in ("Retry-After", "X-Revive-Relay"):  # as the honest relay says them
                if r.getheader(name):
                    self.send_header(name, r.getheader(name))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(bytes(data))

        do_GET = do_HEAD = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    Server(("0.0.0.0", LIAR_PORT), Handler).serve_forever()


def run_watch(base, token, log_path):
    """Appends the server's view of every laptop (source, progress) every 200 ms."""
    log = open(log_path, "a", buffering=1)
    while True:
        try:
            req = urllib.request.Request(base + "/api/v1/devices",
                                         headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(req, timeout=5) as r:
                devices = json.loads(r.read())
            view = {}
            for d in devices:
                cur = d.get("current") or {}
                prog = cur.get("progress") or {}
                view[str(d["id"])] = {"state": d.get("state"), "step": cur.get("kind"),
                                      "source": cur.get("source"),
                                      "done": prog.get("bytes_done", 0),
                                      "total": prog.get("bytes_total", 0)}
            log.write(json.dumps({"t": time.monotonic(), "devices": view}) + "\n")
        except (OSError, ValueError) as e:
            log.write(json.dumps({"t": time.monotonic(), "error": str(e)}) + "\n")
        time.sleep(0.2)


# ---------------------------------------------------------------- the test

def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


class Network:
    """A bridge namespace (the switch) and one namespace per host, 10.77.0.N/24."""

    def __init__(self):
        self.names = []
        self.ns(f"{PREFIX}-sw")
        sh("ip", "-n", f"{PREFIX}-sw", "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", f"{PREFIX}-sw", "link", "set", "br0", "up")

    def ns(self, name):
        sh("ip", "netns", "add", name)
        self.names.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def host(self, name, n):
        full = f"{PREFIX}-{name}"
        self.ns(full)
        port = f"p{n}"
        sh("ip", "-n", f"{PREFIX}-sw", "link", "add", port, "type", "veth", "peer", "name", "eth0",
           "netns", full)
        sh("ip", "-n", f"{PREFIX}-sw", "link", "set", port, "master", "br0", "up")
        sh("ip", "-n", full, "addr", "add", f"10.77.0.{n}/24", "dev", "eth0")
        sh("ip", "-n", full, "link", "set", "eth0", "up")
        # Full duplex: the host's sending side and the switch's side towards the host.
        for ns, dev in ((full, "eth0"), (f"{PREFIX}-sw", port)):
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate",
               f"{PORT_MBIT}mbit", "burst", "32kbit", "latency", "400ms")
        return full, f"10.77.0.{n}"

    def close(self):
        for name in reversed(self.names):
            sh("ip", "netns", "del", name, check=False)


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def jsonl(path):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # the line being written
    return out


def peer_of(view):
    """The peer id a laptop's current assignment names, else None."""
    src = view.get("source") or {}
    return src.get("peer") if src.get("kind") == "peer" else None


def moved_on(view, killed):
    """Whether a laptop's view shows a plan without the killed laptop (another source, or a
    place in the queue when no uplink has budget to spare), or its deploy over."""
    if not view:
        return False
    if view.get("step") != "deploy":
        return True
    src = view.get("source") or {}
    return src.get("kind") in ("server", "peer", "queued") and src.get("peer") != killed["id"]


def trace_time(path):
    lines = [w for w in jsonl(path) if "devices" in w]
    return lines[-1]["t"] if lines else 0.0


def history(trace, agents):
    """Each laptop's sources over time, as the server's view showed them (for the log)."""
    t0 = trace[0]["t"] if trace else 0.0
    out = []
    for a in agents:
        seen, last = [], object()
        for w in trace:
            v = w["devices"].get(str(a["id"]))
            if not v or v.get("step") != "deploy":
                continue
            src = v.get("source") or {}
            label = f"peer {src.get('peer')}" if src.get("kind") == "peer" else src.get("kind")
            if label != last:
                reason = f" ({src['reason']})" if src.get("reason") else ""
                seen.append(f"{w['t'] - t0:.1f}s {label}{reason}")
                last = label
        out.append(f"  {a['name']} (device {a['id']}): " + "; ".join(seen))
    return "\n".join(out)


def main(server_bin, agent_bin, ctl_bin, data):
    if os.geteuid() != 0:
        print("SKIP: network namespaces need root")
        return 77
    if sh("ip", "netns", "add", f"{PREFIX}-probe", check=False).returncode != 0:
        print("SKIP: cannot create network namespaces here")
        return 77
    sh("ip", "netns", "del", f"{PREFIX}-probe", check=False)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from e2elib import operator_token  # noqa: E402

    tmp = tempfile.TemporaryDirectory()
    os.chmod(tmp.name, 0o711)  # started as root, revive-server runs as user revive
    net = Network()
    procs = []
    failures = []
    started = time.monotonic()
    server_log = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    try:
        state = os.path.join(tmp.name, "state")
        token = operator_token(server_bin, state)
        image = os.path.join(tmp.name, "image.raw")
        with open(image, "wb") as f:
            f.write(os.urandom(IMAGE_BYTES))
        sh(ctl_bin, "image", "import", "--no-progress", "--store", os.path.join(state, "store"),
           "--name", "img", "--chunk-size", "256K", image)
        key = os.path.join(state, "store", "keys", "ed25519.pub")

        srv_ns, srv_ip = net.host("srv", 1)
        laptops = [net.host(f"l{i + 1}", 11 + i) for i in range(len(MODELS))]
        liar_ns = laptops[LIAR][0]
        nft = ["ip", "netns", "exec", liar_ns, "nft", "add"]
        sh(*nft, "table", "ip", "liar")
        sh(*nft, "chain", "ip", "liar", "pre", "{ type nat hook prerouting priority dstnat; }")
        sh(*nft, "rule", "ip", "liar", "pre", "tcp", "dport", str(RELAY_PORT), "redirect", "to",
           f":{LIAR_PORT}")

        srv = subprocess.Popen(["ip", "netns", "exec", srv_ns, server_bin, "--demo", "--state", state, "--listen",
                                f"{srv_ip}:0", "--relay", "--uplink-mbps", str(PORT_MBIT)],
                               stderr=subprocess.PIPE, text=True)
        procs.append(srv)
        while True:
            line = srv.stderr.readline()
            if not line:
                raise RuntimeError("revive-server exited during startup")
            m = re.search(r"listening on .* port (\d+)", line)
            if m:
                break
        base = f"http://{srv_ip}:{m.group(1)}"
        threading.Thread(target=lambda: server_log.extend(srv.stderr), daemon=True).start()

        # The operator API: from inside the server's namespace (loopback helpers cannot reach it).
        def op(method, path, body=None, raw=False):
            code = ("import sys,urllib.request\n"
                    "r=urllib.request.Request(sys.argv[1],method=sys.argv[2],"
                    "data=sys.argv[4].encode() if sys.argv[4]!='null' else None,"
                    "headers={'Authorization':'Bearer '+sys.argv[3],'Content-Type':'application/json'})\n"
                    "print(urllib.request.urlopen(r,timeout=30).read().decode())")
            out = sh("ip", "netns", "exec", srv_ns, sys.executable, "-c", code, base + path, method,
                     token, json.dumps(body)).stdout
            return out if raw else json.loads(out)

        liar_log = os.path.join(tmp.name, "liar.jsonl")
        watch_log = os.path.join(tmp.name, "watch.jsonl")
        procs.append(subprocess.Popen(["ip", "netns", "exec", liar_ns, sys.executable, __file__, "--liar",
                                       liar_log]))
        procs.append(subprocess.Popen(["ip", "netns", "exec", srv_ns, sys.executable, __file__, "--watch",
                                       base, token, watch_log]))

        op("POST", "/api/v1/workflows", {"name": "w", "steps": [
            {"kind": "deploy", "params": {"image": "img", "fit": False, "direct_io": False,
                                          "relay_port": RELAY_PORT}},
            {"kind": "finish", "params": {"relay_linger_s": 20}}]})
        op("POST", "/api/v1/settings", {"default_workflow": "w"})

        agents = []
        for i, ((ns, ip), model) in enumerate(zip(laptops, MODELS)):
            disk = os.path.join(tmp.name, f"disk{i}")
            with open(disk, "wb") as f:
                f.truncate(IMAGE_BYTES)
            out = open(os.path.join(tmp.name, f"agent{i}.log"), "w")
            p = subprocess.Popen(["ip", "netns", "exec", ns, agent_bin, "--simulate", "--root",
                                  os.path.join(data, "laptops", model), "--disk", disk, "--server", base,
                                  "--server-key", key, "--long-poll", "2", "--label", f"l{i + 1}"],
                                 stdout=out, stderr=subprocess.STDOUT)
            procs.append(p)
            agents.append({"proc": p, "disk": disk, "log": out.name, "rss": 0, "id": None,
                           "name": f"l{i + 1}" + (" (the liar)" if i == LIAR else "")})
            # The device id the server gave it (enrolment follows the start order), and a join
            # order the chain follows: the next one starts once this one is deploying.
            end = time.monotonic() + 15
            while time.monotonic() < end and agents[-1]["id"] is None:
                views = [w["devices"] for w in jsonl(watch_log) if "devices" in w]
                known = {a["id"] for a in agents}
                for dev, v in (views[-1].items() if views else []):
                    if int(dev) not in known and v.get("step") == "deploy" and v.get("total"):
                        agents[-1]["id"] = int(dev)
                time.sleep(0.1)
            if agents[-1]["id"] is None:
                raise RuntimeError(f"laptop l{i + 1} did not start its deploy step")
            time.sleep(0.6)
        by_id = {a["id"]: a for a in agents}
        liar = agents[LIAR]
        print("laptops: " + ", ".join(f"{a['name']} = device {a['id']}" for a in agents), flush=True)

        # Kill a relaying laptop (not the liar) once it is a third done while another fetches
        # from it.
        killed, kill_t, orphan = None, None, None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(a["proc"].poll() is None for a in agents):
            for a in agents:
                if a["proc"].poll() is None:
                    a["rss"] = max(a["rss"], peak_rss_kib(a["proc"].pid))
            views = [w["devices"] for w in jsonl(watch_log) if "devices" in w]
            fresh = views and time.monotonic() - trace_time(watch_log) < 0.3
            if killed is None and fresh:
                now = views[-1]
                for dev, v in now.items():
                    parent = by_id.get(peer_of(v))
                    pv = now.get(str(parent["id"])) if parent else None
                    if (parent and liar not in (parent, by_id.get(int(dev)))
                            and parent["proc"].poll() is None and pv
                            and pv.get("step") == "deploy" and pv["total"]
                            and 3 * pv["done"] >= pv["total"] and 5 * pv["done"] < 4 * pv["total"]):
                        killed, orphan = parent, by_id[int(dev)]
                        killed["proc"].send_signal(signal.SIGKILL)
                        killed["proc"].wait()
                        kill_t = time.monotonic()
                        print(f"killed {killed['name']} at {pv['done']}/{pv['total']} bytes while "
                              f"{orphan['name']} fetched from it", flush=True)
                        break
            time.sleep(0.2)
        for a in agents:
            if a["proc"].poll() is None:
                print(f"{a['name']} still running after the deadline: killed", flush=True)
                a["proc"].kill()
                a["proc"].wait()
        elapsed = time.monotonic() - started

        trace = [w for w in jsonl(watch_log) if "devices" in w]
        lies = jsonl(liar_log)
        print("sources by the server's view:\n" + history(trace, agents), flush=True)

        # The liar: named by the real scheduler, caught, never named again.
        named_liar = [(w["t"], dev) for w in trace for dev, v in w["devices"].items()
                      if peer_of(v) == liar["id"]]
        check(bool(named_liar) or bool(lies),
              f"the scheduler named the lying laptop {liar['id']} as a source "
              f"({len(named_liar)} samples of the server's view, {len(lies)} corrupted chunks served)")
        check(bool(lies), f"the liar's corrupted chunks were fetched ({len(lies)})")
        if lies:
            caught = lies[0]["t"]
            late = [t for t, dev in named_liar if t > caught + REPLAN_S]
            check(not late, f"after its first bad chunk the liar was never named again "
                  f"({len(late)} later samples)")
        metrics = op("GET", "/metrics", raw=True)

        def metric(name):
            m = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.M)
            return float(m.group(1)) if m else 0.0

        # At least the liar's bad chunk. The killed relay's child may report it too, unless the
        # server found the relay silent first and re-planned the child before it could (checked
        # below from the server's view, not from this count).
        check(metric("revive_deploy_source_failures_total") >= 1,
              f"the server took the source failures in "
              f"({metric('revive_deploy_source_failures_total'):.0f} counted)")

        # The killed relay: its child re-planned away from it.
        check(killed is not None, "a relaying laptop was killed mid-deploy while another fetched from it")
        if killed is not None:
            after = [w for w in trace if w["t"] > kill_t]
            moved = next((w["t"] for w in after if moved_on(w["devices"].get(str(orphan["id"])), killed)), None)
            check(moved is not None and moved - kill_t <= REPLAN_S + 3,
                  f"{orphan['name']} was re-planned away from the killed {killed['name']}"
                  + (f" after {moved - kill_t:.1f} s" if moved is not None else " (never)"))

        # Every survivor: finished, disk identical, small.
        bytes_from_peers, agent_peer_bytes = 0, 0
        for a in agents:
            if a is killed:
                continue
            with open(a["log"]) as f:
                log = f.read()
            check(a["proc"].returncode == 0, f"{a['name']} finished (exit {a['proc'].returncode})"
                  + ("" if a["proc"].returncode == 0 else "\n" + log[-3000:]))
            same = sh("cmp", image, a["disk"], check=False).returncode == 0
            check(same, f"{a['name']}'s disk is cmp-identical to the image")
            check(0 < a["rss"] < 256 * 1024, f"{a['name']}'s peak RSS {a['rss']} KiB < 256 MiB")
            d = op("GET", f"/api/v1/devices/{a['id']}")
            bytes_from_peers += (d.get("delivery") or {}).get("bytes_from_peers", 0)
            for r in d.get("results", []):
                if r.get("kind") == "deploy" and isinstance(r.get("result"), dict):
                    agent_peer_bytes += r["result"].get("sources", {}).get("peer_bytes", 0)
        # Half an image at least: the four laptops behind the first get the bulk of theirs from
        # peers while relaying works; the server's tally attributes chunks by the source an agent
        # names at each report, so the two counts differ a little.
        check(bytes_from_peers >= IMAGE_BYTES // 2,
              f"chunks came from peers by the server's tally (delivery.bytes_from_peers: "
              f"{bytes_from_peers} bytes, image {IMAGE_BYTES})")
        check(agent_peer_bytes >= IMAGE_BYTES // 2,
              f"chunks came from peers by the agents' own count (sources.peer_bytes: {agent_peer_bytes})")
        check(metric('revive_deploy_bytes_total{source="peer"}') > 0,
              "/metrics counts bytes from peers")
        print(f"deploys took {elapsed:.1f} s in all", flush=True)
    finally:
        if failures and server_log:
            print("revive-server's last lines:\n" + "".join(server_log[-40:]), flush=True)
        if os.environ.get("RELAY_TEST_KEEP"):  # a directory to keep the logs and traces in
            sh("cp", "-r", tmp.name, os.environ["RELAY_TEST_KEEP"], check=False)
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        net.close()
        tmp.cleanup()
    if failures:
        print(f"{len(failures)} checks failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--liar":
        run_liar(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--watch":
        run_watch(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(main(*sys.argv[1:5]))
