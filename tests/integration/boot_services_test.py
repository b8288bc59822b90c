#!/usr/bin/env python3
"""Network-boot services of a real revive-server on loopback, against real clients:
TFTP with curl (tftp://, blksize) and tftp-hpa's client, plus a small RFC 7440 client written
here for windowsize, loss and rollover cases; path traversal and symlink escapes refused; WRQ
refused; many clients at once. proxyDHCP on the PXE port (4011) answering PXE and iPXE clients
and ignoring others. The per-device iPXE boot script, its boot token, and a finished laptop sent
to its local disk.

usage: boot_services_test.py revive-server revive-agent tests/data
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

SERVER, AGENT, DATA = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import api, operator_token, start_server  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tftp_client import tftp_get  # noqa: E402


def tftp_error(port, raw):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(raw, ("127.0.0.1", port))
    pkt, _ = s.recvfrom(2000)
    s.close()
    op, code = struct.unpack("!HH", pkt[:4])
    return op, code, pkt[4:].rstrip(b"\0").decode()


def dhcp_packet(msg_type, arch=0, vendor=b"PXEClient:Arch:00000:UNDI:002001", user_class=None, mac=b"\x52\x54\x00\x12\x34\x56"):
    b = bytearray(236)
    b[0], b[1], b[2] = 1, 1, 6
    b[4:8] = b"\x12\x34\x56\x78"
    b[28:34] = mac
    b += b"\x63\x82\x53\x63"
    b += bytes([53, 1, msg_type, 93, 2, arch >> 8, arch & 255])
    if vendor:
        b += bytes([60, len(vendor)]) + vendor
    if user_class:
        b += bytes([77, len(user_class)]) + user_class
    b += b"\xff"
    return bytes(b)


def udp_receive_buffer_drops():
    """Datagrams this network namespace dropped because a socket's buffer was full."""
    with open("/proc/net/snmp") as f:
        names, values = [l.split() for l in f if l.startswith("Udp:")]
    return int(values[names.index("RcvbufErrors")])


def parse_dhcp_reply(pkt):
    file = pkt[108:236].split(b"\0")[0].decode()
    opts = {}
    i = 240
    while i < len(pkt) and pkt[i] != 255:
        if pkt[i] == 0:
            i += 1
            continue
        opts[pkt[i]] = pkt[i + 2:i + 2 + pkt[i + 1]]
        i += 2 + pkt[i + 1]
    yiaddr = socket.inet_ntoa(pkt[16:20])
    return file, opts, yiaddr


