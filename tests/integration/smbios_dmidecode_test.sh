#!/usr/bin/env bash
# Every laptop's generated SMBIOS tables must decode with dmidecode (an independent parser) to
# the values in its smbios.json, and the committed binary files must be what the generator
# makes from that JSON (no hand-edited binaries).
set -euo pipefail
data=${1:?usage: $0 tests/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
for spec in "$data"/laptops/*/smbios.json; do
  dir=$(dirname "$spec")
  python3 "$data/tools/make_smbios.py" "$spec" "$T/gen"
  cmp "$T/gen/DMI" "$dir/sys/firmware/dmi/tables/DMI" || { echo "FAIL: $dir DMI is not what smbios.json generates"; exit 1; }
  cmp "$T/gen/smbios_entry_point" "$dir/sys/firmware/dmi/tables/smbios_entry_point"
  python3 "$data/tools/make_smbios.py" --dump "$spec" "$T/dump.bin"
  dmidecode --from-dump "$T/dump.bin" > "$T/out.txt"
  python3 - "$spec" "$T/out.txt" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
want = [f"Manufacturer: {spec['system']['vendor']}", f"Product Name: {spec['system']['product']}",
        f"Version: {spec['system']['version']}", f"Serial Number: {spec['system']['serial']}",
        f"UUID: {spec['system']['uuid']}", f"Version: {spec['bios']['version']}",
        f"Type: {spec['chassis']['type']}"]
for d in spec["memory"]["devices"]:
    want += [f"Locator: {d['locator']}", f"Part Number: {d['part_number']}"]
    if d.get("size_mib"):
        want.append(f"Size: {d['size_mib'] // 1024} GB" if d["size_mib"] >= 1024 else f"Size: {d['size_mib']} MB")
for w in want:
    if w not in out:
        sys.exit(f"FAIL: dmidecode output of {sys.argv[1]} lacks {w!r}")
PY
  echo "ok: $(basename "$dir") decodes with dmidecode"
done
