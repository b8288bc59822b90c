#!/usr/bin/env python3
"""Builds binary SMBIOS tables (as Linux exposes them in /sys/firmware/dmi/tables/) from a
JSON description of the values a real laptop reported (taken from dmidecode dumps, see each
laptop's SOURCE.md).

usage: make_smbios.py SPEC.json OUT_DIR     -> OUT_DIR/smbios_entry_point, OUT_DIR/DMI
       make_smbios.py --dump SPEC.json FILE -> a `dmidecode --dump-bin` file, to check the
                                               tables with dmidecode itself
Layouts follow DMTF DSP0134 (SMBIOS 3.x): type 0, 1, 2, 3, 16, 17, 22 and 127.
"""
import json
import struct
import sys
import uuid as uuidlib


class Strings:
    def __init__(self):
        self.items = []

    def __call__(self, s):
        if s is None or s == "":
            return 0
        self.items.append(s)
        return len(self.items)

    def blob(self):
        if not self.items:
            return b"\0\0"
        return b"".join(s.encode("latin-1") + b"\0" for s in self.items) + b"\0"


def struct_bytes(stype, handle, body, strings):
    return bytes([stype, 4 + len(body)]) + struct.pack("<H", handle) + body + strings.blob()


MEM_TYPES = {"DDR3": 0x18, "DDR4": 0x1A, "LPDDR3": 0x1D, "LPDDR4": 0x1E, "DDR5": 0x22, "LPDDR5": 0x23, "Unknown": 0x02}
FORM = {"SODIMM": 0x0D, "Row Of Chips": 0x0B, "DIMM": 0x09, "Unknown": 0x02}
CHASSIS = {"Notebook": 10, "Laptop": 9, "Convertible": 31, "Portable": 8, "Sub Notebook": 14}


def uuid_bytes(u):
    if u is None:
        return b"\0" * 16
    return uuidlib.UUID(u).bytes_le  # SMBIOS 2.6+: first three fields little-endian


