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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Two files at a time suits the 2-core machine; each test is time-bounded.
(cd tests && timeout 600 node --test --test-concurrency=2 --test-timeout=60000 --test-reporter=tap integration/*.test.mjs) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
[ -n "$pass" ] || { pass=0; fail=1; }
fail=${fail:-0}
[ "$rc" -ne 0 ] && [ "$fail" = 0 ] && fail=1
echo "${pass} passed, ${fail} failed"
[ "$fail" = 0 ]
