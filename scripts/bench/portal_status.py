#!/usr/bin/env python3
"""How soon the setup portal's status panel shows an IdP's request (docs/BENCHMARKS.md).

    portal_status.py --base http://127.0.0.1:18190 --api-key KEY [--rounds 20] [--scim-via URL]

Makes an organization, a setup link, opens it and picks Okta as the IT admin's browser
does, then polls `/portal/status` as the page's script does (a long poll: `wait=25` and
the `ETag` of the panel shown, one request a second at most). Meanwhile, --rounds times
each, 1.5 to 3 s apart (so that the panel's "last request", to the second, always
changes): a SCIM create (the user count changes, woken by the commit's notice) and a
SCIM lookup (only the last request changes, woken by the sync-health flush). Printed:
per kind, the delay from sending the SCIM request to the poll's answer showing a new
panel (median, p95, max), and the status requests the page made per second.
"""
import argparse
import http.cookiejar
import json
import random
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--scim-via", default=None,
                    help="send the SCIM requests to this instance instead (another instance on the "
                         "same database and Redis: the page's poll is woken across instances)")
    a = ap.parse_args()

    def api(method, path, body):
        req = urllib.request.Request(f"{a.base}{path}", data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {a.api_key}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    org = api("POST", "/organizations", {"name": f"portal-bench-{random.randrange(10**9)}"})["id"]
    link = api("POST", "/portal/generate_link", {"organization": org, "intent": "dsync"})["link"]
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path, form):
        req = urllib.request.Request(f"{a.base}{path}", data=urllib.parse.urlencode(form).encode(),
                                     headers={"Origin": a.base})
        with browser.open(req) as r:
            return r.read().decode()

    page = browser.open(link).read().decode()
    post("/portal/start", {"token": re.search(r'name="token" value="([^"]+)"', page).group(1)})
    pick = browser.open(f"{a.base}/portal").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', pick).group(1)
    setup = post("/portal/idp", {"csrf": csrf, "type": "okta scim v2.0"})
    scim = re.search(r'id="scim-url"[^>]*value="([^"]+)"', setup).group(1)
    token = re.search(r'id="scim-token"[^>]*value="([^"]+)"', setup).group(1)
    if a.scim_via:
        scim = a.scim_via + scim[len(a.base):]

    changes, polls, stop = [], [0], threading.Event()

    def poller():
        seen = None
        while not stop.is_set():
            started = time.monotonic()
            url = f"{a.base}/portal/status"
            if seen is not None:
                url += "?wait=25&seen=" + urllib.parse.quote(seen)
            with browser.open(url) as r:
                r.read()
                v = r.headers.get("ETag")
            polls[0] += 1
            if seen is not None and v != seen:
                changes.append(time.monotonic())
            seen = v
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    t = threading.Thread(target=poller, daemon=True)
    t.start()
    time.sleep(2)

    def scim_request(method, path, body=None):
        req = urllib.request.Request(f"{scim}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/scim+json"})
        with urllib.request.urlopen(req) as r:
            r.read()

    delays = {"create": [], "lookup": []}
    t0 = time.monotonic()
    polls[0] = 0
    for i in range(a.rounds):
        for kind in ("create", "lookup"):
            time.sleep(random.uniform(1.5, 3.0))
            n = len(changes)
            sent = time.monotonic()
            if kind == "create":
                scim_request("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                "userName": f"u{i}@portal.test", "active": True})
            else:
                scim_request("GET", f"/Users?filter=userName%20eq%20%22u{i}%40portal.test%22")
            deadline = sent + 10
            while len(changes) == n and time.monotonic() < deadline:
                time.sleep(0.005)
            if len(changes) > n:
                delays[kind].append((changes[n] - sent) * 1000)
            else:
                delays[kind].append(float("inf"))
    wall = time.monotonic() - t0
    stop.set()
    for kind, d in delays.items():
        d.sort()
        p95 = d[max(0, int(len(d) * 0.95) - 1)]
        print(f"{kind:6s} request → new panel: median {statistics.median(d):6.0f} ms   p95 {p95:6.0f} ms   "
              f"max {d[-1]:6.0f} ms   ({len(d)} requests)")
    print(f"status requests: {polls[0] / wall:.2f} a second")


if __name__ == "__main__":
    main()
