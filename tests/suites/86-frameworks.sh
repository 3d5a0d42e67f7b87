#!/usr/bin/env bash
# The framework examples (examples/symfony on Debian's Symfony 5.4 bundles,
# examples/slim on Debian's Slim 3) under `php -S` with the built extension,
# against a real heraldd: an emit from each framework's route reaches a
# WebSocket subscriber (tests/frameworks/). Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
. tests/suites/lib/tap.sh
fail_setup() { echo "frameworks: $1"; echo "0 passed, 1 failed"; exit 1; }
make -C daemon -j2 >/dev/null || fail_setup "heraldd does not build"
mkdir -p build
ext=$(scripts/build-ext 2>build/build-ext.log) || { cat build/build-ext.log; fail_setup "the PHP extension does not build"; }
for f in Symfony/Bundle/FrameworkBundle/autoload.php Symfony/Bundle/TwigBundle/autoload.php Slim/autoload.php; do
  [ -f "/usr/share/php/$f" ] || fail_setup "/usr/share/php/$f missing: scripts/setup installs Debian's php-symfony-framework-bundle, php-symfony-twig-bundle and php-slim"
done
export HERALD_EXT="$ext"
tap_run 'timeout 120 node --test --test-timeout=60000 --test-reporter=tap frameworks/*.test.mjs'
tap_finish
