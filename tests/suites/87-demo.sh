#!/usr/bin/env bash
# slow
# scripts/demo itself (tests/demo/demo_script.test.mjs): its --port and
# --heraldd-port flags, Ctrl-C stopping it quietly with exit 0, no node or
# npm called, clear errors for a taken port or a bad option; and README
# "Quickstart" run as written in chromium (tests/demo/quickstart.test.mjs).
# Builds first so the demo's own build steps are quick. Ends with
# "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"

fail_setup() { echo "demo: $1"; echo "0 passed, 1 failed"; exit 1; }
make -C daemon -j2 >/dev/null || fail_setup "heraldd does not build"
scripts/build-ext >/dev/null || fail_setup "the PHP extension does not build"

. tests/suites/lib/tap.sh
tap_run 'node --test --test-concurrency=1 --test-reporter=tap demo/*.test.mjs'
tap_finish
