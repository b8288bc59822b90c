#!/usr/bin/env python3
"""The wall screen's cost on the server: N laptops report progress once a second (the agent
protocol over keep-alive HTTP, as many threads), first with no wall open (the baseline), then
with W wall streams open. Prints the server's CPU (utime+stime from /proc) per second of each
run, the ratio, and what each wall stream received (bytes and events per second).

    bench/wall_load.py SERVER_BIN [LAPTOPS=200] [SECONDS=20] [WALLS=2]
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

SERVER = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
SECS = float(sys.argv[3]) if len(sys.argv) > 3 else 20
WALLS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
TICK = os.sysconf("SC_CLK_TCK")


def post(conn, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request("POST", path, json.dumps(body), headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else {}


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def laptop(port, i, ready, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ident = {"system_uuid": f"uuid-load-{i}", "serial": f"LOAD{i:05d}", "model": "Latitude 7490", "vendor": "Dell Inc."}
    st, r = post(conn, "/api/v1/agents/enrol", {"identity": ident, "macs": [f"52:54:00:10:{i // 256:02x}:{i % 256:02x}"],
                                                "inventory": {}})
    assert st == 200, r
    dev, token = r["device_id"], r["agent_token"]
    st, r = post(conn, f"/api/v1/agents/{dev}/next?wait=0", {"nonce": os.urandom(16).hex()}, token)
    step = r["job"]["job"]["step"]
    ready.release()
    done = 0
    while not stop.is_set():
        done += 1 << 20
        try:
            post(conn, f"/api/v1/agents/{dev}/progress",
                 {"step": step, "progress": {"bytes_done": done, "bytes_total": 1 << 40, "rate": 1 << 20}}, token)
        except OSError:
            return  # the server was stopped at the end
        stop.wait(1.0)


def wall(port, kiosk, stats, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/wall/events?k=" + kiosk)
    r = conn.getresponse()
    while not stop.is_set():
        try:
            line = r.readline()
        except OSError:
            return
        if not line:
            break
        stats["bytes"] += len(line)
        if line.startswith(b"event: "):
            stats["events"] += 1


def measure(pid, port, kiosk, walls):
    stop = threading.Event()
    stats = [{"bytes": 0, "events": 0} for _ in range(walls)]
    threads = [threading.Thread(target=wall, args=(port, kiosk, s, stop), daemon=True) for s in stats]
    for t in threads:
        t.start()
    time.sleep(2)  # snapshots sent, first updates flowing
    for s in stats:
        s.update(bytes=0, events=0)
    c0, t0 = cpu_seconds(pid), time.time()
    time.sleep(SECS)
    cpu = (cpu_seconds(pid) - c0) / (time.time() - t0)
    stop.set()
    return cpu, stats


def main():
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        subprocess.run([SERVER, "--state", state, "operator", "add", "alice"], input="long enough pw\n", text=True,
                       check=True, capture_output=True)
        token = subprocess.run([SERVER, "--state", state, "operator", "token", "alice"], check=True,
                               capture_output=True, text=True).stdout.strip()
        p = subprocess.Popen([SERVER, "--state", state, "--listen", "127.0.0.1:0", "--tls-listen", "off", "--demo",
                              "--stall-timeout", "3600"], stderr=subprocess.PIPE, text=True)
        try:
            while not (m := re.search(r"listening on .* port (\d+)", p.stderr.readline())):
                pass
            threading.Thread(target=p.stderr.read, daemon=True).start()
            port = int(m.group(1))
            conn = http.client.HTTPConnection("127.0.0.1", port)
            _, r = post(conn, "/api/v1/workflows", {"name": "long", "steps": [{"kind": "test"}]}, token)
            post(conn, "/api/v1/settings", {"default_workflow": "long"}, token)
            _, k = post(conn, "/api/v1/kiosk-tokens", {"label": "bench"}, token)
            ready, stop = threading.Semaphore(0), threading.Event()
            for i in range(N):
                threading.Thread(target=laptop, args=(port, i, ready, stop), daemon=True).start()
            for _ in range(N):
                ready.acquire()
            base, _ = measure(p.pid, port, k["token"], 0)
            ours, stats = measure(p.pid, port, k["token"], WALLS)
            stop.set()
            print(f"{N} laptops reporting progress once a second, {SECS:.0f} s per run")
            print(f"baseline (no wall open): server CPU {base * 100:.1f}% of one core")
            print(f"with {WALLS} wall streams:    server CPU {ours * 100:.1f}% of one core "
                  f"(ratio {ours / base:.2f}, wall cost {(ours - base) * 100:.1f} points)")
            for i, s in enumerate(stats):
                print(f"wall stream {i}: {s['events'] / SECS:.1f} events/s, {s['bytes'] / SECS / 1024:.1f} KiB/s")
        finally:
            p.kill()
            p.wait()


main()
