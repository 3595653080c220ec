#!/usr/bin/env python3
"""Time list pages of one large directory on a running scimgate (standard library only).

    list_pages.py --base http://127.0.0.1:18190 --token TOKEN --api-key KEY --directory ID
                  [--offsets 1,10001,25001,45001] [--count 100] [--repeat 7]

For each offset: GET /scim/v2/{dir}/Users?startIndex=…&count=… (and /Groups with
--groups), and the vendor API's GET /directory_users?directory=…&limit=100 from the first
page and from a cursor at the same position. Prints the median and the spread of
--repeat sequential requests per page, in ms. The directory is expected to be filled
already (for example `scimbench.py --workloads create -n 50000`).
"""

import argparse
import json
import statistics
import time
import urllib.parse
import urllib.request


def timed(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        body = r.read()
    return (time.perf_counter() - t) * 1000, json.loads(body)


def series(url, token, repeat):
    times = []
    body = None
    for _ in range(repeat):
        ms, body = timed(url, token)
        times.append(ms)
    return times, body


def show(label, times):
    print(f"{label:58s} median {statistics.median(times):8.1f} ms   (min {min(times):.1f}, max {max(times):.1f})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--directory", required=True)
    ap.add_argument("--offsets", default="1,10001,25001,45001")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--groups", action="store_true")
    a = ap.parse_args()
    scim = f"{a.base}/scim/v2/{a.directory}"
    for off in [int(x) for x in a.offsets.split(",")]:
        for kind in ["Users"] + (["Groups"] if a.groups else []):
            times, body = series(f"{scim}/{kind}?startIndex={off}&count={a.count}", a.token, a.repeat)
            show(f"SCIM {kind} startIndex={off} count={a.count} (total {body.get('totalResults')})", times)
    d = urllib.parse.quote(a.directory)
    times, body = series(f"{a.base}/directory_users?directory={d}&limit=100", a.api_key, a.repeat)
    show("vendor /directory_users first page", times)
    # a cursor about halfway: walk there with the largest pages
    after = body["list_metadata"]["after"]
    for _ in range(249):
        _, page = timed(f"{a.base}/directory_users?directory={d}&limit=100&after={after}", a.api_key)
        if not page["list_metadata"]["after"]:
            break
        after = page["list_metadata"]["after"]
    times, _ = series(f"{a.base}/directory_users?directory={d}&limit=100&after={after}", a.api_key, a.repeat)
    show("vendor /directory_users page after ~25,000 users", times)


if __name__ == "__main__":
    main()
