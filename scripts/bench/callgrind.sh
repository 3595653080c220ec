#!/usr/bin/env bash
# Server instructions per request, counted by callgrind: repeatable for the same build and
# inputs whatever else the VM is doing, where wall-clock figures on a shared VM move from
# one minute to the next (docs/BENCHMARKS.md).
#
#   scripts/bench/callgrind.sh BIN create|lookup [N=1000]
#   scripts/bench/callgrind.sh BIN group          (20 sequential PATCHes of 100 members)
#   BACKEND=sqlite scripts/bench/callgrind.sh …    (the embedded default; SQLite's own work
#                                                 is in the server's process and counted)
#
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust), a fresh database per run; one
# HTTP worker. `create`: N users are created first (warm-up), then N more are counted;
# `lookup`: N userName lookups of existing users are counted; `group`: 2,000 users and a
# first group of 1,000 members, then 20 PATCHes adding 100 members each to a new group.
# Prints the instructions of the counted phase and per request (per PATCH for group).
set -euo pipefail
bin=${1:?binary}; wl=${2:?create, lookup or group}; n=${3:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "$root/.." && pwd)/shared
py=${SCIMBENCH_PYTHON:-/var/tmp/scimbench/bin/python}
[ -x "$py" ] || { python3 -m venv /var/tmp/scimbench && /var/tmp/scimbench/bin/pip install -q aiohttp; py=/var/tmp/scimbench/bin/python; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
port=18470; db=scimgate_callgrind_$$; key=sk_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
out=$(mktemp -d)
backend=${BACKEND:-pg}
if [ "$backend" = pg ]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $db" >/dev/null
  url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
else
  url="sqlite://$out/data/scimgate.db"
fi
cleanup() { kill "${vp:-0}" 2>/dev/null || true; wait "${vp:-0}" 2>/dev/null || true
  [ "$backend" = pg ] && psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  rm -rf "$out"; }
trap cleanup EXIT
[ -n "${KEEP_CALLGRIND:-}" ] && trap 'cp "$out"/cg.* "$KEEP_CALLGRIND"/ 2>/dev/null; cleanup' EXIT
SCIMGATE_DATABASE_URL="$url" SCIMGATE_LISTEN=127.0.0.1:$port \
  SCIMGATE_BOOTSTRAP_API_KEY=$key RUST_LOG=warn SCIMGATE_WORKERS=1 \
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" "$bin" serve >"$out/server.log" 2>&1 &
vp=$!
# shellcheck source=directory.sh
. "$root/scripts/bench/directory.sh"
bench_directory "$port" "$key" "$py" "$out/dir.json" 300 0.2   # valgrind starts slowly
base=http://127.0.0.1:$port/scim/v2/$DIR
bench() { "$py" "$shared/bench/scimbench.py" --base-url "$base" --token "$TOK" -c 4 --timeout 600 "$@" >/dev/null; }
group() { # $1 = users | add FROM TO (sequential PATCHes of 100 to a new group)
  "$py" - "$base" "$TOK" "$out/ids.json" "$@" <<'PY'
import asyncio, json, sys, uuid, aiohttp
base, tok, ids_file, mode = sys.argv[1:5]
h = {"Authorization": f"Bearer {tok}", "Content-Type": "application/scim+json"}
async def main():
    async with aiohttp.ClientSession(headers=h) as s:
        if mode == "users":
            ids = []
            for i in range(2000):
                async with s.post(f"{base}/Users", json={"userName": f"cg.{i}@example.com", "active": True}) as r:
                    ids.append((await r.json())["id"])
            json.dump(ids, open(ids_file, "w")); return
        ids = json.load(open(ids_file)); k0, k1 = int(sys.argv[5]), int(sys.argv[6])
        async with s.post(f"{base}/Groups", json={"displayName": f"cg-{uuid.uuid4().hex[:6]}"}) as r:
            gid = (await r.json())["id"]
        for k in range(k0, k1, 100):
            body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": x} for x in ids[k:k + 100]]}]}
            async with s.patch(f"{base}/Groups/{gid}", json=body) as r:
                assert r.status in (200, 204), await r.text()
asyncio.run(main())
PY
}
case $wl in
  create) bench -n "$n" --workloads create --run-id cgwarm
          callgrind_control -z "$vp" >/dev/null 2>&1; bench -n "$n" --workloads create --run-id cg; per=$n ;;
  lookup) bench -n "$n" --workloads create --run-id cg   # the same run id: every lookup finds its user
          callgrind_control -z "$vp" >/dev/null 2>&1; bench -n "$n" --workloads lookup --run-id cg; per=$n ;;
  lookup-miss) bench -n "$n" --workloads create --run-id cgwarm   # lookups of absent names, as a full sync's
          callgrind_control -z "$vp" >/dev/null 2>&1; bench -n "$n" --workloads lookup --run-id cg; per=$n ;;
  group) group users; group add 0 1000
         callgrind_control -z "$vp" >/dev/null 2>&1; group add 0 2000; per=20 ;;
  *) echo "unknown workload $wl" >&2; exit 2 ;;
esac
callgrind_control -d "$vp" >/dev/null 2>&1
sleep 1
ir=$(grep -h "^summary:\|^totals:" "$out"/cg.*.1 | head -1 | awk '{print $2}')
echo "$(basename "$bin") $backend $wl: $ir instructions, $((ir / per)) per $([ "$wl" = group ] && echo PATCH || echo request)"
