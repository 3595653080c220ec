#!/usr/bin/env bash
# Reproduce the SCIM figures of docs/BENCHMARKS.md with ../shared/bench/scimbench.py.
#
#   scripts/bench/run_scim.sh sqlite|pg [RUNS=3] [OUT=/var/tmp/scimgate-bench]
#   SCIMGATE_BIN=/path/to/other/scimgate scripts/bench/run_scim.sh …   (an A/B against another build)
#
# Each run gets a fresh database and server: scimbench `bench` (-n 5000 -c 16), then a
# fresh one for `fullsync` (10,000 users + a 10,000-member group). The server's peak RSS
# (VmHWM) is recorded per run. PostgreSQL: 127.0.0.1:5432, user postgres (trust), with
# its default synchronous_commit=on; the databases created here are dropped afterwards.
set -euo pipefail
backend=${1:?sqlite or pg}
runs=${2:-3}
out=${3:-/var/tmp/scimgate-bench}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "$root/.." && pwd)/shared
target=${CARGO_TARGET_DIR:-$root/target}
bin=${SCIMGATE_BIN:-$target/release/scimgate}  # SCIMGATE_BIN: compare another build
py=${SCIMBENCH_PYTHON:-/var/tmp/scimbench/bin/python}
[ -x "$py" ] || { python3 -m venv /var/tmp/scimbench && /var/tmp/scimbench/bin/pip install -q aiohttp; py=/var/tmp/scimbench/bin/python; }
[ -n "${SCIMGATE_BIN:-}" ] || (cd "$root" && cargo build --release -q -p scimgate-api)
port=18190
key=sk_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$out"
# shellcheck source=directory.sh
. "$root/scripts/bench/directory.sh"

start() { # $1 = label → sets PID DIR TOK WORK
  WORK="$out/$backend-$1"; rm -rf "$WORK"; mkdir -p "$WORK"
  if [ "$backend" = pg ]; then
    DB="scimgate_bench_$$_${1//-/_}"
    psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/$DB?sslmode=${PGSSLMODE_BENCH:-disable}"
  else
    url="sqlite://$WORK/data/scimgate.db"
  fi
  SCIMGATE_DATABASE_URL=$url SCIMGATE_LISTEN=127.0.0.1:$port SCIMGATE_BOOTSTRAP_API_KEY=$key RUST_LOG=warn \
    "$bin" serve >"$WORK/server.log" 2>&1 &
  PID=$!
  bench_directory "$port" "$key" "$py" "$WORK/dir.json"
}
stop() {
  grep VmHWM "/proc/$PID/status" | awk '{print $2}' >"$WORK/rss_kb"
  kill "$PID"; wait "$PID" 2>/dev/null || true
  [ "$backend" = pg ] && psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  return 0
}
comm=(); [ "$backend" = pg ] && comm=(--cpu-comm postgres)
for r in $(seq 1 "$runs"); do
  start "run$r"
  "$py" "$shared/bench/scimbench.py" --base-url "http://127.0.0.1:$port/scim/v2/$DIR" --token "$TOK" \
    -n 5000 -c 16 --cpu-pid "$PID" "${comm[@]}" --label "$backend-run$r" --json-out "$WORK/bench.json" | tee "$WORK/bench.txt"
  stop
  start "run$r-fullsync"
  "$py" "$shared/bench/scimbench.py" --base-url "http://127.0.0.1:$port/scim/v2/$DIR" --token "$TOK" \
    --mode fullsync --sync-users 10000 -c 16 --cpu-pid "$PID" "${comm[@]}" --json-out "$WORK/fullsync.json" | tee "$WORK/fullsync.txt"
  stop
done
"$py" "$root/scripts/bench/medians.py" "$out"/"$backend"-run*
