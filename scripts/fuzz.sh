#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, and runs each one on its seed
# corpus for a while. Exits non-zero on any crash, leak, hang (> 25 s per
# input) or sanitizer report; the input that caused it is saved under
# build-fuzz/artifacts/TARGET/ and can be replayed with
#   build-fuzz/tests/fuzz/TARGET build-fuzz/artifacts/TARGET/crash-...
#
#   scripts/fuzz.sh            # 300 s per target
#   scripts/fuzz.sh 60         # 60 s per target
#   scripts/fuzz.sh --ci       # 25 s per target (scripts/test.sh runs this)
#   FUZZ_TARGETS="fts_query_fuzzer" scripts/fuzz.sh 600
#
# New inputs that reach new code are kept in build-fuzz/corpus/TARGET/, so a
# later run goes on from where the last one stopped; the seed corpora in
# tests/fuzz/corpus/ are never written to.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
case "${1:-}" in
  --ci) seconds=25 ;;
  "") ;;
  *[!0-9]* | 0)
    echo "usage: scripts/fuzz.sh [--ci | SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
  *) seconds="$1" ;;
esac

targets=(${FUZZ_TARGETS:-article_parser_fuzzer fts_query_fuzzer request_fuzzer stack_parser_fuzzer ranking_fuzzer})

# Extra seed folders beyond tests/fuzz/corpus/TARGET: the articles
# themselves are the best seeds for the parser.
extra_seeds() {
  case "$1" in
    article_parser_fuzzer) echo "knowledge tests/fixtures/knowledge" ;;
  esac
}

scripts/install-deps.sh >/dev/null
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCITEKB_FUZZ=ON -DCITEKB_SANITIZE=address,undefined -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz --target citekb_fuzzers

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
summary=()
for target in "${targets[@]}"; do
  binary="build-fuzz/tests/fuzz/$target"
  work="build-fuzz/corpus/$target"
  artifacts="build-fuzz/artifacts/$target"
  log="build-fuzz/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  dict=()
  if [ -f "tests/fuzz/$target.dict" ]; then dict=(-dict="tests/fuzz/$target.dict"); fi
  # shellcheck disable=SC2046  # extra_seeds is a list of folders
  echo "fuzz: $target for ${seconds} s (log: $log)"
  status=0
  "$binary" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$artifacts/" \
    "$work" "tests/fuzz/corpus/$target" $(extra_seeds "$target") >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus="$(find "$work" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("$(printf '  %-24s %10s executions  %5s corpus inputs  ok' "$target" "${execs:-?}" "$corpus")")
  else
    failed=$((failed + 1))
    summary+=("$(printf '  %-24s %10s executions  %5s corpus inputs  FAILED (exit %s)' "$target" "${execs:-?}" "$corpus" "$status")")
    echo "fuzz: $target failed; the end of its log:" >&2
    tail -60 "$log" >&2
    ls -l "$artifacts" >&2 || true
  fi
done

echo "fuzz: ${seconds} s per target"
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
