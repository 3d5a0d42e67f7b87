#!/usr/bin/env bash
# slow
# The integration, conformance and SSE tests once more against a heraldd
# built with AddressSanitizer + UndefinedBehaviorSanitizer in its own build
# directory, then the workers, hostile-clients, reload, socket.io, Pusher
# presence (one node and a cluster) and webhook tests (several loops in
# threads) against one built
# with ThreadSanitizer. The test helpers
# fail a test when heraldd's output holds a sanitizer report (LeakSanitizer
# runs at heraldd's graceful exit).
# Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
out=$(pwd)/build/asan-heraldd
if ! make -C daemon -j2 O="$out" SANITIZE=address,undefined OPT=-O1 >/dev/null; then
  make -C daemon O="$out" SANITIZE=address,undefined OPT=-O1 2>&1 | tail -30
  echo "0 passed, 1 failed"
  exit 1
fi
export HERALDD=$out/heraldd
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
. tests/suites/lib/tap.sh
tap_run 'timeout 900 node --test --test-concurrency=2 --test-timeout=120000 --test-reporter=tap \
  integration/*.test.mjs conformance/*.test.mjs browser/sse.test.mjs'

tsan=$(pwd)/build/tsan-heraldd
if make -C daemon -j2 O="$tsan" SANITIZE=thread OPT=-O1 >/dev/null; then
  export HERALDD=$tsan/heraldd
  export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1
  tap_run 'timeout 300 node --test --test-timeout=120000 --test-reporter=tap \
    integration/workers.test.mjs integration/hostile.test.mjs integration/reload.test.mjs \
    integration/socketio.test.mjs integration/cluster.test.mjs integration/pusher-workers.test.mjs \
    integration/webhook.test.mjs integration/pusher-cluster.test.mjs'
else
  make -C daemon O="$tsan" SANITIZE=thread OPT=-O1 2>&1 | tail -30
  FAIL=$((FAIL + 1))
fi
tap_finish
