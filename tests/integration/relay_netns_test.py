#!/usr/bin/env python3
"""Peer relay between simulated laptops in network namespaces.

A bridge in its own namespace is the workshop switch; one namespace holds a real revive-server
and, in front of it, a small scheduler double (this file, --proxy): it forwards every agent call
to the server but answers deploy progress reports with source assignments of its own and relay
reports with releases (the real scheduler is being built beside this; once it is merged this
test can drop the double and talk to the server directly). The double plans a chain in join
order: the first laptop fetches from the server, every later one from the laptop before it,
and the second laptop's first source is a lying peer (this file, --liar: it serves every chunk
with one byte flipped). Four real revive-agents (--simulate, regular files as disks) deploy a
random image; the second one is killed with SIGKILL mid-deploy while the third fetches from it.

Checks: the liar is caught (a bad_chunk failure) and dropped, the killed peer is reported and
replaced, relaying really carried chunks, each surviving disk is cmp-identical to the image, and
every agent's peak RSS stays under 256 MiB. Needs root (namespaces): exits 77 otherwise.

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
SUBNET = "10.77.{}"
LIAR_ID = 999
IMAGE_BYTES = 24 << 20
LAPTOPS = 4
# Every port's egress, as on a workshop switch where the server's port is no faster than a
# laptop's: slow enough that a deploy takes seconds (the kill lands mid-deploy).
PORT_RATE = "16mbit"


# ---------------------------------------------------------------- the scheduler double

class Plan:
    """Sources by join order; failures drop peers. Every change gets a new epoch."""

    def __init__(self, log_path, liar_url):
        self.mu = threading.Lock()
        self.order = []  # device ids by first deploy report
        self.laptops = {}  # id -> {url, held, count, bad: set, dead}
        self.assigned = {}  # id -> source dict
        self.epoch = 0
        self.liar_url = liar_url
        self.log = open(log_path, "a", buffering=1)

    def note(self, **event):
        self.log.write(json.dumps(dict(event, t=round(time.monotonic(), 2))) + "\n")

    def source_for(self, dev):
        me = self.laptops[dev]
        pos = self.order.index(dev)
        if pos == 1 and LIAR_ID not in me["bad"]:
            return {"kind": "peer", "peer": LIAR_ID, "url": self.liar_url, "reason": "the liar"}
        for parent in reversed(self.order[:pos]):
            p = self.laptops[parent]
            if not p["dead"] and parent not in me["bad"] and p["url"]:
                return {"kind": "peer", "peer": parent, "url": p["url"], "reason": "chain"}
        return {"kind": "server", "reason": "head of the chain"}

    def progress(self, dev, ip, deploy):
        with self.mu:
            if dev not in self.laptops:
                self.order.append(dev)
                self.laptops[dev] = {"bad": set(), "dead": False}
                self.note(event="join", device=dev, ip=ip)
            me = self.laptops[dev]
            me["url"] = f"http://{ip}:{deploy['relay_port']}" if deploy.get("relay_port") else ""
            me["held"], me["count"] = deploy.get("chunks_held", 0), deploy.get("chunk_count", 1)
            me["seen"] = time.monotonic()
            failed = deploy.get("source_failed")
            if failed:
                self.note(event="failure", device=dev, **failed)
                me["bad"].add(failed["peer"])
                if failed["peer"] in self.laptops and not failed.get("bad_chunk"):
                    self.laptops[failed["peer"]]["dead"] = True
            self.note(event="progress", device=dev, held=me["held"], count=me["count"],
                      source=deploy.get("source"))
            src = self.source_for(dev)
            old = self.assigned.get(dev)
            if old is None or {k: old[k] for k in src} != src:
                self.epoch += 1
                src["epoch"] = self.epoch
                self.assigned[dev] = src
                self.note(event="assign", device=dev, **src)
            return self.assigned[dev]

    def release(self, dev):
        with self.mu:
            live = [d for d, l in self.laptops.items() if not l["dead"]]
            done = len(self.laptops) >= LAPTOPS and all(self.laptops[d]["held"] >= self.laptops[d]["count"] for d in live)
            if done:
                self.note(event="release", device=dev)
            return done


def run_proxy(listen_ip, server_port, liar_url, log_path, port_file):
    plan = Plan(log_path, liar_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def forward(self, body):
            c = http.client.HTTPConnection(listen_ip, server_port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            c.request(self.command, self.path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            c.close()
            return r.status, data, r.getheader("Content-Type", "application/json")

        def answer(self, status, data, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            m = re.fullmatch(r"/api/v1/agents/(\d+)/(progress|relay)", self.path)
            if m and m.group(2) == "relay":
                release = plan.release(int(m.group(1)))
                return self.answer(200, json.dumps({"release": release}).encode())
            status, data, ctype = self.forward(body)
            if m and 200 <= status < 300:
                deploy = json.loads(body).get("progress", {}).get("deploy")
                if deploy:
                    src = plan.progress(int(m.group(1)), self.client_address[0], deploy)
                    data = json.dumps({"source": src}).encode()
                    status, ctype = 200, "application/json"
            self.answer(status, data, ctype)

        do_GET = do_POST = do_PUT = do_HEAD = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    s = Server((listen_ip, 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(s.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    s.serve_forever()


def run_liar(listen_ip, server_url, port_file):
    """A peer that serves every chunk with one byte flipped (a frame of the right size)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            with urllib.request.urlopen(server_url + self.path, timeout=30) as r:
                data = bytearray(r.read())
            data[len(data) // 2] ^= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(bytes(data))

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    s = Server((listen_ip, 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(s.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    s.serve_forever()


# ---------------------------------------------------------------- the test

def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def wait_file(path, timeout=20):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.05)
    with open(path) as f:
        return f.read().strip()


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
        sh("ip", "netns", "exec", full, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", PORT_RATE,
           "burst", "32kbit", "latency", "400ms")
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


def events(log_path):
    with open(log_path) as f:
        return [json.loads(line) for line in f if line.strip()]


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
    net = Network()
    procs = []
    failures = []

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
        liar_ns, liar_ip = net.host("liar", 20)
        laptops = [net.host(f"l{i}", 10 + i) for i in range(1, 5)]

        srv = subprocess.Popen(["ip", "netns", "exec", srv_ns, server_bin, "--state", state, "--listen",
                                f"{srv_ip}:0"], stderr=subprocess.PIPE, text=True)
        procs.append(srv)
        while True:
            line = srv.stderr.readline()
            if not line:
                raise RuntimeError("revive-server exited during startup")
            m = re.search(r"listening on .* port (\d+)", line)
            if m:
                break
        server_port = int(m.group(1))
        threading.Thread(target=srv.stderr.read, daemon=True).start()
        # The operator API: from inside the server's namespace (loopback helpers cannot reach it).
        def op(method, path, body=None):
            code = ("import json,sys,urllib.request\n"
                    "r=urllib.request.Request(sys.argv[1],method=sys.argv[2],"
                    "data=sys.argv[4].encode() if sys.argv[4]!='null' else None,"
                    "headers={'Authorization':'Bearer '+sys.argv[3],'Content-Type':'application/json'})\n"
                    "print(urllib.request.urlopen(r,timeout=30).read().decode())")
            out = sh("ip", "netns", "exec", srv_ns, sys.executable, "-c", code,
                     f"http://{srv_ip}:{server_port}{path}", method, token, json.dumps(body)).stdout
            return json.loads(out)

        liar_port_file = os.path.join(tmp.name, "liar.port")
        procs.append(subprocess.Popen(["ip", "netns", "exec", liar_ns, sys.executable, __file__, "--liar", liar_ip,
                                       f"http://{srv_ip}:{server_port}", liar_port_file]))
        liar_url = f"http://{liar_ip}:{wait_file(liar_port_file)}"
        log_path = os.path.join(tmp.name, "plan.jsonl")
        proxy_port_file = os.path.join(tmp.name, "proxy.port")
        procs.append(subprocess.Popen(["ip", "netns", "exec", srv_ns, sys.executable, __file__, "--proxy", srv_ip,
                                       str(server_port), liar_url, log_path, proxy_port_file]))
        proxy = f"http://{srv_ip}:{wait_file(proxy_port_file)}"
        open(log_path, "a").close()

        op("POST", "/api/v1/workflows", {"name": "w", "steps": [
            {"kind": "deploy", "params": {"image": "img", "fit": False, "direct_io": False}},
            {"kind": "finish", "params": {"relay_linger_s": 30}}]})
        op("POST", "/api/v1/settings", {"default_workflow": "w"})

        models = ["thinkpad-t480", "elitebook-840-g5", "latitude-7490", "hp-stream-11"]
        agents = []
        for i, ((ns, ip), model) in enumerate(zip(laptops, models)):
            disk = os.path.join(tmp.name, f"disk{i}")
            with open(disk, "wb") as f:
                f.truncate(IMAGE_BYTES)
            out = open(os.path.join(tmp.name, f"agent{i}.log"), "w")
            p = subprocess.Popen(["ip", "netns", "exec", ns, agent_bin, "--simulate", "--root",
                                  os.path.join(data, "laptops", model), "--disk", disk, "--server", proxy,
                                  "--server-key", key, "--long-poll", "2",
                                  "--label", f"l{i + 1}"], stdout=out, stderr=subprocess.STDOUT)
            procs.append(p)
            agents.append({"proc": p, "disk": disk, "ip": ip, "log": out.name, "rss": 0, "id": None})
            time.sleep(1.5)  # a join order the chain follows

        # Kill the second laptop once its child (the third) fetches from it and it is a third done.
        killed = None
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and any(a["proc"].poll() is None for a in agents):
            for a in agents:
                if a["proc"].poll() is None:
                    a["rss"] = max(a["rss"], peak_rss_kib(a["proc"].pid))
            ev = events(log_path)
            ids = {e["ip"]: e["device"] for e in ev if e["event"] == "join"}
            for a in agents:
                a["id"] = ids.get(a["ip"], a["id"])
            if killed is None and len(ids) >= 3:
                order = [e["device"] for e in ev if e["event"] == "join"]
                second, third = order[1], order[2]
                held = max([e["held"] for e in ev if e["event"] == "progress" and e["device"] == second] or [0])
                count = max([e["count"] for e in ev if e["event"] == "progress" and e["device"] == second] or [1])
                third_from_second = any(e["event"] == "assign" and e["device"] == third and e.get("peer") == second
                                        for e in ev)
                if third_from_second and held * 3 >= count:
                    killed = next(a for a in agents if a["id"] == second)
                    killed["proc"].send_signal(signal.SIGKILL)
                    killed["proc"].wait()
                    print(f"killed laptop {second} at {held}/{count} chunks", flush=True)
            time.sleep(0.2)
        for a in agents:
            if a["proc"].poll() is None:
                a["proc"].kill()
                a["proc"].wait()

        ev = events(log_path)
        order = [e["device"] for e in ev if e["event"] == "join"]
        check(len(order) == 4, f"four laptops joined the deploy ({order})")
        check(killed is not None, "the second laptop was killed mid-deploy while relaying")
        fails = [e for e in ev if e["event"] == "failure"]
        check(any(f["peer"] == LIAR_ID and f["bad_chunk"] for f in fails),
              "the lying peer was caught by its bad chunk and reported")
        if killed is not None:
            check(any(f["peer"] == killed["id"] and not f["bad_chunk"] for f in fails),
                  f"the killed peer {killed['id']} was reported by its child")
        for i, a in enumerate(agents):
            if a is killed:
                continue
            with open(a["log"]) as f:
                log = f.read()
            check(a["proc"].returncode == 0, f"laptop l{i + 1} finished (exit {a['proc'].returncode})"
                  + ("" if a["proc"].returncode == 0 else "\n" + log[-3000:]))
            same = sh("cmp", image, a["disk"], check=False).returncode == 0
            check(same, f"laptop l{i + 1}'s disk is cmp-identical to the image")
            check(0 < a["rss"] < 256 * 1024, f"laptop l{i + 1}'s peak RSS {a['rss']} KiB < 256 MiB")
        peer_bytes = 0
        for a in agents:
            if a is killed or a["id"] is None:
                continue
            d = op("GET", f"/api/v1/devices/{a['id']}")
            for r in d.get("results", []):
                if r.get("kind") == "deploy" and isinstance(r.get("result"), dict):
                    peer_bytes += r["result"].get("sources", {}).get("peer_bytes", 0)
        check(peer_bytes > 0, f"chunks travelled between laptops ({peer_bytes} bytes from peers)")
    finally:
        if failures and os.environ.get("RELAY_TEST_KEEP"):
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
    if len(sys.argv) > 1 and sys.argv[1] == "--proxy":
        run_proxy(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    elif len(sys.argv) > 1 and sys.argv[1] == "--liar":
        run_liar(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(main(*sys.argv[1:5]))
