#!/usr/bin/env python3
"""Figures for bench/workshop.sh (the shell script measures, this computes and prints).

  workshop_stats.py record MEAS_DIR RESULTS_JSONL   one measurement -> one JSON line (+ a summary)
  workshop_stats.py table RESULTS_JSONL RUN_ID      the tables of one run (medians over rounds)

A measurement directory holds meta.json (what ran, byte counters, CPU snapshots) and
laptops.tsv (one line per laptop: index, role, start, end, exit code, user s, sys s, disk check).
"""
import json
import math
import statistics
import sys


def cpu_lines(text):
    """/proc/stat -> {"cpu": [fields], "cpu0": [...], ...}"""
    out = {}
    for line in text.splitlines():
        if line.startswith("cpu"):
            name, *vals = line.split()
            out[name] = [int(v) for v in vals]
    return out


def busy_idle(before, after):
    d = [b - a for a, b in zip(before, after)]
    total = sum(d[:8])  # user nice system idle iowait irq softirq steal
    idle = d[3] + d[4]
    return (total - idle, idle, total)


def machine_cpu(before_text, after_text):
    b, a = cpu_lines(before_text), cpu_lines(after_text)
    _, idle, total = busy_idle(b["cpu"], a["cpu"])
    cores = {}
    for k in b:
        if k != "cpu" and k in a:
            busy, _, t = busy_idle(b[k], a[k])
            cores[k] = busy / t if t else 0.0
    return (idle / total if total else 1.0), (max(cores.values()) if cores else 0.0), len(cores)


def nearest_rank(values, q):
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)] if v else None


