#!/usr/bin/env bash
# slow
# The extension's phpt suite again under valgrind memcheck (run-tests.php
# -m, USE_ZEND_ALLOC=0 so every emalloc is seen): a leak or an invalid read
# fails the test. Ends with "N passed, N failed" (leaked tests are failures).
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)
fail_setup() { echo "phpt-valgrind: $1"; echo "0 passed, 1 failed"; exit 1; }
command -v valgrind >/dev/null || fail_setup "valgrind missing (scripts/setup)"
make -C daemon -j2 >/dev/null 2>&1 || fail_setup "heraldd does not build"
so=$(scripts/build-ext) || fail_setup "the extension does not build"
build=$top/build/ext
export HERALD_HERALDD=$top/daemon/heraldd HERALD_EXT_SO=$so USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1
# run-tests.php's valgrind command has no leak check of its own: ask for one
# (definite and indirect leaks are errors), and do not trace the heraldd and
# shell children the live tests start (heraldd has its own sanitizer suite).
export VALGRIND_OPTS="--leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --trace-children-skip=*/heraldd,*/sh,*/dash,*/mktemp"
log=$build/phpt-valgrind.log
TEST_PHP_EXECUTABLE=$(command -v php) php "$build/run-tests.php" -n -d "extension=$so" \
  -m -q --show-diff --show-mem -j2 phpt/ 2>&1 | tee "$log"
p=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
f=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
[ -n "$p" ] || fail_setup "run-tests.php produced no summary"
# run-tests counts leaked tests apart ("Tests leaked"); each is a failure
leaks=$(sed -n 's/^Tests leaked *: *\([0-9]*\).*/\1/p' "$log" | tail -1); leaks=${leaks:-0}
# a skipped test was not checked under valgrind at all: count it as failed
skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$log" | tail -1); skipped=${skipped:-0}
echo "${p} passed, $(( ${f:-0} + leaks + skipped )) failed"
[ "${f:-0}" = 0 ] && [ "$leaks" = 0 ] && [ "$skipped" = 0 ]
