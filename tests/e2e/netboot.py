"""A virtual workshop in network namespaces: a switch (Linux bridge), the workshop's router
(dnsmasq as a plain DHCP server, no PXE options), revive-server with proxyDHCP + TFTP + HTTP,
and QEMU laptops attached by tap. Only hosts inside these namespaces ever see a packet.

Namespaces are named rvnb<pid>-{sw,rt,srv}; only those are deleted again.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import zlib

SUBNET = "10.77.0"
ROUTER = f"{SUBNET}.1"
SERVER = f"{SUBNET}.2"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def can_run():
    """None when this machine can run the boot tests, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, tap devices)"
    for tool in ("ip", "qemu-system-x86_64", "dnsmasq"):
        if not shutil.which(tool):
            return f"{tool} is not installed (scripts/setup installs it)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    return None


class Workshop:
    def __init__(self, tmp):
        self.tmp = tmp
        self.prefix = f"rvnb{os.getpid()}"
        self.sw, self.rt, self.srv = (f"{self.prefix}-{n}" for n in ("sw", "rt", "srv"))
        self.procs = []
        self.taps = 0

    def ns(self, ns, *args, **kw):
        return sh("ip", "netns", "exec", ns, *args, **kw)

    def up(self):
        for n in (self.sw, self.rt, self.srv):
            sh("ip", "netns", "add", n)
        self.ns(self.sw, "ip", "link", "add", "br0", "type", "bridge")
        self.ns(self.sw, "ip", "link", "set", "br0", "up")
        self.ns(self.sw, "ip", "link", "set", "lo", "up")
        for n, addr in ((self.rt, ROUTER), (self.srv, SERVER)):
            side = n.rsplit("-", 1)[1]
            self.ns(self.sw, "ip", "link", "add", f"{side}p", "type", "veth", "peer", "name", "eth0", "netns", n)
            self.ns(self.sw, "ip", "link", "set", f"{side}p", "master", "br0", "up")
            self.ns(n, "ip", "addr", "add", f"{addr}/24", "brd", "+", "dev", "eth0")
            self.ns(n, "ip", "link", "set", "eth0", "up")
            self.ns(n, "ip", "link", "set", "lo", "up")

    def start_router(self):
        """The workshop's own router: plain DHCP, knows nothing of network boot."""
        leases = os.path.join(self.tmp, "router.leases")
        with open(os.path.join(self.tmp, "router.log"), "w") as log:
            p = subprocess.Popen(["ip", "netns", "exec", self.rt, "dnsmasq", "--no-daemon", "--port=0", "--interface=eth0",
                              "--bind-interfaces", f"--dhcp-range={SUBNET}.100,{SUBNET}.199,255.255.255.0,1h",
                                  f"--dhcp-option=3,{ROUTER}", f"--dhcp-leasefile={leases}", "--log-dhcp",
                                  "--conf-file=/dev/null"], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start_server(self, server_bin, state, boot_dir, extra=()):
        log_path = os.path.join(self.tmp, "server.log")
        with open(log_path, "w") as log:
            p = subprocess.Popen(["ip", "netns", "exec", self.srv, server_bin, "--state", state, "--listen", f"{SERVER}:8080",
                                  "--proxy-dhcp", "--tftp", "--boot-dir", boot_dir, *extra], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(log_path) as f:
                if "listening on" in f.read():
                    return p
            if p.poll() is not None:
                break
            time.sleep(0.2)
        with open(log_path) as f:
            raise RuntimeError("revive-server did not start:\n" + f.read())

    def laptop(self, name, disk, firmware="bios", mac="52:54:00:77:00:01", serial="PF1ABCDE", disk_kind="nvme",
               nic="e1000", memory=2048, extra=(), stick=None):
        """Starts a QEMU laptop (TCG) on a new tap; returns (process, serial console log path).
        With `stick` (a USB stick image) the laptop cannot network-boot (its NIC has no boot
        ROM, and OVMF has no driver for an e1000) and boots the stick, attached by USB."""
        tap = f"tap{self.taps}"
        self.taps += 1
        self.ns(self.sw, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
        self.ns(self.sw, "ip", "link", "set", tap, "master", "br0", "up")
        console = os.path.join(self.tmp, f"{name}.serial")
        args = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory), "-smp", "1", "-display", "none",
                "-serial", f"file:{console}",
                # the monitor, for screendump: what the laptop's own screen shows
                "-monitor", f"unix:{self.monitor_path(name)},server,nowait",
                "-smbios", f"type=1,manufacturer=LENOVO,product=20L5CTO1WW,version=ThinkPad T480,serial={serial},"
                           f"uuid=7f3a1c2e-0000-4000-8000-{serial.encode().hex()[:12].ljust(12, '0')}",
                "-smbios", f"type=3,manufacturer=LENOVO,serial={serial}",
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no"]
        if stick:
            args += ["-device", f"{nic},netdev=n0,mac={mac},romfile=",
                     # writable, as a real stick without its write-protect switch is
                     "-device", "qemu-xhci,id=xhci", "-drive", f"file={stick},if=none,id=stick,format=raw",
                     "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on,bootindex=1"]
        if firmware == "bios":
            if not stick:
                args += ["-device", f"{nic},netdev=n0,mac={mac},romfile=/usr/lib/ipxe/qemu/pxe-{nic}.rom", "-boot", "order=nc"]
        else:
            vars_copy = os.path.join(self.tmp, f"{name}.vars.fd")
            secure = firmware == "uefi-secure"
            shutil.copy("/usr/share/OVMF/OVMF_VARS_4M.ms.fd" if secure else "/usr/share/OVMF/OVMF_VARS_4M.fd", vars_copy)
            code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd" if secure else "/usr/share/OVMF/OVMF_CODE_4M.fd"
            args += ["-machine", "q35,smm=on" if secure else "q35",
                     "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                     "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
            if not stick:
                # network first, like a laptop set to network boot: after the deploy the boot
                # script (not the firmware's boot order) decides that the disk boots
                args += ["-device", f"{nic},netdev=n0,mac={mac},bootindex=1" + (",romfile=" if nic == "virtio-net-pci" else "")]
            if secure:
                args += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
            # The test network has no IPv6: OVMF's PXEv6 option would only wait for its timeout.
            args += ["-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no"]
        index = ",bootindex=2" if firmware != "bios" or stick else ""
        if disk_kind == "nvme":
            args += ["-drive", f"file={disk},if=none,id=d0,format=raw", "-device", f"nvme,drive=d0,serial=NVME{serial}{index}"]
        else:
            args += ["-drive", f"file={disk},if=none,id=d0,format=raw", "-device", "ahci,id=ahci0",
                     "-device", f"ide-hd,drive=d0,bus=ahci0.0,serial=SATA{serial}{index}"]
        args += list(extra)
        with open(os.path.join(self.tmp, f"{name}.qemu.log"), "w") as log:
            p = subprocess.Popen(["ip", "netns", "exec", self.sw, *args], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p, console

    def monitor_path(self, name):
        return os.path.join(self.tmp, f"{name}.monitor")

    def screendump(self, name, png_path):
        """Saves what laptop `name`'s screen shows now (QEMU's screendump, a PPM) as a PNG;
        returns (width, height, rgb bytes)."""
        width, height, rgb = monitor_screendump(self.monitor_path(name), os.path.join(self.tmp, f"{name}.ppm"))
        write_png(png_path, width, height, rgb)
        return width, height, rgb

    def down(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in (self.sw, self.rt, self.srv):
            sh("ip", "netns", "del", n, check=False)


def monitor_screendump(monitor, ppm, timeout=10):
    """What a QEMU machine's screen shows now: asks its HMP monitor (the unix socket `monitor`)
    for a `screendump` into `ppm` (removed after) and returns (width, height, rgb bytes).
    OSError when the monitor does not answer, ValueError when the dump is not an 8-bit PPM."""
    if os.path.exists(ppm):
        os.unlink(ppm)
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(monitor)
        s.sendall(f"screendump {ppm}\n".encode())
        deadline = time.time() + timeout
        seen = b""
        # The command's echo, then the next prompt: the file is written by then.
        while seen.count(b"(qemu)") < 2 and time.time() < deadline:
            part = s.recv(4096)
            if not part:
                break
            seen += part
    with open(ppm, "rb") as f:
        data = f.read()
    os.unlink(ppm)
    magic, width, height, maxval, rest = data.split(maxsplit=4)
    if magic != b"P6" or maxval != b"255":
        raise ValueError(f"not an 8-bit PPM: {data[:20]!r}")
    width, height = int(width), int(height)
    return width, height, rest[:width * height * 3]


def write_png(path, width, height, rgb):
    """An 8-bit RGB PNG from raw rows (no imaging library needed)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def share_of(rgb, test):
    """The share of pixels (r, g, b) for which test(r, g, b) holds."""
    # Every 7th pixel is plenty for a share, and keeps a large screen cheap in Python.
    picked = range(0, len(rgb) - 2, 3 * 7)
    hits = sum(1 for i in picked if test(rgb[i], rgb[i + 1], rgb[i + 2]))
    return hits / max(len(picked), 1)


def wait_for(path, needle, timeout, proc=None):
    """Waits until the file contains `needle`; returns seconds waited. Raises with the tail."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with open(path, errors="replace") as f:
                if needle in f.read():
                    return time.time() - t0
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.5)
    try:
        with open(path, errors="replace") as f:
            tail = f.read()[-3000:]
    except FileNotFoundError:
        tail = "(no output)"
    raise AssertionError(f"{needle!r} did not appear in {os.path.basename(path)} within {timeout} s:\n{tail}")
