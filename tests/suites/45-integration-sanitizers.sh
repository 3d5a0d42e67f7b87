#!/usr/bin/env bash
# slow
# The integration, conformance and SSE tests once more against a heraldd
# built with AddressSanitizer + UndefinedBehaviorSanitizer in its own build
# directory, then the workers, hostile-clients and reload tests (several
# loops in threads) against one built with ThreadSanitizer. The test helpers
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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd tests && timeout 900 node --test --test-concurrency=2 --test-timeout=120000 --test-reporter=tap \
  integration/*.test.mjs conformance/*.test.mjs browser/sse.test.mjs) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
[ -n "$pass" ] || { pass=0; fail=1; }
fail=${fail:-0}
[ "$rc" -ne 0 ] && [ "$fail" = 0 ] && fail=1

tsan=$(pwd)/build/tsan-heraldd
if make -C daemon -j2 O="$tsan" SANITIZE=thread OPT=-O1 >/dev/null; then
  export HERALDD=$tsan/heraldd
  export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1
  (cd tests && timeout 300 node --test --test-timeout=120000 --test-reporter=tap \
    integration/workers.test.mjs integration/hostile.test.mjs integration/reload.test.mjs) 2>&1 | tee "$log"
  trc=${PIPESTATUS[0]}
  tpass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  tfail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  [ -n "$tpass" ] || { tpass=0; tfail=1; }
  tfail=${tfail:-0}
  [ "$trc" -ne 0 ] && [ "$tfail" = 0 ] && tfail=1
  pass=$((pass + tpass)) fail=$((fail + tfail))
else
  make -C daemon O="$tsan" SANITIZE=thread OPT=-O1 2>&1 | tail -30
  fail=$((fail + 1))
fi
echo "${pass} passed, ${fail} failed"
[ "$fail" = 0 ]
