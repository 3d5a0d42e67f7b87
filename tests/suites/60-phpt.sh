#!/usr/bin/env bash
# The PHP extension: build it out of tree (scripts/build-ext, warnings on and
# fatal for our sources), check the committed arginfo against the stub, run
# `composer validate` on composer.json, then every phpt/*.phpt with PHP's
# run-tests.php (live tests start a real heraldd from daemon/).
# Ends with "N passed, N failed" (skipped tests are not counted as passed).
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
nok() { echo "not ok - $1"; failed=$((failed + 1)); }
finish() { echo "${passed} passed, ${failed} failed"; [ "$failed" = 0 ]; exit $?; }

make -C daemon -j2 >/dev/null 2>&1 || { nok "heraldd builds"; finish; }
mkdir -p build
# stdout is the path of herald.so only; the build's own chatter goes to a log.
so=$(scripts/build-ext 2>build/build-ext.log) || { cat build/build-ext.log; nok "extension builds"; finish; }
ok "extension builds"
# configure printed "checking for libcurl... `pkg-config --modversion libcurl`"
# (quoting in config.m4) instead of the version: config.log keeps the result.
if grep -A1 'checking for libcurl' build/ext/config.log | grep -Eq 'result: [0-9]+\.[0-9]+'; then
  ok "configure prints the libcurl version"
else
  grep -A1 'checking for libcurl' build/ext/config.log; nok "configure prints the libcurl version"
fi

# Our sources, compiled again with warnings as errors.
build=$top/build/ext
if (cd "$build" && touch ext/herald.c ext/pusher.c common/signed.c common/secretfile.c common/pusherapps.c &&
    make -s CFLAGS="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror" >/dev/null 2>"$build/warnings.log"); then
  ok "extension compiles with -Wall -Wextra -Werror"
else
  cat "$build/warnings.log"; nok "extension compiles with -Wall -Wextra -Werror"
fi

if [ -d /usr/share/php/PhpParser ]; then
  if ext/gen-arginfo.sh --check; then ok "herald_arginfo.h matches herald.stub.php"; else nok "herald_arginfo.h matches herald.stub.php"; fi
else
  nok "herald_arginfo.h matches herald.stub.php (php-parser missing: scripts/setup installs it)"
fi

if command -v composer >/dev/null; then
  # Debian 12's composer (2.5) predates the php-ext schema: it warns about
  # that key; the PIE fields themselves are checked just below.
  if COMPOSER_ALLOW_SUPERUSER=1 composer validate --no-check-publish --no-interaction composer.json; then
    ok "composer validate"; else nok "composer validate"; fi
  if php -r '$j = json_decode(file_get_contents("composer.json"), true);
      exit(($j["type"] ?? "") === "php-ext" && ($j["php-ext"]["extension-name"] ?? "") === "herald"
           && !empty($j["php-ext"]["configure-options"][0]["name"]) ? 0 : 1);'; then
    ok "composer.json has the PIE metadata"; else nok "composer.json has the PIE metadata"; fi
else
  nok "composer validate (composer missing: scripts/setup installs it)"
fi

export HERALD_HERALDD=$top/daemon/heraldd HERALD_EXT_SO=$so
log=$build/phpt.log
# -n: no php.ini of the machine; -d: the extension under test.
TEST_PHP_EXECUTABLE=$(command -v php) php "$build/run-tests.php" -n -d "extension=$so" \
  -q --show-diff -j2 ${HERALD_PHPT_ARGS:-} phpt/ 2>&1 | tee "$log"
p=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
f=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
if [ -z "$p" ]; then nok "run-tests.php produced no summary"; finish; fi
passed=$((passed + p)); failed=$((failed + ${f:-0}))
# Every test here can run on a machine scripts/setup prepared: a skip means
# the extension or heraldd was not found, which must not pass quietly.
sk=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
if [ "${sk:-0}" != 0 ]; then nok "no phpt test skipped (${sk} skipped: see their reasons above)"; fi
finish
