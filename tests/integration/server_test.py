#!/usr/bin/env python3
"""Integration tests for revive-server: the real binary on 127.0.0.1 (port 0 -> the port it
prints), real sockets, real SQLite files, real curl for Range/ETag.

usage: server_test.py path/to/revive-server path/to/revivectl
"""
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

SERVER = CTL = None
STEPS = ["inventory", "wipe", "test", "deploy", "provision", "certify", "finish"]
# What an agent reports after wiping one drive (the server certifies it; see agent-protocol.md).
WIPE_EVIDENCE = {"drives": [{
    "drive": {"name": "nvme0n1", "model": "TEST SSD", "serial": "S1", "size_bytes": 1 << 30, "media": "ssd", "transport": "nvme"},
    "method": "overwrite", "nist_level": "Clear", "why": "test", "tool": "test", "started_at": "2026-11-22T10:00:00Z",
    "finished_at": "2026-11-22T10:01:00Z", "pattern": "zeros",
    "verification": {"method": "full", "seed": "1", "samples": 256, "bytes_checked": 1 << 30, "coverage_permille": 1000,
                     "mismatches": 0, "read_errors": 0},
    "result": "passed"}]}


# The one internal drive WIPE_EVIDENCE is about: a wipe job names it, and evidence must match.
INVENTORY = {"ram_gib": 8, "disks": [{"name": "nvme0n1", "model": "TEST SSD", "serial": "S1", "size_bytes": 1 << 30,
                                      "transport": "nvme", "removable": False}],
             # as the agent reports them (issue 15): without the list no certificate passes
             "storage_controllers": [{"bus": "pci", "address": "0000:02:00.0", "pci": "0000:02:00.0",
                                      "class": "0x010802", "driver": "nvme", "disks": ["nvme0n1"]}]}


class Server:
    # Demo mode: these simulated laptops enrol without boot tokens (docs/SECURITY.md).
    def __init__(self, state, extra=("--demo",)):
        self.state = state
        self.extra = list(extra)
        self.proc = None
        self.port = None

    def start(self):
        self.proc = subprocess.Popen([SERVER, "--state", self.state, "--listen", "127.0.0.1:0", *self.extra],
                                     stderr=subprocess.PIPE, text=True)
        seen = []
        while True:  # lines before "listening" (the demo-mode warning) are skipped
            line = self.proc.stderr.readline()
            seen.append(line)
            m = re.search(r"listening on .*port (\d+)", line)
            if m or not line:
                break
        assert m, f"server did not start: {''.join(seen)}"
        self.port = int(m.group(1))
        # The lines after it say where operators' HTTPS is and the key's pin (when TLS is on).
        self.tls_port = self.tls_pin = None
        while "--tls-listen" not in self.extra or self.extra[self.extra.index("--tls-listen") + 1] != "off":
            line = self.proc.stderr.readline()
            seen.append(line)
            t = re.search(r"HTTPS on port (\d+), key pin (sha256//\S+)", line)
            if t:
                self.tls_port, self.tls_pin = int(t.group(1)), t.group(2)
            if t or not line:
                break
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # drain
        return self

    @property
    def tls_url(self):
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.proc.stderr.close()
        return rc


def call(srv, method, path, body=None, token=None, raw=None, headers=None, timeout=40):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            payload = r.read()
            return r.status, (json.loads(payload) if r.headers.get_content_type() == "application/json" else payload)
    except urllib.error.HTTPError as e:
        payload = e.read()
        try:
            return e.code, json.loads(payload)
        except ValueError:
            return e.code, payload


def headers_only(srv, path, length):
    """POSTs only a request header announcing `length` body bytes; returns (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def make_operator(state, name="alice", password="correct horse battery"):
    subprocess.run([SERVER, "--state", state, "operator", "add", name], input=password + "\n",
                   text=True, check=True, capture_output=True)


class Agent:
    """A simulated laptop speaking the agent protocol."""

    def __init__(self, serial, uuid=None):
        self.identity = {"system_uuid": uuid or f"uuid-{serial}", "serial": serial, "model": "ThinkPad T480",
                         "vendor": "LENOVO"}
        self.id = self.token = None

    def enrol(self, srv):
        st, r = call(srv, "POST", "/api/v1/agents/enrol", {"identity": self.identity, "macs": ["52:54:00:12:34:56"],
                                                            "inventory": INVENTORY})
        assert st == 200, (st, r)
        self.id, self.token = r["device_id"], r["agent_token"]
        return r

    def next(self, srv, wait=0):
        """The answer to next; a step arrives only as a signed job (bound to this device and
        this request's nonce), which is read back into "step" for the tests below."""
        nonce = os.urandom(16).hex()
        st, r = call(srv, "POST", f"/api/v1/agents/{self.id}/next?wait={wait}", {"nonce": nonce}, self.token)
        if st == 200 and r.get("state") == "step":
            assert "step" not in r, r  # never a plain step
            job = r["job"]["job"]
            assert r["job"]["signature"]["covers"] == "kind,body", r
            assert (job["device"], job["nonce"]) == (self.id, nonce), (job, self.id, nonce)
            assert job["issued_at"] < job["expires_at"], job
            r["step"] = {"id": job["step"], "kind": job["kind"], "attempt": job["attempt"], "params": job["params"],
                         "resumed": job["resumed"], **({"checkpoint": job["checkpoint"]} if "checkpoint" in job else {})}
        return st, r

    def result(self, srv, step, status="ok", error="", result=None):
        return call(srv, "POST", f"/api/v1/agents/{self.id}/steps/{step['id']}/result",
                    {"attempt": step["attempt"], "status": status,
                     "result": result or (WIPE_EVIDENCE if step["kind"] == "wipe" else {"kind": step["kind"]}),
                     "error": error}, self.token)


class ServerFixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o711)  # started as root, revive-server runs as user revive
        self.state = os.path.join(self.tmp.name, "state")
        self.srv = Server(self.state).start()

    def tearDown(self):
        if self.srv.proc.poll() is None:
            self.srv.kill()
        self.tmp.cleanup()

    def import_random_image(self, name, size):
        """Imports `size` random bytes as image `name` into the server's store; (store, image info)."""
        return self.import_image(name, os.urandom(size))

    def import_image(self, name, data, *args):
        """Imports `data` as image `name` into the server's store; (store, image info)."""
        store = os.path.join(self.state, "store")
        img = os.path.join(self.tmp.name, name + ".img")
        with open(img, "wb") as f:
            f.write(data)
        subprocess.run([CTL, "image", "import", "--no-progress", "--store", store, "--name", name, *args, img],
                       check=True, capture_output=True)
        info = json.loads(subprocess.run([CTL, "image", "info", "--store", store, "--json", name], check=True,
                                         capture_output=True, text=True).stdout)
        return store, info

    def login(self):
        make_operator(self.state)
        st, r = call(self.srv, "POST", "/api/v1/login", {"name": "alice", "password": "correct horse battery"})
        self.assertEqual(st, 200, r)
        return r["token"]


