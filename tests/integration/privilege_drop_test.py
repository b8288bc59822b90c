#!/usr/bin/env python3
"""revive-server started as root gives up root once its ports are bound (issue 15, finding 8;
docs/SECURITY.md, "Privileges"). In a network namespace of its own (rvpd<pid>), the real binary
binds the real privileged ports (proxyDHCP on 67 and 4011, TFTP on 69), and the test reads
/proc/<pid>/status: every uid the account's, no supplementary group, no capability in any set
(the bounding set too), no_new_privs. The server then still answers a PXE client, a TFTP read
and HTTP requests that write its database. A state directory left root-owned by an older
server (or by `--user root`, which says so loudly) is given to the account at the next start;
an account that does not exist stops the start before anything is created.

usage: privilege_drop_test.py revive-server   (root; exit 77 otherwise)
"""
import json
import os
import pwd
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SERVER = sys.argv[1]
del sys.argv[1:2]
NS = f"rvpd{os.getpid()}"
ACCOUNT = "revive"


def in_ns(*args):
    return ["ip", "netns", "exec", NS, *args]


def stat_mode(path):
    return os.stat(path).st_mode & 0o7777


def status_fields(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def pxe_request():
    """A PXE client's DHCPREQUEST to the boot-server port (BIOS, MAC 52:54:00:12:34:56)."""
    b = bytearray(236)
    b[0], b[1], b[2] = 1, 1, 6
    b[4:8] = b"\x12\x34\x56\x78"
    b[28:34] = b"\x52\x54\x00\x12\x34\x56"
    vendor = b"PXEClient:Arch:00000:UNDI:002001"
    b += b"\x63\x82\x53\x63" + bytes([53, 1, 3, 93, 2, 0, 0, 60, len(vendor)]) + vendor + b"\xff"
    return bytes(b)


# Runs inside the namespace: one UDP exchange, the reply's boot file name (or "" on silence).
ASK_DHCP = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(bytes.fromhex(sys.argv[1]), ("127.0.0.1", 4011))
try:
    pkt = s.recvfrom(2000)[0]
    print(pkt[108:236].split(b"\\0")[0].decode())
except socket.timeout:
    print("")
"""


class PrivilegeDrop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run(["ip", "netns", "add", NS], check=True)
        subprocess.run(in_ns("ip", "link", "set", "lo", "up"), check=True)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["ip", "netns", "delete", NS], check=False)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="revive-privdrop-")
        os.chmod(self.tmp.name, 0o711)  # the account must reach the state below it
        self.state = os.path.join(self.tmp.name, "state")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        self.tmp.cleanup()

    def start(self, *extra):
        """revive-server in the namespace on the real boot ports; (process, HTTP port, log lines)."""
        p = subprocess.Popen(in_ns(SERVER, "--state", self.state, "--listen", "127.0.0.1:0", "--tls-listen", "off",
                                   "--demo", "--proxy-dhcp", "--tftp", "--boot-listen", "127.0.0.1",
                                   "--boot-address", "127.0.0.1", *extra),
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        lines = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = p.stderr.readline()
            if not line:
                self.fail("revive-server exited during startup:\n" + "".join(lines))
            lines.append(line)
            m = re.search(r"listening on .* port (\d+)", line)
            if m:
                return p, int(m.group(1)), "".join(lines)
        self.fail("revive-server did not start:\n" + "".join(lines))

    def http(self, port, method, path, body=None):
        args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, f"http://127.0.0.1:{port}{path}"]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        out = subprocess.run(in_ns(*args), capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        text, _, code = out.stdout.rpartition("\n")
        return int(code), text

    def add_operator(self, *extra):
        subprocess.run([SERVER, "--state", self.state, *extra, "operator", "add", "alice"], input="long enough pw\n",
                       text=True, check=True, capture_output=True)

    def assert_serves(self, port):
        """HTTP (reading and writing the database), a PXE client on 4011, a TFTP read on 69."""
        self.assertEqual(self.http(port, "GET", "/healthz")[0], 200)
        code, text = self.http(port, "POST", "/api/v1/login", {"name": "alice", "password": "long enough pw"})
        self.assertEqual(code, 200, text)  # a session row written by the dropped process
        self.assertIn("token", json.loads(text))
        boot_file = subprocess.run(in_ns(sys.executable, "-c", ASK_DHCP, pxe_request().hex()), capture_output=True,
                                   text=True, timeout=30, check=True).stdout.strip()
        self.assertEqual(boot_file, "undionly.kpxe")
        got = subprocess.run(in_ns("curl", "-sS", "--fail", "tftp://127.0.0.1:69/undionly.kpxe"), capture_output=True,
                             timeout=60)
        self.assertEqual(got.returncode, 0, got.stderr)
        with open("/usr/lib/ipxe/undionly.kpxe", "rb") as f:
            self.assertEqual(got.stdout, f.read())

    def owners(self):
        found = set()
        for root, dirs, files in os.walk(self.state):
            for n in [root, *(os.path.join(root, x) for x in dirs + files)]:
                found.add(os.lstat(n).st_uid)
        return found

    def test_started_as_root_it_serves_as_its_account_without_any_capability(self):
        account = pwd.getpwnam(ACCOUNT)
        self.add_operator()  # as root, before the server: it writes the state as the account
        p, port, log = self.start()
        self.assertIn(f"running as user {ACCOUNT} (uid {account.pw_uid}) without capabilities", log)
        st = status_fields(p.pid)
        uid, gid = str(account.pw_uid), str(account.pw_gid)
        self.assertEqual(st["Uid"].split(), [uid] * 4)
        self.assertEqual(st["Gid"].split(), [gid] * 4)
        self.assertEqual(st["Groups"].split(), [])
        for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[caps], 16), 0, f"{caps} {st[caps]}")
        self.assertEqual(st["NoNewPrivs"], "1")
        # Its sockets on the privileged ports, bound as root before the drop, are still its own.
        udp = subprocess.run(in_ns("ss", "-Hulnp"), capture_output=True, text=True, check=True).stdout
        for port_no in (67, 69, 4011):
            self.assertRegex(udp, rf"127\.0\.0\.1:{port_no}\s.*pid={p.pid},", udp)
        self.assert_serves(port)
        self.assertEqual(self.owners(), {account.pw_uid})

    def test_a_root_owned_state_is_given_to_the_account_and_user_root_is_loud(self):
        self.add_operator("--user", "root")  # root keeps root, and what it makes is root's
        self.assertEqual(self.owners(), {0})
        p, port, log = self.start("--user", "root")
        self.assertIn("RUNNING AS ROOT (--user root)", log)
        self.assertEqual(status_fields(p.pid)["Uid"].split(), ["0"] * 4)
        self.assert_serves(port)  # the session row: written as root
        p.terminate()
        p.wait(30)
        self.assertEqual(self.owners(), {0})
        p, port, log = self.start()  # what an upgrade from a root-running server does
        self.assertNotEqual(status_fields(p.pid)["Uid"].split()[0], "0")
        self.assert_serves(port)
        self.assertEqual(self.owners(), {pwd.getpwnam(ACCOUNT).pw_uid})

    def test_operator_commands_run_as_root_write_the_state_as_the_account(self):
        """`operator add` and `operator token` run as root (a first setup, a password reset) drop
        to the account before they open the database: nothing they make is root's, so a server
        that is already running as the account can read and write it at once."""
        account = pwd.getpwnam(ACCOUNT)
        self.add_operator()
        self.assertEqual(self.owners(), {account.pw_uid})
        token = subprocess.run([SERVER, "--state", self.state, "operator", "token", "alice"], check=True,
                               capture_output=True, text=True).stdout.strip()
        self.assertTrue(token)
        self.assertEqual(self.owners(), {account.pw_uid})
        self.assertEqual(stat_mode(self.state), 0o700)
        # A state left root-owned (by `--user root`) is given to the account, as at a start.
        self.add_operator("--user", "root")
        subprocess.run(["chown", "-R", "root:root", self.state], check=True)
        self.add_operator()  # a new password: it also revoked the token above
        token = subprocess.run([SERVER, "--state", self.state, "operator", "token", "alice"], check=True,
                               capture_output=True, text=True).stdout.strip()
        self.assertEqual(self.owners(), {account.pw_uid})
        # The running server (as the account) takes the token the command made.
        p, port, _ = self.start()
        out = subprocess.run(in_ns("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                   f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}/api/v1/tokens"),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout, "200", out.stderr)
        # An account that does not exist stops the command before anything is made.
        shutil.rmtree(self.state)
        out = subprocess.run([SERVER, "--state", self.state, "--user", "revive-no-such-user", "operator", "add", "bob"],
                             input="long enough pw\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("there is no such user: create it", out.stderr)
        self.assertFalse(os.path.exists(self.state), "the state directory was created anyway")

    def test_an_account_that_does_not_exist_stops_the_start_before_anything_is_made(self):
        out = subprocess.run(in_ns(SERVER, "--state", self.state, "--listen", "127.0.0.1:0", "--tls-listen", "off",
                                   "--proxy-dhcp", "--tftp", "--boot-listen", "127.0.0.1", "--user",
                                   "revive-no-such-user"), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn('there is no such user: create it', out.stderr)
        self.assertIn("--user root", out.stderr)
        self.assertFalse(os.path.exists(self.state), "the state directory was created anyway")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: needs root (a network namespace and the privileged ports 67, 69, 4011)")
        sys.exit(77)
    if not shutil.which("ip") or not os.path.exists("/usr/lib/ipxe/undionly.kpxe"):
        print("skipped: needs iproute2 and ipxe (scripts/setup installs them)")
        sys.exit(77)
    try:
        pwd.getpwnam(ACCOUNT)
    except KeyError:
        print(f"FAILED: no system user {ACCOUNT}: scripts/setup creates it (the server refuses to run as root without it)")
        sys.exit(1)
    unittest.main()
