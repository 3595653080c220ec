#!/usr/bin/env python3
"""The WorkOS Python SDK (`workos` on PyPI) against scimgate. Run by sdk.py, which starts the
server, creates the data and passes SCIMGATE_URL, SCIMGATE_API_KEY and SCIMGATE_FIXTURE.

Every call must deserialize without errors (the SDK raises on missing required fields and bad
timestamps) and return exactly the ids the fixture expects. One PASS/FAIL line per check; ends
with 'N passed, N failed'.
"""

import importlib.metadata
import json
import os
import sys
import traceback

from workos import WorkOSClient
from workos.events.models import EventSchemaUnknown

FX = json.load(open(os.environ["SCIMGATE_FIXTURE"]))
client = WorkOSClient(api_key=os.environ["SCIMGATE_API_KEY"], base_url=os.environ["SCIMGATE_URL"],
                      max_retries=0)
ds = client.directory_sync
passed = failed = 0

DIRS = FX["directories"]
USERS = {k: u for k, u in FX["users"].items() if not u["deleted"]}
GROUPS = FX["groups"]
ORG_A = FX["organizations"]["A"]
DSYNC_EVENTS = ["dsync.user.created", "dsync.user.updated", "dsync.user.deleted", "dsync.group.created",
                "dsync.group.updated", "dsync.group.deleted", "dsync.group.user_added", "dsync.group.user_removed"]


def check(name):
    """Decorator: run the check now, print PASS or FAIL with the SDK's exception."""
    def run(fn):
        global passed, failed
        try:
            fn()
            passed += 1
            print(f"PASS  python {name}", flush=True)
        except Exception as e:  # an SDK deserialization error is a failure to report, not a crash
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"FAIL  python {name}  -- {type(e).__name__}: {e} (at {where.filename.split('site-packages/')[-1]}:"
                  f"{where.lineno})", flush=True)
    return run


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def ids(items):
    return [x.id for x in items]


def user_ids(*keys):
    return {USERS[k]["id"] for k in keys}


def keys_in(directory, table):
    return [k for k, v in table.items() if v["directory"] == directory]


def page_through(fn, limit, **kw):
    """Follow list_metadata.after from the first page until it is null or a page is empty (the
    events API keeps a cursor on its last page, for polling); returns (ids, non-empty pages)."""
    pages = [fn(limit=limit, **kw)]
    while pages[-1].list_metadata.after:
        if len(pages) > 100:
            raise AssertionError("more than 100 pages: list_metadata.after never ends")
        page = fn(limit=limit, after=pages[-1].list_metadata.after, **kw)
        if not page.data:
            break
        eq(len(pages[-1].data), limit, "a page before the last one is full")
        pages.append(page)
    return [i for p in pages for i in ids(p.data)], pages


def check_cursors(fn, limit, **kw):
    """Paging forward with `after` and back with `before` gives the unpaged list, in order."""
    full = ids(fn(limit=100, **kw).data)
    paged, pages = page_through(fn, limit, **kw)
    eq(paged, full, "ids paged with after (in order)")
    if len(pages) >= 2:
        before = pages[1].list_metadata.before
        if not before:
            raise AssertionError("page 2 has no list_metadata.before")
        eq(ids(fn(limit=limit, before=before, **kw).data), ids(pages[0].data), "page before page 2")
    asc = ids(fn(limit=100, order="asc", **kw).data)
    eq(asc, list(reversed(full)), "order=asc is the reverse of the default (desc)")


def reference_events(names, organization_id=None):
    return [e for e in FX["events"] if e["event"] in names
            and (organization_id is None or e["organization_id"] == organization_id)]


# ---- directories ----------------------------------------------------------------------------
@check("list_directories: every directory, fields parsed")
def _():
    got = {d.id: d for d in ds.list_directories(limit=100).data}
    for key, d in DIRS.items():
        if d["id"] not in got:
            raise AssertionError(f"directory {key} ({d['id']}) missing")
        eq((got[d["id"]].organization_id, got[d["id"]].type.value, got[d["id"]].name),
           (d["organization_id"], d["type"], d["name"]), f"directory {key}")


