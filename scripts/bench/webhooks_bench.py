#!/usr/bin/env python3
"""Benchmark webhook delivery (issue 15), against the release binary and a fast Rust receiver
(`cargo build --release -p scimgate-webhooks --example receiver`), on PostgreSQL:

  1. sustained delivery: a backlog of events (users created and added to groups while the
     endpoint is disabled, across 4 directories), then the endpoint enabled: events/s until the
     receiver has every one;
  2. latency at a paced write rate (default 500 creates/s): from each SCIM create's response to
     its dsync.user.created webhook's arrival, p50 / p99;
  3. SCIM create throughput (16 client threads, keep-alive) of a directory whose organization
     has no endpoint and of one whose organization has one (organization-scoped endpoints, so the
     two measures don't share deliveries), alternated --rounds times: medians and their ratio;
  4. SCIM create p99 the same way, the endpoint being a receiver that takes 5 s per answer.

  python3 scripts/bench/webhooks_bench.py [--rate 500] [--seconds 10] [--backlog-users 1500]

Prints a table; stdlib only (scripts/e2e/lib.py).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import lib  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/scimgate-ci-target"))
RECEIVER = TARGET / "release" / "examples" / "receiver"


def dump(port):
    _, _, text = lib.http_request("GET", f"http://127.0.0.1:{port}/dump")
    out = []
    for line in text.splitlines():
        at, eid, d, seq = line.split(" ")
        out.append((int(at) / 1e6, eid, d, int(seq)))
    return out


LAST_P99 = [0.0]


def creates(scim, tag, n, threads=16):
    """n creates over `threads` keep-alive connections; (ids, seconds); the p99 latency in
    LAST_P99[0] (ms)."""
    ids, lat, lock = [], [], threading.Lock()

    def work(k):
        for i in range(k, n, threads):
            t = time.monotonic()
            u = scim.create_user(f"b{i}.{tag}@example.com", "Bench", f"U{i}")
            with lock:
                ids.append(u["id"])
                lat.append((time.monotonic() - t) * 1000)

    t0 = time.monotonic()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    lat.sort()
    LAST_P99[0] = lat[int(0.99 * (len(lat) - 1))]
    return ids, time.monotonic() - t0


class SlowReceiver:
    """Answers every webhook after `delay` seconds (threads, so requests overlap)."""

    def __init__(self, delay):
        import http.server

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                time.sleep(delay)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/slow"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--backlog-users", type=int, default=1500)
    ap.add_argument("--creates", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rport = lib.free_port()
    receiver = subprocess.Popen([str(RECEIVER), f"127.0.0.1:{rport}"])
    time.sleep(0.3)
    rows = []
    try:
        with lib.PgDatabase("whbench") as db:
            key = lib.new_api_key()
            server = lib.Server(db.url, key, name="whbench")
            server.env.update({"SCIMGATE_WEBHOOK_ALLOW_HTTP": "true", "SCIMGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
            with server:
                api = lib.Api(server.url, key)
                # 1. sustained delivery of a backlog
                ep = api.call("POST", "/webhook_endpoints", {"endpoint_url": f"http://127.0.0.1:{rport}/hook"}, want=201)
                api.call("PATCH", f"/webhook_endpoints/{ep['id']}", {"status": "disabled"})
                total = 0
                for k in range(4):
                    d = api.new_directory(f"backlog{k}")
                    scim = lib.Scim(d["scim_url"], d["bearer_token"])
                    ids, _ = creates(scim, f"backlog{k}", args.backlog_users // 4)
                    g = scim.create_group(f"g{k}")
                    for i in range(0, len(ids), 100):
                        scim.add_members(g["id"], ids[i:i + 100])
                    total += sum(1 for e in api.all_events(directory_id=d["id"])
                                 if not e["event"].startswith("dsync.token."))
                dump(rport)
                t0 = time.time()
                api.call("PATCH", f"/webhook_endpoints/{ep['id']}", {"status": "enabled"})
                got = 0
                while got < total and time.time() - t0 < 300:
                    time.sleep(0.2)
                    got = len({e for _, e, _, _ in dump_keep(rport)})
                dt = max(at for at, _, _, _ in KEPT) - t0  # to the last arrival
                rows.append(("sustained delivery (backlog, 4 directories)",
                             f"{got} of {total} events in {dt:.2f} s = {got / dt:,.0f} events/s"))
                # 2. latency at a paced rate
                dump(rport)
                d = api.new_directory("latency")
                scim = lib.Scim(d["scim_url"], d["bearer_token"])
                answered = {}
                n = args.rate * args.seconds
                lock = threading.Lock()

                def paced(k, threads=4):
                    start = time.monotonic()
                    for i in range(k, n, threads):
                        due = start + i / args.rate
                        wait = due - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        u = scim.create_user(f"l{i}@example.com", "Lat", f"U{i}")
                        with lock:
                            answered[u["id"]] = time.time()

                ts = [threading.Thread(target=paced, args=(k,)) for k in range(4)]
                t_start = time.monotonic()
                [t.start() for t in ts]
                [t.join() for t in ts]
                achieved = n / (time.monotonic() - t_start)
                time.sleep(2)
                events = {e["id"]: e["data"]["id"] for e in api.all_events(directory_id=d["id"])
                          if e["event"] == "dsync.user.created"}
                lat = []
                for at, eid, _, _ in dump(rport):
                    uid = events.get(eid)
                    if uid in answered:
                        lat.append((at - answered[uid]) * 1000)
                lat.sort()
                p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
                rows.append((f"write response → webhook arrival at {achieved:.0f} creates/s ({len(lat)} of {n})",
                             f"p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms"))
                # 3. and 4.: A/B, alternated; the endpoint above (every directory) goes
                api.call("DELETE", f"/webhook_endpoints/{ep['id']}", want=(200, 202, 204))
                fast_org = api.create_organization(f"fast {os.getpid()}")
                api.call("POST", "/webhook_endpoints", {"endpoint_url": f"http://127.0.0.1:{rport}/hook",
                                                         "organization_id": fast_org["id"]}, want=201)
                slow = SlowReceiver(5.0)
                slow_org = api.create_organization(f"slow {os.getpid()}")
                api.call("POST", "/webhook_endpoints", {"endpoint_url": slow.url,
                                                         "organization_id": slow_org["id"]}, want=201)
                runs = {"none": [], "fast": [], "slow": []}
                for r in range(args.rounds):
                    for kind in ("none", "fast", "none", "slow"):
                        if kind == "none":
                            d = api.new_directory(f"none{r}{len(runs['none'])}")
                        else:
                            org = fast_org if kind == "fast" else slow_org
                            d = api.create_directory(org["id"], name=f"{kind}{r}")
                        _, secs = creates(lib.Scim(d["scim_url"], d["bearer_token"]), f"{kind}{r}.{len(runs[kind])}",
                                          args.creates)
                        runs[kind].append((args.creates / secs, LAST_P99[0]))
                        time.sleep(1)  # the fast receiver's deliveries end before the next run
                med = lambda kind, i: statistics.median(x[i] for x in runs[kind])  # noqa: E731
                rows.append((f"SCIM creates/s, 16 threads, medians of {args.rounds} alternated runs: no endpoint / with one",
                             f"{med('none', 0):,.0f} / {med('fast', 0):,.0f} ({med('fast', 0) / med('none', 0):.0%})"))
                rows.append((f"SCIM create p99, 16 threads, medians of {args.rounds} alternated runs: no endpoint / a 5 s receiver",
                             f"{med('none', 1):.1f} / {med('slow', 1):.1f} ms ({med('slow', 1) / med('none', 1):.0%})"))
    finally:
        receiver.terminate()
    for what, fig in rows:
        print(f"| {what} | {fig} |")


KEPT = []


def dump_keep(port):
    KEPT.extend(dump(port))
    return KEPT


if __name__ == "__main__":
    main()
