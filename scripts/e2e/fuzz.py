#!/usr/bin/env python3
"""Black-box robustness fuzzer for a running scimgate (Python standard library only).

With the API key it creates its own organizations, one directory of every SCIM type and one in
another organization, a few users, groups, tokens and role mappings, then sends malformed and
hostile requests to the SCIM and vendor APIs, one at a time, and records a finding for:

  5xx          any 5xx answer (except 501 from /Bulk, which is documented)
  transport    a connection reset / refused / closed without an answer, or no answer in --timeout
  slow         an answer slower than 5 s (plus the long-poll `wait=` the request asked for)
  down         the server stopped answering /healthz (crash)
  error-body   an error answer whose body is not JSON; a SCIM error without the RFC 7644 error
               URN in `schemas` or without `status` equal to the HTTP status; a vendor error
               without `code` and `message`
  ok-body      a 2xx answer (other than 204/HEAD) whose body is not JSON (NDJSON for snapshots)
  isolation    a 2xx for a request that had to be refused (another directory's token or resource,
               a credential that is not valid)
  state        a request that got an error (4xx, 5xx or no answer) changed state: the directory's
               event stream, its users or its groups (SCIM), or organizations, directories,
               tokens, role mappings, attribute mappings or the global event stream (vendor API)
  read-failed  a state read used for the checks above failed (e.g. data stored by an accepted
               request that can no longer be listed)

Cases: a fixed corpus (every route x every method, credentials, Content-Types, malformed bodies,
every attribute x every kind of JSON type, every filter operator on every attribute, PATCH paths,
list and paging parameters, identifiers, If-Match, vendor bodies and list/`/events` parameters,
state transitions followed by reads, HTTP protocol oddities) and --iterations random cases from
the same generators, merged category by category in proportion, so that a run stopped by --budget
has covered a share of every category. Requests are sequential. What is sent is a function of
--seed only (server-generated ids aside); --only N replays case N alone after the same setup.

Usage:
  fuzz.py --base http://127.0.0.1:18555 --api-key sk_... [--seed 1] [--iterations 1500]
          [--budget 170] [--timeout 15] [--only N] [--report findings.json] [--label sqlite] [--keep] [-v]

The directories created are deleted at the end (--keep keeps them); organizations stay (the API
has no way to delete one). Keep the load light: one request at a time, ~200-400 requests/s.

Exit status: 0 no finding, 1 findings, 2 setup failed.
"""

import argparse
import hashlib
import http.client
import json
import random
import re
import socket
import sys
import time
import urllib.parse

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"

DIRECTORY_TYPES = [
    "okta scim v2.0", "azure scim v2.0", "generic scim v2.0", "jump cloud scim v2.0",
    "onelogin scim v2.0", "pingfederate scim v2.0", "rippling scim v2.0", "cyberark scim v2.0",
    "sailpoint scim v2.0",
]
EVENT_NAMES = [
    "dsync.activated", "dsync.deleted", "dsync.user.created", "dsync.user.updated",
    "dsync.user.deleted", "dsync.group.created", "dsync.group.updated", "dsync.group.deleted",
    "dsync.group.user_added", "dsync.group.user_removed", "dsync.token.created",
    "dsync.token.revoked",
]
SLOW_SECONDS = 5.0
# The longest request target (path and query) actix-http hands to the application: the `http`
# crate's `Uri` holds at most 65,534 bytes, and a longer one fails to parse inside the HTTP/1
# decoder, which answers 400 with no body and closes the connection before any route (or the
# SCIM error renderer) sees the request. Such answers are checked for 5xx, transport errors and
# state changes like any other, but not for their body.
MAX_REQUEST_TARGET = 65_534
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO", "get"]


# --------------------------------------------------------------------------------------------
# HTTP


class _Conn(http.client.HTTPConnection):
    """http.client without its client-side checks: raw bytes (as latin-1 characters) and
    control characters may go into the request line."""

    def _validate_path(self, url):
        pass

    def _validate_host(self, host):
        pass

    def _encode_request(self, request):
        return request.encode("latin-1", "replace")


class Resp:
    __slots__ = ("status", "headers", "body", "elapsed", "error")

    def __init__(self, status, headers, body, elapsed, error=None):
        self.status, self.headers, self.body = status, headers, body
        self.elapsed, self.error = elapsed, error

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None


class Http:
    def __init__(self, base, timeout):
        u = urllib.parse.urlsplit(base)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.conn = None
        self.sent = 0

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def send(self, method, path, headers=(), body=None, chunked=False, timeout=None, retry=True):
        timeout = timeout or self.timeout
        self.sent += 1
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = _Conn(self.host, self.port, timeout=timeout)
            else:
                self.conn.timeout = timeout
                if self.conn.sock is not None:
                    self.conn.sock.settimeout(timeout)
            t0 = time.monotonic()
            send_err = None
            try:
                c = self.conn
                c.putrequest(method, self.prefix + path, skip_host=True, skip_accept_encoding=True)
                names = {k.lower() for k, _ in headers}
                if "host" not in names:
                    c.putheader("Host", f"{self.host}:{self.port}")
                for k, v in headers:
                    c.putheader(k, v)
                if body is not None:
                    if chunked:
                        c.putheader("Transfer-Encoding", "chunked")
                    elif "content-length" not in names:
                        c.putheader("Content-Length", str(len(body)))
                c.endheaders()
                if body is not None and (body or chunked):
                    try:
                        if chunked:
                            for i in range(0, len(body), 7000):
                                ch = body[i:i + 7000]
                                c.send(b"%x\r\n" % len(ch) + ch + b"\r\n")
                            c.send(b"0\r\n\r\n")
                        else:
                            c.send(body)
                    except (BrokenPipeError, ConnectionResetError) as e:
                        # the server may have answered early (413) and closed: read the answer
                        send_err = e
                r = c.getresponse()
                data = r.read()
                elapsed = time.monotonic() - t0
                hdrs = {}
                for k, v in r.getheaders():
                    hdrs.setdefault(k.lower(), v)
                if r.will_close or send_err is not None:
                    self.close()
                return Resp(r.status, hdrs, data, elapsed)
            except (socket.timeout, TimeoutError):
                self.close()
                return Resp(0, {}, b"", time.monotonic() - t0, f"no answer within {timeout}s")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if not fresh and attempt == 1 and retry:
                    continue  # a kept-alive connection the server had closed: once more, fresh
                what = f"{type(e).__name__}: {e}"
                if send_err is not None:
                    what += f" (sending the body failed first: {type(send_err).__name__})"
                return Resp(0, {}, b"", time.monotonic() - t0, what)
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.close()
                return Resp(0, {}, b"", time.monotonic() - t0, f"{type(e).__name__}: {e}")
        return Resp(0, {}, b"", 0.0, "unreachable")

    def send_raw(self, data, timeout=None):
        """Send exact bytes on a new connection and read until the server closes it (the
        request should say `Connection: close`). Returns the first response parsed loosely."""
        timeout = timeout or self.timeout
        self.sent += 1
        t0 = time.monotonic()
        buf = b""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as s:
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                while True:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        break
                    if not chunk:
                        break
                    buf += chunk
                    if len(buf) > 4 << 20:
                        break
        except (socket.timeout, TimeoutError):
            if not buf:
                return Resp(0, {}, b"", time.monotonic() - t0, f"no answer within {timeout}s")
        except OSError as e:
            return Resp(0, {}, b"", time.monotonic() - t0, f"{type(e).__name__}: {e}")
        elapsed = time.monotonic() - t0
        if not buf:
            return Resp(0, {}, b"", elapsed, "connection closed without an answer")
        head, _, rest = buf.partition(b"\r\n\r\n")
        while re.match(rb"HTTP/1\.[01] 1\d\d", head) and rest.startswith(b"HTTP/"):
            head, _, rest = rest.partition(b"\r\n\r\n")  # skip 100 Continue
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            return Resp(0, {}, buf, elapsed, f"unparsable answer {buf[:80]!r}")
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hdrs.setdefault(k.strip().lower().decode("latin-1"), v.strip().decode("latin-1"))
        n = int(hdrs.get("content-length", "0") or 0) if hdrs.get("content-length", "").isdigit() else len(rest)
        return Resp(int(m.group(1)), hdrs, rest[:n], elapsed)


# --------------------------------------------------------------------------------------------
# Generators of hostile values


def q(s):
    """Percent-encode a path segment or query value (str, or bytes for raw bytes)."""
    return urllib.parse.quote(s, safe="")


def rand_unicode(rng, n):
    """n random code points from many planes (no surrogates): incompressible, multi-byte."""
    out = []
    for _ in range(n):
        c = rng.choice([rng.randint(0x21, 0x7E), rng.randint(0xA1, 0x2FF), rng.randint(0x400, 0x4FF),
                        rng.randint(0x4E00, 0x9FFF), rng.randint(0x1F300, 0x1F64F)])
        out.append(chr(c))
    return "".join(out)


def rand_ascii(rng, n):
    return "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(n))


def weird_strings(rng):
    """Strings that are hostile as attribute values, ids, names, cursors."""
    return [
        "", " ", "x", "\x00", "a\x00b", "\x01\x02\x7f", "\u202e\u0644\u0627", "\ufeff", "\U0001F600" * 3,
        "İ", "ß", "ﬀ", "\u0130stanbul", "Ａ", "é" * 20, "\n\r\t", "\"", "\\", "'", "' OR '1'='1",
        "%", "_", "*", "%00", "../../etc/passwd", "true", "null", "1", "-1", "1e999", "NaN",
        "urn:ietf:params:scim:schemas:core:2.0:User", "<script>alert(1)</script>", "${jndi:x}",
        rand_ascii(rng, 300), rand_unicode(rng, 1500), rand_ascii(rng, 3000), "a" * 70000,
    ]


