#!/usr/bin/env python3
"""Webhooks verified by independent implementations (issue 15).

For SQLite and for PostgreSQL + Redis: starts scimgate and a receiver (an HTTP server in this
process that records every request's raw body and headers), creates a webhook endpoint and data
over SCIM (users, a group with members, a deactivation, a deletion), waits for every event of
`GET /events` to arrive, then checks each delivery with
  - the Python `workos` SDK's `webhooks.verify_event` (WorkOS-Signature),
  - `standardwebhooks`' `Webhook.verify` (webhook-id / -timestamp / -signature),
  - the Node SDK's `webhooks.constructEvent` (node/webhooks.mjs, @workos-inc/node 8.13),
and the order (each directory's `sequence` strictly increasing). Then rotates the secret:
later deliveries verify with the new secret (WorkOS-Signature), with the old one
(WorkOS-Signature-Previous, during the overlap), and with both (webhook-signature).

Ends with 'N passed, N failed'; exits non-zero on any failure.
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from standardwebhooks.webhooks import Webhook
from workos import WorkOSClient

import lib

HERE = Path(__file__).resolve().parent
RESULTS = {"passed": 0, "failed": 0}


def check(ok, what):
    RESULTS["passed" if ok else "failed"] += 1
    lib.log(("PASS " if ok else "FAIL ") + what)
    return ok


class Receiver:
    """Records every POST (raw body, headers); answers 200."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.got.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body.decode("utf-8")})
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def deliveries(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.httpd.shutdown()


def wait_for(rcv, ids, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {json.loads(d["body"])["id"] for d in rcv.deliveries()}
        if ids <= got:
            return True
        time.sleep(0.1)
    return False


def populate(api, tag, n_users=4):
    d = api.create_directory(api.create_organization(f"webhooks {tag}")["id"], "okta scim v2.0",
                             f"webhooks {tag}")
    scim = lib.Scim(d["scim_url"], d["bearer_token"])
    users = [scim.create_user(f"wh{i}.{tag}@example.com", f"First{i}", f"Last{i}") for i in range(n_users)]
    g = scim.create_group(f"Engineering {tag}", [users[0]["id"]])
    scim.add_members(g["id"], [u["id"] for u in users[1:3]])
    scim.remove_member(g["id"], users[1]["id"])
    scim.deactivate_user(users[2]["id"])
    scim.delete("Users", users[3]["id"])
    return d["id"]


def verify_all(deliveries, secret, label, previous=None):
    """Every delivery through the Python SDK and standardwebhooks; the Node SDK after."""
    sdk = WorkOSClient(api_key="sk_test_unused", client_id="client_unused")
    for d in deliveries:
        body, h = d["body"], d["headers"]
        eid = json.loads(body)["id"]
        try:
            ev = sdk.webhooks.verify_event(event_body=body.encode(), event_signature=h["workos-signature"],
                                           secret=secret)
            ok = getattr(ev, "id", None) == eid
        except Exception as e:  # noqa: BLE001 - any refusal is the failure reported
            ok, ev = False, e
        check(ok, f"{label}: python workos verify_event {eid} ({ev if not ok else 'ok'})")
        try:
            Webhook(secret).verify(body, {k: h[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")})
            ok = True
        except Exception as e:  # noqa: BLE001
            ok = False
            lib.log(f"  standardwebhooks: {e}")
        check(ok, f"{label}: standardwebhooks verify {eid}")
        if previous:
            try:
                sdk.webhooks.verify_event(event_body=body.encode(),
                                          event_signature=h.get("workos-signature-previous", ""), secret=previous)
                ok = True
            except Exception as e:  # noqa: BLE001
                ok = False
                lib.log(f"  previous secret: {e}")
            check(ok, f"{label}: python workos verify_event with the previous secret (WorkOS-Signature-Previous) {eid}")
            try:
                Webhook(previous).verify(body, {k: h[k] for k in ("webhook-id", "webhook-timestamp",
                                                                  "webhook-signature")})
                ok = True
            except Exception as e:  # noqa: BLE001
                ok = False
            check(ok, f"{label}: standardwebhooks verify with the previous secret {eid}")
    # the Node SDK, over the same deliveries
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"secret": secret, "previous": previous, "deliveries": deliveries}, f)
        path = f.name
    passed, failed = lib.run_counted(["node", str(HERE / "node" / "webhooks.mjs"), path],
                                     env={**os.environ, "LABEL": label}, timeout=120)
    RESULTS["passed"] += passed
    RESULTS["failed"] += failed
    os.unlink(path)


def run(backend, database_url, redis_url):
    label = backend
    rcv = Receiver()
    api_key = lib.new_api_key()
    server = lib.Server(database_url, api_key, redis_url=redis_url, name=f"webhooks-{backend}")
    server.env.update({"SCIMGATE_WEBHOOK_ALLOW_HTTP": "true", "SCIMGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
    with server:
        api = lib.Api(server.url, api_key)
        ep = api.call("POST", "/webhook_endpoints", {"endpoint_url": rcv.url}, want=201)
        secret = ep["secret"]
        dirs = [populate(api, f"{backend}{i}") for i in range(2)]
        want = {d: [e for e in api.all_events(directory_id=d) if not e["event"].startswith("dsync.token.")]
                for d in dirs}
        ids = {e["id"] for es in want.values() for e in es}
        check(wait_for(rcv, ids), f"{label}: all {len(ids)} events delivered")
        got = rcv.deliveries()
        for d in dirs:
            seqs = [json.loads(x["body"])["sequence"] for x in got if json.loads(x["body"])["directory_id"] == d]
            check(seqs == [e["sequence"] for e in want[d]], f"{label}: {d} delivered once each, in sequence order")
        by_id = {e["id"]: e for es in want.values() for e in es}
        check(all(json.loads(x["body"]) == by_id[json.loads(x["body"])["id"]] for x in got),
              f"{label}: each body is the event as GET /events renders it")
        verify_all(got, secret, label)
        # rotation: the new secret signs WorkOS-Signature, the old one WorkOS-Signature-Previous
        rot = api.call("POST", f"/webhook_endpoints/{ep['id']}/rotate_secret", {"overlap_seconds": 3600})
        n = len(got)
        d2 = populate(api, f"{backend}rot", n_users=4)
        ids2 = {e["id"] for e in api.all_events(directory_id=d2) if not e["event"].startswith("dsync.token.")}
        check(wait_for(rcv, ids2), f"{label}: events after the rotation delivered")
        verify_all(rcv.deliveries()[n:], rot["secret"], f"{label} rotated", previous=secret)
        health = api.call("GET", f"/webhook_endpoints/{ep['id']}")["health"]
        check(health["state"] == "healthy" and health["undelivered"] == 0, f"{label}: endpoint healthy: {health}")
    rcv.close()


def main():
    try:
        with tempfile.TemporaryDirectory(prefix="scimgate-wh-") as tmp:
            run("sqlite", f"sqlite://{tmp}/scimgate.db", None)
        with lib.PgDatabase("webhooks") as db:
            run("postgres", db.url, lib.REDIS_URL)
    except Exception as e:  # noqa: BLE001 - reported as a failure with its cause
        check(False, f"run: {e!r}")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed", flush=True)
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
