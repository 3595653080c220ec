#!/usr/bin/env python3
"""Events under concurrent writes on two scimgate instances sharing PostgreSQL and Redis (issue 3).

Each round creates fresh directories, then runs in parallel:
  - writer threads creating, renaming, deactivating/reactivating and deleting their own users and
    adding/removing them to/from the directories' shared groups, every request sent to one of the
    two instances at random, every directory written by several writers at once;
  - one reader paging GET /events?after=...&order=asc over all directories, and one reader per
    directory with directory_id=..., each also alternating between the instances,
until the writers are done and every reader has drained the stream. Then it checks that
  1. each reader saw exactly the events that a final read returns, each once, in the same order;
  2. per directory, `sequence` runs 1, 2, ... N in stream order with no gap or repeat;
  3. per directory, the events are exactly the ones the acknowledged writes must produce, and per
     user in the order the writer made its changes (a deletion's user_removed events in any order
     among themselves, before dsync.user.deleted).
Variant `paging` reads with plain requests; variant `longpoll` waits with `wait=SECONDS`.

Usage: concurrency.py [--rounds 5] [--variant paging|longpoll|both] [--writers 8] [--directories 3]
                      [--ops 150] [--time-budget 420]
Ends with 'N passed, N failed' (rounds). Exits non-zero if any round fails.
"""

import argparse
import collections
import random
import secrets
import sys
import threading
import time

import lib

IGNORED = ("dsync.activated", "dsync.token.created", "dsync.token.revoked")


class Round:
    """One round: directories, shared groups, the expected events, and the failures found."""

    def __init__(self, apis, n_dirs, groups_per_dir=2):
        self.problems = []
        self.lock = threading.Lock()
        self.baseline = apis[0].last_event_id()
        self.dirs = []  # [{id, scims: [Scim per instance], groups: [ids]}]
        # per directory: expected (event, user, group) multiset; per user: ordered expectations
        self.expected = collections.defaultdict(collections.Counter)
        self.per_user = collections.defaultdict(list)
        self.acknowledged = 0
        self.reads_during_writes = 0
        for i in range(n_dirs):
            d = apis[i % len(apis)].new_directory(f"concurrency {i}")
            scims = [lib.Scim(f"{a.base}/scim/v2/{d['id']}", d["bearer_token"]) for a in apis]
            groups = [scims[0].create_group(f"group {g} {secrets.token_hex(2)}")["id"] for g in range(groups_per_dir)]
            for gid in groups:
                self.expected[d["id"]][("dsync.group.created", None, gid)] += 1
            self.dirs.append({"id": d["id"], "scims": scims, "groups": groups})

    def fail(self, msg):
        with self.lock:
            self.problems.append(msg)

    def expect(self, directory_id, user_id, *items):
        """Record an acknowledged write and the events it must produce, in order: each item is
        (event, group) or a set of them (an unordered block)."""
        with self.lock:
            self.acknowledged += 1
            for item in items:
                for event, gid in (item if isinstance(item, frozenset) else [item]):
                    self.expected[directory_id][(event, user_id, gid)] += 1
                self.per_user[user_id].append(item)


def writer(rnd, wid, n_ops, seed):
    """Make n_ops changes to this writer's own users, spread over every directory and instance."""
    rng = random.Random(seed)
    users = []  # [{id, dir, active, groups: set, n}]
    for op in range(n_ops):
        d = rnd.dirs[(wid + op) % len(rnd.dirs)]
        scim = rng.choice(d["scims"])
        mine = [u for u in users if u["dir"] is d]
        kind = rng.choices(["create", "rename", "toggle", "join", "leave", "delete"], [25, 20, 15, 20, 10, 10])[0]
        if not mine or (kind == "join" and all(len(u["groups"]) == len(d["groups"]) for u in mine)) \
                or (kind == "leave" and not any(u["groups"] for u in mine)):
            kind = "create"
        try:
            if kind == "create":
                name = f"w{wid}.{op}.{secrets.token_hex(3)}@example.com"
                u = scim.create_user(name, f"W{wid}", f"Op{op}")
                users.append({"id": u["id"], "dir": d, "active": True, "groups": set(), "n": 0})
                rnd.expect(d["id"], u["id"], ("dsync.user.created", None))
            elif kind == "rename":
                u = rng.choice(mine)
                u["n"] += 1
                scim.patch("Users", u["id"], [{"op": "replace", "path": "name.givenName", "value": f"W{wid}r{u['n']}"}])
                rnd.expect(d["id"], u["id"], ("dsync.user.updated", None))
            elif kind == "toggle":
                u = rng.choice(mine)
                u["active"] = not u["active"]
                scim.patch("Users", u["id"], [{"op": "replace", "path": "active", "value": u["active"]}])
                rnd.expect(d["id"], u["id"], ("dsync.user.updated", None))
            elif kind == "join":
                u = rng.choice([u for u in mine if len(u["groups"]) < len(d["groups"])])
                gid = rng.choice([g for g in d["groups"] if g not in u["groups"]])
                scim.add_members(gid, [u["id"]])
                u["groups"].add(gid)
                rnd.expect(d["id"], u["id"], ("dsync.group.user_added", gid))
            elif kind == "leave":
                u = rng.choice([u for u in mine if u["groups"]])
                gid = rng.choice(sorted(u["groups"]))
                scim.remove_member(gid, u["id"])
                u["groups"].discard(gid)
                rnd.expect(d["id"], u["id"], ("dsync.group.user_removed", gid))
            else:
                u = rng.choice(mine)
                scim.delete("Users", u["id"])
                users.remove(u)
                removals = [frozenset(("dsync.group.user_removed", g) for g in u["groups"])] if u["groups"] else []
                rnd.expect(d["id"], u["id"], *removals, ("dsync.user.deleted", None))
        except Exception as e:  # an unacknowledged write: its effect is unknown, the round fails
            rnd.fail(f"writer {wid} op {op} ({kind}) via {scim.base}: {e}")
            return


