#!/usr/bin/env bash
# C unit tests: builds every tests/unit/test_*.c against the daemon and
# common sources and runs them all; ends with the summed "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
if ! make -C tests/unit -j2 O=../../build/unit >/dev/null; then
  make -C tests/unit O=../../build/unit 2>&1 | tail -30
  echo "unit tests do not build"
  echo "0 passed, 1 failed"
  exit 1
fi
make -s -C tests/unit O=../../build/unit run
