#!/usr/bin/env python3
"""What a flood of bogus bearer tokens costs a running scimgate (docs/BENCHMARKS.md).

    bogus_flood.py --base-url http://127.0.0.1:18190/scim/v2/DIR --token TOKEN --pid PID \
                   [--rate 5000] [--seconds 10] [--concurrency 64]

Three phases of --seconds each: legitimate lookups alone (userName eq, 4 workers paced at
--lookup-rate a second in all), then
the same lookups beside a flood of random `sgd_` tokens at --rate requests a second (the
flooder's address is locked out after its first failures, so nearly every bogus request
is answered 429 without a database lookup), then the flood alone. The flood runs in a
process of its own (one Python process cannot drive both). It comes from
another address than the lookups (X-Forwarded-For: start the server with
SCIMGATE_TRUSTED_PROXIES=127.0.0.1): a lock-out holds the attacker's address, and an
IdP behind the same address would share it. Printed: the flood's
achieved rate and statuses, the server's CPU (utime+stime of --pid, in % of one core)
per phase, and the lookups' p50/p99 with and without the flood.
"""
import argparse
import asyncio
import multiprocessing
import os
import secrets
import time

import aiohttp

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICKS


async def lookups(session, base, token, until, lat, interval):
    h = {"Authorization": f"Bearer {token}"}
    i = 0
    nxt = time.monotonic()
    while time.monotonic() < until:
        i += 1
        nxt += interval
        delay = nxt - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
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
            h = {"Authorization": "Bearer sgd_" + secrets.token_hex(32), "X-Forwarded-For": "198.51.100.66"}
            async with session.get(f"{base}/Users", headers=h) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            nxt += interval
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*(one_worker() for _ in range(concurrency)))


def flood_process(base, rate, seconds, concurrency, q):
    """The flood in a process of its own, so that the lookups' client is not starved by
    it (one Python process cannot drive both: its own CPU becomes the limit)."""
    async def run():
        statuses = {}
        conn = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=conn) as s:
            t0 = time.monotonic()
            await flood(s, base, rate, t0 + seconds, concurrency, statuses)
            q.put((statuses, time.monotonic() - t0))
    asyncio.run(run())


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
    ap.add_argument("--lookup-rate", type=float, default=200,
                    help="legitimate lookups a second (paced, 4 workers), the same in every phase")
    ap.add_argument("--flood-base", default=None,
                    help="send the flood here instead (a control: another server on this machine, so "
                         "that what the flood costs the machine is told from what it costs scimgate)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="the three phases this many times (medians are for the caller)")
    a = ap.parse_args()
    conn = aiohttp.TCPConnector(limit=0)
    ctx = multiprocessing.get_context("spawn")
    async with aiohttp.ClientSession(connector=conn) as s:
        for _ in range(a.rounds):
            for phase in ("lookups alone", "lookups + flood", "flood alone"):
                until = time.monotonic() + a.seconds
                lat, jobs, proc, q = [], [], None, ctx.Queue()
                if phase != "lookups alone":
                    proc = ctx.Process(target=flood_process,
                                       args=(a.flood_base or a.base_url, a.rate, a.seconds, a.concurrency, q))
                    proc.start()
                    await asyncio.sleep(0.3)   # the process's start-up is not the server's
                    until = time.monotonic() + a.seconds
                if phase != "flood alone":
                    jobs += [lookups(s, a.base_url, a.token, until, lat, 4 / a.lookup_rate) for _ in range(4)]
                c0, t0 = cpu_seconds(a.pid), time.monotonic()
                if jobs:
                    await asyncio.gather(*jobs)
                statuses, flood_wall = {}, None
                if proc is not None:
                    statuses, flood_wall = await asyncio.get_running_loop().run_in_executor(None, q.get)
                    proc.join()
                wall = time.monotonic() - t0
                cpu = (cpu_seconds(a.pid) - c0) / wall * 100
                line = f"{phase:16} server CPU {cpu:5.1f} % of a core"
                if statuses:
                    n = sum(statuses.values())
                    line += f"; flood {n / flood_wall:,.0f} req/s {dict(sorted(statuses.items()))}"
                if lat:
                    line += f"; lookups {len(lat) / wall:,.0f}/s p50 {pct(lat, .5):.2f} ms p99 {pct(lat, .99):.2f} ms"
                print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
