#!/usr/bin/env python3
"""Builds a laptop's machine root (what the agent reads: sys/, proc/, exec/ recordings) from
its laptop.json, so every file in tests/data/laptops/<model>/ comes from one reviewed
description whose values are sourced in SOURCE.md.

usage: make_tree.py laptops/<model>/laptop.json      (writes next to the JSON)
"""
import json
import os
import shutil
import subprocess
import sys

spec_path = sys.argv[1]
root = os.path.dirname(os.path.abspath(spec_path))
spec = json.load(open(spec_path))
here = os.path.dirname(os.path.abspath(__file__))

for d in ("sys", "proc", "exec"):
    shutil.rmtree(os.path.join(root, d), ignore_errors=True)


def put(rel, text, mode="w"):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def link(rel, target):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


# SMBIOS tables
smbios_json = os.path.join(root, ".smbios.json")
with open(smbios_json, "w") as f:
    json.dump(spec["smbios"], f)
subprocess.run([sys.executable, os.path.join(here, "make_smbios.py"), smbios_json,
                os.path.join(root, "sys/firmware/dmi/tables")], check=True)
os.remove(smbios_json)

# CPU and memory
c = spec["cpu"]
cpuinfo = ""
for i in range(c["threads"]):
    cpuinfo += (f"processor\t: {i}\nvendor_id\t: {c['vendor']}\ncpu family\t: {c['family']}\nmodel\t\t: {c['model']}\n"
                f"model name\t: {c['name']}\nstepping\t: {c['stepping']}\nphysical id\t: 0\nsiblings\t: {c['threads']}\n"
                f"core id\t\t: {i % c['cores']}\ncpu cores\t: {c['cores']}\nflags\t\t: {c['flags']}\n\n")
put("proc/cpuinfo", cpuinfo)
put("proc/meminfo", f"MemTotal:       {spec['memtotal_kib']} kB\nMemFree:        {spec['memtotal_kib'] * 9 // 10} kB\n"
                    f"MemAvailable:   {spec['memtotal_kib'] * 9 // 10} kB\n")

# Disks: sys/block/<name> links into the device tree, as in sysfs.
for d in spec["disks"]:
    dev = d["devpath"]  # e.g. devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/nvme0n1
    link(f"sys/block/{d['name']}", "../" + dev)
    put(f"sys/{dev}/size", f"{d['size_bytes'] // 512}\n")
    put(f"sys/{dev}/removable", f"{int(d.get('removable', False))}\n")
    put(f"sys/{dev}/queue/logical_block_size", f"{d.get('logical_sector', 512)}\n")
    put(f"sys/{dev}/queue/physical_block_size", f"{d.get('physical_sector', 512)}\n")
    put(f"sys/{dev}/queue/rotational", f"{int(d.get('rotational', False))}\n")
    if d.get("controller"):  # NVMe: model/serial live on the controller, "device" points there
        link(f"sys/{dev}/device", "../../" + os.path.basename(d["controller"]))
        put(f"sys/{d['controller']}/model", d["model"].ljust(40) + "\n")
        if d.get("serial"):
            put(f"sys/{d['controller']}/serial", d["serial"].ljust(20) + "\n")
    else:
        os.makedirs(os.path.join(root, f"sys/{dev}/device"), exist_ok=True)
        put(f"sys/{dev}/device/model", d["model"][:16].ljust(16) + "\n")
    smart = d.get("smartctl")
    key = f"smartctl -j -a /dev/{d['name']}".replace("/", "_")
    if smart is not None:
        put(f"exec/{key}", f"exit {smart.get('exit', 0)}\n" + json.dumps(smart["json"], indent=1) + "\n")

# Storage controllers, as sysfs shows them: sys/bus/pci/devices/<address> links into the
# device tree (where the disks behind a controller hang), "driver" links to the bound driver,
# and an MMC host is a sys/class/mmc_host/<name> link whose "device" is its parent.
def rel_link(rel, target_rel):
    """A symlink at sys-relative `rel` pointing at sys-relative `target_rel`, relative as in sysfs."""
    src = os.path.join(root, "sys", rel)
    link("sys/" + rel, os.path.relpath(os.path.join(root, "sys", target_rel), os.path.dirname(src)))


for c in spec.get("storage_controllers", []):
    dev = c["devpath"]  # e.g. devices/pci0000:00/0000:00:17.0
    rel_link(f"bus/pci/devices/{c['pci']}", dev)
    put(f"sys/{dev}/class", c["class"] + "\n")
    put(f"sys/{dev}/vendor", c["vendor"] + "\n")
    put(f"sys/{dev}/device", c["device"] + "\n")
    if c.get("driver"):
        rel_link(f"{dev}/driver", f"bus/pci/drivers/{c['driver']}")
for h in spec.get("mmc_hosts", []):
    dev = h["devpath"]  # <parent>/mmc_host/mmcN
    parent = os.path.dirname(os.path.dirname(dev))
    rel_link(f"class/mmc_host/{h['name']}", dev)
    rel_link(f"{dev}/device", parent)
    if h.get("driver"):  # a host on a PCI storage controller has that controller's driver already
        rel_link(f"{parent}/driver", f"bus/platform/drivers/{h['driver']}")

# Further tool answers: {"command line": {"exit": N, "json": {...}} or {"exit": N, "text": "..."}}
for cmd, ans in spec.get("exec", {}).items():
    body = json.dumps(ans["json"], indent=1) + "\n" if "json" in ans else ans.get("text", "")
    put("exec/" + cmd.replace("/", "_"), f"exit {ans.get('exit', 0)}\n" + body)

for b in spec.get("batteries", []):
    base = f"sys/class/power_supply/{b['name']}/"
    put(base + "type", "Battery\n")
    for k in ("manufacturer", "model_name", "technology", "status", "energy_full_design", "energy_full",
              "charge_full_design", "charge_full", "voltage_min_design", "cycle_count"):
        if k in b:
            put(base + k, f"{b[k]}\n")
put("sys/class/power_supply/AC/type", "Mains\n")
put("sys/class/power_supply/AC/online", "1\n")

put("sys/class/net/lo/address", "00:00:00:00:00:00\n")
for n in spec.get("nics", []):
    base = f"sys/class/net/{n['name']}/"
    put(base + "address", n["mac"] + "\n")
    if n.get("speed"):
        put(base + "speed", f"{n['speed']}\n")
    link(base + "device/driver", f"../../../../bus/pci/drivers/{n['driver']}")
    if n.get("wireless"):
        link(base + "phy80211", "../../../../devices/virtual/ieee80211/phy0")

for g in spec.get("gpus", []):
    base = f"sys/bus/pci/devices/{g['pci']}/"
    put(base + "class", "0x030000\n")
    put(base + "vendor", g["vendor"] + "\n")
    put(base + "device", g["device"] + "\n")
    link(base + "driver", f"../../drivers/{g['driver']}")

if spec.get("tpm"):
    put("sys/class/tpm/tpm0/tpm_version_major", f"{spec['tpm']}\n")
if spec.get("uefi"):
    sb = spec.get("secure_boot")
    if sb is None:
        put("sys/firmware/efi/fw_platform_size", "64\n")
    else:
        put("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", bytes([6, 0, 0, 0, int(sb)]), "wb")
