#!/usr/bin/env python3
"""Minimal TFTP reading client (RFC 1350/2347/2348/7440) for bench/tftp_bench.sh: writes the file
to stdout. usage: tftp_client.py PORT NAME BLKSIZE WINDOWSIZE"""
import socket
import struct
import sys

port, name, blksize, window = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
opts = b"blksize\0" + str(blksize).encode() + b"\0"
if window > 1:
    opts += b"windowsize\0" + str(window).encode() + b"\0"
s.sendto(struct.pack("!H", 1) + name.encode() + b"\0octet\0" + opts, ("127.0.0.1", port))
out = sys.stdout.buffer
size, win, expected, got_in_window, peer = 512, 1, 1, 0, None
while True:
    pkt, addr = s.recvfrom(65536)
    peer = peer or addr
    op = struct.unpack("!H", pkt[:2])[0]
    if op == 6:
        parts = pkt[2:].split(b"\0")[:-1]
        o = {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts), 2)}
        size, win = int(o.get("blksize", 512)), int(o.get("windowsize", 1))
        s.sendto(struct.pack("!HH", 4, 0), peer)
        continue
    if op == 5:
        sys.exit("TFTP error: " + pkt[4:].rstrip(b"\0").decode())
    block = struct.unpack("!H", pkt[2:4])[0]
    if block != expected & 0xFFFF:
        s.sendto(struct.pack("!HH", 4, (expected - 1) & 0xFFFF), peer)
        got_in_window = 0
        continue
    out.write(pkt[4:])
    expected += 1
    got_in_window += 1
    last = len(pkt) - 4 < size
    if last or got_in_window >= win:
        s.sendto(struct.pack("!HH", 4, block), peer)
        got_in_window = 0
    if last:
        break
