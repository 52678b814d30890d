#!/usr/bin/env bash
# Audit on vs off: throughput of a mixed workload (STS GetCallerIdentity over awsQuery plus
# CloudTrail ListTrails and KMS ListKeys over awsJson, run concurrently) against a release
# `rampart serve` with --audit-mode best-effort, fail-closed and off (off: the hidden
# benchmarking aid). Runs each mode ROUNDS times, alternating, and prints requests/s per mode.
#
#   crates/cloudtrail/bench/audit_cost.sh [RAMPART_BIN] [LOADGEN_BIN]
#   (environment: ROUNDS, DURATION, CONNECTIONS, PORT, MODES="off best-effort fail-closed")
set -euo pipefail
BIN=${1:-$HOME/.cache/rampart-target/release/rampart}
LOADGEN=${2:-$HOME/.cache/rampart-target/release/rampart-loadgen}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-4599}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

run_mode() {
  local mode=$1 dir=$WORK/$1
  "$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$dir" --audit-mode "$mode" --log-level warn \
    >"$WORK/$mode.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/_rampart/health >/dev/null && break; sleep 0.1; done
  local common=(--endpoint http://127.0.0.1:$PORT --profile rampart --credentials-file "$dir/credentials"
                --duration "$DURATION" --connections "$CONNECTIONS" --json)
  "$LOADGEN" "${common[@]}" --service sts --target-or-action GetCallerIdentity >"$WORK/a.json" &
  local a=$!
  "$LOADGEN" "${common[@]}" --service cloudtrail \
    --target-or-action com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails --body '{}' >"$WORK/b.json" &
  local b=$!
  "$LOADGEN" "${common[@]}" --service kms --target-or-action TrentService.ListKeys --body '{}' >"$WORK/c.json" &
  local c=$!
  wait $a $b $c
  kill $SERVER; wait $SERVER 2>/dev/null || true
  python3 - "$mode" "$WORK/a.json" "$WORK/b.json" "$WORK/c.json" <<'PY'
import json, sys
mode, files = sys.argv[1], sys.argv[2:]
total, parts = 0.0, []
for f in files:
    r = json.load(open(f))
    rps = r["requests_per_sec"]
    ok = sum(v for k, v in r.get("status_counts", r.get("statuses", {})).items() if str(k).startswith("2"))
    total += rps
    parts.append(f"{rps:.0f} (2xx {ok})")
print(f"{mode:12s} total {total:8.0f} req/s   sts/cloudtrail/kms: {' / '.join(parts)}")
PY
}

for round in $(seq "$ROUNDS"); do
  for mode in ${MODES:-off best-effort fail-closed}; do run_mode "$mode"; done
done
