"""Shared helpers for scimgate's out-of-process tests (stdlib only).

- paths: the repository, ../shared beside it, the release binary
- http_request(): one JSON request on a per-thread keep-alive connection
- PgDatabase: a fresh PostgreSQL database per run, dropped afterwards
- Server: a `scimgate serve` process on a free port, ready when /readyz answers 200
- Api: the vendor API (organizations, directories, events) with an API key
- Scim: a directory's SCIM endpoint with its bearer token
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# CI clones the repository next to a copy of shared/, so shared/ is always ../shared.
SHARED = REPO.parent / "shared"
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/scimgate-ci-target"))
BINARY = Path(os.environ.get("SCIMGATE_BIN", TARGET_DIR / "release" / "scimgate"))
PG_ADMIN_URL = os.environ.get("SCIMGATE_E2E_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SCIMGATE_E2E_REDIS", "redis://127.0.0.1:6379")
# Databases are named PREFIX_label_random; .ci/run sets a per-run prefix and drops them all at exit.
DB_PREFIX = os.environ.get("SCIMGATE_E2E_DB_PREFIX", f"scimgate_e2e_{os.getpid()}")
# Where server logs and data of a run go; .ci/run points it at its own run folder.
WORK_DIR = Path(os.environ.get("SCIMGATE_E2E_DIR") or tempfile.mkdtemp(prefix="scimgate-e2e-"))

# SCIM directory type (WorkOS name) for each trace's "idp"
DIRECTORY_TYPES = {
    "okta": "okta scim v2.0",
    "entra": "azure scim v2.0",
    "jumpcloud": "jump cloud scim v2.0",
    "ping": "pingfederate scim v2.0",
    "onelogin": "onelogin scim v2.0",
    "rippling": "rippling scim v2.0",
    "generic": "generic scim v2.0",
}

# A timeout's SIGTERM unwinds like an exception, so servers are stopped and databases dropped.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def log(*parts):
    print(*parts, flush=True)


# One keep-alive connection per thread and server: the concurrency test makes tens of thousands
# of requests, and a new TCP connection for each would exhaust loopback ports (TIME_WAIT).
_connections = threading.local()


def _connection(netloc, timeout):
    pool = _connections.__dict__.setdefault("pool", {})
    conn = pool.get(netloc)
    if conn is None:
        conn = pool[netloc] = http.client.HTTPConnection(netloc, timeout=timeout)
    conn.timeout = timeout
    if conn.sock is not None:
        conn.sock.settimeout(timeout)
    return conn


def http_request(method, url, body=None, token=None, timeout=30, content_type="application/json"):
    """One request; returns (status, parsed JSON or None, text). Status 0 = no connection.
    A request on a kept-alive connection that the server had closed is sent again once on a new
    connection (the server never saw it); any other transport error is returned as status 0."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = "Bearer " + token
    for attempt in (1, 2):
        conn = _connection(parts.netloc, timeout)
        reused = conn.sock is not None
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            status, raw = resp.status, resp.read()
            if resp.will_close:
                conn.close()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
            conn.close()
            if not (reused and attempt == 1):
                return 0, None, f"{type(e).__name__}: {e}"
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            return 0, None, f"{type(e).__name__}: {e}"
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    return status, parsed, text


def expect(status, parsed, text, want, what):
    """Raise unless the status is `want` (an int or a tuple of ints); returns the parsed body."""
    wants = want if isinstance(want, tuple) else (want,)
    if status not in wants:
        raise RuntimeError(f"{what}: HTTP {status} (want {want}): {text[:500]}")
    return parsed


TOTALS_RE = re.compile(r"^(\d+) passed, (\d+) failed$")