def reader(rnd, apis, out, done, wait, directory_id=None, limit=25):
    """Page /events after the round's baseline (or from the start of one directory) until the
    writers are done and a read started after that returns nothing."""
    cursor = None if directory_id else rnd.baseline
    n = 0
    while True:
        finished = done.is_set()
        if not finished:
            rnd.reads_during_writes += 1
        params = {"after": cursor, "order": "asc", "limit": limit, "directory_id": directory_id}
        if wait and not finished:
            params["wait"] = wait
        try:
            page = apis[n % len(apis)].events_page(**params)
        except Exception as e:
            rnd.fail(f"reader {directory_id or 'all'}: {e}")
            return
        n += 1
        out.extend(page["data"])
        if page["data"]:
            cursor = page["data"][-1]["id"]
            after = page.get("list_metadata", {}).get("after")
            if after not in (None, cursor):
                rnd.fail(f"reader {directory_id or 'all'}: list_metadata.after={after} but last id is {cursor}")
        elif finished:
            return


def describe(ev):
    d = ev.get("data") or {}
    subject = (d.get("user") or {}).get("id") or d.get("id")
    return f"{ev['id']} {ev['event']} seq={ev.get('sequence')} dir={ev.get('directory_id')} subject={subject}"


def check_stream(rnd, label, got, want):
    """The reader's events must equal the final read: no event missed, none twice, same order."""
    ids = [e["id"] for e in got]
    dupes = [i for i, c in collections.Counter(ids).items() if c > 1]
    if dupes:
        rnd.fail(f"{label}: {len(dupes)} events seen more than once, e.g. {dupes[:3]}")
    want_ids = [e["id"] for e in want]
    missed = [e for e in want if e["id"] not in set(ids)]
    if missed:
        rnd.fail(f"{label}: missed {len(missed)} of {len(want)} events, e.g. " + "; ".join(describe(e) for e in missed[:3]))
    extra = set(ids) - set(want_ids)
    if extra:
        rnd.fail(f"{label}: {len(extra)} events the final read does not have, e.g. {sorted(extra)[:3]}")
    if not (dupes or missed or extra) and ids != want_ids:
        first = next(i for i, (a, b) in enumerate(zip(ids, want_ids)) if a != b)
        rnd.fail(f"{label}: same events in another order; first difference at #{first}: {ids[first]} vs {want_ids[first]}")


def check_directory(rnd, d, events):
    """Sequence 1..N in stream order; the events the writes must produce, per user in order."""
    seqs = [e.get("sequence") for e in events]
    if seqs != list(range(1, len(seqs) + 1)):
        bad = next((i for i, s in enumerate(seqs) if s != i + 1), None)
        rnd.fail(f"directory {d}: sequences are not 1..{len(seqs)}: at #{bad + 1} got {seqs[bad]} "
                 f"(around: {seqs[max(0, bad - 3):bad + 4]})")
    got = collections.Counter()
    by_user = collections.defaultdict(list)
    for e in events:
        if e["event"] in IGNORED:
            continue
        data = e.get("data") or {}
        if e["event"] in ("dsync.group.user_added", "dsync.group.user_removed"):
            uid, gid = (data.get("user") or {}).get("id"), (data.get("group") or {}).get("id")
        elif e["event"].startswith("dsync.group."):
            uid, gid = None, data.get("id")
        else:
            uid, gid = data.get("id"), None
        got[(e["event"], uid, gid)] += 1
        if uid:
            by_user[uid].append((e["event"], gid))
    want = rnd.expected[d]
    if got != want:
        missing, unexpected = want - got, got - want
        rnd.fail(f"directory {d}: events differ from the acknowledged writes: missing {sum(missing.values())} "
                 f"{list(missing)[:3]}, unexpected {sum(unexpected.values())} {list(unexpected)[:3]}")
        return
    for uid, actual in by_user.items():
        pos = 0
        for item in rnd.per_user[uid]:
            block = item if isinstance(item, frozenset) else frozenset([item])
            if sorted(actual[pos:pos + len(block)]) != sorted(block):
                rnd.fail(f"directory {d}: user {uid} events out of order at #{pos}: got {actual[pos:pos + 3]}, "
                         f"want {sorted(block)}")
                break
            pos += len(block)