@check("list_directories(organization_id)")
def _():
    eq(set(ids(ds.list_directories(organization_id=ORG_A, limit=100).data)),
       {DIRS["A1"]["id"], DIRS["A2"]["id"]}, "directories of organization A")


@check("list_directories: after/before/limit paging")
def _():
    check_cursors(ds.list_directories, 1)


@check("get_directory")
def _():
    d = ds.get_directory(DIRS["A1"]["id"])
    eq((d.id, d.organization_id, d.type.value, d.name),
       (DIRS["A1"]["id"], DIRS["A1"]["organization_id"], DIRS["A1"]["type"], DIRS["A1"]["name"]), "directory A1")
    if not isinstance(d.state.value, str) or d.state.value not in ("linked", "unlinked", "validating",
                                                                    "invalid_credentials", "deleting"):
        raise AssertionError(f"state {d.state.value!r} is not a REST directory state")


# ---- users ----------------------------------------------------------------------------------
@check("list_users(directory): ids, email, names, state")
def _():
    got = {u.id: u for u in ds.list_users(directory=DIRS["A1"]["id"], limit=100).data}
    eq(set(got), user_ids(*keys_in("A1", USERS)), "users of A1 (deleted user absent)")
    for key in keys_in("A1", USERS):
        u, want = got[USERS[key]["id"]], USERS[key]
        eq((u.email, u.first_name, u.last_name, u.state.value, u.directory_id, u.organization_id),
           (want["email"], want["first_name"], want["last_name"], want["state"], DIRS["A1"]["id"],
            DIRS["A1"]["organization_id"]), f"user {key}")


@check("list_users(group)")
def _():
    g = GROUPS["A1.g1"]
    eq(set(ids(ds.list_users(group=g["id"], limit=100).data)), user_ids(*g["members"]), "members of A1.g1")


@check("list_users: after/before/limit paging")
def _():
    check_cursors(ds.list_users, 2, directory=DIRS["A1"]["id"])


@check("list_users: auto_paging_iter")
def _():
    full = ids(ds.list_users(directory=DIRS["A1"]["id"], limit=100).data)
    eq(ids(ds.list_users(directory=DIRS["A1"]["id"], limit=2).auto_paging_iter()), full, "auto-paged ids")


@check("get_user")
def _():
    want = USERS["A1.u3"]
    u = ds.get_user(want["id"])
    eq((u.id, u.email, u.state.value, u.directory_id), (want["id"], want["email"], "active", DIRS["A1"]["id"]),
       "user A1.u3")
    # `groups` is deprecated: WorkOS returns [] for new teams; if filled it must be right
    if u.groups:
        eq({g.id for g in u.groups}, {GROUPS[k]["id"] for k in want["groups"]}, "groups of A1.u3")


@check("get_user: deactivated user")
def _():
    eq(ds.get_user(USERS["A1.u5"]["id"]).state.value, "inactive", "state of A1.u5")


# ---- groups ---------------------------------------------------------------------------------
@check("list_groups(directory)")
def _():
    got = {g.id: g for g in ds.list_groups(directory=DIRS["A1"]["id"], limit=100).data}
    eq(set(got), {GROUPS[k]["id"] for k in keys_in("A1", GROUPS)}, "groups of A1")
    for key in keys_in("A1", GROUPS):
        eq(got[GROUPS[key]["id"]].name, GROUPS[key]["name"], f"name of {key}")


@check("list_groups(user)")
def _():
    want = USERS["A1.u3"]
    eq(set(ids(ds.list_groups(user=want["id"], limit=100).data)), {GROUPS[k]["id"] for k in want["groups"]},
       "groups of A1.u3")


@check("list_groups: after/before/limit paging")
def _():
    check_cursors(ds.list_groups, 1, directory=DIRS["A1"]["id"])


