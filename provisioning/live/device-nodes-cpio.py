#!/usr/bin/env python3
"""Writes a newc cpio archive with /dev, /dev/console and /dev/null to stdout (no root needed).
usage: device-nodes-cpio.py MTIME"""
import sys

mtime = int(sys.argv[1])
out = bytearray()


def entry(ino, name, mode, rdev_major=0, rdev_minor=0):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join(f"{v:08X}" for v in (ino, mode, 0, 0, 1, mtime, 0, 0, 0, rdev_major, rdev_minor, len(name_b), 0))
    out.extend(hdr.encode() + name_b)
    while len(out) % 4:
        out.append(0)


entry(900001, "dev", 0o040755)
entry(900002, "dev/console", 0o020600, 5, 1)
entry(900003, "dev/null", 0o020666, 1, 3)
entry(0, "TRAILER!!!", 0)
while len(out) % 512:
    out.append(0)
sys.stdout.buffer.write(bytes(out))