def guarded(rnd, fn, *args):
    """Thread body: any exception fails the round instead of vanishing with the thread."""
    try:
        fn(rnd, *args)
    except Exception as e:
        rnd.fail(f"{fn.__name__} crashed: {type(e).__name__}: {e}")


def run_round(apis, args, variant, number):
    started = time.monotonic()
    rnd = Round(apis, args.directories)
    done = threading.Event()
    wait = args.wait if variant == "longpoll" else 0
    seen_all = []
    seen_dir = {d["id"]: [] for d in rnd.dirs}
    readers = [threading.Thread(target=guarded, args=(rnd, reader, apis, seen_all, done, wait))]
    readers += [threading.Thread(target=guarded, args=(rnd, reader, apis, seen_dir[d], done, wait, d, 10))
                for d in seen_dir]
    writers = [threading.Thread(target=guarded, args=(rnd, writer, w, args.ops, f"{args.seed}-{variant}-{number}-{w}"))
               for w in range(args.writers)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join(timeout=120)
        if t.is_alive():
            rnd.fail("a reader did not drain the stream within 120 s")
    final = apis[0].all_events(after=rnd.baseline)
    own = {d["id"] for d in rnd.dirs}
    foreign = [e for e in final if e.get("directory_id") not in own]
    if foreign:
        rnd.fail(f"{len(foreign)} events of other directories appeared, e.g. {describe(foreign[0])}")
    check_stream(rnd, "reader (all directories)", seen_all, final)
    for d, seen in seen_dir.items():
        mine = [e for e in final if e.get("directory_id") == d]
        check_stream(rnd, f"reader (directory_id={d})", seen, mine)
        check_directory(rnd, d, mine)
    writes = rnd.acknowledged
    if writes != args.writers * args.ops:
        rnd.fail(f"only {writes} of {args.writers * args.ops} writes were acknowledged")
    lib.log(f"{'PASS' if not rnd.problems else 'FAIL'}  {variant} round {number}: {args.writers} writers, "
            f"{writes} acknowledged writes, {len(final)} events over {len(rnd.dirs)} directories, "
            f"{rnd.reads_during_writes} reads during the writes, "
            f"{time.monotonic() - started:.1f} s")
    for p in rnd.problems[:20]:
        lib.log(f"      {p}")
    return not rnd.problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds per variant")
    ap.add_argument("--variant", choices=["paging", "longpoll", "both"], default="both")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--directories", type=int, default=3)
    ap.add_argument("--ops", type=int, default=150, help="writes per writer per round")
    ap.add_argument("--wait", type=int, default=5, help="long-poll seconds in the longpoll variant")
    ap.add_argument("--seed", default=secrets.token_hex(4), help="seed of the writers' choices")
    ap.add_argument("--time-budget", type=float, default=420,
                    help="start no new round after this many seconds (each variant runs at least once)")
    args = ap.parse_args()
    variants = ["paging", "longpoll"] if args.variant == "both" else [args.variant]
    key = lib.new_api_key()
    started = time.monotonic()
    results = []
    with lib.PgDatabase("concurrency") as db, \
            lib.Server(db.url, key, lib.REDIS_URL, name="concurrency-a") as a, \
            lib.Server(db.url, key, lib.REDIS_URL, name="concurrency-b") as b:
        apis = [lib.Api(a.url, key), lib.Api(b.url, key)]
        lib.log(f"instances: {a.url} and {b.url} on {db.name} with Redis; seed {args.seed}")
        for variant in variants:
            for number in range(1, args.rounds + 1):
                if number > 1 and time.monotonic() - started > args.time_budget:
                    lib.log(f"time budget of {args.time_budget:.0f} s spent: {variant} stops after {number - 1} rounds")
                    break
                try:
                    results.append(run_round(apis, args, variant, number))
                except Exception as e:  # setup or final read failed: report it with the instances' state
                    lib.log(f"FAIL  {variant} round {number}: {type(e).__name__}: {e}")
                    results.append(False)
                dead = [s for s in (a, b) if s.proc.poll() is not None]
                for s in dead:
                    # a negative code is the signal that ended it (-9 SIGKILL, -11 SIGSEGV, -15 SIGTERM)
                    lib.log(f"instance {s.url} exited with {s.proc.returncode}; its log ends:\n{s.log_tail()}")
                if dead:
                    results.append(False)
                    break
            else:
                continue
            break
    print(f"{results.count(True)} passed, {results.count(False)} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
