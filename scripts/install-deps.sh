#!/usr/bin/env bash
# Installs the Debian 12 packages citekb builds, tests and runs with.
# Idempotent: asks apt only for what dpkg says is missing, so a second run is
# instant and works offline. Needs root (or sudo) when something is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The independent-client test's npm packages, pinned by package-lock.json.
install_node_deps() {
  if [ ! -d "$repo_root/tests/node/node_modules" ]; then
    echo "install-deps: npm ci in tests/node"
    npm ci --prefix "$repo_root/tests/node" --no-audit --no-fund
  fi
}

packages=(
  build-essential cmake pkg-config ninja-build
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libre2-dev libsqlite3-dev sqlite3 libabsl-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
  # clang with libFuzzer and its sanitizer runtimes, for scripts/fuzz.sh
  # (GCC's own ASan/UBSan runtimes, for scripts/test-sanitized.sh, come with
  # build-essential).
  clang libclang-rt-14-dev
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  install_node_deps
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_node_deps
