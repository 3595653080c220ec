#!/usr/bin/env python3
"""Benchmark scimgate's events API, long poll and directory snapshot.

Targets (issue text):
  * reading /events with limit=100            >= 50,000 events/s
  * SCIM write response -> waiting long poll   p99 <= 50 ms at 1,000 writes/s
  * snapshot of a 100,000-user directory       <= 5 s, bounded memory

Starts its own `scimgate serve` (one fresh database per part), seeds it over SCIM,
measures, prints a table and optionally writes JSON.

  python scripts/bench/events_bench.py --backend sqlite --port 18401 \
      --binary /var/tmp/sg-target/release/scimgate --json-out /tmp/bench.json

Python 3.11, stdlib + aiohttp.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import aiohttp

API_KEY = "sk_bench_" + "9f3c1a7e5b2d8064c0e9a4f7b1d6c3e8"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SCIM_JSON = {"content-type": "application/scim+json"}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- process stats


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime = field 14, stime = field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def busy_check(exclude: set[int], seconds: float = 1.0, threshold: float = 10.0) -> list[str]:
    """Other processes using > threshold % of one core over `seconds`."""

    def snap():
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                name = s[s.index("(") + 1 : s.rindex(")")]
                fl = s.rsplit(")", 1)[1].split()
                out[int(d)] = (name, int(fl[11]) + int(fl[12]))
            except (OSError, ValueError):
                pass
        return out

    a = snap()
    time.sleep(seconds)
    b = snap()
    busy = []
    for pid, (name, t) in b.items():
        if pid in exclude or pid not in a:
            continue
        pct = (t - a[pid][1]) / CLK_TCK / seconds * 100
        if pct >= threshold:
            busy.append(f"{pid}:{name}:{pct:.0f}%")
    return busy


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


# ---------------------------------------------------------------- server control


def sha256_file(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def psql(sql: str, db: str = "test") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atq", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


class Server:
    def __init__(self, binary: str, backend: str, port: int, workdir: str, tag: str):
        self.binary, self.backend, self.port, self.tag = binary, backend, port, tag
        self.dir = os.path.join(workdir, f"{backend}-{tag}")
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.dbname = f"scimbench_{os.getpid()}_{tag}"
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        if backend == "pg":
            psql(f"CREATE DATABASE {self.dbname}")
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.dbname}"
        else:
            self.url = f"sqlite://{self.dir}/data/scimgate.db"
        self.env = dict(
            os.environ,
            SCIMGATE_DATABASE_URL=self.url,
            SCIMGATE_LISTEN=f"127.0.0.1:{port}",
            SCIMGATE_BOOTSTRAP_API_KEY=API_KEY,
            SCIMGATE_DATA_DIR=os.path.join(self.dir, "data"),
            RUST_LOG=os.environ.get("RUST_LOG", "warn"),
        )
        self.logs: list[str] = []

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def start(self):
        st = os.stat(self.binary)
        self.binary_ids = getattr(self, "binary_ids", [])
        self.binary_ids.append(f"{sha256_file(self.binary)[:16]} mtime={time.strftime('%H:%M:%S', time.localtime(st.st_mtime))}")
        logpath = os.path.join(self.dir, f"server-{len(self.logs)}.log")
        self.logs.append(logpath)
        self.proc = subprocess.Popen(
            [self.binary, "serve"], env=self.env, stdout=open(logpath, "wb"),
            stderr=subprocess.STDOUT, cwd=self.dir,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}; see {logpath}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready after 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            t = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
                how = f"exited {self.proc.returncode}"
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                how = "SIGKILLed after 40 s"
            self.stops = getattr(self, "stops", []) + [f"{how} in {time.monotonic() - t:.1f}s"]
        self.proc = None

    def destroy(self):
        self.stop()
        if self.backend == "pg":
            try:
                psql(f"DROP DATABASE IF EXISTS {self.dbname}")
            except subprocess.CalledProcessError as e:
                log("drop database failed:", e.stderr)

    def log_problems(self) -> dict:
        warn = err = 0
        samples = []
        for p in self.logs:
            try:
                with open(p, errors="replace") as f:
                    for line in f:
                        if "ERROR" in line or "panicked" in line:
                            err += 1
                            if len(samples) < 5:
                                samples.append(line.strip()[:300])
                        elif "WARN" in line:
                            warn += 1
                            if len(samples) < 5:
                                samples.append(line.strip()[:300])
            except FileNotFoundError:
                pass
        return {"error_lines": err, "warn_lines": warn, "samples": samples}


# ---------------------------------------------------------------- API helpers


def auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


async def api_post(s: aiohttp.ClientSession, base: str, path: str, body: dict) -> dict:
    async with s.post(base + path, json=body, headers=auth(API_KEY)) as r:
        txt = await r.text()
        if r.status >= 300:
            raise RuntimeError(f"POST {path} -> {r.status}: {txt[:300]}")
        return json.loads(txt)


async def make_directory(s, base: str, name: str) -> dict:
    org = await api_post(s, base, "/organizations", {"name": name})
    d = await api_post(s, base, "/directories", {"organization_id": org["id"], "type": "okta scim v2.0"})
    return {"org": org["id"], "dir": d["id"], "scim": d["scim_url"], "token": d["bearer_token"]}


class Failures:
    def __init__(self):
        self.count = 0
        self.retries = 0
        self.samples: list[str] = []

    def add(self, what: str):
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(what[:300])


async def scim_send(s, method: str, url: str, tok: str, body: dict, fails: Failures, ok=(200, 201, 204)):
    data = json.dumps(body).encode()
    for attempt in range(4):
        try:
            async with s.request(method, url, data=data, headers={**auth(tok), **SCIM_JSON}) as r:
                txt = await r.read()
                if r.status in ok:
                    return json.loads(txt) if txt else None
                if r.status in (429, 500, 502, 503, 504) and attempt < 3:
                    fails.retries += 1
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                fails.add(f"{method} {url.rsplit('/', 2)[-2:]} -> {r.status}: {txt[:200]!r}")
                return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            if attempt < 3:
                fails.retries += 1
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            fails.add(f"{method} {url}: {e!r}")
            return None


def user_body(prefix: str, i: int) -> dict:
    u = f"{prefix}{i:07d}@bench.example.com"
    return {
        "schemas": [USER_SCHEMA],
        "userName": u,
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
        "emails": [{"value": u, "primary": True, "type": "work"}],
        "active": True,
    }


async def create_users(s, d: dict, n: int, prefix: str, conc: int, deadline: float, fails: Failures) -> list[str]:
    ids: list[str] = []
    nxt = 0
    t0 = time.monotonic()

    async def worker():
        nonlocal nxt
        while nxt < n and time.monotonic() < deadline:
            i = nxt
            nxt += 1
            r = await scim_send(s, "POST", d["scim"] + "/Users", d["token"], user_body(prefix, i), fails)
            if r:
                ids.append(r["id"])
                if len(ids) % 10000 == 0:
                    log(f"  {len(ids)} users ({len(ids) / (time.monotonic() - t0):.0f}/s)")

    await asyncio.gather(*(worker() for _ in range(conc)))
    return ids


async def create_group(s, d: dict, name: str, members: list[str], fails: Failures, batch=100) -> str | None:
    g = await scim_send(s, "POST", d["scim"] + "/Groups", d["token"], {"schemas": [GROUP_SCHEMA], "displayName": name}, fails)
    if not g:
        return None
    for k in range(0, len(members), batch):
        ops = [{"op": "add", "path": "members", "value": [{"value": m} for m in members[k : k + batch]]}]
        await scim_send(s, "PATCH", f"{d['scim']}/Groups/{g['id']}", d["token"], {"schemas": [PATCH_SCHEMA], "Operations": ops}, fails)
    return g["id"]


def session(limit: int = 64, total: float | None = 120) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=False),
        timeout=aiohttp.ClientTimeout(total=total),
    )


# ---------------------------------------------------------------- 1. events read


async def read_stream_verify(s, base: str, dir_id: str) -> dict:
    """Full JSON parse; checks order, duplicates, sequence gaps."""
    after = None
    n = 0
    seen = set()
    dups = 0
    last_seq = 0
    order_errors = 0
    gaps = 0
    types: dict[str, int] = {}
    while True:
        url = f"{base}/events?directory_id={dir_id}&order=asc&limit=100"
        if after:
            url += f"&after={after}"
        async with s.get(url, headers=auth(API_KEY)) as r:
            if r.status != 200:
                raise RuntimeError(f"GET /events -> {r.status}: {(await r.text())[:300]}")
            d = json.loads(await r.read())
        if not d["data"]:
            break
        for e in d["data"]:
            n += 1
            if e["id"] in seen:
                dups += 1
            seen.add(e["id"])
            sq = e.get("sequence") or 0
            if sq <= last_seq:
                order_errors += 1
            elif sq != last_seq + 1:
                gaps += 1
            last_seq = max(last_seq, sq)
            types[e["event"]] = types.get(e["event"], 0) + 1
        if d["list_metadata"]["after"] != d["data"][-1]["id"]:
            order_errors += 1
        after = d["list_metadata"]["after"]
    return {"events": n, "duplicates": dups, "order_errors": order_errors, "sequence_gaps": gaps,
            "last_sequence": last_seq, "types": types}


MARK_EVENT = b'"object":"event"'
MARK_META = b'"list_metadata":'


async def read_stream_fast(s, base: str, dir_id: str) -> tuple[int, int, int]:
    """Read the whole stream with limit=100; light parsing (count + cursor). -> (events, requests, bytes)"""
    after = None
    n = reqs = nbytes = 0
    hdr = auth(API_KEY)
    while True:
        url = f"{base}/events?directory_id={dir_id}&order=asc&limit=100"
        if after:
            url += f"&after={after}"
        async with s.get(url, headers=hdr) as r:
            body = await r.read()
            if r.status != 200:
                raise RuntimeError(f"GET /events -> {r.status}: {body[:300]!r}")
        reqs += 1
        nbytes += len(body)
        k = body.count(MARK_EVENT)
        if k == 0:
            break
        n += k
        i = body.rfind(MARK_META)
        after = json.loads(body[i + len(MARK_META) : -1])["after"]
    return n, reqs, nbytes


async def part_events(args, srv: Server, res: dict):
    fails = Failures()
    async with session() as s:
        d = await make_directory(s, srv.base, "BenchEvents")
        t = time.monotonic()
        ids = await create_users(s, d, args.event_users, "ev", 16, t + args.seed_timeout, fails)
        t_users = time.monotonic() - t
        log(f"events: {len(ids)} users in {t_users:.1f}s; adding them to one group")
        t = time.monotonic()
        await create_group(s, d, "everyone", ids, fails)
        t_group = time.monotonic() - t
        v = await read_stream_verify(s, srv.base, d["dir"])
        extra = 0
        if v["events"] < args.min_events:
            need = args.min_events - v["events"]
            log(f"events: {v['events']} events, topping up with {need} title updates")
            k = 0

            async def upd():
                nonlocal k, extra
                while k < need:
                    i = k
                    k += 1
                    r = await scim_send(s, "PATCH", f"{d['scim']}/Users/{ids[i % len(ids)]}", d["token"],
                                        {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": f"t{i}"}]}, fails)
                    extra += r is not None

            await asyncio.gather(*(upd() for _ in range(16)))
            v = await read_stream_verify(s, srv.base, d["dir"])
    seed = {"users": len(ids), "user_create_s": round(t_users, 1),
            "users_per_s": round(len(ids) / t_users, 1) if t_users else None,
            "group_member_patch_s": round(t_group, 1), "title_updates": extra,
            "failures": fails.count, "retries": fails.retries, "failure_samples": fails.samples}
    log(f"events: stream has {v['events']} events; verify={ {k: v[k] for k in ('duplicates', 'order_errors', 'sequence_gaps')} }")
    out = {"seed": seed, "verify": v, "busy_before": busy_check({srv.pid, os.getpid()})}
    if out["busy_before"]:
        log("WARNING other busy processes:", out["busy_before"])

    async def measure(readers: int) -> dict:
        passes = []
        for _ in range(args.passes):
            async with session(limit=readers) as s:
                # warm the keep-alive connection(s) so the timed part is steady state
                async def warm():
                    async with s.get(srv.base + "/readyz") as r:
                        await r.read()

                await asyncio.gather(*(warm() for _ in range(readers)))
                c0, p0, t0 = proc_cpu_seconds(srv.pid), time.process_time(), time.perf_counter()
                rs = await asyncio.gather(*(read_stream_fast(s, srv.base, d["dir"]) for _ in range(readers)))
                dt = time.perf_counter() - t0
                c1, p1 = proc_cpu_seconds(srv.pid), time.process_time()
            ev = sum(r[0] for r in rs)
            bad = [r[0] for r in rs if r[0] != v["events"]]
            passes.append({"events": ev, "requests": sum(r[1] for r in rs), "mbytes": round(sum(r[2] for r in rs) / 1e6, 1),
                           "seconds": round(dt, 3), "events_per_s": round(ev / dt), "server_cpu_s": round(c1 - c0, 2),
                           "client_cpu_s": round(p1 - p0, 2), "count_mismatch": bad})
        med = sorted(passes, key=lambda p: p["events_per_s"])[len(passes) // 2]
        return {"readers": readers, "median_events_per_s": med["events_per_s"],
                "median_seconds": med["seconds"], "server_cpu_s": med["server_cpu_s"],
                "server_us_per_event": round(med["server_cpu_s"] / med["events"] * 1e6, 2),
                "client_cpu_s": med["client_cpu_s"], "passes": passes}

    out["sequential"] = await measure(1)
    log(f"events: sequential {out['sequential']['median_events_per_s']} ev/s")
    out["concurrent4"] = await measure(4)
    log(f"events: 4 readers {out['concurrent4']['median_events_per_s']} ev/s")
    res["events"] = out


# ---------------------------------------------------------------- 2. long poll


def poller_main(base, scope_key, scope_val, start_after, prefix, stop_ev, ready_ev, counter, q):
    asyncio.run(_poller(base, scope_key, scope_val, start_after, prefix, stop_ev, ready_ev, counter, q))


async def _poller(base, scope_key, scope_val, start_after, prefix, stop_ev, ready_ev, counter, q):
    recs: list[tuple[str, float]] = []
    polls: list[tuple[float, float, int]] = []
    other: dict[str, int] = {}
    errors: list[str] = []
    dup = 0
    seen: set[str] = set()
    async with session(limit=1, total=60) as s:
        async with s.get(base + "/readyz") as r:
            await r.read()

        async def loop():
            nonlocal dup
            after = start_after
            while True:
                url = f"{base}/events?{scope_key}={scope_val}&order=asc&limit=100&wait=25&after={after}"
                t0 = time.monotonic()
                try:
                    async with s.get(url, headers=auth(API_KEY)) as r:
                        body = await r.read()
                        status = r.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    errors.append(repr(e)[:200])
                    await asyncio.sleep(0.05)
                    continue
                t1 = time.monotonic()
                if status != 200:
                    errors.append(f"{status}: {body[:200]!r}")
                    await asyncio.sleep(0.05)
                    continue
                d = json.loads(body)
                m = 0
                for e in d["data"]:
                    if e["id"] in seen:
                        dup += 1
                    seen.add(e["id"])
                    jt = (e.get("data") or {}).get("job_title") or ""
                    if e["event"] == "dsync.user.updated" and jt.startswith(prefix):
                        recs.append((jt, t1))
                        m += 1
                    else:
                        other[e["event"]] = other.get(e["event"], 0) + 1
                polls.append((t0, t1, len(d["data"])))
                if d["data"]:
                    after = d["list_metadata"]["after"]
                with counter.get_lock():
                    counter.value += m

        task = asyncio.create_task(loop())
        ready_ev.set()
        while not stop_ev.is_set() and not task.done():
            await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(f"poller crashed: {e!r}")
    q.put({"recs": recs, "polls": polls, "other": other, "errors": errors, "dups": dup})


async def latest_event(s, base: str, scope_key: str, scope_val: str) -> str:
    async with s.get(f"{base}/events?{scope_key}={scope_val}&order=desc&limit=1", headers=auth(API_KEY)) as r:
        d = await r.json()
    return d["data"][0]["id"]


async def run_writer(s, d, user_ids, rate, seconds, prefix, conc, fails: Failures):
    n = int(rate * seconds)
    res: list[tuple[float, float, float, int] | None] = [None] * n
    sem = asyncio.Semaphore(conc)
    hdr = {**auth(d["token"]), **SCIM_JSON}

    async def one(i: int, sched: float):
        body = json.dumps({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": f"{prefix}{i}"}]}).encode()
        url = f"{d['scim']}/Users/{user_ids[i % len(user_ids)]}"
        async with sem:
            ts = time.monotonic()
            try:
                async with s.patch(url, data=body, headers=hdr) as r:
                    txt = await r.read()
                    st = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                st, txt = -1, repr(e).encode()
            tr = time.monotonic()
        if st != 200:
            fails.add(f"PATCH -> {st}: {txt[:200]!r}")
        res[i] = (sched, ts, tr, st)

    tasks = []
    t0 = time.monotonic() + 0.01
    i = 0
    while i < n:
        due = min(n, int((time.monotonic() - t0) * rate) + 1)
        while i < due:
            tasks.append(asyncio.create_task(one(i, t0 + i / rate)))
            i += 1
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*tasks)
    return t0, res


async def longpoll_once(args, srv: Server, s, d, user_ids, scope: str) -> dict:
    scope_key, scope_val = ("directory_id", d["dir"]) if scope == "directory" else ("organization_id", d["org"])
    prefix = f"lp-{scope[:3]}-"
    start_after = await latest_event(s, srv.base, scope_key, scope_val)
    ctx = mp.get_context("spawn")
    stop_ev, ready_ev, counter, q = ctx.Event(), ctx.Event(), ctx.Value("l", 0), ctx.Queue()
    p = ctx.Process(target=poller_main, args=(srv.base, scope_key, scope_val, start_after, prefix, stop_ev, ready_ev, counter, q))
    p.start()
    if not ready_ev.wait(30):
        raise RuntimeError("poller did not start")
    await asyncio.sleep(1.0)  # let the first long poll park on the server
    busy = busy_check({srv.pid, os.getpid(), p.pid}, seconds=0.5)
    if busy:
        log("WARNING other busy processes:", busy)
    fails = Failures()
    c0 = proc_cpu_seconds(srv.pid)
    t0, writes = await run_writer(s, d, user_ids, args.lp_rate, args.lp_seconds, prefix, args.lp_conc, fails)
    c1 = proc_cpu_seconds(srv.pid)
    ok = [w for w in writes if w and w[3] == 200]
    deadline = time.monotonic() + 10
    while counter.value < len(ok) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    drain_wait = time.monotonic() - (deadline - 10)
    stop_ev.set()
    pr = await asyncio.get_running_loop().run_in_executor(None, q.get, True, 30)
    p.join(10)

    seen_at: dict[str, float] = {}
    dup_markers = 0
    for m, t in pr["recs"]:
        if m in seen_at:
            dup_markers += 1
        else:
            seen_at[m] = t
    lat, lat_send, neg = [], [], 0
    unmatched = []
    for i, w in enumerate(writes):
        if not w or w[3] != 200:
            continue
        t = seen_at.get(f"{prefix}{i}")
        if t is None:
            unmatched.append(i)
            continue
        dl = t - w[2]
        if dl < 0:
            neg += 1
        lat.append(max(0.0, dl) * 1000)
        lat_send.append((t - w[1]) * 1000)
    first_send = min(w[1] for w in writes if w)
    last_resp = max(w[2] for w in writes if w)
    send_lag = [(w[1] - w[0]) * 1000 for w in writes if w]
    wlat = [(w[2] - w[1]) * 1000 for w in ok]
    polls = pr["polls"]
    ev_per_poll = [x[2] for x in polls if x[2]]
    r2 = lambda x: None if x is None else round(x, 2)  # noqa: E731
    return {
        "scope": scope, "writes_planned": len(writes), "writes_ok": len(ok), "write_failures": fails.count,
        "write_failure_samples": fails.samples,
        "achieved_write_rate": round(len(ok) / (last_resp - first_send), 1),
        "send_lag_ms_p99": r2(pct(send_lag, 99)), "send_lag_ms_max": r2(max(send_lag)),
        "write_resp_ms_p50": r2(pct(wlat, 50)), "write_resp_ms_p99": r2(pct(wlat, 99)), "write_resp_ms_max": r2(max(wlat) if wlat else None),
        "matched": len(lat), "unmatched": len(unmatched), "unmatched_first": unmatched[:10],
        "duplicate_markers": dup_markers, "duplicate_event_ids": pr["dups"],
        "lat_ms_p50": r2(pct(lat, 50)), "lat_ms_p90": r2(pct(lat, 90)), "lat_ms_p99": r2(pct(lat, 99)),
        "lat_ms_max": r2(max(lat) if lat else None), "poll_before_response": neg,
        "lat_from_send_ms_p50": r2(pct(lat_send, 50)), "lat_from_send_ms_p99": r2(pct(lat_send, 99)),
        "polls": len(polls), "events_per_nonempty_poll_avg": r2(statistics.mean(ev_per_poll) if ev_per_poll else None),
        "polls_returning_100": sum(1 for x in ev_per_poll if x >= 100), "other_events": pr["other"],
        "poll_errors": pr["errors"][:5], "poll_error_count": len(pr["errors"]),
        "drain_wait_s": round(drain_wait, 2), "server_cpu_s_during_writes": round(c1 - c0, 2),
        "busy_other_processes": busy,
    }


async def part_longpoll(args, srv: Server, res: dict):
    fails = Failures()
    async with session(limit=args.lp_conc, total=60) as s:
        d = await make_directory(s, srv.base, "BenchLongPoll")
        ids = await create_users(s, d, args.lp_users, "lp", 16, time.monotonic() + args.seed_timeout, fails)
        log(f"longpoll: {len(ids)} users seeded")
        out = {"seed_users": len(ids), "seed_failures": fails.count, "seed_failure_samples": fails.samples}
        for scope in ("directory", "organization"):
            r = await longpoll_once(args, srv, s, d, ids, scope)
            log(f"longpoll[{scope}]: rate {r['achieved_write_rate']}/s matched {r['matched']}/{r['writes_ok']} "
                f"p50 {r['lat_ms_p50']} p99 {r['lat_ms_p99']} max {r['lat_ms_max']} ms")
            out[scope] = r
            await asyncio.sleep(1)
    res["longpoll"] = out


# ---------------------------------------------------------------- 3. snapshot


async def snapshot_once(s, base: str, dir_id: str, pid: int, label: str) -> dict:
    state = {"lines": 0, "done": False}
    samples: list[tuple[float, int, int]] = []
    t0 = time.perf_counter()

    def sampler():
        while not state["done"]:
            rss = proc_status_kb(pid, "VmRSS")
            samples.append((time.perf_counter() - t0, rss or 0, state["lines"]))
            time.sleep(0.1)

    rss_before = proc_status_kb(pid, "VmRSS")
    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    c0 = proc_cpu_seconds(pid)
    first = b""
    tail = b""
    nbytes = 0
    ttfb = None
    try:
        async with s.get(f"{base}/directories/{dir_id}/snapshot", headers=auth(API_KEY)) as r:
            if r.status != 200:
                raise RuntimeError(f"snapshot -> {r.status}: {(await r.text())[:300]}")
            async for chunk in r.content.iter_chunked(1 << 16):
                if ttfb is None:
                    ttfb = time.perf_counter() - t0
                if not first or b"\n" not in first:
                    first += chunk[:4096]
                nbytes += len(chunk)
                state["lines"] += chunk.count(b"\n")
                tail = (tail + chunk)[-4096:]
    finally:
        dt = time.perf_counter() - t0
        state["done"] = True
        th.join()
    c1 = proc_cpu_seconds(pid)
    head = json.loads(first.split(b"\n", 1)[0])
    last = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    rss = [x[1] for x in samples]
    total = state["lines"] or 1
    # VmRSS at the first sample at/after 25/50/75 % of lines
    prog = {}
    for q in (25, 50, 75):
        for t, r_, ln in samples:
            if ln >= total * q / 100:
                prog[f"rss_kb_at_{q}pct"] = r_
                break
    return {"label": label, "seconds": round(dt, 3), "ttfb_s": round(ttfb or 0, 3), "lines": state["lines"],
            "mbytes": round(nbytes / 1e6, 1), "first_object": head.get("object"), "last": last,
            "rss_kb_before": rss_before, "rss_kb_max_during": max(rss) if rss else None,
            "rss_kb_after": proc_status_kb(pid, "VmRSS"), **prog, "vmhwm_kb_after": proc_status_kb(pid, "VmHWM"),
            "server_cpu_s": round(c1 - c0, 2), "samples": len(samples),
            "rss_trace_kb": [(round(t, 1), r_, ln) for t, r_, ln in samples[:: max(1, len(samples) // 20)]]}


async def part_snapshot(args, srv: Server, res: dict):
    fails = Failures()
    async with session(limit=32, total=120) as s:
        big = await make_directory(s, srv.base, "BenchSnapshotBig")
        small = await make_directory(s, srv.base, "BenchSnapshotSmall")
        t = time.monotonic()
        ids = await create_users(s, big, args.snapshot_users, "sn", args.seed_conc, t + args.seed_timeout, fails)
        t_users = time.monotonic() - t
        log(f"snapshot: {len(ids)} users in {t_users:.1f}s; groups")
        groups = []
        for g in range(args.snapshot_groups):
            members = ids[g * args.group_members : (g + 1) * args.group_members]
            groups.append(await create_group(s, big, f"group{g}", members, fails))
        small_ids = await create_users(s, small, args.small_users, "sm", 16, time.monotonic() + 120, fails)
        await create_group(s, small, "smallgroup", small_ids[:200], fails)
        seed = {"users": len(ids), "user_create_s": round(t_users, 1), "users_per_s": round(len(ids) / t_users, 1),
                "groups": len(groups), "members_per_group": args.group_members, "small_dir_users": len(small_ids),
                "failures": fails.count, "retries": fails.retries, "failure_samples": fails.samples,
                "seed_total_s": round(time.monotonic() - t, 1)}
    # fresh process so VmHWM reflects only startup + snapshots, not the seeding
    srv.stop()
    srv.start()
    await asyncio.sleep(1)
    out = {"seed": seed, "rss_kb_fresh_server": proc_status_kb(srv.pid, "VmRSS"),
           "busy_before": busy_check({srv.pid, os.getpid()})}
    if out["busy_before"]:
        log("WARNING other busy processes:", out["busy_before"])
    async with session(limit=2, total=600) as s:
        out["small"] = await snapshot_once(s, srv.base, small["dir"], srv.pid, f"small ({len(small_ids)} users)")
        log(f"snapshot small: {out['small']['seconds']}s lines {out['small']['lines']} VmHWM {out['small']['vmhwm_kb_after']} kB")
        passes = []
        for k in range(args.passes):
            r = await snapshot_once(s, srv.base, big["dir"], srv.pid, f"big pass {k + 1}")
            log(f"snapshot big: {r['seconds']}s lines {r['lines']} rss max {r['rss_kb_max_during']} kB VmHWM {r['vmhwm_kb_after']} kB")
            passes.append(r)
    med = sorted(passes, key=lambda p: p["seconds"])[len(passes) // 2]
    out.update({"passes": passes, "median_seconds": med["seconds"], "lines": med["lines"],
                "users_in_end": med["last"].get("users"), "vmhwm_kb": proc_status_kb(srv.pid, "VmHWM")})
    res["snapshot"] = out


# ---------------------------------------------------------------- main


def machine_facts(backend: str) -> dict:
    facts = {"nproc": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
             "aiohttp": aiohttp.__version__}
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                facts["mem_total_mb"] = int(line.split()[1]) // 1024
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    facts["loadavg"] = open("/proc/loadavg").read().split()[:3]
    if backend == "pg":
        for k in ("synchronous_commit", "fsync", "shared_buffers", "server_version"):
            try:
                facts[f"pg_{k}"] = psql(f"SHOW {k}")
            except subprocess.CalledProcessError as e:
                facts[f"pg_{k}"] = f"error: {e.stderr.strip()}"
    else:
        facts["sqlite_pragmas"] = "journal_mode=WAL synchronous=NORMAL (core/src/store/mod.rs)"
    return facts


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_table(res: dict):
    b = res["backend"]
    rows = []
    if "events" in res:
        e = res["events"]
        for k, name in (("sequential", "1 reader"), ("concurrent4", "4 readers")):
            m = e[k]
            rows.append((f"events read ({name})", f"{fmt(m['median_events_per_s'])} ev/s", ">= 50,000 ev/s",
                         f"{fmt(e['verify']['events'])} ev/stream, {m['median_seconds']}s, srv cpu {m['server_cpu_s']}s "
                         f"({m['server_us_per_event']} us/ev), client cpu {m['client_cpu_s']}s"))
    if "longpoll" in res:
        for scope in ("directory", "organization"):
            r = res["longpoll"].get(scope)
            if not r:
                continue
            rows.append((f"long poll ({scope})", f"p99 {fmt(r['lat_ms_p99'])} ms", "p99 <= 50 ms @1000/s",
                         f"rate {fmt(r['achieved_write_rate'])}/s, p50 {fmt(r['lat_ms_p50'])} max {fmt(r['lat_ms_max'])} ms, "
                         f"matched {r['matched']}/{r['writes_ok']}, write p99 {fmt(r['write_resp_ms_p99'])} ms, "
                         f"poll<resp {r['poll_before_response']}"))
    if "snapshot" in res:
        sn = res["snapshot"]
        rows.append(("snapshot (big)", f"{fmt(sn['median_seconds'])} s", "<= 5 s, bounded mem",
                     f"{fmt(sn['lines'])} lines, users {fmt(sn['users_in_end'])}, VmHWM {fmt(sn['vmhwm_kb'])} kB "
                     f"(fresh {fmt(sn['rss_kb_fresh_server'])}, after small {fmt(sn['small']['vmhwm_kb_after'])}), "
                     f"rss max during {fmt(max(p['rss_kb_max_during'] or 0 for p in sn['passes']))} kB"))
        rows.append(("snapshot (small)", f"{fmt(sn['small']['seconds'])} s", "",
                     f"{fmt(sn['small']['lines'])} lines, rss max during {fmt(sn['small']['rss_kb_max_during'])} kB"))
    w = [max(len(r[i]) for r in rows + [("measure", "result", "target", "details")]) for i in range(3)]
    print(f"\n== scimgate events bench: backend={b} nproc={res['machine']['nproc']} "
          f"mem={res['machine']['mem_total_mb']}MB" + (f" synchronous_commit={res['machine'].get('pg_synchronous_commit')}" if b == "pg" else ""))
    print(f"{'measure':<{w[0]}}  {'result':<{w[1]}}  {'target':<{w[2]}}  details")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    for part in ("events", "longpoll", "snapshot"):
        if part in res and res[part].get("server_log"):
            sl = res[part]["server_log"]
            if sl["error_lines"] or sl["warn_lines"]:
                print(f"server log [{part}]: {sl['error_lines']} error / {sl['warn_lines']} warn lines; e.g. {sl['samples'][:2]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "pg"], required=True)
    ap.add_argument("--port", type=int, default=18401)
    ap.add_argument("--binary", default="/var/tmp/sg-target/release/scimgate")
    ap.add_argument("--only", choices=["events", "longpoll", "snapshot"])
    ap.add_argument("--json-out")
    ap.add_argument("--workdir", default="/var/tmp/scimbench-run")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--event-users", type=int, default=25000, help="users (+ group adds) seeded for the events read")
    ap.add_argument("--min-events", type=int, default=50000)
    ap.add_argument("--lp-users", type=int, default=2000)
    ap.add_argument("--lp-rate", type=float, default=1000)
    ap.add_argument("--lp-seconds", type=float, default=10)
    ap.add_argument("--lp-conc", type=int, default=64)
    ap.add_argument("--snapshot-users", type=int, default=100000)
    ap.add_argument("--snapshot-groups", type=int, default=5)
    ap.add_argument("--group-members", type=int, default=2000)
    ap.add_argument("--small-users", type=int, default=2000)
    ap.add_argument("--seed-conc", type=int, default=24)
    ap.add_argument("--seed-timeout", type=float, default=600, help="bound on user creation time per part (s)")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"binary {args.binary} missing or not executable")

    res: dict = {"backend": args.backend, "machine": machine_facts(args.backend), "args": vars(args),
                 "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    parts = [args.only] if args.only else ["events", "longpoll", "snapshot"]
    fns = {"events": part_events, "longpoll": part_longpoll, "snapshot": part_snapshot}
    t_all = time.monotonic()
    for part in parts:
        srv = Server(args.binary, args.backend, args.port, args.workdir, part)
        try:
            srv.start()
            t = time.monotonic()
            log(f"== {part} ({args.backend}) server pid {srv.pid}")
            asyncio.run(fns[part](args, srv, res))
            res[part]["elapsed_s"] = round(time.monotonic() - t, 1)
        except Exception as e:  # noqa: BLE001
            log(f"{part} FAILED: {e!r}")
            res.setdefault(part, {})["error"] = repr(e)
        finally:
            try:
                res.setdefault(part, {})["server_log"] = srv.log_problems()
            finally:
                srv.destroy()
                res[part]["binary"] = getattr(srv, "binary_ids", [])
                res[part]["server_stops"] = getattr(srv, "stops", [])
                log(f"{part}: binary {res[part]['binary']} stops {res[part]['server_stops']}")
    res["elapsed_s"] = round(time.monotonic() - t_all, 1)
    ok_parts = {p: res[p] for p in parts if "error" not in res[p]}
    print_table({**{k: v for k, v in res.items() if k not in parts}, **ok_parts})
    for p in parts:
        if "error" in res[p]:
            print(f"{p}: FAILED {res[p]['error']}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1, default=str)
        print(f"json: {args.json_out}")


if __name__ == "__main__":
    main()
