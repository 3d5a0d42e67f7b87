#!/usr/bin/env bash
# The daemon's layout rules, read from the sources: modules depend one way
# (no #include cycle), no file over 700 lines, a header per module.
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
. tests/suites/lib/tap.sh
tap_run 'timeout 60 node --test --test-reporter=tap layout/*.test.mjs'
tap_finish