def run_counted(cmd, env=None, timeout=600):
    """Run a script that ends with 'N passed, N failed', echoing its output; returns
    (passed, failed). A crash, or a non-zero exit with no failure counted, counts as one failure."""
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    print(out.stdout, end="", flush=True)
    print(out.stderr, end="", file=sys.stderr, flush=True)
    lines = out.stdout.strip().splitlines()
    m = TOTALS_RE.match(lines[-1]) if lines else None
    if not m:
        log(f"{cmd[1] if len(cmd) > 1 else cmd[0]}: no 'N passed, N failed' line (exit {out.returncode})")
        return 0, 1
    passed, failed = int(m.group(1)), int(m.group(2))
    return passed, failed + (1 if out.returncode and not failed else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_api_key():
    return "sk_test_" + secrets.token_hex(16)


class PgDatabase:
    """A fresh, uniquely named PostgreSQL database, dropped on exit (`with PgDatabase() as db`)."""

    def __init__(self, label="e2e"):
        self.name = f"{DB_PREFIX}_{label}_{secrets.token_hex(3)}"
        self.url = f"{PG_ADMIN_URL}/{self.name}"

    def _psql(self, sql):
        subprocess.run(["psql", f"{PG_ADMIN_URL}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
                       check=True, stdout=subprocess.DEVNULL)

    def __enter__(self):
        self._psql(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc):
        self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Server:
    """A `scimgate serve` process. Use as a context manager; stop() ends it with SIGTERM."""

    def __init__(self, database_url, api_key, redis_url=None, name="scimgate", env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.api_key = api_key
        self.data_dir = WORK_DIR / f"{name}-{self.port}"
        self.log_path = WORK_DIR / f"{name}-{self.port}.log"
        self.env = {
            **os.environ,
            "SCIMGATE_DATABASE_URL": database_url,
            "SCIMGATE_LISTEN": f"127.0.0.1:{self.port}",
            "SCIMGATE_PUBLIC_URL": self.url,
            "SCIMGATE_BOOTSTRAP_API_KEY": api_key,
            "SCIMGATE_DATA_DIR": str(self.data_dir),
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
        }
        self.env.update(env or {})
        if redis_url:
            self.env["SCIMGATE_REDIS_URL"] = redis_url
        else:
            self.env.pop("SCIMGATE_REDIS_URL", None)
        self.proc = None

    def start(self, timeout=60):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} not found: build it with `cargo build --release -p scimgate-api`")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(BINARY), "serve"], env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scimgate exited with {self.proc.returncode}:\n{self.log_tail()}")
            status, _, _ = http_request("GET", self.url + "/readyz", timeout=2)
            if status == 200:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"scimgate not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"scimgate on port {self.port} ignored SIGTERM for {timeout}s; killing it")
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *_):
        code = self.stop()
        # a crash on shutdown is a bug too (unless the test is already failing for another reason)
        if exc_type is None and code not in (0, None):
            raise RuntimeError(f"scimgate on port {self.port} exited with {code} after SIGTERM:\n{self.log_tail()}")


class Api:
    """The vendor API of one server (or of any instance sharing its database)."""

    def __init__(self, base_url, api_key):
        self.base = base_url.rstrip("/")
        self.key = api_key

    def call(self, method, path, body=None, params=None, want=200, timeout=30):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        return expect(*http_request(method, url, body, self.key, timeout), want, f"{method} {path}")

    def create_organization(self, name):
        return self.call("POST", "/organizations", {"name": name}, want=(200, 201))

    def create_directory(self, organization_id, dtype="generic scim v2.0", name=None):
        body = {"organization_id": organization_id, "type": dtype, "name": name or dtype}
        return self.call("POST", "/directories", body, want=(200, 201))

    def new_directory(self, label, dtype="generic scim v2.0"):
        """A new organization with one directory; returns the directory (with scim_url and bearer_token)."""
        org = self.create_organization(f"{label} {secrets.token_hex(3)}")
        return self.create_directory(org["id"], dtype, f"{label} directory")

    def events_page(self, **params):
        return self.call("GET", "/events", params={k: v for k, v in params.items() if v is not None},
                         timeout=60)

    def all_events(self, after=None, **params):
        """Every event after the cursor, oldest first, following list_metadata.after."""
        out = []
        while True:
            page = self.events_page(after=after, order="asc", limit=100, **params)
            out.extend(page["data"])
            if not page["data"]:
                return out
            after = page["data"][-1]["id"]

    def last_event_id(self):
        page = self.events_page(order="desc", limit=1)
        return page["data"][0]["id"] if page["data"] else None


class Scim:
    """One directory's SCIM endpoint. Methods return the parsed body and raise on an unexpected status."""

    def __init__(self, scim_url, token):
        self.base = scim_url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, want=200):
        return expect(*http_request(method, self.base + path, body, self.token, content_type="application/scim+json"),
                      want, f"SCIM {method} {path}")

    def create_user(self, user_name, given, family, active=True, external_id=None):
        body = {"schemas": [SCIM_USER], "userName": user_name, "active": active,
                "externalId": external_id or user_name,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": user_name, "type": "work", "primary": True}]}
        return self.call("POST", "/Users", body, want=201)

    def patch(self, resource, rid, operations):
        return self.call("PATCH", f"/{resource}/{rid}", {"schemas": [SCIM_PATCH], "Operations": operations},
                         want=(200, 204))

    def deactivate_user(self, uid):
        return self.patch("Users", uid, [{"op": "replace", "value": {"active": False}}])

    def create_group(self, name, member_ids=()):
        body = {"schemas": [SCIM_GROUP], "displayName": name, "externalId": name,
                "members": [{"value": m} for m in member_ids]}
        return self.call("POST", "/Groups", body, want=201)

    def add_members(self, gid, user_ids):
        return self.patch("Groups", gid, [{"op": "add", "path": "members",
                                           "value": [{"value": u} for u in user_ids]}])

    def remove_member(self, gid, uid):
        return self.patch("Groups", gid, [{"op": "remove", "path": f'members[value eq "{uid}"]'}])

    def delete(self, resource, rid):
        return self.call("DELETE", f"/{resource}/{rid}", want=204)

