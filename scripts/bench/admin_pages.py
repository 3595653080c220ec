#!/usr/bin/env python3
"""Time the admin UI's pages on a running scimgate with a large tenant set (standard library only).

    admin_pages.py --base http://127.0.0.1:18190 --api-key KEY --email ops@x.test --password PW
                   [--orgs 1000] [--users 100000] [--threads 16] [--repeat 40]

Seeds --orgs organizations over the vendor API and one Okta directory of --users users over
SCIM (POST /Users from --threads threads; skipped when an organization named
"bench-admin-0" exists, reusing its directory), logs in as the operator (the operator must
exist: `scimgate admins create`), then requests each dashboard page --repeat times in a row
and prints its median and p95 server-side wall time as seen by the client, in ms. The
server must run with SCIMGATE_PUBLIC_URL equal to --base (the login form checks Origin).
"""

import argparse
import concurrent.futures
import http.cookiejar
import json
import re
import statistics
import time
import urllib.parse
import urllib.request


def api(base, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def seed(a):
    orgs = api(a.base, a.api_key, "GET", "/organizations?limit=100&order=asc")["data"]
    existing = [o for o in orgs if o["name"] == "bench-admin-0"]
    if existing:
        org = existing[0]["id"]
        dirs = api(a.base, a.api_key, "GET", f"/directories?organization_id={org}")["data"]
        return org, dirs[0]["id"]
    t = time.perf_counter()
    ids = [api(a.base, a.api_key, "POST", "/organizations",
               {"name": f"bench-admin-{i}", "domains": [f"bench{i}.test"]})["id"] for i in range(a.orgs)]
    d = api(a.base, a.api_key, "POST", "/directories",
            {"organization_id": ids[0], "type": "okta scim v2.0", "name": "bench"})
    print(f"{a.orgs} organizations in {time.perf_counter() - t:.1f} s")
    scim, token = d["scim_url"], d["bearer_token"]

    def create(i):
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": f"user{i:06d}@bench.test", "name": {"givenName": "U", "familyName": f"N{i}"},
                "emails": [{"value": f"user{i:06d}@bench.test", "primary": True}], "active": True}
        req = urllib.request.Request(f"{scim}/Users", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/scim+json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()

    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        list(ex.map(create, range(a.users)))
    print(f"{a.users} users in {time.perf_counter() - t:.1f} s")
    return ids[0], d["id"]


def login(a):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{a.base}/admin/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": a.email, "password": a.password, "csrf": csrf}).encode()
    req = urllib.request.Request(f"{a.base}/admin/login", data=form, headers={"Origin": a.base})
    opener.open(req).read()
    return opener


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=40)
    a = ap.parse_args()
    org, directory = seed(a)
    users = api(a.base, a.api_key, "GET", f"/directory_users?directory={directory}&limit=1")["data"]
    user = users[0]["id"]
    opener = login(a)
    pages = [
        ("organizations (first page)", "/admin"),
        ("organizations search", "/admin?q=admin-99"),
        ("organization", f"/admin/organizations/{org}"),
        ("directory (counts, sync health, tokens)", f"/admin/directories/{directory}"),
        ("users (first page)", f"/admin/directories/{directory}/users"),
        ("users by email", f"/admin/directories/{directory}/users?email=user050000%40bench.test"),
        ("users by name (a word of the family name)", f"/admin/directories/{directory}/users?name=N50000"),
        ("users by name (a word starting 1 % of names)", f"/admin/directories/{directory}/users?name=N12"),
        ("users by name (a word starting 11 % of names)", f"/admin/directories/{directory}/users?name=N1"),
        ("users by name (a word every user's name starts)", f"/admin/directories/{directory}/users?name=u"),
        ("users by state (inactive: none)", f"/admin/directories/{directory}/users?state=inactive"),
        ("users by state (active: all)", f"/admin/directories/{directory}/users?state=active"),
        ("groups", f"/admin/directories/{directory}/groups"),
        ("user (fields, groups, roles, events)", f"/admin/users/{user}"),
        ("events", "/admin/events"),
        ("events fragment (the 2 s poll)", f"/admin/events/fragment?directory={directory}"),
    ]
    for label, path in pages:
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            with opener.open(f"{a.base}{path}") as r:
                r.read()
                assert r.status == 200, (path, r.status)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{label:50s} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