@check("get_group")
def _():
    want = GROUPS["A1.g2"]
    g = ds.get_group(want["id"])
    eq((g.id, g.name, g.directory_id, g.organization_id),
       (want["id"], want["name"], DIRS["A1"]["id"], DIRS["A1"]["organization_id"]), "group A1.g2")


# ---- events ---------------------------------------------------------------------------------
def list_events(**kw):
    page = client.events.list_events(**kw)
    unknown = [e.raw_data.get("event") for e in page.data if isinstance(e, EventSchemaUnknown)]
    if unknown:
        raise AssertionError(f"SDK did not recognise events {unknown}")
    return page


@check("list_events(events=[dsync.user.created]) asc: ids and data")
def _():
    ref = reference_events(["dsync.user.created"])
    page = list_events(events=["dsync.user.created"], order="asc", limit=100)
    eq(ids(page.data), [e["id"] for e in ref], "event ids")
    eq([e.data.id for e in page.data], [e["data_id"] for e in ref], "data.id")
    eq(len(ref), len(FX["users"]), "one dsync.user.created per created user")


@check("list_events default order (desc)")
def _():
    ref = reference_events(["dsync.user.created"])
    eq(ids(list_events(events=["dsync.user.created"], limit=100).data), [e["id"] for e in reversed(ref)],
       "event ids, newest first")


@check("list_events(events=[2 types], organization_id): membership events")
def _():
    names = ["dsync.group.user_added", "dsync.group.user_removed"]
    ref = reference_events(names, ORG_A)
    page = list_events(events=names, organization_id=ORG_A, order="asc", limit=100)
    eq(ids(page.data), [e["id"] for e in ref], "event ids")
    eq([(e.data.user.id, e.data.group.id) for e in page.data], [(e["user_id"], e["group_id"]) for e in ref],
       "data.user.id / data.group.id")
    if not ref:
        raise AssertionError("no membership events in organization A")


@check("list_events(events=[dsync.user.updated]): deactivation with previous_attributes")
def _():
    page = list_events(events=["dsync.user.updated"], order="asc", limit=100)
    deact = [e for e in page.data if e.data.id == USERS["A1.u5"]["id"]]
    eq([(e.data.state.value, (e.data.previous_attributes or {}).get("state")) for e in deact],
       [("inactive", "active")], "updates of A1.u5")


@check("list_events: after paging with limit")
def _():
    ref = [e["id"] for e in reference_events(DSYNC_EVENTS)]
    got, _ = page_through(lambda **kw: list_events(events=DSYNC_EVENTS, order="asc", **kw), 3)
    eq(got, ref, "event ids paged by 3")


@check("list_events: auto_paging_iter")
def _():
    ref = [e["id"] for e in reference_events(DSYNC_EVENTS, ORG_A)]
    page = list_events(events=DSYNC_EVENTS, organization_id=ORG_A, order="asc", limit=4)
    eq(ids(page.auto_paging_iter()), ref, "auto-paged event ids")


@check("list_events: directory-level events (dsync.activated, dsync.deleted, dsync.token.*)")
def _():
    names = ["dsync.activated", "dsync.deleted", "dsync.token.created", "dsync.token.revoked"]
    ref = reference_events(names)
    page = list_events(events=names, order="asc", limit=100)
    eq(ids(page.data), [e["id"] for e in ref], "event ids")
    eq({e.event for e in page.data}, set(names), "every directory-level event type present")
    deleted = [e.data.id for e in page.data if e.event == "dsync.deleted"]
    eq(deleted, [FX["deleted_directory"]], "dsync.deleted data.id")
    tokens = {e.data.directory_id for e in page.data if e.event.startswith("dsync.token.")}
    if DIRS["A1"]["id"] not in tokens:
        raise AssertionError(f"no dsync.token.* event for directory A1 (got {tokens})")


print(f"# workos (Python) {importlib.metadata.version('workos')} against {os.environ['SCIMGATE_URL']}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
