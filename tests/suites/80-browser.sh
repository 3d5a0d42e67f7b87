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

. tests/suites/lib/tap.sh
FAIL=$broken
# One file at a time keeps the 2-core machine calm and the output readable.
tap_run "node --test --test-concurrency=1 --test-reporter=tap ${files[*]}"
tap_finish
