#!/usr/bin/env bash
# The test command: installs what is missing, builds everything and runs
# every test (CTest), then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer (scripts/test-sanitized.sh), then each fuzzer for
# a short while on its seed corpus (scripts/fuzz.sh --ci). Exits non-zero
# when anything fails.
#
# CITEKB_QUICK=1 skips the sanitizer and fuzzing stages for a fast local
# loop; CI always runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
ctest --test-dir build --output-on-failure -j2
echo "test: build and suite took ${SECONDS} s"

if [ "${CITEKB_QUICK:-0}" = 1 ] && [ -z "${CI:-}" ]; then
  echo "test: CITEKB_QUICK=1, skipping the sanitizer and fuzzing stages"
  exit 0
fi
echo "test: the suite again under AddressSanitizer + UndefinedBehaviorSanitizer"
start=$SECONDS
scripts/test-sanitized.sh
echo "test: sanitizer stage took $((SECONDS - start)) s"
echo "test: short fuzzing runs"
start=$SECONDS
scripts/fuzz.sh --ci
echo "test: fuzzing stage took $((SECONDS - start)) s; ${SECONDS} s in all"
