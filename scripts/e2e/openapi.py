#!/usr/bin/env python3
"""The OpenAPI contract as served: start the release binary (SQLite), fetch GET /openapi.json
without credentials, and check it with openapi-spec-validator (pinned in requirements.txt) as an
OpenAPI 3.1 document; then that it names both bearer schemes and that every operation answers
401 with its surface's error body.

Ends with 'N passed, N failed' (checks).
"""

import sys

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import lib


def main():
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)

    db_dir = lib.WORK_DIR / "openapi-db"
    db_dir.mkdir(parents=True, exist_ok=True)
    with lib.Server(f"sqlite://{db_dir / 'scimgate.db'}", lib.new_api_key(), name="openapi") as server:
        status, doc, text = lib.http_request("GET", server.url + "/openapi.json")
    check("GET /openapi.json answers 200 without credentials", status == 200, f"{status} {text[:200]}")
    if not isinstance(doc, dict):
        print(f"{sum(results)} passed, {len(results) - sum(results) + 1} failed")
        sys.exit(1)
    check("it is OpenAPI 3.1", str(doc.get("openapi", "")).startswith("3.1."), str(doc.get("openapi")))
    try:
        validate(doc)
        check("openapi-spec-validator accepts it", True)
    except OpenAPIValidationError as e:
        check("openapi-spec-validator accepts it", False, str(e)[:2000])
    schemes = doc.get("components", {}).get("securitySchemes", {})
    check("bearer schemes api_key and directory_token",
          all(schemes.get(s, {}).get("scheme") == "bearer" for s in ("api_key", "directory_token")), str(schemes))
    ops = [(m, p, op) for p, item in doc.get("paths", {}).items() for m, op in item.items()]
    check("vendor and SCIM operations", len(ops) >= 56 and any(p.startswith("/scim/v2/") for _, p, _ in ops),
          f"{len(ops)} operations")
    wrong = []
    for m, p, op in ops:
        ct = "application/scim+json" if p.startswith("/scim/") else "application/json"
        if ct not in op.get("responses", {}).get("401", {}).get("content", {}):
            wrong.append(f"{m} {p}")
    check("every operation documents its 401 body", not wrong, ", ".join(wrong[:10]))
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
