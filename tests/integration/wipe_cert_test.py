#!/usr/bin/env python3
"""Wipe and erasure certificates end to end: a simulated laptop (a real revive-agent on a file
disk full of old data) wipes its disk; the server holds a signed certificate per drive and per
laptop; `revivectl cert verify` accepts the JSON and the PDF with the server's public key only,
and refuses a tampered field, a wrong key and an edited PDF; pdftoppm renders the PDF. The
laptop's label names it, and the QR code on it (read back with zbarimg) opens its newest
certificate without a login, and only with the key it carries. A skipped wipe blocks the deploy.

usage: wipe_cert_test.py revive-server revive-agent revivectl tests/data [ARTIFACT-DIR]
(ARTIFACT-DIR keeps the rendered label pages.)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SERVER, AGENT, CTL, DATA = sys.argv[1:5]
ARTIFACTS = sys.argv[5] if len(sys.argv) > 5 and not sys.argv[5].startswith("-") else None
del sys.argv[1:5 + (ARTIFACTS is not None)]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import api, operator_token, start_server  # noqa: E402


class WipeCertificates(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o711)  # started as root, revive-server runs as user revive
        self.state = os.path.join(self.tmp.name, "state")
        self.token = operator_token(SERVER, self.state)
        self.srv, self.port = start_server(SERVER, self.state, extra=["--demo"])  # simulated laptops
        self.pub = os.path.join(self.state, "store", "keys", "ed25519.pub")  # manifests, jobs
        self.cert_pub = os.path.join(self.state, "certificate-key", "ed25519.pub")
        self.env = dict(os.environ, REVIVE_SERVER=f"http://127.0.0.1:{self.port}", REVIVE_TOKEN=self.token)
        api(self.port, "POST", "/api/v1/batches", self.token, {"name": "bzk-2026-11", "donor": "Ministerie van BZK"})
        api(self.port, "POST", "/api/v1/intake", self.token, {"batch": "bzk-2026-11", "for_s": 3600})
        api(self.port, "POST", "/api/v1/settings", self.token,
            {"workshop_name": "Cyberbank Amsterdam", "certificate_operator": "alice"})

    def tearDown(self):
        self.srv.send_signal(signal.SIGTERM)
        self.srv.wait(30)
        self.srv.stderr.close()
        self.tmp.cleanup()

    def ctl(self, *args):
        return subprocess.run([CTL, *args], capture_output=True, text=True, env=self.env, timeout=60)

    def workflow(self, steps):
        api(self.port, "POST", "/api/v1/workflows", self.token, {"name": "w", "steps": steps})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "w"})

    def laptop(self, size=48 << 20, timeout=60):
        disk = os.path.join(self.tmp.name, "laptop.disk")
        with open(disk, "wb") as f:
            f.write(b"\x5a" * size)  # the donor's data
        p = subprocess.Popen([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", "thinkpad-t480"), "--disk", disk,
                              "--server", f"http://127.0.0.1:{self.port}", "--long-poll", "2", "--server-key", self.pub],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out = p.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:  # waiting for an operator
            p.send_signal(signal.SIGTERM)
            out = p.communicate(timeout=30)[0]
        return p.returncode, out, disk

    def test_wipe_issues_certificates_that_verify_offline(self):
        self.workflow([{"kind": "inventory"}, {"kind": "wipe"}, {"kind": "certify"}, {"kind": "finish"}])
        rc, out, disk = self.laptop()
        self.assertEqual(rc, 0, out)
        with open(disk, "rb") as f:
            self.assertEqual(f.read(), bytes(48 << 20))  # every byte overwritten
        certs = json.loads(self.ctl("cert", "list", "1").stdout)
        self.assertEqual(sorted(c["kind"] for c in certs), ["drive", "laptop"])
        drive = next(c for c in certs if c["kind"] == "drive")
        path = os.path.join(self.tmp.name, "drive.json")
        self.assertEqual(self.ctl("cert", "get", drive["cert_id"], "-o", path).returncode, 0)
        with open(path) as f:
            body = json.load(f)["certificate"]
        self.assertEqual(body["result"], "passed")
        self.assertEqual(body["workshop"], "Cyberbank Amsterdam")
        self.assertEqual(body["operator"], "alice")
        self.assertEqual(body["donor_batch"], {"name": "bzk-2026-11", "donor": "Ministerie van BZK"})
        self.assertEqual(body["device"]["serial"], "PF1R2D7X")
        self.assertEqual(body["sanitization"]["nist_level"], "Clear")
        self.assertEqual(body["sanitization"]["method"], "overwrite")
        self.assertGreaterEqual(body["verification"]["samples"], 1000)
        self.assertGreaterEqual(body["verification"]["coverage_permille"], 100)
        self.assertIn("validator", body)
        # The step recorded which certificate the laptop leaves with.
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        certify = next(r for r in d["results"] if r["kind"] == "certify")["result"]
        self.assertEqual(certify["laptop_certificate"], next(c["cert_id"] for c in certs if c["kind"] == "laptop"))

        ok = self.ctl("cert", "verify", path, "--pubkey", self.cert_pub)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("authentic drive certificate", ok.stdout)
        # Certificates have a key of their own, served to auditors; the key agents pin (which
        # signs manifests and jobs) does not verify them, and given both, the right one does.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/certificate-key", timeout=10) as r:
            served = r.read().decode()
        with open(self.cert_pub) as f:
            self.assertEqual(served, f.read())
        store_key_only = self.ctl("cert", "verify", path, "--pubkey", self.pub)
        self.assertEqual(store_key_only.returncode, 1, store_key_only.stdout)
        self.assertIn("not by the trusted key", store_key_only.stderr)
        both = self.ctl("cert", "verify", path, "--pubkey", self.pub, "--pubkey", self.cert_pub)
        self.assertEqual(both.returncode, 0, both.stderr)
        with open(path) as f:
            text = f.read()
        tampered = os.path.join(self.tmp.name, "tampered.json")
        with open(tampered, "w") as f:
            f.write(text.replace('"nist_level":"Clear"', '"nist_level":"Purge"'))
        bad = self.ctl("cert", "verify", tampered, "--pubkey", self.cert_pub)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("NOT AUTHENTIC", bad.stderr)
        other = os.path.join(self.tmp.name, "other")  # another workshop's store, with its own key
        small = os.path.join(self.tmp.name, "small.img")
        with open(small, "wb") as f:
            f.write(os.urandom(4096))
        subprocess.run([CTL, "image", "import", "--no-progress", "--store", other, "--name", "x", small], check=True, capture_output=True)
        other_key = os.path.join(other, "keys", "ed25519.pub")
        wrong = self.ctl("cert", "verify", path, "--pubkey", other_key)
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("not by the trusted key", wrong.stderr)

        pdf = os.path.join(self.tmp.name, "drive.pdf")
        self.assertEqual(self.ctl("cert", "get", drive["cert_id"], "--pdf", "-o", pdf).returncode, 0)
        ok = self.ctl("cert", "verify", pdf, "--pubkey", self.cert_pub)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        png = subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", pdf, os.path.join(self.tmp.name, "page")],
                             capture_output=True, text=True)
        self.assertEqual(png.returncode, 0, png.stderr)
        self.assertGreater(os.path.getsize(os.path.join(self.tmp.name, "page.png")), 5000)
        with open(pdf, "rb") as f:
            data = bytearray(f.read())
        at = data.index(b"stream", data.index(b"/Length")) + 40
        data[at] ^= 0x01  # one bit of the printed page
        edited = os.path.join(self.tmp.name, "edited.pdf")
        with open(edited, "wb") as f:
            f.write(data)
        bad = self.ctl("cert", "verify", edited, "--pubkey", self.cert_pub)
        self.assertEqual(bad.returncode, 1, bad.stdout)

    def test_reverification_by_a_second_volunteer_and_the_donor_summary(self):
        self.workflow([{"kind": "inventory"}, {"kind": "wipe"}, {"kind": "certify"}, {"kind": "finish"}])
        rc, out, _ = self.laptop(size=16 << 20)
        self.assertEqual(rc, 0, out)
        laptop = next(c for c in json.loads(self.ctl("cert", "list", "1").stdout) if c["kind"] == "laptop")
        # alice is the operator of record: her own check does not count.
        own = self.ctl("cert", "validate", laptop["cert_id"], "--verdict", "confirmed")
        self.assertNotEqual(own.returncode, 0)
        self.assertIn("second person", own.stderr)
        subprocess.run([SERVER, "--state", self.state, "operator", "add", "bob"], input="another long pw\n", text=True,
                       check=True, capture_output=True)
        bob = subprocess.run([SERVER, "--state", self.state, "operator", "token", "bob"], check=True, capture_output=True,
                             text=True).stdout.strip()
        env = dict(self.env, REVIVE_TOKEN=bob)
        r = subprocess.run([CTL, "cert", "validate", laptop["cert_id"], "--verdict", "confirmed", "--note", "sampled 20 sectors"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        newer = json.loads(r.stdout)
        self.assertEqual(newer["supersedes"], laptop["cert_id"])
        path = os.path.join(self.tmp.name, "validated.json")
        self.assertEqual(self.ctl("cert", "get", newer["cert_id"], "-o", path).returncode, 0)
        self.assertEqual(self.ctl("cert", "verify", path, "--pubkey", self.cert_pub).returncode, 0)
        with open(path) as f:
            body = json.load(f)["certificate"]
        self.assertEqual(body["validator"]["name"], "bob")
        self.assertEqual(body["validator"]["verdict"], "confirmed")
        # The donor's summary: CSV and a signed PDF, both naming the laptop.
        csv = self.ctl("cert", "batch", "bzk-2026-11", "--format", "csv")
        self.assertEqual(csv.returncode, 0, csv.stderr)
        lines = csv.stdout.strip().split("\n")
        self.assertEqual(len(lines), 2, csv.stdout)
        self.assertIn("PF1R2D7X", lines[1])
        self.assertTrue(lines[1].endswith(",passed,yes"), lines[1])
        pdf = os.path.join(self.tmp.name, "batch.pdf")
        self.assertEqual(self.ctl("cert", "batch", "bzk-2026-11", "--format", "pdf", "-o", pdf).returncode, 0)
        ok = self.ctl("cert", "verify", pdf, "--pubkey", self.cert_pub)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("authentic batch certificate", ok.stdout)
        self.check_labels(newer["cert_id"])

    def check_labels(self, newest_cert):
        """The laptop's label (62 mm tape, Dutch) names it and carries a QR code that opens its
        newest certificate (bob's check superseded the first) without a login."""
        label = os.path.join(self.tmp.name, "label.pdf")
        printed = self.ctl("label", "1", "--stock", "62mm", "--lang", "nl", "-o", label)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertEqual(self.ctl("label", "1", "--batch", "bzk-2026-11").returncode, 2)  # one or the other
        text = subprocess.run(["pdftotext", "-layout", label, "-"], capture_output=True, text=True, check=True).stdout
        for words in ("ThinkPad", "PF1R2D7X", "Klasse", "Wiscertificaat", "Cyberbank Amsterdam"):
            self.assertIn(words, text)
        subprocess.run(["pdftoppm", "-png", "-r", "300", "-singlefile", label, os.path.join(self.tmp.name, "label")], check=True)
        qr = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(self.tmp.name, "label.png")],
                            capture_output=True, text=True)
        self.assertEqual(qr.returncode, 0, "no QR code found on the label")
        link = qr.stdout.strip()
        self.assertTrue(link.startswith(f"http://127.0.0.1:{self.port}/c/{newest_cert}/"), link)
        with urllib.request.urlopen(link, timeout=30) as r:  # no token: whoever holds the label
            opened = r.read()
        newest = os.path.join(self.tmp.name, "newest.pdf")
        self.assertEqual(self.ctl("cert", "get", newest_cert, "--pdf", "-o", newest).returncode, 0)
        with open(newest, "rb") as f:
            self.assertEqual(opened, f.read())
        with self.assertRaises(urllib.error.HTTPError) as refused:  # the id alone opens nothing
            urllib.request.urlopen(link[:-1] + ("A" if link[-1] != "A" else "B"), timeout=30)
        self.assertEqual(refused.exception.code, 404)
        # The batch on an A4 sheet: one page, the laptop on it.
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/batches/bzk-2026-11/labels?stock=a4",
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=30) as r:
            sheet = os.path.join(self.tmp.name, "sheet.pdf")
            with open(sheet, "wb") as f:
                f.write(r.read())
        if ARTIFACTS:
            os.makedirs(ARTIFACTS, exist_ok=True)
            shutil.copy(os.path.join(self.tmp.name, "label.png"), os.path.join(ARTIFACTS, "label-62mm.png"))
            subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", sheet, os.path.join(ARTIFACTS, "labels-a4")],
                           check=True)
        info = subprocess.run(["pdfinfo", sheet], capture_output=True, text=True, check=True).stdout
        self.assertRegex(info, r"Pages:\s+1\n")
        self.assertRegex(info, r"Page size:\s+595(\.\d+)? x 841")
        # Labels leave the workshop: with a public address set, the QR code opens it there.
        self.assertEqual(self.ctl("settings", "set", "public_url", "ftp://x").returncode, 1)
        self.assertEqual(self.ctl("settings", "set", "public_url", "https://revive.example.org/").returncode, 0)
        self.assertEqual(self.ctl("label", "1", "-o", label).returncode, 0)
        subprocess.run(["pdftoppm", "-png", "-r", "300", "-singlefile", label, os.path.join(self.tmp.name, "label")], check=True)
        qr = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(self.tmp.name, "label.png")],
                            capture_output=True, text=True)
        self.assertTrue(qr.stdout.strip().startswith(f"https://revive.example.org/c/{newest_cert}/"), qr.stdout)

    def test_a_skipped_wipe_blocks_the_deploy(self):
        self.workflow([{"kind": "inventory"}, {"kind": "wipe", "params": {"pattern": "bogus"}},
                       {"kind": "deploy", "params": {"image": "none"}}, {"kind": "finish"}])
        rc, out, _ = self.laptop(size=8 << 20, timeout=8)
        self.assertIn("FAILED: wipe", out)
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        wipe = next(s for s in d["steps"] if s["kind"] == "wipe")
        api(self.port, "POST", f"/api/v1/steps/{wipe['id']}/skip", self.token, {})
        rc, out, _ = self.laptop(size=8 << 20, timeout=8)
        self.assertIn("the deploy needs a passed erasure certificate", out)
        d = api(self.port, "GET", "/api/v1/devices/1", self.token)
        self.assertEqual(next(s for s in d["steps"] if s["kind"] == "deploy")["state"], "pending")


if __name__ == "__main__":
    unittest.main(verbosity=2)