def weird_json(rng, depth=0):
    """One JSON value of an unexpected type or shape."""
    k = rng.randrange(24)
    if k == 0:
        return None
    if k == 1:
        return rng.choice([True, False])
    if k == 2:
        return rng.choice([0, -1, 1, 2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63 - 1, 2 ** 64,
                           10 ** 40, -10 ** 40])
    if k == 3:
        return rng.choice([1.5, -0.0, 1e308, -1e308, 5e-324, 0.1])
    if k in (4, 5, 6, 7, 8, 9):
        return rng.choice(weird_strings(rng))
    if k == 10:
        return []
    if k == 11:
        return {}
    if k == 12 and depth < 3:
        return [weird_json(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if k == 13 and depth < 3:
        return {"value": weird_json(rng, depth + 1)}
    if k == 14 and depth < 3:
        return {rng.choice(["value", "display", "type", "primary", "$ref", "", "\x00", "VALUE"]):
                weird_json(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    if k == 15:
        return nested(rng.choice([10, 63, 64, 65, 100]), rng.choice(["list", "dict"]))
    if k == 16:
        return [None]
    if k == 17:
        return [[]]
    if k == 18:
        return [{}]
    if k == 19:
        return ["x"] * rng.choice([2, 1000, 20000])
    if k == 20:
        return {f"k{i}": i for i in range(rng.choice([2, 2000]))}
    if k == 21:
        return "True"
    if k == 22:
        return rng.choice(["2024-01-01T00:00:00Z", "2024-13-45T99:99:99Z", "0000-00-00", "9999-12-31T23:59:59Z"])
    return rng.choice(["x", 1, None, [], {}])


TYPE_CLASSES = [
    ("null", None), ("true", True), ("false", False), ("zero", 0), ("neg", -1), ("float", 1.5),
    ("i64max+1", 2 ** 63), ("i64min-1", -2 ** 63 - 1), ("bigint", 10 ** 40), ("empty", ""),
    ("str", "x"), ("nul", "a\x00b"), ("ctrl", "\x01\x1f"), ("bidi", "\u202eabc"),
    ("long3k", None), ("list0", []), ("list-int", [1]), ("list-str", ["x"]), ("list-null", [None]),
    ("obj0", {}), ("obj-val", {"value": 1}), ("obj-val-str", {"value": "x"}), ("nest60", None),
    ("nest70", None),
]


def type_value(rng, name):
    if name == "long3k":
        return rand_unicode(rng, 1200)  # ~3.5 KB of UTF-8, incompressible
    if name == "nest60":
        return nested(60, "dict")
    if name == "nest70":
        return nested(70, "list")
    return dict(TYPE_CLASSES)[name]


def nested(n, kind, leaf="x"):
    v = leaf
    for _ in range(n):
        v = [v] if kind == "list" else {"a": v}
    return v


def jdump(v, rng=None):
    return json.dumps(v, ensure_ascii=bool(rng.random() < 0.5) if rng else False).encode("utf-8")


def set_path(doc, path, value):
    """Set `value` at a dotted path ("name.givenName", "emails.0.value", "ENT:department")."""
    if path.startswith("urn:"):
        uri, _, rest = path.rpartition(":")
        parts = [uri] + rest.split(".")
    else:
        parts = path.split(".")
    cur = doc
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, list):
            idx = int(p) if p.isdigit() else 0
            while len(cur) <= idx:
                cur.append({})
            if last:
                cur[idx] = value
            else:
                if not isinstance(cur[idx], (dict, list)):
                    cur[idx] = {}
                cur = cur[idx]
        else:
            if last:
                cur[p] = value
            else:
                if not isinstance(cur.get(p), (dict, list)):
                    cur[p] = {}
                cur = cur[p]
    return doc


# paths into a user body (set_path syntax) for the type-confusion matrix
USER_BODY_PATHS = [
    "schemas", "schemas.0", "userName", "externalId", "id", "name", "name.givenName", "name.familyName",
    "name.formatted", "name.middleName", "name.honorificPrefix", "displayName", "nickName", "profileUrl",
    "title", "userType", "preferredLanguage", "locale", "timezone", "active", "password", "emails",
    "emails.0", "emails.0.value", "emails.0.type", "emails.0.primary", "emails.0.display",
    "phoneNumbers", "phoneNumbers.0.value", "phoneNumbers.0.type", "ims.0.value", "photos.0.value",
    "addresses", "addresses.0", "addresses.0.streetAddress", "addresses.0.locality",
    "addresses.0.postalCode", "addresses.0.country", "addresses.0.primary", "addresses.0.formatted",
    "groups", "groups.0.value", "entitlements.0.value", "roles", "roles.0.value", "roles.0.primary",
    "x509Certificates.0.value", "meta", "meta.version", "meta.created", "meta.resourceType",
    ENT, f"{ENT}:employeeNumber", f"{ENT}:costCenter", f"{ENT}:organization", f"{ENT}:division",
    f"{ENT}:department", f"{ENT}:manager", f"{ENT}:manager.value", f"{ENT}:manager.displayName",
    "urn:ietf:params:scim:schemas:extension:fuzz:2.0:User", "urn:ietf:params:scim:schemas:extension:fuzz:2.0:User:x",
    "unknownAttribute", "USERNAME", "Emails",
]
GROUP_BODY_PATHS = [
    "schemas", "schemas.0", "displayName", "externalId", "id", "members", "members.0", "members.0.value",
    "members.0.display", "members.0.type", "members.0.$ref", "members.1", "meta", "meta.version",
    "unknownAttribute", "DISPLAYNAME", "urn:ietf:params:scim:schemas:extension:fuzz:2.0:Group:x",
]

FILTER_USER_ATTRS = [
    "id", "externalId", "userName", "name", "name.formatted", "name.familyName", "name.givenName",
    "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale",
    "timezone", "active", "password", "emails", "emails.value", "emails.type", "emails.primary",
    "emails.display", "phoneNumbers.value", "phoneNumbers.type", "ims.value", "photos.value",
    "addresses.streetAddress", "addresses.locality", "addresses.postalCode", "addresses.country",
    "addresses.primary", "groups", "groups.value", "groups.display", "entitlements.value",
    "roles.value", "x509Certificates.value", "meta.created", "meta.lastModified",
    "meta.resourceType", "meta.location", "meta.version", "schemas", f"{ENT}:employeeNumber",
    f"{ENT}:department", f"{ENT}:manager", f"{ENT}:manager.value", f"{ENT}:manager.displayName",
    f"{USER_SCHEMA}:userName", f"{USER_SCHEMA}:name.givenName", f"{USER_SCHEMA}:emails.value",
    "urn:ietf:params:scim:schemas:extension:fuzz:2.0:User:x", "nonexistent", "emails.nonexistent",
    "members", "members.value", "USERNAME", "Name.GivenName",
]
FILTER_GROUP_ATTRS = [
    "id", "externalId", "displayName", "members", "members.value", "members.display", "members.type",
    "members.$ref", "meta.created", "meta.lastModified", "meta.resourceType", "meta.version",
    f"{GROUP_SCHEMA}:displayName", f"{GROUP_SCHEMA}:members.value", "userName", "nonexistent",
    "emails.value", "DISPLAYNAME",
]
FILTER_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ", "Eq", "lk", "=",
              "equals"]
FILTER_VALUES = [
    '"x"', '""', '"a\\"b"', '"\\\\"', '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"%"', '"_"',
    '"\' OR 1=1 --"', "true", "false", "null", "0", "-1", "1.5", "1e999", "99999999999999999999999",
    '"2024-01-01T00:00:00Z"', '"2024-13-45T99:99:99Z"', '"not a date"', "abc", "'single'",
    '"İ"', '"ß"', '"\U0001F600"', '"W/\\"1\\""',
]
FILTER_SPECIAL = [
    "", " ", "(", ")", "()", "((", "userName", "userName eq", "eq \"x\"", "userName pr and",
    "and userName pr", "userName pr or or userName pr", "not userName pr", "not (userName pr",
    "not()", "userName eq \"x\" )", "(userName eq \"x\"", "userName eq \"x", "userName eq \"x\\",
    "emails[type eq \"work\"", "emails[type eq \"work\"]]", "emails]", "emails[]", "emails[type eq]",
    "emails[type eq \"work\"].value eq \"x\"", "emails[type eq \"work\" and value co \"@\"]",
    "emails[type eq \"work\"].", "emails[type eq \"work\"].value", "emails[not (type eq \"work\")]",
    "emails[emails[type eq \"x\"]]", "members[value eq \"x\"]", "members[value eq \"x\"].display eq \"y\"",
    "groups[display sw \"g\"]", "addresses[type eq \"work\" and postalCode pr]",
    f"{ENT}:manager[value eq \"x\"]", f"{ENT}:manager.value eq \"x\"",
    "userName eq \"a\" and userName eq \"b\" or userName eq \"c\"",
    "meta.lastModified gt \"2011-05-13T04:42:34Z\"", "meta.created lt \"2011-05-13T04:42:34+25:00\"",
    "active eq \"true\"", "active eq 1", "active gt true", "userName gt 5", "userName co null",
    "emails.primary eq \"yes\"", "title ne null", "userName eq \"x\"\x00", "userName\teq\t\"x\"",
    "userName\u3000eq\u3000\"x\"", "userName  eq  \"x\"", "USERNAME EQ \"X\"", "userName eq 'x'",
    "userName eq \"" + "x" * 4070 + "\"", "userName eq \"" + "x" * 5000 + "\"",
    "displayName sw \"" + "é" * 2000 + "\"",
]


def filter_deep(n, kind):
    if kind == "paren":
        return "(" * n + "userName pr" + ")" * n
    if kind == "not":
        return "not (" * n + "userName pr" + ")" * n
    if kind == "chain-and":
        return " and ".join(f"userName eq \"u{i}\"" for i in range(n))
    if kind == "chain-or":
        return " or ".join(f"title co \"t{i}\"" for i in range(n))
    if kind == "chain-mixed":
        return " ".join(f"{'and' if i % 2 else 'or'} emails.value ew \"{i}\"" if i else "userName pr"
                        for i in range(n))
    if kind == "valpath":
        return "emails[" + " or ".join(f"value eq \"{i}\"" for i in range(n)) + "]"
    if kind == "valpath-paren":
        return "emails[" + "(" * n + "type eq \"work\"" + ")" * n + "]"
    if kind == "nested-bracket":
        return "emails[" * n + "type pr" + "]" * n
    if kind == "unbalanced":
        return "(" * n + "userName pr"
    return "userName pr"


def random_filter(rng, attrs, depth=0):
    r = rng.random()
    if depth >= 4 or r < 0.45:
        a = rng.choice(attrs)
        op = rng.choice(FILTER_OPS)
        if op == "pr" or rng.random() < 0.03:
            return f"{a} {op}"
        return f"{a} {op} {rng.choice(FILTER_VALUES)}"
    if r < 0.55:
        return f"not ({random_filter(rng, attrs, depth + 1)})"
    if r < 0.65:
        return f"({random_filter(rng, attrs, depth + 1)})"
    if r < 0.8:
        return f"{random_filter(rng, attrs, depth + 1)} and {random_filter(rng, attrs, depth + 1)}"
    if r < 0.9:
        return f"{random_filter(rng, attrs, depth + 1)} or {random_filter(rng, attrs, depth + 1)}"
    mv = rng.choice(["emails", "addresses", "phoneNumbers", "members", "groups", "roles", f"{ENT}:manager"])
    inner = f"{rng.choice(['value', 'type', 'primary', 'display', 'x'])} {rng.choice(FILTER_OPS)} {rng.choice(FILTER_VALUES)}"
    tail = rng.choice(["", "", ".value eq \"x\"", ".display", "."])
    return f"{mv}[{inner}]{tail}"


PATCH_OPS = ["add", "replace", "remove", "Add", "Replace", "Remove", "ADD", "REMOVE", "move", "copy",
             "test", "", None, 1, True, [], {}, "add ", "delete"]
USER_PATCH_PATHS = [
    None, "", " ", "userName", "displayName", "active", "externalId", "title", "name", "name.givenName",
    "name.", ".name", "name..givenName", "name.givenName.x", "name.nonexistent", "nonexistent", "emails",
    'emails[type eq "work"]', 'emails[type eq "work"].value', 'emails[type eq "work"].primary',
    "emails[type eq]", 'emails[type eq "work"', 'emails[type eq "work"]]', "emails]", "emails[", "emails[]",
    'emails[type eq "work"].', 'emails[type eq "work"].value.x', "emails[value pr]",
    'emails[not (type eq "work")]', 'emails[type eq "work" or primary eq true].value',
    'emails[((((type eq "work"))))].value', 'emails[type eq "work"][type eq "home"]',
    'emails[value eq "\\u0000"]', 'emails[value eq "a\\"b"]', 'phoneNumbers[type eq "mobile"].value',
    'addresses[type eq "work"].streetAddress', 'addresses[type eq "work"].country',
    'roles[primary eq "True"].value', "roles[primary eq true]", "groups", 'groups[value eq "x"]',
    "members", 'members[value eq "x"].display', "id", "meta", "meta.version", "meta.created", "schemas",
    "password", f"{ENT}:", f"{ENT}:department", f"{ENT}:manager", f"{ENT}:manager.value",
    f"{ENT}:manager.value.x", f"{ENT}:nonexistent", f'{ENT}:manager[value eq "x"]', ENT,
    f"{USER_SCHEMA}:userName", f"{USER_SCHEMA}:name.givenName", f"{USER_SCHEMA}:", USER_SCHEMA,
    'urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value', "urn:",
    "urn:ietf:params:scim:schemas:extension:fuzz:2.0:User:foo", "urn:a:b", ":", "::", "a.b.c.d.e",
    "x" * 5000, 'emails[type eq "' + "w" * 5000 + '"]',
    "emails[" + 'type eq "w" or ' * 60 + "type pr]", "emails[" + "(" * 80 + "type pr" + ")" * 80 + "]",
    "name\x00", "名前", 'emails[type eq "work"]\x00', '"userName"', "userName ", " userName",
    "USERNAME", "Name.GivenName", 'EMAILS[TYPE EQ "WORK"].VALUE', 'userName[value eq "x"]', "active.x",
    "emails[type eq \"work\"].value eq \"x\"", "emails.value", "addresses.0.country", "emails[0]",
]
GROUP_PATCH_PATHS = [
    None, "", "members", 'members[value eq "{u1}"]', 'members[value eq "{u3}"]', 'members[value eq "{xu}"]',
    'members[value eq "{g2}"]', 'members[value eq "{self}"]', 'members[value eq "nonexistent"]',
    'members[value eq "x"].display', "members[value eq x]", 'members[value eq "x"', 'members[display co "a"]',
    'members[type eq "User"]', 'members[not(value eq "{u1}")]', 'members[value eq "{u1}" or value eq "{u2}"]',
    "members[value pr]", "members.value", "members.display", "members[]", "displayName", "externalId", "id",
    "meta", "schemas", "nonexistent", f"{GROUP_SCHEMA}:displayName", f"{GROUP_SCHEMA}:members",
    f'{GROUP_SCHEMA}:members[value eq "{{u1}}"]', "urn:", "members[" + 'value eq "x" or ' * 60 + "value pr]",
    'members[value eq "{u1}"].value', 'members[value eq "\\u0000"]', "MEMBERS", "displayName.x",
]
IF_MATCH = [
    "*", "W/\"1\"", "\"1\"", "W/\"0\"", "W/\"-1\"", "W/\"99999999999999999999\"", "W/\"9223372036854775807\"",
    "W/\"x\"", "W/", "\"", "W/\"", "", " ", "garbage", "W/\"1\", W/\"2\"", "*, W/\"1\"", "W/\"1\"" * 2000,
    b"W/\"\xff\"", "\"1\" \"2\"",
]
CONTENT_TYPES = [
    None, "application/json", "application/scim+json", "application/scim+json; charset=utf-8",
    "APPLICATION/SCIM+JSON", "application/json;;;", "text/plain", "application/xml",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/scim+json, text/plain",
    "application/*", "*/*", "", ";", "application/json; charset=latin1", b"\xff\xfe", "a" * 9000,
    "application/scim+json\t",
]
ID_VARIANTS = [
    "nonexistent", "{fake}", "{other}", "{lower}", "{trailing}", "", " ", "%00", "a%00b", "%FF%FE", "%C0%AF",
    "{long}", "..", ".", "%2E%2E", "a%2Fb", "'", "*", "%25", "null", "{unicode}", "{nulbig}",
    "\u202e", "%20x",
]
NUM_PARAM_VALUES = [
    "", "0", "-1", "1", "2", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
    "99999999999999999999999", "1e3", "0x10", " 5 ", "+5", "5.0", "\u0665", "abc", "%00", "1%00", "NaN",
    "-0", "2147483648", "1001", "100", "101",
]


# --------------------------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, label, method, path, headers=(), body=None, surface="scim", dirs=(),
                 vendor_state=False, must_refuse=False, extra_time=0.0, ndjson=False, chunked=False,
                 raw=None, prepare=None, on_success=None):
        self.label, self.method, self.path = label, method, path
        self.headers = list(headers)
        self.body, self.surface, self.dirs = body, surface, list(dirs)
        self.vendor_state, self.must_refuse = vendor_state, must_refuse
        self.extra_time, self.chunked = extra_time, chunked
        self.ndjson = ndjson or path.split("?", 1)[0].endswith("/snapshot")
        self.raw, self.prepare, self.on_success = raw, prepare, on_success


class SetupError(Exception):
    pass


class Abort(Exception):
    pass


VOLATILE_KEYS = {"last_used_at"}
FAILED = "<read failed>"


def canon(v):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(val) for k, val in x.items() if k not in VOLATILE_KEYS}
        if isinstance(x, list):
            return [strip(i) for i in x]
        return x
    return hashlib.sha256(json.dumps(strip(v), sort_keys=True).encode()).hexdigest()[:16]


ROUTE_WORDS = {
    "scim", "v2", "Users", "Groups", ".search", "ServiceProviderConfig", "Schemas", "ResourceTypes",
    "Bulk", "organizations", "directories", "tokens", "directory_users", "directory_groups", "snapshot",
    "attribute_mappings", "role_mappings", "roles", "explain", "events", "healthz", "readyz", "metrics",
}


def suspects(case):
    """What in a request is a likely trigger (for grouping 5xx findings): a NUL character
    anywhere (raw, percent-encoded or as a JSON/filter escape) or a string of 2 KB or more."""
    tags = []
    body = case.body or b""
    path = urllib.parse.unquote(case.path)
    if "\x00" in path or "\\u0000" in path or b"\\u0000" in body or b"\x00" in body:
        tags.append("NUL")
    longest = max([len(x) for x in re.findall(r"[^&=/?]+", case.path)] + [0])
    try:
        strings = []
        stack = [json.loads(body)] if body else []
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                strings.append(len(v.encode()))
            elif isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, dict):
                stack.extend(v.values())
                strings.extend(len(k.encode()) for k in v)
        longest = max([longest] + strings)
    except (ValueError, RecursionError, UnicodeDecodeError):
        pass
    if longest >= 2048:
        tags.append(f"string of {longest} bytes")
    return tags


