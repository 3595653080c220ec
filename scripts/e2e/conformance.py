#!/usr/bin/env python3
"""Replay every IdP trace of ../shared/conformance/traces, and ours of
connectors/tests/fixtures/traces/catalogue (the traces ../shared/docs/IDP-QUIRKS.md names but does
not publish, written from its catalogue), through ../shared/conformance/replay.py, with its event
checks, against a real scimgate on SQLite and on PostgreSQL + Redis.

Each trace gets a fresh organization and directory of the trace's IdP type, so its
expect_final counts and expect_events see only its own writes.

Usage: conformance.py [--backend sqlite|postgres|both] [TRACE.json ...]
Prints replay.py's output per trace, then one line per backend, and ends with 'N passed, N failed'
(traces). Exits non-zero if any trace fails.
"""

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

import lib

REPLAY = lib.SHARED / "conformance" / "replay.py"
CATALOGUE = lib.REPO / "connectors" / "tests" / "fixtures" / "traces" / "catalogue"


def replay(server, trace):
    """Run one trace against a new directory; returns (checks passed, checks failed)."""
    idp = json.loads(trace.read_text()).get("idp", "generic")
    api = lib.Api(server.url, server.api_key)
    directory = api.new_directory(f"conformance {idp}", lib.DIRECTORY_TYPES.get(idp, "generic scim v2.0"))
    cmd = [sys.executable, str(REPLAY), "--base", directory["scim_url"], "--token", directory["bearer_token"],
           "--api", server.url, "--api-key", server.api_key, "--directory-id", directory["id"], str(trace)]
    return lib.run_counted(cmd, timeout=300)


def run_backend(backend, traces):
    """Start a server on `backend` and replay all traces; returns the names of failed traces."""
    failed_traces = []
    with ExitStack() as stack:
        if backend == "sqlite":
            db_url = f"sqlite://{lib.WORK_DIR}/conformance-{lib.free_port()}.db"
            redis = None
        else:
            db_url = stack.enter_context(lib.PgDatabase("conformance")).url
            redis = lib.REDIS_URL
        server = stack.enter_context(lib.Server(db_url, lib.new_api_key(), redis, name=f"conformance-{backend}"))
        checks_p = checks_f = 0
        for trace in traces:
            lib.log(f"\n### [{backend}] {trace.name}")
            p, f = replay(server, trace)
            checks_p, checks_f = checks_p + p, checks_f + f
            if f:
                failed_traces.append(trace.name)
        if server.proc.poll() is not None:
            lib.log(f"scimgate exited during the replays with {server.proc.returncode}:\n{server.log_tail()}")
            failed_traces = [t.name for t in traces]
    lib.log(f"\n== conformance [{backend}]: {len(traces) - len(failed_traces)}/{len(traces)} traces passed, "
            f"{checks_p} checks passed, {checks_f} failed" + (f"; failing: {', '.join(failed_traces)}" if failed_traces else ""))
    return failed_traces


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("traces", nargs="*", type=Path)
    args = ap.parse_args()
    traces = args.traces
    if not traces:
        published = sorted((lib.SHARED / "conformance" / "traces").glob("*.json"))
        ours = sorted(CATALOGUE.glob("*.json"))
        if not published or not ours:
            sys.exit(f"no traces found under {lib.SHARED / 'conformance' / 'traces' if not published else CATALOGUE}")
        traces = published + ours
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = failures = 0
    for backend in backends:
        failed = run_backend(backend, traces)
        runs += len(traces)
        failures += len(failed)
    print(f"{runs - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
