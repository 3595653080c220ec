#!/usr/bin/env python3
"""Run scim2-tester (through ../shared/bench/run_scim2_tester.py) against scimgate on a fresh
PostgreSQL database with Redis, and fail unless every check succeeds.

SUCCESS, COMPLIANT (a SHOULD followed) and ACCEPTABLE (a MAY used) count as passed; SKIPPED checks
are listed and not counted; DEVIATION, ERROR and CRITICAL fail.

Usage: scim2tester.py [--json-out FILE]
Ends with 'N passed, N failed' (checks). Exits non-zero on any failed check.
"""

import argparse
import collections
import json
import subprocess
import sys

import lib

RUNNER = lib.SHARED / "bench" / "run_scim2_tester.py"
PASSED = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}
NEUTRAL = {"SKIPPED"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json-out", default=str(lib.WORK_DIR / "scim2-tester.json"))
    args = ap.parse_args()
    with lib.PgDatabase("scim2tester") as db, \
            lib.Server(db.url, lib.new_api_key(), lib.REDIS_URL, name="scim2-tester") as server:
        directory = lib.Api(server.url, server.api_key).new_directory("scim2-tester")
        out = subprocess.run([sys.executable, str(RUNNER), "--base-url", directory["scim_url"],
                              "--token", directory["bearer_token"], "--json-out", args.json_out],
                             capture_output=True, text=True, timeout=900)
        print(out.stdout, end="", flush=True)
        print(out.stderr, end="", file=sys.stderr, flush=True)
        if out.returncode != 0:
            print(f"run_scim2_tester.py exited with {out.returncode}")
            print("0 passed, 1 failed")
            sys.exit(1)
    report = json.load(open(args.json_out))
    by = collections.Counter(r["status"] for r in report["results"])
    passed = sum(n for s, n in by.items() if s in PASSED)
    failed = sum(n for s, n in by.items() if s not in PASSED | NEUTRAL)
    for r in report["results"]:
        if r["status"] in NEUTRAL:
            print(f"  [{r['status']}] {r.get('resource_type') or ''} {r['title']}: {(r.get('reason') or '')[:200]}")
    print(f"== scim2-tester: {len(report['results'])} checks: "
          + ", ".join(f"{s}={n}" for s, n in sorted(by.items())) + f" (details: {args.json_out})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
