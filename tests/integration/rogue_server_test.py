#!/usr/bin/env python3
"""A stranger on the workshop LAN runs a server of their own and hands a network-booted laptop
a wipe job (issue 15, finding 3). Two network namespaces joined by a veth pair: the laptop (a
real revive-agent on a simulated machine, its disk a file) and the rogue server (a small test
double, rogue_server_double.py). The agent pins the workshop server's key, which the stranger
does not have: a job signed with another key, an unsigned one and a bare step are each refused,
reported as refused, and the disk file keeps every byte. The control: an agent that pins the
double's own key takes the very same job and wipes the file, so the refusals are the check
at work, not a job that could never have run.

Needs root (network namespaces): exits 77 otherwise.

usage: rogue_server_test.py revive-agent tests/data
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

AGENT, DATA = sys.argv[1:3]
del sys.argv[1:3]
HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = f"rvtj{os.getpid() % 100000}"  # this test's namespaces and links, and only those
LAPTOP_NS, ROGUE_NS = PREFIX + "-lap", PREFIX + "-rogue"
ROGUE_IP, LAPTOP_IP, PORT = "10.213.7.1", "10.213.7.2", 8080
DISK_BYTES = 8 << 20


def can_run():
    if os.geteuid() != 0:
        return "needs root for network namespaces (this machine: not root)"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    probe = subprocess.run(["ip", "netns", "add", PREFIX + "-probe"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "cannot create network namespaces here: " + probe.stderr.strip()
    subprocess.run(["ip", "netns", "del", PREFIX + "-probe"], check=True)
    return None


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)


def in_ns(ns, *args):
    return ["ip", "netns", "exec", ns, *args]


class RogueServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sh("ip", "netns", "add", LAPTOP_NS)
        sh("ip", "netns", "add", ROGUE_NS)
        sh("ip", "link", "add", PREFIX + "a", "netns", LAPTOP_NS, "type", "veth", "peer", "name", PREFIX + "b",
           "netns", ROGUE_NS)
        for ns, dev, ip in ((LAPTOP_NS, PREFIX + "a", LAPTOP_IP), (ROGUE_NS, PREFIX + "b", ROGUE_IP)):
            sh(*in_ns(ns, "ip", "addr", "add", ip + "/24", "dev", dev))
            sh(*in_ns(ns, "ip", "link", "set", dev, "up"))
            sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))

    @classmethod
    def tearDownClass(cls):
        for ns in (LAPTOP_NS, ROGUE_NS):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        # The workshop server's key as the live image pins it. The stranger does not have its
        # secret half (nobody does here): only its public key exists.
        self.pinned = os.path.join(self.tmp.name, "workshop.pub")
        with open(self.pinned, "w") as f:
            f.write("revive-ed25519 " + base64.b64encode(os.urandom(32)).decode() + "\n")
        self.disk = os.path.join(self.tmp.name, "laptop.disk")
        with open(self.disk, "wb") as f:
            f.write(b"\x5a" * DISK_BYTES)  # the donor's data
        self.double = None

    def tearDown(self):
        if self.double is not None:
            self.double.kill()
            self.double.communicate()
        self.tmp.cleanup()

    def start_double(self, mode):
        self.double_key = os.path.join(self.tmp.name, "rogue.pub")
        self.double = subprocess.Popen(in_ns(ROGUE_NS, sys.executable, os.path.join(HERE, "rogue_server_double.py"),
                                             ROGUE_IP, str(PORT), mode, self.double_key),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.double.stdout.readline()
        self.assertIn("listening", line, self.double.stderr.read() if not line else line)

    def run_agent(self, key):
        p = subprocess.run(in_ns(LAPTOP_NS, AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "thinkpad-t480"),
                                 "--disk", self.disk, "--server", f"http://{ROGUE_IP}:{PORT}", "--server-key", key,
                                 "--long-poll", "1"),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def results(self):
        self.double.kill()
        out = self.double.communicate()[0]
        self.double = None
        return [json.loads(l) for l in out.splitlines() if l.startswith("{\"path\"")]

    def disk_digest(self):
        with open(self.disk, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def assert_refused(self, mode, why, line="REFUSED a job from the server: "):
        before = self.disk_digest()
        self.start_double(mode)
        t0 = time.time()
        rc, out = self.run_agent(self.pinned)
        # The agent stops (exit 1) having touched nothing: after three untrustworthy jobs in a
        # row, or at once for an answer that holds no job at all.
        self.assertEqual(rc, 1, out)
        self.assertLess(time.time() - t0, 60, out)
        self.assertIn(line, out)
        self.assertIn(why, out)
        self.assertNotIn("step wipe", out)  # the step never started
        self.assertEqual(self.disk_digest(), before, "the disk file was written")
        return out

    def test_a_wipe_job_signed_with_another_key_is_refused(self):
        out = self.assert_refused("signed", "not by the trusted key")
        self.assertIn("Nothing was touched", out)
        posted = self.results()
        self.assertEqual(len(posted), 3)  # each refusal was reported, naming why
        for p in posted:
            self.assertEqual(p["result"]["status"], "failed")
            self.assertIn("the agent refused the job", p["result"]["error"])

    def test_an_unsigned_wipe_job_is_refused(self):
        self.assert_refused("unsigned", "no signature")

    def test_a_bare_step_is_refused(self):
        self.assert_refused("plain", "no signed job", line="ERROR: the answer to next: ")

    def test_control_the_same_job_signed_with_the_pinned_key_wipes_the_disk(self):
        self.start_double("signed")
        rc, out = self.run_agent(self.double_key)
        self.assertEqual(rc, 0, out)
        self.assertIn("step wipe (attempt 1)", out)
        self.assertNotIn("REFUSED", out)
        with open(self.disk, "rb") as f:
            self.assertEqual(f.read(), bytes(DISK_BYTES))  # zeros: the wipe ran
        posted = self.results()
        self.assertEqual(posted[0]["result"]["status"], "ok", posted)


if __name__ == "__main__":
    why = can_run()
    if why:
        print(f"SKIPPED: {why}")
        sys.exit(77)
    unittest.main(verbosity=2)