class ServerTest(ServerFixture):
    def test_health_and_metrics(self):
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)
        st, text = call(self.srv, "GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"revive_agents{state=", text)
        self.assertIn(b"revive_http_request_duration_seconds_bucket", text)

    def test_full_protocol_through_every_step(self):
        a = Agent("PF0ABC12")
        self.assertTrue(a.enrol(self.srv)["new_device"])
        seen = []
        for _ in STEPS:
            st, r = a.next(self.srv)
            self.assertEqual(st, 200)
            self.assertEqual(r["state"], "step", r)
            step = r["step"]
            seen.append(step["kind"])
            st, r = call(self.srv, "POST", f"/api/v1/agents/{a.id}/progress",
                         {"step": step["id"], "progress": {"bytes_done": 10, "bytes_total": 100, "stage": "x"}}, a.token)
            self.assertEqual(st, 200, r)
            self.assertEqual(a.result(self.srv, step)[1], {"recorded": True})
            self.assertEqual(a.result(self.srv, step)[1], {"recorded": False, "duplicate": True})  # exactly once
        self.assertEqual(seen, STEPS)
        self.assertEqual(a.next(self.srv)[1], {"state": "done"})
        token = self.login()
        st, dev = call(self.srv, "GET", f"/api/v1/devices/{a.id}", token=token)
        self.assertEqual(dev["state"], "done")
        self.assertEqual([r["kind"] for r in dev["results"]], STEPS)
        st, certs = call(self.srv, "GET", f"/api/v1/devices/{a.id}/certificates", token=token)
        self.assertEqual(sorted((c["kind"], c["result"]) for c in certs), [("drive", "passed"), ("laptop", "passed")])
        # A rebooted laptop that enrols again is the same device and stays done.
        b = Agent("PF0ABC12")
        self.assertFalse(b.enrol(self.srv)["new_device"])
        self.assertEqual(b.id, a.id)
        self.assertEqual(b.next(self.srv)[1], {"state": "done"})
        self.assertEqual(a.next(self.srv)[0], 401)  # the old boot's token no longer works

    def test_reconnect_resumes_the_running_step(self):
        a = Agent("R1")
        a.enrol(self.srv)
        st, r = a.next(self.srv)
        a.result(self.srv, r["step"])
        st, r = a.next(self.srv)  # wipe handed out
        self.assertEqual(r["step"]["kind"], "wipe")
        a2 = Agent("R1")
        a2.enrol(self.srv)  # reboot mid-wipe
        st, r2 = a2.next(self.srv)
        self.assertEqual(r2["step"]["id"], r["step"]["id"])
        self.assertTrue(r2["step"]["resumed"])
        self.assertEqual(r2["step"]["attempt"], r["step"]["attempt"])

    def test_failure_waits_for_operator_then_retry_and_skip(self):
        token = self.login()
        a = Agent("F1")
        a.enrol(self.srv)
        st, r = a.next(self.srv)
        a.result(self.srv, r["step"], status="failed", error="SMBIOS table unreadable")
        st, w = a.next(self.srv)
        self.assertEqual(w["state"], "waiting")
        self.assertIn("SMBIOS", w["reason"])
        # A long-poll is answered as soon as the operator retries.
        out = {}
        t = threading.Thread(target=lambda: out.update(r=a.next(self.srv, wait=20)))
        t.start()
        time.sleep(0.5)
        start = time.time()
        st, rr = call(self.srv, "POST", f"/api/v1/steps/{r['step']['id']}/retry", {}, token)
        self.assertEqual(st, 200, rr)
        t.join(10)
        self.assertLess(time.time() - start, 5)
        self.assertEqual(out["r"][1]["step"]["attempt"], 2)
        # Old attempt's result is refused; skip moves on.
        self.assertEqual(a.result(self.srv, r["step"])[0], 409)
        st, rr = call(self.srv, "POST", f"/api/v1/steps/{r['step']['id']}/skip", {}, token)
        self.assertEqual(st, 200, rr)
        self.assertEqual(a.next(self.srv)[1]["step"]["kind"], "wipe")
        st, rr = call(self.srv, "POST", f"/api/v1/devices/{a.id}/cancel", {}, token)
        self.assertEqual(st, 200, rr)
        self.assertEqual(a.next(self.srv)[1], {"state": "cancelled"})

    def test_auth_failures_change_nothing(self):
        a = Agent("A1")
        a.enrol(self.srv)
        b = Agent("B1")
        b.enrol(self.srv)
        for method, path in [("GET", "/api/v1/devices"), ("POST", "/api/v1/steps/1/skip"),
                             ("POST", "/api/v1/devices/1/cancel"), ("GET", "/api/v1/export"),
                             ("POST", "/api/v1/workflows"), ("GET", "/api/v1/events")]:
            for tok in (None, "wrong", a.token):
                st, r = call(self.srv, method, path, {}, tok)
                self.assertEqual(st, 401, (method, path, tok, r))
        self.assertEqual(call(self.srv, "POST", f"/api/v1/agents/{a.id}/next", {}, None)[0], 401)
        self.assertEqual(call(self.srv, "POST", f"/api/v1/agents/{a.id}/next", {}, b.token)[0], 401)
        self.assertEqual(call(self.srv, "POST", "/api/v1/login", {"name": "x", "password": "y"})[0], 401)
        token = self.login()
        st, devs = call(self.srv, "GET", "/api/v1/devices", token=token)
        self.assertTrue(all(d["steps"][1]["state"] == "pending" for d in devs))  # nothing skipped

    def test_repeated_wrong_logins_are_throttled(self):
        # A name of its own, so the other tests' logins as alice are not locked out.
        for _ in range(5):
            st, r = call(self.srv, "POST", "/api/v1/login", {"name": "mallory", "password": "guess"})
            self.assertEqual(st, 401, r)
        req = urllib.request.Request(self.srv.url + "/api/v1/login", method="POST",
                                     data=json.dumps({"name": "mallory", "password": "guess"}).encode())
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 429)
        self.assertGreater(int(cm.exception.headers["Retry-After"]), 800)
        self.assertIn("too many failed logins", json.loads(cm.exception.read())["error"])
        self.assertTrue(self.login(), "another operator still logs in")

    def test_malformed_and_oversized_requests(self):
        a = Agent("M1")
        a.enrol(self.srv)
        for raw in [b"{", b"[]", b"null", b"\xff\xfe"]:
            st, r = call(self.srv, "POST", "/api/v1/agents/enrol", raw=raw)
            self.assertEqual(st, 400, raw)
            self.assertIn("JSON", r["error"])
        st, r = call(self.srv, "POST", f"/api/v1/agents/{a.id}/steps/1/result", {"status": "ok"}, a.token)
        self.assertEqual(st, 400)
        st, r = call(self.srv, "POST", f"/api/v1/agents/{a.id}/steps/1/result", {"attempt": 0, "status": "maybe"}, a.token)
        self.assertEqual(st, 400)
        # An oversized body is refused from its Content-Length, before it is read.
        st, body = headers_only(self.srv, "/api/v1/agents/enrol", 64 << 20)
        self.assertEqual(st, 413)
        self.assertIn(b"larger than", body)
        st, r = call(self.srv, "GET", "/healthz", headers={"X-Big": "a" * 20000})
        self.assertEqual(st, 431)
        st, r = call(self.srv, "GET", "/chunks/not-a-hash")
        self.assertEqual(st, 400)
        st, r = call(self.srv, "GET", "/nope")
        self.assertEqual(st, 404)
        st, _ = a.next(self.srv)
        self.assertEqual(st, 200)  # still serving, nothing recorded by the bad requests
        token = self.login()
        st, dev = call(self.srv, "GET", f"/api/v1/devices/{a.id}", token=token)
        self.assertEqual(dev["results"], [])

    def test_deeply_nested_json_is_refused_and_the_server_lives(self):
        # Issue 15, finding 4: ~200 KB of brackets (under the body limit) to the
        # unauthenticated enrol endpoint used to overflow the stack when the value was copied,
        # taking HTTP, DHCP and TFTP down together.
        deep = b'{"identity": {"serial": "D1"}, "inventory": ' + b"[" * 100000 + b"]" * 100000 + b"}"
        st, r = call(self.srv, "POST", "/api/v1/agents/enrol", raw=deep)
        self.assertEqual(st, 400, r)
        self.assertIn("nested deeper", r["error"])
        for raw in [b'{"a": ' + b'{"b": ' * 30000 + b"1" + b"}" * 30001, b"[" * 100000]:  # under the 256 KiB limit
            st, r = call(self.srv, "POST", "/api/v1/agents/enrol", raw=raw)
            self.assertEqual(st, 400, r)
        self.assertIsNone(self.srv.proc.poll())
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)
        # An inventory of the wrong type is refused before it is copied into the record.
        st, r = call(self.srv, "POST", "/api/v1/agents/enrol", {"identity": {"serial": "D2"}, "inventory": [1]})
        self.assertEqual(st, 400, r)
        self.assertIn("inventory", r["error"])

    def test_operators_need_https_from_the_lan_and_bodies_wait_for_auth(self):
        # Issue 15, findings 5 and 8. 127.0.0.2 plays a LAN host (only 127.0.0.1/::1 count as
        # this machine).
        def from_lan(method, path, headers, body=b""):
            conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10,
                                              source_address=("127.0.0.2", 0))
            try:
                conn.putrequest(method, path)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                if body:
                    conn.send(body)
                resp = conn.getresponse()
                return resp.status, resp.read()
            finally:
                conn.close()
        body = json.dumps({"name": "alice", "password": "correct horse battery"}).encode()
        st, r = from_lan("POST", "/api/v1/login", {"Content-Length": str(len(body))}, body)
        self.assertEqual(st, 403, r)
        self.assertIn(b"https", r)
        # An unauthenticated upload announcing 1 GiB is refused from its header alone.
        st, r = from_lan("POST", "/api/v1/images?name=x", {"Content-Length": str(1 << 30)})
        self.assertIn(st, (401, 403), r)
        # A public route's body is bounded from the header too.
        st, r = from_lan("POST", "/api/v1/agents/enrol", {"Content-Length": str(1 << 20)})
        self.assertEqual(st, 413, r)
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)

    def test_clients_that_reset_mid_chunk_do_not_take_the_server_down(self):
        # A laptop that loses power mid-download resets its connection while the server is in
        # sendfile(2): that must cost one connection, not the server (SIGPIPE).
        _, info = self.import_random_image("big", 8 << 20)
        sha = next(e["sha256"] for e in info["extents"] if "sha256" in e)
        for i in range(20):
            try:
                c = socket.create_connection(("127.0.0.1", self.srv.port))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c.sendall(f"GET /chunks/{sha} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                c.recv(1024)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()  # RST while most of the 4 MiB is still to be sent
            except OSError as e:
                self.fail(f"the server stopped answering after {i} reset connections ({e}); exit code {self.srv.proc.poll()}")
        time.sleep(0.5)
        self.assertIsNone(self.srv.proc.poll(), "the server died")
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)

    def test_chunks_with_curl_range_and_etag(self):
        store, info = self.import_random_image("a", 3 << 20)
        sha = info["extents"][0]["sha256"]
        path = os.path.join(store, "chunks", sha[:2], sha + ".zst")
        with open(path, "rb") as f:
            data = f.read()
        url = f"{self.srv.url}/chunks/{sha}"
        out = os.path.join(self.tmp.name, "c")

        def curl(*args):
            r = subprocess.run(["curl", "-s", "-D", "-", "-o", out, *args, url], capture_output=True, text=True)
            status = int(r.stdout.split()[1])
            body = b""
            if os.path.exists(out):
                with open(out, "rb") as f:
                    body = f.read()
            return status, r.stdout.lower(), body

        st, hdr, body = curl()
        self.assertEqual(st, 200)
        self.assertEqual(body, data)
        etag = re.search(r'etag: (".*")', hdr).group(1)
        st, hdr, body = curl("-r", "100-199")
        self.assertEqual(st, 206)
        self.assertEqual(body, data[100:200])
        self.assertIn(f"content-range: bytes 100-199/{len(data)}", hdr)
        st, hdr, body = curl("-r", "-50")
        self.assertEqual((st, body), (206, data[-50:]))
        os.remove(out)
        st, hdr, body = curl("-H", f"If-None-Match: {etag}")
        self.assertEqual(st, 304)
        st, hdr, _ = curl("-r", f"{len(data)}-")
        self.assertEqual(st, 416)
        st, hdr, body = curl("-r", "0-9", "-H", 'If-Range: "stale"')
        self.assertEqual((st, body), (200, data))  # a stale If-Range gets the whole chunk
        # keep-alive: two requests on one connection
        r = subprocess.run(["curl", "-sv", "-o", "/dev/null", url, "-o", "/dev/null", url], capture_output=True, text=True)
        self.assertIn("Re-using existing connection", r.stderr)
        # Every file answer is corked (full segments) and uncorked when done: a connection left
        # corked would hold each short answer after it back for the kernel's 200 ms.
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        started = time.monotonic()
        for _ in range(10):
            conn.request("HEAD", f"/chunks/{sha}")
            head = conn.getresponse()
            head.read()
            conn.request("GET", f"/chunks/{sha}", headers={"Range": "bytes=0-9"})
            part = conn.getresponse()
            self.assertEqual((head.status, part.status, part.read()), (200, 206, data[:10]))
        conn.close()
        self.assertLess(time.monotonic() - started, 1.5, "20 short answers on one connection were held back")
        st, _ = call(self.srv, "GET", "/chunks/" + "0" * 64)
        self.assertEqual(st, 404)
        # the signed manifest needs a token
        self.assertEqual(call(self.srv, "GET", "/api/v1/images/a/manifest")[0], 401)
        token = self.login()
        st, m = call(self.srv, "GET", "/api/v1/images/a/manifest", token=token)
        self.assertEqual(st, 200)
        self.assertIn("signature", m)

    def test_the_image_stream_sends_each_chunk_once_in_the_manifests_order(self):
        a, b, c = (os.urandom(1 << 20) for _ in range(3))
        store, info = self.import_image("s", a + b + bytes(1 << 20) + a + c, "--chunk-size", "1M")
        data = [e["sha256"] for e in info["extents"] if "sha256" in e]
        self.assertEqual(len(data), 4)  # a, b, a, c: the zeros are a hole

        def chunk_file(sha):
            return os.path.join(store, "chunks", sha[:2], sha + ".zst")

        def records(body):
            out = []
            while body:
                sha, length, flags = body[:32].hex(), *struct.unpack(">II", body[32:40])
                self.assertEqual(flags, 0)
                with open(chunk_file(sha), "rb") as f:
                    self.assertEqual(body[40:40 + length], f.read(), sha)
                out.append(sha)
                body = body[40 + length:]
            return out

        self.assertEqual(call(self.srv, "GET", "/api/v1/images/s/stream/0")[0], 401)
        token = self.login()
        for position, expected in ((0, [data[0], data[1], data[3]]), (2, [data[2], data[3]]), (3, [data[3]]),
                                   (4, []), (99, [])):
            st, body = call(self.srv, "GET", f"/api/v1/images/s/stream/{position}", token=token)
            self.assertEqual(st, 200, body)
            self.assertEqual(records(body), expected, position)
        self.assertEqual(call(self.srv, "GET", "/api/v1/images/s/stream/x", token=token)[0], 400)
        self.assertEqual(call(self.srv, "GET", "/api/v1/images/nope/stream/0", token=token)[0], 404)
        # A chunk file that is not the size the manifest says cuts the stream there: its length
        # was promised, so the client sees it end early rather than a wrong record.
        with open(chunk_file(data[1]), "r+b") as f:
            f.truncate(100)
        req = urllib.request.Request(f"{self.srv.url}/api/v1/images/s/stream/0",
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=40) as r:
            announced = int(r.headers["Content-Length"])
            with self.assertRaises(http.client.IncompleteRead) as cut:
                r.read()
        self.assertEqual(len(cut.exception.partial), 40 + os.path.getsize(chunk_file(data[0])))
        self.assertLess(len(cut.exception.partial), announced)
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)

    def test_image_upload_streams_into_the_store(self):
        token = self.login()
        img = os.path.join(self.tmp.name, "up.img")
        with open(img, "wb") as f:
            f.write(os.urandom(5 << 20))
            f.truncate(32 << 20)
        with open(img, "rb") as f:
            body = f.read()
        st, r = call(self.srv, "POST", "/api/v1/images?name=uploaded", raw=body, token=token, timeout=120)
        self.assertEqual(st, 201, r)
        self.assertEqual(r["logical_size"], 32 << 20)
        out = os.path.join(self.tmp.name, "back.img")
        subprocess.run([CTL, "image", "export", "--no-progress", "--store", os.path.join(self.state, "store"),
                        "uploaded", out], check=True, capture_output=True)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), body)
        # A name taken is refused before the body is sent: a client waiting for "100 Continue"
        # (curl, so revivectl) gets the answer instead.
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.putrequest("POST", "/api/v1/images?name=uploaded")
        conn.putheader("Authorization", "Bearer " + token)
        conn.putheader("Content-Length", str(1 << 30))
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        resp = conn.getresponse()
        self.assertEqual(resp.status, 409)
        self.assertIn("already exists", json.loads(resp.read())["error"])
        conn.close()
        st, r = call(self.srv, "POST", "/api/v1/images?name=x", raw=b"QFI\xfb" + bytes(4096), token=token)
        self.assertEqual(st, 400)
        self.assertIn("qcow2", r["error"])
        # Without a token the upload is refused from its header; nothing is left in tmp/.
        self.assertEqual(headers_only(self.srv, "/api/v1/images?name=y", 1 << 30)[0], 401)
        self.assertEqual(os.listdir(os.path.join(self.state, "store", "tmp")), [])
        st, imgs = call(self.srv, "GET", "/api/v1/images", token=token)
        self.assertEqual([i["name"] for i in imgs], ["uploaded"])
        # ?chunks=content (what `image build --server` sends): content-defined, manifest version 2.
        st, r = call(self.srv, "POST", "/api/v1/images?name=cut&chunks=content", raw=body, token=token, timeout=120)
        self.assertEqual(st, 201, r)
        st, m = call(self.srv, "GET", "/api/v1/images/cut/manifest", token=token)
        self.assertEqual(m["manifest"]["format_version"], 2)
        st, m = call(self.srv, "GET", "/api/v1/images/uploaded/manifest", token=token)
        self.assertEqual(m["manifest"]["format_version"], 1)
        st, r = call(self.srv, "POST", "/api/v1/images?name=z&chunks=small", raw=body, token=token)
        self.assertEqual(st, 400)
        self.assertIn("chunks", r["error"])
        st, r = call(self.srv, "POST", "/api/v1/images?name=z&data=-1", raw=body, token=token)
        self.assertEqual(st, 400)
        self.assertIn("?data=", r["error"])

    def test_an_image_push_cut_short_publishes_nothing(self):
        # The push's body goes to the import while it arrives: a connection lost halfway ends
        # the import short, and neither an image nor a staged file is left behind.
        token = self.login()
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        conn.putrequest("POST", "/api/v1/images?name=cut")
        conn.putheader("Authorization", "Bearer " + token)
        conn.putheader("Content-Length", str(64 << 20))
        conn.endheaders()
        conn.send(os.urandom(8 << 20))
        conn.close()
        body = os.urandom(5 << 20) + bytes(27 << 20)
        st, r = call(self.srv, "POST", "/api/v1/images?name=whole", raw=body, token=token, timeout=120)
        self.assertEqual(st, 201, r)
        st, imgs = call(self.srv, "GET", "/api/v1/images", token=token)
        self.assertEqual([i["name"] for i in imgs], ["whole"])
        tmp = os.path.join(self.state, "store", "tmp")
        deadline = time.time() + 10
        while os.listdir(tmp) and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(os.listdir(tmp), [])
        self.assertEqual(call(self.srv, "GET", "/healthz")[0], 200)

    def test_deadline_marks_a_hung_step_failed(self):
        self.srv.kill()
        cfg = os.path.join(self.tmp.name, "c.toml")
        with open(cfg, "w") as f:
            f.write("stall_timeout_s = 2\n")
        self.srv = Server(self.state, ["--demo", "--config", cfg]).start()
        a = Agent("H1")
        a.enrol(self.srv)
        st, r = a.next(self.srv)
        time.sleep(4)
        st, w = a.next(self.srv)
        self.assertEqual(w["state"], "waiting")
        self.assertIn("deadline", w["reason"])
        self.assertEqual(a.result(self.srv, r["step"])[0], 409)  # too late: the failure stands

    def test_sigterm_is_graceful(self):
        a = Agent("G1")
        a.enrol(self.srv)
        out = {}
        st, r = a.next(self.srv)
        a.result(self.srv, r["step"], status="failed", error="x")
        t = threading.Thread(target=lambda: out.update(r=a.next(self.srv, wait=25)))
        t.start()
        time.sleep(0.5)
        start = time.time()
        self.assertEqual(self.srv.kill(signal.SIGTERM), 0)
        t.join(10)
        self.assertLess(time.time() - start, 8)
        self.assertEqual(out["r"][1]["state"], "waiting")  # the long-poll got its answer before exit

    def test_bad_config_is_refused_clearly(self):
        cfg = os.path.join(self.tmp.name, "bad.toml")
        with open(cfg, "w") as f:
            f.write("listen = 5\n")
        r = subprocess.run([SERVER, "--config", cfg, "--state", self.state], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn('"listen" must be a string', r.stderr)
        with open(cfg, "w") as f:
            f.write("colour = 'blue'\n")
        r = subprocess.run([SERVER, "--config", cfg, "--state", self.state], capture_output=True, text=True)
        self.assertIn('unknown setting "colour"', r.stderr)


def page_call(srv, method, path, body=None, cookie=None, headers=None, tls=True, raw=None):
    """A request as the operator pages make it, over the operators' HTTPS (the server's own
    certificate, not checked here) or plain HTTP; (status, headers, JSON body or bytes)."""
    import ssl
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", srv.tls_port, timeout=20,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
    hdrs = dict(headers or {})
    if cookie:
        hdrs["Cookie"] = "revive_session=" + cookie
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
        return r.status, r.headers, payload
    finally:
        conn.close()


class OperatorPagesTest(ServerFixture):
    """The operator pages' browser sessions over real HTTP(S): the cookie, CSRF, expiry."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o711)
        self.state = os.path.join(self.tmp.name, "state")
        make_operator(self.state)
        self.start_server()

    def start_server(self, *extra):
        self.srv = Server(self.state, ("--demo", *extra)).start()
        self.origin = f"https://127.0.0.1:{self.srv.tls_port}"

    def browser_login(self, ttl=43200):
        st, hdrs, r = page_call(self.srv, "POST", "/ui/login", {"name": "alice", "password": "correct horse battery"},
                                headers={"Origin": self.origin})
        self.assertEqual(st, 200, r)
        cookie = hdrs["Set-Cookie"]
        self.assertRegex(cookie, r"^revive_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict; "
                                 r"Secure$" % ttl)
        return cookie.split(";")[0].split("=", 1)[1], r["csrf"]

    def test_the_page_is_served_with_its_policy_and_a_cross_site_post_is_refused(self):
        st, hdrs, page = page_call(self.srv, "GET", "/ui?lang=nl")
        self.assertEqual(st, 200)
        self.assertIn(b'<html lang="nl">', page)
        self.assertIn("script-src 'self'", hdrs["Content-Security-Policy"])
        self.assertNotIn("unsafe-inline", hdrs["Content-Security-Policy"])
        # A login posted from another site's page is refused (it would log the browser in).
        st, _, r = page_call(self.srv, "POST", "/ui/login", {"name": "alice", "password": "correct horse battery"},
                             headers={"Origin": "https://evil.example"})
        self.assertEqual((st, r["code"]), (403, "forbidden"), r)
        session, csrf = self.browser_login()
        agent = Agent("SNPAGE01")
        agent.enrol(self.srv)
        st, _, r = page_call(self.srv, "GET", "/ui/session", cookie=session)
        self.assertEqual((st, r), (200, {"operator": "alice", "csrf": csrf}))
        st, _, r = page_call(self.srv, "GET", f"/api/v1/laptops/{agent.id}", cookie=session)
        self.assertEqual(st, 200, r)
        self.assertEqual(r["summary"]["serial"], "SNPAGE01")
        # What another site's form can send: the cookie (were it not SameSite), no CSRF token.
        cancel = f"/api/v1/devices/{agent.id}/cancel"
        form = {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
        st, _, r = page_call(self.srv, "POST", cancel, cookie=session, headers=form)
        self.assertEqual((st, r["code"]), (403, "forbidden"), r)
        # Even with the token (stolen), another origin is refused; and this origin needs it.
        st, _, r = page_call(self.srv, "POST", cancel, cookie=session,
                             headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf})
        self.assertEqual(st, 403, r)
        self.assertIn("cross-site", r["error"])
        st, _, r = page_call(self.srv, "POST", cancel, cookie=session, headers={"Origin": self.origin})
        self.assertEqual(st, 403, r)
        self.assertIn("CSRF", r["error"])
        st, r = call(self.srv, "GET", f"/api/v1/devices/{agent.id}", token=self.login_token())
        self.assertEqual(r["state"], "running", "nothing refused above was done")
        st, _, r = page_call(self.srv, "POST", cancel, cookie=session, headers={"Origin": self.origin, "X-CSRF-Token": csrf})
        self.assertEqual((st, r), (200, {"ok": True}))
        # Logout ends the session on the server, not only in the browser.
        st, hdrs, r = page_call(self.srv, "POST", "/ui/logout", cookie=session,
                                headers={"Origin": self.origin, "X-CSRF-Token": csrf})
        self.assertEqual(st, 200, r)
        self.assertIn("Max-Age=0", hdrs["Set-Cookie"])
        st, _, r = page_call(self.srv, "GET", "/ui/session", cookie=session)
        self.assertEqual(st, 401, r)

    def open_stream(self, path, session):
        """An event stream as a browser opens it with its session cookie: (connection, response)."""
        import ssl
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.tls_port, timeout=10,
                                           context=ssl._create_unverified_context())
        conn.request("GET", path, headers={"Cookie": "revive_session=" + session})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        return conn, resp

    def test_a_logged_in_operator_sees_the_wall_without_a_kiosk_link(self):
        session, _ = self.browser_login()
        conn, resp = self.open_stream("/wall/events", session)
        self.assertEqual(resp.getheader("Content-Type"), "text/event-stream")
        self.assertEqual(resp.readline(), b"retry: 3000\n")
        conn.close()
        st, _, r = page_call(self.srv, "GET", "/wall/events", cookie="x" * 43)
        self.assertEqual(st, 401, r)
        st, _, r = page_call(self.srv, "GET", "/wall/events")
        self.assertEqual(st, 401, r)
        self.assertIn("operator's login", r["error"])

    def test_the_operator_pages_follow_events_with_their_session(self):
        session, csrf = self.browser_login()
        conn, resp = self.open_stream("/api/v1/events/stream", session)
        self.assertEqual(resp.readline(), b": connected\n", "the session keeps the stream open")
        self.assertEqual(resp.readline(), b"\n")
        agent = Agent("SNSTREAM1")
        agent.enrol(self.srv)
        lines = [resp.readline() for _ in range(2)]
        self.assertEqual(lines[0], b"event: device\n", lines)
        self.assertEqual(json.loads(lines[1].decode().removeprefix("data: "))["serial"], "SNSTREAM1")
        # Logged out, the stream ends at its next event (not only its next request).
        st, _, r = page_call(self.srv, "POST", "/ui/logout", cookie=session,
                             headers={"Origin": self.origin, "X-CSRF-Token": csrf})
        self.assertEqual(st, 200, r)
        Agent("SNSTREAM2").enrol(self.srv)
        rest = resp.read()
        self.assertNotIn(b"SNSTREAM2", rest)
        conn.close()

    def test_the_images_and_batches_pages_routes_need_a_session_and_csrf(self):
        # Without a session: refused, and nothing is started.
        for method, path in (("GET", "/api/v1/catalog/images"), ("GET", "/api/v1/catalog/batches"),
                             ("POST", "/api/v1/image-uploads"), ("POST", "/api/v1/batches/b1")):
            st, _, r = page_call(self.srv, method, path, {} if method == "POST" else None)
            self.assertEqual(st, 401, (path, r))
        session, csrf = self.browser_login()
        ok = {"Origin": self.origin, "X-CSRF-Token": csrf}
        tmp = os.path.join(self.state, "store", "tmp")
        image = os.urandom(1 << 20) + bytes(1 << 20)
        st, _, r = page_call(self.srv, "POST", "/api/v1/image-uploads", {"name": "up", "size": len(image)},
                             cookie=session, headers={"Origin": self.origin})
        self.assertEqual((st, r["code"]), (403, "forbidden"), r)
        self.assertEqual([f for f in os.listdir(tmp) if f.startswith("upload-")], [])
        st, _, r = page_call(self.srv, "POST", "/api/v1/image-uploads", {"name": "up", "size": 1 << 60},
                             cookie=session, headers=ok)
        self.assertEqual((st, r["code"]), (413, "too_large"), r)
        self.assertIn("free", r["error"])
        st, _, up = page_call(self.srv, "POST", "/api/v1/image-uploads", {"name": "up", "size": len(image)},
                              cookie=session, headers=ok)
        self.assertEqual((st, up["received"]), (201, 0), up)
        pieces = f"/api/v1/image-uploads/{up['id']}/pieces"
        st, _, r = page_call(self.srv, "POST", pieces + "?offset=0", cookie=session, raw=image[:1 << 20],
                             headers={"Origin": self.origin})
        self.assertEqual(st, 403, r)
        st, _, r = page_call(self.srv, "POST", pieces + "?offset=0", cookie=session, raw=image[:1 << 20], headers=ok)
        self.assertEqual((st, r["received"]), (200, 1 << 20), r)
        # A piece at another offset than the server's is refused, naming where to go on.
        st, _, r = page_call(self.srv, "POST", pieces + "?offset=0", cookie=session, raw=image[:10], headers=ok)
        self.assertEqual(st, 409, r)
        self.assertIn("continues at byte 1048576", r["error"])
        for bad in ("", "-1", "+1048576", "1048576x"):  # an offset is digits only
            st, _, r = page_call(self.srv, "POST", pieces + "?offset=" + bad, cookie=session, raw=image[:10],
                                 headers=ok)
            self.assertEqual((st, r["code"]), (400, "invalid_input"), (bad, r))
        # A piece over 8 MiB is refused from its header (from this machine: plain HTTP).
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.putrequest("POST", pieces + "?offset=1048576")
        for k, v in (("Cookie", "revive_session=" + session), ("X-CSRF-Token", csrf),
                     ("Origin", f"http://127.0.0.1:{self.srv.port}"), ("Content-Length", str((8 << 20) + 1))):
            conn.putheader(k, v)
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()
        st, _, r = page_call(self.srv, "GET", f"/api/v1/image-uploads/{up['id']}", cookie=session)
        self.assertEqual((st, r["received"]), (200, 1 << 20), r)
        st, _, r = page_call(self.srv, "POST", pieces + "?offset=1048576", cookie=session, raw=image[1 << 20:],
                             headers=ok)
        self.assertEqual((st, r["received"]), (200, len(image)), r)
        # The import's options (the page's two boxes) must be true or false.
        st, _, r = page_call(self.srv, "POST", f"/api/v1/image-uploads/{up['id']}/finish", {"raw": "yes"},
                             cookie=session, headers=ok)
        self.assertEqual((st, r["code"]), (400, "invalid_input"), r)
        self.assertIn('"raw"', r["error"])
        st, _, r = page_call(self.srv, "POST", f"/api/v1/image-uploads/{up['id']}/finish", {"space_check": False},
                             cookie=session, headers=ok)
        self.assertEqual((st, r["logical_size"]), (201, len(image)), r)
        st, _, r = page_call(self.srv, "GET", "/api/v1/catalog/images", cookie=session)
        self.assertEqual([(i["name"], i["batches"]) for i in r], [("up", [])])
        # A batch for a donor with that image; its profile is checked; the image is then in use.
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches", {"name": "b1", "donor": "Stad Gent", "image": "up"},
                             cookie=session, headers=ok)
        self.assertEqual(st, 201, r)
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile": {"locale": "nl_BE.UTF-8"}},
                             cookie=session, headers={"Origin": self.origin})
        self.assertEqual(st, 403, r)
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile": {"wifi": "secret"}},
                             cookie=session, headers=ok)
        self.assertEqual(st, 400, r)
        self.assertIn("network keys", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"image": "nope"}, cookie=session, headers=ok)
        self.assertEqual(st, 404, r)
        # The first user (issue 17): a system account, or a full name that is not text, names its field.
        for user, field in (({"name": "root"}, "first_user.name"), ({"name": "jan", "full_name": 5}, "first_user.full_name")):
            st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile": {"first_user": user}},
                                 cookie=session, headers=ok)
            self.assertEqual((st, r["code"]), (400, "invalid_input"), r)
            self.assertIn(f'"{field}"', r["error"])
        user = {"name": "ontvanger", "full_name": "Nieuwe Ontvanger"}
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile": {"locale": "nl_BE.UTF-8", "first_user": user}},
                             cookie=session, headers=ok)
        self.assertEqual((st, r), (200, {"ok": True}))
        st, _, r = page_call(self.srv, "GET", "/api/v1/catalog/batches", cookie=session)
        self.assertEqual((r[0]["name"], r[0]["donor"], r[0]["image"], r[0]["profile"], r[0]["grades"]["none"]),
                         ("b1", "Stad Gent", "up", {"locale": "nl_BE.UTF-8", "first_user": user}, 0), r)
        st, _, r = page_call(self.srv, "DELETE", "/api/v1/images/up", cookie=session, headers=ok)
        self.assertEqual(st, 409, r)
        self.assertIn("batch b1", r["error"])
        st, _, r = page_call(self.srv, "GET", "/api/v1/catalog/images", cookie=session)
        self.assertEqual([(i["name"], i["batches"]) for i in r], [("up", ["b1"])])

    def test_the_settings_page_refuses_bad_input_profiles_in_use_and_cross_site_posts(self):
        """Issue 16, the settings page: every change needs the session and its CSRF token; a bad
        policy or workshop name is refused naming the field and stores nothing; a recipient
        profile a batch uses is not deleted; the preview stores nothing."""
        for method, path in (("GET", "/api/v1/settings"), ("GET", "/api/v1/recipient-profiles"),
                             ("POST", "/api/v1/recipient-profiles"), ("DELETE", "/api/v1/recipient-profiles/x"),
                             ("POST", "/api/v1/grading-policy/preview")):
            st, _, r = page_call(self.srv, method, path, {} if method == "POST" else None)
            self.assertEqual(st, 401, (path, r))
        session, csrf = self.browser_login()
        ok = {"Origin": self.origin, "X-CSRF-Token": csrf}

        def settings():
            st, _, r = page_call(self.srv, "GET", "/api/v1/settings", cookie=session)
            self.assertEqual(st, 200, r)
            return r

        before = settings()
        self.assertEqual((before["default_workflow"], before["grading_policy_is_default"]), ("default", True))
        self.assertIn("[battery]", before["grading_policy"])
        # Cross-site (no token, or another origin): refused, nothing stored.
        for headers in ({"Origin": self.origin}, {"Origin": "https://evil.example", "X-CSRF-Token": csrf}):
            for path, body in (("/api/v1/settings", {"workshop_name": "Evil"}),
                               ("/api/v1/recipient-profiles", {"name": "evil", "fields": {}}),
                               ("/api/v1/grading-policy/preview", {"grading_policy": ""})):
                st, _, r = page_call(self.srv, "POST", path, body, cookie=session, headers=headers)
                self.assertEqual((st, r["code"]), (403, "forbidden"), (path, r))
        self.assertEqual(settings(), before)
        # A bad policy names its key; the good workshop name sent with it is not stored either.
        st, _, r = page_call(self.srv, "POST", "/api/v1/settings",
                             {"workshop_name": "Repair Café Gent", "grading_policy": "[battery]\nb_below_pct = 150\n"},
                             cookie=session, headers=ok)
        self.assertEqual((st, r["code"]), (400, "invalid_input"), r)
        self.assertIn("battery.b_below_pct", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/settings", {"workshop_name": "two\nlines"},
                             cookie=session, headers=ok)
        self.assertEqual(st, 400, r)
        self.assertIn("workshop_name", r["error"])
        self.assertEqual(settings(), before)
        st, _, r = page_call(self.srv, "POST", "/api/v1/grading-policy/preview", {"grading_policy": "[memory]\nx = 1\n"},
                             cookie=session, headers=ok)
        self.assertEqual(st, 400, r)
        self.assertIn("memory.x", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/grading-policy/preview",
                             {"grading_policy": "[battery]\nb_below_pct = 70\n"}, cookie=session, headers=ok)
        self.assertEqual((st, r["laptops"], r["changed"]), (200, 0, []), r)
        self.assertEqual(settings(), before)
        st, _, r = page_call(self.srv, "POST", "/api/v1/settings",
                             {"workshop_name": "Repair Café Gent", "grading_policy": "[battery]\nb_below_pct = 70\n"},
                             cookie=session, headers=ok)
        self.assertEqual((st, r), (200, {"ok": True}))
        after = settings()
        self.assertEqual((after["workshop_name"], after["grading_policy"], after["grading_policy_is_default"]),
                         ("Repair Café Gent", "[battery]\nb_below_pct = 70\n", False))
        # Recipient profiles: checked by field; one a batch uses stays.
        st, _, r = page_call(self.srv, "POST", "/api/v1/recipient-profiles",
                             {"name": "school", "fields": {"timezone": "../etc/passwd"}}, cookie=session, headers=ok)
        self.assertEqual(st, 400, r)
        self.assertIn("timezone", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/recipient-profiles",
                             {"name": "school", "fields": {"locale": "nl_BE.UTF-8", "keyboard": "be"}},
                             cookie=session, headers=ok)
        self.assertEqual((st, r), (200, {"ok": True}))
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches", {"name": "b1", "donor": "Stad Gent"},
                             cookie=session, headers=ok)
        self.assertEqual(st, 201, r)
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile_name": "nope"}, cookie=session, headers=ok)
        self.assertEqual(st, 404, r)
        st, _, r = page_call(self.srv, "POST", "/api/v1/batches/b1", {"profile_name": "school"}, cookie=session, headers=ok)
        self.assertEqual((st, r), (200, {"ok": True}))
        st, _, r = page_call(self.srv, "DELETE", "/api/v1/recipient-profiles/school", cookie=session,
                             headers={"Origin": self.origin})
        self.assertEqual(st, 403, r)
        st, _, r = page_call(self.srv, "DELETE", "/api/v1/recipient-profiles/school", cookie=session, headers=ok)
        self.assertEqual((st, r["code"]), (409, "conflict"), r)
        self.assertIn('used by batch "b1"', r["error"])
        st, _, r = page_call(self.srv, "GET", "/api/v1/recipient-profiles", cookie=session)
        self.assertEqual(r, [{"name": "school", "fields": {"keyboard": "be", "locale": "nl_BE.UTF-8"},
                              "batches": ["b1"]}])
        st, _, r = page_call(self.srv, "GET", "/api/v1/catalog/batches", cookie=session)
        self.assertEqual(r[0]["profile_name"], "school")

    def login_token(self):
        st, r = call(self.srv, "POST", "/api/v1/login", {"name": "alice", "password": "correct horse battery"})
        self.assertEqual(st, 200, r)
        return r["token"]

    def test_an_expired_session_is_refused(self):
        self.srv.kill()
        ttl = 2
        self.start_server("--session-ttl", str(ttl))
        session, csrf = self.browser_login(ttl)
        st, _, r = page_call(self.srv, "GET", "/api/v1/laptops", cookie=session)
        self.assertEqual((st, r), (200, []))
        time.sleep(ttl + 1.5)
        st, _, r = page_call(self.srv, "GET", "/api/v1/laptops", cookie=session)
        self.assertEqual(st, 401, r)
        self.assertIn("expired", r["error"])
        st, _, r = page_call(self.srv, "POST", "/ui/logout", cookie=session,
                             headers={"Origin": self.origin, "X-CSRF-Token": csrf})
        self.assertEqual(st, 401, r)

    def test_partners_handover_and_loans_refuse_strangers_cross_site_posts_and_unfinished_laptops(self):
        """Issue 16: organisations, a hand-over and a loan through the pages (cookie + CSRF token)
        and revivectl (bearer token); the list as CSV and PDF; the laptop's page shows it."""
        for method, path, body in (("GET", "/api/v1/organisations", None),
                                   ("POST", "/api/v1/organisations", {"name": "X", "kind": "school"}),
                                   ("POST", "/api/v1/handovers", {"organisation": 1, "laptops": [1]}),
                                   ("GET", "/api/v1/handovers/1/list?format=pdf", None),
                                   ("POST", "/api/v1/devices/1/loan", {})):
            st, r = call(self.srv, method, path, body)
            self.assertEqual(st, 401, (path, r))
        session, csrf = self.browser_login()
        ours = {"Origin": self.origin, "X-CSRF-Token": csrf}
        org = {"name": "Bibliotheek Noord", "contact": "Anna, 0470 12 34 56", "kind": "library"}
        st, _, r = page_call(self.srv, "POST", "/api/v1/organisations", org, cookie=session,
                             headers={"Origin": self.origin})
        self.assertEqual(st, 403, r)
        self.assertIn("CSRF", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/organisations", org, cookie=session,
                             headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf})
        self.assertEqual(st, 403, r)
        token = self.login_token()
        self.assertEqual(call(self.srv, "GET", "/api/v1/organisations", token=token), (200, []),
                         "nothing refused above was made")
        st, _, r = page_call(self.srv, "POST", "/api/v1/organisations", org, cookie=session, headers=ours)
        self.assertEqual(st, 201, r)
        org_id = r["id"]
        self.assertEqual(call(self.srv, "POST", "/api/v1/workflows", {"name": "short", "steps": [{"kind": "test"}]},
                              token)[0], 200)
        self.assertEqual(call(self.srv, "POST", "/api/v1/settings", {"default_workflow": "short"}, token)[0], 200)
        done, busy = Agent("SNHO01"), Agent("SNHO02")
        for a in (done, busy):
            a.enrol(self.srv)
        st, r = done.next(self.srv)
        self.assertEqual(done.result(self.srv, r["step"], result={"grading": {"grade": "B"}})[0], 200)
        self.assertEqual(done.next(self.srv)[1]["state"], "done")
        st, _, r = page_call(self.srv, "POST", "/api/v1/handovers", {"organisation": org_id, "laptops": [done.id, busy.id]},
                             cookie=session, headers=ours)
        self.assertEqual(st, 409, r)
        self.assertIn(f"laptop {busy.id} is not finished", r["error"])
        st, _, r = page_call(self.srv, "POST", "/api/v1/handovers", {"organisation": org_id, "laptops": [done.id]},
                             cookie=session, headers=ours)
        self.assertEqual(st, 201, r)
        handover = r["id"]
        self.assertEqual([l["serial"] for l in r["laptops"]], ["SNHO01"])
        st, csv = call(self.srv, "GET", f"/api/v1/handovers/{handover}/list?format=csv", token=token)
        self.assertEqual(st, 200)
        self.assertIn(b'"Bibliotheek Noord"', csv)
        self.assertIn(b'"SNHO01","B"', csv)
        st, pdf = call(self.srv, "GET", f"/api/v1/handovers/{handover}/list?format=pdf&lang=nl", token=token)
        self.assertEqual((st, pdf[:5]), (200, b"%PDF-"))
        # revivectl, with the bearer token: the organisations, a loan, the list as a file.
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.tmp.name, "cfg"))
        ctl = lambda *a: subprocess.run([CTL, *a, "--server", self.srv.url, "--token", token], capture_output=True,
                                        text=True, env=env, timeout=60)
        r = ctl("partner", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Bibliotheek Noord", r.stdout)
        r = ctl("partner", "edit", str(org_id), "--kind", "welfare")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = ctl("loan", "lend", str(done.id), "--reference", "card 0042")
        self.assertEqual((r.returncode, r.stdout), (0, "lent\n"), r.stderr)
        r = ctl("loan", "lend", str(busy.id))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not out with an organisation", r.stderr)
        out = os.path.join(self.tmp.name, "handover.pdf")
        r = ctl("handover", "get", str(handover), "--format", "pdf", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        st, _, r = page_call(self.srv, "GET", f"/api/v1/laptops/{done.id}", cookie=session)
        went = r["whereabouts"]
        self.assertEqual((went["handover"]["organisation"]["name"], went["handover"]["organisation"]["kind"]),
                         ("Bibliotheek Noord", "welfare"))
        self.assertEqual(went["loans"][0]["reference"], "card 0042")
        st, _, r = page_call(self.srv, "POST", f"/api/v1/devices/{done.id}/loan/return", cookie=session, headers=ours)
        self.assertEqual(st, 200, r)
        self.assertIsNotNone(r["loans"][0]["returned_at"])

    def test_the_pages_over_plain_http_from_the_lan_go_to_https(self):
        # 127.0.0.2 plays a LAN host (is_local_peer counts only 127.0.0.1 and ::1).
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10, source_address=("127.0.0.2", 0))
        try:
            conn.request("GET", "/ui", headers={"Host": "revive.lan:8080"})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 303)
            self.assertEqual(r.headers["Location"], f"https://revive.lan:{self.srv.tls_port}/ui")
        finally:
            conn.close()


