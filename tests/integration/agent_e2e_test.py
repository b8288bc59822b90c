#!/usr/bin/env python3
"""End to end: a real revive-server and three simulated laptops (real revive-agent processes on
the checked-in machine trees, file disks) run inventory -> test -> finish over loopback; the
server then holds each laptop's inventory, test figures, grade and reasons. Also: the agent
keeps going when the server restarts mid-workflow, and refuses to act outside simulation
unless booted as a live agent.

usage: agent_e2e_test.py revive-server revive-agent revivectl tests/data
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

SERVER, AGENT, CTL, DATA = sys.argv[1:5]
del sys.argv[1:5]
MODELS = {"thinkpad-t480": "PF1R2D7X", "latitude-7490": "8KQ7XK2", "hp-stream-11": "5CD7104QXL"}


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import api, operator_token  # noqa: E402
from e2elib import start_server as start  # noqa: E402


def start_server(state, port=0):
    # Demo mode: simulated laptops enrol without boot tokens and post simulated evidence.
    return start(SERVER, state, port, extra=["--demo"])


class CuttableProxy:
    """A TCP relay on 127.0.0.1 between agent and server that counts the bytes sent towards the
    agent and can cut the network: every open connection is reset and new ones are refused
    until restore()."""

    def __init__(self, target_port, rate):
        self.target = target_port
        self.rate = rate
        self.down_bytes = 0
        self.lock = threading.Lock()
        self.conns = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.up = True
        threading.Thread(target=self.accept_loop, args=(self.listener,), daemon=True).start()

    def accept_loop(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            threading.Thread(target=self.pump, args=(client, server), daemon=True).start()

    def pump(self, client, server):
        # The link towards the agent carries at most `rate` bytes/s per connection, in small
        # pieces, so what the proxy counts is what crossed the link (not what sits in buffers).
        started, sent = time.monotonic(), 0
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 1)
                for s in readable:
                    data = s.recv(16384)
                    if not data:
                        raise OSError("closed")
                    if s is server:
                        sent += len(data)
                        time.sleep(max(0.0, started + sent / self.rate - time.monotonic()))
                    (server if s is client else client).sendall(data)
                    if s is server:
                        with self.lock:
                            self.down_bytes += len(data)
        except (OSError, ValueError):
            pass
        for s in (client, server):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        self.listener.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def restore(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self.accept_loop, args=(self.listener,), daemon=True).start()


class AgentE2E(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o711)  # started as root, revive-server runs as user revive
        self.state = os.path.join(self.tmp.name, "state")
        self.token = operator_token(SERVER, self.state)
        self.srv, self.port = start_server(self.state)
        api(self.port, "POST", "/api/v1/workflows", self.token,
            {"name": "demo", "steps": [{"kind": "inventory"}, {"kind": "test", "params": {"cpu_ms": 200, "memory_ms": 200,
                                                                                        "memory_mib": 16, "disk_ms": 300}},
                                       {"kind": "finish"}]})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "demo"})

    def tearDown(self):
        if self.srv.poll() is None:
            self.srv.send_signal(signal.SIGTERM)
            self.srv.wait(30)
        self.srv.stderr.close()
        self.tmp.cleanup()

    def agent(self, model, port=None):
        disk = os.path.join(self.tmp.name, model + ".disk")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        # The agent takes only jobs signed by the key it pins: this server's (a live image's).
        key = os.path.join(self.state, "store", "keys", "ed25519.pub")
        return subprocess.Popen([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", model), "--disk", disk,
                                 "--server", f"http://127.0.0.1:{port or self.port}", "--long-poll", "5", "--label", model,
                                 "--server-key", key],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def test_three_laptops_are_inventoried_tested_and_graded(self):
        procs = {m: self.agent(m) for m in MODELS}
        outs = {m: p.communicate(timeout=120)[0] for m, p in procs.items()}
        for m, p in procs.items():
            self.assertEqual(p.returncode, 0, outs[m])
            self.assertIn("workflow finished: done", outs[m])
        devices = api(self.port, "GET", "/api/v1/devices", self.token)
        self.assertEqual(sorted(d["serial"] for d in devices), sorted(MODELS.values()))
        grades = {}
        for d in devices:
            full = api(self.port, "GET", f"/api/v1/devices/{d['id']}", self.token)
            self.assertEqual(full["state"], "done")
            self.assertEqual([r["kind"] for r in full["results"]], ["inventory", "test", "finish"])
            test = full["results"][1]["result"]
            self.assertGreater(test["tests"]["cpu"]["single_score"], 0)
            self.assertEqual(test["tests"]["memory"]["errors"], 0)
            self.assertGreater(test["tests"]["disk_read"]["read_bytes"], 0)
            grades[d["serial"]] = test["grading"]
            self.assertEqual(full["inventory"]["smbios"]["system"]["serial"], d["serial"])
        t480 = grades["PF1R2D7X"]
        self.assertEqual(t480["grade"], "C")
        self.assertIn("at most B: BAT0 73% of design < 80%", t480["reasons"])
        self.assertIn("at most C: nvme0n1 NVMe media errors 4360570", t480["reasons"])
        self.assertTrue(t480["windows11"]["ready"])
        lat = grades["8KQ7XK2"]
        self.assertIn("at most B: sda SMART reallocated sectors 23", lat["reasons"])
        self.assertEqual(sorted(d["grade"] for d in devices), ["C", "C", "C"])
        watch = subprocess.run([CTL, "watch", "--server", f"http://127.0.0.1:{self.port}", "--token", self.token, "--once"],
                               capture_output=True, text=True, check=True).stdout
        self.assertIn("GRADE", watch)
        self.assertRegex(watch, r"8KQ7XK2\s+done\s+C ")
        hp = grades["5CD7104QXL"]
        self.assertFalse(hp["windows11"]["ready"])
        self.assertIn("at most B: RAM 4096 MiB < 8192 MiB", hp["reasons"])

    def test_workshop_policy_from_the_server_is_applied(self):
        api(self.port, "POST", "/api/v1/settings", self.token,
            {"grading_policy": "[battery]\nb_below_pct = 50\nc_below_pct = 30\n[disk]\nuncorrectable_c_above = 100000000\n"})
        p = self.agent("thinkpad-t480")
        out = p.communicate(timeout=120)[0]
        self.assertEqual(p.returncode, 0, out)
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        self.assertEqual(d["results"][1]["result"]["grading"]["grade"], "A", out)

    def test_agent_survives_a_server_restart(self):
        api(self.port, "POST", "/api/v1/workflows", self.token,
            {"name": "slow", "steps": [{"kind": "inventory"}, {"kind": "test", "params": {"cpu_ms": 1000, "memory_ms": 500,
                                                                                        "memory_mib": 16, "disk_ms": 300}},
                                       {"kind": "finish"}]})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "slow"})
        p = self.agent("latitude-7490")
        time.sleep(0.8)  # inside the test step's CPU phase (2 s)
        self.srv.send_signal(signal.SIGKILL)
        self.srv.wait()
        time.sleep(4)  # the agent's next progress report finds the server away
        self.srv, _ = start_server(self.state, self.port)
        out = p.communicate(timeout=120)[0]
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("unreachable", out)
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        self.assertEqual([r["kind"] for r in d["results"]], ["inventory", "test", "finish"])

    def test_default_workflow_wipes_certifies_and_stops_at_a_deploy_without_image(self):
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "default"})
        p = self.agent("hp-stream-11")
        deadline = time.time() + 60
        d = {}
        while time.time() < deadline and d.get("state") != "failed":
            time.sleep(0.5)
            try:
                d = api(self.port, "GET", "/api/v1/devices/1", self.token)
            except urllib.error.HTTPError:  # not enrolled yet
                pass
        p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=30)[0]
        steps = {s["kind"]: s for s in d["steps"]}
        self.assertEqual(steps["wipe"]["state"], "done", out)
        self.assertEqual(steps["test"]["state"], "done", out)
        self.assertEqual(steps["deploy"]["state"], "failed", out)
        self.assertIn("no image assigned", steps["deploy"]["error"])
        certs = api(self.port, "GET", "/api/v1/devices/1/certificates", self.token)
        self.assertEqual(sorted(c["kind"] for c in certs), ["drive", "laptop"])
        self.assertTrue(all(c["result"] == "passed" for c in certs), certs)

    def test_step_parameters_of_the_wrong_type_fail_the_step_not_the_agent(self):
        api(self.port, "POST", "/api/v1/workflows", self.token,
            {"name": "typo", "steps": [{"kind": "test", "params": {"cpu_ms": "fast"}}, {"kind": "finish"}]})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "typo"})
        p = self.agent("hp-stream-11")
        time.sleep(4)
        self.assertIsNone(p.poll())  # still running, waiting for an operator
        p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=30)[0]
        self.assertIn("FAILED: test: bad step parameters", out)
        self.assertEqual(api(self.port, "GET", "/api/v1/devices/1", self.token)["results"][0]["status"], "failed")

    def deploy_workflow(self, layout=((0, 5 << 20), (12 << 20, 3 << 20)), size=24 << 20):
        """Uploads an image with random data at the given (offset, length) places and makes a
        deploy workflow the default; returns the image's bytes."""
        img = os.path.join(self.tmp.name, "recipient.img")
        with open(img, "wb") as f:
            for off, n in layout:
                f.seek(off)
                f.write(os.urandom(n))
            f.truncate(size)
        with open(img, "rb") as f:
            body = f.read()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/images?name=recipient", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=120) as r:
            self.assertEqual(r.status, 201)
        api(self.port, "POST", "/api/v1/workflows", self.token,
            {"name": "deploy", "steps": [{"kind": "inventory"}, {"kind": "deploy", "params": {"image": "recipient"}}, {"kind": "finish"}]})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "deploy"})
        return body

    def run_deploy(self, disk_size, key):
        disk = os.path.join(self.tmp.name, "laptop.disk")
        with open(disk, "wb") as f:
            f.truncate(disk_size)
        args = [AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "elitebook-840-g5"), "--disk", disk,
                "--server", f"http://127.0.0.1:{self.port}", "--long-poll", "2"]
        if key:
            args += ["--server-key", key]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out = p.communicate(timeout=8)[0]
        except subprocess.TimeoutExpired:  # waiting for an operator after a failed step
            p.send_signal(signal.SIGTERM)
            out = p.communicate(timeout=30)[0]
        with open(disk, "rb") as f:
            return p.returncode, out, f.read()

    def test_deploy_writes_the_image_and_checks_its_signature(self):
        image = self.deploy_workflow()
        key = os.path.join(self.state, "store", "keys", "ed25519.pub")
        rc, out, disk = self.run_deploy(64 << 20, key)
        self.assertEqual(rc, 0, out)
        self.assertEqual(disk[:len(image)], image)
        self.assertEqual(disk[len(image):], bytes(len(disk) - len(image)))
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        res = d["results"][1]["result"]
        self.assertEqual(res["image"], "recipient")
        self.assertEqual(res["bytes_written"], 12 << 20)  # chunks 0, 1 and 3; the zero chunks are not written
        self.assertEqual(res["verify"]["bad"], [])

    def test_deploy_refuses_small_disks_and_unverifiable_images(self):
        self.deploy_workflow()
        rc, out, disk = self.run_deploy(8 << 20, os.path.join(self.state, "store", "keys", "ed25519.pub"))
        self.assertIn("the image needs at least", out)
        self.assertIn("nothing was written", out)
        self.assertEqual(disk, bytes(8 << 20))
        api(self.port, "POST", "/api/v1/devices/1/cancel", self.token, {})
        api(self.port, "POST", "/api/v1/devices/1/restart", self.token, {})
        rc, out, disk = self.run_deploy(64 << 20, None)
        self.assertIn("REFUSED a job from the server: no pinned server key", out)
        self.assertEqual(disk, bytes(64 << 20))
        other = os.path.join(self.tmp.name, "other")
        subprocess.run([CTL, "image", "import", "--no-progress", "--store", other, "--name", "x", os.path.join(self.tmp.name, "recipient.img")],
                       check=True, capture_output=True)
        api(self.port, "POST", "/api/v1/devices/1/cancel", self.token, {})
        api(self.port, "POST", "/api/v1/devices/1/restart", self.token, {})
        rc, out, disk = self.run_deploy(64 << 20, os.path.join(other, "keys", "ed25519.pub"))
        # Its jobs are signed by this server's key, not the pinned one: none is taken.
        self.assertIn("REFUSED a job from the server", out)
        self.assertIn("not by the trusted key", out)
        self.assertEqual(disk, bytes(64 << 20))

    def test_deploy_resumes_after_the_agent_is_killed(self):
        image = self.deploy_workflow()
        key = os.path.join(self.state, "store", "keys", "ed25519.pub")
        disk = os.path.join(self.tmp.name, "laptop.disk")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        base = [AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "elitebook-840-g5"), "--disk", disk,
                "--server", f"http://127.0.0.1:{self.port}", "--server-key", key]
        # Slow link (256 KiB/s per connection): the deploy takes seconds, checkpoints land first.
        p = subprocess.Popen(base + ["--max-fetch-rate", str(256 << 10)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        for line in p.stdout:
            seen.append(line)
            if "checkpoint:" in line and not line.strip().endswith(" 0 of 3 chunks on disk"):
                break
        p.send_signal(signal.SIGKILL)  # the laptop loses power mid-deploy
        p.wait()
        p.stdout.close()
        self.assertTrue(any("checkpoint:" in l for l in seen), "".join(seen))
        p = subprocess.run(base, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("resuming:", p.stdout)
        with open(disk, "rb") as f:
            self.assertEqual(f.read(len(image)), image)
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        res = d["results"][1]["result"]
        self.assertGreater(res["chunks_skipped"], 0)
        self.assertEqual(res["chunks_written"] + res["chunks_skipped"], 3)
        # Only what was missing went over the wire after the restart: less than the whole image.
        self.assertLess(res["bytes_fetched"], self.stored_bytes())
        self.assertEqual(res["verify"]["bad"], [])

    def stored_bytes(self):
        return next(i["stored_bytes"] for i in api(self.port, "GET", "/api/v1/images", self.token) if i["name"] == "recipient")

    def test_deploy_survives_a_network_cut_and_fetches_only_what_was_missing(self):
        # 6 chunks of 4 MiB random data over a link of 1 MiB/s per connection.
        image = self.deploy_workflow(layout=[(i << 22, 4 << 20) for i in (0, 1, 3, 4, 6, 7)], size=40 << 20)
        key = os.path.join(self.state, "store", "keys", "ed25519.pub")
        disk = os.path.join(self.tmp.name, "laptop.disk")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        proxy = CuttableProxy(self.port, 1 << 20)
        p = subprocess.Popen([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "elitebook-840-g5"), "--disk", disk,
                              "--server", f"http://127.0.0.1:{proxy.port}", "--server-key", key],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(p.stdout), daemon=True)
        reader.start()
        deadline = time.time() + 60
        while not any("checkpoint:" in l and " 0 of " not in l for l in lines) and time.time() < deadline:
            time.sleep(0.1)
        self.assertTrue(any("checkpoint:" in l for l in lines), "".join(lines))
        proxy.cut()  # the workshop switch is unplugged mid-stream
        before_cut = proxy.down_bytes
        time.sleep(4)
        after_cut_start = proxy.down_bytes
        proxy.restore()
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            reader.join(10)
            self.fail(f"the agent did not finish after the network came back (server exit code {self.srv.poll()}):\n" + "".join(lines))
        reader.join(10)
        out = "".join(lines)
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("image source unreachable", out)
        self.assertIn("image source answers again", out)
        with open(disk, "rb") as f:
            self.assertEqual(f.read(len(image)), image)
        res = api(self.port, "GET", "/api/v1/devices/1", self.token)["results"][1]["result"]
        self.assertGreaterEqual(res["outages"], 1)
        self.assertEqual(res["verify"]["bad"], [])
        stored = self.stored_bytes()
        # What crossed the link after the cut is what was still missing: less than the image.
        after = proxy.down_bytes - after_cut_start
        print(f"\n  network cut: {before_cut} bytes before the cut, {after} after, image stores {stored}, "
              f"outages {res['outages']}, chunks fetched again in full {res['chunk_retries']}", file=sys.stderr)
        self.assertGreater(before_cut, 4 << 20)
        self.assertLess(after, stored - (4 << 20), f"before the cut {before_cut}, after {after}, image {stored}")
        self.assertLess(before_cut + after, stored + (16 << 20))  # at most the 4 chunks in flight again

    def test_deploy_to_a_loop_device(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create a loop device (this machine: not root)")
        image = self.deploy_workflow()
        backing = os.path.join(self.tmp.name, "loop.backing")
        with open(backing, "wb") as f:
            f.write(b"\xa5" * (32 << 20))  # a used disk: old data everywhere
        r = subprocess.run(["losetup", "--find", "--show", backing], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("losetup cannot create a loop device here: " + r.stderr.strip())
        loop = r.stdout.strip()
        try:
            key = os.path.join(self.state, "store", "keys", "ed25519.pub")
            p = subprocess.run([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "elitebook-840-g5"), "--disk", loop,
                                "--server", f"http://127.0.0.1:{self.port}", "--server-key", key],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(loop, "rb") as f:
                written = f.read(len(image))
            # Bit-exact, holes included: the old data in the image's holes reads as zeros now.
            self.assertEqual(written, image)
            res = api(self.port, "GET", "/api/v1/devices/1", self.token)["results"][1]["result"]
            self.assertEqual(res["verify"]["bad"], [])
            self.assertGreater(res["holes_zeroed_bytes"], 0)
        finally:
            subprocess.run(["losetup", "-d", loop])

    def test_refuses_outside_simulation_without_the_live_marker(self):
        r = subprocess.run([AGENT, "--server", "http://127.0.0.1:1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not booted as a Revive live agent", r.stderr)
        r = subprocess.run([AGENT, "--simulate", "--root", DATA, "--disk", "/dev/null", "--server", "http://127.0.0.1:1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("regular file", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
