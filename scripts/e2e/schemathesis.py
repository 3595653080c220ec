#!/usr/bin/env python3
"""Fuzz scimgate against its own OpenAPI document (GET /openapi.json) with schemathesis.

One backend per run (`--backend sqlite`, or `postgres` with Redis), on a fresh database: the
script starts the release binary with a bootstrap API key, makes an organization, a directory
(its SCIM token), a user and a group, and runs `schemathesis run` on every operation of the
document (vendor API and SCIM surface) within a time budget: the examples, coverage, fuzzing and
stateful phases, positive and negative data, the vendor operations authenticated with the API
key and the SCIM ones with the directory token (the document's two bearer schemes), SCIM
operations aimed at the directory made here (`path.directory_id`). Checks: not_a_server_error
and response_schema_conformance (every answer's status and body as the document says).

Passes when schemathesis reports 0 failures and 0 errors. Ends with 'N passed, N failed'
(schemathesis' suites: one per operation, and the stateful run; one fails when schemathesis found a failure in it); the junit and ndjson reports
and the server log are kept in $SCIMGATE_E2E_DIR.

Usage: schemathesis.py --backend sqlite|postgres [--max-time 240] [--seed 1]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import lib

CHECKS = "not_a_server_error,response_schema_conformance"


def schemathesis_bin():
    exe = Path(sys.executable).parent / "schemathesis"
    if exe.exists():
        return str(exe)
    found = shutil.which("schemathesis")
    if not found:
        raise SystemExit("schemathesis is not installed (scripts/e2e/requirements.txt)")
    return found


def seed_data(server, api_key):
    """What the run works on: an organization and a directory (its SCIM token) with a user and
    a group; and what its destructive operations may take, so that they cannot take those:
    a second API key, a second directory and a token of it."""
    api = lib.Api(server.url, api_key)
    directory = api.new_directory("schemathesis")
    scim = lib.Scim(directory["scim_url"], directory["bearer_token"])
    user = scim.create_user("ada@schemathesis.test", "Ada", "Lovelace", external_id="ada-1")
    scim.create_group("Engineering", [user["id"]])
    spare_key = api.call("POST", "/api_keys", {"name": "schemathesis spare", "scopes": ["admin"]}, want=201)
    spare_dir = api.new_directory("schemathesis spare")
    spare_token = api.call("POST", f"/directories/{spare_dir['id']}/tokens", {"name": "spare"}, want=201)
    return {
        "directory": directory,
        "spare_key": spare_key["id"],
        "spare_directory": spare_dir["id"],
        "spare_token": spare_token["id"],
    }


def write_config(path, api_key, made):
    """schemathesis.toml: the two bearer schemes' credentials, the directory of the SCIM
    operations; revoking an API key, deleting a directory and revoking a token aimed at the
    spares (schemathesis reuses ids seen in responses: it would revoke its own credentials and
    spend the rest of the run on 401s); Bulk's documented 501 (RFC 7644 §3.12: an operation the
    service provider does not support; ServiceProviderConfig says `bulk.supported: false`)."""
    directory = made["directory"]
    # TOML basic strings: the values are ids and tokens of [A-Za-z0-9_], nothing to escape
    path.write_text(
        "\n".join(
            [
                "[auth.openapi.api_key]",
                f'bearer = "{api_key}"',
                "[auth.openapi.directory_token]",
                f'bearer = "{directory["bearer_token"]}"',
                "[parameters]",
                f'"path.directory_id" = "{directory["id"]}"',
                "[[operations]]",
                'include-operation-id = "api_keys_revoke"',
                f'parameters = {{ "path.id" = "{made["spare_key"]}" }}',
                "[[operations]]",
                'include-operation-id = "directories_delete"',
                f'parameters = {{ "path.id" = "{made["spare_directory"]}" }}',
                "[[operations]]",
                'include-operation-id = "tokens_revoke"',
                f'parameters = {{ "path.id" = "{made["spare_directory"]}", "path.token_id" = "{made["spare_token"]}" }}',
                "[[operations]]",
                'include-operation-id = "scim_bulk_bulk"',
                'checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]',
                "",
            ]
        )
    )


def junit_counts(path):
    """(passed, failed, failures text) by operation from schemathesis' junit report."""
    passed, failed, notes = 0, 0, []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return 0, 1, [f"no junit report: {e}"]
    for case in root.iter("testcase"):
        bad = [c for c in case if c.tag in ("failure", "error")]
        skipped = any(c.tag == "skipped" for c in case)
        if bad:
            failed += 1
            notes.append(f"{case.get('name')}: {(bad[0].get('message') or bad[0].text or '').strip()[:400]}")
        elif not skipped:
            passed += 1
    return passed, failed, notes


