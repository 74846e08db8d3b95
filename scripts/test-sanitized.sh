#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ and runs the whole CTest suite there, including the tests that
# start citekb-server and citekb-index as child processes (they inherit the
# options below, and a sanitizer report makes them exit non-zero, which those
# tests check). Any report fails the run: undefined behaviour aborts
# (-fno-sanitize-recover=all), and so do ASan errors and leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCITEKB_SANITIZE=address,undefined -DCITEKB_BENCH_TOOLS=OFF
cmake --build build-asan

# detect_stack_use_after_return: also catch pointers to dead stack frames.
# check_initialization_order / strict_init_order: static initialisers that
# read another file's globals.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
ctest --test-dir build-asan --output-on-failure -j2
