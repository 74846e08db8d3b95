#!/usr/bin/env bash
# Smoke test of the load generator against a live server: indexes the
# knowledge folder, starts citekb-server on a free port, drives Health/Check,
# Ask, Search, EvaluateStack and ListCitations for a second each with response checking on,
# and fails unless every run made calls and reported zero errors. It asserts
# correctness, not speed (scripts/bench.sh measures speed).
#
# Usage: load_smoke_test.sh INDEXER SERVER LOAD KNOWLEDGE_DIR
set -euo pipefail

indexer=$1 server=$2 load=$3 knowledge=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/citekb-load-smoke.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$indexer" --knowledge "$knowledge" --out "$work/kb.sqlite" --progress=false >/dev/null

# Created here: the background job opens it only after the fork, maybe
# after the first look below.
: >"$work/server.log"
"$server" --index "$work/kb.sqlite" --listen 127.0.0.1:0 --log_requests=false \
  2>"$work/server.log" &
server_pid=$!

# The server prints "citekb-server: serving FILE on ADDRESS" once it serves.
address=""
for _ in $(seq 100); do
  address=$(sed -n 's/^citekb-server: serving .* on \(.*\)$/\1/p' "$work/server.log")
  [[ -n "$address" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "load_smoke_test: the server exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$address" ]]; then
  echo "load_smoke_test: the server did not report its address within 10 s" >&2
  exit 1
fi

for rpc in health ask search evaluate_stack list_citations; do
  "$load" --target "$address" --rpc "$rpc" --concurrency 4 --duration 1s --warmup 0s \
    --deadline 5s --verify --fail_on_errors --json "$work/$rpc.json"
  requests=$(sed -n 's/^  "requests": \([0-9]*\),$/\1/p' "$work/$rpc.json")
  if [[ -z "$requests" || "$requests" -eq 0 ]]; then
    echo "load_smoke_test: $rpc made no calls" >&2
    exit 1
  fi
done
echo "load_smoke_test: all runs completed without errors"
