#!/usr/bin/env bash
# The benchmark: builds Release, generates the synthetic corpus, builds the
# indexes, runs the load generator against citekb-server, prints the table
# of ratios against the targets (issue 5) and writes it into
# bench/RESULTS.md. Every figure comes from this one run on this machine,
# server and load generator side by side.
#
#   scripts/bench.sh                   # 10,000 articles, 3 rounds of 4 s runs
#   scripts/bench.sh --articles 1000 --duration 2 --rounds 1   # a quick run
#
# This machine's speed drifts by a third within minutes, so the load runs go
# in rounds: each round runs every configuration once, on the seed and the
# large index's servers (both started beforehand), and each ratio is taken
# within one round, whose runs are seconds apart. The table gives each
# ratio's median over the rounds, with its range.
#
# Work files go to var/bench/ (about 1 GB at 10,000 articles).
set -euo pipefail
cd "$(dirname "$0")/.."

articles=10000
duration=4
rounds=3
write_results=1
usage="usage: scripts/bench.sh [--articles N] [--duration SECONDS] [--rounds N] [--no-results]"
# whole_number FLAG [VALUE]: exits with the usage unless VALUE is one.
whole_number() {
  if [[ $# -lt 2 || ! "$2" =~ ^[0-9]+$ ]]; then
    echo "bench: $1 needs a whole number; $usage" >&2
    exit 2
  fi
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --articles) whole_number "$@"; articles=$2; shift 2 ;;
    --duration) whole_number "$@"; duration=$2; shift 2 ;;
    --rounds) whole_number "$@"; rounds=$2; shift 2 ;;
    --no-results) write_results=0; shift ;;
    *) echo "$usage" >&2
       exit 2 ;;
  esac
done
if (( articles < 2 || duration < 1 || rounds < 1 )); then
  echo "bench: --articles must be at least 2, --duration and --rounds at least 1" >&2
  exit 2
fi

scripts/install-deps.sh >/dev/null
build=build-release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" --target citekb-index citekb-server citekb-load make_corpus \
  fts_floor citekb-startup
bin=$build
work=var/bench
mkdir -p "$work"
warmup=1s

servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start_server NAME BINARY ARGS...: starts a server on a free port, sets
# $address and $server_pid; its stderr goes to $work/NAME.log.
start_server() {
  local name=$1 binary=$2
  shift 2
  : >"$work/$name.log"  # Before the fork, so that the first look finds it.
  "$binary" "$@" --listen 127.0.0.1:0 2>"$work/$name.log" &
  server_pid=$!
  servers+=("$server_pid")
  address=""
  for _ in $(seq 300); do
    address=$(sed -n 's/^citekb-server: serving .*on \(127[0-9.:]*\)$/\1/p' \
      "$work/$name.log")
    [[ -n "$address" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: $name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
}

# use_server ADDRESS PID: the server the next load runs go to.
use_server() {
  address=$1
  server_pid=$2
}

# load NAME RPC CONCURRENCY [DEADLINE]: one citekb-load run into $work/NAME.json.
load() {
  "$bin/bench/citekb-load" --target "$address" --rpc "$2" --concurrency "$3" \
    --channels 1 --duration "${duration}s" --warmup "$warmup" --deadline "${4:-10s}" \
    --server_pid "$server_pid" --label "$1" --json "$work/$1.json"
}

# field FILE KEY: a number from one of the JSON files.
field() {
  sed -n "s/.*\"$2\": \([-0-9.e+]*\).*/\1/p" "$1" | head -1
}

echo
echo "== Seed index"
"$bin/indexer/citekb-index" --knowledge knowledge --out "$work/seed.sqlite" \
  --progress=false >/dev/null

echo "== Start-up to SERVING, seed index"
"$bin/bench/citekb-startup" --server "$bin/service/citekb-server" \
  --index "$work/seed.sqlite" --runs 5 --json "$work/startup-seed.json"

echo
echo "== Synthetic corpus: $((articles - 1)) articles + the seed article"
corpus="$work/corpus-$articles"
rm -rf "$corpus"
"$bin/bench/make_corpus" --out "$corpus" --articles $((articles - 1)) --seed 1
cp knowledge/*.txt "$corpus/"

echo "== Index build: bare FTS5 floor vs citekb-index (best of 2 each)"
floor_s=""
index_s=""
for round in 1 2; do
  "$bin/bench/fts_floor" --knowledge "$corpus" --scratch "$work" --json "$work/floor.json"
  s=$(field "$work/floor.json" seconds)
  floor_s=$(awk -v a="$s" -v b="$floor_s" 'BEGIN { print (b == "" || a < b) ? a : b }')
  start_ns=$(date +%s%N)
  "$bin/indexer/citekb-index" --knowledge "$corpus" --out "$work/big.sqlite" \
    >"$work/index.txt"
  grep -v '^warning:' "$work/index.txt"
  end_ns=$(date +%s%N)
  s=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN { print (b - a) / 1e9 }')
  index_s=$(awk -v a="$s" -v b="$index_s" 'BEGIN { print (b == "" || a < b) ? a : b }')
done
corpus_mb=$(du -sm "$corpus" | cut -f1)

echo "== Start-up to SERVING, $articles-article index"
"$bin/bench/citekb-startup" --server "$bin/service/citekb-server" \
  --index "$work/big.sqlite" --runs 3 --json "$work/startup-big.json"

echo "== Load: $rounds rounds, on the seed index and the $articles-article index"
start_server seed "$bin/service/citekb-server" --index "$work/seed.sqlite"
seed_address=$address seed_pid=$server_pid
start_server big "$bin/service/citekb-server" --index "$work/big.sqlite"
big_address=$address big_pid=$server_pid
for round in $(seq "$rounds"); do
  echo "-- round $round of $rounds"
  use_server "$seed_address" "$seed_pid"
  load "health-c32.r$round" health 32
  load "ask-c32.r$round" ask 32
  load "ask-reference-c32.r$round" ask_reference 32
  load "search-c32.r$round" search 32
  load "evaluate-stack-c32.r$round" evaluate_stack 32
  load "list-citations-c32.r$round" list_citations 32
  load "health-c1.r$round" health 1
  load "ask-c1.r$round" ask 1
  load "ask-reference-c1.r$round" ask_reference 1
  use_server "$big_address" "$big_pid"
  load "big-ask-c1.r$round" ask 1 60s
  # 32 calls of ~1 ms CPU each on 2 cores queue for a while: a long
  # deadline, so that the runs measure the server, not the deadline.
  load "big-ask-c32.r$round" ask 32 60s
  load "big-search-c32.r$round" search 32 60s
done
use_server "$seed_address" "$seed_pid"
stop_server
use_server "$big_address" "$big_pid"
stop_server

# ---------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------
# in_round R NAME KEY: KEY of run NAME in round R.
in_round() { field "$work/$2.r$1.json" "$3"; }
# median VALUES...: their median (the mean of the middle two for an even
# count); range VALUES...: "min-max".
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  printf "%.6g", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END {
  printf "%.2f-%.2f", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# ratios A_NAME A_KEY B_NAME B_KEY: A/B in each round, one per line.
ratios() {
  local r
  for r in $(seq "$rounds"); do
    ratio "$(in_round "$r" "$1" "$2")" "$(in_round "$r" "$3" "$4")"
    echo
  done
}
# across NAME KEY: the median of KEY over the rounds.
across() {
  local r values=()
  for r in $(seq "$rounds"); do
    [[ -f "$work/$1.r$r.json" ]] && values+=("$(in_round "$r" "$1" "$2")")
  done
  median "${values[@]}"
}

# VmHWM after the last run on the big index: the most it ever held.
big_peak_kb=$(in_round "$rounds" big-search-c32 server_peak_rss_kb)
startup_seed=$(field "$work/startup-seed.json" median_ms)
startup_big=$(field "$work/startup-big.json" median_ms)
stack_errors=$(for r in $(seq "$rounds"); do
  sed -n 's/.*"errors_by_code": {\(..*\)},*/round '"$r"': \1/p' "$work/evaluate-stack-c32.r$r.json"
done | paste -sd ';' -)

# row LABEL VALUE OP TARGET [RANGE]: one line of the table, with met/missed.
rows=()
row() {
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "MISSED" }')
  rows+=("$(printf '| %s | %s | %s | %s %s | %s |' "$1" "$2" "${5:-}" "$3" "$4" "$verdict")")
}
# ratio_row LABEL OP TARGET A_NAME A_KEY B_NAME B_KEY: a ratio's median and
# range over the rounds.
ratio_row() {
  local label=$1 op=$2 target=$3
  shift 3
  mapfile -t each < <(ratios "$@")
  row "$label" "$(printf '%.2f' "$(median "${each[@]}")")" "$op" "$target" \
    "$(range "${each[@]}")"
}