def record(meas_dir, results):
    meta = json.load(open(f"{meas_dir}/meta.json"))
    laptops = []
    for line in open(f"{meas_dir}/laptops.tsv"):
        f = line.split("\t")
        if len(f) == 8:  # written before the RSS column existed
            f.insert(7, "0")
        i, role, start, end, rc, usr, sys_, rss, disk = f
        laptops.append({"laptop": int(i), "role": role, "start": float(start), "end": float(end) if end != "-" else None,
                        "rc": int(rc) if rc != "-" else None, "cpu_s": float(usr) + float(sys_), "rss_kib": int(rss),
                        "disk": disk.strip()})
    t0 = meta["t0"]
    failures, killed = [], []
    for lp in laptops:
        if lp["role"] == "killed":
            killed.append(lp["laptop"])
            continue
        if lp["rc"] != 0 or lp["disk"] != "ok" or lp["end"] is None:
            failures.append({"laptop": lp["laptop"], "rc": lp["rc"], "disk": lp["disk"]})
    done = [lp for lp in laptops if lp["role"] != "killed" and lp["end"] is not None]
    r = {k: meta[k] for k in ("run", "date", "commit", "round", "scenario", "contender", "n", "rate_mbit",
                               "payload_bytes", "image", "durability")}
    r["victim"] = meta.get("victim")
    r["killed"] = killed
    r["failures"] = len(failures)
    r["failed_laptops"] = failures
    r["status"] = "failed" if failures or meta.get("timed_out") else "ok"
    r["timed_out"] = bool(meta.get("timed_out"))
    per = {lp["laptop"]: round(lp["end"] - lp["start"], 3) for lp in done}
    r["per_laptop_s"] = per
    r["server_tx_bytes"] = meta["srv_tx_after"] - meta["srv_tx_before"]
    r["server_tx_ratio"] = round(r["server_tx_bytes"] / meta["payload_bytes"], 3)
    r["server_cpu_s"] = round(meta["srv_cpu_after"] - meta["srv_cpu_before"] + meta.get("srv_cpu_exited", 0.0), 2)
    r["agents_cpu_s"] = round(sum(lp["cpu_s"] for lp in laptops), 2)
    # Peak RSS of the largest process a laptop ran (the agent; or curl/zstd/dd, udp-receiver).
    r["laptop_peak_rss_mib"] = round(max(lp["rss_kib"] for lp in laptops) / 1024, 1)
    idle, busiest, ncores = machine_cpu(meta["stat_before"], meta["stat_after"])
    r["machine_idle"] = round(idle, 3)
    r["busiest_core_busy"] = round(busiest, 3)
    r["window_s"] = round(meta["t_end"] - t0, 3)
    r["cores"] = ncores
    # What this benchmark's processes used, as a share of the machine (window x cores), and the
    # server's processes as a share of one core: low shares = the CPU was not the bottleneck,
    # even when other work on the machine keeps the idle share low.
    r["ours_machine_share"] = round((r["server_cpu_s"] + r["agents_cpu_s"]) / (r["window_s"] * ncores), 3)
    r["server_core_share"] = round(r["server_cpu_s"] / r["window_s"], 3)
    r["t1"] = meta.get("t1")
    if r["status"] == "ok" and done:
        r["makespan"] = round(max(lp["end"] for lp in done) - t0, 3)
        times = list(per.values())
        r["p50"] = nearest_rank(times, 0.5)
        r["p90"] = nearest_rank(times, 0.9)
        v = meta.get("victim")
        others = [lp for lp in done if lp["laptop"] != v and lp["role"] != "late"]
        if meta["scenario"] in IMPAIRED + ("kill", "late") and others:
            r["others_makespan"] = round(max(lp["end"] for lp in others) - t0, 3)
        if meta["scenario"] in IMPAIRED and v in per:
            r["victim_s"] = per[v]
            if meta.get("victim_bound_s"):
                r["victim_bound_s"] = round(meta["victim_bound_s"], 2)
        late = [lp for lp in done if lp["role"] == "late"]
        if late:
            r["late_joined_at_s"] = round(late[0]["start"] - t0, 3)
            r["late_s"] = per[late[0]["laptop"]]
        if r["t1"]:
            r["ratio"] = round(r["makespan"] / r["t1"], 3)
            if "others_makespan" in r:
                r["others_ratio"] = round(r["others_makespan"] / r["t1"], 3)
    if meta.get("kill_at_s") is not None:
        r["killed_at_s"] = round(meta["kill_at_s"], 3)
        r["killed_at_pct"] = meta.get("killed_pct")  # of its payload the switch had sent it
    if meta.get("late_pct") is not None:
        r["late_joined_at_pct"] = meta["late_pct"]  # of the others' payloads sent when it started
    if meta.get("extra"):
        r["extra"] = meta["extra"]
    with open(results, "a") as f:
        f.write(json.dumps(r, sort_keys=True) + "\n")
    cpu = (f"CPU: server {r['server_cpu_s']} s ({r['server_core_share'] * 100:.0f}% of a core), agents {r['agents_cpu_s']} s; "
           f"ours {r['ours_machine_share'] * 100:.0f}% of the machine, machine idle {r['machine_idle'] * 100:.0f}%")
    head = f"  {meta['contender']:<8} N={meta['n']:<2} {meta['scenario']:<6} round {meta['round']}: "
    if r["status"] != "ok":
        why = "timed out; " if r["timed_out"] else ""
        print(head + f"FAILED ({why}{len(failures)} of {meta['n']} laptops failed: {failures}); {cpu}")
    else:
        extra = ""
        if "others_makespan" in r:
            extra += f", others {r['others_makespan']:.1f} s"
        if "victim_s" in r:
            extra += f", impaired laptop {r['victim_s']:.1f} s"
            if r.get("victim_bound_s"):
                extra += f" (its link bound {r['victim_bound_s']:.1f} s)"
        if "late_s" in r:
            extra += (f", late joiner {r['late_s']:.1f} s after joining at {r['late_joined_at_s']:.1f} s "
                      f"(others {r.get('late_joined_at_pct')}% done)")
        if killed:
            extra += f", laptop {killed} killed at {r.get('killed_at_s', 0):.1f} s ({r.get('killed_at_pct')}% received)"
        ratio = f" = {r['ratio']:.2f} x T1" if "ratio" in r else ""
        print(head + f"makespan {r['makespan']:.1f} s{ratio}{extra}; server port sent {r['server_tx_ratio']:.2f} x payload; {cpu}")
        lag = (r.get("extra") or {}).get("lag_s") or {}
        if lag.get("end"):  # from the deploy results' timelines (revive contenders)
            print(" " * len(head) + "gaps between the laptops' progress (a chain's hops): " +
                  "; ".join(f"at {k} {sum(v):.1f} s ({', '.join(f'{x:.2f}' for x in v)})" for k, v in lag.items()))
    sys.stdout.flush()


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def spread(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return ""
    return f" ({min(values):.1f}-{max(values):.1f})"


# Scenarios whose victim keeps deploying, impaired: its own time is reported against its bound.
IMPAIRED = ("slow", "slownic", "loss")

SCENARIOS = {
    "clean": ("every port equal and clean",
              "makespan <= 1.06 x T1; server port <= 1.5 x payload at N=8"),
    "slow": ("laptop {v}'s port at 30% of the rate (tbf on both ends); 'others' = every other laptop",
             "others <= 1.10 x their clean makespan; the impaired laptop <= 1.1 x its own bound (bnd)"),
    "slownic": ("laptop {v}'s port at 30% of the rate and its NIC says so (its inventory's link speed)",
                "as slow: others <= 1.10 x their clean makespan; the impaired laptop <= 1.1 x its bound"),
    "loss": ("1% of the packets to laptop {v} dropped (nft in its namespace)",
             "others <= 1.05 x their clean makespan"),
    "kill": ("laptop {v}'s client killed (SIGKILL) at half its payload; 'others' = the laptops left",
             "every other laptop finishes, makespan <= 1.25 x T1"),
    "late": ("laptop N starts when the others have half the image; 'late' = its time from joining",
             "the late joiner <= 1.2 x T1 from joining"),
}


def table(results, run):
    rows = [json.loads(line) for line in open(results)]
    rows = [r for r in rows if r["run"] == run]
    if not rows:
        print("no results")
        return
    first = rows[0]
    img = first["image"]
    print(f"\n== run {run}: commit {first['commit']}, ports {first['rate_mbit']} Mbit/s (tbf, both ends), "
          f"image {img['logical_bytes'] / 1e6:.0f} MB raw ({img['data_bytes'] / 1e6:.0f} MB data), "
          f"stored {img['stored_bytes'] / 1e6:.1f} MB as Revive chunks, {img['zst_bytes'] / 1e6:.1f} MB as one zstd -3 stream; "
          f"one laptop at line rate needs {img['zst_bytes'] * 8 / (first['rate_mbit'] * 1e6):.1f} s for the stream")
    rounds = sorted({r["round"] for r in rows})
    print(f"   rounds: {len(rounds)} (figures are medians over rounds; (min-max) when more than one)")
    contenders = list(dict.fromkeys(r["contender"] for r in rows))
    cpu_head = f"{'srv tx':>7} {'srvCPU':>6} {'agtCPU':>6} {'ours':>5} {'srv%c':>5} {'idle':>5} {'RSS':>5}"

    def cpu_cols(g):
        return (f"{fmt(med([r['server_tx_ratio'] for r in g]), '.2f'):>6}x {fmt(med([r['server_cpu_s'] for r in g])):>6} "
                f"{fmt(med([r['agents_cpu_s'] for r in g])):>6} "
                f"{fmt(med([r['ours_machine_share'] * 100 for r in g]), '.0f'):>4}% "
                f"{fmt(med([r['server_core_share'] * 100 for r in g]), '.0f'):>4}% "
                f"{fmt(med([r['machine_idle'] * 100 for r in g]), '.0f'):>4}% "
                f"{fmt(max((r.get('laptop_peak_rss_mib') or 0) for r in g), '.0f'):>5}")

    print("\n-- T1: one laptop alone on a clean port")
    print(f"   {'contender':<9} {'T1 s':>14}  {cpu_head}")
    for c in contenders:
        g = [r for r in rows if r["scenario"] == "t1" and r["contender"] == c]
        if not g:
            continue
        ok = [r for r in g if r["status"] == "ok"]
        t = fmt(med([r["makespan"] for r in ok])) + spread([r["makespan"] for r in ok]) if ok else "FAILED"
        print(f"   {c:<9} {t:>14}  {cpu_cols(g)}")
    for s, (note, target) in SCENARIOS.items():
        rs = [r for r in rows if r["scenario"] == s]
        if not rs:
            continue
        print(f"\n-- scenario {s}: " + note.format(v=rs[0].get("victim")))
        print(f"   issue 14's targets for Revive with relay: {target}")
        print(f"   {'contender':<9} {'N':>2} {'makespan s':>16} {'xT1':>5} {'p50 s':>6} {'p90 s':>6} {'others s':>9} "
              f"{'oth xT1':>7} {'oth/clean':>9} {'impaired/late s':>17}  {cpu_head}  fail")
        for c in contenders:
            for n in sorted({r["n"] for r in rs if r["contender"] == c}):
                g = [r for r in rs if r["contender"] == c and r["n"] == n]
                ok = [r for r in g if r["status"] == "ok"]
                clean = med([r["makespan"] for r in rows if r["scenario"] == "clean" and r["contender"] == c
                             and r["n"] == n and r["status"] == "ok"])
                mk, ratio, p50, p90, oth, oratio, oclean, imp = ("FAILED",) + ("-",) * 7
                if ok:
                    mk = fmt(med([r["makespan"] for r in ok])) + spread([r["makespan"] for r in ok])
                    ratio = fmt(med([r.get("ratio") for r in ok]), ".2f")
                    p50 = fmt(med([r["p50"] for r in ok]))
                    p90 = fmt(med([r["p90"] for r in ok]))
                    o = med([r.get("others_makespan") for r in ok])
                    oth = fmt(o)
                    oratio = fmt(med([r.get("others_ratio") for r in ok]), ".2f")
                    if o is not None and clean:
                        oclean = f"{o / clean:.2f}"
                    if s in IMPAIRED:
                        imp = fmt(med([r.get("victim_s") for r in ok]))
                        b = med([r.get("victim_bound_s") for r in ok])
                        if b:
                            imp += f" (bnd {b:.1f})"
                    elif s == "late":
                        imp = fmt(med([r.get("late_s") for r in ok]))
                print(f"   {c:<9} {n:>2} {mk:>16} {ratio:>5} {p50:>6} {p90:>6} {oth:>9} {oratio:>7} {oclean:>9} {imp:>17}  "
                      f"{cpu_cols(g)}  {len(g) - len(ok)}/{len(g)}")
    print("""
   makespan: from the start to the last laptop's end (disks are verified after; the killed laptop excluded); p50/p90 over the
   laptops' own times; others: the laptops other than the impaired/killed/late one; oth/clean: others' makespan
   over the same contender's clean makespan at that N. srv tx: bytes the server's port sent / the contender's
   payload (the zstd stream, or Revive's stored chunks). srvCPU/agtCPU: CPU seconds of the server-side
   processes / of all laptop-side processes in the window; ours: both as a share of the machine (window x
   cores); srv%c: the server processes' share of one core; idle: the machine's idle share (low when other work
   runs on this machine: compare with ours); RSS: peak MiB of the largest laptop-side process.
   fail: failed measurements (a wrong disk, an exit code, a timeout) / measurements.""")


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
