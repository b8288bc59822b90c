#!/usr/bin/env python3
"""What a QEMU machine's screen shows now, for bench/desktop_image.sh.

    desktop_screen.py MONITOR_SOCKET OUT.png [OCR.png]

Asks the HMP monitor (a unix socket) for a `screendump` (a PPM), writes it as an 8-bit RGB
PNG (no imaging library: zlib and struct are enough) and prints the shares of near-black and
near-white pixels (0..1) and the size. A text console is all black but for a few lines of
grey text; a login screen has a light dialog. OCR.png, if given, is a grey copy for tesseract
with dark backgrounds turned light: on the greeter's black background tesseract finds the
panel's light text but not the dark text in the light dialog.
Exit status 1 when the monitor does not answer or the dump is not a PPM (the machine is
still starting, or has gone).
"""
import os
import socket
import struct
import sys
import time
import zlib


def screendump(monitor, ppm):
    if os.path.exists(ppm):
        os.unlink(ppm)
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(20)
        s.connect(monitor)
        s.sendall(f"screendump {ppm}\n".encode())
        deadline = time.time() + 20
        seen = b""
        # The greeting's prompt, the command's echo, then the next prompt: written by then.
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
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
    os.replace(tmp, path)


def shares(rgb):
    # Every 7th pixel is plenty for a share.
    picked = range(0, len(rgb) - 2, 3 * 7)
    dark = sum(1 for i in picked if rgb[i] < 24 and rgb[i + 1] < 24 and rgb[i + 2] < 24)
    white = sum(1 for i in picked if rgb[i] > 225 and rgb[i + 1] > 225 and rgb[i + 2] > 225)
    return dark / max(len(picked), 1), white / max(len(picked), 1)


def for_ocr(rgb):
    """Grey, dark text on light: a dark pixel (background) becomes light, the rest keeps its
    darkest channel (dark text on a light dialog stays dark)."""
    grey = bytearray(len(rgb) // 3)
    for k in range(len(grey)):
        r, g, b = rgb[3 * k], rgb[3 * k + 1], rgb[3 * k + 2]
        hi = max(r, g, b)
        grey[k] = 255 - hi if hi < 60 else min(r, g, b)
    return bytes(v for v in grey for _ in range(3))


def main():
    if len(sys.argv) not in (3, 4):
        print("usage: desktop_screen.py MONITOR_SOCKET OUT.png [OCR.png]", file=sys.stderr)
        return 2
    monitor, png = sys.argv[1], sys.argv[2]
    try:
        width, height, rgb = screendump(monitor, png + ".ppm")
    except (OSError, ValueError) as e:
        print(f"desktop_screen: {e}", file=sys.stderr)
        return 1
    write_png(png, width, height, rgb)
    if len(sys.argv) == 4:
        write_png(sys.argv[3], width, height, for_ocr(rgb))
    dark, white = shares(rgb)
    print(f"{dark:.3f} {white:.3f} {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
