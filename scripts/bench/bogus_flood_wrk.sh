#!/usr/bin/env bash
# What a flood of bogus bearer tokens costs a running scimgate, driven by wrk (Debian's `wrk`),
# which costs the machine far less than a Python client (docs/BENCHMARKS.md, "A flood of bogus
# tokens"):
#
#   bogus_flood_wrk.sh SCIM_BASE_URL TOKEN SERVER_PID [ROUNDS] [FLOOD_BASE_URL]
#
# Per round, three phases of $SECONDS_PER_PHASE (10) seconds: legitimate `userName eq` lookups
# alone (4 connections, one request per 20 ms each: 200/s), the same lookups beside the flood
# (8 connections, one request per 1.6 ms each: about 5,000/s, each a new random `sgd_` token
# from X-Forwarded-For 198.51.100.66: start the server with SCIMGATE_TRUSTED_PROXIES=127.0.0.1),
# then the flood alone. FLOOD_BASE_URL sends the flood elsewhere (a control: another server on
# the machine). Prints per phase the server's CPU (utime+stime of SERVER_PID in % of one core),
# the flood's rate and the lookups' p50/p99 (wrk's latency percentiles).
set -euo pipefail
BASE=$1 TOKEN=$2 PID=$3 ROUNDS=${4:-1} FLOOD=${5:-$1}
SECS=${SECONDS_PER_PHASE:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
TICKS=$(getconf CLK_TCK)
cpu() { awk -v t="$TICKS" '{ sub(/.*\) /, ""); print ($12 + $13) / t }' "/proc/$PID/stat"; }

lookups() { wrk -t1 -c4 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" -s "$HERE/wrk/paced_lookup.lua" "$BASE/Users" -- 20 | grep '^lookups:'; }
flood() { wrk -t1 -c8 -d"${SECS}s" -s "$HERE/wrk/bogus.lua" "$FLOOD/Users" -- 1.6 | grep '^flood:'; }

for r in $(seq 1 "$ROUNDS"); do
    for phase in "lookups alone" "lookups + flood" "flood alone"; do
        c0=$(cpu) t0=$(date +%s.%N)
        case $phase in
            "lookups alone") out=$(lookups) ;;
            "lookups + flood") f=$(mktemp); flood > "$f" & fp=$!; out=$(lookups); wait $fp; out="$out; $(cat "$f")"; rm -f "$f" ;;
            "flood alone") out=$(flood) ;;
        esac
        c1=$(cpu) t1=$(date +%s.%N)
        printf 'round %d %-16s server CPU %5.1f %% of a core; %s\n' "$r" "$phase" \
            "$(echo "($c1 - $c0) / ($t1 - $t0) * 100" | bc -l)" "$out"
    done
done