def build(spec):
    out = []
    h = 0
    b = spec["bios"]
    s = Strings()
    body = bytes([s(b["vendor"]), s(b["version"])]) + struct.pack("<H", 0xE000) + bytes([s(b["date"]), 0xFF])
    body += struct.pack("<Q", 0x08) + bytes([0x03, 0x0D, b.get("major", 1), b.get("minor", 0), 0xFF, 0xFF])
    out.append(struct_bytes(0, h, body, s)); h += 1

    y = spec["system"]
    s = Strings()
    body = bytes([s(y["vendor"]), s(y["product"]), s(y["version"]), s(y.get("serial"))]) + uuid_bytes(y.get("uuid"))
    body += bytes([0x06, s(y.get("sku")), s(y.get("family"))])
    out.append(struct_bytes(1, h, body, s)); h += 1

    bd = spec["board"]
    s = Strings()
    body = bytes([s(bd["vendor"]), s(bd["product"]), s(bd.get("version")), s(bd.get("serial")), s(bd.get("asset_tag")),
                  0x09, s(None)]) + struct.pack("<H", h + 1) + bytes([0x0A, 0])
    out.append(struct_bytes(2, h, body, s)); h += 1

    c = spec["chassis"]
    s = Strings()
    body = bytes([s(c["vendor"]), CHASSIS[c["type"]], s(c.get("version")), s(c.get("serial")), s(c.get("asset_tag")),
                  0x02, 0x02, 0x02, 0x02]) + struct.pack("<I", 0) + bytes([0, 0, 0, 3, s(None)])
    out.append(struct_bytes(3, h, body, s)); h += 1

    mem = spec["memory"]
    array_handle = h
    s = Strings()
    body = bytes([0x03, 0x03, 0x03]) + struct.pack("<I", mem["max_capacity_kib"]) + struct.pack("<H", 0xFFFE)
    body += struct.pack("<H", len(mem["devices"])) + struct.pack("<Q", 0)
    out.append(struct_bytes(16, h, body, s)); h += 1
    for d in mem["devices"]:
        s = Strings()
        size_mib = d.get("size_mib", 0)
        size_field = size_mib if size_mib < 0x7FFF else 0x7FFF
        body = struct.pack("<HHHH", array_handle, 0xFFFE, 64 if size_mib else 0xFFFF, 64 if size_mib else 0xFFFF)
        body += struct.pack("<H", size_field) + bytes([FORM[d.get("form_factor", "Unknown")], 0, s(d["locator"]),
                                                        s(d.get("bank")), MEM_TYPES[d.get("type", "Unknown")]])
        body += struct.pack("<H", 0x80 if size_mib else 0x04) + struct.pack("<H", d.get("speed_mts", 0))
        body += bytes([s(d.get("manufacturer")), s(d.get("serial")), s(d.get("asset_tag")), s(d.get("part_number")),
                       d.get("rank", 0)])
        body += struct.pack("<I", size_mib if size_field == 0x7FFF else 0) + struct.pack("<H", d.get("configured_speed_mts", 0))
        body += struct.pack("<HHH", 0, 0, 1200 if size_mib else 0)
        out.append(struct_bytes(17, h, body, s)); h += 1

    for bat in spec.get("batteries", []):
        s = Strings()
        body = bytes([s(bat["location"]), s(bat["manufacturer"]), s(None), s(None), s(bat["name"]), 0x02])
        body += struct.pack("<HH", bat["design_capacity_mwh"] // bat.get("multiplier", 10), bat["design_voltage_mv"])
        body += bytes([s(bat.get("sbds_version")), 0xFF]) + struct.pack("<HH", 0, 0) + bytes([s(bat.get("chemistry"))])
        body += bytes([bat.get("multiplier", 10)]) + struct.pack("<I", 0)
        out.append(struct_bytes(22, h, body, s)); h += 1

    out.append(struct_bytes(127, 0xFEFF, b"", Strings()))
    return b"".join(out), h + 1


def entry_point(version, table_len, table_addr, count=0):
    major, minor, rev = version
    if major >= 3:
        ep = bytearray(b"_SM3_" + bytes([0, 0x18, major, minor, rev, 0x01, 0]) + struct.pack("<IQ", table_len, table_addr))
        ep[5] = (-sum(ep)) & 0xFF
        return bytes(ep)
    # SMBIOS 2.x: 31-byte "_SM_" entry point with the "_DMI_" intermediate part.
    dmi = bytearray(b"_DMI_" + b"\0" + struct.pack("<HIHB", table_len, table_addr & 0xFFFFFFFF, count, (major << 4) | minor))
    dmi[5] = (-sum(dmi)) & 0xFF
    ep = bytearray(b"_SM_" + bytes([0, 0x1F, major, minor]) + struct.pack("<H", 0x100) + bytes([0]) + bytes(5) + dmi)
    ep[4] = (-sum(ep[:0x10])) & 0xFF
    return bytes(ep)


def main():
    dump = sys.argv[1] == "--dump"
    args = sys.argv[2:] if dump else sys.argv[1:]
    with open(args[0]) as f:
        spec = json.load(f)
    table, count = build(spec)
    version = tuple(spec.get("smbios_version", [3, 0, 0]))
    if dump:
        # dmidecode --dump-bin layout: entry point at 0 with the table address patched to 32.
        ep = entry_point(version, len(table), 32, count)
        with open(args[1], "wb") as f:
            f.write(ep.ljust(32, b"\0") + table)
        return
    import os
    os.makedirs(args[1], exist_ok=True)
    with open(os.path.join(args[1], "smbios_entry_point"), "wb") as f:
        f.write(entry_point(version, len(table), 0x7A64C000, count))
    with open(os.path.join(args[1], "DMI"), "wb") as f:
        f.write(table)


main()
