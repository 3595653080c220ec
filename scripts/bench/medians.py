#!/usr/bin/env python3
"""Medians over scimbench runs: medians.py DIR... (each with bench.json or fullsync.json, and rss_kb)."""
import json
import os
import statistics
import sys

runs = [d for d in sys.argv[1:] if os.path.isdir(d)]
by = {}
for d in runs:
    if not os.path.exists(os.path.join(d, "bench.json")):
        continue
    b = json.load(open(os.path.join(d, "bench.json")))
    for r in b.get("results", []):
        by.setdefault(r["workload"], []).append(r)
print(f"result dirs: {', '.join(os.path.basename(r) for r in runs)}")
print("| workload | req/s (median) | items/s (median) | p50 ms | p99 ms | errors | semantic errors | CPU µs/req server / db / client |")
print("|---|---|---|---|---|---|---|---|")
med = lambda xs: statistics.median(xs) if xs else 0
def cpu(rs, key):
    xs = [r[key] * 1e6 / r["requests"] for r in rs if key in r and r.get("requests")]
    return f"{med(xs):.0f}" if xs else "-"


for w, rs in by.items():
    items = [r["items_per_s"] for r in rs if "items_per_s" in r]
    print(f"| {w} | {med([r['rps'] for r in rs]):.0f} | {med(items):.0f} | {med([r['p50_ms'] for r in rs]):.1f} | "
          f"{med([r['p99_ms'] for r in rs]):.1f} | {sum(r['errors'] for r in rs)} | {sum(r['semantic_errors'] for r in rs)} | "
          f"{cpu(rs, 'server_cpu_s')} / {cpu(rs, 'db_cpu_s')} / {cpu(rs, 'client_cpu_s')} |")
tot, users, rss = [], [], []
for d in runs:
    if os.path.exists(os.path.join(d, "fullsync.json")):
        f = json.load(open(os.path.join(d, "fullsync.json")))
        tot += [r["wall_s"] for r in f["results"] if r["workload"] == "fullsync_total"]
    p = os.path.join(d, "rss_kb")
    if os.path.exists(p):
        rss.append(int(open(p).read().strip() or 0))
print(f"\nfull sync totals (s): {tot} → median {med(tot):.2f} s")
print(f"peak RSS over runs: {max(rss) / 1024 if rss else 0:.1f} MB")
