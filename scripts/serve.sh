#!/usr/bin/env bash
# The main command: installs what is missing, builds, indexes knowledge/ and
# serves it on localhost (CITEKB_LISTEN overrides 127.0.0.1:50051). Extra
# arguments go to citekb-server, e.g. --tls-cert FILE --tls-key FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
mkdir -p var
build/indexer/citekb-index --knowledge knowledge --out var/citekb.sqlite
exec build/service/citekb-server --index var/citekb.sqlite \
  --listen "${CITEKB_LISTEN:-127.0.0.1:50051}" "$@"