def run(backend, database_url, redis_url, max_time, seed):
    api_key = lib.new_api_key()
    work = lib.WORK_DIR / f"schemathesis-{backend}"
    work.mkdir(parents=True, exist_ok=True)
    # Generated requests carry refused credentials and many requests a second: lock-outs
    # and request limits (tested by api/tests/vendor_http/limits.rs) are set out of reach.
    # Webhook endpoint URLs are generated too: without these, each is refused (400) after
    # a DNS lookup; with them, creation is accepted and deliveries fail quietly.
    env = {
        "SCIMGATE_AUTH_FAILURES_PER_MINUTE": "1000000",
        "SCIMGATE_API_REQUESTS_PER_MINUTE": "0",
        "SCIMGATE_SCIM_REQUESTS_PER_MINUTE": "0",
        "SCIMGATE_WEBHOOK_ALLOW_HTTP": "true",
        "SCIMGATE_WEBHOOK_ALLOW_PRIVATE": "true",
        "SCIMGATE_WEBHOOK_MAX_ATTEMPTS": "1",
        "SCIMGATE_WEBHOOK_TIMEOUT_MS": "500",
    }
    with lib.Server(database_url, api_key, redis_url, name=f"schemathesis-{backend}", env=env) as server:
        made = seed_data(server, api_key)
        directory = made["directory"]
        status, doc, _ = lib.http_request("GET", server.url + "/openapi.json")
        if status != 200 or not isinstance(doc, dict) or not doc.get("paths"):
            print(f"{backend}: GET /openapi.json answered {status}")
            return 0, 1
        operations = sum(len(v) for v in doc["paths"].values())
        lib.log(f"{backend}: {operations} operations in /openapi.json {doc.get('openapi')}")
        config = work / "schemathesis.toml"
        write_config(config, api_key, made)
        junit = work / "junit.xml"
        cmd = [
            schemathesis_bin(), "--no-color", "--config-file", str(config), "run",
            server.url + "/openapi.json",
            "--url", server.url,
            "--checks", CHECKS,
            "--phases", "examples,coverage,fuzzing,stateful",
            "--mode", "all",
            "--max-time", str(max_time),
            "--seed", str(seed),
            # one worker thread: CPython 3.11.7 (this machine's) keeps the AST module's
            # recursion depth per interpreter, so hypothesis parsing lambdas in two threads
            # at once can fail with "SystemError: AST constructor recursion depth mismatch"
            # (python/cpython gh-106905, fixed in 3.11.8); it failed a CI run that way
            "--workers", "1",
            "--request-timeout", "40",  # GET /events may long-poll up to 30 s
            "--generation-database", "none",
            "--suppress-health-check", "all",
            "--continue-on-failure",
            "--report", "junit,ndjson",
            "--report-dir", str(work),
            "--report-junit-path", str(junit),
        ]
        lib.log("$ " + " ".join(cmd).replace(api_key, "sk_…").replace(directory["bearer_token"], "…"))
        # cwd: any cache schemathesis or hypothesis keeps stays in the run's folder
        out = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=max_time + 240,
                             env={**os.environ, "NO_COLOR": "1"})
        text = out.stdout
        # the summary and the failures are at the end; the whole output is in the report folder
        (work / "schemathesis.out").write_text(text + out.stderr)
        print(text[-12000:], end="", flush=True)
        print(out.stderr[-3000:], end="", file=sys.stderr, flush=True)
        passed, failed, notes = junit_counts(junit)
        for n in notes:
            print(f"  FAILED {n}")
        if out.returncode != 0 and failed == 0:
            print(f"{backend}: schemathesis exited with {out.returncode} and no failure in its report")
            failed = 1
        print(f"{backend}: {passed} suites passed, {failed} failed (an operation each, and the stateful run; schemathesis exit {out.returncode})")
        return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), required=True)
    ap.add_argument("--max-time", type=int, default=240, help="seconds of testing (schemathesis --max-time)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.backend == "sqlite":
        url = f"sqlite://{lib.WORK_DIR / 'schemathesis-sqlite-db' / 'scimgate.db'}"
        (lib.WORK_DIR / "schemathesis-sqlite-db").mkdir(parents=True, exist_ok=True)
        passed, failed = run("sqlite", url, None, args.max_time, args.seed)
    else:
        with lib.PgDatabase("schemathesis") as db:
            passed, failed = run("postgres", db.url, lib.REDIS_URL, args.max_time, args.seed)
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
