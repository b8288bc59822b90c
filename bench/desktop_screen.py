#!/usr/bin/env python3
"""What a QEMU machine's screen shows now, for bench/desktop_image.sh.

    desktop_screen.py MONITOR_SOCKET OUT.png [OCR.png]

Asks the HMP monitor (a unix socket) for a `screendump` (a PPM), writes it as an 8-bit RGB
PNG (both with tests/e2e/netboot.py's helpers, which the PXE e2e uses) and prints the shares of near-black and
near-white pixels (0..1) and the size. A text console is all black but for a few lines of
grey text; a login screen has a light dialog. OCR.png, if given, is a grey copy for tesseract
with dark backgrounds turned light: on the greeter's black background tesseract finds the
panel's light text but not the dark text in the light dialog.
Exit status 1 when the monitor does not answer or the dump is not a PPM (the machine is
still starting, or has gone).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "e2e"))
from netboot import monitor_screendump, share_of, write_png  # noqa: E402


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
        width, height, rgb = monitor_screendump(monitor, png + ".ppm", timeout=20)
    except (OSError, ValueError) as e:
        print(f"desktop_screen: {e}", file=sys.stderr)
        return 1
    write_png(png, width, height, rgb)
    if len(sys.argv) == 4:
        write_png(sys.argv[3], width, height, for_ocr(rgb))
    dark = share_of(rgb, lambda r, g, b: r < 24 and g < 24 and b < 24)
    white = share_of(rgb, lambda r, g, b: r > 225 and g > 225 and b > 225)
    print(f"{dark:.3f} {white:.3f} {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
