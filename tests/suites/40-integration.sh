#!/usr/bin/env bash
# heraldd integration tests: real daemons on free loopback ports, driven by
# node:test with the ws package and raw sockets. Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
if ! make -C daemon -j2 >/dev/null; then
  make -C daemon 2>&1 | tail -30
  echo "heraldd does not build"
  echo "0 passed, 1 failed"
  exit 1
fi
. tests/suites/lib/tap.sh
# Two files at a time suits the 2-core machine; each test is time-bounded.
tap_run 'timeout 600 node --test --test-concurrency=2 --test-timeout=60000 --test-reporter=tap integration/*.test.mjs'
tap_finish
