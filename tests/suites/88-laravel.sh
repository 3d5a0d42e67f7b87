#!/usr/bin/env bash
# slow
# The Laravel broadcaster (integrations/laravel) in the minimal Laravel 8 app
# of tests/laravel (Debian's php-laravel-framework) under `php -S` with the
# built extension, against a real heraldd with a pusher_apps_file, and
# Chromium with the real laravel-echo and pusher-js: public, private and
# presence channels, an event broadcast from a Laravel route, a whisper
# refused. Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
. tests/suites/lib/tap.sh
fail_setup() { echo "laravel: $1"; echo "0 passed, 1 failed"; exit 1; }
make -C daemon -j2 >/dev/null || fail_setup "heraldd does not build"
mkdir -p build
ext=$(scripts/build-ext 2>build/build-ext.log) || { cat build/build-ext.log; fail_setup "the PHP extension does not build"; }
[ -f /usr/share/php/Illuminate/autoload.php ] ||
  fail_setup "/usr/share/php/Illuminate/autoload.php missing: scripts/setup installs Debian's php-laravel-framework"
for f in laravel-echo/dist/echo.iife.js pusher-js/dist/web/pusher.min.js playwright-core/package.json; do
  [ -f "tests/node_modules/$f" ] || fail_setup "tests/node_modules/$f missing: run scripts/setup"
done
# The broadcaster's sources and the app's PHP must at least parse.
for f in integrations/laravel/src/*.php $(find tests/laravel -name '*.php'); do
  php -l "$f" >/dev/null || fail_setup "$f does not parse"
done
# Its own composer.json (PSR-4 Herald\\Laravel\\ => src/, the provider for
# package discovery); the app below loads the classes by that same map.
if COMPOSER_ALLOW_SUPERUSER=1 composer validate --no-check-publish --no-interaction -q integrations/laravel/composer.json; then
  PASS=$((PASS + 1)); echo "ok - integrations/laravel/composer.json is valid"
else
  FAIL=$((FAIL + 1)); echo "not ok - integrations/laravel/composer.json is valid"
fi
export HERALD_EXT="$ext"
tap_run 'timeout 180 node --test --test-concurrency=1 --test-timeout=90000 --test-reporter=tap laravel/*.test.mjs'
tap_finish
