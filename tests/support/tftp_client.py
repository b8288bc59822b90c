#!/usr/bin/env python3
"""A TFTP reading client (RFC 1350/2347/2348/7440), shared by the boot-services test and
bench/tftp_bench.sh.

As a module: tftp_get(port, name, options, ...) -> (data, oack dict, retransmitted blocks seen).
As a program: tftp_client.py PORT NAME BLKSIZE WINDOWSIZE writes the file to stdout.
"""
import socket
import struct
import sys


def tftp_get(port, name, options=None, drop_every=0, timeout=5, sink=None):
    """drop_every=N: pretend every Nth DATA packet was lost (do not ack the window; ack the last
    in-order block instead), as a lossy link would. sink: called with each block's payload
    instead of collecting it (data is then empty)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    req = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    for k, v in (options or {}).items():
        req += k.encode() + b"\0" + str(v).encode() + b"\0"
    s.sendto(req, ("127.0.0.1", port))
    blksize, window = 512, 1
    data = bytearray()
    oack = {}
    expected = 1
    in_window = 0
    seen_dupes = 0
    count = 0
    peer = None
    try:
        while True:
            pkt, addr = s.recvfrom(70000)
            peer = peer or addr
            assert addr == peer, "the transfer port must not change"
            op = struct.unpack("!H", pkt[:2])[0]
            if op == 5:
                code = struct.unpack("!H", pkt[2:4])[0]
                msg = pkt[4:].rstrip(b"\0").decode()
                raise RuntimeError(f"TFTP error {code}: {msg}")
            if op == 6:
                parts = pkt[2:].split(b"\0")[:-1]
                oack = {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts), 2)}
                blksize = int(oack.get("blksize", 512))
                window = int(oack.get("windowsize", 1))
                s.sendto(struct.pack("!HH", 4, 0), peer)
                continue
            assert op == 3, op
            block = struct.unpack("!H", pkt[2:4])[0]
            payload = pkt[4:]
            count += 1
            if block != expected & 0xFFFF:
                seen_dupes += 1
                s.sendto(struct.pack("!HH", 4, (expected - 1) & 0xFFFF), peer)  # re-ack the last good block
                in_window = 0
                continue
            if drop_every and count % drop_every == 0:
                s.sendto(struct.pack("!HH", 4, (expected - 1) & 0xFFFF), peer)  # "lost": ask again from here
                in_window = 0
                continue
            if sink:
                sink(payload)
            else:
                data += payload
            expected += 1
            in_window += 1
            last = len(payload) < blksize
            if last or in_window == window:
                s.sendto(struct.pack("!HH", 4, block), peer)
                in_window = 0
            if last:
                return bytes(data), oack, seen_dupes
    finally:
        s.close()


if __name__ == "__main__":
    port, name, blksize, window = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    opts = {"blksize": blksize}
    if window > 1:
        opts["windowsize"] = window
    try:
        tftp_get(port, name, opts, sink=sys.stdout.buffer.write)
    except RuntimeError as e:
        sys.exit(str(e))
