#!/usr/bin/env python3
"""Makes a disk image BIOS-bootable with GRUB: writes GRUB's boot.img into the MBR (keeping
the protective partition table) and points it at core.img, already written to the BIOS boot
partition. This is what grub-bios-setup does, but on a plain file: grub-bios-setup wants a
device (and root) to find the partition it embeds into.

usage: stick-bios-boot.py DISK BOOT_IMG CORE_LBA CORE_SECTORS

Offsets from GRUB 2.06's include/grub/i386/pc/boot.h and util/setup.c.
"""
import struct
import sys

KERNEL_SECTOR = 0x5C  # boot.img: LBA of core.img's first sector (64-bit)
DRIVE_CHECK = 0x66  # boot.img: a jump that trusts the BIOS's drive number only for floppies
PART_TABLE = 0x1B8  # from here on the MBR's disk signature and partition table are kept
BLOCKLIST = 512 - 12  # diskboot.img (core.img's first sector): {u64 start, u16 len, u16 segment}
CORE_SEGMENT = 0x820  # where the rest of core.img is loaded (0x8000 + one sector)


def main(disk, boot_img, core_lba, core_sectors):
    with open(boot_img, "rb") as f:
        boot = bytearray(f.read())
    if len(boot) != 512:
        sys.exit(f"stick-bios-boot: {boot_img} is not a 512-byte boot sector")
    with open(disk, "r+b") as d:
        mbr = bytearray(d.read(512))
        if mbr[510:512] != b"\x55\xaa" or mbr[0x1C2] != 0xEE:
            sys.exit(f"stick-bios-boot: {disk} has no protective MBR (write the GPT first)")
        struct.pack_into("<Q", boot, KERNEL_SECTOR, core_lba)
        # A hard disk (a USB stick is booted as one): use the drive number the BIOS passes,
        # whatever it is (some BIOSes pass 0 or 1 when they booted 0x80).
        boot[DRIVE_CHECK:DRIVE_CHECK + 2] = b"\x90\x90"
        mbr[:PART_TABLE] = boot[:PART_TABLE]
        d.seek(0)
        d.write(mbr)
        d.seek(core_lba * 512)
        first = bytearray(d.read(512))
        # The rest of core.img follows its first sector contiguously; the entry before this one
        # (read downwards) is the list's terminator.
        struct.pack_into("<QHH", first, BLOCKLIST, core_lba + 1, core_sectors - 1, CORE_SEGMENT)
        struct.pack_into("<QHH", first, BLOCKLIST - 12, 0, 0, 0)
        d.seek(core_lba * 512)
        d.write(first)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
