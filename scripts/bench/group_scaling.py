#!/usr/bin/env python3
"""Cost of one membership PATCH (100 members) as a group grows to 50,000 members.

  group_scaling.py --base-url SCIM_BASE --token TOKEN [--members 50000] [--batch 100]

Creates the users (concurrency 16), one group, then adds the users in sequential
PATCHes of --batch members (as IdPs do for one group) and reports the median and p99
PATCH latency at the start (group of ≤ 1,000 members) and at the end (the last 1,000
added, group of ~members). Equal figures = cost independent of the group's size.
Python 3.11 + aiohttp."""
import argparse
import asyncio
import statistics
import time
import uuid

import aiohttp

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--members", type=int, default=50000)
    p.add_argument("--batch", type=int, default=100)
    a = p.parse_args()
    run = uuid.uuid4().hex[:8]
    h = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/scim+json"}
    async with aiohttp.ClientSession(headers=h, connector=aiohttp.TCPConnector(limit=20)) as s:
        ids = [None] * a.members
        it = iter(range(a.members))
        t0 = time.perf_counter()

        async def worker():
            for i in it:
                body = {"userName": f"gs.{run}.{i}@example.com", "active": True}
                async with s.post(f"{a.base_url}/Users", json=body) as r:
                    assert r.status == 201, await r.text()
                    ids[i] = (await r.json())["id"]

        await asyncio.gather(*(worker() for _ in range(16)))
        print(f"created {a.members} users in {time.perf_counter() - t0:.1f}s")
        async with s.post(f"{a.base_url}/Groups", json={"displayName": f"scaling-{run}"}) as r:
            gid = (await r.json())["id"]
        lat = []
        for k in range(0, a.members, a.batch):
            body = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": x} for x in ids[k:k + a.batch]]}]}
            t = time.perf_counter()
            async with s.patch(f"{a.base_url}/Groups/{gid}", json=body) as r:
                assert r.status in (200, 204), await r.text()
            lat.append((time.perf_counter() - t) * 1000)
        n = max(1, 1000 // a.batch)

        def stats(xs):
            xs = sorted(xs)
            return statistics.median(xs), xs[min(len(xs) - 1, int(0.99 * len(xs)))]

        m0, p0 = stats(lat[:n])
        m1, p1 = stats(lat[-n:])
        print(f"PATCH of {a.batch} members, group size ≤ {n * a.batch}: median {m0:.2f} ms, p99 {p0:.2f} ms")
        print(f"PATCH of {a.batch} members, group size ~{a.members}: median {m1:.2f} ms, p99 {p1:.2f} ms")
        print(f"all {len(lat)} PATCHes: {a.members / (sum(lat) / 1000):.0f} members/s")


asyncio.run(main())
