#!/usr/bin/env bash
# slow
# The demo on the real deployment path, as the README writes it: nginx
# (examples/nginx.conf.in, and nginx-tls.conf.in with a certificate made by
# openssl) -> php-fpm (examples/php-fpm.conf.in, the extension loaded) ->
# heraldd, with heraldd proxied by nginx; started by root (workers as
# www-data) and by www-data; README's Caddy and HAProxy blocks too. Temp dirs, free loopback ports, every process
# stopped by PID (tests/browser/fpm.demo.mjs). Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"

fail_setup() { echo "demo-fpm: $1"; echo "0 passed, 1 failed"; exit 1; }
command -v php-fpm8.2 >/dev/null || fail_setup "php-fpm8.2 missing (scripts/setup)"
command -v nginx >/dev/null || fail_setup "nginx missing (scripts/setup)"
for t in openssl caddy haproxy; do command -v $t >/dev/null || fail_setup "$t missing (scripts/setup)"; done
make -C daemon -j2 >/dev/null || fail_setup "heraldd does not build"
ext=$(scripts/build-ext) || fail_setup "the PHP extension does not build"
export HERALD_EXT="$ext"

. tests/suites/lib/tap.sh
tap_run 'node --test --test-reporter=tap browser/fpm.demo.mjs browser/fpm-cluster.demo.mjs'
tap_finish
