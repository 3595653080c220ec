#!/usr/bin/env python3
"""What a flood of bogus bearer tokens costs a running scimgate (docs/BENCHMARKS.md).

    bogus_flood.py --base-url http://127.0.0.1:18190/scim/v2/DIR --token TOKEN --pid PID \
                   [--rate 5000] [--seconds 10] [--concurrency 64]

Three phases of --seconds each: legitimate lookups alone (userName eq, 4 workers), then
the same lookups beside a flood of random `sgd_` tokens at --rate requests a second (the
flooder's address is locked out after its first failures, so nearly every bogus request
is answered 429 without a database lookup), then the flood alone. Printed: the flood's
achieved rate and statuses, the server's CPU (utime+stime of --pid, in % of one core)
per phase, and the lookups' p50/p99 with and without the flood.
"""
import argparse
import asyncio
import os
import secrets
import time

import aiohttp

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICKS


async def lookups(session, base, token, until, lat):
    h = {"Authorization": f"Bearer {token}"}
    i = 0
    while time.monotonic() < until:
        i += 1
        t0 = time.monotonic()
        async with session.get(f"{base}/Users?filter=userName%20eq%20%22nobody{i}%40x.test%22", headers=h) as r:
            await r.read()
            if r.status != 200:
                raise SystemExit(f"a legitimate lookup got {r.status}")
        lat.append(time.monotonic() - t0)


async def flood(session, base, rate, until, concurrency, statuses):
    interval = concurrency / rate
    async def one_worker():
        nxt = time.monotonic()
        while time.monotonic() < until:
            h = {"Authorization": "Bearer sgd_" + secrets.token_hex(32)}
            async with session.get(f"{base}/Users", headers=h) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            nxt += interval
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*(one_worker() for _ in range(concurrency)))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--rate", type=float, default=5000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=64)
    a = ap.parse_args()
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as s:
        for phase in ("lookups alone", "lookups + flood", "flood alone"):
            until = time.monotonic() + a.seconds
            lat, statuses, jobs = [], {}, []
            if phase != "flood alone":
                jobs += [lookups(s, a.base_url, a.token, until, lat) for _ in range(4)]
            if phase != "lookups alone":
                jobs.append(flood(s, a.base_url, a.rate, until, a.concurrency, statuses))
            c0, t0 = cpu_seconds(a.pid), time.monotonic()
            await asyncio.gather(*jobs)
            wall = time.monotonic() - t0
            cpu = (cpu_seconds(a.pid) - c0) / wall * 100
            line = f"{phase:16} server CPU {cpu:5.1f} % of a core"
            if statuses:
                n = sum(statuses.values())
                line += f"; flood {n / wall:,.0f} req/s {dict(sorted(statuses.items()))}"
            if lat:
                line += f"; lookups {len(lat) / wall:,.0f}/s p50 {pct(lat, .5):.2f} ms p99 {pct(lat, .99):.2f} ms"
            print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
