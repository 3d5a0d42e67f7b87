#!/usr/bin/env bash
# slow
# Browser suite: herald.js's logic in node (fake heraldd), the build
# transform, heraldd's SSE endpoint and resume races, then real chromium
# against heraldd and the demo app. Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"

# The client's own tests need neither heraldd nor PHP: they run regardless,
# and a part that does not build counts as one failure.
files=(browser/client_unit.test.mjs browser/build.test.mjs browser/client_sse.test.mjs)
broken=0
if ! make -C daemon -j2 >/dev/null; then echo "browser: heraldd does not build"; broken=$((broken + 1)); fi
if ext=$(scripts/build-ext); then export HERALD_EXT="$ext"; else echo "browser: the PHP extension does not build"; broken=$((broken + 1)); fi
[ $broken = 0 ] && files=($(cd tests && echo browser/*.test.mjs))
[ -x daemon/heraldd ] && [ $broken = 1 ] && [ -z "${HERALD_EXT:-}" ] && files+=(browser/sse.test.mjs)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One file at a time keeps the 2-core machine calm and the output readable.
(cd tests && node --test --test-concurrency=1 --test-reporter=tap "${files[@]}") 2>&1 | tee "$log"
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
[ -n "$pass" ] || { pass=0; fail=1; }
fail=$((${fail:-0} + broken))
echo "${pass} passed, ${fail} failed"
[ "$fail" = 0 ]
