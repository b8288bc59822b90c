#!/usr/bin/env bash
# Every laptop's tree must be exactly what its laptop.json generates, and its SMBIOS tables
# must decode with dmidecode (an independent parser) to the values in that JSON.
set -euo pipefail
data=${1:?usage: $0 tests/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
for laptop in "$data"/laptops/*/laptop.json; do
  dir=$(dirname "$laptop")
  # The committed tree must be exactly what laptop.json generates (no hand-edited files).
  rm -rf "$T/tree"; mkdir -p "$T/tree"; cp "$laptop" "$T/tree/"
  python3 "$data/tools/make_tree.py" "$T/tree/laptop.json"
  diff -r --no-dereference -x laptop.json -x SOURCE.md "$T/tree" "$dir" || { echo "FAIL: $dir is not what its laptop.json generates"; exit 1; }
  spec=$T/smbios.json
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["smbios"], open(sys.argv[2], "w"))' "$laptop" "$spec"
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
