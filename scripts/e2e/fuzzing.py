#!/usr/bin/env python3
"""Run the robustness fuzzer (fuzz.py) against scimgate on SQLite and on PostgreSQL (with
Redis), each on a fresh database, with a fixed seed and a time budget per backend.

Fails on any finding: a 5xx, a stalled or reset connection, a crash, an error body not in
its surface's shape, or a rejected request that changed state (see fuzz.py).

Usage: fuzzing.py [--seed 1] [--budget 75]
Ends with 'N passed, N failed' (backends).
"""

import argparse
import subprocess
import sys

import lib

FUZZ = lib.REPO / "scripts" / "e2e" / "fuzz.py"


def run(label, database_url, redis_url, seed, budget):
    api_key = lib.new_api_key()
    # The fuzzer sends thousands of refused credentials on purpose, some with the real
    # tokens' prefixes: lock-outs (tested by api/tests/vendor_http/limits.rs) would turn
    # its later valid requests into 429s, so they are set out of its reach here.
    limits = {"SCIMGATE_AUTH_FAILURES_PER_MINUTE": "1000000", "SCIMGATE_API_REQUESTS_PER_MINUTE": "0",
              "SCIMGATE_SCIM_REQUESTS_PER_MINUTE": "0"}
    with lib.Server(database_url, api_key, redis_url, name=f"fuzz-{label}", env=limits) as server:
        cmd = [sys.executable, str(FUZZ), "--base", server.url, "--api-key", api_key,
               "--seed", str(seed), "--budget", str(budget), "--label", label,
               "--report", str(lib.WORK_DIR / f"fuzz-{label}.json")]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=budget + 300)
        print(out.stdout[-6000:], end="", flush=True)
        print(out.stderr[-3000:], end="", file=sys.stderr, flush=True)
        print(f"{label}: fuzz.py exited with {out.returncode}", flush=True)
        return out.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=int, default=75, help="seconds of fuzzing per backend")
    args = ap.parse_args()
    results = []
    sqlite_url = f"sqlite://{lib.WORK_DIR / 'fuzz-sqlite' / 'scimgate.db'}"
    results.append(run("sqlite", sqlite_url, None, args.seed, args.budget))
    with lib.PgDatabase("fuzz") as db:
        results.append(run("postgres", db.url, lib.REDIS_URL, args.seed, args.budget))
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