class RevivectlTest(ServerFixture):
    """revivectl against the real server: login, devices, retry, batches, push, export, watch."""

    def ctl(self, *args, ok=True, env_extra=None):
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.tmp.name, "cfg"), **(env_extra or {}))
        r = subprocess.run([CTL, *args], capture_output=True, text=True, env=env, timeout=120)
        if ok:
            self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r

    def test_operator_cli(self):
        make_operator(self.state)
        r = self.ctl("devices", "--server", self.srv.url, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", r.stderr)
        self.assertIn("revivectl login", r.stderr)
        r = self.ctl("login", "--server", self.srv.url, "--user", "alice", ok=False,
                     env_extra={"REVIVE_PASSWORD": "wrong password"})
        self.assertEqual(r.returncode, 1)
        self.ctl("login", "--server", self.srv.url, "--user", "alice", env_extra={"REVIVE_PASSWORD": "correct horse battery"})
        a = Agent("CLI1")
        a.enrol(self.srv)
        st, r = a.next(self.srv)
        a.result(self.srv, r["step"], status="failed", error="battery missing")
        out = self.ctl("devices", "--server", self.srv.url).stdout
        self.assertIn("CLI1", out)
        self.assertIn("FAILED: battery missing", out)
        self.ctl("devices", "--server", self.srv.url, "retry", str(r["step"]["id"]))
        self.assertEqual(a.next(self.srv)[1]["step"]["attempt"], 2)
        self.ctl("batches", "--server", self.srv.url, "create", "gemeente-2026", "--donor", "Gemeente Amsterdam")
        self.ctl("devices", "--server", self.srv.url, "assign", str(a.id), "--batch", "gemeente-2026")
        self.assertIn('"gemeente-2026"', self.ctl("batches", "--server", self.srv.url).stdout)
        img = os.path.join(self.tmp.name, "p.img")
        with open(img, "wb") as f:
            f.write(os.urandom(1 << 20))
        self.assertIn("pushed", self.ctl("image", "push", "--server", self.srv.url, "--name", "cli-img", img).stdout)
        # What does not look like a disk is refused, and the refusal names --raw, which pushes it
        # byte for byte.
        qcow = os.path.join(self.tmp.name, "q.qcow2")
        with open(qcow, "wb") as f:
            f.write(b"QFI\xfb" + bytes((1 << 20) - 4))
        no = self.ctl("image", "push", "--server", self.srv.url, "--name", "as-is", qcow, ok=False)
        self.assertEqual(no.returncode, 1)
        self.assertIn("--raw imports the bytes as they are", no.stderr)
        self.assertIn("pushed", self.ctl("image", "push", "--server", self.srv.url, "--name", "as-is", "--raw", qcow).stdout)
        self.assertIn("cli-img", self.ctl("image", "list", "--server", self.srv.url).stdout)
        csv = self.ctl("export", "--server", self.srv.url, "--format", "csv").stdout.splitlines()
        self.assertTrue(csv[0].startswith("device_id,"))
        self.assertTrue(any('"CLI1"' in l and '"gemeente-2026"' in l for l in csv[1:]))
        js = json.loads(self.ctl("export", "--server", self.srv.url).stdout)
        self.assertEqual(js[0]["serial"], "CLI1")
        w = self.ctl("watch", "--server", self.srv.url, "--once").stdout
        self.assertIn("1 laptops", w)
        self.ctl("image", "rm", "--server", self.srv.url, "cli-img")
        # Workflows and intake: a new laptop gets the batch, its workflow, and the batch's image.
        self.ctl("workflows", "--server", self.srv.url, "put", "quick", "--steps", "inventory,deploy,finish")
        r = self.ctl("workflows", "--server", self.srv.url, "put", "bad", "--steps", "inventory,format-c", ok=False)
        self.assertEqual(r.returncode, 1)
        self.ctl("batches", "--server", self.srv.url, "create", "school-2026", "--workflow", "quick", "--image", "debian-desktop")
        self.ctl("intake", "open", "--server", self.srv.url, "school-2026", "--minutes", "30")
        self.assertTrue(json.loads(self.ctl("intake", "status", "--server", self.srv.url).stdout)["open"])
        b = Agent("CLI2")
        b.enrol(self.srv)
        st, r = b.next(self.srv)
        self.assertEqual(r["step"]["kind"], "inventory")
        b.result(self.srv, r["step"])
        st, r = b.next(self.srv)
        self.assertEqual((r["step"]["kind"], r["step"]["params"]["image"]), ("deploy", "debian-desktop"))
        self.assertEqual(r["step"]["params"]["confirm"]["batch"], "school-2026")  # first destructive step
        tok = json.loads(self.ctl("token", "--server", self.srv.url, "--label", "ci").stdout)["token"]
        self.assertEqual(call(self.srv, "GET", "/api/v1/devices", token=tok)[0], 200)
        # A batch's named recipient profile and image from the command line (issue 16).
        r = self.ctl("batches", "--server", self.srv.url, "set", "school-2026", "--profile", "school", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('recipient profile "school" does not exist', r.stderr)
        self.assertEqual(call(self.srv, "POST", "/api/v1/recipient-profiles",
                              {"name": "school", "fields": {"keyboard": "be"}}, token=tok)[0], 200)
        r = self.ctl("batches", "--server", self.srv.url, "set", "school-2026", ok=False)
        self.assertEqual(r.returncode, 2)
        self.ctl("batches", "--server", self.srv.url, "set", "school-2026", "--profile", "school", "--no-image")
        b = [x for x in json.loads(self.ctl("batches", "--server", self.srv.url).stdout) if x["name"] == "school-2026"]
        self.assertEqual((b[0]["profile_name"], b[0]["image"]), ("school", None))
        self.ctl("batches", "--server", self.srv.url, "set", "school-2026", "--no-profile")
        b = [x for x in json.loads(self.ctl("batches", "--server", self.srv.url).stdout) if x["name"] == "school-2026"]
        self.assertIsNone(b[0]["profile_name"])

    def test_login_over_tls_pins_the_server_key(self):
        # Issue 15, finding 8: an operator on another machine logs in over HTTPS; the key pin
        # revive-server printed at start is pinned, kept 0600 beside the session, and later
        # commands over HTTPS connect with it.
        self.assertTrue(self.srv.tls_pin, "the server prints its key pin at start")
        make_operator(self.state)
        pw = {"REVIVE_PASSWORD": "correct horse battery"}
        # Before any login nothing is pinned: the self-signed certificate is not trusted.
        r = self.ctl("devices", "--server", self.srv.tls_url, "--token", "x" * 64, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("revivectl login", r.stderr)
        # Without a terminal and without --fingerprint, nothing is trusted: the key is shown.
        r = self.ctl("login", "--server", self.srv.tls_url, "--user", "alice", ok=False, env_extra=pw)
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.srv.tls_pin, r.stderr)
        self.assertIn("--fingerprint", r.stderr)
        r = self.ctl("login", "--server", self.srv.tls_url, "--user", "alice", "--fingerprint", self.srv.tls_pin,
                     env_extra=pw)
        self.assertIn("logged in", r.stdout)
        cfg = os.path.join(self.tmp.name, "cfg", "revive")
        pins = os.path.join(cfg, "known_servers.json")
        with open(pins) as f:
            self.assertEqual(json.load(f), {self.srv.tls_url: self.srv.tls_pin})
        self.assertEqual(os.stat(pins).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(cfg, "session.json")).st_mode & 0o777, 0o600)
        # The saved session works over HTTPS with the pin; a second login needs no fingerprint.
        self.assertIn("0 laptops", self.ctl("watch", "--server", self.srv.tls_url, "--once").stdout)
        self.ctl("login", "--server", self.srv.tls_url, "--user", "alice", env_extra=pw)
        # A kiosk link made over HTTPS is printed on the plain HTTP port, where a TV needs no
        # trust in the operators' self-signed certificate.
        out = self.ctl("kiosk", "create", "--server", self.srv.tls_url, "--label", "TV").stdout
        self.assertRegex(out, rf"kiosk link \(id \S+\): http://127\.0\.0\.1:{self.srv.port}/wall\?k=\S+\n")

    def test_a_server_showing_another_key_is_refused(self):
        # A second server (its own state: its own self-signed certificate) stands where the
        # first was pinned, as an impostor or a replaced certificate would.
        other = Server(os.path.join(self.tmp.name, "other")).start()
        try:
            make_operator(other.state)
            self.assertNotEqual(other.tls_pin, self.srv.tls_pin)
            pw = {"REVIVE_PASSWORD": "correct horse battery"}
            r = self.ctl("login", "--server", other.tls_url, "--user", "alice", "--fingerprint", self.srv.tls_pin,
                         ok=False, env_extra=pw)
            self.assertEqual(r.returncode, 1)
            self.assertIn(self.srv.tls_pin, r.stderr)
            self.assertIn(other.tls_pin, r.stderr)
            self.assertIn("refused", r.stderr)
            cfg = os.path.join(self.tmp.name, "cfg", "revive")
            self.assertFalse(os.path.exists(os.path.join(cfg, "session.json")), "nothing saved")
            # A pin kept from an earlier login for this URL: login and every command refuse,
            # naming both keys.
            os.makedirs(cfg, exist_ok=True)
            with open(os.path.join(cfg, "known_servers.json"), "w") as f:
                json.dump({other.tls_url: self.srv.tls_pin}, f)
            r = self.ctl("login", "--server", other.tls_url, "--user", "alice", ok=False, env_extra=pw)
            self.assertEqual(r.returncode, 1)
            self.assertIn(self.srv.tls_pin, r.stderr)
            self.assertIn(other.tls_pin, r.stderr)
            r = self.ctl("devices", "--server", other.tls_url, "--token", "x" * 64, ok=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn(self.srv.tls_pin, r.stderr)
            self.assertIn(other.tls_pin, r.stderr)
        finally:
            other.kill()

    def test_event_stream(self):
        token = self.login()
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.request("GET", "/api/v1/events/stream", headers={"Authorization": "Bearer " + token})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/event-stream")
        self.assertEqual(resp.readline(), b": connected\n")
        a = Agent("SSE1")
        a.enrol(self.srv)
        lines = []
        while not any(l.startswith(b"data: ") and b"SSE1" in l for l in lines):
            lines.append(resp.readline())
        self.assertIn(b"event: device\n", lines)
        st, r = a.next(self.srv)
        call(self.srv, "POST", f"/api/v1/agents/{a.id}/progress", {"step": r["step"]["id"], "progress": {"bytes_done": 7}}, a.token)
        while not lines[-1].startswith(b"data: {\"device\""):
            lines.append(resp.readline())
        self.assertIn(b'"bytes_done":7', lines[-1])
        # Revoking the session ends its stream at once (the 10 s socket timeout would fail).
        st, r = call(self.srv, "GET", "/api/v1/tokens", token=token)
        session = [t["id"] for t in r["tokens"] if t["kind"] == "session"][0]
        st, _ = call(self.srv, "DELETE", "/api/v1/tokens/" + session, token=token)
        self.assertEqual(st, 200)
        while resp.readline():
            pass
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.request("GET", "/api/v1/events/stream")
        self.assertEqual(conn.getresponse().status, 401)

    def test_wall_stream_kiosk_links_caps_and_revocation(self):
        token = self.login()
        st, r = call(self.srv, "POST", "/api/v1/kiosk-tokens", {"label": "tv"}, token)
        self.assertEqual(st, 201, r)
        kiosk = r["token"]
        self.assertEqual(r["path"], "/wall?k=" + kiosk)
        # The link for the TV: the plain HTTP port of the host the operator named.
        self.assertEqual(r["wall_url"], f"http://127.0.0.1:{self.srv.port}/wall?k={kiosk}")
        st, _ = call(self.srv, "GET", "/api/v1/devices", token=kiosk)  # not an operator's token
        self.assertEqual(st, 401)

        def stream(source, key=kiosk):
            conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10,
                                              source_address=(source, 0))
            conn.request("GET", "/wall/events?k=" + key)
            return conn, conn.getresponse()

        # A LAN host (127.0.0.2) may look with the link over plain HTTP, four screens at most.
        screens = [stream("127.0.0.2") for _ in range(4)]
        for conn, resp in screens:
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.getheader("Content-Type"), "text/event-stream")
            self.assertEqual(resp.readline(), b"retry: 3000\n")
        conn, resp = stream("127.0.0.2")
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.getheader("Retry-After"), "30")
        conn.close()
        conn, resp = stream("127.0.0.3")  # another address still gets in
        self.assertEqual(resp.status, 200)
        conn.close()
        conn, resp = stream("127.0.0.2", "x" * 43)
        self.assertEqual(resp.status, 401)
        conn.close()

        # A laptop that enrols shows up on every screen within the second's update.
        Agent("WALL1").enrol(self.srv)
        resp = screens[0][1]
        lines = []
        while not (lines and lines[-1].startswith(b"data: ") and b"WALL1" in lines[-1]):
            lines.append(resp.readline())
        self.assertIn(b"event: update\n", lines)
        self.assertIn(b'"status":"waiting"', lines[-1])

        # Revoking the link ends its streams (the server checks again when it wakes them) and
        # the page is refused.
        st, r = call(self.srv, "GET", "/api/v1/tokens", token=token)
        kiosk_id = [t["id"] for t in r["tokens"] if t["kind"] == "kiosk"][0]
        st, _ = call(self.srv, "DELETE", "/api/v1/tokens/" + kiosk_id, token=token)
        self.assertEqual(st, 200)
        for conn, resp in screens:
            while resp.readline():
                pass  # until the server ends the stream (the 10 s socket timeout would fail)
            conn.close()
        st, page = call(self.srv, "GET", "/wall?k=" + kiosk)
        self.assertEqual(st, 401)
        self.assertIn(b'data-access="refused"', page)