def route_of(path, known):
    p = path.split("?", 1)[0]
    segs = []
    for s in p.split("/")[1:]:
        if s in known:
            segs.append("{" + known[s] + "}")
        elif s in ROUTE_WORDS:
            segs.append(s)
        else:
            segs.append("*")
    return "/" + "/".join(segs[:6])


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.http = Http(args.base, args.timeout)
        self.key = args.api_key
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.findings = {}
        self.n_cases = 0
        self.n_findings = 0
        self.uniq = 0
        self.fp_cache = {}
        self.t0 = time.monotonic()
        self.status_counts = {}
        self.known = {}  # fixture id -> placeholder name (for grouping findings by route)
        self.case_index = 0
        self.slowest = []

    # ---------------------------------------------------------------- helpers

    def log(self, *a):
        print(*a, flush=True)

    def vauth(self):
        return [("Authorization", "Bearer " + self.key)]

    def sauth(self, d):
        return [("Authorization", "Bearer " + self.dirs[d]["token"])]

    def scim_base(self, d):
        return f"/scim/v2/{self.dirs[d]['id']}"

    def setup_call(self, method, path, body=None, token=None, want=(200, 201, 204)):
        headers = [("Authorization", "Bearer " + (token or self.key))]
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        r = self.http.send(method, path, headers, data)
        if r.status not in want:
            raise SetupError(f"{method} {path}: {r.status} {r.error or r.body[:300]!r}")
        return r.json()

    def next_uniq(self):
        self.uniq += 1
        return self.uniq

    def user_body(self, n, manager=None):
        b = {
            "schemas": [USER_SCHEMA, ENT],
            "userName": f"fz{self.seed}.{n}@example.com",
            "externalId": f"ext-{self.seed}-{n}",
            "name": {"givenName": "Fuzz", "familyName": f"User{n}", "formatted": f"Fuzz User{n}"},
            "displayName": f"Fuzz User{n}",
            "nickName": "fz", "profileUrl": "https://example.com/fz", "title": "Tester",
            "userType": "Employee", "preferredLanguage": "en", "locale": "en-US", "timezone": "UTC",
            "active": True,
            "emails": [{"value": f"fz{self.seed}.{n}@example.com", "type": "work", "primary": True}],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "addresses": [{"streetAddress": "1 Main St", "locality": "Town", "region": "R",
                           "postalCode": "12345", "country": "US", "type": "work", "primary": True}],
            "roles": [{"value": "member", "primary": True}],
            ENT: {"employeeNumber": str(n), "costCenter": "cc", "organization": "o", "division": "d",
                  "department": "Eng"},
        }
        if manager:
            b[ENT]["manager"] = {"value": manager}
        return b

    def group_body(self, n, members=()):
        return {"schemas": [GROUP_SCHEMA], "displayName": f"fzg{self.seed}.{n}",
                "externalId": f"extg-{self.seed}-{n}", "members": [{"value": m} for m in members]}

    # ---------------------------------------------------------------- setup

    def setup(self):
        s = self.seed
        r = self.http.send("GET", "/readyz")
        if r.status != 200:
            raise SetupError(f"/readyz: {r.status} {r.error or r.body[:200]!r}")
        org_a = self.setup_call("POST", "/organizations", {"name": f"fuzz-a-{s}", "domains": [f"a{s}.fuzz.example"]})
        org_b = self.setup_call("POST", "/organizations", {"name": f"fuzz-b-{s}"})
        self.orgs = {"A": org_a["id"], "B": org_b["id"]}
        self.known[org_a["id"]] = "orgA"
        self.known[org_b["id"]] = "orgB"
        self.dirs = {}
        specs = [(t.split()[0], "A", t) for t in DIRECTORY_TYPES] + [("other", "B", "okta scim v2.0")]
        for key, org, ty in specs:
            d = self.setup_call("POST", "/directories", {"organization_id": self.orgs[org], "type": ty, "name": f"fz-{key}-{s}"})
            self.dirs[key] = {"id": d["id"], "token": d["bearer_token"], "type": ty, "org": org,
                              "token_id": d.get("token", {}).get("id")}
            self.known[d["id"]] = "dir"
        for key in self.dirs:
            d = self.dirs[key]
            base = self.scim_base(key)
            self.setup_call("GET", base + "/ServiceProviderConfig", token=d["token"])  # activates
            users = []
            for i in range(3):
                n = self.next_uniq()
                u = self.setup_call("POST", base + "/Users", self.user_body(n, users[0] if users else None), token=d["token"])
                users.append(u["id"])
                self.known[u["id"]] = "user"
            g1 = self.setup_call("POST", base + "/Groups", self.group_body(self.next_uniq(), users[:2]), token=d["token"])
            g2 = self.setup_call("POST", base + "/Groups", self.group_body(self.next_uniq()), token=d["token"])
            d["users"], d["groups"] = users, [g1["id"], g2["id"]]
            self.known[g1["id"]] = "group"
            self.known[g2["id"]] = "group"
        # a spare token on the okta directory and one on the other organization's directory
        t = self.setup_call("POST", f"/directories/{self.dirs['okta']['id']}/tokens", {"name": "spare"})
        self.dirs["okta"]["spare_token_id"] = t["id"]
        t = self.setup_call("POST", f"/directories/{self.dirs['other']['id']}/tokens", {"name": "spare"})
        self.dirs["other"]["spare_token_id"] = t["id"]
        for tid in (self.dirs["okta"]["spare_token_id"], self.dirs["other"]["spare_token_id"]):
            self.known[tid] = "token"
        rm_a = self.setup_call("POST", f"/organizations/{self.orgs['A']}/role_mappings",
                               {"group_id": self.dirs["okta"]["groups"][0], "role_slug": "admin", "priority": 1})
        rm_b = self.setup_call("POST", f"/organizations/{self.orgs['B']}/role_mappings",
                               {"group_id": self.dirs["other"]["groups"][0], "role_slug": "admin"})
        self.role_mappings = {"A": rm_a["id"], "B": rm_b["id"]}
        self.known[rm_a["id"]] = "mapping"
        self.known[rm_b["id"]] = "mapping"
        ev = self.setup_call("GET", f"/events?directory_id={self.dirs['other']['id']}&limit=1")
        self.other_event = ev["data"][0]["id"] if ev.get("data") else "event_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        ev = self.setup_call("GET", f"/events?directory_id={self.dirs['okta']['id']}&limit=1")
        self.okta_event = ev["data"][0]["id"] if ev.get("data") else "event_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        self.dir_keys = sorted(k for k in self.dirs if k != "other")
        self.log(f"setup: organizations {self.orgs['A']} {self.orgs['B']}, {len(self.dirs)} directories, "
                 f"{3 * len(self.dirs)} users, {2 * len(self.dirs)} groups ({self.http.sent} requests)")

    # ---------------------------------------------------------------- state fingerprints

    def read(self, method, path, headers, what):
        """A state read; a failure is itself a finding."""
        r = self.http.send(method, path, headers)
        if r.status != 200:
            self.record("read-failed", Case(f"state read ({what})", method, path, headers, surface="read"), r,
                        f"state read {what} failed")
            return None
        v = r.json()
        if v is None:
            self.record("read-failed", Case(f"state read ({what})", method, path, headers, surface="read"), r,
                        "state read answered non-JSON")
        return v

    def dir_fp(self, key):
        d = self.dirs[key]
        fp = {}
        ev = self.read("GET", f"/events?directory_id={d['id']}&order=desc&limit=1", self.vauth(), "events")
        if ev is None:
            fp["last_event"] = FAILED
        else:
            fp["last_event"] = ev["data"][0].get("id") if ev.get("data") else None
        for kind in ("Users", "Groups"):
            v = self.read("GET", f"{self.scim_base(key)}/{kind}?count=1000", self.sauth(key), kind)
            if v is None:
                fp[kind] = FAILED
                continue
            res = sorted(v.get("Resources", []), key=lambda x: str(x.get("id")))
            fp[kind] = (v.get("totalResults"), canon(res))
        return fp

    def vendor_fp(self):
        fp = {}
        paths = ["/organizations?limit=100", "/directories?limit=100",
                 f"/directories/{self.dirs['okta']['id']}/tokens", f"/directories/{self.dirs['other']['id']}/tokens",
                 f"/organizations/{self.orgs['A']}/role_mappings", f"/organizations/{self.orgs['B']}/role_mappings",
                 f"/directories/{self.dirs['okta']['id']}/attribute_mappings",
                 f"/directories/{self.dirs['other']['id']}/attribute_mappings",
                 # per-directory streams: the global one (PostgreSQL) only shows events below the
                 # cluster's transaction horizon, which other databases' transactions move
                 f"/events?directory_id={self.dirs['okta']['id']}&order=desc&limit=1",
                 f"/events?directory_id={self.dirs['other']['id']}&order=desc&limit=1"]
        for p in paths:
            v = self.read("GET", p, self.vauth(), p.split("?")[0])
            fp[p] = canon(v) if v is not None else FAILED
        return fp

    def fingerprints(self, case):
        out = {}
        keys = [("dir", d) for d in case.dirs] + (["vendor"] if case.vendor_state else [])
        for k in keys:
            fp = self.fp_cache.get(k)
            if fp is None:
                fp = self.dir_fp(k[1]) if k != "vendor" else self.vendor_fp()
                if FAILED not in fp.values():
                    self.fp_cache[k] = fp
            out[k] = fp
        return out

    def verify_unchanged(self, case, before, r):
        for k, old in before.items():
            new = self.dir_fp(k[1]) if k != "vendor" else self.vendor_fp()
            if FAILED in new.values() or FAILED in old.values():
                self.fp_cache.pop(k, None)  # a state read failed (recorded): nothing to compare
                continue
            self.fp_cache[k] = new
            if new == old:
                continue
            changed = [name for name in new if new.get(name) != old.get(name)]
            detail = f"changed after a {r.status or 'failed'} answer: {', '.join(changed)}"
            if k != "vendor" and "last_event" in changed:
                d = self.dirs[k[1]]
                after = old.get("last_event")
                p = f"/events?directory_id={d['id']}&limit=20" + (f"&after={after}" if after else "")
                ev = self.http.send("GET", p, self.vauth()).json() or {}
                names = [f"{e.get('event')}" for e in ev.get("data", [])]
                detail += f"; new events: {names}"
            self.record("state", case, r, detail)

    # ---------------------------------------------------------------- checks

    def record(self, kind, case, r, detail):
        body = case.body if case.body is not None else (case.raw or b"")
        route = route_of(case.path, self.known)
        if kind == "error-body":
            # one root cause answers many routes: group by what came back
            sig = (kind, case.surface, "*", "*", r.status, f"{r.headers.get('content-type')} {r.body[:40]!r}")
        else:
            sig = (kind, case.surface, case.method, route, r.status,
                   detail[:50] if kind in ("state", "read-failed") else
                   re.sub(r"\d+ bytes", "long", detail) if kind == "5xx" else "")
        f = self.findings.get(sig)
        if f is None:
            f = self.findings[sig] = {"kind": kind, "count": 0, "examples": [], "routes": []}
            self.log(f"  FINDING [{kind}] {case.method} {case.path[:160]!r} -> {r.status} {detail[:200]}")
        f["count"] += 1
        self.n_findings += 1
        rm = f"{case.method} {route}"
        if rm not in f["routes"] and len(f["routes"]) < 40:
            f["routes"].append(rm)
        if len(f["examples"]) < 3:
            hdrs = [(k, v if isinstance(v, str) else repr(v)) for k, v in case.headers]
            hdrs = [(k, (v[:40] + "...") if k.lower() == "authorization" and len(v) > 60 else v[:200])
                    for k, v in hdrs]
            f["examples"].append({
                "case": self.case_index, "label": case.label, "detail": detail,
                "request": {
                    "method": case.method, "path": case.path if len(case.path) < 600 else case.path[:600] + f"...({len(case.path)} chars)",
                    "headers": hdrs,
                    "body_bytes": len(body), "body": body[:600].decode("utf-8", "backslashreplace") + ("..." if len(body) > 600 else ""),
                    "body_sha256": hashlib.sha256(body).hexdigest()[:16] if body else None,
                    "chunked": case.chunked,
                },
                "response": {
                    "status": r.status, "error": r.error, "elapsed": round(r.elapsed, 3),
                    "content_type": r.headers.get("content-type"),
                    "body": r.body[:500].decode("utf-8", "backslashreplace"),
                },
            })

    def check(self, case, r):
        st = r.status
        if r.error:
            self.record("transport", case, r, r.error)
        if r.elapsed > SLOW_SECONDS + case.extra_time:
            self.record("slow", case, r, f"answered in {r.elapsed:.1f}s")
        if st == 0:
            return
        if st >= 500 and not (st == 501 and case.path.split("?")[0].endswith("/Bulk")):
            tags = suspects(case)
            self.record("5xx", case, r, f"HTTP {st}" + (f"; request has: {', '.join(tags)}" if tags else ""))
        if case.must_refuse and 200 <= st < 300:
            self.record("isolation", case, r, f"HTTP {st} for a request that must be refused")
        if case.surface == "protocol" or case.method.upper() == "HEAD":
            return
        if len(case.path.encode()) > MAX_REQUEST_TARGET:
            # refused by the HTTP layer before any route: 400 without a body (see the constant)
            return
        v = r.json()
        if st >= 400:
            if v is None:
                self.record("error-body", case, r, f"error body is not JSON (content-type {r.headers.get('content-type')!r})")
            elif case.surface == "scim":
                if not isinstance(v, dict) or SCIM_ERROR not in (v.get("schemas") or []) \
                        or v.get("status") != str(st):
                    self.record("error-body", case, r, "SCIM error without the error URN in `schemas` or `status` == HTTP status")
            elif case.surface == "vendor":
                if not isinstance(v, dict) or not isinstance(v.get("message"), str) or "code" not in v:
                    self.record("error-body", case, r, "vendor error without `code`/`message`")
        elif 200 <= st < 300 and st != 204 and case.surface in ("scim", "vendor"):
            if case.ndjson:
                for line in r.body.splitlines():
                    try:
                        json.loads(line)
                    except ValueError:
                        self.record("ok-body", case, r, f"snapshot line is not JSON: {line[:80]!r}")
                        break
            elif v is None and (r.body.strip() or st not in (202, 205)):
                self.record("ok-body", case, r, "2xx body is not JSON")

    def alive(self):
        for _ in range(3):
            r = self.http.send("GET", "/healthz", timeout=5)
            if r.status == 200:
                return True
            time.sleep(1)
        return False

    # ---------------------------------------------------------------- running

    def execute(self, case):
        self.n_cases += 1
        if case.prepare:
            try:
                case.prepare(case)
            except SetupError as e:
                self.log(f"  (case {self.case_index} {case.label}: preparation failed: {e})")
                return
        mutating = case.method.upper() not in ("GET", "HEAD") or case.raw is not None
        before = self.fingerprints(case) if mutating and (case.dirs or case.vendor_state) else {}
        if case.raw is not None:
            r = self.http.send_raw(case.raw, timeout=self.args.timeout)
        else:
            r = self.http.send(case.method, case.path, case.headers, case.body, chunked=case.chunked,
                               timeout=self.args.timeout + case.extra_time)
        self.status_counts[r.status] = self.status_counts.get(r.status, 0) + 1
        self.slowest.append((r.elapsed - case.extra_time, self.case_index, case.label, case.method, case.path[:100], r.status))
        self.slowest = sorted(self.slowest, reverse=True)[:5]
        if self.args.verbose:
            self.log(f"[{self.case_index}] {case.label}: {case.method} {case.path[:120]!r} "
                     f"({len(case.body or b'')} B) -> {r.status} {r.elapsed * 1000:.0f} ms {r.body[:100]!r}")
        self.check(case, r)
        if r.status and case.raw is None and self.http.conn is not None and (
                case.chunked or len(case.body or b"") > 65536
                or (case.body and case.method.upper() in ("GET", "DELETE", "HEAD", "OPTIONS"))):
            # the next request on the same kept-alive connection must still be answered
            p = self.http.send("GET", "/healthz", timeout=5, retry=False)
            if p.status == 0 and (p.error or "").startswith("no answer"):  # closing is fine; silence is not
                self.record("hang", case, p, "the kept-alive connection stopped answering after this request "
                            f"(next request on it: {p.status or p.error})")
        if r.status == 0 and not self.alive():
            self.record("down", case, r, "the server stopped answering /healthz after this request")
            raise Abort("server down")
        if mutating and 200 <= r.status < 300:
            self.fp_cache.clear()
            if case.on_success:
                case.on_success(r)
            elif case.method in ("PUT", "PATCH") and case.surface == "scim":
                self.readback_written(case)
        elif mutating and before:
            self.verify_unchanged(case, before, r)

    def budget_left(self):
        return time.monotonic() - self.t0 < self.args.budget

    # ---------------------------------------------------------------- case builders

    def pick_dir(self, rng):
        return rng.choice(self.dir_keys)

    def user_id(self, d, i=0):
        return self.dirs[d]["users"][i]

    def group_id(self, d, i=0):
        return self.dirs[d]["groups"][i]

    def weird_id(self, rng, variant, real, kind):
        """An identifier variant for a path segment (already percent-encoded where needed)."""
        prefix = real.rsplit("_", 1)[0] if "_" in real else kind
        if variant == "{fake}":
            return prefix + "_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        if variant == "{other}":
            return {"user": self.user_id("other"), "group": self.group_id("other"), "dir": self.dirs["other"]["id"],
                    "org": self.orgs["B"], "token": self.dirs["other"]["spare_token_id"],
                    "mapping": self.role_mappings["B"]}.get(kind, real)
        if variant == "{lower}":
            return real.lower()
        if variant == "{trailing}":
            return real + "%20"
        if variant == "{long}":
            return q(rand_ascii(rng, 3000))
        if variant == "{unicode}":
            return q(rand_unicode(rng, 40))
        if variant == "{nulbig}":
            return q(real + "\x00")
        if variant == "":
            return ""
        return q(variant) if not variant.startswith("%") and "%" not in variant else variant

    def readback_written(self, case):
        """After an accepted PUT/PATCH of a fixture: both renderings must still work."""
        m = re.match(r"/scim/v2/([^/?]+)/(Users|Groups)/([^/?]+)", case.path)
        if not m:
            return
        d = next((k for k, v in self.dirs.items() if v["id"] == m.group(1)), None)
        if d is None:
            return
        kind, rid = m.group(2), urllib.parse.unquote(m.group(3))
        self.read_both(d, kind, rid, case.method)

    def read_both(self, d, kind, rid, what):
        """Read a stored resource through SCIM and the vendor API: both renderings must work."""
        vendor_kind = "directory_users" if kind == "Users" else "directory_groups"
        for c in (Case(f"read back {kind}", "GET", f"{self.scim_base(d)}/{kind}/{q(rid)}", self.sauth(d)),
                  Case(f"read back {kind}", "GET", f"/{vendor_kind}/{q(rid)}", self.vauth(), surface="vendor")):
            r = self.http.send(c.method, c.path, c.headers)
            self.check(c, r)
            if r.status != 200:
                self.record("read-failed", c, r, f"reading back an accepted {what} answered {r.status}")

    def readback(self, d, kind, rid):
        """Read what an accepted request stored, then delete it."""
        self.read_both(d, kind, rid, f"{kind} write")
        self.http.send("DELETE", f"{self.scim_base(d)}/{kind}/{q(rid)}", self.sauth(d))

    def delete_temp_user(self, d):
        def cleanup(r):
            v = r.json() or {}
            if v.get("id"):
                self.readback(d, "Users", v["id"])
        return cleanup

    def delete_temp_group(self, d):
        def cleanup(r):
            v = r.json() or {}
            if v.get("id"):
                self.readback(d, "Groups", v["id"])
        return cleanup

    def json_headers(self, d=None, ct="application/scim+json"):
        h = self.sauth(d) if d else self.vauth()
        return h + [("Content-Type", ct)]

    # --- SCIM bodies

    def case_user_type(self, rng, path=None, tname=None, method=None):
        d = self.pick_dir(rng)
        n = self.next_uniq()
        body = self.user_body(n, self.user_id(d))
        path = path or rng.choice(USER_BODY_PATHS)
        tname = tname or rng.choice([t for t, _ in TYPE_CLASSES])
        set_path(body, path, type_value(rng, tname))
        label = f"{path}={tname}"
        for _ in range(rng.choice([0, 0, 0, 1, 2]) if method is None else 0):
            p2 = rng.choice(USER_BODY_PATHS)
            set_path(body, p2, weird_json(rng))
            label += f" +{p2}"
        method = method or rng.choice(["POST", "POST", "PUT"])
        if method == "POST":
            return Case(f"user {label}", "POST", f"{self.scim_base(d)}/Users", self.json_headers(d),
                        jdump(body, rng), dirs=[d], on_success=self.delete_temp_user(d))
        uid = self.user_id(d, rng.randrange(3))
        body["userName"] = body["userName"] if path == "userName" else f"fz-put-{self.seed}-{n}@example.com"
        return Case(f"put user {label}", "PUT", f"{self.scim_base(d)}/Users/{uid}", self.json_headers(d),
                    jdump(body, rng), dirs=[d])

    def case_group_type(self, rng, path=None, tname=None):
        d = self.pick_dir(rng)
        n = self.next_uniq()
        body = self.group_body(n, [self.user_id(d, 2)])
        path = path or rng.choice(GROUP_BODY_PATHS)
        tname = tname or rng.choice([t for t, _ in TYPE_CLASSES])
        set_path(body, path, type_value(rng, tname))
        if rng.random() < 0.5:
            return Case(f"group {path}={tname}", "POST", f"{self.scim_base(d)}/Groups", self.json_headers(d),
                        jdump(body, rng), dirs=[d], on_success=self.delete_temp_group(d))
        gid = self.group_id(d, 1)
        return Case(f"put group {path}={tname}", "PUT", f"{self.scim_base(d)}/Groups/{gid}", self.json_headers(d),
                    jdump(body, rng), dirs=[d])

    def member_values(self, rng, d, self_id):
        u = self.dirs[d]["users"]
        g = self.dirs[d]["groups"]
        fake = "directory_user_01ARZ3NDEKTSV4RRFFQ69G5FAV"
        return rng.choice([
            [{"value": u[2]}], [{"value": self.user_id("other")}], [{"value": self.group_id("other")}],
            [{"value": fake}], [{"value": self_id}], [{"value": g[1] if self_id != g[1] else g[0]}],
            {"value": u[2]}, u[2], [u[2]], [{"value": None}], [{"value": 1}], [{"value": [u[2]]}],
            [{"$ref": f"../Users/{u[2]}"}], [{"value": u[2], "type": "Group"}], [{"value": u[2], "display": 5}],
            [{"value": u[2]}, {"value": u[2]}], [{"value": u[2].lower()}], [{"value": u[2] + "\x00"}],
            [{"value": f"u{i}"} for i in range(rng.choice([2, 10001]))],
            [{"value": u[0]}, {"value": fake}], [], None, "", weird_json(rng),
        ])

    def patch_op(self, rng, kind, d, self_id):
        paths = USER_PATCH_PATHS if kind == "Users" else GROUP_PATCH_PATHS
        p = rng.choice(paths)
        if isinstance(p, str):
            p = (p.replace("{u1}", self.user_id(d, 0)).replace("{u2}", self.user_id(d, 1))
                  .replace("{u3}", self.user_id(d, 2)).replace("{xu}", self.user_id("other"))
                  .replace("{g2}", self.group_id(d, 1)).replace("{self}", self_id))
        op = {"op": rng.choice(PATCH_OPS)}
        if rng.random() < 0.05:
            op = {"OP": "add", "Path": p, "Value": "x"}
        if p is not None:
            op["path"] = p
        r = rng.random()
        if kind == "Groups" and (p is None or "members" in str(p)) and r < 0.5:
            val = self.member_values(rng, d, self_id)
            if p is None and rng.random() < 0.6:
                val = {"members": val}
            op["value"] = val
        elif r < 0.15:
            pass  # no value
        elif r < 0.3:
            op["value"] = {"userName": weird_json(rng), "active": weird_json(rng), "name": {"givenName": weird_json(rng)},
                           ENT: {"department": weird_json(rng)}} if kind == "Users" else {"displayName": weird_json(rng)}
        elif r < 0.4:
            op["value"] = rng.choice(["False", "true", "TRUE", "0", "yes", False, 0, 1])
        else:
            op["value"] = weird_json(rng)
        return op

    def case_patch(self, rng, kind=None, path=None, op=None):
        d = self.pick_dir(rng)
        kind = kind or rng.choice(["Users", "Groups"])
        target = self.user_id(d, rng.randrange(3)) if kind == "Users" else self.group_id(d, rng.randrange(2))
        ops = [self.patch_op(rng, kind, d, target) for _ in range(rng.choice([1, 1, 1, 2, 3, 5]))]
        if path is not None or op is not None:
            ops = [self.patch_op(rng, kind, d, target)]
            if op is not None:
                ops[0]["op"] = op
            if path != "__keep__":
                p = path.replace("{u1}", self.user_id(d, 0)).replace("{u3}", self.user_id(d, 2)) \
                    .replace("{xu}", self.user_id("other")).replace("{g2}", self.group_id(d, 1)) \
                    .replace("{self}", target).replace("{u2}", self.user_id(d, 1)) if isinstance(path, str) else path
                if p is None:
                    ops[0].pop("path", None)
                else:
                    ops[0]["path"] = p
        body = {"schemas": [PATCH_SCHEMA], "Operations": ops}
        r = rng.random()
        if r < 0.04:
            body = {"Operations": ops}
        elif r < 0.08:
            body = {"schemas": PATCH_SCHEMA, "Operations": ops}
        elif r < 0.1:
            body = {"schemas": [USER_SCHEMA], "Operations": ops}
        elif r < 0.13:
            body = {"schemas": [PATCH_SCHEMA], "operations": ops}
        elif r < 0.16:
            body = {"schemas": [PATCH_SCHEMA], "Operations": weird_json(rng)}
        elif r < 0.18:
            body = {"schemas": [PATCH_SCHEMA], "Operations": [ops[0]] * rng.choice([1000, 1001, 5000])}
        elif r < 0.2:
            body = {"schemas": [PATCH_SCHEMA], "Operations": ops, "id": "x", "meta": {"version": 1}}
        headers = self.json_headers(d)
        if rng.random() < 0.15:
            headers.append(("If-Match", rng.choice(IF_MATCH)))
        return Case(f"patch {kind} {str(ops[0].get('op'))[:10]} {str(ops[0].get('path'))[:40]}", "PATCH",
                    f"{self.scim_base(d)}/{kind}/{target}", headers, jdump(body, rng), dirs=[d])

    RAW_BODIES = [
        ("empty", b""), ("null", b"null"), ("array", b"[]"), ("number", b"1"), ("string", b'"x"'),
        ("true", b"true"), ("open", b"{"), ("close", b"}"), ("mismatch", b"{]"), ("single-quotes", b"{'a':1}"),
        ("invalid-utf8", b'{"userName":"\xff\xfe\xc0\xaf","displayName":"\xed\xa0\x80"}'), ("bom", b"\xef\xbb\xbf{}"),
        ("trailing", b'{"a":1}garbage'), ("two-docs", b"{}{}"), ("nan", b'{"a":NaN}'), ("inf", b'{"a":Infinity}'),
        ("huge-exp", b'{"a":1e999999}'), ("huge-int", b'{"a":' + b"9" * 5000 + b"}"),
        ("raw-nul", b'{"userName":"a\x00b"}'), ("raw-ctrl", b'{"userName":"a\x01\nb"}'),
        ("lone-surrogate", b'{"userName":"\\ud800"}'), ("bad-escape", b'{"userName":"\\x41"}'),
        ("dup-keys", b'{"userName":"a","userName":"b","schemas":[],"schemas":["' + USER_SCHEMA.encode() + b'"]}'),
        ("trailing-comma", b'{"a":1,}'), ("comment", b'{/* c */"a":1}'), ("nul-key", b'{"\\u0000":1}'),
        ("deep-list-100k", b"[" * 100000 + b"]" * 100000), ("deep-obj-100k", b'{"a":' * 100000 + b"1" + b"}" * 100000),
        ("deep-list-127", b"[" * 127 + b"]" * 127), ("deep-list-129", b"[" * 129 + b"]" * 129),
        ("unclosed-deep", b"[" * 100000), ("whitespace", b"   \n\t  "), ("utf16", '{"a":1}'.encode("utf-16")),
        ("many-keys", None), ("near-limit", None), ("over-limit", None), ("huge-array", None),
        ("deep-in-attr", None),
    ]

    def raw_body(self, rng, name, data):
        if data is not None:
            return data
        if name == "many-keys":
            return json.dumps({f"k{i}": i for i in range(60000)}).encode()
        if name == "near-limit":
            return json.dumps({"schemas": [USER_SCHEMA], "userName": "x" * (1024 * 1024 - 200)}).encode()
        if name == "over-limit":
            return json.dumps({"schemas": [USER_SCHEMA], "userName": "x" * (2 * 1024 * 1024)}).encode()
        if name == "huge-array":
            return json.dumps({"userName": "a", "emails": [{"value": f"{i}@x"} for i in range(45000)]}).encode()
        if name == "deep-in-attr":
            return b'{"userName":"x","name":' + b"[" * 100000 + b"]" * 100000 + b"}"
        return b""

    def scim_write_targets(self, d):
        b = self.scim_base(d)
        u, g = self.user_id(d, 1), self.group_id(d, 1)
        return [("POST", f"{b}/Users"), ("PUT", f"{b}/Users/{u}"), ("PATCH", f"{b}/Users/{u}"),
                ("POST", f"{b}/Groups"), ("PUT", f"{b}/Groups/{g}"), ("PATCH", f"{b}/Groups/{g}"),
                ("POST", f"{b}/Users/.search"), ("POST", f"{b}/Groups/.search"), ("POST", f"{b}/.search"),
                ("POST", f"{b}/Bulk")]

    def vendor_write_targets(self):
        a = self.dirs["okta"]["id"]
        return [("POST", "/organizations"), ("POST", "/directories"), ("POST", f"/directories/{a}/tokens"),
                ("PUT", f"/directories/{a}/attribute_mappings"),
                ("POST", f"/organizations/{self.orgs['A']}/role_mappings")]

    def case_raw(self, rng, name=None, target=None):
        if name is None:
            name, data = rng.choice(self.RAW_BODIES)
        else:
            data = dict(self.RAW_BODIES)[name]
        body = self.raw_body(rng, name, data)
        d = self.pick_dir(rng)
        if target is None:
            targets = self.scim_write_targets(d) + [("vendor",) + t for t in self.vendor_write_targets()]
            target = rng.choice(targets)
        if target[0] == "vendor":
            _, m, p = target
            return Case(f"raw body {name}", m, p, self.vauth() + [("Content-Type", "application/json")], body,
                        surface="vendor", vendor_state=True, dirs=["okta"])
        m, p = target
        dirs = [k for k in self.dirs if p.startswith(self.scim_base(k) + "/")] or [d]
        return Case(f"raw body {name}", m, p, self.json_headers(dirs[0]), body, dirs=dirs,
                    chunked=rng.random() < 0.1)

    # --- search / list

    def case_filter(self, rng, kind=None, flt=None, via=None):
        d = self.pick_dir(rng)
        kind = kind or rng.choice(["Users", "Groups", "root"])
        attrs = FILTER_GROUP_ATTRS if kind == "Groups" else FILTER_USER_ATTRS
        if flt is None:
            r = rng.random()
            if r < 0.15:
                flt = rng.choice(FILTER_SPECIAL)
            elif r < 0.3:
                flt = filter_deep(rng.choice([10, 49, 50, 51, 63, 64, 65, 100, 300, 1000, 2000]),
                                  rng.choice(["paren", "not", "chain-and", "chain-or", "chain-mixed", "valpath",
                                              "valpath-paren", "nested-bracket", "unbalanced"]))
            else:
                flt = random_filter(rng, attrs)
        via = via or ("get" if kind != "root" and rng.random() < 0.6 else "search")
        base = self.scim_base(d)
        if via == "get":
            extra = ""
            if rng.random() < 0.3:
                extra = f"&sortBy={q(rng.choice(attrs))}&sortOrder={rng.choice(['ascending', 'descending', 'x'])}"
            return Case(f"filter {kind} get", "GET", f"{base}/{kind}?filter={q(flt)}{extra}", self.sauth(d), dirs=[d])
        path = f"{base}/.search" if kind == "root" else f"{base}/{kind}/.search"
        body = {"schemas": [SEARCH_SCHEMA], "filter": flt}
        if rng.random() < 0.3:
            body["startIndex"] = rng.choice([1, 0, -5, 2 ** 63, "2", 1.5, None, "x"])
            body["count"] = rng.choice([1, 0, -5, 2 ** 63, "2", 1.5, None, 100000])
        return Case(f"filter {kind} search", "POST", path, self.json_headers(d), jdump(body, rng), dirs=[d])

    def case_search_types(self, rng, field=None, tname=None):
        d = self.pick_dir(rng)
        kind = rng.choice(["Users", "Groups", "root"])
        field = field or rng.choice(["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes",
                                     "excludedAttributes", "schemas"])
        tname = tname or rng.choice([t for t, _ in TYPE_CLASSES])
        body = {"schemas": [SEARCH_SCHEMA], "filter": "userName pr", "startIndex": 1, "count": 5}
        body[field] = type_value(rng, tname)
        base = self.scim_base(d)
        path = f"{base}/.search" if kind == "root" else f"{base}/{kind}/.search"
        return Case(f"search {field}={tname}", "POST", path, self.json_headers(d), jdump(body, rng), dirs=[d])

    def case_list_params(self, rng, param=None, value=None):
        d = self.pick_dir(rng)
        kind = rng.choice(["Users", "Groups"])
        params = ["startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes", "filter"]
        param = param or rng.choice(params)
        if value is None:
            if param in ("startIndex", "count"):
                value = rng.choice(NUM_PARAM_VALUES)
            elif param in ("attributes", "excludedAttributes"):
                value = rng.choice(["", ",", ",,,", "id", "userName,emails", "members", "meta.version", "emails.value",
                                    f"{ENT}:manager", "urn:", "x" * 5000, ",".join(["a"] * 3000),
                                    "name.givenName.x", "\x00", "schemas", "id,id,id", "Resources", "EMAILS"])
            elif param == "sortBy":
                value = rng.choice(FILTER_USER_ATTRS + ["", "x[y]", "emails[type eq \"work\"].value", "(", "\x00", "name.",
                                                        "x" * 5000, "meta"])
            elif param == "sortOrder":
                value = rng.choice(["", "ascending", "descending", "DESCENDING", "asc", "desc", "x", "\x00"])
            else:
                value = rng.choice(FILTER_SPECIAL)
        qs = f"{param}={q(value)}"
        r = rng.random()
        if r < 0.2:
            qs += f"&{param}={q(value)}"  # duplicate
        elif r < 0.3:
            qs += "&" + "&".join(f"{p}={q(rng.choice(NUM_PARAM_VALUES))}" for p in rng.sample(params, 3))
        elif r < 0.35:
            qs = f"{param}[]={q(value)}"
        elif r < 0.4:
            qs += "&unknownParam=1&%FF=%FE&=&&&a"
        return Case(f"list {kind} {param}", "GET", f"{self.scim_base(d)}/{kind}?{qs}", self.sauth(d), dirs=[d])

    def case_get_projection(self, rng):
        d = self.pick_dir(rng)
        kind = rng.choice(["Users", "Groups"])
        rid = self.user_id(d) if kind == "Users" else self.group_id(d)
        p = rng.choice(["attributes", "excludedAttributes"])
        v = rng.choice(["", "id", "members", "groups", "emails[type eq \"work\"]", "x" * 5000, "\x00", ",", "name.givenName",
                        f"{ENT}:manager.value", "meta", "schemas"])
        qs = f"{p}={q(v)}"
        if rng.random() < 0.3:
            qs += f"&{p}={q(v)}"
        if rng.random() < 0.2:
            qs += "&attributes=id&excludedAttributes=id"
        m = rng.choice(["GET", "GET", "PATCH"])
        if m == "PATCH":
            body = jdump({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "externalId" if kind == "Users" else "externalId", "value": f"proj-{self.next_uniq()}"}]})
            return Case(f"patch {kind} with projection", "PATCH", f"{self.scim_base(d)}/{kind}/{rid}?{qs}", self.json_headers(d), body, dirs=[d])
        return Case(f"get {kind} projection", "GET", f"{self.scim_base(d)}/{kind}/{rid}?{qs}", self.sauth(d), dirs=[d])

    # --- ids, methods, auth, content types, If-Match

    def case_scim_id(self, rng, variant=None, method=None, kind=None):
        d = self.pick_dir(rng)
        kind = kind or rng.choice(["Users", "Groups"])
        variant = variant if variant is not None else rng.choice(ID_VARIANTS)
        real = self.user_id(d) if kind == "Users" else self.group_id(d)
        rid = self.weird_id(rng, variant, real, "user" if kind == "Users" else "group")
        method = method or rng.choice(["GET", "PUT", "PATCH", "DELETE"])
        body = None
        headers = self.sauth(d)
        if method == "PUT":
            body = jdump(self.user_body(self.next_uniq()) if kind == "Users" else self.group_body(self.next_uniq()))
        elif method == "PATCH":
            body = jdump({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "externalId", "value": "moved"}]})
        if body is not None:
            headers = headers + [("Content-Type", "application/scim+json")]
        must_refuse = variant in ("{other}", "{fake}")
        prepare = None
        if method == "DELETE" and variant in ("{lower}", "{trailing}", "{nulbig}"):
            # derived from a temporary resource, so that an accepted delete removes no fixture
            def prepare(case, d=d, kind=kind, variant=variant, seed=rng.random()):
                b = self.user_body(self.next_uniq()) if kind == "Users" else self.group_body(self.next_uniq())
                v = self.setup_call("POST", f"{self.scim_base(d)}/{kind}", b, token=self.dirs[d]["token"])
                tid = self.weird_id(random.Random(seed), variant, v["id"], "user" if kind == "Users" else "group")
                case.path = f"{self.scim_base(d)}/{kind}/{tid}"
                self.fp_cache.clear()
        return Case(f"scim id {variant!r} {method}", method, f"{self.scim_base(d)}/{kind}/{rid}", headers, body,
                    dirs=[d, "other"], must_refuse=must_refuse, prepare=prepare)

    def scim_routes(self, d):
        b = self.scim_base(d)
        u, g = self.user_id(d, 1), self.group_id(d, 1)
        return [
            (f"{b}/Users", {"GET", "POST"}), (f"{b}/Users/.search", {"POST"}), (f"{b}/Users/{u}", {"GET", "PUT", "PATCH", "DELETE"}),
            (f"{b}/Groups", {"GET", "POST"}), (f"{b}/Groups/.search", {"POST"}), (f"{b}/Groups/{g}", {"GET", "PUT", "PATCH", "DELETE"}),
            (f"{b}/ServiceProviderConfig", {"GET"}), (f"{b}/ResourceTypes", {"GET"}), (f"{b}/ResourceTypes/User", {"GET"}),
            (f"{b}/Schemas", {"GET"}), (f"{b}/Schemas/{q(USER_SCHEMA)}", {"GET"}), (f"{b}/Bulk", {"POST"}),
            (f"{b}/.search", {"POST"}), (f"{b}/Me", set()), (f"{b}/", set()), (b, set()), (f"{b}//Users", set()),
            (f"{b}/users", set()), (f"{b}/Users/", set()), (f"{b}/Users/{u}/x", set()), (f"{b}/Users/.search/x", set()),
            (f"{b}/Users/{u}/..", set()), (f"{b}/%55sers", set()), (f"{b}/Users%2F{u}", set()),
            (f"{b}/ResourceTypes/{q('x' * 3000)}", {"GET"}), (f"{b}/Schemas/%00", {"GET"}), (f"{b}/Schemas/{q('urn:')}", {"GET"}),
            ("/scim/v2/", set()), ("/scim/v2", set()), ("/scim/v2/%00/Users", set()), ("/scim/v2/%FF/Users", set()),
            (f"/scim/v2/{q('x' * 3000)}/Users", set()),
        ]

    def vendor_routes(self):
        a, o = self.dirs["okta"]["id"], self.orgs["A"]
        u, g = self.user_id("okta"), self.group_id("okta")
        return [
            ("/organizations", {"GET", "POST"}), (f"/organizations/{o}", {"GET"}), ("/directories", {"GET", "POST"}),
            (f"/directories/{a}", {"GET", "DELETE"}), (f"/directories/{a}/tokens", {"GET", "POST"}),
            (f"/directories/{a}/tokens/{self.dirs['okta']['spare_token_id']}", {"DELETE"}),
            ("/directory_users", {"GET"}), (f"/directory_users/{u}", {"GET"}), ("/directory_groups", {"GET"}),
            (f"/directory_groups/{g}", {"GET"}), (f"/directories/{a}/snapshot", {"GET"}),
            (f"/directories/{a}/attribute_mappings", {"GET", "PUT"}), (f"/organizations/{o}/role_mappings", {"GET", "POST"}),
            (f"/organizations/{o}/role_mappings/{self.role_mappings['A']}", {"DELETE"}),
            (f"/directory_users/{u}/roles/explain", {"GET"}), ("/events", {"GET"}), ("/", set()), ("/nope", set()),
            ("/organizations/", set()), ("//organizations", set()), ("/directories/%00", {"GET", "DELETE"}),
        ]

    def case_method(self, rng, surface, path, method, allowed):
        if surface == "scim":
            d = next((k for k in self.dirs if path.startswith(self.scim_base(k))), "okta")
            headers = self.sauth(d)
            dirs = [d]
            vendor_state = False
        elif surface == "vendor":
            headers, dirs, vendor_state = self.vauth(), ["okta"], True
        else:
            headers, dirs, vendor_state = [], [], False
        body = None
        if method.upper() in ("POST", "PUT", "PATCH", "FOO"):
            body = b'{"schemas":["' + PATCH_SCHEMA.encode() + b'"],"Operations":[]}'
            headers = headers + [("Content-Type", "application/json")]
        return Case(f"method {method} on {surface} route", method, path, headers, body, surface=surface, dirs=dirs,
                    vendor_state=vendor_state)

    def auth_variants(self, good, other_good, wrong_kind):
        return [
            (None, True), ("", True), ("Bearer", True), ("Bearer ", True), ("Bearer  " + good, False),
            ("bearer " + good, False), ("BEARER " + good, False), ("Basic dXNlcjpwYXNz", True),
            ("Bearer " + good + "x", True), ("Bearer " + good[:-1], True), ("Bearer " + good.upper(), True),
            ("Bearer " + other_good, True), ("Bearer " + wrong_kind, True), ("Bearer " + good[:4] + "a" * 5000, True),
            ("Bearer " + good[:3] + "a" * 190, True), (b"Bearer " + good.encode() + b"\xff", True),
            ("Bearer " + good + " extra", True), ("Token " + good, True), ("Bearer\t" + good, True),
            (good, True), ("Bearer " + good + "\t", False), ("Bearer %s" % ("\u00e9" * 10), True),
        ]

    def case_auth(self, rng, idx=None, target=None):
        d = self.pick_dir(rng)
        targets = [
            ("scim", "GET", f"{self.scim_base(d)}/Users", None),
            ("scim", "POST", f"{self.scim_base(d)}/Users", "user"),
            ("scim", "PATCH", f"{self.scim_base(d)}/Users/{self.user_id(d)}", "patch"),
            ("scim", "DELETE", f"{self.scim_base(d)}/Groups/{self.group_id(d, 1)}", None),
            ("scim", "GET", f"{self.scim_base(d)}/ServiceProviderConfig", None),
            ("scim", "POST", f"{self.scim_base(d)}/Bulk", "patch"),
            ("vendor", "GET", "/directories", None),
            ("vendor", "POST", "/organizations", "org"),
            ("vendor", "GET", f"/events?directory_id={self.dirs[d]['id']}", None),
            ("vendor", "DELETE", f"/directories/{self.dirs['other']['id']}/tokens/{self.dirs['other']['spare_token_id']}", None),
            ("vendor", "GET", f"/directories/{self.dirs[d]['id']}/snapshot", None),
            ("vendor", "POST", f"/directories/{self.dirs['other']['id']}/tokens", "org"),
            ("vendor", "PUT", f"/directories/{self.dirs['other']['id']}/attribute_mappings", "mappings"),
        ]
        surface, method, path, kind = target if target else rng.choice(targets)
        prepare = None
        if method == "DELETE":
            # the target is created first, so that an accepted delete removes no fixture
            def prepare(case, d=d, surface=surface):
                if surface == "scim":
                    v = self.setup_call("POST", f"{self.scim_base(d)}/Groups", self.group_body(self.next_uniq()),
                                        token=self.dirs[d]["token"])
                    case.path = f"{self.scim_base(d)}/Groups/{v['id']}"
                else:
                    o = self.dirs["other"]["id"]
                    v = self.setup_call("POST", f"/directories/{o}/tokens", {"name": "auth-target"})
                    case.path = f"/directories/{o}/tokens/{v['id']}"
                self.fp_cache.clear()
        if surface == "scim":
            good, other, wrong = self.dirs[d]["token"], self.dirs["other"]["token"], self.key
        else:
            good, other, wrong = self.key, "sk_" + "0" * 40, self.dirs[d]["token"]
        variants = self.auth_variants(good, other, wrong)
        value, refuse = variants[idx % len(variants)] if idx is not None else rng.choice(variants)
        headers = [] if value is None else [("Authorization", value)]
        if rng.random() < 0.1 and value is not None:
            headers.append(("Authorization", "Bearer " + good))  # a second header
            refuse = False
        body = None
        if kind == "user":
            body = jdump(self.user_body(self.next_uniq()))
        elif kind == "patch":
            body = jdump({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": f"t{self.next_uniq()}"}]})
        elif kind == "org":
            body = jdump({"name": f"fz-auth-{self.next_uniq()}"})
        elif kind == "mappings":
            body = jdump({"mappings": [{"path": "title", "key": f"t{self.next_uniq()}"}]})
        if body is not None:
            headers.append(("Content-Type", "application/json"))
        on_success = self.delete_temp_user(d) if kind == "user" else None
        return Case(f"auth {str(value)[:30]!r} {method}", method, path, headers, body, surface=surface,
                    dirs=[d, "other"] if surface == "scim" else ["other"], vendor_state=surface == "vendor",
                    must_refuse=refuse, on_success=on_success, prepare=prepare)

    def case_content_type(self, rng, ct=None):
        d = self.pick_dir(rng)
        ct = ct if ct is not None else rng.choice(CONTENT_TYPES)
        m, p = rng.choice(self.scim_write_targets(d)[:9])
        if "/Users" in p and m != "PATCH" and ".search" not in p:
            body = self.user_body(self.next_uniq())
        elif "/Groups" in p and m != "PATCH" and ".search" not in p:
            body = self.group_body(self.next_uniq())
        elif m == "PATCH":
            body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "externalId", "value": f"ct{self.next_uniq()}"}]}
        else:
            body = {"schemas": [SEARCH_SCHEMA], "filter": "userName pr"}
        headers = self.sauth(d) + ([] if ct is None else [("Content-Type", ct)])
        if rng.random() < 0.1:
            headers.append(("Content-Type", "text/plain"))
        cleanup = None
        if m == "POST" and p.endswith("/Users"):
            cleanup = self.delete_temp_user(d)
        elif m == "POST" and p.endswith("/Groups"):
            cleanup = self.delete_temp_group(d)
        return Case(f"content-type {str(ct)[:40]!r}", m, p, headers, jdump(body), dirs=[d], on_success=cleanup)

    def case_if_match(self, rng, value=None):
        d = self.pick_dir(rng)
        value = value if value is not None else rng.choice(IF_MATCH)
        kind = rng.choice(["Users", "Groups"])
        m = rng.choice(["PUT", "PATCH", "DELETE"])
        rid = self.user_id(d, 2) if kind == "Users" else self.group_id(d, 1)
        body = None
        headers = self.sauth(d) + [("If-Match", value)]
        if rng.random() < 0.1:
            headers.append(("If-Match", "W/\"1\""))
        if m == "DELETE":
            # delete a temporary resource, so that an accepted delete does not remove a fixture
            def prepare(case, d=d, kind=kind):
                b = self.user_body(self.next_uniq()) if kind == "Users" else self.group_body(self.next_uniq())
                v = self.setup_call("POST", f"{self.scim_base(d)}/{kind}", b, token=self.dirs[d]["token"])
                case.path = f"{self.scim_base(d)}/{kind}/{v['id']}"
                self.fp_cache.clear()
            return Case(f"if-match {str(value)[:30]!r} DELETE", "DELETE", f"{self.scim_base(d)}/{kind}/tmp", headers,
                        dirs=[d], prepare=prepare)
        if m == "PUT":
            body = self.user_body(self.next_uniq()) if kind == "Users" else self.group_body(self.next_uniq())
        else:
            body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "externalId", "value": f"im{self.next_uniq()}"}]}
        return Case(f"if-match {str(value)[:30]!r} {m}", m, f"{self.scim_base(d)}/{kind}/{rid}",
                    headers + [("Content-Type", "application/scim+json")], jdump(body), dirs=[d])

    def case_bulk(self, rng):
        d = self.pick_dir(rng)
        body = rng.choice([
            {"schemas": [BULK_SCHEMA], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "1", "data": self.user_body(self.next_uniq())}]},
            {"schemas": [BULK_SCHEMA], "Operations": [{"method": "DELETE", "path": f"/Users/{self.user_id(d)}"}]},
            {"schemas": [BULK_SCHEMA], "failOnErrors": -1, "Operations": weird_json(rng)},
            weird_json(rng),
        ])
        return Case("bulk", "POST", f"{self.scim_base(d)}/Bulk", self.json_headers(d), jdump(body, rng), dirs=[d])

    def case_discovery(self, rng):
        d = self.pick_dir(rng)
        b = self.scim_base(d)
        p = rng.choice([f"{b}/Schemas/{q(rng.choice([USER_SCHEMA, ENT, GROUP_SCHEMA, USER_SCHEMA.lower(), 'x', '', USER_SCHEMA + ':x']))}",
                        f"{b}/ResourceTypes/{q(rng.choice(['User', 'Group', 'user', 'X', '..', 'x' * 2000]))}",
                        f"{b}/ServiceProviderConfig?filter={q('x eq 1')}&attributes=%00",
                        f"{b}/Schemas?filter={q(rng.choice(FILTER_SPECIAL))}",
                        f"{b}/ResourceTypes?startIndex=-1&count=abc"])
        return Case("discovery", "GET", p, self.sauth(d), dirs=[d])

    # --- vendor

    def case_vendor_body(self, rng, target=None, field=None, tname=None):
        a, o_a, o_b = self.dirs["okta"]["id"], self.orgs["A"], self.orgs["B"]
        n = self.next_uniq()
        templates = {
            "org": ("POST", "/organizations", {"name": f"fz-org-{self.seed}-{n}", "domains": [f"d{n}.fuzz.example"],
                                                "domain_data": [{"domain": f"dd{n}.fuzz.example", "state": "verified"}]},
                    ["name", "domains", "domains.0", "domain_data", "domain_data.0", "domain_data.0.domain", "extra"]),
            "dir": ("POST", "/directories", {"organization_id": o_a, "type": "okta scim v2.0", "name": f"fz-d-{n}"},
                    ["organization_id", "type", "name", "extra"]),
            "token": ("POST", f"/directories/{a}/tokens", {"name": f"t{n}"}, ["name", "extra"]),
            "mappings": ("PUT", f"/directories/{a}/attribute_mappings",
                         {"mappings": [{"path": f"{ENT}:department", "key": "department"}]},
                         ["mappings", "mappings.0", "mappings.0.path", "mappings.0.key", "mappings.1", "extra"]),
            "role": ("POST", f"/organizations/{o_a}/role_mappings",
                     {"group_id": self.group_id("okta", 1), "role_slug": f"role-{n}", "priority": 1},
                     ["group_id", "role_slug", "priority", "extra"]),
        }
        target = target or rng.choice(sorted(templates))
        m, p, body, fields = templates[target]
        field = field or rng.choice(fields)
        tname = tname or rng.choice([t for t, _ in TYPE_CLASSES])
        val = type_value(rng, tname)
        if target == "role" and field == "group_id" and rng.random() < 0.3:
            val = rng.choice([self.group_id("other"), self.user_id("okta"), self.group_id("okta", 1).lower()])
        if target == "dir" and field == "organization_id" and rng.random() < 0.3:
            val = rng.choice(["org_01ARZ3NDEKTSV4RRFFQ69G5FAV", o_b.lower(), o_b + " "])
        if target == "dir" and field == "type" and rng.random() < 0.4:
            val = rng.choice(["OKTA SCIM V2.0", " okta scim v2.0 ", "bamboohr", "okta", "okta scim v2.0\x00", ""])
        if target == "role" and field == "priority":
            val = rng.choice([2 ** 31, -2 ** 31 - 1, 2 ** 31 - 1, 1.0, "1", 1e10, val])
        if target == "mappings" and field in ("mappings.0.path", "mappings.0.key") and rng.random() < 0.5:
            val = rng.choice(["", " ", "x" * 600, "urn:", "emails[type eq \"work\"].value", "\x00", "name.givenName",
                              f"{ENT}:manager.value", "a.b.c.d", "id", "userName"])
        if field != "extra":
            set_path(body, field, val)
        else:
            body["unexpected"] = val
        on_success = None
        if target == "dir":
            def on_success(r):
                v = r.json() or {}
                if v.get("id"):
                    self.http.send("DELETE", f"/directories/{q(v['id'])}", self.vauth())
        if target == "token":
            def on_success(r):
                v = r.json() or {}
                if v.get("id"):
                    self.http.send("DELETE", f"/directories/{a}/tokens/{q(v['id'])}", self.vauth())
        if target == "role":
            def on_success(r):
                v = r.json() or {}
                if v.get("id"):
                    self.http.send("DELETE", f"/organizations/{o_a}/role_mappings/{q(v['id'])}", self.vauth())
        return Case(f"vendor {target} {field}={tname}", m, p, self.vauth() + [("Content-Type", "application/json")],
                    jdump(body, rng), surface="vendor", vendor_state=True, dirs=["okta"], on_success=on_success)

    VENDOR_LISTS = {
        "/organizations": ["limit", "before", "after", "order", "domains"],
        "/directories": ["limit", "before", "after", "order", "organization_id", "search", "domain"],
        "/directory_users": ["limit", "before", "after", "order", "directory", "group", "idp_id", "email"],
        "/directory_groups": ["limit", "before", "after", "order", "directory", "user"],
        "/events": ["limit", "after", "before", "order", "events", "range_start", "range_end", "directory_id",
                    "organization_id", "wait"],
    }

    def vendor_param_value(self, rng, param):
        if param in ("limit",):
            return rng.choice(NUM_PARAM_VALUES)
        if param == "wait":
            return rng.choice(["-1", "31", "abc", "0", "1", "9223372036854775807", "1.5", "", "-9223372036854775808", "%00", "2"])
        if param == "order":
            return rng.choice(["asc", "desc", "normal", "ASC", "", "x", "\x00", "asc,desc"])
        if param == "events":
            return rng.choice(EVENT_NAMES + ["", ",", "dsync.user.created,dsync.x", "DSYNC.USER.CREATED", "\x00",
                                             ",".join(EVENT_NAMES * 20), "dsync.user.*"])
        if param in ("range_start", "range_end"):
            return rng.choice(["2024-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "9999-12-31T23:59:59Z",
                               "0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "+275760-09-13T00:00:00Z",
                               "2024-01-01T00:00:00+25:00", "2024-01-01", "1e10", "now", "\x00",
                               "2024-01-01T00:00:00.9999999999999Z", "1970-01-01T00:00:00Z"])
        if param in ("before", "after"):
            return rng.choice([self.okta_event, self.other_event, self.user_id("okta"), self.user_id("other"),
                               self.dirs["okta"]["id"], "directory_user_01ARZ3NDEKTSV4RRFFQ69G5FAV", "x", "\x00", "a\x00b",
                               "'", "~", "\U0001F600", rand_ascii(rng, 3000), rand_unicode(rng, 1000), "%"])
        ids = {
            "directory": self.dirs["okta"]["id"], "directory_id": self.dirs["okta"]["id"],
            "organization_id": self.orgs["A"], "group": self.group_id("okta"), "user": self.user_id("okta"),
        }
        return rng.choice([ids.get(param, "x"), self.dirs["other"]["id"], "x", "", "\x00", "a\x00b", "%", "_", "'",
                           rand_ascii(rng, 3000), rand_unicode(rng, 1000), "fz0@example.com", "FZ",
                           "directory_01ARZ3NDEKTSV4RRFFQ69G5FAV"])

    def case_vendor_list(self, rng, path=None, param=None, value=None):
        path = path or rng.choice(sorted(self.VENDOR_LISTS))
        params = self.VENDOR_LISTS[path]
        param = param or rng.choice(params)
        value = value if value is not None else self.vendor_param_value(rng, param)
        qs = [f"{param}={q(value)}"]
        r = rng.random()
        if r < 0.15:
            qs.append(f"{param}={q(self.vendor_param_value(rng, param))}")
        elif r < 0.3:
            for p2 in rng.sample(params, min(3, len(params))):
                qs.append(f"{p2}={q(self.vendor_param_value(rng, p2))}")
        elif r < 0.35:
            qs = [f"{param}[]={q(value)}", f"{param}[]={q(value)}"]
        elif r < 0.4:
            qs.append("%FF=%FE&=&&&a&limit")
        extra = 0.0
        if path == "/events":
            if "wait=" not in "&".join(qs) or rng.random() < 0.5:
                qs = [x for x in qs if not x.startswith("wait")]
            for x in qs:
                if x.startswith("wait=") and x[5:].lstrip("-").isdigit() and 0 <= int(x[5:]) <= 30:
                    extra = max(extra, float(x[5:]))
            if extra > 2:  # keep the run short: long polls only of a second or two
                qs = [x for x in qs if not x.startswith("wait")] + ["wait=2"]
                extra = 2.0
            if rng.random() < 0.5:
                qs.append(f"directory_id={self.dirs['okta']['id']}")
        return Case(f"vendor list {path} {param}", "GET", f"{path}?{'&'.join(qs)}", self.vauth(), surface="vendor",
                    extra_time=extra + 1.0 if extra else 0.0)

    def case_vendor_id(self, rng, route_index=None, variant=None):
        a, o = self.dirs["okta"]["id"], self.orgs["A"]
        routes = [
            ("GET", "/organizations/{org}", "org"), ("GET", "/directories/{dir}", "dir"),
            ("DELETE", "/directories/{dir}", "dir"), ("GET", "/directories/{dir}/tokens", "dir"),
            ("POST", "/directories/{dir}/tokens", "dir"), ("DELETE", f"/directories/{a}/tokens/{{token}}", "token"),
            ("DELETE", "/directories/{dir}/tokens/" + self.dirs["okta"]["spare_token_id"], "dir"),
            ("GET", "/directory_users/{user}", "user"), ("GET", "/directory_groups/{group}", "group"),
            ("GET", "/directories/{dir}/snapshot", "dir"), ("GET", "/directories/{dir}/attribute_mappings", "dir"),
            ("PUT", "/directories/{dir}/attribute_mappings", "dir"), ("GET", "/organizations/{org}/role_mappings", "org"),
            ("POST", "/organizations/{org}/role_mappings", "org"),
            ("DELETE", f"/organizations/{o}/role_mappings/{{mapping}}", "mapping"),
            ("DELETE", "/organizations/{org}/role_mappings/" + self.role_mappings["A"], "org"),
            ("GET", "/directory_users/{user}/roles/explain", "user"),
        ]
        m, tmpl, kind = routes[route_index % len(routes)] if route_index is not None else rng.choice(routes)
        real = {"org": o, "dir": a, "token": self.dirs["okta"]["spare_token_id"], "user": self.user_id("okta"),
                "group": self.group_id("okta"), "mapping": self.role_mappings["A"]}[kind]
        variant = variant if variant is not None else rng.choice([v for v in ID_VARIANTS if v not in ("{lower}",)])
        if variant == "{real}":
            rid = real
        else:
            rid = self.weird_id(rng, variant, real, kind)
        path = tmpl.replace("{" + kind + "}", rid)
        body = None
        headers = self.vauth()
        if m in ("POST", "PUT"):
            body = jdump({"name": "x", "mappings": None, "group_id": self.group_id("okta", 1), "role_slug": f"r{self.next_uniq()}"})
            headers = headers + [("Content-Type", "application/json")]
        must_refuse = (variant == "{other}" and m == "DELETE" and kind in ("token", "mapping")) or \
                      (variant == "{fake}" and m == "DELETE")
        if m == "DELETE" and (variant == "{real}" or (kind == "dir" and variant in ("{other}", "{trailing}"))):
            return None  # never delete a fixture
        on_success = None
        if m == "POST" and "tokens" in path:
            def on_success(r):
                v = r.json() or {}
                if v.get("id") and v.get("directory_id"):
                    self.http.send("DELETE", f"/directories/{q(v['directory_id'])}/tokens/{q(v['id'])}", self.vauth())
        if m == "POST" and "role_mappings" in path:
            def on_success(r):
                v = r.json() or {}
                if v.get("id") and v.get("organization_id"):
                    self.http.send("DELETE", f"/organizations/{q(v['organization_id'])}/role_mappings/{q(v['id'])}",
                                   self.vauth())
        return Case(f"vendor id {variant!r} {m} {tmpl}", m, path, headers, body, surface="vendor",
                    vendor_state=True, dirs=["okta", "other"], must_refuse=must_refuse, ndjson=path.endswith("/snapshot"),
                    on_success=on_success)

    def case_events_cursor(self, rng):
        a, x = self.dirs["okta"]["id"], self.dirs["other"]["id"]
        combos = [
            f"directory_id={a}&after={self.other_event}", f"directory_id={x}&after={self.okta_event}",
            f"organization_id={self.orgs['A']}&after={self.other_event}", f"after={self.okta_event}&range_start=2024-01-01T00:00:00Z",
            f"after={self.okta_event}&before={self.okta_event}", f"directory_id={a}&order=desc&after={self.okta_event}",
            f"directory_id={a}&directory_id={x}", f"events=dsync.user.created&events[]=dsync.user.deleted&events=x",
            f"directory_id={a}&limit=100&order=normal", "limit=0", "limit=101", f"directory_id={q(a + chr(0))}",
            f"after={q(self.okta_event + chr(0))}", f"organization_id={q(chr(0))}", f"directory_id={a}&wait=1&after={self.okta_event}&events=dsync.deleted",
            "range_start=2024-01-01T00:00:00Z&range_end=2023-01-01T00:00:00Z", "range_end=9999-12-31T23:59:59Z",
        ]
        qs = rng.choice(combos)
        extra = 2.0 if "wait=1" in qs else 0.0
        return Case("events cursor", "GET", f"/events?{qs}", self.vauth(), surface="vendor", extra_time=extra)

    def case_snapshot(self, rng):
        d = rng.choice(sorted(self.dirs))
        qs = rng.choice(["", "?limit=-1", "?after=x", "?%00"])
        return Case("snapshot", "GET", f"/directories/{self.dirs[d]['id']}/snapshot{qs}", self.vauth(), surface="vendor",
                    ndjson=True)

    def case_protocol(self, rng, which=None):
        d = self.pick_dir(rng)
        host = f"{self.http.host}:{self.http.port}".encode()
        tok = self.dirs[d]["token"].encode()
        path = self.scim_base(d).encode() + b"/Users"
        body = json.dumps(self.user_body(self.next_uniq())).encode()
        h = b"Host: " + host + b"\r\nAuthorization: Bearer " + tok + b"\r\nConnection: close\r\n"
        raws = {
            "bad-chunk": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "cl-and-te": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "two-cl": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
            "cl-short": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Type: application/json\r\nContent-Length: 5\r\n\r\n" + body,
            "cl-negative": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Length: -1\r\n\r\n{}",
            "cl-huge": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Length: 99999999999999999999\r\n\r\n{}",
            "nul-header": b"GET " + path + b" HTTP/1.1\r\n" + h + b"X-A: a\x00b\r\n\r\n",
            "bad-header-name": b"GET " + path + b" HTTP/1.1\r\n" + h + b"X A: b\r\n\r\n",
            "obs-fold": b"GET " + path + b" HTTP/1.1\r\n" + h + b"X-A: a\r\n b\r\n\r\n",
            "http10": b"GET " + path + b" HTTP/1.0\r\nAuthorization: Bearer " + tok + b"\r\n\r\n",
            "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "huge-header": b"GET " + path + b" HTTP/1.1\r\n" + h + b"X-A: " + b"a" * 100000 + b"\r\n\r\n",
            "many-headers": b"GET " + path + b" HTTP/1.1\r\n" + h + b"".join(b"X-%d: a\r\n" % i for i in range(200)) + b"\r\n",
            "long-url": b"GET " + path + b"?filter=" + b"a" * 70000 + b" HTTP/1.1\r\n" + h + b"\r\n",
            "raw-utf8-path": b"GET " + self.scim_base(d).encode() + b"/Users/\xff\xfe HTTP/1.1\r\n" + h + b"\r\n",
            "raw-space-query": b"GET " + path + b"?filter=userName pr HTTP/1.1\r\n" + h + b"\r\n",
            "absolute-uri": b"GET http://" + host + path + b" HTTP/1.1\r\n" + h + b"\r\n",
            "pipelined": (b"GET " + path + b"?count=1 HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer " + tok + b"\r\n\r\n") * 3
                         + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "expect-100": b"POST " + path + b" HTTP/1.1\r\n" + h + b"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
            "lf-only": b"GET " + path + b" HTTP/1.1\nHost: " + host + b"\nAuthorization: Bearer " + tok + b"\nConnection: close\n\n",
        }
        which = which or rng.choice(sorted(raws))
        return Case(f"protocol {which}", "RAW", path.decode() + f" ({which})", raw=raws[which], surface="protocol", dirs=[d])

    # --- atomicity: a valid change followed by an invalid one must leave nothing applied

    def atomicity_cases(self, rng):
        out = []
        bad_user_ops = [
            {"op": "replace", "path": "userName", "value": 5},
            {"op": "replace", "path": "emails[type eq]", "value": "x"},
            {"op": "remove", "path": "userName"},
            {"op": "move", "path": "title"},
            {"op": "replace", "path": "active", "value": {"x": 1}},
            {"op": "add", "path": "name.givenName.x", "value": "y"},
            {"op": "replace", "path": "id", "value": "new-id"},
            {"op": "replace", "path": "title", "value": "a\u0000b"},
        ]
        bad_group_ops = [
            {"op": "add", "path": "members", "value": [{"value": "{xu}"}]},
            {"op": "add", "path": "members", "value": [{"value": "directory_user_01ARZ3NDEKTSV4RRFFQ69G5FAV"}]},
            {"op": "add", "path": "members", "value": [{"value": "{self}"}]},
            {"op": "replace", "path": "displayName", "value": 5},
            {"op": "remove", "path": "members[value eq]"},
            {"op": "replace", "path": "displayName", "value": None},
        ]
        for d in self.dir_keys:
            b = self.scim_base(d)
            u = self.user_id(d, 1)
            g = self.group_id(d, 1)
            for bad in bad_user_ops:
                good = [{"op": "replace", "path": "title", "value": f"atom-{self.next_uniq()}"},
                        {"op": "add", "path": "emails", "value": [{"value": f"atom{self.next_uniq()}@example.com", "type": "home"}]}]
                ops = good + [bad]
                if rng.random() < 0.3:
                    ops = ops + good * 300
                out.append(Case(f"atomic user patch + {bad['op']} {bad.get('path')}", "PATCH", f"{b}/Users/{u}",
                                self.json_headers(d), jdump({"schemas": [PATCH_SCHEMA], "Operations": ops}), dirs=[d]))
            for bad in bad_group_ops:
                bad = json.loads(json.dumps(bad).replace("{xu}", self.user_id("other")).replace("{self}", g))
                good = [{"op": "add", "path": "members", "value": [{"value": self.user_id(d, 2)}]},
                        {"op": "replace", "path": "externalId", "value": f"atom-{self.next_uniq()}"}]
                out.append(Case(f"atomic group patch + {bad['op']} {bad.get('path')}", "PATCH", f"{b}/Groups/{g}",
                                self.json_headers(d), jdump({"schemas": [PATCH_SCHEMA], "Operations": good + [bad]}),
                                dirs=[d, "other"]))
            # PUT / POST groups with one good and one bad member
            for bad_member in (self.user_id("other"), "directory_user_01ARZ3NDEKTSV4RRFFQ69G5FAV", self.group_id("other"), g):
                body = self.group_body(self.next_uniq(), [self.user_id(d, 2), bad_member])
                out.append(Case("atomic group create with a bad member", "POST", f"{b}/Groups", self.json_headers(d),
                                jdump(body), dirs=[d, "other"], on_success=self.delete_temp_group(d)))
                body = self.group_body(self.next_uniq(), [self.user_id(d, 2), bad_member])
                out.append(Case("atomic group put with a bad member", "PUT", f"{b}/Groups/{g}", self.json_headers(d),
                                jdump(body), dirs=[d, "other"]))
            # PUT user: a valid rename plus one bad attribute; a rename onto another user's name
            body = self.user_body(self.next_uniq())
            body["active"] = {"x": 1}
            out.append(Case("atomic user put with a bad attribute", "PUT", f"{b}/Users/{u}", self.json_headers(d),
                            jdump(body), dirs=[d]))
            body = self.user_body(self.next_uniq())
            body["userName"] = f"FZ{self.seed}.{0}@EXAMPLE.COM"
            out.append(Case("user put onto a taken userName", "PUT", f"{b}/Users/{u}", self.json_headers(d),
                            jdump(body), dirs=[d]))
        return out

    # --- scenarios: state transitions, then the reads that follow them

    def step(self, label, method, path, body=None, token=None, surface="vendor", want=None):
        """A checked preparatory request; returns the parsed body (or None)."""
        headers = [("Authorization", "Bearer " + (token or self.key))]
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        c = Case(label, method, path, headers, data, surface=surface)
        r = self.http.send(method, path, headers, data)
        self.check(c, r)
        if want is not None and r.status not in want:
            raise SetupError(f"{label}: {method} {path} answered {r.status} {r.body[:200]!r}")
        return r.json()

    def scenarios(self):
        """Cases whose preparation changes state (deletions, revocations, nesting) first."""
        o = self.orgs["A"]
        okta = self.dirs["okta"]
        base = self.scim_base("okta")
        tok = okta["token"]
        out = []

        def manager_deleted(case):
            a = self.step("create manager", "POST", f"{base}/Users", self.user_body(self.next_uniq()), tok, "scim", (201,))
            b = self.step("create report", "POST", f"{base}/Users", self.user_body(self.next_uniq(), a["id"]), tok, "scim", (201,))
            self.step("delete manager", "DELETE", f"{base}/Users/{a['id']}", None, tok, "scim", (204,))
            self.step("report via SCIM", "GET", f"{base}/Users/{b['id']}", None, tok, "scim")
            flt = q(f'{ENT}:manager.value eq "{a["id"]}"')
            self.step("filter on deleted manager", "GET", f"{base}/Users?filter={flt}", None, tok, "scim")
            case.path = f"/directory_users/{b['id']}"
            self.fp_cache.clear()
        out.append(Case("scenario: manager deleted, report read", "GET", "/directory_users/x", self.vauth(),
                        surface="vendor", prepare=manager_deleted))

        def mapped_group_deleted(case):
            g = self.step("create group", "POST", f"{base}/Groups", self.group_body(self.next_uniq(), [okta["users"][2]]), tok, "scim", (201,))
            self.step("map group", "POST", f"/organizations/{o}/role_mappings", {"group_id": g["id"], "role_slug": f"tmp-{self.seed}"}, want=(201,))
            self.step("explain before", "GET", f"/directory_users/{okta['users'][2]}/roles/explain")
            self.step("delete mapped group", "DELETE", f"{base}/Groups/{g['id']}", None, tok, "scim", (204,))
            self.step("role mappings after", "GET", f"/organizations/{o}/role_mappings")
            case.path = f"/directory_users/{okta['users'][2]}/roles/explain"
            self.fp_cache.clear()
        out.append(Case("scenario: mapped group deleted, explain", "GET", "/x", self.vauth(), surface="vendor",
                        prepare=mapped_group_deleted))

        def cycle(case):
            g1, g2 = okta["groups"]
            p = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "members", "value": [{"value": g1}]}]}
            self.step("nest g1 in g2", "PATCH", f"{base}/Groups/{g2}", p, tok, "scim")
            p = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "members", "value": [{"value": g2}]}]}
            self.step("nest g2 in g1", "PATCH", f"{base}/Groups/{g1}", p, tok, "scim")
            self.step("snapshot with a cycle", "GET", f"/directories/{okta['id']}/snapshot")
            self.step("groups of a user", "GET", f"/directory_groups?user={okta['users'][0]}")
            flt = q(f'members.value eq "{g1}"')
            self.step("members filter", "GET", f"{base}/Groups?filter={flt}", None, tok, "scim")
            case.path = f"/directory_users/{okta['users'][0]}/roles/explain"
            self.fp_cache.clear()
        out.append(Case("scenario: group cycle, explain", "GET", "/x", self.vauth(), surface="vendor", prepare=cycle))

        def revoked(case):
            t = self.step("new token", "POST", f"/directories/{okta['id']}/tokens", {"name": "revoke-me"}, want=(201,))
            self.step("use it", "GET", f"{base}/Users?count=1", None, t["bearer_token"], "scim", (200,))
            self.step("revoke it", "DELETE", f"/directories/{okta['id']}/tokens/{t['id']}", want=(204,))
            self.step("revoke twice", "DELETE", f"/directories/{okta['id']}/tokens/{t['id']}")
            case.headers = [("Authorization", "Bearer " + t["bearer_token"])]
            self.fp_cache.clear()
        out.append(Case("scenario: revoked token used", "GET", f"{base}/Users", [], must_refuse=True, dirs=["okta"],
                        prepare=revoked))

        def dir_deleted(case):
            d = self.step("new directory", "POST", "/directories", {"organization_id": o, "type": "azure scim v2.0", "name": "doomed"}, want=(201,))
            b = f"/scim/v2/{d['id']}"
            u = self.step("user", "POST", f"{b}/Users", self.user_body(self.next_uniq()), d["bearer_token"], "scim", (201,))
            g = self.step("group", "POST", f"{b}/Groups", self.group_body(self.next_uniq(), [u["id"]]), d["bearer_token"], "scim", (201,))
            self.step("map", "POST", f"/organizations/{o}/role_mappings", {"group_id": g["id"], "role_slug": "doomed"}, want=(201,))
            ev = self.step("events", "GET", f"/events?directory_id={d['id']}&limit=1")
            self.step("delete directory", "DELETE", f"/directories/{d['id']}", want=(202, 204))
            for _ in range(2):
                self.step("delete directory twice", "DELETE", f"/directories/{d['id']}")
            self.step("old token", "GET", f"{b}/Users", None, d["bearer_token"], "scim")
            self.step("old user", "GET", f"/directory_users/{u['id']}")
            self.step("old group", "GET", f"/directory_groups/{g['id']}")
            self.step("old users list", "GET", f"/directory_users?directory={d['id']}")
            self.step("old snapshot", "GET", f"/directories/{d['id']}/snapshot")
            self.step("role mappings", "GET", f"/organizations/{o}/role_mappings")
            self.step("explain", "GET", f"/directory_users/{u['id']}/roles/explain")
            first = (ev or {}).get("data", [{}])[0].get("id") if (ev or {}).get("data") else None
            case.path = f"/events?directory_id={d['id']}" + (f"&after={first}" if first else "")
            self.fp_cache.clear()
        out.append(Case("scenario: directory deleted, its events", "GET", "/x", self.vauth(), surface="vendor",
                        prepare=dir_deleted))
        return out

    def case_unread_body(self, rng, target, size, chunked):
        """A body on a request whose handler does not read one (GET, DELETE, Bulk)."""
        d = self.pick_dir(rng)
        b = self.scim_base(d)
        m, p, surface = {
            "scim-get": ("GET", f"{b}/Users", "scim"), "scim-spc": ("GET", f"{b}/ServiceProviderConfig", "scim"),
            "scim-delete": ("DELETE", f"{b}/Users/directory_user_01ARZ3NDEKTSV4RRFFQ69G5FAV", "scim"),
            "scim-bulk": ("POST", f"{b}/Bulk", "scim"), "scim-bulk-badauth": ("POST", f"{b}/Bulk", "scim"),
            "vendor-get": ("GET", "/directories", "vendor"), "vendor-events": ("GET", "/events?limit=1", "vendor"),
            "vendor-404": ("POST", "/nope", "vendor"),
        }[target]
        headers = self.sauth(d) if surface == "scim" else self.vauth()
        if target == "scim-bulk-badauth":
            headers = [("Authorization", "Bearer sgd_invalid")]
        body = json.dumps({"schemas": [BULK_SCHEMA], "Operations": [], "pad": "x" * size}).encode()
        return Case(f"unread {'chunked ' if chunked else ''}body of {size} B on {target}", m, p,
                    headers + [("Content-Type", "application/json")], body, surface=surface, chunked=chunked,
                    dirs=[d] if surface == "scim" else [])

    # ---------------------------------------------------------------- phases

    def corpus(self):
        """The fixed corpus: every category, systematically. Yields (category, Case)."""
        rng = random.Random(f"corpus-{self.seed}")
        # every route x every method
        for path, allowed in self.scim_routes("okta"):
            for m in ALL_METHODS:
                if m not in allowed:
                    yield "methods", self.case_method(rng, "scim", path, m, allowed)
        for path, allowed in self.vendor_routes():
            for m in ALL_METHODS:
                if m not in allowed:
                    yield "methods", self.case_method(rng, "vendor", path, m, allowed)
        for path in ("/healthz", "/readyz", "/metrics"):
            for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
                yield "methods", self.case_method(rng, "ops", path, m, {"GET"})
        # credentials on every kind of endpoint
        for t in range(11):
            for i in range(len(self.auth_variants("a" * 10, "b", "c"))):
                if (t + i) % 2 == 0:
                    yield "auth", self.case_auth(rng, idx=i, target=None)
        # Content-Types
        for ct in CONTENT_TYPES:
            yield "content-type", self.case_content_type(rng, ct)
            yield "content-type", self.case_content_type(rng, ct)
        # malformed bodies on every write endpoint
        targets = self.scim_write_targets("okta") + [("vendor",) + t for t in self.vendor_write_targets()]
        for name, _ in self.RAW_BODIES:
            for t in targets:
                if name in ("near-limit", "over-limit", "many-keys", "huge-array", "deep-list-100k", "deep-obj-100k",
                            "deep-in-attr", "unclosed-deep") and rng.random() < 0.6:
                    continue  # the big ones on a sample of the endpoints
                yield "raw-body", self.case_raw(rng, name, t)
        # every attribute x every kind of JSON type (the core kinds everywhere, the others in rotation)
        core = ["null", "true", "zero", "i64max+1", "float", "str", "nul", "long3k", "list-str", "obj-val"]
        rest = [t for t, _ in TYPE_CLASSES if t not in core]
        for i, path in enumerate(USER_BODY_PATHS):
            for tname in core + [rest[(2 * i) % len(rest)], rest[(2 * i + 1) % len(rest)]]:
                yield "user-types", self.case_user_type(rng, path, tname, method="POST")
        for i, path in enumerate(GROUP_BODY_PATHS):
            for tname in core + [rest[(2 * i) % len(rest)], rest[(2 * i + 1) % len(rest)]]:
                yield "group-types", self.case_group_type(rng, path, tname)
        # PATCH: every path with each op
        for p in USER_PATCH_PATHS:
            for op in ("add", "replace", "remove"):
                yield "patch", self.case_patch(rng, "Users", p, op)
        for p in GROUP_PATCH_PATHS:
            for op in ("add", "replace", "remove"):
                yield "patch", self.case_patch(rng, "Groups", p, op)
        # filters: every operator on every attribute, the special ones, deep ones
        for kind, attrs in (("Users", FILTER_USER_ATTRS), ("Groups", FILTER_GROUP_ATTRS)):
            for i, a in enumerate(attrs):
                for j, op in enumerate(FILTER_OPS):
                    v = FILTER_VALUES[(i * 7 + j) % len(FILTER_VALUES)]
                    flt = f"{a} {op}" if op == "pr" else f"{a} {op} {v}"
                    yield "filter", self.case_filter(rng, kind, flt, via="get")
        for flt in FILTER_SPECIAL:
            yield "filter", self.case_filter(rng, rng.choice(["Users", "Groups", "root"]), flt)
        for n in (49, 50, 51, 63, 64, 65, 200, 1000, 2040):
            for kind in ("paren", "not", "chain-and", "chain-or", "chain-mixed", "valpath", "valpath-paren",
                         "nested-bracket", "unbalanced"):
                yield "filter", self.case_filter(rng, rng.choice(["Users", "Groups", "root"]), filter_deep(n, kind))
        for field in ("filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes", "schemas"):
            for tname, _ in TYPE_CLASSES:
                yield "search-body", self.case_search_types(rng, field, tname)
        # list parameters
        for param in ("startIndex", "count"):
            for v in NUM_PARAM_VALUES:
                yield "list-params", self.case_list_params(rng, param, v)
        for a in FILTER_USER_ATTRS + ["", "x[y]", "(", "\x00", "x" * 5000]:
            yield "list-params", self.case_list_params(rng, "sortBy", a)
        for v in ("", "ascending", "descending", "DESCENDING", "asc", "x", "\x00"):
            yield "list-params", self.case_list_params(rng, "sortOrder", v)
        for _ in range(20):
            yield "list-params", self.case_list_params(rng, rng.choice(["attributes", "excludedAttributes"]))
        for _ in range(20):
            yield "list-params", self.case_get_projection(rng)
        # identifiers
        for v in ID_VARIANTS:
            for m in ("GET", "PUT", "PATCH", "DELETE"):
                yield "scim-ids", self.case_scim_id(rng, v, m)
        for v in ID_VARIANTS + ["{real}"]:
            for i in range(17):
                c = self.case_vendor_id(rng, i, v)
                if c:
                    yield "vendor-ids", c
        # If-Match
        for v in IF_MATCH:
            yield "if-match", self.case_if_match(rng, v)
        # vendor API bodies: every field x every type
        for target, fields in (("org", ["name", "domains", "domains.0", "domain_data", "domain_data.0.domain", "extra"]),
                               ("dir", ["organization_id", "type", "name"]), ("token", ["name"]),
                               ("mappings", ["mappings", "mappings.0", "mappings.0.path", "mappings.0.key"]),
                               ("role", ["group_id", "role_slug", "priority"])):
            for f in fields:
                for tname, _ in TYPE_CLASSES:
                    yield "vendor-body", self.case_vendor_body(rng, target, f, tname)
        # vendor list parameters and /events
        for path, params in sorted(self.VENDOR_LISTS.items()):
            for p in params:
                for _ in range(6):
                    yield "vendor-list", self.case_vendor_list(rng, path, p)
        for _ in range(17):
            yield "vendor-list", self.case_events_cursor(rng)
        for _ in range(4):
            yield "vendor-list", self.case_snapshot(rng)
        for _ in range(6):
            yield "discovery", self.case_discovery(rng)
            yield "discovery", self.case_bulk(rng)
        # atomicity: valid + invalid in one request
        for c in self.atomicity_cases(rng):
            yield "atomicity", c
        # state transitions followed by reads
        for c in self.scenarios():
            yield "scenario", c
        # HTTP oddities
        for target in ("scim-get", "scim-spc", "scim-delete", "scim-bulk", "scim-bulk-badauth", "vendor-get",
                       "vendor-events", "vendor-404"):
            for size, chunked in ((1000, True), (600000, True), (600000, False)):
                yield "protocol", self.case_unread_body(rng, target, size, chunked)
        for which in ("bad-chunk", "cl-and-te", "two-cl", "cl-short", "cl-negative", "cl-huge", "nul-header",
                      "bad-header-name", "obs-fold", "http10", "http2-preface", "huge-header", "many-headers",
                      "long-url", "raw-utf8-path", "raw-space-query", "absolute-uri", "pipelined", "expect-100",
                      "lf-only"):
            yield "protocol", self.case_protocol(rng, which)

    def random_case(self, rng):
        gens = [
            (self.case_user_type, 10), (self.case_group_type, 6), (self.case_patch, 16), (self.case_raw, 6),
            (self.case_filter, 12), (self.case_search_types, 3), (self.case_list_params, 6),
            (self.case_get_projection, 2), (self.case_scim_id, 5), (self.case_auth, 4), (self.case_content_type, 3),
            (self.case_if_match, 3), (self.case_bulk, 1), (self.case_discovery, 1), (self.case_vendor_body, 8),
            (self.case_vendor_list, 6), (self.case_vendor_id, 4), (self.case_events_cursor, 2), (self.case_snapshot, 1),
        ]
        total = sum(w for _, w in gens)
        x = rng.uniform(0, total)
        for g, w in gens:
            x -= w
            if x <= 0:
                return g(rng)
        return gens[0][0](rng)

    def cases(self):
        """Every category of the corpus and the random cases, merged in proportion, so that a
        run cut short by --budget has covered a part of each (the order depends on --seed only)."""
        cats = {}
        for cat, c in self.corpus():
            cats.setdefault(cat, []).append(c)
        rng = random.Random(f"random-{self.seed}")
        cats["random"] = [self.random_case(rng) for _ in range(self.args.iterations)]
        order = []
        for ci, (cat, lst) in enumerate(cats.items()):
            n = len(lst)
            for k, c in enumerate(lst):
                order.append(((k + 0.5) / n, ci, k, cat, c))
        order.sort(key=lambda t: (t[0], t[1], t[2]))
        self.category_sizes = {cat: len(lst) for cat, lst in cats.items()}
        for _, _, _, cat, c in order:
            yield cat, c

    def run(self):
        ran = {}
        stopped = None
        try:
            for i, (phase, case) in enumerate(self.cases()):
                self.case_index = i
                if case is None:
                    continue
                if self.args.only is not None and i != self.args.only:
                    continue
                if not self.budget_left():
                    stopped = f"time budget of {self.args.budget:.0f}s reached at case {i} ({phase})"
                    break
                self.execute(case)
                ran[phase] = ran.get(phase, 0) + 1
                if i % 250 == 0 and not self.args.verbose:
                    self.log(f"  case {i} ({phase}), {self.http.sent} requests, {time.monotonic() - self.t0:.0f}s, "
                             f"{len(self.findings)} distinct findings")
        except Abort as e:
            stopped = f"aborted: {e}"
        return ran, stopped

    def final_checks(self):
        """Delete the directories this run created (unless --keep); read the server's 5xx counter."""
        if not self.args.keep and getattr(self, "dirs", None):
            for key, d in self.dirs.items():
                c = Case("cleanup: delete directory", "DELETE", f"/directories/{d['id']}", self.vauth(), surface="vendor")
                r = self.http.send(c.method, c.path, c.headers)
                self.check(c, r)
        r = self.http.send("GET", "/metrics")
        m = re.search(rb'class="5xx"\} (\d+)', r.body or b"")
        return int(m.group(1)) if m else None

    def report(self, ran, stopped, metrics_5xx):
        elapsed = time.monotonic() - self.t0
        self.log("")
        self.log(f"seed {self.seed}: {sum(ran.values())} cases, {self.http.sent} requests, "
                 f"{elapsed:.0f}s" + (f" ({stopped})" if stopped else ""))
        self.log("cases run per category: " + ", ".join(
            f"{c} {ran.get(c, 0)}/{n}" for c, n in getattr(self, "category_sizes", {}).items()))
        self.log("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.status_counts.items())))
        if metrics_5xx is not None:
            self.log(f"server's 5xx counter (/metrics): {metrics_5xx}")
        self.log("slowest: " + "; ".join(f"{e:.2f}s case {i} {lbl} -> {st}" for e, i, lbl, _, _, st in self.slowest))
        if not self.findings:
            self.log("no findings")
            return
        self.log(f"{len(self.findings)} distinct findings ({self.n_findings} occurrences):")
        for sig, f in sorted(self.findings.items(), key=lambda kv: (kv[0][0], kv[0][3])):
            kind, surface, method, route, status, _ = sig
            self.log(f"\n[{kind}] {surface} {method} {route} -> {status}  x{f['count']}")
            if len(f["routes"]) > 1:
                self.log(f"  routes: {', '.join(f['routes'])}")
            for ex in f["examples"]:
                rq, rs = ex["request"], ex["response"]
                self.log(f"  case {ex['case']} ({ex['label']}): {ex['detail']}")
                self.log(f"    {rq['method']} {rq['path']!r}")
                for k, v in rq["headers"]:
                    self.log(f"      {k}: {v!r}" if not isinstance(v, str) else f"      {k}: {v[:120]}")
                if rq["body_bytes"]:
                    self.log(f"    body ({rq['body_bytes']} bytes{', chunked' if rq['chunked'] else ''}): {rq['body'][:300]!r}")
                self.log(f"    -> {rs['status']} in {rs['elapsed']}s {rs['content_type'] or ''} {rs['error'] or ''} {rs['body'][:300]!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:18555", help="the server's base URL")
    ap.add_argument("--api-key", required=True, help="a vendor API key (sk_...)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=1500, help="random cases after the fixed corpus")
    ap.add_argument("--budget", type=float, default=170.0, help="stop after this many seconds")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for an answer")
    ap.add_argument("--only", type=int, default=None, help="run only case number N (after the setup)")
    ap.add_argument("--report", help="write the findings as JSON to this file")
    ap.add_argument("--label", default="", help="a name for this run in the report (e.g. the backend)")
    ap.add_argument("--keep", action="store_true", help="keep the directories created (default: delete them at the end)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()

    fz = Fuzzer(args)
    try:
        fz.setup()
    except SetupError as e:
        print(f"setup failed: {e}", file=sys.stderr)
        return 2
    ran, stopped = fz.run()
    m5 = fz.final_checks()
    fz.report(ran, stopped, m5)
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"label": args.label, "seed": args.seed, "base": args.base, "cases": ran, "stopped": stopped,
                       "requests": fz.http.sent, "statuses": {str(k): v for k, v in fz.status_counts.items()},
                       "findings": [{"signature": list(map(str, sig)), **v} for sig, v in fz.findings.items()]},
                      f, indent=2, ensure_ascii=False)
    return 1 if fz.findings else 0


if __name__ == "__main__":
    sys.exit(main())