ratio_row "Ask QPS / Health QPS, concurrency 32" ">=" 0.5 ask-c32 qps health-c32 qps
ratio_row "Ask as a chat front end sends it (passages as references) QPS / Health QPS, concurrency 32" \
  ">=" 0.5 ask-reference-c32 qps health-c32 qps
ratio_row "Search QPS / Health QPS, concurrency 32" ">=" 0.6 search-c32 qps health-c32 qps
ratio_row "EvaluateStack QPS / Health QPS, concurrency 32" ">=" 0.6 \
  evaluate-stack-c32 qps health-c32 qps
ratio_row "Ask p50 / Health p50, concurrency 1" "<=" 2 ask-c1 p50 health-c1 p50
ratio_row "Ask as a chat front end sends it p50 / Health p50, concurrency 1" "<=" 2 \
  ask-reference-c1 p50 health-c1 p50
ratio_row "Ask p99 / Ask p50, concurrency 32" "<=" 3 ask-c32 p99 ask-c32 p50
row "Index build speed / bare FTS5 insert speed ($articles articles)" \
  "$(ratio "$floor_s" "$index_s")" ">=" 0.5
ratio_row "Ask p50 at $articles articles / Ask p50 on the seed, concurrency 1" "<=" 3 \
  big-ask-c1 p50 ask-c1 p50
row "Server peak RSS at $articles articles under load (MB)" \
  "$(awk -v k="$big_peak_kb" 'BEGIN { printf "%.1f", k / 1024 }')" "<=" 128
row "Start-up to SERVING, seed index (ms)" "$(printf '%.1f' "$startup_seed")" "<=" 200
row "Start-up to SERVING, $articles-article index (ms)" "$(printf '%.1f' "$startup_big")" "<=" 2000

measured() {
  local name
  printf '| run | QPS | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server CPU us/call |\n'
  printf '|---|---|---|---|---|---|---|---|---|\n'
  for name in health-c32 ask-c32 ask-reference-c32 search-c32 evaluate-stack-c32 \
              list-citations-c32 health-c1 ask-c1 ask-reference-c1 big-ask-c1 big-ask-c32 big-search-c32; do
    local r cpu_per_call=() errors=0
    for r in $(seq "$rounds"); do
      local f="$work/$name.r$r.json"
      [[ -f "$f" ]] || continue
      cpu_per_call+=("$(awk -v c="$(field "$f" server_cpu_s)" -v n="$(field "$f" requests)" \
        'BEGIN { printf "%.6g", (n > 0) ? c * 1e6 / n : 0 }')")
      errors=$((errors + $(field "$f" errors)))
    done
    awk -v n="$name" -v q="$(across "$name" qps)" -v a="$(across "$name" p50)" \
        -v b="$(across "$name" p90)" -v c="$(across "$name" p99)" \
        -v d="$(across "$name" p99_9)" -v m="$(across "$name" max)" -v e="$errors" \
        -v cpu="$(median "${cpu_per_call[@]}")" 'BEGIN {
      printf "| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %.0f |\n",
             n, q, a, b, c, d, m, e, cpu }'
  done
}

table=$(
  echo "| target | median | range over the rounds | goal | |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Index build, $articles articles ($corpus_mb MB of text): citekb-index $(printf '%.2f' "$index_s") s," \
       "bare FTS5 insert of the same passages $(printf '%.2f' "$floor_s") s (best of 2 each)."
  echo "EvaluateStack errors by code: ${stack_errors:-none}."
  echo
  echo "Each run's figures are its medians over the $rounds rounds (errors: their sum)."
  echo
  measured
)

echo
echo "$table"

if (( write_results )); then
  results=bench/RESULTS.md
  {
    echo "<!-- results:begin (written by scripts/bench.sh; edit outside these markers) -->"
    echo "Latest run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`scripts/bench.sh --articles $articles" \
         "--duration $duration --rounds $rounds\`, $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1))," \
         "git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo "$table"
    echo "<!-- results:end -->"
  } > "$work/results-table.md"
  if [[ -f "$results" ]] && grep -q '<!-- results:begin' "$results"; then
    awk -v table="$work/results-table.md" '
      /<!-- results:begin/ { while ((getline line < table) > 0) print line; skip = 1; next }
      /<!-- results:end/ { skip = 0; next }
      !skip { print }' "$results" > "$work/RESULTS.md.new"
    mv "$work/RESULTS.md.new" "$results"
  else
    { echo "# Benchmark results"; echo; cat "$work/results-table.md"; } > "$results"
  fi
  echo
  echo "bench: wrote $results"
fi