class CrashTest(unittest.TestCase):
    """SIGKILL the server in the middle of 8 agents' workflows; restart on the same state; all
    finish and every step result is recorded exactly once."""

    def test_sigkill_mid_workflows(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o711)  # started as root, revive-server runs as user revive
            state = os.path.join(tmp, "state")
            srv = Server(state).start()
            agents = [Agent(f"CRASH{i}") for i in range(8)]
            lock = threading.Lock()
            current = {"srv": srv, "recorded": 0}
            errors = []

            def run_agent(a):
                deadline = time.time() + 120
                enrolled = False
                while time.time() < deadline:
                    s = current["srv"]
                    try:
                        if not enrolled:
                            a.enrol(s)
                            enrolled = True
                        st, r = a.next(s)
                        if st == 401:
                            enrolled = False
                            continue
                        if st != 200:
                            time.sleep(0.05)
                            continue
                        if r["state"] == "done":
                            return
                        step = r["step"]
                        time.sleep(0.1)  # the step's work
                        st, rr = a.result(s, step)
                        if st == 200 and rr.get("recorded"):
                            with lock:
                                current["recorded"] += 1
                        if st not in (200, 409):
                            errors.append((a.identity["serial"], st, rr))
                    except (urllib.error.URLError, ConnectionError, OSError, AssertionError):
                        time.sleep(0.1)  # server down: back off and try again
                errors.append((a.identity["serial"], "timeout"))

            threads = [threading.Thread(target=run_agent, args=(a,)) for a in agents]
            for t in threads:
                t.start()
            time.sleep(0.5)
            srv.kill(signal.SIGKILL)
            with lock:
                at_kill = current["recorded"]
            self.assertGreater(at_kill, 0)  # the kill really lands mid-workflow
            self.assertLess(at_kill, 8 * len(STEPS))
            time.sleep(0.3)
            srv2 = Server(state).start()
            with lock:
                current["srv"] = srv2
            for t in threads:
                t.join(150)
            self.assertEqual(errors, [])
            make_operator(state)
            st, tok = call(srv2, "POST", "/api/v1/login", {"name": "alice", "password": "correct horse battery"})
            st, devs = call(srv2, "GET", "/api/v1/devices", token=tok["token"])
            self.assertEqual(len(devs), 8)
            for d in devs:
                self.assertEqual(d["state"], "done", d)
                st, full = call(srv2, "GET", f"/api/v1/devices/{d['id']}", token=tok["token"])
                kinds = [r["kind"] for r in full["results"]]
                self.assertEqual(sorted(kinds), sorted(STEPS), full["results"])  # each exactly once
            srv2.kill(signal.SIGTERM)


if __name__ == "__main__":
    SERVER, CTL = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main(verbosity=2)