class BootServices(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        os.chmod(cls.tmp.name, 0o711)  # started as root, revive-server runs as user revive
        cls.state = os.path.join(cls.tmp.name, "state")
        cls.boot = os.path.join(cls.tmp.name, "boot")
        cls.root = os.path.join(cls.boot, "tftp")
        os.makedirs(cls.root)
        os.makedirs(os.path.join(cls.tmp.name, "outside"))
        with open(os.path.join(cls.tmp.name, "outside", "secret"), "w") as f:
            f.write("donor data")
        cls.big = os.urandom(3 * 1024 * 1024 + 123)
        with open(os.path.join(cls.root, "big.bin"), "wb") as f:
            f.write(cls.big)
        os.makedirs(os.path.join(cls.root, "sub"))
        with open(os.path.join(cls.root, "sub", "menu.cfg"), "w") as f:
            f.write("set timeout=0\n")
        os.symlink("../../outside/secret", os.path.join(cls.root, "escape"))
        cls.token = operator_token(SERVER, cls.state)
        lines = []
        # Demo mode: every machine is admitted (intake is unit-tested in trust_test.cpp) and the
        # simulated laptop below enrols without a boot token.
        cls.srv, cls.port = start_server(SERVER, cls.state, extra=[
            "--demo", "--boot-dir", cls.boot, "--tftp", "--tftp-port", "0", "--proxy-dhcp", "--dhcp-port", "0", "--pxe-port", "0",
            "--boot-listen", "127.0.0.1", "--boot-address", "127.0.0.1", "--boot-kernel-args", "console=ttyS0"],
            startup_lines=lines)
        ports = next(l for l in lines if "boot services" in l)
        m = re.search(r"proxyDHCP on ports (\d+) and (\d+), TFTP on port (\d+)", ports)
        assert m, lines
        cls.dhcp_port, cls.pxe_port, cls.tftp_port = (int(x) for x in m.groups())

    @classmethod
    def tearDownClass(cls):
        cls.srv.send_signal(signal.SIGTERM)
        cls.srv.wait(30)
        cls.srv.stderr.close()
        cls.tmp.cleanup()

    def url(self, name):
        return f"tftp://127.0.0.1:{self.tftp_port}/{name}"

    # ---- TFTP with real clients
    def test_curl_reads_a_file_with_and_without_blksize(self):
        for extra in ([], ["--tftp-blksize", "1468"]):
            out = subprocess.run(["curl", "-sS", "--fail", *extra, self.url("big.bin")], capture_output=True, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(hashlib.sha256(out.stdout).hexdigest(), hashlib.sha256(self.big).hexdigest(), extra)

    def test_boot_binaries_from_debian_are_in_the_root(self):
        # Copied (not symlinked: a symlink out of the root would be refused) at server start.
        for name in ("undionly.kpxe", "snponly.efi"):
            if os.path.exists("/usr/lib/ipxe/" + name):
                out = subprocess.run(["curl", "-sS", "--fail", self.url(name)], capture_output=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                with open("/usr/lib/ipxe/" + name, "rb") as f:
                    self.assertEqual(out.stdout, f.read())

    def test_tftp_hpa_client_reads_a_file(self):
        if not shutil.which("tftp"):
            self.skipTest("tftp-hpa client not installed (scripts/setup installs it)")
        dest = os.path.join(self.tmp.name, "hpa.bin")
        out = subprocess.run(["tftp", "-m", "binary", "127.0.0.1", str(self.tftp_port), "-c", "get", "big.bin", dest],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), self.big)

    def test_windowsize_tsize_and_loss(self):
        data, oack, _ = tftp_get(self.tftp_port, "big.bin", {"blksize": 1468, "windowsize": 16, "tsize": 0})
        self.assertEqual(data, self.big)
        self.assertEqual(oack, {"blksize": "1468", "windowsize": "16", "tsize": str(len(self.big))})
        # Every 7th packet lost: the server resends from the last acknowledged block.
        data, _, dupes = tftp_get(self.tftp_port, "big.bin", {"blksize": 1024, "windowsize": 8}, drop_every=7)
        self.assertEqual(data, self.big)

    def test_block_numbers_roll_over(self):
        # 3 MiB at blksize 8 would be slow; 600 KB at 8 bytes is 76,800 blocks: past 65535.
        name = "roll.bin"
        payload = os.urandom(600_000)
        with open(os.path.join(self.root, name), "wb") as f:
            f.write(payload)
        data, _, _ = tftp_get(self.tftp_port, name, {"blksize": 8, "windowsize": 64}, timeout=10)
        self.assertEqual(data, payload)

    def test_subdirectories_and_backslashes(self):
        data, _, _ = tftp_get(self.tftp_port, "sub\\menu.cfg")
        self.assertEqual(data, b"set timeout=0\n")

    def test_grub_configs_are_generated_per_laptop(self):
        # The Secure Boot path: GRUB reads grub/grub.cfg, which sources the laptop's own config.
        main, _, _ = tftp_get(self.tftp_port, "/grub/grub.cfg")
        self.assertIn(b"source /grub/revive-$net_default_mac.cfg", main)
        live = os.path.join(self.boot, "live")
        for n in ("vmlinuz", "initrd.img"):
            with open(os.path.join(live, n), "wb") as f:
                f.write(n.encode() * 100)
        own, _, _ = tftp_get(self.tftp_port, "/grub/revive-02:00:00:00:00:42.cfg")
        self.assertIn(b"linux /live/vmlinuz revive.agent=1 revive.server=http://127.0.0.1:", own)
        self.assertIn(b"revive.mac=02:00:00:00:00:42", own)
        # The live image is on TFTP under live/ (GRUB loads it from there).
        data, _, _ = tftp_get(self.tftp_port, "/live/vmlinuz")
        self.assertEqual(data, b"vmlinuz" * 100)

    def test_traversal_and_symlink_escape_are_refused(self):
        for name in ("../outside/secret", "sub/../../outside/secret", "live/../../outside/secret", "/../outside/secret", "escape", "..\\outside\\secret"):
            op, code, msg = tftp_error(self.tftp_port, struct.pack("!H", 1) + name.encode() + b"\0octet\0")
            self.assertEqual((op, code), (5, 2), f"{name}: {msg}")
            self.assertIn("outside the TFTP root", msg)
            out = subprocess.run(["curl", "-sS", "--fail", self.url(name.replace("\\", "/"))], capture_output=True, timeout=30)
            self.assertNotEqual(out.returncode, 0)
            self.assertNotIn(b"donor data", out.stdout)
        op, code, _ = tftp_error(self.tftp_port, struct.pack("!H", 1) + b"missing\0octet\0")
        self.assertEqual((op, code), (5, 1))

    def test_writes_are_refused(self):
        op, code, msg = tftp_error(self.tftp_port, struct.pack("!H", 2) + b"big.bin\0octet\0")
        self.assertEqual((op, code), (5, 2))
        self.assertIn("read-only", msg)
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            self.assertEqual(f.read(), self.big)

    def test_many_clients_at_once(self):
        def one(_):
            return subprocess.run(["curl", "-sS", "--fail", "--tftp-blksize", "1468", self.url("big.bin")],
                                  capture_output=True, timeout=300).stdout
        with ThreadPoolExecutor(24) as ex:
            results = list(ex.map(one, range(24)))
        self.assertTrue(all(r == self.big for r in results))

    def test_one_address_cannot_hold_every_transfer_slot(self):
        # Issue 15, finding 5: 300 read requests from one address that never acknowledge, asking
        # for the longest timeout; a second client (another address) still gets its file.
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.bind(("127.0.0.1", 0))
        rrq = struct.pack("!H", 1) + b"big.bin\0octet\0timeout\0255\0"
        for _ in range(300):
            flood.sendto(rrq, ("127.0.0.1", self.tftp_port))
        refused, started = 0, 0
        flood.settimeout(2)
        try:
            while True:
                pkt, _ = flood.recvfrom(2000)
                op = struct.unpack("!H", pkt[:2])[0]
                refused += op == 5
                started += op == 3
        except socket.timeout:
            pass
        self.assertGreater(refused, 200)
        self.assertLessEqual(started, 32)
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.2", 0))
        other.settimeout(5)
        other.sendto(struct.pack("!H", 1) + b"sub/menu.cfg\0octet\0", ("127.0.0.1", self.tftp_port))
        pkt, peer = other.recvfrom(2000)
        self.assertEqual(struct.unpack("!HH", pkt[:4]), (3, 1), pkt)
        self.assertEqual(pkt[4:], b"set timeout=0\n")
        other.sendto(struct.pack("!HH", 4, 1), peer)
        other.close()
        flood.close()

    # ---- proxyDHCP (PXE port 4011 answers the sender, so it can be tested on loopback)
    def dhcp_ask(self, pkt, port=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.5)
        s.sendto(pkt, ("127.0.0.1", port or self.pxe_port))
        try:
            return s.recvfrom(2000)[0]
        except socket.timeout:
            return None
        finally:
            s.close()

    def test_proxy_dhcp_answers_pxe_clients_on_4011(self):
        reply = self.dhcp_ask(dhcp_packet(3, arch=0))
        self.assertIsNotNone(reply)
        file, opts, yiaddr = parse_dhcp_reply(reply)
        self.assertEqual(file, "undionly.kpxe")
        self.assertEqual(opts[53], b"\x05")  # DHCPACK
        self.assertEqual(opts[60], b"PXEClient")
        self.assertEqual(opts[54], socket.inet_aton("127.0.0.1"))
        self.assertEqual(yiaddr, "0.0.0.0")
        file, _, _ = parse_dhcp_reply(self.dhcp_ask(dhcp_packet(3, arch=7, vendor=b"PXEClient:Arch:00007:UNDI:003016")))
        self.assertEqual(file, "snponly.efi")
        file, _, _ = parse_dhcp_reply(self.dhcp_ask(dhcp_packet(3, arch=0, user_class=b"iPXE")))
        self.assertEqual(file, f"http://127.0.0.1:{self.port}/boot/52-54-00-12-34-56.ipxe")

    def test_proxy_dhcp_ignores_non_boot_clients_and_garbage(self):
        self.assertIsNone(self.dhcp_ask(dhcp_packet(3, vendor=b"MSFT 5.0")))
        self.assertIsNone(self.dhcp_ask(dhcp_packet(3, vendor=None)))
        self.assertIsNone(self.dhcp_ask(b"\x01" * 100))
        self.assertIsNone(self.dhcp_ask(os.urandom(600)))
        self.assertIsNotNone(self.dhcp_ask(dhcp_packet(3)), "still answering after garbage")

    def test_a_flood_of_boot_requests_is_answered_within_the_budget(self):
        # A host sending boot requests under made-up MACs as fast as it can: each costs a boot
        # decision, so beyond the overall budget (1,000 at once, 300 a second) they go
        # unanswered and counted, and the server answers again once the flood stops.
        before = self.boot_metrics()
        dropped_before = udp_receive_buffer_drops()
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.setblocking(False)
        sent = replies = 0

        def read_replies():
            nonlocal replies
            while True:
                try:
                    flood.recvfrom(2000)
                    replies += 1
                except BlockingIOError:
                    return

        start = time.time()
        for _ in range(30):  # paced, so that few if any are dropped before the server reads them
            for _ in range(100):
                mac = bytes([0x02]) + os.urandom(5)
                flood.sendto(dhcp_packet(3, mac=mac), ("127.0.0.1", self.pxe_port))
                sent += 1
            time.sleep(0.02)
            read_replies()
        elapsed = time.time() - start
        time.sleep(0.5)
        read_replies()
        flood.close()
        after = self.boot_metrics()
        dropped = udp_receive_buffer_drops() - dropped_before
        answered = after['revive_dhcp_packets_total{outcome="answered"}'] - before['revive_dhcp_packets_total{outcome="answered"}']
        over = after['revive_dhcp_packets_total{outcome="over_budget"}'] - before['revive_dhcp_packets_total{outcome="over_budget"}']
        self.assertLessEqual(answered, 1000 + 300 * (elapsed + 0.5) + 10)
        self.assertGreaterEqual(answered, 500, "the budget answers a workshop switched on at once")
        self.assertEqual(answered + over, sent - dropped, "requests neither answered nor counted")
        self.assertEqual(replies, answered)
        self.assertGreater(over, 0)
        # One MAC asking in a loop gets its own 20 at once, whatever the overall budget holds.
        time.sleep(2)
        before = self.boot_metrics()
        one = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        start = time.time()
        for _ in range(60):
            one.sendto(dhcp_packet(3, mac=b"\x02\x00\x00\x00\x00\x01"), ("127.0.0.1", self.pxe_port))
        elapsed = time.time() - start
        one.close()
        time.sleep(0.5)
        after = self.boot_metrics()
        answered = after['revive_dhcp_packets_total{outcome="answered"}'] - before['revive_dhcp_packets_total{outcome="answered"}']
        self.assertGreaterEqual(answered, 20)
        self.assertLessEqual(answered, 20 + 2 * (elapsed + 0.5) + 1)
        self.assertIsNotNone(self.dhcp_ask(dhcp_packet(3)), "another laptop is still answered")

    # ---- what /metrics says about the boot services
    def boot_metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                if l.startswith(("revive_dhcp", "revive_tftp"))}

    def test_metrics_count_dhcp_answers_and_tftp_transfers(self):
        before = self.boot_metrics()
        self.assertIsNotNone(self.dhcp_ask(dhcp_packet(3, arch=0)))
        self.assertIsNone(self.dhcp_ask(b"\x01" * 100))
        data, _, _ = tftp_get(self.tftp_port, "sub/menu.cfg")
        deadline = time.time() + 5
        while True:  # the server counts a transfer complete when the last ACK arrives
            after = self.boot_metrics()
            done = after['revive_tftp_transfers_total{outcome="completed"}'] - before['revive_tftp_transfers_total{outcome="completed"}']
            if done >= 1 or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(done, 1)
        self.assertGreaterEqual(after['revive_dhcp_packets_total{outcome="answered"}'] - before['revive_dhcp_packets_total{outcome="answered"}'], 1)
        self.assertGreaterEqual(after['revive_dhcp_packets_total{outcome="malformed"}'] - before['revive_dhcp_packets_total{outcome="malformed"}'], 1)
        self.assertGreaterEqual(after["revive_tftp_bytes_total"] - before["revive_tftp_bytes_total"], len(data))
        self.assertEqual(after["revive_dhcp_conflicts_total"], 0, "proxy mode hands out no addresses, so it never pings")

    # ---- the per-device boot script
    def script(self, mac, host=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/boot/{mac}.ipxe")
        if host:
            req.add_header("Host", host)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def test_a_boot_script_without_a_live_image_says_so_and_boots_the_disk(self):
        live = os.path.join(self.boot, "live")
        for n in ("vmlinuz", "initrd.img"):
            if os.path.exists(os.path.join(live, n)):
                self.skipTest("live image present (order of tests)")
        s = self.script("02-00-00-00-00-09")
        self.assertIn("no live agent image", s)
        self.assertIn("sanboot", s)

    def test_boot_script_token_enrolment_and_finished_laptop(self):
        live = os.path.join(self.boot, "live")
        for n in ("vmlinuz", "initrd.img"):
            with open(os.path.join(live, n), "wb") as f:
                f.write(n.encode() * 100)
        mac = "8c:16:45:5e:2a:91"  # the simulated ThinkPad's wired NIC
        s = self.script(mac.replace(":", "-"), host=f"10.77.0.2:{self.port}")
        m = re.search(r"revive\.token=(\S+)", s)
        self.assertIsNotNone(m, s)
        self.assertIn(f"kernel http://10.77.0.2:{self.port}/boot/live/vmlinuz initrd=initrd.img revive.agent=1 "
                      f"revive.server=http://10.77.0.2:{self.port} revive.token=", s)
        self.assertIn("console=ttyS0", s)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/boot/live/vmlinuz", timeout=10) as r:
            self.assertEqual(r.read(), b"vmlinuz" * 100)
        with self.assertRaises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/boot/live/..%2F..%2Fstate%2Frevive.db", timeout=10)
        # A forged token is refused, so is one issued for another MAC; the laptop's own enrols once.
        token = re.search(r"revive\.token=(\S+)", self.script("02-00-00-00-00-07")).group(1)
        ident = {"identity": {"system_uuid": "u-1", "serial": "S1", "model": "M", "vendor": "V"}, "macs": ["02:00:00:00:00:07"]}
        for wrong in ("forged", m.group(1)):
            with self.assertRaises(urllib.error.HTTPError) as e:
                api(self.port, "POST", "/api/v1/agents/enrol", "", dict(ident, boot_token=wrong))
            self.assertEqual(e.exception.code, 401)
        r = api(self.port, "POST", "/api/v1/agents/enrol", "", dict(ident, boot_token=token))
        self.assertIn("agent_token", r)
        # A laptop whose workflow is done boots its local disk instead of being wiped again.
        api(self.port, "POST", "/api/v1/workflows", self.token, {"name": "quick", "steps": [{"kind": "inventory"}, {"kind": "finish"}]})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "quick"})
        disk = os.path.join(self.tmp.name, "t480.disk")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        out = subprocess.run([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "thinkpad-t480"), "--disk", disk,
                              "--server", f"http://127.0.0.1:{self.port}", "--long-poll", "2",
                              "--server-key", os.path.join(self.state, "store", "keys", "ed25519.pub")],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        s = self.script(mac.replace(":", "-"))
        self.assertIn("finished its workflow: boot the local disk", s)
        # The line a USB stick's init reads (a comment to iPXE) to ask for the stick, full screen.
        self.assertRegex(s, r"\n#revive: finished language=en workshop=.*\n")
        self.assertNotIn("kernel", s)
        self.assertIn("sanboot --no-describe --drive 0x80", s)
        # Unknown MAC, malformed MAC, injected Host header.
        self.assertIn("revive.agent=1", self.script("02-00-00-00-00-01"))
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.script("not-a-mac")
        self.assertEqual(e.exception.code, 404)
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.script("02-00-00-00-00-01", host="evil${x}:80")
        self.assertIn(e.exception.code, (400,))


if __name__ == "__main__":
    unittest.main(verbosity=2)
