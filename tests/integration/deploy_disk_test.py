#!/usr/bin/env python3
"""Deploy onto real block devices (loop devices this test creates), fit and provision.

A 2 GiB GPT image (an EFI system partition and an ext4 root with a small Linux tree) is
imported into a real revive-server's store; a simulated laptop (a real revive-agent) deploys it
to a 3 GiB loop device: the result must pass `sgdisk -v`, its last partition and ext4 must fill
the disk and `e2fsck -f` must find it clean. A 1 GiB loop device is refused before anything is
written. Needs root (loop devices); without it every test is skipped and says why.

usage: deploy_disk_test.py revive-server revive-agent revivectl tests/data
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

SERVER, AGENT, CTL, DATA = sys.argv[1:5]
del sys.argv[1:5]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import api, operator_token, start_server  # noqa: E402

SECTOR = 512
ROOT_FIRST = 67584  # after a 32 MiB ESP at sector 2048


def run(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, **kw)


class Loop:
    """A loop device over a sparse file of `size` bytes, detached at exit."""

    def __init__(self, path, size):
        with open(path, "wb") as f:
            f.truncate(size)
        self.backing = path
        self.dev = run("losetup", "--find", "--show", path).stdout.strip()

    def partition(self, first, last):
        return run("losetup", "--find", "--show", "--offset", str(first * SECTOR), "--sizelimit",
                   str((last - first + 1) * SECTOR), self.dev).stdout.strip()

    def close(self):
        subprocess.run(["losetup", "-d", self.dev])


def make_linux_image(path, tree):
    """2 GiB GPT disk image: ESP (unformatted) + ext4 root made from `tree` with mkfs.ext4 -d."""
    with open(path, "wb") as f:
        f.truncate(2 << 30)
    run("sgdisk", "-n", "1:2048:+32M", "-t", "1:ef00", "-c", "1:EFI", "-n", "2:0:0", "-t", "2:8304", "-c", "2:root",
        "-A", "2:set:59", path)
    last = int(re.search(r"Last sector: (\d+)", run("sgdisk", "-i", "2", path).stdout).group(1))
    size_k = (last - ROOT_FIRST + 1) * SECTOR // 1024
    run("mkfs.ext4", "-q", "-F", "-L", "root", "-E", f"offset={ROOT_FIRST * SECTOR}", "-d", tree, path, f"{size_k}k")
    return last


def linux_tree(root):
    files = {
        "etc/hostname": "template-host\n",
        "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
        "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
        "etc/ssh/ssh_host_ed25519_key": "the image maker's private host key\n",
        "etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAA template\n",
        "etc/hosts": "127.0.0.1 localhost\n127.0.1.1 template-host\n",
        "usr/share/zoneinfo/Europe/Amsterdam": "TZif2 (stand-in)\n",
        "home/.keep": "",
        "hello.txt": "recipient image\n",
    }
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(root, "etc/systemd/system/multi-user.target.wants"), exist_ok=True)


class DeployDisk(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o711)  # started as root, revive-server runs as user revive
        self.loops = []
        self.state = os.path.join(self.tmp.name, "state")
        self.token = operator_token(SERVER, self.state)
        self.srv, self.port = start_server(SERVER, self.state, extra=["--demo"])  # simulated laptops
        self.key = os.path.join(self.state, "store", "keys", "ed25519.pub")
        tree = os.path.join(self.tmp.name, "tree")
        linux_tree(tree)
        img = os.path.join(self.tmp.name, "debian.img")
        self.image_root_last = make_linux_image(img, tree)
        run(CTL, "image", "import", "--no-progress", "--store", os.path.join(self.state, "store"), "--name", "debian", img)
        os.unlink(img)

    def tearDown(self):
        for loop in self.loops:
            loop.close()
        self.srv.send_signal(signal.SIGTERM)
        self.srv.wait(30)
        self.srv.stderr.close()
        self.tmp.cleanup()

    def loop(self, name, size):
        loop = Loop(os.path.join(self.tmp.name, name), size)
        self.loops.append(loop)
        return loop

    def workflow(self, steps):
        api(self.port, "POST", "/api/v1/workflows", self.token, {"name": "w", "steps": steps})
        api(self.port, "POST", "/api/v1/settings", self.token, {"default_workflow": "w"})

    def agent(self, model, disk, timeout=180):
        p = subprocess.Popen([AGENT, "--simulate", "--root", os.path.join(DATA, "laptops", model), "--disk", disk,
                              "--server", f"http://127.0.0.1:{self.port}", "--server-key", self.key, "--long-poll", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out = p.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:  # a failed step waits for an operator
            p.send_signal(signal.SIGTERM)
            out = p.communicate(timeout=30)[0]
        return p.returncode, out

    def device_result(self, device_id, kind):
        d = api(self.port, "GET", f"/api/v1/devices/{device_id}", self.token)
        return next(r for r in d["results"] if r["kind"] == kind)

    def test_fit_grows_gpt_partition_and_ext4_to_a_bigger_disk(self):
        self.workflow([{"kind": "inventory"}, {"kind": "deploy", "params": {"image": "debian"}}, {"kind": "finish"}])
        disk = self.loop("big.disk", 3 << 30)
        rc, out = self.agent("elitebook-840-g5", disk.dev)
        self.assertEqual(rc, 0, out)
        self.assertIn("partition 2 grown", out)
        v = run("sgdisk", "-v", disk.dev).stdout
        self.assertIn("No problems found", v)
        info = run("sgdisk", "-i", "2", disk.dev).stdout
        last = int(re.search(r"Last sector: (\d+)", info).group(1))
        self.assertEqual(last, 6289407)  # the 1 MiB boundary below the 3 GiB disk's last usable sector
        self.assertIn("Partition name: 'root'", info)
        self.assertIn("Attribute flags: 0800000000000000", info)
        part = disk.partition(ROOT_FIRST, last)
        try:
            fsck = subprocess.run(["e2fsck", "-f", "-n", part], capture_output=True, text=True)
            self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
            h = run("dumpe2fs", "-h", part).stdout
            blocks = int(re.search(r"Block count:\s+(\d+)", h).group(1))
            bsize = int(re.search(r"Block size:\s+(\d+)", h).group(1))
            self.assertGreater(blocks * bsize, (self.image_root_last - ROOT_FIRST + 1) * SECTOR + (900 << 20))
            self.assertEqual(blocks * bsize // (1 << 20), (last - ROOT_FIRST + 1) * SECTOR // (1 << 20))
            self.assertEqual(run("debugfs", "-R", "cat /hello.txt", part).stdout, "recipient image\n")
        finally:
            subprocess.run(["losetup", "-d", part])
        res = self.device_result(1, "deploy")["result"]
        self.assertEqual(res["fit"]["filesystem"], "ext")
        self.assertTrue(res["fit"]["fs_grown"])
        self.assertEqual(res["verify"]["bad"], [])

    def test_provision_personalises_the_deployed_linux(self):
        profile = {"hostname": "cyberbank-{serial}", "locale": "nl_NL.UTF-8", "keyboard": "us:intl", "timezone": "Europe/Amsterdam",
                   "first_user": {"name": "gebruiker", "full_name": "Nieuwe gebruiker"},
                   "welcome_text": "Hulp nodig? Bel de Digihulplijn: 0800-1508"}
        self.workflow([{"kind": "inventory"}, {"kind": "deploy", "params": {"image": "debian"}},
                       {"kind": "provision", "params": {"profile": profile}}, {"kind": "finish"}])
        disk = self.loop("laptop.disk", 3 << 30)
        rc, out = self.agent("elitebook-840-g5", disk.dev)
        self.assertEqual(rc, 0, out)
        last = int(re.search(r"Last sector: (\d+)", run("sgdisk", "-i", "2", disk.dev).stdout).group(1))
        part = disk.partition(ROOT_FIRST, last)
        mnt = os.path.join(self.tmp.name, "mnt")
        os.mkdir(mnt)
        run("mount", "-o", "ro", part, mnt)
        try:
            def read(rel):
                with open(os.path.join(mnt, rel)) as f:
                    return f.read()
            self.assertEqual(read("etc/hostname"), "cyberbank-5cg8413rlz\n")
            self.assertIn("127.0.1.1\tcyberbank-5cg8413rlz", read("etc/hosts"))
            self.assertEqual(read("etc/default/locale"), "LANG=nl_NL.UTF-8\n")
            self.assertIn('XKBLAYOUT="us"', read("etc/default/keyboard"))
            self.assertIn('XKBVARIANT="intl"', read("etc/default/keyboard"))
            self.assertEqual(os.readlink(os.path.join(mnt, "etc/localtime")), "/usr/share/zoneinfo/Europe/Amsterdam")
            machine_id = read("etc/machine-id").strip()
            self.assertRegex(machine_id, r"^[0-9a-f]{32}$")
            self.assertNotEqual(machine_id, "0123456789abcdef0123456789abcdef")
            self.assertFalse(os.path.exists(os.path.join(mnt, "etc/ssh/ssh_host_ed25519_key")))
            self.assertIn("0800-1508", read("etc/skel/Welcome.txt"))
            self.assertIn("useradd", read("usr/local/sbin/revive-firstboot"))
            self.assertTrue(os.path.islink(os.path.join(mnt, "etc/systemd/system/multi-user.target.wants/revive-firstboot.service")))
            self.assertTrue(os.path.islink(os.path.join(mnt, "etc/systemd/system/multi-user.target.wants/revive-firstboot-done.service")))
            self.assertEqual(read("hello.txt"), "recipient image\n")
        finally:
            subprocess.run(["umount", mnt])
            subprocess.run(["losetup", "-d", part])
        res = self.device_result(1, "provision")["result"]
        self.assertEqual(res["system"], "linux")
        self.assertEqual(res["machine_id"], machine_id)
        self.assertEqual(res["wifi"], "left unconfigured")

    def test_fit_grows_an_ntfs_partition(self):
        img = os.path.join(self.tmp.name, "windows.img")
        with open(img, "wb") as f:
            f.truncate(512 << 20)
        run("sgdisk", "-n", "1:2048:+32M", "-t", "1:ef00", "-n", "2:0:0", "-t", "2:0700", "-c", "2:Basic data partition", img)
        last = int(re.search(r"Last sector: (\d+)", run("sgdisk", "-i", "2", img).stdout).group(1))
        vol = os.path.join(self.tmp.name, "ntfs.vol")
        with open(vol, "wb") as f:
            f.truncate((last - ROOT_FIRST + 1) * SECTOR)
        run("mkntfs", "-Q", "-F", "-L", "Windows", vol)
        run("dd", f"if={vol}", f"of={img}", "bs=1M", f"seek={ROOT_FIRST * SECTOR}", "oflag=seek_bytes", "conv=notrunc,sparse")
        run(CTL, "image", "import", "--no-progress", "--store", os.path.join(self.state, "store"), "--name", "windows", img)
        self.workflow([{"kind": "inventory"}, {"kind": "deploy", "params": {"image": "windows"}}, {"kind": "finish"}])
        disk = self.loop("ntfs.disk", 1 << 30)
        rc, out = self.agent("elitebook-840-g5", disk.dev)
        self.assertEqual(rc, 0, out)
        self.assertIn("No problems found", run("sgdisk", "-v", disk.dev).stdout)
        new_last = int(re.search(r"Last sector: (\d+)", run("sgdisk", "-i", "2", disk.dev).stdout).group(1))
        self.assertEqual(new_last, 2095103)
        part = disk.partition(ROOT_FIRST, new_last)
        try:
            info = subprocess.run(["ntfsresize", "--info", "--force", part], capture_output=True, text=True).stdout
            volume = int(re.search(r"Current volume size: (\d+)", info).group(1))
            device = int(re.search(r"Current device size: (\d+)", info).group(1))
            self.assertGreater(volume, device - (1 << 20), info)  # the volume fills its partition
            self.assertEqual(subprocess.run(["ntfsfix", "--no-action", part], capture_output=True).returncode, 0)
        finally:
            subprocess.run(["losetup", "-d", part])
        self.assertEqual(self.device_result(1, "deploy")["result"]["fit"]["filesystem"], "ntfs")

    def test_a_mounted_disk_is_never_wiped(self):
        self.workflow([{"kind": "inventory"}, {"kind": "wipe"}, {"kind": "finish"}])
        disk = self.loop("mounted.disk", 64 << 20)
        part = disk.partition(2048, 2048 + (32 << 11) - 1)
        mnt = os.path.join(self.tmp.name, "mnt")
        os.mkdir(mnt)
        try:
            # No lazy inode-table/journal init: the kernel would otherwise keep writing to the
            # disk in the background after the mount, and the block count below would drift.
            run("mkfs.ext4", "-q", "-E", "lazy_itable_init=0,lazy_journal_init=0", part)
            run("mount", part, mnt)
            with open(os.path.join(mnt, "donor-file.txt"), "w") as f:
                f.write("still here\n")
            run("sync")
            before = os.stat(disk.backing).st_blocks
            # A partition of the disk is mounted: the kernel refuses the exclusive open.
            rc, out = self.agent("elitebook-840-g5", disk.dev, timeout=15)
            self.assertIn("is in use", out)
            self.assertEqual(self.device_result(1, "wipe")["status"], "failed")
            with open(os.path.join(mnt, "donor-file.txt")) as f:
                self.assertEqual(f.read(), "still here\n")
            self.assertEqual(os.stat(disk.backing).st_blocks, before)
        finally:
            subprocess.run(["umount", mnt])
            subprocess.run(["losetup", "-d", part])

    def test_a_disk_smaller_than_the_image_is_refused_before_writing(self):
        self.workflow([{"kind": "inventory"}, {"kind": "deploy", "params": {"image": "debian"}}, {"kind": "finish"}])
        disk = self.loop("small.disk", 1 << 30)
        with open(disk.dev, "r+b") as f:  # old data at both ends of the disk
            f.write(b"\x5a" * (1 << 20))
            f.seek((1 << 30) - (1 << 20))
            f.write(b"\x5a" * (1 << 20))
        run("sync")
        blocks = os.stat(disk.backing).st_blocks
        rc, out = self.agent("elitebook-840-g5", disk.dev, timeout=20)
        self.assertIn("the image needs at least", out)
        self.assertIn("nothing was written", out)
        with open(disk.dev, "rb") as f:
            self.assertEqual(f.read(1 << 20), b"\x5a" * (1 << 20))
            f.seek((1 << 30) - (1 << 20))
            self.assertEqual(f.read(1 << 20), b"\x5a" * (1 << 20))
        self.assertEqual(os.stat(disk.backing).st_blocks, blocks)  # not one block written anywhere
        self.assertEqual(self.device_result(1, "deploy")["status"], "failed")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIPPED: needs root to create loop devices (this process is not root)")
        sys.exit(77)
    unittest.main(verbosity=2)
