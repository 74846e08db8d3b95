#!/usr/bin/env bash
# Soak test: citekb-load against a live citekb-server for
# SOAK_SECONDS (default 300) at concurrency 64, with random deadlines
# (5-500 ms) and 10 % of calls cancelled by the client at a random moment.
# Passes when no call fails with anything but CANCELLED or DEADLINE_EXCEEDED
# and the server's resident memory after warm-up grows by at most 5 %.
#
#   scripts/soak.sh                 # 5 minutes of Ask
#   SOAK_SECONDS=60 SOAK_RPC=search scripts/soak.sh
#
# Uses the build in build/ (scripts/test.sh makes it); prints the memory
# samples and the load generator's report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SOAK_SECONDS:-300}"
rpc="${SOAK_RPC:-ask}"
cmake --build build --target citekb-server citekb-index citekb-load >/dev/null

work="$(mktemp -d)"
server_pid=""
sampler_pid=""
cleanup() {
  [[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null || true
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build/indexer/citekb-index --knowledge knowledge --out "$work/kb.sqlite" >/dev/null
build/service/citekb-server --index "$work/kb.sqlite" --listen 127.0.0.1:0 \
  --log_requests=false 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  address="$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/server.log")"
  [[ -n "$address" ]] && break
  sleep 0.1
done
[[ -n "${address:-}" ]] || { echo "soak: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# Resident memory every 5 s: "seconds kB".
(
  start=$SECONDS
  while kill -0 "$server_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)
    [[ -n "$rss" ]] && echo "$((SECONDS - start)) $rss"
    sleep 5
  done
) >"$work/rss" &
sampler_pid=$!

echo "soak: $rpc on $address for ${seconds} s, concurrency 64, deadlines 5-500 ms, 10 % cancelled"
status=0
build/bench/citekb-load --target "$address" --rpc "$rpc" --concurrency 64 --channels 4 \
  --warmup 30s --duration "${seconds}s" --min_deadline 5ms --deadline 500ms \
  --cancel_fraction 0.1 --server_pid "$server_pid" --verify \
  --fail_on_errors --expected_errors CANCELLED,DEADLINE_EXCEEDED || status=$?
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
kill -0 "$server_pid" 2>/dev/null || { echo "soak: FAILED, the server died" >&2; exit 1; }

# Baseline: the first sample after the 30 s warm-up; growth: the largest
# later sample against it.
read -r base peak samples < <(awk '$1 >= 30 { if (!b) b = $2; if ($2 > p) p = $2; n++ }
                                   END { print b + 0, p + 0, n + 0 }' "$work/rss")
echo "soak: server rss (seconds:kB) $(awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }' "$work/rss")"
echo "soak: server rss after warm-up ${base} kB, largest later ${peak} kB (${samples} samples)"
if (( base == 0 )); then
  echo "soak: FAILED, no memory samples after warm-up" >&2
  exit 1
fi
if (( peak * 100 > base * 105 )); then
  echo "soak: FAILED, resident memory grew by more than 5 %" >&2
  exit 1
fi
if (( status != 0 )); then
  echo "soak: FAILED, calls failed with unexpected codes (citekb-load exit $status)" >&2
  exit 1
fi
echo "soak: passed"
