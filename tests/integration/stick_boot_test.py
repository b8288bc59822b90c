#!/usr/bin/env python3
"""provisioning/live/stick-boot.sh (init on a laptop booted from a Revive USB stick) under
busybox's sh, as the live image runs it, with stand-ins for what it calls: `nc` answers with a
boot script the test wrote, `revive-agent`, `sleep` and `poweroff` record their arguments
(`poweroff` then ends the shell, as the real one ends the laptop; a loop that kept asking
would meet the 10 s timeout). Checks what init does with
each answer the server gives: a live-agent script hands its token on, a laptop whose workflow
is done is never started over but told full screen to take the stick out (the script's
`#revive: finished` line names the language and workshop; an older server only says it in
words). pxe_boot boots a done stick laptop for real; this covers the branches in a second.

usage: stick_boot_test.py REPO   (exit 77 without busybox)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
STICK_BOOT = os.path.join(REPO, "provisioning", "live", "stick-boot.sh")
MAC = "52:54:00:77:00:06"

# What init defines before it sources stick-boot.sh, and the call it makes.
DRIVER = r"""
say() { echo "say: $*" >> "$T/log"; }
arg() { return 1; }
# Functions, not files on PATH: busybox's sh runs its own applets before searching PATH.
nc() { command cat "$T/answer"; }
sleep() { echo "sleep $*" >> "$T/log"; }
poweroff() { echo "poweroff $*" >> "$T/log"; exit 0; }
cat() { case $1 in /sys/class/net/*) echo "$MAC" ;; *) command cat "$@" ;; esac; }
up=eth0
server=http://10.77.0.2:8080
screen_tty="$T/tty1"
. "$STICK_BOOT"
stick_boot_token
echo "agent starts with token file $boot_token_file" >> "$T/log"
"""

STUBS = {
    "revive-agent": '#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a" >> "$T/agent"; done\necho >> "$T/agent"\n',
}


class StickBoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="revive-stick-boot-")
        self.t = self.tmp.name
        os.mkdir(os.path.join(self.t, "bin"))
        os.mkdir(os.path.join(self.t, "run"))
        for name, body in STUBS.items():
            path = os.path.join(self.t, "bin", name)
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def boot(self, script):
        """Runs init's stick step against a server that answers GET /boot/MAC.ipxe with
        `script`; returns (the log, revive-agent's calls, what was written to the screen)."""
        with open(os.path.join(self.t, "answer"), "w") as f:
            f.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + script)
        env = dict(os.environ, T=self.t, MAC=MAC, STICK_BOOT=STICK_BOOT, REVIVE_RUN_DIR=os.path.join(self.t, "run"),
                   PATH=os.path.join(self.t, "bin") + ":" + os.environ["PATH"])
        subprocess.run(["busybox", "sh", "-c", DRIVER], env=env, timeout=10)

        def read(name):
            path = os.path.join(self.t, name)
            if not os.path.exists(path):
                return ""
            with open(path, encoding="utf-8") as f:
                return f.read()
        return read("log"), read("agent"), read("tty1")

    def test_a_laptop_with_work_left_starts_the_agent_with_its_token(self):
        log, agent, _ = self.boot("#!ipxe\necho Revive: device 3 has work left (running): boot the live agent\n"
                                  "kernel http://10.77.0.2:8080/boot/live/vmlinuz initrd=initrd.img revive.agent=1 "
                                  "revive.server=http://10.77.0.2:8080 revive.token=tok_EN-1 revive.mac=" + MAC + "\n")
        self.assertIn("has work for " + MAC + ": starting the agent", log)
        self.assertIn("agent starts with token file " + os.path.join(self.t, "run", "boot-token"), log)
        with open(os.path.join(self.t, "run", "boot-token")) as f:
            self.assertEqual(f.read().strip(), "tok_EN-1")
        self.assertEqual(agent, "")
        self.assertNotIn("poweroff", log)

    def test_a_done_laptop_is_told_full_screen_to_take_the_stick_out_and_powers_off(self):
        log, agent, _ = self.boot("#!ipxe\n#revive: finished language=nl workshop=Repair Café Gent\n"
                                  "echo Revive: " + MAC + ": device 3 finished its workflow: boot the local disk\n"
                                  "iseq ${platform} efi && exit 1 ||\nsanboot --no-describe --drive 0x80 || exit\n")
        self.assertEqual(agent, "[--already-done][--screen][%s][--lang][nl][--workshop][Repair Café Gent]\n"
                         % os.path.join(self.t, "tty1"))
        self.assertIn("this laptop is done (" + MAC + ": device 3 finished its workflow", log)
        self.assertIn("sleep 30\npoweroff -f\n", log)
        self.assertNotIn("agent starts", log)
        self.assertFalse(os.path.exists(os.path.join(self.t, "run", "boot-token")))

    def test_an_older_servers_done_script_still_asks_for_the_stick_in_english(self):
        log, agent, _ = self.boot("#!ipxe\necho Revive: " + MAC + ": device 3 finished its workflow: boot the local disk\n"
                                  "sanboot --no-describe --drive 0x80 || exit\n")
        self.assertEqual(agent, "[--already-done][--screen][%s][--lang][][--workshop][]\n" % os.path.join(self.t, "tty1"))
        self.assertIn("poweroff -f", log)

    def test_without_a_screen_the_words_still_reach_the_console(self):
        with open(os.path.join(self.t, "bin", "revive-agent"), "w") as f:
            f.write("#!/bin/sh\nexit 1\n")  # no VT to draw on
        log, _, tty = self.boot("#!ipxe\n#revive: finished language=en workshop=\necho Revive: done\n")
        self.assertIn("Take the USB stick out", tty)
        self.assertIn("poweroff -f", log)


if __name__ == "__main__":
    if shutil.which("busybox") is None:
        print("SKIPPED: needs busybox (busybox-static), the live image's shell")
        sys.exit(77)
    unittest.main(verbosity=2)
