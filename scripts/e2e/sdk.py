#!/usr/bin/env python3
"""The official WorkOS SDKs as real clients of scimgate (issue 3).

Starts scimgate on a fresh PostgreSQL database with Redis, creates data over SCIM (two
organizations, three directories, users, groups, memberships, a deactivation and a deletion; then
a token rotation and a directory deleted through the vendor API),
writes what it created to a fixture file, then runs
  - sdk_python.py      (PyPI `workos`, pinned in requirements.txt) and
  - node/sdk.mjs       (npm `@workos-inc/node`, pinned in node/package.json)
against the server. Each prints PASS/FAIL lines and 'N passed, N failed'.

Usage: sdk.py [--only python|node]
Ends with 'N passed, N failed' summed over both SDKs. Exits non-zero on any failure.
"""

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

import lib

HERE = Path(__file__).resolve().parent


def populate(api):
    """Create the data set over SCIM; returns the fixture (everything the SDK checks expect)."""
    fx = {"organizations": {}, "directories": {}, "users": {}, "groups": {}}
    layout = {  # organization -> directory key -> type
        "A": {"A1": "okta scim v2.0", "A2": "azure scim v2.0"},
        "B": {"B1": "generic scim v2.0"},
    }
    tag = secrets.token_hex(3)
    for org_key, dirs in layout.items():
        org = api.create_organization(f"SDK org {org_key} {tag}")
        fx["organizations"][org_key] = org["id"]
        for dkey, dtype in dirs.items():
            d = api.create_directory(org["id"], dtype, f"SDK directory {dkey}")
            fx["directories"][dkey] = {"id": d["id"], "organization_id": org["id"], "type": dtype,
                                       "name": f"SDK directory {dkey}"}
            scim = lib.Scim(d["scim_url"], d["bearer_token"])
            n_users = 6 if dkey == "A1" else 2
            users = []
            for i in range(1, n_users + 1):
                key = f"{dkey}.u{i}"
                email = f"user{i}.{dkey.lower()}.{tag}@example.com"
                u = scim.create_user(email, f"First{i}", f"Last{i}")
                users.append(key)
                fx["users"][key] = {"id": u["id"], "directory": dkey, "email": email, "first_name": f"First{i}",
                                    "last_name": f"Last{i}", "state": "active", "groups": [], "deleted": False}
            # groups: A1 has two overlapping groups, the others one group with every user
            plan = ({"g1": users[0:3], "g2": users[2:4]} if dkey == "A1" else {"g1": users})
            for gname, members in plan.items():
                gkey = f"{dkey}.{gname}"
                # the first member is added at creation, the rest by PATCH (both paths emit user_added)
                g = scim.create_group(f"{gname} of {dkey} {tag}", [fx["users"][members[0]]["id"]])
                if members[1:]:
                    scim.add_members(g["id"], [fx["users"][m]["id"] for m in members[1:]])
                fx["groups"][gkey] = {"id": g["id"], "directory": dkey, "name": f"{gname} of {dkey} {tag}",
                                      "members": list(members)}
                for m in members:
                    fx["users"][m]["groups"].append(gkey)
            if dkey == "A1":
                # a deactivation (user 5) and a deletion (user 6, a member of g2 when deleted)
                scim.deactivate_user(fx["users"]["A1.u5"]["id"])
                fx["users"]["A1.u5"]["state"] = "inactive"
                scim.add_members(fx["groups"]["A1.g2"]["id"], [fx["users"]["A1.u6"]["id"]])
                scim.delete("Users", fx["users"]["A1.u6"]["id"])
                fx["users"]["A1.u6"]["deleted"] = True
    # directory-level events: a token rotation on A1, and a directory B2 that is activated then deleted
    a1 = fx["directories"]["A1"]["id"]
    token = api.call("POST", f"/directories/{a1}/tokens", {"name": "rotation"}, want=(200, 201))
    api.call("DELETE", f"/directories/{a1}/tokens/{token['id']}", want=(200, 202, 204))
    b2 = api.create_directory(fx["organizations"]["B"], "generic scim v2.0", "SDK directory B2 (deleted)")
    u = lib.Scim(b2["scim_url"], b2["bearer_token"]).create_user(f"b2.{tag}@example.com", "B", "Two")
    fx["users"]["B2.u1"] = {"id": u["id"], "directory": "B2", "email": f"b2.{tag}@example.com", "first_name": "B",
                            "last_name": "Two", "state": "active", "groups": [], "deleted": True}
    api.call("DELETE", f"/directories/{b2['id']}", want=(200, 202, 204))
    fx["deleted_directory"] = b2["id"]
    # the reference event stream, read with plain HTTP: the SDKs must list the same ids
    fx["events"] = [{"id": e["id"], "event": e["event"], "organization_id": e.get("organization_id"),
                     "directory_id": e.get("directory_id"), "data_id": (e.get("data") or {}).get("id"),
                     "user_id": ((e.get("data") or {}).get("user") or {}).get("id"),
                     "group_id": ((e.get("data") or {}).get("group") or {}).get("id")}
                    for e in api.all_events()]
    return fx


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["python", "node"])
    args = ap.parse_args()
    clients = {
        "python": [sys.executable, str(HERE / "sdk_python.py")],
        "node": ["node", str(HERE / "node" / "sdk.mjs")],
    }
    if args.only:
        clients = {args.only: clients[args.only]}
    totals = {}
    with lib.PgDatabase("sdk") as db, lib.Server(db.url, lib.new_api_key(), lib.REDIS_URL, name="sdk") as server:
        fixture = populate(lib.Api(server.url, server.api_key))
        fixture_path = lib.WORK_DIR / "sdk-fixture.json"
        fixture_path.write_text(json.dumps(fixture, indent=2))
        lib.log(f"fixture: {len(fixture['users'])} users, {len(fixture['groups'])} groups, "
                f"{len(fixture['events'])} events -> {fixture_path}")
        env = {**os.environ, "SCIMGATE_URL": server.url, "SCIMGATE_API_KEY": server.api_key,
               "SCIMGATE_FIXTURE": str(fixture_path)}
        for name, cmd in clients.items():
            lib.log(f"\n### {name}: {' '.join(cmd)}")
            totals[name] = lib.run_counted(cmd, env=env)
    for name, (p, f) in totals.items():
        lib.log(f"== SDK {name}: {p} passed, {f} failed")
    passed = sum(p for p, _ in totals.values())
    failed = sum(f for _, f in totals.values())
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
